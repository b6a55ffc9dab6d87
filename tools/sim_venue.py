"""An in-process external venue for the fault-injection simulation (issue #18).

It stands where a gateway and its FIX venue stand: it takes the requests the instruments'
workers send on VENUES_QUEUE (session = the venue's name), keeps its own book of our orders
(one per ClOrdID chain; a repeated request is dropped by its ClOrdID, as a venue does), and
reports back through the gateway's real sink (`shared.venue_messages.bus_sink`: commands on
the instruments' sessions). From the seed it:
- fills working orders in parts over the rounds (market orders at once, IOC/FOK in full
  or not at all), rejects some new orders with its text, refuses cancels of what is gone;
- duplicates reports (the same report flagged PossDup, and the same fill under another
  execution id, as a REST retry would);
- delays reports (the connection stalls for some rounds: reports keep their order);
- drops reports: the connection goes down with a report lost on the way; on reconnect the
  session-level resend sends everything from the lost one again (PossDup), then the
  reconciliation's status answers (ExecType I) of every open order.
The venue's own record (`cum_qty` of every order) is the truth the simulation compares
ours with: no fill lost, none counted twice. An instrument the simulation halts is halted
at the venue too (`halt`): nothing of it trades there any more, so only our cancels can end
our orders of it.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from shared.domain.enums import OrderType, TimeInForce
from shared.gateway_messages import decode
from shared.ports.bus import Bus, BusError
from shared.ports.store_instruments import InstrumentRepository
from shared.ports.store_orders import OrderRepository
from shared.ports.venue import (
    ReportKind,
    VenueCancel,
    VenueOrder,
    VenueOrdStatus,
    VenueReplace,
    VenueReport,
)
from shared.venue_messages import bus_sink

NAME = "simx"
OPEN = (VenueOrdStatus.NEW, VenueOrdStatus.PARTIALLY_FILLED)


@dataclass
class VenueSideOrder:
    order_id: str
    cl_ord_id: str  # the current one of its chain
    symbol: str
    order: VenueOrder
    quantity: Decimal
    price: Decimal
    cum_qty: Decimal = Decimal(0)
    status: VenueOrdStatus = VenueOrdStatus.NEW

    @property
    def leaves(self) -> Decimal:
        return self.quantity - self.cum_qty if self.status in OPEN else Decimal(0)


@dataclass
class VenueTally:
    requests: int = 0
    repeated_requests: int = 0
    reports: int = 0
    duplicates: int = 0
    drops: int = 0
    stalls: int = 0
    status_answers: int = 0


class SimVenue:
    def __init__(
        self,
        seed: int,
        bus: Bus,
        venues_queue: str,
        report_bus: Bus,
        orders_queue: str,
        instruments: InstrumentRepository,
        orders: OrderRepository,
        clock: Callable[[], int],
        faults: bool,
    ) -> None:
        self.rng = random.Random(seed * 1_299_709 + 17)
        self.bus, self.venues_queue = bus, venues_queue
        self.sink = bus_sink(NAME, report_bus, orders_queue, instruments, orders, clock)
        self.clock = clock
        self.faults = faults
        self.orders: dict[str, VenueSideOrder] = {}  # by our order id
        self.seen: set[str] = set()  # ClOrdIDs taken
        self.log: list[VenueReport] = []  # every report, in the venue's order
        self.delivered = 0  # reports of the log the gateway took
        self.down_for = 0  # rounds the connection stays down (a drop) or stalled
        self.resend_from: int | None = None  # after a drop: the first report lost
        self.execs = 0
        self.tally = VenueTally()
        self.halted: set[str] = set()  # symbols not traded here any more

    def halt(self, symbol: str) -> None:
        self.halted.add(symbol)

    # ----------------------------------------------------------------- a round

    async def round(self) -> None:
        """Take requests, trade, and deliver what the connection lets through."""
        if self.down_for > 0:
            self.down_for -= 1
            if self.down_for == 0 and self.resend_from is not None:
                await self._reconnect()
            return
        await self._take_requests()
        self._trade()
        await self._deliver()

    def idle(self) -> bool:
        return self.down_for == 0 and self.delivered == len(self.log)

    def calm(self) -> None:
        """Faults off (the settle phase): what is down comes back at the next round."""
        self.faults = False
        self.down_for = min(self.down_for, 1)

    async def _take_requests(self) -> None:
        receiver = await self.bus.accept_session(self.venues_queue, NAME, max_wait=0.0)
        if receiver is None:
            return
        try:
            for message in await receiver.receive(256, max_wait=0.0):
                _, _, _, request = decode(message.body)
                if request is not None:
                    self._request(request)
                await receiver.complete(message)
        except BusError:
            pass  # (a lost lock: the messages come again, and repeats are dropped)
        finally:
            await receiver.close()

    def _request(self, request: VenueOrder | VenueCancel | VenueReplace) -> None:
        self.tally.requests += 1
        if request.cl_ord_id in self.seen:
            self.tally.repeated_requests += 1
            return
        self.seen.add(request.cl_ord_id)
        order_id = request.cl_ord_id.split(".", 1)[0]
        if isinstance(request, VenueOrder):
            self._place(order_id, request)
            return
        o = self.orders.get(order_id)
        if o is None or o.status not in OPEN or request.orig_cl_ord_id != o.cl_ord_id:
            text = "unknown order" if o is None else "too late to cancel"
            self._report(o, ReportKind.CANCEL_REJECTED, request.cl_ord_id, order_id, text=text)
            return
        if isinstance(request, VenueCancel):
            orig = o.cl_ord_id
            o.cl_ord_id, o.status = request.cl_ord_id, VenueOrdStatus.CANCELED
            self._report(o, ReportKind.CANCELED, request.cl_ord_id, orig=orig)
            return
        if request.quantity <= o.cum_qty or self.rng.random() < 0.05:
            self._report(o, ReportKind.CANCEL_REJECTED, request.cl_ord_id, text="cannot replace")
            return
        orig = o.cl_ord_id
        o.cl_ord_id, o.quantity = request.cl_ord_id, request.quantity
        if request.price is not None:
            o.price = request.price
        self._report(o, ReportKind.REPLACED, request.cl_ord_id, orig=orig)

    def _place(self, order_id: str, request: VenueOrder) -> None:
        price = request.price if request.price is not None else Decimal(10_000)
        o = VenueSideOrder(order_id, order_id, request.symbol, request, request.quantity, price)
        if self.rng.random() < 0.05:
            o.status = VenueOrdStatus.REJECTED
            self.orders[order_id] = o
            self._report(o, ReportKind.REJECTED, order_id, text="simulated venue: no liquidity")
            return
        self.orders[order_id] = o
        self._report(o, ReportKind.NEW, order_id)
        immediate = request.order_type is OrderType.MARKET or request.time_in_force in (
            TimeInForce.IOC,
            TimeInForce.FOK,
        )
        if immediate:
            if self.rng.random() < 0.7:
                self._fill(o, o.leaves)
            if o.status in OPEN:
                o.status = VenueOrdStatus.CANCELED
                self._report(o, ReportKind.CANCELED, o.cl_ord_id)

    def _trade(self) -> None:
        for order_id in sorted(self.orders):
            o = self.orders[order_id]
            if o.status in OPEN and o.symbol not in self.halted and self.rng.random() < 0.15:
                part = Decimal(self.rng.randint(1, int(o.leaves)))
                self._fill(o, part)

    def _fill(self, o: VenueSideOrder, quantity: Decimal) -> None:
        o.cum_qty += quantity
        o.status = (
            VenueOrdStatus.FILLED if o.cum_qty == o.quantity else VenueOrdStatus.PARTIALLY_FILLED
        )
        price = o.price + self.rng.randint(-2, 0) if o.order.side.value == "buy" else o.price
        self._report(o, ReportKind.TRADE, o.cl_ord_id, last=(quantity, price))

    def _report(
        self,
        o: VenueSideOrder | None,
        kind: ReportKind,
        cl_ord_id: str,
        order_id: str = "",
        *,
        orig: str = "",
        text: str = "",
        last: tuple[Decimal, Decimal] | None = None,
    ) -> None:
        self.execs += 1
        status = o.status if o is not None else VenueOrdStatus.UNKNOWN
        if kind is ReportKind.CANCEL_REJECTED and o is not None:
            status = o.status
        self.log.append(
            VenueReport(
                venue=NAME,
                kind=kind,
                cl_ord_id=cl_ord_id,
                exec_id=f"X{self.execs}",
                ord_status=status,
                symbol=o.symbol if o is not None else "",
                side=o.order.side if o is not None else None,
                venue_order_id=f"V-{o.order_id}" if o is not None else "",
                orig_cl_ord_id=orig,
                last_qty=last[0] if last else Decimal(0),
                last_px=last[1] if last else Decimal(0),
                cum_qty=o.cum_qty if o is not None else Decimal(0),
                leaves_qty=o.leaves if o is not None else Decimal(0),
                text=text,
                transact_time=self.clock(),
            )
        )

    # ----------------------------------------------------------------- delivery

    async def _deliver(self) -> None:
        rng = self.rng
        while self.delivered < len(self.log):
            if self.faults and rng.random() < 0.01:  # the connection stalls: a delay
                self.tally.stalls += 1
                self.down_for = rng.randint(1, 4)
                return
            if self.faults and rng.random() < 0.01:  # down, with this report lost
                self.tally.drops += 1
                self.resend_from = self.delivered
                self.delivered = len(self.log)
                self.down_for = rng.randint(1, 6)
                return
            report = self.log[self.delivered]
            await self._send(report)
            self.delivered += 1
            if self.faults and rng.random() < 0.03:
                self.tally.duplicates += 1
                await self._send(dataclasses.replace(report, poss_dup=True))
                if report.is_fill:  # the same fill again under another id (a REST retry)
                    await self._send(dataclasses.replace(report, exec_id=f"{report.exec_id}r"))

    async def _reconnect(self) -> None:
        """The session-level resend of everything from the lost report on, flagged PossDup,
        then the reconciliation's status answers of every order the venue holds open."""
        start, self.resend_from = self.resend_from or 0, None
        for report in self.log[start:]:
            await self._send(dataclasses.replace(report, poss_dup=True))
        for order_id in sorted(self.orders):
            o = self.orders[order_id]
            if o.status in OPEN:
                self.tally.status_answers += 1
                answer = VenueReport(
                    venue=NAME,
                    kind=ReportKind.STATUS,
                    cl_ord_id=o.cl_ord_id,
                    exec_id="0",
                    ord_status=o.status,
                    symbol=o.symbol,
                    side=o.order.side,
                    cum_qty=o.cum_qty,
                    leaves_qty=o.leaves,
                    request_id=f"ms-{self.execs}",
                )
                await self._send(answer)

    async def _send(self, report: VenueReport) -> None:
        """The gateway's sink; it retries until the bus took the report (at least once)."""
        for _ in range(100):
            try:
                await self.sink(report)
                self.tally.reports += 1
                return
            except BusError:
                continue
        raise RuntimeError("the bus refused a venue report 100 times")
