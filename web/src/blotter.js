// The blotter: open orders (cancel, and replace in place), every order with filters, and
// executions; all kept live from orderUpdated / executionReported by the app.

import { ApiError } from "./api.js";
import { fill, h, humanize, optionLabel, setText, timeOfDay } from "./dom.js";
import { KeyedTable } from "./table.js";
import { decimalsOf, pad } from "./decimal.js";

const byNewest = (a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0);

function orderColumns(app) {
  const price = (symbol, value) => pad(value, decimalsOf(app.instruments.get(symbol)?.tick_size));
  return [
    { key: "time", label: "Time", text: (o) => timeOfDay(o.created_at) },
    { key: "symbol", label: "Symbol", text: (o) => o.symbol },
    { key: "side", label: "Side", text: (o) => o.side, class: "side" },
    { key: "type", label: "Type", text: (o) => optionLabel(o.type) },
    { key: "quantity", label: "Quantity", text: (o) => o.quantity, class: "num" },
    {
      key: "limit_price",
      label: "Limit price",
      text: (o) => price(o.symbol, o.limit_price),
      class: "num",
    },
    {
      key: "stop_price",
      label: "Stop price",
      text: (o) => price(o.symbol, o.stop_price),
      class: "num",
    },
    { key: "filled", label: "Filled", text: (o) => o.filled_quantity, class: "num" },
    { key: "leaves", label: "Leaves", text: (o) => o.leaves_quantity, class: "num" },
    {
      key: "avg",
      label: "Avg price",
      text: (o) => price(o.symbol, o.average_fill_price),
      class: "num",
    },
    {
      key: "status",
      label: "Status",
      text: (o) => optionLabel(o.status) + (o.reject_reason ? ` (${o.reject_reason}${o.reject_text ? `: ${o.reject_text}` : ""})` : ""),
    },
    ...(hasOrderClasses(app)
      ? [{ key: "class", label: "Class", text: (o) => classOf(o) }]
      : []),
    { key: "tif", label: "TIF", text: (o) => optionLabel(o.time_in_force) },
    {
      key: "client_order_id",
      label: "Client order id",
      text: (o) => o.client_order_id,
      class: "id",
    },
  ];
}

/** Whether the API's orders have classes (brackets, OCO, OTO). */
function hasOrderClasses(app) {
  const schema = app.schema;
  return Boolean(schema.resolve(schema.component("OrderOut")).properties?.order_class);
}

/** "Bracket · take profit" for a group's order; "" for a simple one. */
export function classOf(order) {
  if (!order.order_class || order.order_class === "simple") return "";
  const leg = order.leg ? ` · ${humanize(order.leg).toLowerCase()}` : "";
  return `${optionLabel(order.order_class)}${leg}`;
}

/** One open order's row controls: Cancel, and Replace turning its cells into inputs. */
class OrderActions {
  constructor(blotter, order, tr) {
    this.blotter = blotter;
    this.orderId = order.order_id;
    this.tr = tr;
    this.editing = false;
    this.error = h("span", { class: "row-error", role: "alert" });
    this.cancel = h(
      "button",
      { type: "button", class: "small", onclick: () => this.doCancel() },
      "Cancel",
    );
    this.replace = h(
      "button",
      { type: "button", class: "small", onclick: () => this.startEdit() },
      "Replace",
    );
    this.element = h("span", { class: "row-actions" }, this.cancel, this.replace, this.error);
  }

  order() {
    return this.blotter.app.orders.get(this.orderId);
  }

  async doCancel() {
    fill(this.error);
    this.cancel.disabled = true;
    try {
      const order = await this.blotter.app.api.delete(
        `/api/orders/${encodeURIComponent(this.orderId)}`,
      );
      this.blotter.app.upsertOrder(order);
      this.blotter.app.activity.add(`Cancel sent for ${order.client_order_id}.`);
    } catch (error) {
      this.showError(error);
    } finally {
      this.cancel.disabled = false;
    }
  }

  startEdit() {
    if (this.editing) return;
    const order = this.order();
    this.editing = true;
    fill(this.error);
    const name = order.client_order_id;
    const make = (field, label, value) => {
      const input = h("input", {
        type: "text",
        inputmode: "decimal",
        class: "cell-input",
        value: value ?? "",
        "aria-label": `${label} for ${name}`,
      });
      input.dataset.field = field;
      return input;
    };
    this.inputs = {
      quantity: make("quantity", "New quantity", order.quantity),
      limit_price:
        order.limit_price != null
          ? make("limit_price", "New limit price", order.limit_price)
          : null,
      stop_price:
        order.stop_price != null ? make("stop_price", "New stop price", order.stop_price) : null,
    };
    this.original = {
      quantity: order.quantity,
      limit_price: order.limit_price,
      stop_price: order.stop_price,
    };
    const cells = this.blotter.open.rows.get(this.orderId).cells;
    const columns = this.blotter.open.columns.map((c) => c.key);
    for (const [field, input] of Object.entries(this.inputs)) {
      if (input) fill(cells[columns.indexOf(field)], input);
    }
    this.save = h(
      "button",
      { type: "button", class: "small", onclick: () => this.doReplace() },
      "Save",
    );
    this.discard = h(
      "button",
      { type: "button", class: "small secondary", onclick: () => this.endEdit() },
      "Discard",
    );
    fill(this.element, this.save, this.discard, this.error);
    this.inputs.quantity.focus();
    this.inputs.quantity.select();
  }

  endEdit() {
    this.editing = false;
    fill(this.error);
    fill(this.element, this.cancel, this.replace, this.error);
    const row = this.blotter.open.rows.get(this.orderId);
    if (row) {
      for (const cell of row.cells) if (cell.querySelector("input")) fill(cell);
      this.blotter.open.fillRow(row, this.order());
    }
  }

  async doReplace() {
    const change = {};
    for (const [field, input] of Object.entries(this.inputs)) {
      if (input && input.value.trim() !== "" && input.value.trim() !== this.original[field]) {
        change[field] = input.value.trim();
      }
    }
    if (!Object.keys(change).length) {
      this.endEdit();
      return;
    }
    fill(this.error);
    this.save.disabled = true;
    try {
      const order = await this.blotter.app.api.patch(
        `/api/orders/${encodeURIComponent(this.orderId)}`,
        change,
      );
      this.endEdit();
      this.blotter.app.upsertOrder(order);
      this.blotter.app.activity.add(
        `Replace sent for ${order.client_order_id}: ${Object.entries(change)
          .map(([k, v]) => `${k} ${v}`)
          .join(", ")}.`,
      );
    } catch (error) {
      this.showError(error);
    } finally {
      if (this.save) this.save.disabled = false;
    }
  }

  showError(error) {
    if (!(error instanceof ApiError)) {
      fill(this.error, error.message);
      return;
    }
    for (const input of Object.values(this.inputs || {})) input?.removeAttribute("aria-invalid");
    const failure = error.failures[0];
    const input = this.inputs?.[failure.field];
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", this.errorId());
    }
    fill(this.error, `${failure.detail} (${failure.reason})`);
    this.blotter.app.activity.add(`Refused: ${failure.reason} — ${failure.detail}`, "warn");
  }

  errorId() {
    if (!this.error.id) this.error.id = `row-error-${this.orderId}`;
    return this.error.id;
  }
}

export class Blotter {
  constructor(app) {
    this.app = app;
    this.actions = new Map(); // order id -> OrderActions
    const open = orderColumns(app);
    open.push({
      key: "actions",
      label: "Actions",
      node: (order, tr) => {
        const actions = new OrderActions(this, order, tr);
        this.actions.set(order.order_id, actions);
        return actions.element;
      },
    });
    this.open = new KeyedTable("Open orders", open, {
      empty: "No open orders",
      rowClass: (o) => `side-${o.side}`,
    });
    // Cells being edited keep their inputs: fill only the others.
    const fillRow = this.open.fillRow.bind(this.open);
    this.open.fillRow = (row, item) => {
      const actions = this.actions.get(item.order_id);
      if (actions?.editing) {
        row.item = item;
        this.open.columns.forEach((column, index) => {
          if (column.text && !row.cells[index].querySelector("input"))
            setText(row.cells[index], column.text(item));
        });
      } else {
        fillRow(row, item);
      }
    };

    this.all = new KeyedTable("Orders", orderColumns(app), {
      empty: "No orders match",
      rowClass: (o) => `side-${o.side}`,
    });
    this.executions = new KeyedTable(
      "Executions",
      [
        { key: "time", label: "Time", text: (e) => timeOfDay(e.executed_at) },
        { key: "symbol", label: "Symbol", text: (e) => e.symbol },
        { key: "side", label: "Side", text: (e) => e.side, class: "side" },
        { key: "quantity", label: "Quantity", text: (e) => e.quantity, class: "num" },
        {
          key: "price",
          label: "Price",
          text: (e) => pad(e.price, decimalsOf(app.instruments.get(e.symbol)?.tick_size)),
          class: "num",
        },
        { key: "liquidity", label: "Liquidity", text: (e) => optionLabel(e.liquidity) },
        { key: "fee", label: "Fee", text: (e) => e.fee, class: "num" },
        {
          key: "order",
          label: "Order",
          text: (e) => this.app.orders.get(e.order_id)?.client_order_id ?? e.order_id,
          class: "id",
        },
        { key: "execution_id", label: "Execution id", text: (e) => e.execution_id, class: "id" },
      ],
      { empty: "No executions yet", rowClass: (e) => `side-${e.side}` },
    );

    this.filters = this.buildFilters();
    this.loadMore = h(
      "button",
      {
        type: "button",
        class: "secondary small",
        hidden: true,
        onclick: () => this.loadOrders(true),
      },
      "Load more",
    );
    this.element = h(
      "section",
      { class: "panel blotter", "aria-labelledby": "blotter-title" },
      h("h2", { id: "blotter-title" }, "Blotter"),
      h("div", { class: "table-wrap" }, this.open.table),
      h("div", { class: "orders-head" }, this.filters),
      h("div", { class: "table-wrap tall" }, this.all.table),
      this.loadMore,
      h("div", { class: "table-wrap tall" }, this.executions.table),
    );
    this.cursor = null;
  }

  buildFilters() {
    const statuses = this.app.schema.enumNamed("OrderStatus") || [
      "pending_new",
      "new",
      "partially_filled",
      "filled",
      "pending_cancel",
      "canceled",
      "pending_replace",
      "replaced",
      "rejected",
      "expired",
    ];
    const select = (label, values) => {
      const id = `orders-filter-${label.toLowerCase()}`;
      const control = h(
        "select",
        { id, onchange: () => this.loadOrders(false) },
        h("option", { value: "" }, "All"),
        values.map((v) => h("option", { value: v }, label === "Symbol" ? v : optionLabel(v))),
      );
      return {
        control,
        element: h("span", { class: "filter" }, h("label", { for: id }, label), control),
      };
    };
    this.statusFilter = select("Status", statuses);
    this.symbolFilter = select("Symbol", [...this.app.instruments.keys()]);
    this.sideFilter = select("Side", ["buy", "sell"]);
    return h(
      "div",
      { class: "filters", role: "group", "aria-label": "Order filters" },
      h("strong", {}, "Filters"),
      this.statusFilter.element,
      this.symbolFilter.element,
      this.sideFilter.element,
    );
  }

  filterQuery() {
    return {
      status: this.statusFilter.control.value || undefined,
      symbol: this.symbolFilter.control.value || undefined,
      side: this.sideFilter.control.value || undefined,
    };
  }

  matches(order) {
    const q = this.filterQuery();
    return (
      (!q.status || order.status === q.status) &&
      (!q.symbol || order.symbol === q.symbol) &&
      (!q.side || order.side === q.side)
    );
  }

  /** The Orders table's page from REST (with the filters); more pages on "Load more". */
  async loadOrders(more) {
    const query = { ...this.filterQuery(), limit: 100, cursor: more ? this.cursor : undefined };
    const page = await this.app.api.get("/api/orders", query);
    this.cursor = page.next_cursor;
    this.loadMore.hidden = !this.cursor;
    this.shown = more ? this.shown : new Set();
    for (const order of page.items) {
      this.app.upsertOrder(order, { quiet: true });
      this.shown.add(order.order_id);
    }
    this.render();
  }

  render() {
    const orders = [...this.app.orders.values()];
    this.open.update(orders.filter((o) => this.app.isOpen(o)).sort(byNewest), (o) => o.order_id);
    for (const id of this.actions.keys()) if (!this.open.rows.has(id)) this.actions.delete(id);
    // Orders: the loaded pages plus whatever arrived live since, that match the filters.
    const shown = orders.filter((o) => this.matches(o) && (this.shown?.has(o.order_id) || o.live));
    this.all.update(shown.sort(byNewest), (o) => o.order_id);
    const executions = [...this.app.executions.values()].sort((a, b) =>
      a.executed_at < b.executed_at ? 1 : a.executed_at > b.executed_at ? -1 : 0,
    );
    this.executions.update(executions.slice(0, 500), (e) => e.execution_id);
  }
}
