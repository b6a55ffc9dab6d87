// The market of the ticket's symbol (following it): the L2 ladder (click a price to put it
// in the ticket), the trades tape and a candle chart; and a market watch of every
// instrument. Books arrive many times a second: they are drawn at most once per frame,
// by rewriting the text of a fixed set of rows.

import { h, setText, timeOfDay } from "./dom.js";
import { KeyedTable } from "./table.js";
import { CandleChart } from "./chart.js";
import { decimalsOf, pad, subtract } from "./decimal.js";

const DEPTH = 10;
const TAPE = 50;

export class MarketWatch {
  constructor(app) {
    this.app = app;
    this.table = new KeyedTable(
      "Market watch",
      [
        {
          key: "symbol",
          label: "Symbol",
          node: (row) =>
            h(
              "button",
              { type: "button", class: "link", onclick: () => app.selectSymbol(row.symbol) },
              row.symbol,
            ),
        },
        { key: "bid", label: "Bid", text: (r) => r.bid, class: "num bid" },
        { key: "ask", label: "Ask", text: (r) => r.ask, class: "num ask" },
        { key: "last", label: "Last", text: (r) => r.last, class: "num" },
        { key: "state", label: "State", text: (r) => r.state },
      ],
      { rowClass: (r) => (r.symbol === app.symbol ? "selected" : ""), captionHidden: true },
    );
    this.element = h(
      "section",
      { class: "panel", "aria-labelledby": "watch-title" },
      h("h2", { id: "watch-title" }, "Market watch"),
      this.table.table,
    );
  }

  rowFor(symbol) {
    const book = this.app.books.get(symbol);
    const instrument = this.app.instruments.get(symbol);
    const trades = this.app.trades.get(symbol);
    const places = decimalsOf(instrument?.tick_size);
    return {
      symbol,
      bid: pad(book?.bids?.[0]?.price, places),
      ask: pad(book?.asks?.[0]?.price, places),
      last: pad(trades?.[0]?.price ?? book?.last_price, places),
      state: instrument?.trading_state ?? "",
    };
  }

  render() {
    const rows = [...this.app.instruments.keys()].map((s) => this.rowFor(s));
    this.table.update(rows, (r) => r.symbol);
  }

  /** One instrument's row only (the hot path: a book or a trade arrived). */
  renderSymbol(symbol) {
    const row = this.table.rows.get(symbol);
    if (row) this.table.fillRow(row, this.rowFor(symbol));
    else this.render();
  }
}

export class OrderBook {
  constructor(app) {
    this.app = app;
    this.title = h("h2", { id: "book-title" }, "Order book");
    this.spread = h("td", { colspan: 4, class: "spread" });
    this.asks = [];
    this.bids = [];
    const body = h("tbody");
    const makeRow = (side) => {
      const price = h("button", {
        type: "button",
        class: `price ${side}`,
        onclick: () => this.pick(price),
      });
      const cells = {
        orders: h("td", { class: "num muted" }),
        bid: h("td", { class: "num bid" }),
        price: h("td", { class: "num" }, price),
        ask: h("td", { class: "num ask" }),
      };
      const tr = h(
        "tr",
        { class: `level ${side}`, hidden: true },
        cells.orders,
        cells.bid,
        cells.price,
        cells.ask,
      );
      return { tr, cells, price };
    };
    for (let i = 0; i < DEPTH; i += 1) this.asks.push(makeRow("ask"));
    for (let i = 0; i < DEPTH; i += 1) this.bids.push(makeRow("bid"));
    for (const row of [...this.asks].reverse()) body.append(row.tr);
    body.append(h("tr", { class: "spread-row" }, this.spread));
    for (const row of this.bids) body.append(row.tr);
    this.table = h(
      "table",
      { class: "ladder" },
      h("caption", { class: "visually-hidden" }, "Price ladder"),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["Orders", "Bid size", "Price", "Ask size"].map((t) => h("th", { scope: "col" }, t)),
        ),
      ),
      body,
    );
    this.element = h(
      "section",
      { class: "panel book", role: "region", "aria-label": "Order book" },
      this.title,
      this.table,
      h("p", { class: "hint" }, "Click a price to put it in the ticket's limit price."),
    );
  }

  pick(button) {
    if (button.textContent) this.app.ticket.setLimitPrice(button.textContent);
  }

  render() {
    const symbol = this.app.symbol;
    setText(this.title, `Order book — ${symbol ?? ""}`);
    const book = this.app.books.get(symbol) || { bids: [], asks: [] };
    const places = this.decimals(symbol);
    const fillSide = (rows, levels, side) => {
      rows.forEach((row, i) => {
        const level = levels[i];
        if (!level) {
          if (!row.tr.hidden) row.tr.hidden = true;
          return;
        }
        if (row.tr.hidden) row.tr.hidden = false;
        setText(row.price, pad(level.price, places));
        setText(row.cells.orders, level.orders);
        setText(row.cells.bid, side === "bid" ? level.quantity : "");
        setText(row.cells.ask, side === "ask" ? level.quantity : "");
      });
    };
    fillSide(this.asks, book.asks || [], "ask");
    fillSide(this.bids, book.bids || [], "bid");
    const bid = book.bids?.[0]?.price;
    const ask = book.asks?.[0]?.price;
    const last = this.app.trades.get(symbol)?.[0]?.price ?? book.last_price;
    const parts = [];
    if (bid && ask) parts.push(`Spread ${subtract(ask, bid, places)}`);
    if (last) parts.push(`Last ${pad(last, places)}`);
    if (!bid && !ask) parts.push("No orders in the book");
    setText(this.spread, parts.join(" · "));
  }

  decimals(symbol) {
    return decimalsOf(this.app.instruments.get(symbol)?.tick_size);
  }
}

export class Tape {
  constructor(app) {
    this.app = app;
    this.table = new KeyedTable(
      "Trades",
      [
        { key: "time", label: "Time", text: (t) => timeOfDay(t.time) },
        {
          key: "price",
          label: "Price",
          text: (t) => pad(t.price, decimalsOf(app.instruments.get(t.symbol)?.tick_size)),
          class: "num",
        },
        { key: "quantity", label: "Quantity", text: (t) => t.quantity, class: "num" },
        { key: "side", label: "Taker", text: (t) => t.side, class: "side" },
      ],
      { empty: "No trades yet", rowClass: (t) => `side-${t.side}`, captionHidden: true },
    );
    this.element = h("div", { class: "table-wrap tape" }, this.table.table);
  }

  render() {
    const trades = (this.app.trades.get(this.app.symbol) || []).slice(0, TAPE);
    this.table.update(trades, (t) => t.trade_id);
  }
}

export class Market {
  constructor(app) {
    this.app = app;
    this.book = new OrderBook(app);
    this.tape = new Tape(app);
    this.chart = new CandleChart(app);
    this.element = h(
      "div",
      { class: "market" },
      this.book.element,
      h(
        "section",
        { class: "panel", "aria-labelledby": "chart-title" },
        h(
          "div",
          { class: "panel-head" },
          h("h2", { id: "chart-title" }, "Price chart"),
          this.chart.controls,
        ),
        this.chart.element,
        h(
          "p",
          { class: "hint" },
          "Charts: TradingView Lightweight Charts™, Copyright (c) TradingView, Inc. ",
          h(
            "a",
            { href: "https://www.tradingview.com/", rel: "noopener noreferrer", target: "_blank" },
            "tradingview.com",
          ),
        ),
      ),
      h(
        "section",
        { class: "panel", "aria-labelledby": "tape-title" },
        h("h2", { id: "tape-title" }, "Trades"),
        this.tape.element,
      ),
    );
  }
}

/** A trade from the live feed or from REST, in one shape. */
export function normalizeTrade(t) {
  return {
    trade_id: t.trade_id,
    symbol: t.symbol,
    price: t.price,
    quantity: t.quantity,
    side: t.aggressor_side ?? t.taker_side ?? "",
    time: t.ts ?? t.executed_at,
  };
}
