// Gap detection on the live feeds' {stream, epoch, seq} envelopes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { SequenceTracker } from "../src/sequence.js";

const msg = (seq, epoch = "e1", stream = "account:a") => ({ stream, epoch, seq });

test("contiguous messages after the REST baseline are next", () => {
  const t = new SequenceTracker();
  t.baseline("account:a", "e1", 4);
  assert.deepEqual(t.check(msg(5)), { kind: "next" });
  assert.deepEqual(t.check(msg(6)), { kind: "next" });
});

test("a jump is a gap naming what was expected; what is already held is old", () => {
  const t = new SequenceTracker();
  t.baseline("account:a", "e1", 4);
  assert.deepEqual(t.check(msg(7)), { kind: "gap", expected: 5, got: 7, epoch: "e1" });
  assert.deepEqual(t.check(msg(8)), { kind: "next" });
  assert.deepEqual(t.check(msg(3)), { kind: "old" });
});

test("a baseline never moves a stream back", () => {
  const t = new SequenceTracker();
  t.check(msg(1));
  t.check(msg(2));
  t.check(msg(3));
  t.baseline("account:a", "e1", 2); // a REST re-sync that read the state before message 3
  assert.deepEqual(t.check(msg(4)), { kind: "next" });
});

test("a new epoch is fine from seq 1 and a gap past it", () => {
  const t = new SequenceTracker();
  t.baseline("account:a", "e1", 9);
  assert.deepEqual(t.check(msg(1, "e2")), { kind: "next" });
  assert.deepEqual(t.check(msg(5, "e3")), { kind: "gap", expected: 1, got: 5, epoch: "e3" });
});

test("an instrument stream joined midway takes its first message as the baseline", () => {
  const t = new SequenceTracker();
  assert.deepEqual(t.check(msg(120, "e1", "book:AAPL")), { kind: "first" });
  assert.deepEqual(t.check(msg(121, "e1", "book:AAPL")), { kind: "next" });
});

test("a one-epoch stream (the admin stream) calls any new epoch a new epoch, then goes on", () => {
  const t = new SequenceTracker();
  t.oneEpoch("admin");
  t.baseline("admin", "e1", 3);
  assert.deepEqual(t.check(msg(4, "e1", "admin")), { kind: "next" });
  assert.deepEqual(t.check(msg(1, "e2", "admin")), { kind: "epoch", epoch: "e2", got: 1 });
  t.baseline("admin", "e2", 1); // the REST re-sync read where the new epoch stands
  assert.deepEqual(t.check(msg(2, "e2", "admin")), { kind: "next" });
  assert.deepEqual(t.check(msg(4, "e2", "admin")), { kind: "gap", expected: 3, got: 4, epoch: "e2" });
  // Other streams keep their rule: a new epoch from seq 1 is fine.
  t.baseline("account:a", "e1", 2);
  assert.deepEqual(t.check(msg(1, "e9")), { kind: "next" });
});
