// The live feeds over the official SignalR client: negotiate through POST /api/negotiate
// with the API key (the key never leaves this origin: the hub gets the short-lived token
// the negotiate returns), then per account orderUpdated / executionReported, and per
// instrument trade / book once subscribed with POST /api/subscriptions, and for admins
// auditRecorded once the page joins the admin feed (auditfeed.js).

import {
  HttpTransportType,
  HubConnectionBuilder,
  HubConnectionState,
  JsonHubProtocol,
  LogLevel,
} from "@microsoft/signalr";

const RETRY_MS = [0, 500, 1000, 2000, 5000, 10000];

export class Feeds {
  /**
   * handlers: {message(target, envelope), connected(connectionId, reconnected),
   * disconnected(error), log(level, text)}
   */
  constructor(api, handlers) {
    this.api = api;
    this.handlers = handlers;
    this.connection = null;
    this.token = null;
    this.symbols = [];
    this.stopped = false;
  }

  async negotiate() {
    return this.api.post("/api/negotiate");
  }

  /** Connect; `again` when an earlier connection was lost (the app re-syncs then). */
  async start(again = false) {
    this.stopped = false;
    const first = await this.negotiate();
    this.token = first.accessToken;
    const logger = {
      log: (level, message) => {
        if (level >= LogLevel.Warning) this.handlers.log(level, `SignalR: ${message}`);
      },
    };
    this.connection = new HubConnectionBuilder()
      .withUrl(first.url, {
        // The first token comes with the negotiate above; reconnects negotiate again.
        accessTokenFactory: async () => {
          if (this.token) {
            const token = this.token;
            this.token = null;
            return token;
          }
          return (await this.negotiate()).accessToken;
        },
        transport: HttpTransportType.WebSockets,
      })
      .withHubProtocol(new JsonHubProtocol())
      .withAutomaticReconnect({
        nextRetryDelayInMilliseconds: (ctx) =>
          RETRY_MS[Math.min(ctx.previousRetryCount, RETRY_MS.length - 1)],
      })
      .configureLogging(logger)
      .build();
    const targets = ["orderUpdated", "executionReported", "trade", "book", "auditRecorded"];
    for (const target of targets) {
      this.connection.on(target, (envelope) => this.handlers.message(target, envelope));
    }
    this.connection.onreconnecting((error) => this.handlers.disconnected(error));
    this.connection.onreconnected(async (connectionId) => {
      await this.subscribe(this.symbols);
      this.handlers.connected(connectionId, true);
    });
    this.connection.onclose((error) => {
      if (!this.stopped) {
        this.handlers.disconnected(error);
        setTimeout(() => this.restart(), 5000);
      }
    });
    await this.connection.start();
    if (again) await this.subscribe(this.symbols);
    this.handlers.connected(this.connection.connectionId, again);
  }

  async restart() {
    if (this.stopped) return;
    try {
      await this.start(true);
    } catch (error) {
      this.handlers.log(LogLevel.Warning, `live feeds: ${error.message}; retrying`);
      setTimeout(() => this.restart(), 5000);
    }
  }

  /** Join the trades and book feeds of `symbols` with this connection. */
  async subscribe(symbols) {
    this.symbols = symbols.slice(0, 50);
    if (!this.connection || this.connection.state !== HubConnectionState.Connected) return;
    if (!this.symbols.length) return;
    await this.api.post("/api/subscriptions", {
      connection_id: this.connection.connectionId,
      symbols: this.symbols,
      feeds: ["trades", "book"],
    });
  }

  async stop() {
    this.stopped = true;
    if (this.connection) await this.connection.stop();
  }
}
