// The admin feed on the page (admin keys only): the page's account joins the admin stream
// (POST /api/admin/subscriptions: the admin group holds users, never single connections, so
// the server can take an account off when it loses the admin role), every audit entry
// then arrives as `auditRecorded` and goes to the top of the audit list, and a jump in the
// stream's seq or a new epoch re-syncs the list over REST (GET /api/admin/feeds/state, then
// page 1 of GET /api/admin/audit). What a venue said that no order of ours could take
// (`venue.*` by `venue:<name>`), and a venue's connection lost, is a venue alert: marked in
// the list and noticed in the panel.

import { ApiError } from "./api.js";

export const ADMIN_STREAM = "admin";
const MAX_BUFFERED = 500; // messages held while a (re-)sync runs

/** An entry recorded by a venue connection (actor `venue:<name>`, action `venue.*`), or a
 * venue's connection lost (`venue.disconnected` by `gateway:<replica>`); not an admin
 * changing a venue's definition (`venue.defined` by an account), nor a venue coming back. */
export function isVenueAlert(entry) {
  if (typeof entry?.action !== "string" || typeof entry.actor !== "string") return false;
  if (entry.actor.startsWith("gateway:")) return entry.action === "venue.disconnected";
  return entry.action.startsWith("venue.") && entry.actor.startsWith("venue:");
}

/** The panel's notice for a venue alert: "Venue alert: <detail> (<venue>, <target>)", or
 * "Venue alert: <venue> disconnected: <error>". */
export function alertText(entry) {
  if (entry.actor.startsWith("gateway:")) {
    const why = entry.detail ? `: ${entry.detail}` : "";
    return `Venue alert: ${entry.target_id} disconnected${why}`;
  }
  const venue = entry.actor.slice("venue:".length);
  const what = entry.detail || entry.action;
  return `Venue alert: ${what} (venue ${venue}, ${entry.target_type} ${entry.target_id})`;
}

/** Whether an entry matches every filter given ({action: "account.updated", ...}; the API's
 * filters are exact matches). */
export function matchesFilters(entry, filters) {
  for (const [name, value] of Object.entries(filters || {})) {
    if (value && String(entry[name] ?? "") !== value) return false;
  }
  return true;
}

/** Newest first, as the API lists them: an audit id starts with its time in ns, zero-padded. */
function newestFirst(a, b) {
  return a.audit_id < b.audit_id ? 1 : a.audit_id > b.audit_id ? -1 : 0;
}

/**
 * The entries of page 1 with `fresh` ones merged in, newest first, each audit id once (an
 * entry may be pushed twice). Unless the page holds the whole list (`complete`), an entry
 * older than the page's last one belongs to a later page and is left out. Returns `items`
 * itself when nothing changed.
 */
export function mergeEntries(items, fresh, { complete }) {
  const ids = new Set(items.map((e) => e.audit_id));
  const last = items[items.length - 1];
  const added = fresh.filter((e) => {
    if (!e?.audit_id || ids.has(e.audit_id)) return false;
    if (!complete && last && e.audit_id < last.audit_id) return false;
    ids.add(e.audit_id);
    return true;
  });
  if (!added.length) return items;
  return [...items, ...added].sort(newestFirst);
}

/**
 * The admin stream for one page: joins it (as the page's account, again with each new
 * connection), numbers its messages with the page's SequenceTracker, and re-syncs the audit list over REST on a gap or a new
 * epoch. `audit` is the AuditPanel (resync(), onLive(entry), feedError(text)); `activity`
 * the page's log (add(text, tone)).
 */
export class AdminFeed {
  constructor({ api, sequences, audit, activity }) {
    this.api = api;
    this.sequences = sequences;
    this.audit = audit;
    this.activity = activity;
    this.sequences.oneEpoch(ADMIN_STREAM);
    this.connectionId = null;
    this.joined = null; // the connection the admin feed was last joined for
    this.ready = false; // the stream's baseline is set: messages are numbered
    this.buffered = [];
    this.syncing = null;
    this.again = null;
  }

  /** The page's connection is up (first time, or again with a new id): join again and
   * re-sync (whatever was pushed while we were away is lost to us). */
  connected(connectionId) {
    this.connectionId = connectionId;
    this.ready = false;
    return this.sync(this.joined ? "reconnect" : "start");
  }

  /** Join (once per connection), read where the stream stands, then reload page 1. */
  async sync(why) {
    if (this.syncing) {
      this.again = why;
      return this.syncing;
    }
    this.syncing = (async () => {
      const id = this.connectionId;
      if (id && this.joined !== id) {
        await this.api.post("/api/admin/subscriptions", {}); // again after a reconnect
        this.joined = id;
      }
      // The state first, the list after: an entry numbered up to the state's seq is stored
      // already (it is in the list), a later one comes live.
      const state = await this.api.get("/api/admin/feeds/state");
      await this.audit.resync();
      this.sequences.baseline(state.stream, state.epoch, state.seq);
      this.ready = true;
      for (const envelope of this.buffered.splice(0)) this.onMessage(envelope);
      this.audit.feedError("");
      if (why === "gap") this.activity.add("Audit list re-synced over REST.", "ok");
    })();
    try {
      await this.syncing;
    } catch (error) {
      const text = error instanceof ApiError ? `${error.detail} (${error.reason})` : error.message;
      this.audit.feedError(`Live audit entries unavailable: ${text}`);
      this.activity.add(`Admin feed: ${text}`, "warn");
    } finally {
      this.syncing = null;
    }
    if (this.again) {
      const again = this.again;
      this.again = null;
      await this.sync(again);
    }
  }

  /** An `auditRecorded` envelope {stream: "admin", epoch, seq, data: entry}. */
  onMessage(envelope) {
    if (!envelope || typeof envelope !== "object" || envelope.stream !== ADMIN_STREAM) return;
    if (!this.ready) {
      this.buffered.push(envelope);
      if (this.buffered.length > MAX_BUFFERED) this.buffered.shift(); // the sync reloads
      return;
    }
    const check = this.sequences.check(envelope);
    if (check.kind === "gap" || check.kind === "epoch") {
      this.activity.add(
        check.kind === "gap"
          ? `Sequence gap on the admin stream: expected ${check.expected}, got ${check.got}. Re-syncing the audit list over REST.`
          : `New epoch on the admin stream (${check.epoch}). Re-syncing the audit list over REST.`,
        "warn",
      );
      this.sync("gap");
    }
    // Every entry is shown, an "old" one too: entries are keyed by audit id, and a late
    // message is still a real entry.
    if (envelope.data) this.audit.onLive(envelope.data);
  }
}
