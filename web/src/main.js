// Entry point: sign in with an API key (kept in session storage, never in the URL), then
// the trading page.

import "./style.css";
import "./perf.js";
import { Api, ApiError, loadSchema } from "./api.js";
import { App } from "./app.js";
import { fill, h } from "./dom.js";

const KEY = "oms.apiKey";
const root = document.getElementById("root");

function signInForm(message) {
  const input = h("input", {
    id: "api-key",
    name: "api-key",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    "aria-describedby": "api-key-error",
  });
  const error = h("p", { id: "api-key-error", class: "field-error" }, message || "");
  const button = h("button", { type: "submit" }, "Sign in");
  const form = h(
    "form",
    { class: "sign-in panel", "aria-label": "Sign in", novalidate: true },
    h("h1", {}, "OMS"),
    h(
      "p",
      {},
      "Sign in with your account's API key. It stays in this tab (session storage) and is sent only to this server.",
    ),
    h("div", { class: "field" }, h("label", { for: "api-key" }, "API key"), input, error),
    h("div", { class: "actions" }, button),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) {
      fill(error, "Enter an API key.");
      input.setAttribute("aria-invalid", "true");
      return;
    }
    button.disabled = true;
    fill(error);
    try {
      await open(key);
    } catch (failure) {
      fill(error, describe(failure));
      input.setAttribute("aria-invalid", "true");
      button.disabled = false;
    }
  });
  fill(root, h("main", { class: "center" }, form));
  input.focus();
}

function describe(failure) {
  if (failure instanceof ApiError) {
    return failure.status === 401
      ? "This API key is not valid."
      : `${failure.detail} (${failure.reason})`;
  }
  return `The server could not be reached: ${failure.message}`;
}

let app = null;

async function open(key) {
  const api = new Api(key);
  const [me, schema, instruments] = await Promise.all([
    api.get("/api/me"),
    loadSchema(),
    api.get("/api/instruments"),
  ]);
  sessionStorage.setItem(KEY, key);
  app = new App({ api, schema, me, instruments: instruments.items, onSignOut: signOut });
  fill(root, app.element);
  await app.start();
}

async function signOut() {
  sessionStorage.removeItem(KEY);
  if (app) await app.feeds.stop();
  app = null;
  signInForm();
}

const saved = sessionStorage.getItem(KEY);
if (saved) {
  open(saved).catch((failure) => {
    sessionStorage.removeItem(KEY);
    signInForm(describe(failure));
  });
} else {
  signInForm();
}
