// The signed-in page: state (orders, executions, books, trades), the live feeds with gap
// detection and REST re-sync, and the panels drawn from that state.

import { AccountPanel } from "./account.js";
import { Activity, FeedStatus } from "./activity.js";
import { AdminPanel } from "./admin.js";
import { AdminFeed } from "./auditfeed.js";
import { Blotter } from "./blotter.js";
import { decimalsOf, pad } from "./decimal.js";
import { h } from "./dom.js";
import { Feeds } from "./feeds.js";
import { Market, MarketWatch, normalizeTrade } from "./market.js";
import { perf } from "./perf.js";
import { SequenceTracker } from "./sequence.js";
import { Ticket } from "./ticket.js";

const TERMINAL = new Set(["filled", "canceled", "rejected", "expired", "replaced"]);
const TRADES_KEPT = 500;
const WATCH_MAX = 50; // instruments whose book and trades the page follows

export class App {
  constructor({ api, schema, me, instruments, onSignOut }) {
    this.api = api;
    this.schema = schema;
    this.me = me;
    this.isAdmin = (me.roles || []).includes("admin");
    this.instruments = new Map(instruments.map((i) => [i.symbol, i]));
    this.symbol = instruments[0]?.symbol ?? null;
    this.orders = new Map();
    this.executions = new Map();
    this.books = new Map();
    this.trades = new Map(); // symbol -> trades, newest first
    this.sequences = new SequenceTracker();
    this.accountStream = `account:${me.account_id}`;
    this.ready = false; // the account stream's baseline is set
    this.buffered = [];
    this.resyncing = null;
    this.dirty = {
      blotter: false,
      books: new Set(),
      watchRows: new Set(),
      tape: false,
      watch: false,
    };
    this.frame = 0;

    this.activity = new Activity();
    this.status = new FeedStatus();
    this.ticket = new Ticket(this);
    this.watch = new MarketWatch(this);
    this.market = new Market(this);
    this.blotter = new Blotter(this);
    this.account = new AccountPanel(this);
    this.admin = this.isAdmin ? new AdminPanel(this) : null;
    // Admins hear every audit entry live; a trader's page never asks an admin route.
    this.adminFeed =
      this.admin?.audit && schema.has("post", "/api/admin/subscriptions")
        ? new AdminFeed({
            api,
            sequences: this.sequences,
            audit: this.admin.audit,
            activity: this.activity,
          })
        : null;
    this.feeds = new Feeds(api, {
      message: (target, envelope) => this.onMessage(target, envelope),
      connected: (id, reconnected) => this.onConnected(id, reconnected),
      disconnected: (error) => this.onDisconnected(error),
      log: (level, text) => this.activity.add(text, "warn"),
    });

    this.element = h(
      "div",
      { class: "app" },
      h(
        "header",
        { class: "top" },
        h("h1", {}, "OMS"),
        h(
          "span",
          { class: "who" },
          `${me.name} · ${me.account_id}${this.isAdmin ? " · admin" : ""}`,
        ),
        this.status.element,
        h("button", { type: "button", class: "secondary small", onclick: onSignOut }, "Sign out"),
      ),
      h(
        "main",
        { class: "layout" },
        h("div", { class: "col left" }, this.ticket.element, this.watch.element),
        h("div", { class: "col middle" }, this.market.element),
        h("div", { class: "col right" }, this.account.element, this.activity.element),
        h("div", { class: "wide" }, this.account.positionsElement),
        h("div", { class: "wide" }, this.blotter.element),
        this.admin ? h("div", { class: "wide" }, this.admin.element) : null,
      ),
    );
  }

  async start() {
    this.account.renderIdentity();
    this.ticket.setSymbol(this.symbol);
    this.watch.render();
    this.market.book.render();
    const symbols = [...this.instruments.keys()].slice(0, WATCH_MAX);
    try {
      await this.feeds.start();
      await this.feeds.subscribe(symbols);
    } catch (error) {
      this.status.set("down", "unavailable");
      this.activity.add(
        `Live feeds unavailable (${error.message}); showing REST data only.`,
        "warn",
      );
      this.feeds.symbols = symbols;
      setTimeout(() => this.feeds.restart(), 5000);
    }
    await Promise.all([this.syncAccount("start"), this.loadMarket(symbols)]);
    if (this.admin) await this.admin.load();
    this.market.chart.reset();
    this.schedule();
  }

  /** A price as the instrument quotes it ("190" -> "190.00"). */
  price(symbol, value) {
    return pad(value, decimalsOf(this.instruments.get(symbol)?.tick_size));
  }

  isOpen(order) {
    return !TERMINAL.has(order.status);
  }

  // ------------------------------------------------------------------ state

  /** Keep the newer of two views of an order (by its own sequence): live messages and REST
   * pages may arrive in any order. */
  upsertOrder(order, { quiet = false } = {}) {
    if (!order || !order.order_id || order.seq == null) return;
    const known = this.orders.get(order.order_id);
    if (known && known.seq > order.seq) return;
    this.orders.set(order.order_id, { ...order, live: known?.live || !quiet });
    this.dirty.blotter = true;
    this.schedule();
  }

  addExecution(execution) {
    if (this.executions.has(execution.execution_id)) return false;
    this.executions.set(execution.execution_id, execution);
    this.dirty.blotter = true;
    this.schedule();
    return true;
  }

  addTrades(symbol, trades) {
    const held = this.trades.get(symbol) || [];
    const ids = new Set(held.map((t) => t.trade_id));
    const fresh = trades.filter((t) => !ids.has(t.trade_id));
    if (!fresh.length) return [];
    const merged = [...held, ...fresh].sort((a, b) => timeOf(b) - timeOf(a)).slice(0, TRADES_KEPT);
    this.trades.set(symbol, merged);
    return fresh;
  }

  selectSymbol(symbol) {
    if (!symbol || symbol === this.symbol || !this.instruments.has(symbol)) return;
    this.symbol = symbol;
    this.ticket.setSymbol(symbol);
    this.watch.render();
    this.market.book.render();
    this.market.tape.render();
    this.market.chart.reset();
  }

  async reloadInstruments() {
    const page = await this.api.get("/api/instruments");
    for (const instrument of page.items) this.instruments.set(instrument.symbol, instrument);
    this.watch.render();
  }

  // ------------------------------------------------------------------ REST loads

  async loadMarket(symbols) {
    await Promise.all(
      symbols.map(async (symbol) => {
        const [book, trades] = await Promise.all([
          this.api.get(`/api/book/${encodeURIComponent(symbol)}`, { depth: 10 }),
          this.api.get("/api/trades", { symbol, limit: 200 }),
        ]);
        this.applyBook(book);
        this.addTrades(symbol, trades.items.map(normalizeTrade));
      }),
    );
    this.dirty.tape = true;
    this.dirty.watch = true;
    this.schedule();
  }

  /** The account's orders, executions and positions from REST, and where its stream stands. */
  async syncAccount(why) {
    if (this.resyncing) {
      this.resyncAgain = why;
      return this.resyncing;
    }
    this.resyncing = (async () => {
      if (why !== "start") this.status.set("resync", "re-syncing…");
      const state = await this.api.get("/api/feeds/state");
      const openStatuses = (this.schema.enumNamed("OrderStatus") || []).filter(
        (s) => !TERMINAL.has(s),
      );
      const [open, executions] = await Promise.all([
        this.api.all("/api/orders", {
          status: openStatuses.length ? openStatuses : undefined,
          limit: 500,
        }),
        this.api.get("/api/executions", { limit: 200 }),
      ]);
      for (const order of open) this.upsertOrder(order, { quiet: true });
      // Orders we hold as open that REST no longer lists have ended: fetch their state.
      const listed = new Set(open.map((o) => o.order_id));
      const ended = [...this.orders.values()].filter(
        (o) => this.isOpen(o) && !listed.has(o.order_id),
      );
      await Promise.all(
        ended.map(async (o) =>
          this.upsertOrder(await this.api.get(`/api/orders/${encodeURIComponent(o.order_id)}`), {
            quiet: true,
          }),
        ),
      );
      for (const execution of executions.items) this.addExecution(execution);
      await this.blotter.loadOrders(false);
      await this.account.refresh();
      if (state.stream === this.accountStream) {
        this.sequences.baseline(state.stream, state.epoch, state.seq);
      }
      this.ready = true;
      const buffered = this.buffered.splice(0);
      for (const [target, envelope] of buffered) this.onMessage(target, envelope);
      this.status.set("live", "live");
      if (why !== "start") {
        this.activity.add(
          `Re-synced over REST: ${open.length} open orders, ${executions.items.length} executions.`,
          "ok",
        );
      }
    })();
    try {
      await this.resyncing;
    } catch (error) {
      this.status.set("down", "re-sync failed");
      this.activity.add(`Re-sync failed: ${error.message}`, "warn");
    } finally {
      this.resyncing = null;
    }
    if (this.resyncAgain) {
      const again = this.resyncAgain;
      this.resyncAgain = null;
      await this.syncAccount(again);
    }
  }

  // ------------------------------------------------------------------ live feeds

  onConnected(connectionId, reconnected) {
    this.status.set("live", "live");
    // Group membership belongs to a connection: join the admin feed with each new one.
    if (this.adminFeed) this.adminFeed.connected(connectionId);
    if (reconnected) {
      // Whatever was sent while we were away is lost to us: re-sync.
      this.activity.add("Reconnected to the live feeds.", "ok");
      this.ready = false;
      this.syncAccount("reconnect");
      this.loadMarket([...this.instruments.keys()].slice(0, WATCH_MAX));
    }
  }

  onDisconnected(error) {
    this.status.set("down", "reconnecting…");
    this.activity.add(
      `Live feeds interrupted${error ? `: ${error.message}` : ""}; reconnecting.`,
      "warn",
    );
  }

  onMessage(target, envelope) {
    if (!envelope || typeof envelope !== "object") return;
    if (target === "auditRecorded") return this.adminFeed?.onMessage(envelope);
    if (target === "book") return this.onBook(envelope);
    if (target === "trade") return this.onTrade(envelope);
    if (!this.ready) {
      this.buffered.push([target, envelope]);
      return;
    }
    const check = this.sequences.check(envelope);
    if (check.kind === "gap") {
      this.activity.add(
        `Sequence gap on the account stream: expected ${check.expected}, got ${check.got}. Re-syncing over REST.`,
        "warn",
      );
      this.syncAccount("gap");
    }
    if (target === "orderUpdated") {
      this.upsertOrder(envelope.data);
      const order = envelope.data;
      if (order.event === "rejected" || order.status === "rejected") {
        this.activity.add(
          `Order ${order.client_order_id} rejected: ${order.reject_reason ?? order.reason ?? ""}`,
          "warn",
        );
      }
    } else if (target === "executionReported") {
      const execution = envelope.data;
      if (this.addExecution(execution)) {
        this.activity.add(
          `Fill: ${execution.side} ${execution.quantity} ${execution.symbol} @ ${this.price(execution.symbol, execution.price)}.`,
          "ok",
        );
        this.account.refresh();
      }
    }
  }

  onBook(envelope) {
    perf.booksReceived += 1;
    const check = this.sequences.check(envelope);
    if (check.kind === "gap") perf.bookGaps += 1; // each book is whole: the next one repairs it
    this.applyBook(envelope.data);
  }

  applyBook(book) {
    if (!book || !book.symbol) return;
    const held = this.books.get(book.symbol);
    if (held && held.seq > book.seq) return; // older than what we show
    this.books.set(book.symbol, book);
    this.dirty.books.add(book.symbol);
    this.schedule();
  }

  onTrade(envelope) {
    const check = this.sequences.check(envelope);
    const trade = normalizeTrade(envelope.data);
    const fresh = this.addTrades(trade.symbol, [trade]);
    if (fresh.length) {
      if (trade.symbol === this.symbol) {
        this.market.chart.add(trade);
        this.dirty.tape = true;
      }
      this.dirty.watchRows.add(trade.symbol); // its last price in the watch
      this.schedule();
      this.account.markMoved(trade.symbol); // a held position's mark and P&L moved
    }
    if (check.kind === "gap") {
      this.activity.add(
        `Sequence gap on ${envelope.stream}: re-loading its trades over REST.`,
        "warn",
      );
      this.api.get("/api/trades", { symbol: trade.symbol, limit: 200 }).then((page) => {
        this.addTrades(trade.symbol, page.items.map(normalizeTrade));
        if (trade.symbol === this.symbol) this.market.chart.reset();
        this.dirty.tape = true;
        this.schedule();
      });
    }
  }

  // ------------------------------------------------------------------ drawing

  /** Draw what changed, once per frame at most (every ~250 ms when the tab is hidden). */
  schedule() {
    if (this.frame) return;
    const draw = () => {
      this.frame = 0;
      this.draw();
    };
    this.frame = document.hidden ? setTimeout(draw, 250) : requestAnimationFrame(draw);
  }

  draw() {
    const started = performance.now();
    const { dirty } = this;
    if (dirty.watch) {
      this.watch.render();
      dirty.watch = false;
    }
    for (const symbol of dirty.books) {
      this.watch.renderSymbol(symbol);
      if (symbol === this.symbol) this.market.book.render();
      perf.bookRenders += 1;
    }
    dirty.books.clear();
    for (const symbol of dirty.watchRows) this.watch.renderSymbol(symbol);
    dirty.watchRows.clear();
    if (dirty.tape) {
      this.market.tape.render();
      dirty.tape = false;
    }
    if (dirty.blotter) {
      this.blotter.render();
      dirty.blotter = false;
    }
    perf.draws += 1;
    perf.drawMs += performance.now() - started;
  }
}

function timeOf(trade) {
  return typeof trade.time === "number" ? trade.time / 1e6 : Date.parse(trade.time);
}
