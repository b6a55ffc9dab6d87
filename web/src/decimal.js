// Decimal strings for display, without binary floats: pad to an instrument's tick
// precision, and subtract two prices exactly.

export function decimalsOf(step) {
  return ((step || "").split(".")[1] || "").length;
}

/** "190" with tick "0.01" -> "190.00" (more decimals than the tick are kept). */
export function pad(value, decimals) {
  if (value == null || value === "" || decimals <= 0) return value ?? "";
  const [whole, fraction = ""] = String(value).split(".");
  return fraction.length >= decimals ? String(value) : `${whole}.${fraction.padEnd(decimals, "0")}`;
}

function scaled(value, decimals) {
  const negative = value.startsWith("-");
  const [whole, fraction = ""] = value.replace(/^-/, "").split(".");
  const units =
    BigInt(whole || "0") * 10n ** BigInt(decimals) +
    BigInt(fraction.padEnd(decimals, "0").slice(0, decimals) || "0");
  return negative ? -units : units;
}

/** a - b for decimal strings, with `decimals` places. */
export function subtract(a, b, decimals) {
  const places = Math.max(decimals, decimalsOf(a), decimalsOf(b));
  const diff = scaled(a, places) - scaled(b, places);
  const sign = diff < 0n ? "-" : "";
  const digits = (diff < 0n ? -diff : diff).toString().padStart(places + 1, "0");
  return places
    ? `${sign}${digits.slice(0, -places)}.${digits.slice(-places)}`
    : `${sign}${digits}`;
}
