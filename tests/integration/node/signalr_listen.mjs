// Connects the official @microsoft/signalr client through a negotiate endpoint and prints
// what it receives as JSON lines on stdout:
//   {"event":"connected","connectionId":"..."}
//   {"event":"message","target":"orderUpdated","args":[...]}
//   {"event":"closed","error":null}
// Usage: node signalr_listen.mjs '<json options>' with options
//   {"url": "http://127.0.0.1:PORT/api", "headers": {...}, "targets": ["orderUpdated"],
//    "expect": 3, "timeoutMs": 15000}
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
} catch (error) {
  emit({ event: "error", error: String(error) });
  process.exit(1);
}
