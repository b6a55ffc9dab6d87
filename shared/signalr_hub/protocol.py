"""The SignalR JSON hub protocol: records are JSON texts, each ended by 0x1E.

Message types used here: 1 invocation, 3 completion, 6 ping, 7 close. The handshake request is
`{"protocol":"json","version":1}` and the reply `{}` (or `{"error": "..."}`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

RS = "\x1e"
INVOCATION = 1
STREAM_ITEM = 2
COMPLETION = 3
STREAM_INVOCATION = 4
CANCEL_INVOCATION = 5
PING = 6
CLOSE = 7

SUPPORTED_PROTOCOL = "json"
SUPPORTED_VERSION = 1

HANDSHAKE_OK = "{}" + RS
PING_RECORD = json.dumps({"type": PING}) + RS


class ProtocolError(Exception):
    """A record that is not valid JSON hub protocol."""


def _dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False) + RS


def invocation_record(target: str, args: Sequence[object]) -> str:
    """A non-blocking invocation (no invocationId): the server-to-client push."""
    return _dumps({"type": INVOCATION, "target": target, "arguments": list(args)})


def close_record(error: str | None = None, allow_reconnect: bool = False) -> str:
    """A close message; with an error the client reports it."""
    message: dict[str, Any] = {"type": CLOSE}
    if error:
        message["error"] = error
    if allow_reconnect:
        message["allowReconnect"] = True
    return _dumps(message)


def completion_error_record(invocation_id: str, error: str) -> str:
    """The completion of a client invocation that the hub does not serve."""
    return _dumps({"type": COMPLETION, "invocationId": invocation_id, "error": error})


def handshake_error_record(error: str) -> str:
    """A handshake reply that refuses the connection."""
    return _dumps({"error": error})


def split_records(buffer: str) -> tuple[list[str], str]:
    """Complete records in `buffer` and the unterminated rest."""
    *records, rest = buffer.split(RS)
    return [r for r in records if r], rest


def parse_record(record: str) -> dict[str, Any]:
    """One record as a JSON object."""
    try:
        message = json.loads(record)
    except ValueError as exc:
        raise ProtocolError(f"record is not JSON: {exc}") from exc
    if not isinstance(message, dict):
        raise ProtocolError("record is not a JSON object")
    return message


def check_handshake(message: dict[str, Any]) -> str | None:
    """None if the handshake request is acceptable, else the reason to refuse it."""
    protocol = message.get("protocol")
    version = message.get("version")
    if protocol != SUPPORTED_PROTOCOL:
        return f"The protocol '{protocol}' is not supported; this hub speaks 'json' only."
    if not isinstance(version, int) or version < SUPPORTED_VERSION:
        return f"The server does not support version {version} of the 'json' protocol."
    return None
