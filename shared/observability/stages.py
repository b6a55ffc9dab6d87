"""One call per stage of an order's way, for the code on that way: its DEBUG log line (with
the order id), its metrics and, for the batch stages, its trace attributes.

Each does nothing costly when its outputs are off: a level check, a None check.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from typing import Any, Protocol, TypeVar

from opentelemetry.trace import Span, SpanKind

from shared.domain.commands import Command
from shared.observability import metrics, tracing
from shared.ports.store_journal import JournalEntry

log = logging.getLogger("oms.orders")
_DEBUG = logging.DEBUG


class _Placed(Protocol):
    @property
    def order(self) -> Any: ...


P = TypeVar("P", bound=_Placed)


def placing(place: Callable[..., Awaitable[P]]) -> Callable[..., Awaitable[P]]:
    """Decorates the intake's place: its span, the accepted / refused counts (a refusal is
    an exception with a `reason`), the acceptance latency and the "order accepted" line."""

    @functools.wraps(place)
    async def placed(deps: Any, account: Any, request: Any, *args: Any, **kwargs: Any) -> P:
        started = time.perf_counter()
        outer = tracing.current_span()  # the request's span, when it is traced
        traced: AbstractContextManager[Span | None] = tracing.NO_SPAN
        if outer is not None:
            traced = tracing.child_span("intake place", attributes={tracing.SYMBOL: request.symbol})
        with traced as span:
            try:
                result = await place(deps, account, request, *args, **kwargs)
            except Exception as error:
                reason = getattr(error, "reason", None)
                if isinstance(reason, str):
                    metrics.order_refused(reason)
                    if log.isEnabledFor(_DEBUG):
                        log.debug(
                            "order refused",
                            extra={
                                "reason": reason,
                                "account_id": account.account_id,
                                "client_order_id": request.client_order_id,
                                "symbol": request.symbol,
                            },
                        )
                raise
            order = result.order
            metrics.order_accepted(time.perf_counter() - started)
            if span is not None:
                tagged = {tracing.ORDER_ID: order.order_id}
                span.set_attributes(tagged)
                if outer is not None:
                    outer.set_attributes(tagged)
            if log.isEnabledFor(_DEBUG):
                log.debug(
                    "order accepted",
                    extra={
                        "order_id": order.order_id,
                        "client_order_id": order.client_order_id,
                        "account_id": order.account_id,
                        "symbol": order.symbol,
                        "status": order.status.value,
                    },
                )
            return result

    return placed


def sending(queue: str, commands: Iterable[Command]) -> Any:
    """The span of sending commands to the matcher's queue (with their order ids)."""
    if tracing.current_span() is None:
        return tracing.NO_SPAN
    listed = list(commands)
    attributes: tracing.Attributes = {
        "messaging.destination.name": queue,
        "messaging.batch.message_count": len(listed),
        tracing.COMMAND_ID: listed[0].command_id,
    }
    order_id = getattr(listed[0], "order_id", None)
    if order_id:
        attributes[tracing.ORDER_ID] = order_id
    return tracing.child_span(f"{queue} send", SpanKind.PRODUCER, attributes)


def commands_sent(commands: Iterable[Command]) -> None:
    if log.isEnabledFor(_DEBUG):
        for command in commands:
            log.debug(
                "command sent",
                extra={
                    "command_id": command.command_id,
                    "kind": command.KIND,
                    "order_id": getattr(command, "order_id", None),
                    "symbol": command.symbol,
                },
            )


def journaled(entries: Iterable[JournalEntry]) -> list[str] | None:
    """The matcher journaled these entries: their lines, and their trace attributes. Returns
    the traced command ids for the stage spans (None when the batch has no trace)."""
    traced = tracing.batch_traced()
    debug = log.isEnabledFor(_DEBUG)
    if not (traced or debug):
        return None
    keys: list[str] = []
    for entry in entries:
        order_id = entry.command.get("order_id")
        if traced:
            attributes: tracing.Attributes = {
                tracing.SEQ_FIRST: entry.first_seq,
                tracing.SEQ_LAST: entry.last_seq,
            }
            if isinstance(order_id, str):
                attributes[tracing.ORDER_ID] = order_id
            tracing.annotate(entry.command_id, attributes)
            keys.append(entry.command_id)
        if debug:
            log.debug(
                "command journaled",
                extra={
                    "command_id": entry.command_id,
                    "order_id": order_id,
                    "symbol": entry.symbol,
                    "seq": entry.last_seq,
                    "first_seq": entry.first_seq,
                },
            )
    return keys if traced else None


def matcher_batch(symbol: str, commands: int, started: float, oldest_ts: int, now: int) -> None:
    """A batch of `commands` started at perf_counter `started`; its oldest command was
    stamped `oldest_ts` (ns, 0: none) and the matcher's clock reads `now`."""
    wait = (now - oldest_ts) / 1e9 if oldest_ts else 0.0
    metrics.matcher_batch(symbol, commands, time.perf_counter() - started, wait)


class _Order(Protocol):
    order_id: str
    symbol: str
    seq: int

    @property
    def status(self) -> Any: ...


def projected(orders: Iterable[_Order]) -> None:
    if log.isEnabledFor(_DEBUG):
        for order in orders:
            log.debug(
                "order projected",
                extra={
                    "order_id": order.order_id,
                    "symbol": order.symbol,
                    "seq": order.seq,
                    "status": order.status.value,
                },
            )


def feed_message_sent(target: str, seq: int, data: Mapping[str, object]) -> int:
    """A live-feed message went out: count it, and its line when DEBUG. Returns `seq`."""
    metrics.feed_sent(target)
    if log.isEnabledFor(_DEBUG):
        log.debug(
            "feed message sent",
            extra={"target": target, "feed_seq": seq, "order_id": data.get("order_id")},
        )
    return seq
