// The benchmark page. run.mjs serves it (with pkg/ and the bundled libraries in vendor/) and calls
// the functions of `window.bench` one measurement at a time.
import init, { socket, debugStats } from "./pkg/event_socket.js";
import ReconnectingWebSocket from "./vendor/reconnecting-websocket.js";
import PartySocket from "./vendor/partysocket.js";
import { handSocket } from "./vendor/hand.js";

const params = new URLSearchParams(location.search);
const WS = params.get("ws"); // ws://127.0.0.1:PORT of the event-server
const EVENT = "messages.upsert";
const RealWebSocket = window.WebSocket;

let sink = 0; // every callback touches the parsed data, so that nothing is optimized away
let received = 0;
let target = -1; // the flood resolves `done` from the callback that brings `received` to `target`
let done = null;
const jsonCb = (data) => {
  sink = (sink + (data.seq | 0)) | 0;
  if (++received === target) done();
};
const rawCb = () => {
  if (++received === target) done();
};

function withQuery(url) {
  return url + (url.includes("?") ? "&" : "?") + `event=${EVENT}&token=`;
}

/// Every client behind one shape: { opened: Promise, send(s), close(), reconnect(), nextOpen() }.
/// `close` is the client's own (a reconnecting client closed at its socket would come back).
function wsLike(ws, reconnect, close = () => ws.close()) {
  let resolve;
  let opened = new Promise((r) => (resolve = r));
  ws.addEventListener("open", () => resolve());
  return {
    get opened() {
      return opened;
    },
    nextOpen() {
      opened = new Promise((r) => (resolve = r));
      return opened;
    },
    send: (s) => ws.send(s),
    close,
    reconnect,
  };
}

const CLIENTS = {
  // floor: the browser's WebSocket, a handler that only counts
  raw(url) {
    const ws = new RealWebSocket(withQuery(url));
    ws.onmessage = rawCb;
    return wsLike(ws, null);
  },
  hand(url, cb = jsonCb) {
    const h = handSocket(url, EVENT, "", cb);
    return wsLike(h.ws, null, () => h.close());
  },
  rws(url, cb = jsonCb) {
    const ws = new ReconnectingWebSocket(withQuery(url));
    ws.onmessage = (e) => cb(JSON.parse(e.data), e);
    return wsLike(ws, () => ws.reconnect());
  },
  partysocket(url, cb = jsonCb) {
    const ws = new PartySocket(withQuery(url));
    ws.onmessage = (e) => cb(JSON.parse(e.data), e);
    return wsLike(ws, () => ws.reconnect());
  },
  "event-socket"(url, cb = jsonCb) {
    return eventSocket(url, cb, false);
  },
  // The default: connections shared by url, event and instance (one subscription here, so the
  // difference is the lookup at socket() time, not per message).
  "event-socket-shared"(url, cb = jsonCb) {
    return eventSocket(url, cb, true);
  },
};

function eventSocket(url, cb, share) {
  let resolve;
  let opened = new Promise((r) => (resolve = r));
  const sub = socket(EVENT, cb, { url, parse: "json", share, onOpen: () => resolve() });
  return {
    get opened() {
      return opened;
    },
    nextOpen() {
      opened = new Promise((r) => (resolve = r));
      return opened;
    },
    send: (s) => sub.send(s),
    close: () => sub.close(),
    reconnect: () => sub.reconnect(),
  };
}
const ALL = Object.keys(CLIENTS);

function until(pred, ms, what) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const tick = () => {
      if (pred()) return resolve();
      if (performance.now() - t0 > ms) return reject(new Error(`timeout: ${what}`));
      setTimeout(tick, 1);
    };
    tick();
  });
}

function timeout(p, ms, what) {
  let timer;
  return Promise.race([
    p,
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timeout: ${what}`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

/// One flood round: connect, then time `count` messages of `size` bytes from "go" to the last
/// callback.
async function throughput(kind, size, count) {
  // "hand2": the hand-written client again, as a control of what one round's ratio can tell.
  const c = CLIENTS[kind === "hand2" ? "hand" : kind](`${WS}/flood?count=${count}&size=${size}`);
  await timeout(c.opened, 10000, `${kind} open`);
  received = 0;
  target = count;
  const finished = new Promise((r) => (done = r));
  const t0 = performance.now();
  c.send("go");
  await timeout(finished, 120000, `${kind} flood`);
  target = -1;
  const ms = performance.now() - t0;
  c.close();
  await new Promise((r) => setTimeout(r, 20));
  return { ms, rate: (count / ms) * 1000 };
}

/// Sequential round trips through /echo: `samples` RTTs in ms (after `warmup`).
async function latency(kind, samples, warmup = 50) {
  let resolve;
  const cb = (data) => resolve(data);
  // "hand2": the hand-written client again, the control of what the p99 ratio can tell.
  const c = CLIENTS[kind === "hand2" ? "hand" : kind](`${WS}/echo`, cb);
  await timeout(c.opened, 10000, `${kind} open`);
  const out = [];
  const raw = kind === "raw";
  if (raw) {
    // the floor: a handler that only resolves (no parse)
    c.close();
    const ws = new RealWebSocket(withQuery(`${WS}/echo`));
    await new Promise((r) => ws.addEventListener("open", r));
    ws.onmessage = (e) => resolve(e.data);
    c.send = (s) => ws.send(s);
    c.close = () => ws.close();
  }
  const msg = JSON.stringify({ seq: 1, pad: "x".repeat(64) });
  for (let i = 0; i < warmup + samples; i++) {
    const got = new Promise((r) => (resolve = r));
    const t0 = performance.now();
    c.send(msg);
    await got;
    const dt = performance.now() - t0;
    if (i >= warmup) out.push(dt);
  }
  c.close();
  await new Promise((r) => setTimeout(r, 20));
  return out;
}

/// The baseline of the memory runs ("plain"): the browser's WebSocket reconnected by hand, no
/// library: reconnect() closes the socket and makes a new WebSocket; memCycles waits for its open.
function plainReconnectLoop(url) {
  let resolve;
  let opened = new Promise((r) => (resolve = r));
  let ws;
  const connect = () => {
    ws = new RealWebSocket(withQuery(url));
    ws.onmessage = () => {};
    ws.onopen = () => resolve();
  };
  connect();
  return {
    get opened() {
      return opened;
    },
    nextOpen() {
      opened = new Promise((r) => (resolve = r));
      return opened;
    },
    send: (s) => ws.send(s),
    close: () => ws.close(),
    reconnect() {
      ws.close();
      connect();
    },
  };
}

let memClient = null;
async function memSetup(kind) {
  const make = kind === "plain" ? plainReconnectLoop : CLIENTS[kind];
  memClient = make(`${WS}/echo`, () => {});
  await timeout(memClient.opened, 10000, `${kind} open`);
}
async function memCycles(n) {
  for (let i = 0; i < n; i++) {
    const p = memClient.nextOpen();
    memClient.reconnect();
    await timeout(p, 10000, `reconnect ${i}`);
  }
}
function memTeardown() {
  memClient.close();
  memClient = null;
}
function esStats() {
  return debugStats();
}

/// From init() to the first open (call on a fresh page loaded with ?noinit).
async function startTime(kind) {
  const t0 = performance.now();
  if (kind === "event-socket") await init();
  const t1 = performance.now();
  const c = CLIENTS[kind](`${WS}/echo`);
  await timeout(c.opened, 10000, `${kind} open`);
  const t2 = performance.now();
  c.close();
  return { init: t1 - t0, open: t2 - t1, total: t2 - t0 };
}

// ---- per-message cost without the network ----

/// A stand-in for WebSocket that records the handlers a client installs.
class FakeWebSocket extends EventTarget {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSING = 2;
  static CLOSED = 3;
  static made = [];
  constructor(url, protocols) {
    super();
    this.url = url;
    this.protocol = "";
    this.extensions = "";
    this.bufferedAmount = 0;
    this.binaryType = "blob";
    this.readyState = 0;
    this.onopen = null;
    this.onmessage = null;
    this.onclose = null;
    this.onerror = null;
    FakeWebSocket.made.push(this);
  }
  send() {}
  close() {
    this.readyState = 3;
  }
  fire(ev) {
    const h = this["on" + ev.type];
    if (h) h.call(this, ev);
    this.dispatchEvent(ev);
  }
  open() {
    this.readyState = 1;
    this.fire(new Event("open"));
  }
}
Object.assign(FakeWebSocket.prototype, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });

/// Installs the fake, creates one of each client (two hand-written ones), opens them; then feeds
/// each client's socket `count` MessageEvents of `size` bytes per round, clients interleaved, and
/// returns ns per message per client and round.
async function perMessage(size, count, rounds) {
  const kinds = ["hand", "hand2", "rws", "partysocket", "event-socket", "event-socket-shared", "raw"];
  const clients = {};
  window.WebSocket = FakeWebSocket;
  let fakes;
  try {
    FakeWebSocket.made = [];
    for (const k of kinds) {
      const before = FakeWebSocket.made.length;
      const make = CLIENTS[k === "hand2" ? "hand" : k];
      const c = k === "raw" ? null : make("ws://fake.invalid/ws/events");
      if (k === "raw") {
        const ws = new FakeWebSocket("ws://fake.invalid/");
        ws.onmessage = rawCb;
      }
      // reconnecting-websocket and partysocket create their socket a task later
      await until(() => FakeWebSocket.made.length > before, 2000, `${k} creates a WebSocket`);
      clients[k] = { c, ws: FakeWebSocket.made[before] };
    }
  } finally {
    window.WebSocket = RealWebSocket;
  }
  for (const k of kinds) clients[k].ws.open();
  await new Promise((r) => setTimeout(r, 10));
  // the same events for everyone; each carries its own seq so that JSON.parse cannot be cached
  const events = [];
  for (let i = 0; i < count; i++) {
    const data = JSON.stringify({ seq: i, pad: "x".repeat(Math.max(0, size - 20 - String(i).length)) });
    events.push(new MessageEvent("message", { data }));
  }
  const out = Object.fromEntries(kinds.map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    // rotate the order every round
    const order = kinds.slice(r % kinds.length).concat(kinds.slice(0, r % kinds.length));
    for (const k of order) {
      const ws = clients[k].ws;
      received = 0;
      // Each batch starts with a collected heap, so that one client's garbage (64 KB messages
      // parse into large objects) is not collected on the next client's time.
      globalThis.gc?.();
      const t0 = performance.now();
      for (let i = 0; i < count; i++) ws.fire(events[i]);
      const dt = performance.now() - t0;
      if (received !== count) throw new Error(`${k}: ${received} of ${count} delivered`);
      out[k].push((dt * 1e6) / count);
    }
  }
  for (const k of kinds) clients[k].c?.close();
  return out;
}

// ---------------------------------------------------------------- sharing across tabs

/// This page's subscription to the echo key with the default `share` (across tabs): the channel
/// the library opened for it (captured as it is made), the words it hears, its opens.
let tab = null;

async function tabJoin() {
  const Real = window.BroadcastChannel;
  const chans = [];
  window.BroadcastChannel = class extends Real {
    constructor(name) {
      super(name);
      chans.push(this);
    }
  };
  const opens = [];
  let sub = null;
  try {
    sub = socket(EVENT, jsonCb, { url: `${WS}/echo`, parse: "json", onOpen: () => opens.push([Date.now(), sub?.role]) });
  } finally {
    window.BroadcastChannel = Real;
  }
  if (chans.length !== 1) throw new Error(`${chans.length} channels: not shared across tabs`);
  await until(() => sub.state === "open", 5000, "open");
  tab = { sub, ch: chans[0], opens, word: null, seq: 0 };
  tab.ch.addEventListener("message", (e) => {
    if (Array.isArray(e.data) && typeof e.data[4] === "string") tab.word = e.data;
  });
  return sub.role;
}

const tabRole = () => tab?.sub.role;
const tabOpens = () => tab.opens;
const tabSend = (s) => tab.sub.send(s);
function tabClose() {
  tab?.sub.close();
  tab = null;
}

/// A follower's per-message cost: frames as the leader relays them (the word of a real relayed
/// frame, with the next sequence numbers) handed to the follower's channel handler, against the
/// hand-written client fed the same JSON on a stand-in WebSocket; ns per message per round.
async function followerPerMessage(size, count, rounds) {
  await until(() => tab?.word, 5000, "a relayed frame");
  const [t, epoch, seq0, c] = tab.word;
  tab.seq = Math.max(tab.seq, seq0);
  window.WebSocket = FakeWebSocket;
  FakeWebSocket.made = [];
  let hand;
  try {
    hand = CLIENTS.hand("ws://fake.invalid/ws/events");
    await until(() => FakeWebSocket.made.length > 0, 2000, "the hand-written client's WebSocket");
  } finally {
    window.WebSocket = RealWebSocket;
  }
  const ws = FakeWebSocket.made[0];
  ws.open();
  const texts = [];
  for (let i = 0; i < count; i++) texts.push(JSON.stringify({ seq: i, pad: "x".repeat(Math.max(0, size - 20 - String(i).length)) }));
  const handEvents = texts.map((data) => new MessageEvent("message", { data }));
  const out = { hand: [], follower: [] };
  for (let r = 0; r < rounds; r++) {
    const words = texts.map((data) => new MessageEvent("message", { data: [t, epoch, ++tab.seq, c, data] }));
    const order = r % 2 ? ["follower", "hand"] : ["hand", "follower"];
    for (const k of order) {
      received = 0;
      globalThis.gc?.();
      const t0 = performance.now();
      if (k === "hand") for (let i = 0; i < count; i++) ws.fire(handEvents[i]);
      else for (let i = 0; i < count; i++) tab.ch.onmessage(words[i]);
      const dt = performance.now() - t0;
      if (received !== count) throw new Error(`${k}: ${received} of ${count} delivered`);
      out[k].push((dt * 1e6) / count);
    }
  }
  hand.close();
  return out;
}

window.bench = {
  tabJoin,
  tabRole,
  tabOpens,
  tabSend,
  tabClose,
  followerPerMessage,
  ALL,
  throughput,
  latency,
  memSetup,
  memCycles,
  memTeardown,
  esStats,
  startTime,
  perMessage,
  isolated: () => crossOriginIsolated,
  sink: () => sink,
};
if (!params.has("noinit")) await init();
window.benchReady = true;
