// The admin feed's logic: which entries are venue alerts, which join page 1, and when the
// audit list re-syncs over REST (a gap, a new epoch) against an API that answers in memory.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  AdminFeed,
  alertText,
  isVenueAlert,
  matchesFilters,
  mergeEntries,
} from "../src/auditfeed.js";
import { SequenceTracker } from "../src/sequence.js";

const entry = (at, over = {}) => ({
  audit_id: `${String(at).padStart(20, "0")}-abc`,
  at: new Date(at / 1e6).toISOString(),
  actor: "admin",
  action: "account.updated",
  target_type: "account",
  target_id: "acc-1",
  before: null,
  after: null,
  detail: "",
  ...over,
});

const unknownOrder = entry(5e18, {
  actor: "venue:fixv1",
  action: "venue.unknown_venue_order",
  target_type: "venue_order",
  target_id: "EX-7",
  detail: "UNKNOWN_VENUE_ORDER: status EX-7 exec 0",
});

test("a venue alert is an entry a venue connection recorded, not an admin's venue change", () => {
  assert.equal(isVenueAlert(unknownOrder), true);
  assert.equal(isVenueAlert(entry(1, { action: "venue.defined" })), false); // by an admin
  assert.equal(isVenueAlert(entry(1, { actor: "venue:x", action: "account.updated" })), false);
  assert.equal(isVenueAlert(null), false);
  assert.equal(
    alertText(unknownOrder),
    "Venue alert: UNKNOWN_VENUE_ORDER: status EX-7 exec 0 (venue fixv1, venue_order EX-7)",
  );
});

test("a venue's connection lost is an alert; coming back is not", () => {
  const by = { actor: "gateway:gw-1", target_type: "venue", target_id: "fixv1" };
  const lost = entry(6e18, { ...by, action: "venue.disconnected", detail: "logon refused" });
  assert.equal(isVenueAlert(lost), true);
  assert.equal(alertText(lost), "Venue alert: fixv1 disconnected: logon refused");
  assert.equal(isVenueAlert(entry(7e18, { ...by, action: "venue.connected" })), false);
});

test("filters match exactly, as the API's do; blank filters match anything", () => {
  const e = entry(1);
  assert.equal(matchesFilters(e, {}), true);
  assert.equal(matchesFilters(e, { action: "account.updated", target_id: "acc-1" }), true);
  assert.equal(matchesFilters(e, { action: "account" }), false);
  assert.equal(matchesFilters(e, { actor: "someone" }), false);
});

test("live entries join page 1 newest first, once each, never one that belongs further down", () => {
  const page = [entry(30), entry(20), entry(10)];
  const merged = mergeEntries(page, [entry(40), entry(40), entry(25)], { complete: false });
  assert.deepEqual(
    merged.map((e) => e.audit_id),
    [entry(40), entry(30), entry(25), entry(20), entry(10)].map((e) => e.audit_id),
  );
  // Older than the page's last entry: it is on a later page (unless the page is the list).
  assert.equal(mergeEntries(page, [entry(5)], { complete: false }), page);
  assert.equal(mergeEntries(page, [entry(5)], { complete: true }).length, 4);
  assert.equal(mergeEntries(page, [entry(30)], { complete: true }), page); // pushed twice
});

/** The API as the admin feed uses it, in memory: where the stream stands, and the calls. */
function world() {
  const calls = [];
  const state = { stream: "admin", epoch: "e1", seq: 2 };
  const api = {
    async post(path, body) {
      calls.push(["POST", path, body]);
      return {};
    },
    async get(path) {
      calls.push(["GET", path]);
      return { ...state };
    },
  };
  const audit = {
    shown: [],
    resyncs: 0,
    problem: "",
    async resync() {
      this.resyncs += 1;
    },
    onLive(e) {
      this.shown.push(e.audit_id);
    },
    feedError(text) {
      this.problem = text;
    },
  };
  const log = [];
  const activity = { add: (text, tone) => log.push([tone, text]) };
  const feed = new AdminFeed({ api, sequences: new SequenceTracker(), audit, activity });
  return { calls, state, audit, log, feed };
}

const pushed = (seq, e, epoch = "e1") => ({ stream: "admin", epoch, seq, data: e });

test("the feed joins as the page's account, then reads the state, then the list", async () => {
  const { calls, audit, feed } = world();
  await feed.connected("conn-1");
  assert.deepEqual(calls, [
    ["POST", "/api/admin/subscriptions", {}],
    ["GET", "/api/admin/feeds/state"],
  ]);
  assert.equal(audit.resyncs, 1);
  feed.onMessage(pushed(3, entry(3)));
  assert.deepEqual(audit.shown, [entry(3).audit_id]);
  // A new connection (after a reconnect) joins again (the account may have left meanwhile).
  await feed.connected("conn-2");
  assert.deepEqual(calls[2], ["POST", "/api/admin/subscriptions", {}]);
  assert.equal(audit.resyncs, 2);
});

test("messages that come while the feed syncs wait for the baseline", async () => {
  const { audit, feed, log } = world();
  const syncing = feed.connected("conn-1");
  feed.onMessage(pushed(2, entry(2))); // numbered before the state read: in the list too
  feed.onMessage(pushed(3, entry(3)));
  await syncing;
  assert.deepEqual(audit.shown, [entry(2).audit_id, entry(3).audit_id]);
  assert.deepEqual(log, []); // no gap
  assert.equal(audit.resyncs, 1);
});

test("a gap in seq re-syncs the list over REST and says so", async () => {
  const { audit, feed, log, state } = world();
  await feed.connected("conn-1");
  state.seq = 5;
  feed.onMessage(pushed(5, entry(5))); // 3 and 4 were lost
  await feed.syncing;
  assert.equal(audit.resyncs, 2);
  assert.match(log[0][1], /Sequence gap on the admin stream: expected 3, got 5/);
  assert.deepEqual(log[1], ["ok", "Audit list re-synced over REST."]);
  assert.deepEqual(audit.shown, [entry(5).audit_id]); // the live entry is shown all the same
  feed.onMessage(pushed(6, entry(6)));
  assert.equal(audit.resyncs, 2); // contiguous again
});

test("a new epoch of the admin stream re-syncs even from seq 1", async () => {
  const { audit, feed, log, state } = world();
  await feed.connected("conn-1");
  Object.assign(state, { epoch: "e2", seq: 1 });
  feed.onMessage(pushed(1, entry(7), "e2"));
  await feed.syncing;
  assert.equal(audit.resyncs, 2);
  assert.match(log[0][1], /New epoch on the admin stream \(e2\)/);
  feed.onMessage(pushed(2, entry(8), "e2"));
  assert.equal(audit.resyncs, 2);
});

test("a refused join is shown in the panel, not thrown", async () => {
  const { audit, feed, log } = world();
  feed.api.post = async () => {
    throw new Error("the server could not be reached");
  };
  await feed.connected("conn-1");
  assert.match(audit.problem, /Live audit entries unavailable: the server could not be reached/);
  assert.match(log[0][1], /Admin feed/);
  assert.equal(audit.resyncs, 0);
});
