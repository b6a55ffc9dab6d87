"""The load benchmark (`python -m tools.loadgen`) against the one-command local run: every
order it counts as accepted got a 202 and is then seen processed through the API."""

from __future__ import annotations

import argparse

from tests.e2e.support import LocalOms
from tools.loadgen import main_async


async def test_the_load_generator_counts_what_the_server_accepted_and_processed(
    local_oms: LocalOms,
):
    args = argparse.Namespace(
        url=local_oms.url,
        admin_key=local_oms.keys.admin,
        symbol="AAPL",
        rate=100.0,
        seconds=2.0,
        concurrency=8,
        accounts=2,
        seed=7,
        wait_seconds=30.0,
    )

    assert local_oms.run.container is not None
    journal = local_oms.run.container.store.journal
    before = await journal.last_seq("AAPL")

    summary = await main_async(args)

    assert summary["accepted"] == 200 and summary["statuses"] == {202: 200}
    assert summary["errors"] == 0 and summary["rejected"] == 0
    assert summary["processed"] == 200 and summary["all_processed"] is True
    p50, p99 = float(str(summary["accept_p50_ms"])), float(str(summary["accept_p99_ms"]))
    assert 0 < p50 <= p99
    assert await journal.last_seq("AAPL") >= before + 200  # every order reached the book
