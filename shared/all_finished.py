"""Concurrent calls that all finish before a failure is raised."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import TypeVar, cast

T = TypeVar("T")


async def all_finished(calls: Sequence[Awaitable[T]]) -> list[T]:
    """Await every call concurrently; once all have finished, raise the first failure (so
    nothing of them is left running when the caller learns of it)."""
    if len(calls) == 1:
        return [await calls[0]]
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return cast("list[T]", outcomes)
