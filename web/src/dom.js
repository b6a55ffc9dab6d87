// Small DOM helpers: the page is plain DOM, no framework.

/** An element with attributes (`on*` are listeners) and children (nodes or text). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** Replace an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Set text only when it changed (no layout work for unchanged cells). */
export function setText(el, text) {
  const value = text == null ? "" : String(text);
  if (el.textContent !== value) el.textContent = value;
}

/** "net_quantity" -> "Net quantity"; "risk_limits.burst" -> "Risk limits burst";
 * "unrealized_pnl" -> "Unrealized P&L". */
export function humanize(key) {
  const words = key
    .replace(/[._]+/g, " ")
    .trim()
    .replace(/\bpnl\b/gi, "P&L");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

// Time-in-force and order-class codes read as traders write them.
const CODES = new Set(["day", "gtc", "ioc", "fok", "gtd", "opg", "cls", "oco", "oto"]);

/** An option label: "stop_limit" -> "Stop limit", "gtc" -> "GTC". */
export function optionLabel(value) {
  return CODES.has(value) ? value.toUpperCase() : humanize(String(value));
}

/** A time of day from an RFC 3339 string or epoch nanoseconds. */
export function timeOfDay(value) {
  if (value == null) return "";
  const date = typeof value === "number" ? new Date(value / 1e6) : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleTimeString([], { hour12: false });
}

/** Epoch milliseconds from an RFC 3339 string or epoch nanoseconds. */
export function epochMs(value) {
  return typeof value === "number" ? value / 1e6 : Date.parse(value);
}

/** Flatten nested objects into "a.b" keys (arrays joined), for generic tables. */
export function flatten(obj, prefix = "", out = {}) {
  for (const [key, value] of Object.entries(obj || {})) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (value && typeof value === "object" && !Array.isArray(value)) flatten(value, name, out);
    else out[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

let ids = 0;
/** A unique element id with a readable prefix. */
export function uid(prefix) {
  ids += 1;
  return `${prefix}-${ids}`;
}
