"""The engine against the oracle book, command by command (hypothesis, stateful).

After every command: the same normalized events as the oracle (so price-time priority,
STP, FOK, IOC, stops, expiry and replace rules agree), the book is never crossed, every
order's filled + leaves + canceled == quantity, bought == sold, FOK orders fill fully or
not at all, and IOC / FOK / market orders never rest.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from matcher.engine.engine import MatchingEngine
from shared.domain.commands import (
    CancelAll,
    CancelOrder,
    Command,
    ExpireOrders,
    NewOrder,
    ReplaceOrder,
    SetTradingState,
)
from shared.domain.events import Event, OrderFilled
from tests.property.normalize import OrderTally, normalize, tally
from tests.property.oracle import Oracle

ACCOUNTS = {"a": "cancel_newest", "b": "cancel_oldest", "c": "cancel_both", "d": "cancel_newest"}
prices = st.integers(min_value=95, max_value=105)
quantities = st.integers(min_value=1, max_value=12)


class EngineVsOracle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.engine = MatchingEngine("TEST", maker_fee_cbps=10, taker_fee_cbps=25)
        self.oracle = Oracle()
        self.ts = 1_000
        self.next_id = 0
        self.ids: list[str] = []
        self.kinds: dict[str, tuple[str, str]] = {}
        self.tallies: dict[str, OrderTally] = {}
        self.last_events: list[Event] = []

    def run(self, command: Command) -> None:
        out: list[Event] = []
        self.engine.handle(command, out)
        before = len(self.oracle.out)
        self.oracle.handle(command)
        assert normalize(out) == self.oracle.out[before:], command
        seqs = [e.seq for e in out]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))) if seqs else True
        assert all(e.ts == command.ts for e in out)
        tally(out, self.tallies)
        self.last_events = out

    def tick(self) -> int:
        self.ts += 1_000
        return self.ts

    @rule(
        account=st.sampled_from(sorted(ACCOUNTS)),
        side=st.sampled_from(["buy", "sell"]),
        kind=st.sampled_from(["limit"] * 6 + ["market", "stop", "stop_limit"]),
        tif=st.sampled_from(["gtc", "gtc", "day", "ioc", "fok", "gtd"]),
        qty=quantities,
        price=prices,
        stop=prices,
        life=st.integers(min_value=1, max_value=5),
    )
    def new_order(
        self,
        account: str,
        side: str,
        kind: str,
        tif: str,
        qty: int,
        price: int,
        stop: int,
        life: int,
    ) -> None:
        self.next_id += 1
        order_id = f"o{self.next_id}"
        self.ids.append(order_id)
        self.kinds[order_id] = (kind, tif)
        ts = self.tick()
        self.run(
            NewOrder(
                f"c{self.next_id}",
                ts,
                "TEST",
                order_id,
                account,
                side,
                kind,
                tif,
                qty,
                price if kind in ("limit", "stop_limit") else 0,
                stop if kind in ("stop", "stop_limit") else 0,
                ts + life * 1_000 if tif == "gtd" else 0,
                ACCOUNTS[account],
            )
        )

    @precondition(lambda self: self.ids)
    @rule(data=st.data(), wrong_owner=st.booleans())
    def cancel(self, data: st.DataObject, wrong_owner: bool) -> None:
        order_id = data.draw(st.sampled_from(self.ids))
        o = self.engine.orders.get(order_id) or self.engine.stops.get(order_id)
        account = o.account_id if o is not None else "a"
        if wrong_owner:
            account = "x"
        self.run(CancelOrder(f"x{self.tick()}", self.ts, "TEST", order_id, account))

    @precondition(lambda self: self.ids)
    @rule(
        data=st.data(),
        qty=st.one_of(st.just(0), quantities),
        price=st.one_of(st.just(0), prices),
        stop=st.one_of(st.just(0), prices),
    )
    def replace(self, data: st.DataObject, qty: int, price: int, stop: int) -> None:
        order_id = data.draw(st.sampled_from(self.ids))
        o = self.engine.orders.get(order_id) or self.engine.stops.get(order_id)
        account = o.account_id if o is not None else "a"
        ts = self.tick()
        self.run(ReplaceOrder(f"r{ts}", ts, "TEST", order_id, account, qty, price, stop))

    @rule(end_of_day=st.booleans())
    def expire(self, end_of_day: bool) -> None:
        ts = self.tick()
        self.run(ExpireOrders(f"e{ts}", ts, "TEST", end_of_day))

    @rule(account=st.sampled_from(["", "a", "b"]))
    def cancel_all(self, account: str) -> None:
        ts = self.tick()
        self.run(CancelAll(f"k{ts}", ts, "TEST", account))

    @rule(state=st.sampled_from(["halted", "active", "active", "reducing"]))
    def trading_state(self, state: str) -> None:
        ts = self.tick()
        self.run(SetTradingState(f"s{ts}", ts, "TEST", state))

    # ------------------------------------------------------------------ invariants

    @invariant()
    def book_never_crossed(self) -> None:
        bids, asks = self.engine.depth(1)
        if bids and asks:
            assert bids[0][0] < asks[0][0]

    @invariant()
    def levels_hold_only_live_orders_of_their_price(self) -> None:
        for side in (self.engine.bids, self.engine.asks):
            assert side.prices == sorted(side.levels)
            for price, level in side.levels.items():
                live = level.live_orders()
                assert live and len(live) == level.live
                assert sum(o.leaves_qty for o in live) == level.qty
                assert all(o.price == price for o in live)
                entries = [o.entry_seq for o in live]
                assert entries == sorted(entries)

    @invariant()
    def conservation_per_order(self) -> None:
        for order_id, t in self.tallies.items():
            assert t.filled + t.leaves + t.canceled == t.quantity, order_id
            live = self.engine.orders.get(order_id) or self.engine.stops.get(order_id)
            assert (live.leaves_qty if live else 0) == t.leaves, order_id

    @invariant()
    def bought_equals_sold(self) -> None:
        bought = sum(t.filled for t in self.tallies.values() if t.side == "buy")
        sold = sum(t.filled for t in self.tallies.values() if t.side == "sell")
        assert bought == sold

    @invariant()
    def fok_all_or_nothing_and_no_ioc_rests(self) -> None:
        for order_id, t in self.tallies.items():
            _, tif = self.kinds.get(order_id, ("", ""))
            if tif == "fok":
                assert t.filled in (0, t.quantity), order_id
        for o in self.engine.orders.values():
            assert o.time_in_force not in ("ioc", "fok"), o.order_id
            assert o.order_type not in ("market", "stop"), o.order_id

    @invariant()
    def fees_follow_liquidity(self) -> None:
        for e in self.last_events:
            if isinstance(e, OrderFilled):
                rate = 10 if e.liquidity == "maker" else 25
                assert e.fee == e.last_qty * e.last_px * rate


EngineVsOracle.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestEngineAgainstOracle = EngineVsOracle.TestCase


def test_quantity_down_at_same_price_keeps_time_priority() -> None:
    engine = MatchingEngine("TEST")
    out: list[Event] = []
    engine.handle(NewOrder("1", 1, "TEST", "a1", "a", "buy", "limit", "gtc", 10, 100), out)
    engine.handle(NewOrder("2", 2, "TEST", "b1", "b", "buy", "limit", "gtc", 10, 100), out)
    engine.handle(ReplaceOrder("3", 3, "TEST", "a1", "a", quantity=5), out)
    assert engine.depth(1)[0] == [(100, 15, 2)]
    fills: list[Event] = []
    engine.handle(NewOrder("4", 4, "TEST", "s1", "c", "sell", "limit", "gtc", 6, 100), fills)
    makers = [
        (e.order_id, e.last_qty)
        for e in fills
        if isinstance(e, OrderFilled) and e.liquidity == "maker"
    ]
    assert makers == [("a1", 5), ("b1", 1)]  # a1 first: it kept its place in the queue
