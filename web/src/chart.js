// Candles built from the trades of the ticket's symbol, drawn by lightweight-charts.
// Prices become JavaScript numbers here for drawing only; nothing is computed from them.

import { CandlestickSeries, ColorType, createChart } from "lightweight-charts";
import { h } from "./dom.js";
import { epochMs } from "./dom.js";

const INTERVALS = { "5s": 5, "1m": 60, "5m": 300 };

export class CandleChart {
  constructor(app) {
    this.app = app;
    this.seconds = 5;
    this.element = h("div", {
      class: "chart",
      role: "img",
      "aria-label": "Candle chart of the trades",
    });
    const id = "chart-interval";
    this.interval = h(
      "select",
      { id, onchange: () => this.changeInterval() },
      Object.keys(INTERVALS).map((k) => h("option", { value: k }, k)),
    );
    this.controls = h(
      "span",
      { class: "filter" },
      h("label", { for: id }, "Candle interval"),
      this.interval,
    );
    this.chart = null;
    this.symbol = null;
    this.last = null;
  }

  ensure() {
    if (this.chart) return;
    this.chart = createChart(this.element, {
      autoSize: true,
      layout: {
        background: { type: ColorType.Solid, color: "#10151c" },
        textColor: "#c9d3df",
        fontSize: 11,
        // The attribution is a line of text under the chart: the logo's inline <style>
        // would need 'unsafe-inline' in the page's Content-Security-Policy.
        attributionLogo: false,
      },
      localization: {
        timeFormatter: (t) => new Date(t * 1000).toLocaleTimeString([], { hour12: false }),
      },
      grid: { vertLines: { color: "#1c2530" }, horzLines: { color: "#1c2530" } },
      timeScale: {
        timeVisible: true,
        secondsVisible: true,
        borderColor: "#2a3542",
        barSpacing: 12,
        rightOffset: 4,
        tickMarkFormatter: (t) => new Date(t * 1000).toLocaleTimeString([], { hour12: false }),
      },
      rightPriceScale: { borderColor: "#2a3542" },
      crosshair: { mode: 0 },
    });
    this.series = this.chart.addSeries(CandlestickSeries, {
      upColor: "#2fbf71",
      downColor: "#e5534b",
      wickUpColor: "#2fbf71",
      wickDownColor: "#e5534b",
      borderVisible: false,
    });
  }

  changeInterval() {
    this.seconds = INTERVALS[this.interval.value];
    this.reset();
  }

  bucket(trade) {
    return Math.floor(epochMs(trade.time) / 1000 / this.seconds) * this.seconds;
  }

  /** Redraw from every trade held for the symbol (on a symbol or interval change, re-sync). */
  reset() {
    this.ensure();
    this.symbol = this.app.symbol;
    const trades = [...(this.app.trades.get(this.symbol) || [])].reverse(); // oldest first
    const candles = [];
    for (const trade of trades) {
      const time = this.bucket(trade);
      const price = Number(trade.price);
      const last = candles.at(-1);
      if (last && last.time === time) {
        last.high = Math.max(last.high, price);
        last.low = Math.min(last.low, price);
        last.close = price;
      } else if (!last || time > last.time) {
        candles.push({ time, open: price, high: price, low: price, close: price });
      }
    }
    this.series.setData(candles);
    this.last = candles.at(-1) || null;
    if (candles.length > 40) this.chart.timeScale().fitContent();
  }

  /** One new trade of the shown symbol. */
  add(trade) {
    if (!this.chart || trade.symbol !== this.symbol) return;
    const time = this.bucket(trade);
    const price = Number(trade.price);
    if (this.last && time < this.last.time) return; // older than the chart's last candle
    if (this.last && this.last.time === time) {
      this.last = {
        time,
        open: this.last.open,
        high: Math.max(this.last.high, price),
        low: Math.min(this.last.low, price),
        close: price,
      };
    } else {
      this.last = { time, open: price, high: price, low: price, close: price };
    }
    this.series.update(this.last);
  }
}
