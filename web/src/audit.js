// The audit trail of admin actions (GET /api/admin/audit): newest first, filtered by actor,
// action and target, a page at a time (Older follows the API's cursor, Newer goes back).
// Live entries from the admin feed (auditfeed.js) join page 1 when they match its filters;
// venue alerts are marked in the list and noticed above it.

import { ApiError } from "./api.js";
import { alertText, isVenueAlert, matchesFilters, mergeEntries } from "./auditfeed.js";
import { fill, h, timeOfDay } from "./dom.js";
import { KeyedTable } from "./table.js";

const PAGE_SIZE = 20;
const MAX_ROWS = 5 * PAGE_SIZE; // page 1 grows with live entries up to this, then reloads
const RECENT_KEPT = 50; // live entries kept to merge into a page-1 answer that crossed them
const ALERTS_SHOWN = 5;
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
  // A venue alert created nothing: it names the instrument and where in its sequence.
  if (isVenueAlert(entry) && after) return `${after.symbol ?? ""} seq ${after.seq ?? "—"}`.trim();
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
    this.items = []; // the entries shown
    this.shown = null; // {index, filters} of the page shown
    this.wanted = 0; // the page last asked for
    this.recent = []; // live entries, newest last
    this.alerted = new Set(); // audit ids of the venue alerts noticed
    this.table = new KeyedTable(
      "Audit",
      [
        { key: "at", label: "Time", text: (e) => timeOfDay(e.at) },
        { key: "actor", label: "Actor", text: (e) => e.actor },
        {
          key: "action",
          label: "Action",
          // An entry never changes (rows are keyed by audit id): its cell is made once.
          node: (e) =>
            h(
              "span",
              {},
              isVenueAlert(e) ? h("span", { class: "badge alert" }, "Venue alert") : null,
              isVenueAlert(e) ? " " : null,
              e.action,
            ),
        },
        { key: "target", label: "Target", text: (e) => `${e.target_type} ${e.target_id}` },
        { key: "change", label: "Change", text: changeOf },
        { key: "detail", label: "Detail", text: (e) => e.detail },
      ],
      {
        empty: "No audit entries",
        captionHidden: true,
        rowClass: (e) => (isVenueAlert(e) ? "venue-alert" : ""),
      },
    );
    this.alerts = h("ul", { class: "venue-alerts", "aria-label": "Venue alerts" });
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
    this.feedProblem = h("p", { class: "form-error" });
    this.element = h(
      "section",
      { class: "audit", "aria-labelledby": "audit-title" },
      h("h3", { id: "audit-title" }, "Audit"),
      this.alerts,
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
      this.feedProblem,
    );
  }

  /** The filters as typed ({action: "...", ...}, blanks left out). */
  typed() {
    const filters = {};
    for (const [name, input] of this.inputs) {
      if (input.value.trim()) filters[name] = input.value.trim();
    }
    return filters;
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

  /** Page 1 again with the filters it shows, if it is the page shown (the admin feed's
   * re-sync); a later page stays as it is (Newer reloads page 1). */
  resync() {
    if (this.wanted !== 0) return Promise.resolve();
    this.cursors = [null];
    return this.show(0, null, this.shown ? this.shown.filters : this.typed());
  }

  /** Show page `index` (0-based) with `filters` (as typed unless given); going past the
   * last page shown uses `cursor`. */
  async show(index, cursor, filters = this.typed()) {
    if (index < 0) return;
    const cursors = this.cursors.slice(0, index);
    cursors.push(index < this.cursors.length ? this.cursors[index] : cursor);
    const asked = ++this.asked;
    this.wanted = index;
    let page;
    try {
      const query = { ...filters, limit: PAGE_SIZE };
      if (cursors[index]) query.cursor = cursors[index];
      page = await this.app.api.get("/api/admin/audit", query);
    } catch (error) {
      if (asked !== this.asked) return;
      this.wanted = this.shown ? this.shown.index : 0; // still the page shown before
      const text = error instanceof ApiError ? `${error.detail} (${error.reason})` : error.message;
      fill(this.error, `Audit: ${text}`);
      return;
    }
    if (asked !== this.asked) return; // a later request (another page, filter) answers instead
    this.cursors = cursors;
    this.next = page.next_cursor;
    this.shown = { index, filters };
    // Live entries that crossed this request (stored after the list was read) stay shown.
    const crossed = index === 0 ? this.recent.filter((e) => matchesFilters(e, filters)) : [];
    this.items = mergeEntries(page.items, crossed, { complete: !this.next });
    this.table.update(this.items, (e) => e.audit_id);
    fill(this.error);
    fill(this.pageLabel, `Page ${cursors.length}${this.next ? "" : " (last)"}`);
    this.newer.disabled = cursors.length <= 1;
    this.older.disabled = !this.next;
  }

  /** An entry the admin feed pushed: on top of page 1 when it matches the filters shown,
   * and noticed above the list when it is a venue alert (whatever the page and filters). */
  onLive(entry) {
    this.recent.push(entry);
    if (this.recent.length > RECENT_KEPT) this.recent.shift();
    if (isVenueAlert(entry)) this.notice(entry);
    const shown = this.shown;
    if (!shown || shown.index !== 0 || this.wanted !== 0) return;
    if (!matchesFilters(entry, shown.filters)) return;
    const items = mergeEntries(this.items, [entry], { complete: !this.next });
    if (items === this.items) return;
    this.items = items;
    this.table.update(items, (e) => e.audit_id);
    if (items.length > MAX_ROWS) this.resync(); // back to one page of rows
  }

  /** "Venue alert: ..." above the list (the latest few, each dismissable) and in Activity. */
  notice(entry) {
    if (this.alerted.has(entry.audit_id)) return; // pushed twice
    this.alerted.add(entry.audit_id);
    const text = alertText(entry);
    const dismiss = h("button", { type: "button", class: "secondary small" }, "Dismiss");
    const item = h(
      "li",
      { class: "venue-alert-notice", role: "alert" },
      h("time", {}, timeOfDay(entry.at)),
      " ",
      h("span", {}, text),
      " ",
      dismiss,
    );
    dismiss.addEventListener("click", () => item.remove());
    this.alerts.prepend(item);
    while (this.alerts.childElementCount > ALERTS_SHOWN) this.alerts.lastElementChild.remove();
    this.app.activity.add(text, "warn");
  }

  /** Why live entries do not arrive ("" when they do again). */
  feedError(text) {
    fill(this.feedProblem, text || "");
  }
}
