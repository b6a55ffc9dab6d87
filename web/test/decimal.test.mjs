// Prices shown on the tick grid and spreads computed without binary floats.
import assert from "node:assert/strict";
import { test } from "node:test";
import { decimalsOf, pad, subtract } from "../src/decimal.js";

test("prices are padded to the tick's decimals, never rounded", () => {
  assert.equal(decimalsOf("0.01"), 2);
  assert.equal(decimalsOf("1"), 0);
  assert.equal(pad("190", 2), "190.00");
  assert.equal(pad("64998.5", 1), "64998.5");
  assert.equal(pad("0.123", 2), "0.123");
  assert.equal(pad(null, 2), "");
});

test("spreads are exact", () => {
  assert.equal(subtract("190.04", "190.03", 2), "0.01");
  assert.equal(subtract("0.3", "0.1", 1), "0.2"); // 0.3 - 0.1 in binary floats is 0.19999...
  assert.equal(subtract("65000", "64998.5", 1), "1.5");
  assert.equal(subtract("1.25", "2", 2), "-0.75");
  assert.equal(subtract("100", "99", 0), "1");
});
