// The activity log (what the page did and saw: fills, gaps, re-syncs, refusals) and the
// live-feed status in the header.

import { h, setText } from "./dom.js";

const MAX_ENTRIES = 200;

export class Activity {
  constructor() {
    this.list = h("ol", { class: "activity", role: "log", "aria-label": "Activity" });
    this.element = h(
      "section",
      { class: "panel", "aria-labelledby": "activity-title" },
      h("h2", { id: "activity-title" }, "Activity"),
      this.list,
    );
  }

  add(text, tone = "info") {
    const stamp = new Date().toLocaleTimeString([], { hour12: false });
    const entry = h("li", { class: `tone-${tone}` }, h("time", {}, stamp), " ", text);
    this.list.prepend(entry);
    while (this.list.childElementCount > MAX_ENTRIES) this.list.lastElementChild.remove();
  }
}

export class FeedStatus {
  constructor() {
    this.element = h("span", { class: "feed-status", role: "status", "aria-live": "polite" });
    this.set("connecting", "Connecting…");
  }

  set(state, text) {
    this.element.dataset.state = state;
    setText(this.element, `Live feeds: ${text}`);
  }
}
