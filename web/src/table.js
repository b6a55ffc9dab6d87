// Tables with rows keyed by id: a change rewrites only the cells whose text changed, so
// live updates cost little and a row's own controls (buttons, inputs) survive them.

import { h, humanize, setText, flatten } from "./dom.js";

export class KeyedTable {
  /**
   * columns: [{key, label, text?(row) -> string, node?(row, tr) -> Node (made once per row),
   * class?}]
   */
  constructor(caption, columns, { empty = "None", rowClass, captionHidden = false } = {}) {
    this.columns = columns;
    this.rowClass = rowClass;
    this.rows = new Map(); // key -> {tr, cells}
    this.body = h("tbody");
    this.emptyRow = h("tr", { class: "empty" }, h("td", { colspan: columns.length }, empty));
    this.table = h(
      "table",
      { class: "grid" },
      h("caption", { class: captionHidden ? "visually-hidden" : undefined }, caption),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          columns.map((c) => h("th", { scope: "col", class: c.class }, c.label)),
        ),
      ),
      this.body,
    );
    this.body.append(this.emptyRow);
  }

  /** Show exactly `items` in this order; `keyOf(item)` names a row. */
  update(items, keyOf) {
    const seen = new Set();
    let previous = null;
    for (const item of items) {
      const key = keyOf(item);
      seen.add(key);
      let row = this.rows.get(key);
      if (!row) {
        row = this.makeRow(item);
        this.rows.set(key, row);
      }
      this.fillRow(row, item);
      const expected = previous ? previous.nextSibling : this.body.firstChild;
      if (expected !== row.tr) {
        if (previous) previous.after(row.tr);
        else this.body.prepend(row.tr);
      }
      previous = row.tr;
    }
    for (const [key, row] of this.rows) {
      if (!seen.has(key)) {
        row.tr.remove();
        this.rows.delete(key);
      }
    }
    if (items.length) this.emptyRow.remove();
    else if (!this.emptyRow.isConnected) this.body.append(this.emptyRow);
  }

  makeRow(item) {
    const tr = h("tr");
    const cells = this.columns.map((column) => {
      const td = h("td", { class: column.class });
      if (column.node) td.append(column.node(item, tr));
      tr.append(td);
      return td;
    });
    return { tr, cells, item };
  }

  fillRow(row, item) {
    row.item = item;
    if (this.rowClass) row.tr.className = this.rowClass(item);
    this.columns.forEach((column, index) => {
      if (column.text) setText(row.cells[index], column.text(item));
    });
  }
}

/**
 * A table of whatever fields the API returns (flattened), known ones first: new fields an
 * API version adds show up as new columns without a change here.
 */
export class GenericTable {
  constructor(caption, { preferred = [], empty = "None", hidden = [], captionHidden = false } = {}) {
    this.caption = caption;
    this.captionHidden = captionHidden;
    this.preferred = preferred;
    this.hidden = new Set(hidden);
    this.empty = empty;
    this.element = h("div", { class: "table-wrap" });
    this.signature = "";
    this.table = null;
  }

  update(items, keyOf) {
    const flat = items.map((item) => flatten(item));
    const keys = new Set();
    for (const row of flat) for (const key of Object.keys(row)) keys.add(key);
    const ordered = [
      ...this.preferred.filter((k) => keys.has(k)),
      ...[...keys].filter((k) => !this.preferred.includes(k)),
    ].filter((k) => !this.hidden.has(k));
    const signature = ordered.join("|");
    if (!this.table || signature !== this.signature) {
      this.signature = signature;
      const columns = ordered.map((key) => ({
        key,
        label: humanize(key),
        text: (row) => row[key] ?? "",
        class: /price|quantity|notional|pnl|value|cash|fee|equity|power/.test(key)
          ? "num"
          : undefined,
      }));
      this.table = new KeyedTable(
        this.caption,
        columns.length ? columns : [{ key: "-", label: "", text: () => "" }],
        { empty: this.empty, captionHidden: this.captionHidden },
      );
      this.element.replaceChildren(this.table.table);
    }
    this.table.update(flat, (row, i) => (keyOf ? keyOf(row) : JSON.stringify(row)));
  }
}
