// The order ticket: every field the API's PlaceOrder takes (read from its OpenAPI schema, so
// new order types, classes and flags appear without a change here), Preview (every
// pre-trade check the API runs, with the reasons of those that fail) and Place order.
// Errors from the API are shown as text next to the field they name.

import { ApiError } from "./api.js";
import { fill, h, humanize, optionLabel, uid } from "./dom.js";

// The core fields, labelled as traders and screen readers expect them.
const CORE = [
  { name: "symbol", label: "Symbol", kind: "select" },
  { name: "side", label: "Side", kind: "select", fallback: ["buy", "sell"] },
  {
    name: "type",
    label: "Type",
    kind: "select",
    fallback: ["limit", "market", "stop", "stop_limit"],
  },
  { name: "quantity", label: "Quantity", kind: "decimal" },
  { name: "limit_price", label: "Limit price", kind: "decimal" },
  { name: "stop_price", label: "Stop price", kind: "decimal" },
  {
    name: "time_in_force",
    label: "Time in force",
    kind: "select",
    fallback: ["day", "gtc", "ioc", "fok", "gtd"],
  },
  { name: "expire_at", label: "Expire at", kind: "datetime" },
  { name: "client_order_id", label: "Client order id", kind: "text" },
];

// Which prices an order type uses (a type this page does not know keeps both).
const PRICES = {
  market: [],
  limit: ["limit_price"],
  stop: ["stop_price"],
  stop_limit: ["limit_price", "stop_price"],
  trailing_stop: [],
};

// Fields that apply to some orders only (disabled, so not sent, otherwise).
const APPLIES = {
  trail_amount: (t) => t.value("type") === "trailing_stop",
  trail_percent: (t) => t.value("type") === "trailing_stop",
  display_quantity: (t) => t.value("type") === "limit",
  post_only: (t) => t.value("type") === "limit",
};

// A contingent group's exits (Alpaca's shape): take_profit.*, stop_loss.*.
const EXIT = /^(take_profit|stop_loss)\./;

const DEFAULTS = { side: "buy", type: "limit", time_in_force: "gtc" };

export class Ticket {
  constructor(app) {
    this.app = app;
    this.fields = new Map(); // name -> {control, error, kind, wrapper}
    this.form = h("form", { class: "ticket", "aria-label": "Order ticket", novalidate: true });
    this.message = h("p", { class: "form-message", role: "status", "aria-live": "polite" });
    this.formError = h("p", { class: "form-error", role: "alert" });
    this.preview = h("div", { class: "preview", "aria-label": "Pre-trade checks", role: "region" });
    this.previewButton = h("button", { type: "button", class: "secondary" }, "Preview");
    this.placeButton = h("button", { type: "submit" }, "Place order");

    const grid = h("div", { class: "fields" });
    const extra = this.extraFields();
    for (const def of [...CORE, ...extra.filter((d) => !EXIT.test(d.name))]) {
      grid.append(this.field(def));
    }
    const exits = extra.filter((d) => EXIT.test(d.name));
    // The exits of a bracket, OCO or OTO: enabled once an order class other than simple is chosen.
    this.exits = exits.length
      ? h(
          "fieldset",
          { class: "exits" },
          h("legend", {}, "Exits (bracket, OCO, OTO)"),
          h(
            "div",
            { class: "fields" },
            exits.map((d) => this.field(d)),
          ),
        )
      : null;
    // (append, unlike h(), would write a missing fieldset as the text "null")
    this.form.append(
      ...[grid, this.exits].filter(Boolean),
      this.formError,
      h("div", { class: "actions" }, this.previewButton, this.placeButton),
      this.message,
      this.preview,
    );
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.place();
    });
    this.previewButton.addEventListener("click", () => this.runPreview());
    this.control("type").addEventListener("change", () => this.syncEnabled());
    this.control("time_in_force").addEventListener("change", () => this.syncEnabled());
    if (this.fields.has("order_class")) {
      this.control("order_class").addEventListener("change", () => this.syncEnabled());
    }
    this.control("symbol").addEventListener("change", () => app.selectSymbol(this.value("symbol")));
    this.syncEnabled();

    this.element = h(
      "section",
      { class: "panel", "aria-labelledby": "ticket-title" },
      h("h2", { id: "ticket-title" }, "Order ticket"),
      this.form,
    );
  }

  /** PlaceOrder properties the core list does not cover (order classes, flags, legs). */
  extraFields() {
    const schema = this.app.schema;
    const model = schema.component("PlaceOrder");
    const known = new Set(CORE.map((f) => f.name));
    const extra = [];
    for (const name of Object.keys(schema.resolve(model).properties || {})) {
      if (known.has(name)) continue;
      const prop = schema.property(model, name);
      if (prop.type === "object" || prop.properties) {
        for (const sub of Object.keys(prop.properties || {})) {
          const inner = schema.property(prop, sub);
          extra.push(
            this.defFor(
              `${name}.${sub}`,
              `${humanize(name)} ${humanize(sub).toLowerCase()}`,
              inner,
            ),
          );
        }
      } else {
        extra.push(this.defFor(name, humanize(name), prop));
      }
    }
    return extra;
  }

  defFor(name, label, prop) {
    if (Array.isArray(prop.enum)) {
      // With a default (order_class: simple), the select starts there and has no blank.
      const options = prop.default != null ? prop.enum : ["", ...prop.enum];
      return { name, label, kind: "select", options, initial: prop.default };
    }
    if (prop.type === "boolean") return { name, label, kind: "checkbox" };
    if (prop.type === "integer" || prop.type === "number") return { name, label, kind: "number" };
    return { name, label, kind: "text" };
  }

  field(def) {
    const id = uid(`ticket-${def.name.replace(/\W/g, "-")}`);
    const errorId = `${id}-error`;
    let control;
    if (def.kind === "select") {
      control = h("select", { id, name: def.name, "aria-describedby": errorId });
      const values = def.options || this.optionsFor(def);
      for (const value of values) {
        control.append(
          h(
            "option",
            { value },
            value === "" ? "—" : def.name === "symbol" ? value : optionLabel(value),
          ),
        );
      }
      const initial = DEFAULTS[def.name] ?? def.initial;
      if (initial != null && values.includes(initial)) control.value = initial;
    } else if (def.kind === "checkbox") {
      control = h("input", { id, name: def.name, type: "checkbox", "aria-describedby": errorId });
    } else {
      control = h("input", {
        id,
        name: def.name,
        type: def.kind === "datetime" ? "datetime-local" : "text",
        inputmode: def.kind === "decimal" || def.kind === "number" ? "decimal" : undefined,
        autocomplete: "off",
        spellcheck: "false",
        placeholder: def.name === "client_order_id" ? "automatic" : undefined,
        "aria-describedby": errorId,
      });
    }
    const error = h("p", { id: errorId, class: "field-error" });
    const label = h("label", { for: id }, def.label);
    const wrapper = h(
      "div",
      { class: `field field-${def.kind}`, "data-field": def.name },
      def.kind === "checkbox" ? [control, label] : [label, control],
      error,
    );
    this.fields.set(def.name, { control, error, kind: def.kind, wrapper, label: def.label });
    return wrapper;
  }

  optionsFor(def) {
    if (def.name === "symbol") return [...this.app.instruments.keys()];
    const values = this.app.schema.enumOf("PlaceOrder", def.name);
    return values && values.length ? values : def.fallback;
  }

  control(name) {
    return this.fields.get(name).control;
  }

  value(name) {
    const field = this.fields.get(name);
    if (!field) return "";
    return field.kind === "checkbox" ? field.control.checked : field.control.value.trim();
  }

  setSymbol(symbol) {
    if (this.control("symbol").value !== symbol) this.control("symbol").value = symbol;
  }

  /** A price clicked in the book: into Limit price (a type that takes one, if needed). */
  setLimitPrice(price) {
    const type = this.value("type");
    if (PRICES[type] && !PRICES[type].includes("limit_price")) {
      this.control("type").value = type === "stop" ? "stop_limit" : "limit";
      this.syncEnabled();
    }
    this.control("limit_price").value = price;
    this.clearError("limit_price");
    this.control("limit_price").focus();
    fill(this.message, `Limit price set to ${price} from the book.`);
  }

  syncEnabled() {
    const prices = PRICES[this.value("type")];
    for (const name of ["limit_price", "stop_price"]) {
      this.control(name).disabled = Boolean(prices) && !prices.includes(name);
    }
    if (this.fields.has("expire_at")) {
      this.control("expire_at").disabled = this.value("time_in_force") !== "gtd";
    }
    for (const [name, applies] of Object.entries(APPLIES)) {
      if (this.fields.has(name)) this.control(name).disabled = !applies(this);
    }
    if (this.exits) {
      const order_class = this.value("order_class");
      const grouped = Boolean(order_class) && order_class !== "simple";
      for (const [name, field] of this.fields) {
        if (EXIT.test(name)) field.control.disabled = !grouped;
      }
      this.exits.classList.toggle("inactive", !grouped);
    }
  }

  /** The request body: filled, enabled fields only; dotted names nest. */
  body() {
    const body = {};
    for (const [name, field] of this.fields) {
      if (field.control.disabled) continue;
      let value = this.value(name);
      if (field.kind === "checkbox") {
        if (!value) continue;
      } else if (value === "") {
        continue;
      } else if (field.kind === "datetime") {
        value = new Date(value).toISOString();
      } else if (field.kind === "number") {
        value = Number(value);
      }
      const path = name.split(".");
      let target = body;
      for (const part of path.slice(0, -1)) target = target[part] ||= {};
      target[path.at(-1)] = value;
    }
    return body;
  }

  clearErrors() {
    for (const name of this.fields.keys()) this.clearError(name);
    fill(this.formError);
  }

  clearError(name) {
    const field = this.fields.get(name);
    fill(field.error);
    field.control.removeAttribute("aria-invalid");
  }

  /** Put each failure next to its field (text, not a browser bubble); the rest above the buttons. */
  showFailures(failures) {
    const general = [];
    for (const failure of failures) {
      const field = this.fields.get(failure.field || "");
      const text = `${failure.detail} (${failure.reason})`;
      if (field) {
        field.error.append(h("span", {}, text));
        field.control.setAttribute("aria-invalid", "true");
      } else {
        general.push(text);
      }
    }
    if (general.length) fill(this.formError, general.join(" · "));
  }

  labelOf(fieldName) {
    return this.fields.get(fieldName || "")?.label || fieldName;
  }

  async runPreview() {
    this.clearErrors();
    fill(this.message);
    fill(this.preview, h("p", {}, "Checking…"));
    try {
      const result = await this.app.api.post("/api/orders/preview", this.body());
      const notional = result.notional ? ` Notional ${result.notional}.` : "";
      const failures = result.failures || [];
      const summary = result.accepted
        ? h("p", { class: "ok" }, `Accepted: every pre-trade check passed.${notional}`)
        : h("p", { class: "refused" }, `Refused by ${failures.length} check(s).${notional}`);
      // Every check the API ran (older APIs answer only the failures: list those).
      const checks = result.checks || failures.map((f) => ({ ...f, passed: false, name: "" }));
      fill(
        this.preview,
        h("h3", {}, "Pre-trade checks"),
        summary,
        h(
          "ul",
          { class: "checks", "aria-label": "Pre-trade checks" },
          checks.map((c) => this.checkItem(c)),
        ),
      );
      this.showFailures(failures);
    } catch (error) {
      this.showApiError(error, "Preview");
      fill(this.preview);
    }
  }

  /** One check: "Passed"/"Failed", its name, the field it concerns, its reason and figures. */
  checkItem(check) {
    const name = check.name ? humanize(check.name) : check.reason;
    const field = check.field ? ` (${this.labelOf(check.field)})` : "";
    return h(
      "li",
      { class: check.passed ? "pass" : "fail", "data-check": check.name || undefined },
      h("span", { class: "verdict" }, check.passed ? "Passed" : "Failed"),
      " ",
      h("strong", {}, name),
      field,
      check.passed ? "" : [": ", h("code", {}, check.reason)],
      ` — ${check.detail}`,
    );
  }

  async place() {
    this.clearErrors();
    fill(this.preview);
    const body = this.body();
    // A client order id of our own, so a retry of this ticket can never place it twice.
    if (!body.client_order_id) body.client_order_id = `web-${crypto.randomUUID().slice(0, 18)}`;
    this.placeButton.disabled = true;
    fill(this.message, "Placing…");
    try {
      const order = await this.app.api.post("/api/orders", body);
      this.app.upsertOrder(order);
      const price = order.limit_price
        ? ` @ ${this.app.price(order.symbol, order.limit_price)}`
        : "";
      const group =
        order.order_class && order.order_class !== "simple"
          ? `, ${optionLabel(order.order_class)} with ${(order.legs || []).length} exit(s)`
          : "";
      const text = `Placed ${order.side} ${order.quantity} ${order.symbol}${price} ${optionLabel(order.type).toLowerCase()} (${order.client_order_id}${group}).`;
      fill(this.message, text);
      this.app.activity.add(text);
      this.control("client_order_id").value = "";
    } catch (error) {
      fill(this.message);
      this.showApiError(error, "Order");
    } finally {
      this.placeButton.disabled = false;
    }
  }

  showApiError(error, what) {
    if (error instanceof ApiError) {
      this.showFailures(error.failures);
      this.app.activity.add(`${what} refused: ${error.reason} — ${error.detail}`, "warn");
    } else {
      fill(this.formError, `${what} failed: ${error.message}`);
    }
  }
}
