// The event-socket demo page. It uses the package's public API only, as a web app would.
//
// Everything a server sends is put on the page with textContent (or as an <img> src checked to be
// a data:image URL), never as HTML.

import init, { configure, socket } from "./pkg/event_socket.js";

const EVENTS = ["connection.update", "qrcode.updated", "messages.upsert", "presence.update", "chats.upsert"];
const RETRY_MS = 1000; // first retry delay, for the chat and the events
const MAX_MESSAGES = 200; // chat messages kept on the page
const MAX_EVENTS = 40; // incoming messages kept on the page
const STORE_KEY = "event-socket-demo:settings";

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------- settings

const DEFAULTS = { server: "", instance: "demo", token: "", echo: "" };

/** Settings: the page address wins, then localStorage, then the defaults. */
function loadSettings() {
  let stored = {};
  try {
    stored = JSON.parse(localStorage.getItem(STORE_KEY) || "{}") || {};
  } catch {
    stored = {};
  }
  const q = new URLSearchParams(location.search);
  const pick = (k) => {
    const v = q.get(k) ?? stored[k] ?? DEFAULTS[k];
    return typeof v === "string" ? v.trim() : DEFAULTS[k];
  };
  return { server: pick("server"), instance: pick("instance") || "demo", token: pick("token"), echo: pick("echo") };
}

function saveSettings(s) {
  try {
    localStorage.setItem(STORE_KEY, JSON.stringify(s));
  } catch {
    /* private mode: the address bar still keeps the rest */
  }
  // server, instance and echo go in the address so that a link reproduces the setup; the token never does
  const q = new URLSearchParams(location.search);
  for (const k of ["server", "instance", "echo"]) {
    if (s[k] && s[k] !== DEFAULTS[k]) q.set(k, s[k]);
    else q.delete(k);
  }
  q.delete("token");
  const search = q.toString();
  history.replaceState(null, "", `${location.pathname}${search ? `?${search}` : ""}${location.hash}`);
}

/** A ws(s):// base from what the user typed (http(s) is turned into ws(s)); "" means this page's server. */
function normalizeBase(raw) {
  const v = raw.trim().replace(/\/+$/, "");
  if (!v) return "";
  let url;
  try {
    url = new URL(v);
  } catch {
    throw new Error(`"${raw}" is not a URL: use ws://host:port or wss://host:port`);
  }
  if (url.protocol === "http:") url.protocol = "ws:";
  else if (url.protocol === "https:") url.protocol = "wss:";
  else if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    throw new Error(`"${raw}" must start with ws://, wss://, http:// or https://`);
  }
  url.search = "";
  url.hash = "";
  return url.toString().replace(/\/+$/, "");
}

/** Where the event sockets connect: `<base>/ws/events`, or page-relative `/ws/events`. */
function eventsUrl(s) {
  const base = normalizeBase(s.server);
  if (!base) return "/ws/events";
  return /\/ws\/events$/.test(base) ? base : `${base}/ws/events`;
}

/** Where the development token comes from: the event server's `/dev/token` over HTTP(S). */
function devTokenUrl(s) {
  const q = `/dev/token?instance=${encodeURIComponent(s.instance)}`;
  const base = normalizeBase(s.server);
  if (!base) return q;
  const url = new URL(base);
  url.protocol = url.protocol === "wss:" ? "https:" : "http:";
  url.pathname = url.pathname.replace(/\/ws\/events$/, "");
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}${q}`;
}

function echoUrl(s) {
  const v = s.echo.trim();
  if (!v) return "/echo";
  if (v.startsWith("/")) return v;
  return normalizeBase(v);
}

// ---------------------------------------------------------------- small DOM helpers

/** An element with text content (never HTML). */
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

const clock = (d = new Date()) => d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });

function setBadge(badge, state) {
  badge.dataset.state = state;
  badge.textContent = state;
}

function showError(node, message) {
  node.textContent = message;
  node.hidden = !message;
}

// ---------------------------------------------------------------- the chat

const chat = {
  sub: null,
  countdown: null,
  list: $("messages"),
  status: $("status"),
  statusText: $("status-text"),
  badge: $("chat-badge"),
  form: $("chat-form"),
  input: $("message"),
  send: $("send"),
  close: $("close"),
  connect: $("connect"),
};

/** The socket's address without its query (event= and token=, which the library adds). */
function displayUrl(url) {
  const i = url.indexOf("?");
  return i < 0 ? url : url.slice(0, i);
}

function chatStatus(state, text) {
  clearInterval(chat.countdown);
  chat.countdown = null;
  chat.status.dataset.state = state;
  chat.statusText.textContent = text;
}

function addChatMessage(kind, text, note) {
  chat.list.querySelector(".empty")?.remove();
  const li = el("li", `msg ${kind}`);
  const meta = el("div", "meta");
  meta.append(el("span", "who", kind === "sent" ? "You" : kind === "received" ? "Echo" : "Note"));
  meta.append(el("time", "when", clock()));
  if (note) meta.append(el("span", "tag", note));
  li.append(meta, el("p", "text", text));
  chat.list.append(li);
  while (chat.list.children.length > MAX_MESSAGES) chat.list.firstElementChild.remove();
  chat.list.scrollTop = chat.list.scrollHeight;
  return li;
}

function chatControls(open) {
  // open: the subscription exists (connecting, open or reconnecting); else closed for good
  chat.close.hidden = !open;
  chat.connect.hidden = open;
  chat.input.disabled = !open;
  chat.send.disabled = !open;
}

function connectChat() {
  const s = settings;
  let url;
  try {
    url = echoUrl(s);
  } catch (e) {
    chatStatus("closed", `Cannot connect: ${e.message}`);
    chatControls(false);
    return;
  }
  chatStatus("connecting", "Connecting…");
  setBadge(chat.badge, "connecting");
  chatControls(true);
  try {
    const sub = socket(
      "chat",
      (text) => {
        addChatMessage("received", typeof text === "string" ? text : "(binary message)");
      },
      {
        url,
        token: "", // the echo server needs none (and configure()'s event token is not for it)
        parse: "text",
        reconnectInterval: RETRY_MS,
        maxReconnectInterval: 10000,
        onOpen: () => {
          if (chat.sub !== sub) return;
          chatStatus("open", `Connected to ${displayUrl(sub.url)}`);
          chat.statusText.title = sub.url;
        },
        onClose: (ev, { willReconnect }) => {
          if (chat.sub !== sub || willReconnect) return; // onReconnect tells the rest
          const why = ev && ev.code && ev.code !== 1000 && ev.code !== 1005 ? ` (code ${ev.code})` : "";
          chatStatus("closed", `Disconnected${why}`);
          chatControls(false);
        },
        onReconnect: ({ attempt, delay }) => {
          if (chat.sub !== sub) return;
          let left = Math.max(1, Math.ceil(delay / 1000));
          chatStatus("reconnecting", `Reconnecting in ${left} s (attempt ${attempt})`);
          chat.countdown = setInterval(() => {
            left -= 1;
            if (left >= 1) chat.statusText.textContent = `Reconnecting in ${left} s (attempt ${attempt})`;
            else {
              clearInterval(chat.countdown);
              chat.statusText.textContent = `Reconnecting… (attempt ${attempt})`;
            }
          }, 1000);
        },
        onStateChange: (state) => {
          if (chat.sub !== sub) return;
          setBadge(chat.badge, state);
          if (state === "connecting" && chat.status.dataset.state !== "reconnecting") chatStatus("connecting", "Connecting…");
          if (state === "closed") {
            if (chat.status.dataset.state !== "closed") chatStatus("closed", "Disconnected");
            chatControls(false);
          }
        },
        onError: (err) => {
          if (chat.sub !== sub) return;
          if (err.kind === "retries-exhausted") {
            chatStatus("closed", "Disconnected: the server could not be reached");
          }
          console.warn(`chat: ${err.kind}: ${err.message}`);
        },
      },
    );
    chat.sub = sub;
  } catch (e) {
    chatStatus("closed", `Cannot connect: ${e.message}`);
    setBadge(chat.badge, "closed");
    chatControls(false);
  }
}

chat.form.addEventListener("submit", (e) => {
  e.preventDefault();
  const text = chat.input.value;
  if (!text.trim() || !chat.sub) return;
  const state = chat.sub.state;
  if (chat.sub.send(text)) {
    addChatMessage("sent", text, state === "open" ? null : "queued");
    chat.input.value = "";
  } else {
    addChatMessage("note", "Not sent: the connection is closed or its queue is full.");
  }
  chat.input.focus();
});

chat.close.addEventListener("click", () => {
  chat.sub?.close(1000, "closed by the user");
});

chat.connect.addEventListener("click", () => {
  connectChat();
  chat.input.focus();
});

$("clear").addEventListener("click", () => {
  chat.list.replaceChildren(el("li", "empty", "No messages yet. Say hello!"));
});

// ---------------------------------------------------------------- live events

const live = {
  subs: [],
  error: $("live-error"),
  counts: Object.fromEntries(EVENTS.map((e) => [e, 0])),
};

const row = (event) => document.querySelector(`.subs li[data-event="${event}"]`);

function bump(event) {
  live.counts[event] += 1;
  row(event).querySelector(".count").textContent = String(live.counts[event]);
}

function onConnectionUpdate(data) {
  const state = typeof data?.state === "string" ? data.state : "unknown";
  const pill = $("instance-state");
  pill.dataset.state = ["open", "connecting", "close"].includes(state) ? state : "unknown";
  pill.textContent = state;
  $("instance-reason").textContent = data?.statusReason !== undefined ? `status ${data.statusReason}` : "";
  $("instance-updated").textContent = `Updated ${clock()}`;
  // a short history of the changes (not of every repeat)
  const history = $("instance-history");
  if (history.firstElementChild?.dataset.state !== state) {
    const li = el("li");
    li.dataset.state = state;
    li.append(el("span", "h-state", state), el("span", "h-reason", data?.statusReason ?? ""), el("time", "when", clock()));
    history.prepend(li);
    while (history.children.length > 4) history.lastElementChild.remove();
  }
}

function onQrCode(data) {
  const img = $("qr-img");
  const src = data?.base64;
  if (typeof src !== "string" || !/^data:image\/(png|jpeg|gif|webp);base64,/.test(src)) return;
  img.src = src;
  img.alt = `QR code ${data.count ?? ""} to pair instance ${settings.instance}`;
  img.hidden = false;
  $("qr-placeholder").hidden = true;
  const caption = $("qr-caption");
  caption.replaceChildren();
  caption.append(el("span", null, `#${data.count ?? "?"} · ${clock()}`));
  if (typeof data.code === "string") {
    const code = el("code", "qr-code", data.code);
    code.title = data.code;
    caption.append(code);
  }
  // Pairing by phone number: the server sends the code as `paringCode` (sic).
  if (typeof data.paringCode === "string") {
    caption.append(el("span", null, "or pair with the code "), el("strong", "pairing", data.paringCode));
  }
}

function onMessage(data) {
  const list = $("wa-messages");
  list.querySelector(".empty")?.remove();
  // No push name for some senders; chats WhatsApp knows only by LID have no keyRemoteJid.
  const name = String(data?.pushName || data?.keyRemoteJid || data?.keyLid || "Unknown");
  const text = data?.content?.text ?? data?.content?.caption ?? `(${data?.messageType ?? "message"})`;
  const jid = typeof data?.keyRemoteJid === "string" ? `+${data.keyRemoteJid.replace(/@.*$/, "")}` : data?.keyLid ? "LID" : "";
  const ts = Number(data?.messageTimestamp);
  const when = Number.isFinite(ts) && ts > 0 ? new Date(ts * 1000) : new Date();

  const li = el("li", `wa${data?.keyFromMe ? " mine" : ""}`);
  const avatar = el("span", "avatar", Array.from(name.trim())[0]?.toUpperCase() || "?");
  avatar.setAttribute("aria-hidden", "true");
  avatar.style.setProperty("--hue", String(hash(name) % 360));
  const body = el("div", "wa-body");
  const head = el("div", "wa-head");
  head.append(el("strong", "sender", name));
  if (jid) head.append(el("span", "jid", jid));
  head.append(el("time", "when", clock(when)));
  body.append(head, el("p", "text", String(text)));
  li.append(avatar, body);
  list.prepend(li);
  while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
}

/** Prepends a text row to a short list (at most `max`), replacing its placeholder. */
function prependRow(list, text, max = 5) {
  list.querySelector(".empty")?.remove();
  const li = el("li");
  li.append(el("span", "h-state", text), el("time", "when", clock()));
  list.prepend(li);
  while (list.children.length > max) list.lastElementChild.remove();
}

function onPresence(data) {
  for (const [who, p] of Object.entries(data?.presences ?? {})) {
    prependRow($("presence"), `${who.replace(/@.*$/, "")} ${p?.lastKnownPresence ?? "?"}`);
  }
}

/** chats.upsert: an array of chat rows. */
function onChats(rows) {
  for (const chat of Array.isArray(rows) ? rows : []) {
    const unread = chat?.content?.unreadCount;
    prependRow($("chats"), `${String(chat?.remoteJid ?? "?").replace(/@.*$/, "")}${unread ? ` (${unread} unread)` : ""}`);
  }
}

function hash(s) {
  let h = 0;
  for (const c of s) h = (h * 31 + c.codePointAt(0)) >>> 0;
  return h;
}

const HANDLERS = {
  "connection.update": onConnectionUpdate,
  "qrcode.updated": onQrCode,
  "messages.upsert": onMessage,
  "presence.update": onPresence,
  "chats.upsert": onChats,
};

/** A token function: a fresh development token before every attempt (the server's /dev/token). */
function devToken(s) {
  const url = devTokenUrl(s);
  return async () => {
    const res = await fetch(url, { cache: "no-store" });
    if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
    const body = await res.json();
    if (typeof body?.token !== "string") throw new Error(`GET ${url}: no token in the answer`);
    return body.token;
  };
}

/** Each subscription's role across tabs, and how many tabs share the sockets (tabs come and go
 * without a state change, so this also runs every second). */
function showRoles() {
  let tabs = 1;
  for (const sub of live.subs) {
    const role = row(sub.eventName)?.querySelector(".role");
    if (role && role.textContent !== sub.role) {
      role.textContent = sub.role;
      role.dataset.role = sub.role;
    }
    tabs = Math.max(tabs, sub.tabs);
  }
  $("tabs-count").textContent = tabs > 1 ? `${tabs} tabs share them now.` : "Only this tab now.";
}
setInterval(showRoles, 1000);

function startLive() {
  for (const sub of live.subs) sub.close();
  live.subs = [];
  showError(live.error, "");
  $("instance-name").textContent = settings.instance;
  try {
    configure({
      url: eventsUrl(settings),
      token: settings.token || devToken(settings),
      reconnectInterval: RETRY_MS,
    });
  } catch (e) {
    showError(live.error, `Cannot connect: ${e.message}`);
    for (const event of EVENTS) setBadge(row(event).querySelector(".badge"), "closed");
    return;
  }
  for (const event of EVENTS) {
    const badge = row(event).querySelector(".badge");
    setBadge(badge, "connecting");
    try {
      const sub = socket(
        event,
        (data) => {
          bump(event);
          HANDLERS[event](data);
        },
        {
          onStateChange: (state) => setBadge(badge, state),
          onOpen: () => {
            if (live.error.dataset.event === event) showError(live.error, "");
          },
          onError: (err) => {
            live.error.dataset.event = event;
            showError(live.error, `${event}: ${err.message}`);
          },
        },
      );
      setBadge(badge, sub.state);
      live.subs.push(sub);
      showRoles();
    } catch (e) {
      setBadge(badge, "closed");
      showError(live.error, `${event}: ${e.message}`);
    }
  }
}

// ---------------------------------------------------------------- settings panel

const toggle = $("settings-toggle");
const panel = $("settings");
const fields = { server: $("set-server"), instance: $("set-instance"), token: $("set-token"), echo: $("set-echo") };

function fillSettings() {
  for (const [k, input] of Object.entries(fields)) input.value = settings[k];
  updateServerHint();
}

function updateServerHint() {
  const hint = $("set-server-hint");
  hint.replaceChildren();
  try {
    const base = normalizeBase(fields.server.value);
    hint.append("Events come from ", el("code", null, base ? eventsUrl({ server: base }) : "/ws/events"));
    hint.append(base ? "." : " on this page's server.");
  } catch (e) {
    hint.textContent = e.message;
  }
}

toggle.addEventListener("click", () => {
  const open = panel.hidden;
  panel.hidden = !open;
  toggle.setAttribute("aria-expanded", String(open));
  if (open) fields.server.focus();
});

fields.server.addEventListener("input", updateServerHint);

$("settings-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const next = {
    server: fields.server.value.trim(),
    instance: fields.instance.value.trim() || "demo",
    token: fields.token.value.trim(),
    echo: fields.echo.value.trim(),
  };
  try {
    normalizeBase(next.server);
    echoUrl(next);
  } catch (err) {
    showError($("settings-error"), err.message);
    return;
  }
  showError($("settings-error"), "");
  const echoChanged = echoUrl(next) !== echoUrl(settings);
  settings = next;
  saveSettings(settings);
  startLive();
  checkServer();
  if (echoChanged || !chat.sub || chat.sub.state === "closed") {
    chat.sub?.close();
    connectChat();
  }
  panel.hidden = true;
  toggle.setAttribute("aria-expanded", "false");
});

$("settings-reset").addEventListener("click", () => {
  for (const [k, input] of Object.entries(fields)) input.value = DEFAULTS[k];
  updateServerHint();
  showError($("settings-error"), "");
});

// ---------------------------------------------------------------- the event server

const HEALTH_RETRY_MS = 3000;
let healthTimer = 0;
let healthRound = 0; // a settings change starts a new round; an older answer is dropped

/**
 * When the page talks to its own origin (no server setting), asks that origin for the event
 * server's /health. `trunk serve` alone answers the page but proxies the sockets to 127.0.0.1:8084,
 * so without the event server every socket would just fail with 1006 and say nothing of why: the
 * banner (its text is in index.html) says what to start, and goes away by itself once the server answers.
 */
async function checkServer() {
  clearTimeout(healthTimer);
  const round = ++healthRound;
  const banner = $("server-banner");
  if (normalizeBase(settings.server)) {
    banner.hidden = true;
    return;
  }
  let ok = false;
  try {
    const res = await fetch("/health", { cache: "no-store" });
    ok = res.ok && (await res.json())?.ok === true;
  } catch {
    ok = false;
  }
  if (round !== healthRound) return;
  banner.hidden = ok;
  if (!ok) healthTimer = setTimeout(checkServer, HEALTH_RETRY_MS);
}

// ---------------------------------------------------------------- start

let settings = loadSettings();
fillSettings();

try {
  await init();
} catch (e) {
  chatStatus("closed", `Could not load the WebAssembly module: ${e.message}`);
  showError(live.error, "Could not load the WebAssembly module.");
  chatControls(false);
  throw e;
}
connectChat();
startLive();
checkServer();
