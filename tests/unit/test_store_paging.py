"""Cursors and page sizes shared by every list query."""

from __future__ import annotations

import base64

import pytest

from shared.ports.store_errors import InvalidCursor
from shared.ports.store_paging import MAX_PAGE_SIZE, clamp_limit, decode_cursor, encode_cursor


def test_a_cursor_resumes_at_the_key_it_was_made_from():
    cursor = encode_cursor(1_700_000_000_123_456_789, "0f3a")

    assert decode_cursor(cursor) == (1_700_000_000_123_456_789, "0f3a")
    assert "=" not in cursor  # safe in a query string as is
    assert decode_cursor(encode_cursor(2**63 - 1, "k" * 128)) == (2**63 - 1, "k" * 128)


def _raw(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "%%%",
        "bm90IGpzb24",
        encode_cursor(1, "a")[:-3] + "x",
        _raw(f'[{2**63},"x"]'),  # past int64: the stores cannot compare with it
        _raw(f'[{2**64 - 1},"x"]'),
        _raw(f'[{-(2**63) - 1},"x"]'),
        _raw('[1.0,"x"]'),
        _raw('[true,"x"]'),
        _raw('[1, "x"]'),  # not the spelling encode_cursor gives
        _raw(f'[1,"{"k" * 129}"]'),
        encode_cursor(1, "a") + "=",
    ],
)
def test_a_cursor_the_store_did_not_issue_is_refused(cursor):
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor)


def test_page_sizes_stay_between_one_and_the_cap():
    assert clamp_limit(0) == 1
    assert clamp_limit(50) == 50
    assert clamp_limit(10_000) == MAX_PAGE_SIZE
