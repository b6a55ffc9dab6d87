"""The engine against the oracle, command by command (hypothesis, stateful).

Orders of every type (market, limit, stop, stop-limit, trailing stop), with the newer
instructions (iceberg, post-only, reduce-only), every self-trade prevention mode (decrement
too), contingent groups (bracket, OTO, OCO: valid or not), cancels, replaces (of legs and
trails too), GTD and session-close expiry, cancel-all, halts and fee changes.

After every command: the same normalized events as the oracle (so price-time priority,
refills, STP, FOK, stops, trailing, groups, trims, expiry and replace rules agree), and the
invariants: the book is never crossed; every order's filled + leaves + held + canceled ==
quantity and its events report the status that follows from those; a live leg never
exceeds what its entry filled; an OCO pair never fills more than its quantity; a
reduce-only fill never flips a position; bought == sold; FOK fills fully or not at all;
IOC / FOK / market orders never rest; fees follow the configured rates.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from matcher.engine.engine import MatchingEngine
from matcher.engine.venues import InstrumentVenues
from shared.domain.commands import (
    CancelAll,
    CancelOrder,
    Command,
    ConfigureInstrument,
    ExpireOrders,
    NewOrder,
    NewOrderGroup,
    ReplaceOrder,
    SetTradingState,
)
from shared.domain.events import Event, OrderFilled
from tests.property.normalize import OrderTally, normalize, tally
from tests.property.oracle import Oracle

ACCOUNTS = {
    "a": "cancel_newest",
    "b": "cancel_oldest",
    "c": "cancel_both",
    "d": "decrement",
    "e": "cancel_newest",
}
prices = st.integers(min_value=95, max_value=105)
quantities = st.integers(min_value=1, max_value=12)


class EngineVsOracle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.venues = InstrumentVenues("TEST", maker_fee_cbps=10, taker_fee_cbps=25)
        self.engine: MatchingEngine = self.venues.engine
        self.oracle = Oracle(10, 25)
        self.fees = (10, 25)
        self.ts = 1_000
        self.next_id = 0
        self.ids: list[str] = []
        self.kinds: dict[str, tuple[str, str]] = {}
        self.reduce_only: set[str] = set()
        self.groups: list[tuple[str, list[str]]] = []  # (class, [entry?, tp, sl] ids)
        self.tallies: dict[str, OrderTally] = {}
        self.positions: dict[str, int] = {}
        self.last_events: list[Event] = []

    def run(self, command: Command) -> None:
        out: list[Event] = []
        self.venues.handle(command, out)
        before = len(self.oracle.out)
        self.oracle.handle(command)
        assert normalize(out) == self.oracle.out[before:], command
        seqs = [e.seq for e in out]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))) if seqs else True
        assert all(e.ts == command.ts for e in out)
        tally(out, self.tallies)
        self.check_positions(out)
        self.last_events = out

    def check_positions(self, out: list[Event]) -> None:
        """Every fill moves the account's position; a reduce-only fill only toward flat."""
        for e in out:
            if not isinstance(e, OrderFilled):
                continue
            net = self.positions.get(e.account_id, 0)
            after = net + (e.last_qty if e.side == "buy" else -e.last_qty)
            if e.order_id in self.reduce_only:
                assert abs(after) < abs(net) and after * net >= 0, (e, net)
            self.positions[e.account_id] = after
        assert {a: n for a, n in self.positions.items() if n} == self.venues.book.nets

    def tick(self) -> int:
        self.ts += 1_000
        return self.ts

    def new_id(self) -> str:
        self.next_id += 1
        order_id = f"o{self.next_id}"
        self.ids.append(order_id)
        return order_id

    @rule(
        account=st.sampled_from(sorted(ACCOUNTS)),
        side=st.sampled_from(["buy", "sell"]),
        kind=st.sampled_from(["limit"] * 6 + ["market", "stop", "stop_limit", "trailing_stop"]),
        tif=st.sampled_from(["gtc", "gtc", "day", "ioc", "fok", "gtd"]),
        qty=quantities,
        price=prices,
        stop=prices,
        life=st.integers(min_value=1, max_value=5),
        display=st.sampled_from([0, 0, 0, 1, 2, 3]),
        post_only=st.sampled_from([False, False, False, True]),
        reduce_only=st.sampled_from([False, False, False, True]),
        trail=st.integers(min_value=1, max_value=4),
        percent=st.booleans(),
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
        display: int,
        post_only: bool,
        reduce_only: bool,
        trail: int,
        percent: bool,
    ) -> None:
        order_id = self.new_id()
        self.kinds[order_id] = (kind, tif)
        net = self.positions.get(account, 0)
        if reduce_only:
            self.reduce_only.add(order_id)
            if net and qty % 4:  # mostly one that reduces, within the position
                side = "sell" if net > 0 else "buy"
                qty = min(qty, abs(net))
        ts = self.tick()
        trailing = kind == "trailing_stop"
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
                display_qty=min(display, qty) if kind == "limit" else 0,
                post_only=post_only and kind == "limit",
                reduce_only=reduce_only,
                trail_amount=trail if trailing and not percent else 0,
                trail_cbps=trail * 10_000 if trailing and percent else 0,
            )
        )

    @rule(
        account=st.sampled_from(sorted(ACCOUNTS)),
        order_class=st.sampled_from(["bracket", "bracket", "oto", "oco"]),
        side=st.sampled_from(["buy", "sell"]),
        entry_kind=st.sampled_from(["limit", "limit", "market", "stop"]),
        qty=quantities,
        price=prices,
        gap=st.integers(min_value=-1, max_value=4),
        trailing=st.booleans(),
        exit_tif=st.sampled_from(["gtc", "gtc", "day", "gtd"]),
        entry_tif=st.sampled_from(["gtc", "gtc", "day", "ioc", "gtd"]),
        life=st.integers(min_value=1, max_value=4),
        oto_leg=st.sampled_from(["take_profit", "stop_loss"]),
    )
    def new_group(
        self,
        account: str,
        order_class: str,
        side: str,
        entry_kind: str,
        qty: int,
        price: int,
        gap: int,
        trailing: bool,
        exit_tif: str,
        entry_tif: str,
        oto_leg: str,
        life: int,
    ) -> None:
        ts = self.tick()
        cid = f"g{ts}"
        up = 1 if side == "buy" else -1  # the take-profit's side of the entry price
        orders: list[NewOrder] = []

        def leg(name: str, leg_side: str, **kw: object) -> NewOrder:
            order_id = self.new_id()
            tif = str(kw.pop("tif", exit_tif))
            return NewOrder(
                f"{cid}.{len(orders)}",
                ts,
                "TEST",
                order_id,
                account,
                leg_side,
                str(kw.pop("kind")),
                tif,
                qty,
                int(kw.pop("price", 0)),  # type: ignore[call-overload]
                int(kw.pop("stop", 0)),  # type: ignore[call-overload]
                ts + life * 1_000 if tif == "gtd" else 0,
                ACCOUNTS[account],
                order_class=order_class,
                leg=name,
                parent_order_id=str(kw.pop("parent", "")),
                trail_amount=int(kw.pop("trail", 0)),  # type: ignore[call-overload]
            )

        exit_side = side if order_class == "oco" else ("sell" if side == "buy" else "buy")
        if order_class != "oco":
            is_stop = entry_kind == "stop"
            tif = "gtc" if is_stop and entry_tif == "ioc" else entry_tif
            entry = leg(
                "entry",
                side,
                kind=entry_kind,
                tif=tif,
                price=price if entry_kind == "limit" else 0,
                stop=price if is_stop else 0,
            )
            orders.append(entry)
            parent = entry.order_id
        else:
            parent = ""
        tp_px = price + up * gap if order_class != "oco" else price - up * gap
        sl_px = price - up * 2 if order_class != "oco" else price + up * 2
        legs = ["take_profit", "stop_loss"] if order_class != "oto" else [oto_leg]
        for name in legs:
            if name == "take_profit":
                tp = leg(name, exit_side, kind="limit", price=tp_px, parent=parent)
                orders.append(tp)
                if order_class == "oco":
                    parent = tp.order_id
            elif trailing:
                orders.append(leg(name, exit_side, kind="trailing_stop", trail=2, parent=parent))
            else:
                orders.append(leg(name, exit_side, kind="stop", stop=sl_px, parent=parent))
        for o in orders:
            self.kinds[o.order_id] = (o.order_type, o.time_in_force)
        self.groups.append((order_class, [o.order_id for o in orders]))
        self.run(NewOrderGroup(cid, ts, "TEST", order_class, tuple(orders)))

    def target(self, data: st.DataObject) -> str:
        """Mostly an open order (legs and held ones too), sometimes any recent id."""
        open_ids = sorted(o.order_id for o in self.engine.open_orders())
        pick_open: int = data.draw(st.integers(min_value=0, max_value=3))
        choices = open_ids if open_ids and pick_open else self.ids[-30:]
        chosen: str = data.draw(st.sampled_from(choices))
        return chosen

    @precondition(lambda self: self.ids)
    @rule(data=st.data(), wrong_owner=st.booleans())
    def cancel(self, data: st.DataObject, wrong_owner: bool) -> None:
        order_id = self.target(data)
        o = self.engine._working(order_id)
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
        trail=st.sampled_from([0, 0, 0, 1, 3]),
    )
    def replace(self, data: st.DataObject, qty: int, price: int, stop: int, trail: int) -> None:
        order_id = self.target(data)
        o = self.engine._working(order_id)
        account = o.account_id if o is not None else "a"
        ts = self.tick()
        self.run(ReplaceOrder(f"r{ts}", ts, "TEST", order_id, account, qty, price, stop, "", trail))

    @rule(end_of_day=st.booleans())
    def expire(self, end_of_day: bool) -> None:
        ts = self.tick()
        self.run(ExpireOrders(f"e{ts}", ts, "TEST", end_of_day))

    @rule(account=st.sampled_from(["", "a", "b", "d"]))
    def cancel_all(self, account: str) -> None:
        ts = self.tick()
        self.run(CancelAll(f"k{ts}", ts, "TEST", account))

    @rule(state=st.sampled_from(["halted", "active", "active", "active", "reducing"]))
    def trading_state(self, state: str) -> None:
        ts = self.tick()
        self.run(SetTradingState(f"s{ts}", ts, "TEST", state))

    @rule(
        maker=st.integers(min_value=0, max_value=10), taker=st.integers(min_value=0, max_value=30)
    )
    def configure(self, maker: int, taker: int) -> None:
        ts = self.tick()
        self.run(ConfigureInstrument(f"f{ts}", ts, "TEST", maker, taker))
        self.fees = (maker, taker)

    # ------------------------------------------------------------------ invariants

    @invariant()
    def book_never_crossed(self) -> None:
        bids, asks = self.engine.depth(1)
        if bids and asks:
            assert bids[0][0] < asks[0][0]

    @invariant()
    def levels_show_only_live_orders_of_their_price(self) -> None:
        for side in (self.engine.bids, self.engine.asks):
            assert side.prices == sorted(side.levels)
            for price, level in side.levels.items():
                live = level.live_orders()
                assert live and len(live) == level.live
                assert sum(o.shown() for o in live) == level.qty
                assert all(o.price == price for o in live)
                assert all(0 < o.shown() <= o.leaves_qty for o in live)
                assert all(o.visible <= o.display_qty for o in live if o.display_qty)
                entries = [o.entry_seq for o in live]
                assert entries == sorted(entries)

    @invariant()
    def every_order_adds_up_and_matches_the_engine(self) -> None:
        for order_id, t in self.tallies.items():
            live = self.engine._working(order_id)
            assert (live.leaves_qty if live else 0) == t.leaves, order_id
            assert (live.held_qty if live else 0) == t.held, order_id

    @invariant()
    def legs_never_exceed_their_entry_and_oco_pairs_their_quantity(self) -> None:
        for order_class, ids in self.groups:
            ts = [self.tallies.get(i) for i in ids]
            if any(t is None or t.side == "?" for t in ts):
                continue  # the group was rejected
            tallies = [t for t in ts if t is not None]
            if order_class == "oco":
                tp, sl = tallies
                assert tp.filled + sl.filled <= tp.quantity == sl.quantity, ids
                continue
            entry, exits = tallies[0], tallies[1:]
            for leg in exits:
                assert leg.filled + leg.leaves <= entry.filled, ids
            assert sum(leg.filled for leg in exits) <= entry.filled, ids

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
            assert o.order_type not in ("market", "stop", "trailing_stop"), o.order_id

    @invariant()
    def fees_follow_the_configured_rates(self) -> None:
        maker, taker = self.fees
        for e in self.last_events:
            if isinstance(e, OrderFilled):
                rate = maker if e.liquidity == "maker" else taker
                assert e.fee == e.last_qty * e.last_px * rate


EngineVsOracle.TestCase.settings = settings(
    max_examples=200,
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
