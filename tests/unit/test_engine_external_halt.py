"""A halt or cancel-all reaches every open external order, even one with a request pending at
the venue, and finished external orders are forgotten after their time (issue #18)."""

from __future__ import annotations

from itertools import count

from matcher.engine.external import FINISHED_KEPT_MAX, FINISHED_KEPT_NS
from matcher.engine.venues import InstrumentVenues
from shared.domain import reasons
from shared.domain.commands import (
    CancelAll,
    CancelOrder,
    Command,
    ExpireOrders,
    NewOrder,
    ReplaceOrder,
    SetTradingState,
    VenueReport,
)
from shared.domain.events import (
    CancelRejected,
    Event,
    OrderAccepted,
    OrderCanceled,
    OrderFilled,
    OrderReplaced,
    ReplaceRejected,
    TradingStateChanged,
    VenueAlert,
    VenueRequestIssued,
)

SYMBOL = "ACME"
_ids = count(1)


def new(order_id: str = "o1", account: str = "a1", ts: int = 1, qty: int = 10) -> NewOrder:
    return NewOrder(
        f"c{next(_ids)}", ts, SYMBOL, order_id, account, "buy", "limit", "gtc", qty, 100,
        venue="ext:X",
    )  # fmt: skip


def said(kind: str, cl: str, ts: int = 2, **values: object) -> VenueReport:
    """A report of venue X about ClOrdID `cl` (its order is the part before the dot)."""
    fields: dict[str, object] = {"ord_status": "new", "is_fill": kind == "trade"}
    fields.update(values)
    return VenueReport(
        f"venue:X:{kind}:{next(_ids)}", ts, SYMBOL, "X", kind, cl.split(".")[0], cl,
        exec_id=f"e{next(_ids)}", **fields,  # type: ignore[arg-type]
    )  # fmt: skip


def run(v: InstrumentVenues, *commands: Command) -> list[Event]:
    out: list[Event] = []
    for command in commands:
        v.handle(command, out)
    return out


def requests(events: list[Event]) -> list[tuple[str, str, str, str]]:
    return [
        (e.order_id, e.request_kind, e.cl_ord_id, e.orig_cl_ord_id)
        for e in events
        if isinstance(e, VenueRequestIssued)
    ]


def halt(ts: int = 5) -> SetTradingState:
    return SetTradingState(f"h{next(_ids)}", ts, SYMBOL, "halted")


def working_with_a_replace_pending() -> InstrumentVenues:
    """o1 acknowledged, 3 of 10 filled, a replace to 12 sent and not answered yet."""
    v = InstrumentVenues(SYMBOL)
    run(v, new(), said("new", "o1"), said("trade", "o1", last_qty=3, last_px=100, cum_qty=3))
    (sent,) = run(v, ReplaceOrder("r1", 3, SYMBOL, "o1", "a1", quantity=12))
    assert isinstance(sent, VenueRequestIssued) and sent.cl_ord_id == "o1.1"
    return v


def test_a_halt_during_a_pending_replace_cancels_as_soon_as_the_venue_replaced_it() -> None:
    v = working_with_a_replace_pending()
    halted = run(v, halt())
    assert [type(e) for e in halted] == [TradingStateChanged]  # one request at a time
    answered = run(v, said("replaced", "o1.1", ts=6, orig_cl_ord_id="o1", leaves_qty=9))
    assert [type(e) for e in answered] == [OrderReplaced, VenueRequestIssued]
    assert requests(answered) == [("o1", "cancel", "o1.2", "o1.1")]
    cancel = answered[1]
    assert isinstance(cancel, VenueRequestIssued) and (cancel.ts, cancel.quantity) == (6, 12)
    (canceled,) = run(v, said("canceled", "o1.2", ts=7, ord_status="canceled"))
    assert isinstance(canceled, OrderCanceled)
    assert (canceled.reason, canceled.canceled_qty, canceled.cum_qty) == (
        reasons.CANCELED_BY_HALT,
        9,
        3,
    )
    assert run(v, said("canceled", "o1.2", ts=8, ord_status="canceled", poss_dup=True)) == []


def test_a_replace_the_venue_refuses_after_a_halt_is_followed_by_the_cancel() -> None:
    v = working_with_a_replace_pending()
    run(v, halt())
    answered = run(v, said("cancel_rejected", "o1.1", ts=6, text="cannot replace"))
    assert [type(e) for e in answered] == [ReplaceRejected, VenueRequestIssued]
    assert requests(answered) == [("o1", "cancel", "o1.2", "o1")]  # the order kept its id
    (canceled,) = run(v, said("canceled", "o1.2", ts=7, ord_status="canceled"))
    assert isinstance(canceled, OrderCanceled) and canceled.reason == reasons.CANCELED_BY_HALT


def test_a_replace_left_undelivered_after_a_halt_is_followed_by_the_cancel() -> None:
    v = working_with_a_replace_pending()
    run(v, halt())
    answered = run(v, said("undelivered", "o1.1", ts=6, text="venue down"))
    assert requests(answered) == [("o1", "cancel", "o1.2", "o1")]


def test_an_order_filled_while_its_replace_was_pending_needs_no_cancel() -> None:
    v = working_with_a_replace_pending()
    run(v, halt())
    partly = run(v, said("trade", "o1", ts=6, last_qty=2, last_px=100, cum_qty=5))
    assert [type(e) for e in partly] == [OrderFilled]  # the replace is still pending
    done = run(v, said("trade", "o1", ts=7, last_qty=5, last_px=100, cum_qty=10))
    (fill,) = done
    assert isinstance(fill, OrderFilled) and fill.status == "filled"
    # The venue's late answer to the replace changes nothing, and no cancel ever goes.
    late = run(v, said("cancel_rejected", "o1.1", ts=8, text="order is filled"))
    assert requests(late) == []
    assert v.external.orders["o1"].cancel_owed == ""
    assert v.outstanding_venue_requests() == []


def test_the_mark_survives_a_snapshot_and_the_recovery_resends_the_replace() -> None:
    live = working_with_a_replace_pending()
    run(live, halt())
    restored = InstrumentVenues.restore(live.snapshot())
    assert restored.state_hash() == live.state_hash()
    assert restored.external.orders["o1"].cancel_owed == reasons.CANCELED_BY_HALT
    again = restored.outstanding_venue_requests()
    assert [(r.request_kind, r.cl_ord_id, r.orig_cl_ord_id) for r in again] == [
        ("replace", "o1.1", "o1")
    ]
    answer = said("replaced", "o1.1", ts=6, orig_cl_ord_id="o1", leaves_qty=9)
    after = run(restored, answer)
    assert after == run(live, answer)
    assert requests(after) == [("o1", "cancel", "o1.2", "o1.1")]
    assert restored.state_hash() == live.state_hash()


def test_cancel_all_of_an_account_owes_its_reason_to_an_order_with_a_pending_replace() -> None:
    v = working_with_a_replace_pending()
    run(v, new("o2", "a2"), said("new", "o2"))
    sent = run(v, CancelAll("ca", 5, SYMBOL, "a1", reasons.CANCELED_BY_HALT))
    assert requests(sent) == []  # o1 waits for its replace's answer; o2 is another's
    answered = run(v, said("replaced", "o1.1", ts=6, orig_cl_ord_id="o1", leaves_qty=9))
    assert requests(answered) == [("o1", "cancel", "o1.2", "o1.1")]
    (canceled,) = run(v, said("canceled", "o1.2", ts=7, ord_status="canceled"))
    assert isinstance(canceled, OrderCanceled) and canceled.reason == reasons.CANCELED_BY_HALT
    assert v.external.orders["o2"].open


def test_a_clients_cancel_the_venue_refuses_after_a_halt_is_followed_by_the_halts() -> None:
    v = InstrumentVenues(SYMBOL)
    run(v, new(), said("new", "o1"), CancelOrder("k1", 3, SYMBOL, "o1", "a1"))
    assert requests(run(v, halt())) == []
    answered = run(v, said("cancel_rejected", "o1.1", ts=6, text="busy"))
    assert [type(e) for e in answered] == [CancelRejected, VenueRequestIssued]
    assert requests(answered) == [("o1", "cancel", "o1.2", "o1")]
    # The venue refuses that one too: its last word, no third cancel.
    refused = run(v, said("cancel_rejected", "o1.2", ts=7, text="too late to cancel"))
    assert [type(e) for e in refused] == [CancelRejected]


def test_a_halt_cancels_an_unacknowledged_order_at_once_and_again_once_acknowledged() -> None:
    v = InstrumentVenues(SYMBOL)
    run(v, new())
    (state, cancel) = run(v, halt())
    assert isinstance(state, TradingStateChanged) and isinstance(cancel, VenueRequestIssued)
    # By its ClOrdID: the venue has not told us its own id yet.
    assert (cancel.cl_ord_id, cancel.orig_cl_ord_id, cancel.venue_order_id) == ("o1.1", "o1", "")
    # The venue had not seen the order yet (its NewOrderSingle came late): unknown order.
    refused = run(v, said("cancel_rejected", "o1.1", ts=6, ord_status="rejected", text="unknown"))
    assert [type(e) for e in refused] == [CancelRejected]
    assert v.external.orders["o1"].cancel_owed == reasons.CANCELED_BY_HALT
    # Acknowledged now: the cancel goes again at once.
    acked = run(v, said("new", "o1", ts=7, venue_order_id="V1"))
    assert [type(e) for e in acked] == [OrderAccepted, VenueRequestIssued]
    assert requests(acked) == [("o1", "cancel", "o1.2", "o1")]
    (canceled,) = run(v, said("canceled", "o1.2", ts=8, ord_status="canceled"))
    assert isinstance(canceled, OrderCanceled) and canceled.reason == reasons.CANCELED_BY_HALT


def test_a_halt_cancel_of_an_acknowledged_order_is_not_repeated_when_refused() -> None:
    v = InstrumentVenues(SYMBOL)
    run(v, new(), said("new", "o1"))
    assert requests(run(v, halt())) == [("o1", "cancel", "o1.1", "o1")]
    refused = run(v, said("cancel_rejected", "o1.1", ts=6, text="too late to cancel"))
    assert [type(e) for e in refused] == [CancelRejected]
    assert v.external.orders["o1"].cancel_owed == ""


# ---------------------------------------------------------------- finished orders


def filled(v: InstrumentVenues, order_id: str, ts: int) -> None:
    run(v, new(order_id, ts=ts), said("new", order_id, ts=ts))
    run(v, said("trade", order_id, ts=ts, last_qty=10, last_px=100, cum_qty=10))


def test_a_finished_order_is_kept_for_late_reports_then_forgotten() -> None:
    v = InstrumentVenues(SYMBOL)
    filled(v, "o1", ts=1_000)
    run(v, new("o2", ts=1_000))  # still working
    repeat = said("trade", "o1", ts=1_000 + FINISHED_KEPT_NS - 1, last_qty=10, last_px=100,
                  cum_qty=10, poss_dup=True)  # fmt: skip
    assert run(v, repeat) == []  # recognised: applied once, no alert
    assert v.book.nets == {"a1": 10}
    assert "o1" in {row["order_id"] for row in _external_rows(v)}
    # A clock tick once the hour has passed changes nothing (the journal does not replay
    # it); the next new order lets o1 go: o2 and the new one stay.
    assert run(v, ExpireOrders("t", 1_000 + FINISHED_KEPT_NS, SYMBOL)) == []
    assert "o1" in {row["order_id"] for row in _external_rows(v)}
    run(v, new("o3", ts=1_000 + FINISHED_KEPT_NS))
    assert [row["order_id"] for row in _external_rows(v)] == ["o2", "o3"]
    late = run(v, said("trade", "o1", ts=2_000 + FINISHED_KEPT_NS, last_qty=10, last_px=100,
                       cum_qty=10))  # fmt: skip
    assert [type(e) for e in late] == [VenueAlert]
    assert isinstance(late[0], VenueAlert) and late[0].what == reasons.UNKNOWN_VENUE_ORDER
    assert v.book.nets == {"a1": 10}  # an alert, never a fill


def test_forgetting_is_the_same_after_a_restore_as_in_an_uninterrupted_run() -> None:
    live = InstrumentVenues(SYMBOL)
    filled(live, "o1", ts=1_000)
    filled(live, "o2", ts=5_000)
    restored = InstrumentVenues.restore(live.snapshot())
    later = [
        new("o3", ts=1_000 + FINISHED_KEPT_NS),  # o1 forgotten here
        said("new", "o1", ts=1_000 + FINISHED_KEPT_NS, poss_dup=True),
        said("new", "o2", ts=1_000 + FINISHED_KEPT_NS, poss_dup=True),  # o2 still kept
    ]
    events = run(live, *later)
    assert [type(e) for e in events] == [VenueRequestIssued, VenueAlert]
    assert run(restored, *later) == events
    assert restored.state_hash() == live.state_hash()
    assert [row["order_id"] for row in _external_rows(live)] == ["o2", "o3"]


def test_a_replay_of_the_journal_forgets_the_same_orders_as_the_live_run() -> None:
    """The journal keeps only the commands that produced events (a tick or a repeated
    report that changed nothing is not replayed): the live state must not depend on them."""
    live = InstrumentVenues(SYMBOL)
    before = live.snapshot()
    hour = 3 + FINISHED_KEPT_NS
    commands: list[Command] = [
        new("o1", ts=1),
        said("new", "o1", ts=2),
        said("trade", "o1", ts=3, last_qty=10, last_px=100, cum_qty=10),
        ExpireOrders("tick", hour, SYMBOL),  # nothing to expire: not journaled
        CancelOrder("late-cancel", hour + 1, SYMBOL, "o1", "a1"),
        said("trade", "o1", ts=hour + 2, last_qty=10, last_px=100, cum_qty=10, poss_dup=True),
        CancelAll("empty", hour + 3, SYMBOL, "a9", ""),  # nothing of a9's open
        CancelOrder("later-cancel", hour + 4, SYMBOL, "o1", "a1"),
        new("o2", ts=hour + 5),
        CancelOrder("cancel-forgotten", hour + 6, SYMBOL, "o1", "a1"),
    ]
    journal: list[tuple[Command, list[Event]]] = []
    for command in commands:
        if events := run(live, command):
            journal.append((command, events))
    replayed = InstrumentVenues.restore(before)
    for command, events in journal:
        assert run(replayed, command) == events, command
    assert replayed.state_hash() == live.state_hash()


def test_no_more_than_the_newest_finished_orders_are_kept() -> None:
    v = InstrumentVenues(SYMBOL)
    for i in range(FINISHED_KEPT_MAX + 2):
        filled(v, f"o{i:05}", ts=10 + i)
    run(v, new("last", ts=20))  # anything external lets the oldest go
    kept = {row["order_id"] for row in _external_rows(v)}
    assert len(kept) == FINISHED_KEPT_MAX + 1  # (the working one too)
    assert "o00000" not in kept and "o00001" not in kept and "o00002" in kept


def _external_rows(v: InstrumentVenues) -> list[dict[str, object]]:
    rows = v.snapshot().get("external") or []
    assert isinstance(rows, list)
    return rows
