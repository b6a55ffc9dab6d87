"""The account feed port: receive one account's live feed (`orderUpdated` and
`executionReported`, the envelopes `shared.feeds.FeedPublisher` sends) as a client of the same
fan-out every other client uses: the local hub in-process, or SignalR Service as a client.
Entrypoints that speak another streaming protocol (Alpaca's `trade_updates`) relay it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any, NamedTuple, Protocol


class FeedMessage(NamedTuple):
    """One push: the hub method (`orderUpdated`, ...) and its envelope
    (`{"stream", "epoch", "seq", "data"}`)."""

    target: str
    envelope: dict[str, Any]


class AccountFeed(Protocol):
    def listen(self, account_id: str) -> AbstractAsyncContextManager[AsyncIterator[FeedMessage]]:
        """Inside the block, the account's pushes as they come; the iterator ends when the
        connection to the fan-out ends (the caller decides whether to listen again)."""
        ...
