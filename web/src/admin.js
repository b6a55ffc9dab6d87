// Administration, for admin keys only: accounts, instruments' trading state, the kill
// switch (with a confirmation), and the audit list when the API has one.

import { ApiError } from "./api.js";
import { AuditPanel } from "./audit.js";
import { fill, h, optionLabel } from "./dom.js";
import { GenericTable, KeyedTable } from "./table.js";

const STATES = ["active", "reducing", "halted"];

export class AdminPanel {
  constructor(app) {
    this.app = app;
    this.accounts = new GenericTable("Accounts", {
      preferred: ["account_id", "name", "type", "roles", "trading_state"],
      empty: "No accounts",
    });
    this.instruments = new KeyedTable("Instruments", [
      { key: "symbol", label: "Symbol", text: (i) => i.symbol },
      { key: "tick", label: "Tick size", text: (i) => i.tick_size, class: "num" },
      { key: "lot", label: "Lot size", text: (i) => i.lot_size, class: "num" },
      { key: "ref", label: "Reference price", text: (i) => i.reference_price ?? "", class: "num" },
      { key: "state", label: "Trading state", text: (i) => i.trading_state },
      {
        key: "change",
        label: "Change",
        node: (i) => {
          const select = h(
            "select",
            { "aria-label": `New trading state for ${i.symbol}` },
            STATES.map((s) => h("option", { value: s }, optionLabel(s))),
          );
          const apply = h(
            "button",
            {
              type: "button",
              class: "small",
              onclick: () =>
                this.confirm({ scope: "instrument", symbol: i.symbol, state: select.value }),
            },
            "Set",
          );
          return h("span", { class: "row-actions" }, select, apply);
        },
      },
    ]);
    this.audit = app.schema.has("get", "/api/admin/audit") ? new AuditPanel(app) : null;
    this.killSwitch = this.buildKillSwitch();
    this.dialog = this.buildDialog();
    this.element = h(
      "section",
      { class: "panel admin", "aria-labelledby": "admin-title" },
      h("h2", { id: "admin-title" }, "Admin"),
      this.killSwitch,
      h("div", { class: "table-wrap" }, this.instruments.table),
      this.accounts.element,
      this.audit
        ? this.audit.element
        : h("p", { class: "muted" }, "No audit list in this API yet (the server logs admin actions)."),
      this.dialog,
    );
  }

  buildKillSwitch() {
    const field = (label, control) => {
      control.id = `kill-${label.toLowerCase()}`;
      return h("span", { class: "field" }, h("label", { for: control.id }, label), control);
    };
    this.scope = h(
      "select",
      { onchange: () => this.syncScope() },
      ["global", "account", "instrument"].map((s) => h("option", { value: s }, optionLabel(s))),
    );
    this.account = h("select", {});
    this.symbol = h(
      "select",
      {},
      [...this.app.instruments.keys()].map((s) => h("option", { value: s }, s)),
    );
    this.state = h(
      "select",
      {},
      STATES.map((s) => h("option", { value: s }, optionLabel(s))),
    );
    this.state.value = "halted";
    this.killError = h("p", { class: "form-error", role: "alert" });
    const form = h(
      "form",
      { class: "kill-switch", "aria-label": "Kill switch", novalidate: true },
      h("h3", {}, "Kill switch"),
      h(
        "div",
        { class: "fields inline" },
        field("Scope", this.scope),
        field("Account", this.account),
        field("Instrument", this.symbol),
        field("State", this.state),
        h("button", { type: "submit", class: "danger" }, "Apply"),
      ),
      this.killError,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const change = { scope: this.scope.value, state: this.state.value };
      if (change.scope === "account") change.account_id = this.account.value;
      if (change.scope === "instrument") change.symbol = this.symbol.value;
      this.confirm(change);
    });
    this.syncScope();
    return form;
  }

  syncScope() {
    this.account.disabled = this.scope.value !== "account";
    this.symbol.disabled = this.scope.value !== "instrument";
  }

  buildDialog() {
    this.dialogText = h("p", { id: "confirm-text" });
    this.confirmButton = h("button", { type: "button", class: "danger" }, "Confirm");
    const cancel = h("button", { type: "button", class: "secondary" }, "Cancel");
    const dialog = h(
      "dialog",
      { "aria-labelledby": "confirm-title", "aria-describedby": "confirm-text" },
      h("h3", { id: "confirm-title" }, "Confirm kill switch"),
      this.dialogText,
      h("div", { class: "actions" }, cancel, this.confirmButton),
    );
    cancel.addEventListener("click", () => dialog.close());
    this.confirmButton.addEventListener("click", () => this.apply());
    return dialog;
  }

  confirm(change) {
    this.change = change;
    const target =
      change.scope === "global"
        ? "every account and instrument"
        : change.scope === "account"
          ? `account ${change.account_id}`
          : `instrument ${change.symbol}`;
    const effect = {
      halted: "new orders are refused and resting orders canceled",
      reducing: "only orders that reduce a position are accepted",
      active: "trading resumes",
    }[change.state];
    fill(this.dialogText, `Set trading to ${change.state.toUpperCase()} for ${target}: ${effect}.`);
    fill(this.killError);
    this.dialog.showModal();
  }

  async apply() {
    const change = this.change;
    this.dialog.close();
    try {
      const result = await this.app.api.post("/api/admin/trading-state", change);
      this.app.activity.add(
        `Kill switch: ${result.scope} ${result.target ?? ""} set to ${result.state}.`,
        "warn",
      );
      await this.load();
      await this.app.reloadInstruments();
    } catch (error) {
      const text = error instanceof ApiError ? `${error.detail} (${error.reason})` : error.message;
      fill(this.killError, text);
    }
  }

  async load() {
    const api = this.app.api;
    const [accounts, instruments] = await Promise.all([
      api.get("/api/admin/accounts"),
      api.get("/api/instruments"),
    ]);
    this.accounts.update(accounts.items, (a) => a.account_id);
    const chosen = this.account.value;
    fill(
      this.account,
      accounts.items.map((a) =>
        h("option", { value: a.account_id }, `${a.name} (${a.account_id})`),
      ),
    );
    if (chosen) this.account.value = chosen;
    this.instruments.update(instruments.items, (i) => i.symbol);
    if (this.audit) await this.audit.load();
  }
}
