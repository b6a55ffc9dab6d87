// Connects the official @microsoft/signalr client through a negotiate endpoint and prints
// what it receives as JSON lines on stdout:
//   {"event":"connected","connectionId":"..."}
//   {"event":"subscribed","status":200,"body":{...}}   (with the "subscribe" option)
//   {"event":"message","target":"orderUpdated","args":[...]}
//   {"event":"closed","error":null}
// Usage: node signalr_listen.mjs '<json options>' with options
//   {"url": "http://127.0.0.1:PORT/api", "headers": {...}, "targets": ["orderUpdated"],
//    "expect": 3, "timeoutMs": 15000,
//    "subscribe": {"url": "http://127.0.0.1:PORT/api/subscriptions", "symbols": ["AAPL"],
//                  "feeds": ["trades"]}}
// `headers` go with every HTTP request the client makes, so `{"X-API-Key": ...}` authenticates
// the POST to {url}/negotiate, which redirects the client to the hub with its token. With
// `subscribe`, once connected it POSTs its own connection id there (with the same headers).
// It stops after `expect` messages, when stdin closes, or after timeoutMs (exit code 2).
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const signalR = require(process.env.SIGNALR_MODULE || "@microsoft/signalr");

const options = JSON.parse(process.argv[2]);
const emit = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

const connection = new signalR.HubConnectionBuilder()
  .withUrl(options.url, {
    headers: options.headers || {},
    transport: signalR.HttpTransportType.WebSockets,
  })
  .withHubProtocol(new signalR.JsonHubProtocol())
  .configureLogging(signalR.LogLevel.Warning)
  .build();

let received = 0;
let stopping = false;
const stop = async (code) => {
  if (stopping) return;
  stopping = true;
  try {
    await connection.stop();
  } finally {
    process.exit(code);
  }
};

for (const target of options.targets) {
  connection.on(target, (...args) => {
    emit({ event: "message", target, args });
    received += 1;
    if (options.expect && received >= options.expect) stop(0);
  });
}
connection.onclose((error) => {
  emit({ event: "closed", error: error ? String(error) : null });
  if (!stopping) process.exit(error ? 1 : 0);
});

setTimeout(() => {
  emit({ event: "timeout", received });
  stop(2);
}, options.timeoutMs || 15000);
process.stdin.on("end", () => stop(0));
process.stdin.resume();

try {
  await connection.start();
  emit({ event: "connected", connectionId: connection.connectionId });
  if (options.subscribe) {
    const { url, ...body } = options.subscribe;
    const response = await fetch(url, {
      method: "POST",
      headers: { ...(options.headers || {}), "Content-Type": "application/json" },
      body: JSON.stringify({ connection_id: connection.connectionId, ...body }),
    });
    emit({ event: "subscribed", status: response.status, body: await response.json() });
  }
} catch (error) {
  emit({ event: "error", error: String(error) });
  process.exit(1);
}
