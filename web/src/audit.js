// The audit trail of admin actions (GET /api/admin/audit): newest first, filtered by actor,
// action and target, a page at a time (Older follows the API's cursor, Newer goes back).

import { ApiError } from "./api.js";
import { fill, h, timeOfDay } from "./dom.js";
import { KeyedTable } from "./table.js";

const PAGE_SIZE = 20;
const FILTERS = [
  { name: "action", label: "Action", placeholder: "e.g. kill_switch.instrument" },
  { name: "target_type", label: "Target type", placeholder: "account, instrument…" },
  { name: "target_id", label: "Target id", placeholder: "e.g. MSFT" },
  { name: "actor", label: "Actor", placeholder: "account id" },
];

/** "trading_state: active → halted" for each field an action changed. */
export function changeOf(entry) {
  const before = entry.before || null;
  const after = entry.after || null;
  if (!before && after) {
    const name = after.name ?? after.symbol;
    return name ? `created: ${name}` : "created";
  }
  if (before && !after) return "removed";
  if (!before && !after) return "";
  const changed = [];
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const was = JSON.stringify(before[key] ?? null);
    const now = JSON.stringify(after[key] ?? null);
    if (was !== now) changed.push(`${key}: ${shown(before[key])} → ${shown(after[key])}`);
  }
  return changed.join("; ");
}

function shown(value) {
  if (value == null) return "—";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

export class AuditPanel {
  constructor(app) {
    this.app = app;
    this.cursors = [null]; // the cursor of each page shown so far (page 1: none)
    this.next = null;
    this.asked = 0; // requests made: only the latest one's answer is shown
    this.touched = false; // the user filtered or paged (the first load leaves that alone)
    this.loaded = false;
    this.table = new KeyedTable(
      "Audit",
      [
        { key: "at", label: "Time", text: (e) => timeOfDay(e.at) },
        { key: "actor", label: "Actor", text: (e) => e.actor },
        { key: "action", label: "Action", text: (e) => e.action },
        { key: "target", label: "Target", text: (e) => `${e.target_type} ${e.target_id}` },
        { key: "change", label: "Change", text: changeOf },
        { key: "detail", label: "Detail", text: (e) => e.detail },
      ],
      { empty: "No audit entries", captionHidden: true },
    );
    this.inputs = new Map();
    this.filters = h(
      "form",
      { class: "audit-filters", "aria-label": "Audit filters", novalidate: true },
      h(
        "div",
        { class: "fields inline" },
        FILTERS.map((f) => {
          const input = h("input", {
            id: `audit-${f.name}`,
            type: "text",
            autocomplete: "off",
            placeholder: f.placeholder,
          });
          this.inputs.set(f.name, input);
          return h(
            "span",
            { class: "field" },
            h("label", { for: input.id }, f.label),
            input,
          );
        }),
        h("button", { type: "submit", class: "secondary" }, "Filter"),
      ),
    );
    this.filters.addEventListener("submit", (event) => {
      event.preventDefault();
      this.touched = true;
      this.first();
    });
    this.newer = h("button", { type: "button", class: "secondary small" }, "Newer");
    this.older = h("button", { type: "button", class: "secondary small" }, "Older");
    this.newer.disabled = this.older.disabled = true;
    this.pageLabel = h("span", { class: "muted", role: "status" });
    this.newer.addEventListener("click", () => {
      this.touched = true;
      this.show(this.cursors.length - 2);
    });
    this.older.addEventListener("click", () => {
      this.touched = true;
      this.show(this.cursors.length, this.next);
    });
    this.error = h("p", { class: "form-error", role: "alert" });
    this.element = h(
      "section",
      { class: "audit", "aria-labelledby": "audit-title" },
      h("h3", { id: "audit-title" }, "Audit"),
      this.filters,
      h("div", { class: "table-wrap" }, this.table.table),
      h(
        "nav",
        { class: "pager", "aria-label": "Audit pages" },
        this.newer,
        this.pageLabel,
        this.older,
      ),
      this.error,
    );
  }

  query(cursor) {
    const query = { limit: PAGE_SIZE };
    for (const [name, input] of this.inputs) {
      if (input.value.trim()) query[name] = input.value.trim();
    }
    if (cursor) query.cursor = cursor;
    return query;
  }

  /** Page 1 with the filters as they stand (after an admin action); the page's first load
   * leaves alone a page the user filtered or paged to already. */
  load() {
    const skip = !this.loaded && this.touched;
    this.loaded = true;
    return skip ? Promise.resolve() : this.first();
  }

  /** Page 1 with the filters as they stand (after an admin action, or Filter). */
  first() {
    this.cursors = [null];
    return this.show(0);
  }

  /** Show page `index` (0-based); going past the last page shown uses `cursor`. */
  async show(index, cursor) {
    if (index < 0) return;
    const cursors = this.cursors.slice(0, index);
    cursors.push(index < this.cursors.length ? this.cursors[index] : cursor);
    const asked = ++this.asked;
    let page;
    try {
      page = await this.app.api.get("/api/admin/audit", this.query(cursors[index]));
    } catch (error) {
      if (asked !== this.asked) return;
      const text = error instanceof ApiError ? `${error.detail} (${error.reason})` : error.message;
      fill(this.error, `Audit: ${text}`);
      return;
    }
    if (asked !== this.asked) return; // a later request (another page, filter) answers instead
    this.cursors = cursors;
    this.next = page.next_cursor;
    this.table.update(page.items, (e) => e.audit_id);
    fill(this.error);
    fill(this.pageLabel, `Page ${cursors.length}${this.next ? "" : " (last)"}`);
    this.newer.disabled = cursors.length <= 1;
    this.older.disabled = !this.next;
  }
}
