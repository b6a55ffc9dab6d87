// The account: its money (GET /api/account: cash, settled and not, market values, equity,
// buying power, P&L) and its positions with their P&L (every field the API returns, the
// money columns first). Refreshed on each fill, and when a trade moves the mark of an
// instrument the account holds (at most once a second: the demo market trades a lot).

import { fill, flatten, h, humanize } from "./dom.js";
import { GenericTable } from "./table.js";

const POSITION_FIRST = [
  "symbol",
  "net_quantity",
  "average_entry_price",
  "cost_basis",
  "mark_price",
  "market_value",
  "unrealized_pnl",
  "realized_pnl",
  "fees",
  "net_pnl",
  "pnl_today",
  "unsettled_cash",
  "average_buy_price",
  "average_sell_price",
  "bought_quantity",
  "sold_quantity",
];

// The account's money, in the order a trader reads it (any other field follows).
const MONEY_FIRST = [
  "equity",
  "cash",
  "settled_cash",
  "unsettled_cash",
  "buying_power",
  "long_market_value",
  "short_market_value",
  "open_order_notional",
  "unrealized_pnl",
  "realized_pnl",
  "fees",
  "net_pnl",
  "pnl_today",
  "starting_cash",
  "net_deposits",
];
const MONEY_HIDDEN = new Set(["account_id", "currency", "as_of"]);
const MARK_REFRESH_MS = 1000;

export class AccountPanel {
  constructor(app) {
    this.app = app;
    this.positions = new GenericTable("Positions", {
      preferred: POSITION_FIRST,
      hidden: ["updated_at"],
      empty: "No positions",
      captionHidden: true,
    });
    this.moneyTitle = h("h3", { id: "money-title" }, "Money");
    this.money = h("dl", { class: "money", "aria-labelledby": "money-title" });
    this.moneyAsOf = h("p", { class: "muted as-of" });
    this.identity = h("p", { class: "identity" });
    this.element = h(
      "section",
      { class: "panel", "aria-labelledby": "account-title" },
      h("h2", { id: "account-title" }, "Account"),
      this.identity,
      h(
        "section",
        { class: "money-box", "aria-label": "Account money" },
        this.moneyTitle,
        this.money,
        this.moneyAsOf,
      ),
    );
    // Positions are wide (cost, mark, value and P&L columns): a panel across the page.
    this.positionsElement = h(
      "section",
      { class: "panel", "aria-labelledby": "positions-title" },
      h("h2", { id: "positions-title" }, "Positions"),
      this.positions.element,
    );
    this.pending = null;
    this.loading = false;
    this.again = false;
    this.held = new Set(); // symbols with a position (their marks move the P&L)
    this.markTimer = null;
  }

  renderIdentity() {
    const me = this.app.me;
    const limits = me.risk_limits
      ? ` · limits: max order notional ${me.risk_limits.max_order_notional}, credit ${me.risk_limits.credit_limit}`
      : "";
    fill(
      this.identity,
      `${me.name} (${me.type}, ${me.account_id}) · trading ${me.trading_state}${limits}`,
    );
  }

  /** Positions and money now (coalesced: many fills in a burst make one request; one asked
   * for while a load is under way runs again after it, so no fill is missed). */
  refresh() {
    if (this.pending) {
      if (this.loading) this.again = true;
      return this.pending;
    }
    this.pending = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 150));
      do {
        this.again = false;
        this.loading = true;
        try {
          await this.load();
        } finally {
          this.loading = false;
        }
      } while (this.again);
    })().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  /** A trade printed on `symbol`: its mark moved, so held positions' P&L did (throttled). */
  markMoved(symbol) {
    if (!this.held.has(symbol) || this.markTimer) return;
    this.markTimer = setTimeout(() => {
      this.markTimer = null;
      this.refresh().catch(() => {});
    }, MARK_REFRESH_MS);
  }

  async load() {
    const api = this.app.api;
    const [positions, account] = await Promise.all([
      api.get("/api/positions"),
      this.app.schema.has("get", "/api/account") ? api.get("/api/account") : Promise.resolve(null),
    ]);
    this.positions.update(positions.items, (p) => p.symbol);
    this.held = new Set(
      positions.items.filter((p) => Number(p.net_quantity) !== 0).map((p) => p.symbol),
    );
    if (account) this.renderMoney(account);
    else {
      fill(
        this.money,
        h("dt", {}, "Money"),
        h("dd", { class: "muted" }, "Balances and P&L are not in this API yet."),
      );
    }
  }

  renderMoney(account) {
    const flat = flatten(account);
    const keys = [
      ...MONEY_FIRST.filter((k) => k in flat),
      ...Object.keys(flat).filter((k) => !MONEY_FIRST.includes(k) && !MONEY_HIDDEN.has(k)),
    ];
    const currency = account.currency ? ` (${account.currency})` : "";
    fill(this.moneyTitle, `Money${currency}`);
    fill(
      this.money,
      keys.map((k) =>
        h(
          "div",
          { class: "money-item", "data-key": k },
          h("dt", {}, humanize(k)),
          h("dd", { class: signClass(k, flat[k]) }, flat[k] ?? ""),
        ),
      ),
    );
    fill(this.moneyAsOf, account.as_of ? `as of ${new Date(account.as_of).toLocaleTimeString([], { hour12: false })}` : "");
  }
}

/** P&L figures coloured by sign (the text carries the sign too). */
function signClass(key, value) {
  if (!/pnl/.test(key) || value == null) return undefined;
  const text = String(value);
  if (text.startsWith("-")) return "loss";
  return /[1-9]/.test(text) ? "gain" : undefined;
}
