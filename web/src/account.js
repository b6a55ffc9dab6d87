// The account: positions (every field the API returns, so P&L columns appear when the API
// adds them) and the account's money when the API has it (GET /api/account).

import { fill, flatten, h, humanize } from "./dom.js";
import { GenericTable } from "./table.js";

const POSITION_FIRST = [
  "symbol",
  "net_quantity",
  "average_entry_price",
  "average_buy_price",
  "average_sell_price",
  "market_value",
  "unrealized_pnl",
  "realized_pnl",
  "bought_quantity",
  "sold_quantity",
  "fees",
];

export class AccountPanel {
  constructor(app) {
    this.app = app;
    this.positions = new GenericTable("Positions", {
      preferred: POSITION_FIRST,
      empty: "No positions",
    });
    this.money = h("dl", { class: "money", "aria-label": "Account money" });
    this.identity = h("p", { class: "identity" });
    this.element = h(
      "section",
      { class: "panel", "aria-labelledby": "account-title" },
      h("h2", { id: "account-title" }, "Account"),
      this.identity,
      this.money,
      this.positions.element,
    );
    this.pending = null;
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

  /** Positions and money now (coalesced: many fills in a burst make one request). */
  refresh() {
    if (!this.pending) {
      this.pending = new Promise((resolve) => setTimeout(resolve, 150))
        .then(() => this.load())
        .finally(() => {
          this.pending = null;
        });
    }
    return this.pending;
  }

  async load() {
    const api = this.app.api;
    const [positions, account] = await Promise.all([
      api.get("/api/positions"),
      this.app.schema.has("get", "/api/account") ? api.get("/api/account") : Promise.resolve(null),
    ]);
    this.positions.update(positions.items, (p) => p.symbol);
    if (account) {
      const entries = Object.entries(flatten(account)).filter(
        ([k]) => !/(^|\.)account_id$/.test(k),
      );
      fill(
        this.money,
        entries.map(([k, v]) => [h("dt", {}, humanize(k)), h("dd", {}, v ?? "")]),
      );
    } else {
      fill(
        this.money,
        h("dt", {}, "Money"),
        h("dd", { class: "muted" }, "Balances and P&L are not in this API yet."),
      );
    }
  }
}
