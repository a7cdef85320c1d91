// The fault suite, on the shipped build: pkg/ as `cargo xtask pkg` made it (the same wasm, wasm-opt
// pass and glue users install), loaded by a page in headless Chromium, against a real event-server
// that drops, refuses, stalls and restarts while the client works.
//
//   EVENT_SERVER_BIN=target/debug/event-server ROOT=$PWD node tests/e2e/faults.mjs
//
// The page (tests/e2e/shipped/index.html, served with a copy of pkg/ by `event-server --static`)
// gives each check the package and a few helpers (`window.suite`); every check runs in the page
// and returns what it saw, and the assertions are made here. Each prints `ok - …` or `FAIL - …`;
// the run exits non-zero on any failure; the server and the browser are stopped in every case.

import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { assert, check, CHROME_ARGS, log, Opened, runSuite, shippedSite, spawnEventServer, stop } from "./harness.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(process.env.ROOT || path.join(here, "..", ".."));
const BIN = process.env.EVENT_SERVER_BIN || path.join(ROOT, "target", "debug", "event-server");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const SITE = path.join(ROOT, "target", "e2e-shipped"); // shipped/index.html + a copy of pkg/

const opened = new Opened();
process.on("exit", () => stop(opened.server));

// ---------------------------------------------------------------- the checks (run in the page)

/**
 * A writer sends a numbered message every 2 ms while the server drops the echo socket 200 times
 * (abruptly, with 1012, with 4000, and after a refusal). `WebSocket.prototype.send` is watched, so
 * what the client really handed to which socket, and when, is known: every accepted message must
 * be handed over once; on each socket what was lost must be its last messages (TCP keeps order),
 * handed within about a round trip of that socket's close; nothing twice or out of order; never
 * two sockets at once (the server's count, sampled every cycle).
 */
async function dropCycles() {
  const { es, sleep, waitFor, control, stats } = window.suite;
  await control("/control/reset");
  const handed = []; // [n, socket, at]
  const closedAt = []; // by socket
  const sockets = new WeakMap();
  const realSend = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    realSend.call(this, data); // throws when the socket is not open: then nothing was handed
    if (!sockets.has(this)) {
      const id = closedAt.length;
      sockets.set(this, id);
      closedAt.push(null);
      this.addEventListener("close", () => (closedAt[id] = performance.now()));
    }
    handed.push([Number(data), sockets.get(this), performance.now()]);
  };
  const got = [];
  const echoedAt = [];
  const errors = [];
  let opens = 0;
  const sub = es.socket("echo", (d) => { got.push(Number(d)); echoedAt.push(performance.now()); }, {
    url: "/echo",
    parse: "text",
    reconnectInterval: 10,
    maxReconnectInterval: 40,
    minUptime: 0,
    queueLimit: 100000,
    onError: (e) => errors.push(e.kind),
    onOpen: () => opens++,
  });
  try {
    await waitFor("open", 5000, () => sub.state === "open");
    let accepted = 0;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        if (!sub.send(String(accepted))) throw new Error(`send ${accepted} refused`);
        accepted++;
        await sleep(2);
      }
    })();
    let maxOpen = 0;
    for (let cycle = 0; cycle < 200; cycle++) {
      let drop;
      switch (cycle % 4) {
        case 0: drop = "/control/drop?mode=abrupt&target=echo"; break;
        case 1: drop = "/control/drop?mode=close&code=1012&target=echo"; break;
        case 2: drop = "/control/drop?mode=close&code=4000&reason=bye&target=echo"; break;
        default:
          await control("/control/refuse?ms=60");
          drop = "/control/drop?mode=abrupt&target=echo";
      }
      const opensBefore = opens;
      await control(drop);
      // A new socket must open: the old one may still look open until its close event arrives.
      await waitFor("reconnected", 10000, () => opens > opensBefore && sub.state === "open");
      maxOpen = Math.max(maxOpen, (await stats()).echo_open);
      await sleep(15);
    }
    writing = false;
    await writer;
    // Let the last echoes come back.
    let last = -1;
    for (let i = 0; i < 100 && !(got.length === last && sub.state === "open"); i++) {
      last = got.length;
      await sleep(50);
    }
    return { accepted, handed, closedAt, got, echoedAt, maxOpen, state: sub.state, errors: [...new Set(errors)] };
  } finally {
    sub.close();
    WebSocket.prototype.send = realSend;
  }
}

/**
 * The server is away for 2.5 s. What the client decided (the delays it scheduled) and what
 * happened after the server was back (seen by polling /health) are compared, not wall-clock
 * windows, which a loaded machine stretches.
 */
async function longStop() {
  const { es, sleep, waitFor, control, token } = window.suite;
  const tok = await token("stop");
  const retries = [];
  const sub = es.socket("messages.upsert", () => {}, {
    url: "/ws/events", token: tok, reconnectInterval: 100, maxReconnectInterval: 400, jitter: 0,
    onReconnect: (r) => retries.push({ ...r, at: performance.now() }), onError: () => {},
  });
  await waitFor("open", 5000, () => sub.state === "open");
  await control("/control/restart?down_ms=2500");
  await waitFor("down", 2000, () => sub.state === "reconnecting");
  let upAt = null;
  while (upAt === null) {
    try {
      if ((await fetch("/health")).ok) upAt = performance.now();
    } catch (_) {
      // refused: still down
    }
    if (upAt === null) await sleep(20);
  }
  await waitFor("back", 10000, () => sub.state === "open");
  sub.close();
  return {
    delays: retries.map((r) => r.delay),
    attempts: retries.map((r) => r.attempt),
    afterUp: retries.filter((r) => r.at > upAt).length,
  };
}

/** A handshake the server never answers hits connectTimeout, and the next attempt connects. */
async function stalledHandshake() {
  const { es, waitFor, control, token } = window.suite;
  const tok = await token("stall");
  const kinds = [];
  await control("/control/stall?ms=700");
  const sub = es.socket("messages.upsert", () => {}, {
    url: "/ws/events", token: tok, connectTimeout: 200, reconnectInterval: 50,
    onError: (e) => kinds.push(e.kind),
  });
  await waitFor("a timeout", 3000, () => kinds.includes("timeout"));
  await waitFor("open after the stall", 5000, () => sub.state === "open");
  sub.close();
  return { kinds };
}

/** While the server refuses, each retry waits twice as long as the last, up to the cap. */
async function refusals() {
  const { es, waitFor, control, token } = window.suite;
  const tok = await token("refused");
  const retries = [];
  await control("/control/refuse?ms=1500");
  const sub = es.socket("messages.upsert", () => {}, {
    url: "/ws/events", token: tok, reconnectInterval: 50, maxReconnectInterval: 200, jitter: 0,
    onReconnect: (r) => retries.push(r), onError: () => {},
  });
  await waitFor("open after refusals", 5000, () => sub.state === "open");
  sub.close();
  return { retries };
}

/** 1000 reconnects leave the module's closures and wasm memory where they were; close frees all. */
async function thousandReconnects(cycles) {
  const { es, waitFor } = window.suite;
  const before = es.debugStats();
  const got = [];
  let opens = 0;
  const sub = es.socket("alloc-check", (d) => got.push(d), {
    url: "/echo", reconnectInterval: 10, jitter: 0, onOpen: () => opens++,
  });
  const cycle = async (n) => {
    for (let i = 0; i < n; i++) {
      const o = opens;
      sub.reconnect();
      await waitFor("open again", 5000, () => opens > o && sub.state === "open");
    }
  };
  await waitFor("open", 5000, () => sub.state === "open");
  await cycle(50); // warm up the allocator's free lists, then measure
  const baseline = es.debugStats();
  await cycle(cycles);
  const after = es.debugStats();
  for (let i = 0; i < 200; i++) sub.send({ i, pad: "x".repeat(i * 50) });
  await waitFor("200 echoes", 5000, () => got.length >= 200);
  sub.close();
  sub.free(); // the handle holds its connection's memory until freed (or garbage-collected)
  const closed = es.debugStats();
  return {
    before, baseline, after, closed,
    seq: got.map((d) => d.i),
    pads: got.every((d) => d.pad.length === d.i * 50),
  };
}

// ---------------------------------------------------------------- the run

async function main() {
  assert(existsSync(BIN), `EVENT_SERVER_BIN not found: ${BIN}`);
  shippedSite(ROOT, SITE);

  const ev = await spawnEventServer(BIN, ["--port", "0", "--static", SITE]);
  opened.server = ev.child;
  opened.browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROME_ARGS });
  const page = await (await opened.browser.newContext()).newPage();
  const pageErrors = [];
  page.on("pageerror", (e) => {
    pageErrors.push(e.message);
    log(`  page error: ${e.message}`);
  });
  page.on("console", (m) => {
    // The browser's own lines for refused handshakes and for /health polled while the server is
    // down are what these checks cause.
    const expected = /^(WebSocket connection to|Failed to load resource: net::ERR_CONNECTION_REFUSED)/;
    if (m.type() === "error" && !expected.test(m.text())) log(`  console error: ${m.text()}`);
  });
  await page.goto(`${ev.base}/`);
  await page.waitForFunction(() => window.suite, null, { timeout: 15000 });

  await check("200 drop cycles: every message handed over once, only each socket's last round trip lost, never twice, never two sockets", async () => {
    const r = await page.evaluate(dropCycles);
    const received = new Set(r.got);
    const handedTo = new Map(); // n -> [socket, at]
    const twice = [];
    for (const [n, sock, at] of r.handed) {
      if (handedTo.has(n)) twice.push(n);
      handedTo.set(n, [sock, at]);
    }
    const neverHanded = [];
    for (let n = 0; n < r.accepted; n++) if (!handedTo.has(n)) neverHanded.push(n);
    // The slowest echo seen in this run: the round trip under this run's load.
    const sentAt = new Map(r.handed.map(([n, , at]) => [n, at]));
    const rtt = Math.max(...r.got.map((n, i) => r.echoedAt[i] - sentAt.get(n)));
    // Per socket, in the order handed: once one is lost, every later one on it is lost too (no
    // holes), and each lost one was handed at most two round trips before that socket closed.
    const holes = [];
    const early = [];
    let lost = 0;
    const bySocket = new Map();
    for (const [n, sock, at] of r.handed) (bySocket.get(sock) || bySocket.set(sock, []).get(sock)).push([n, at]);
    for (const [sock, list] of bySocket) {
      let losing = false;
      for (const [n, at] of list) {
        if (received.has(n)) {
          if (losing) holes.push(n);
        } else {
          losing = true;
          lost++;
          const closed = r.closedAt[sock];
          if (closed === null || closed - at > 2 * rtt + 50) early.push(`${n} (${closed === null ? "socket never closed" : `${Math.round(closed - at)} ms before its close`})`);
        }
      }
    }
    log(`  ${r.accepted} messages accepted, ${r.handed.length} handed to ${bySocket.size} sockets, ${r.got.length} echoed, ` +
      `${lost} lost in flight at a drop; slowest echo ${Math.round(rtt)} ms; max open echo sockets: ${r.maxOpen}; ` +
      `error kinds: ${r.errors.join(", ") || "none"}`);
    assert(r.got.every((n, i) => i === 0 || r.got[i - 1] < n), "echoes out of order or duplicated");
    assert(twice.length === 0, `handed to a socket twice: ${twice.slice(0, 20).join(", ")}`);
    assert(neverHanded.length === 0, `accepted, never handed to a socket: ${neverHanded.slice(0, 20).join(", ")}`);
    assert(holes.length === 0, `echoed after an earlier message on the same socket was lost: ${holes.slice(0, 20).join(", ")}`);
    assert(early.length === 0, `lost though handed well before the drop: ${early.slice(0, 10).join(", ")}`);
    assert(r.maxOpen <= 1, `two sockets for one subscription (${r.maxOpen})`);
    assert(r.state === "open", `state at the end: ${r.state}`);
    assert(r.accepted > 1000, `the writer kept writing: ${r.accepted}`);
  });

  await check("a 2.5 s server stop: retries on the backoff (100, 200, 400, 400 ms...), back at the first attempt after the server is", async () => {
    const r = await page.evaluate(longStop);
    log(`  ${r.delays.length} retries while down (delays ${r.delays.join(", ")}), ${r.afterUp} scheduled after the server was back`);
    const want = r.delays.map((_, i) => Math.min(100 * 2 ** i, 400));
    assert(r.delays.length >= 2, `only ${r.delays.length} retries in 2.5 s`);
    assert(JSON.stringify(r.delays) === JSON.stringify(want), `delays ${r.delays.join(", ")}, want ${want.join(", ")}`);
    assert(r.attempts.every((a, i) => a === i + 1), `attempts ${r.attempts.join(", ")}`);
    // The retry under way when the server came back may still fail; the next one must not.
    assert(r.afterUp <= 1, `${r.afterUp} failed attempts after the server was back`);
  });

  await check("a stalled handshake hits connectTimeout (error kind timeout), then connects", async () => {
    const r = await page.evaluate(stalledHandshake);
    assert(r.kinds.includes("timeout"), `error kinds: ${r.kinds.join(", ")}`);
  });

  await check("refusals grow the backoff to its cap: 50, 100, 200, 200 ms, attempts counted 1, 2, 3, 4", async () => {
    const r = await page.evaluate(refusals);
    const delays = r.retries.map((x) => x.delay);
    const attempts = r.retries.map((x) => x.attempt);
    log(`  delays ${delays.join(", ")}`);
    assert(delays.length >= 5, `only ${delays.length} retries`);
    assert(JSON.stringify(delays.slice(0, 4)) === "[50,100,200,200]", `delays ${delays.join(", ")}`);
    assert(delays.every((d) => d <= 200), `a delay over the cap: ${delays.join(", ")}`);
    assert(JSON.stringify(attempts.slice(0, 4)) === "[1,2,3,4]", `attempts ${attempts.join(", ")}`);
  });

  await check("1000 reconnects leave closures, live allocations and bytes flat; close and free() give back every byte; echoes in order after", async () => {
    const r = await page.evaluate(thousandReconnects, 1000);
    const live = (s) => `${s.allocations} allocations / ${s.heapBytes} B`;
    log(`  closures ${r.baseline.closures} -> ${r.after.closures}, live ${live(r.baseline)} -> ${live(r.after)}, ` +
      `wasm memory ${r.baseline.memory} -> ${r.after.memory} B; after close: closures ${r.closed.closures}, ` +
      `connections ${r.closed.connections}, live ${live(r.closed)} (before: ${r.before.closures}, ` +
      `${r.before.connections}, ${live(r.before)})`);
    assert(r.after.closures === r.baseline.closures, `closures: ${r.baseline.closures} -> ${r.after.closures}`);
    // Counted by the allocator: a leak of one allocation per reconnect shows as 1000 here.
    assert(r.after.allocations === r.baseline.allocations, `live allocations: ${live(r.baseline)} -> ${live(r.after)}`);
    assert(r.after.heapBytes === r.baseline.heapBytes, `bytes in use: ${live(r.baseline)} -> ${live(r.after)}`);
    assert(r.after.memory === r.baseline.memory, `wasm memory grew: ${r.baseline.memory} -> ${r.after.memory}`);
    assert(r.closed.closures === r.before.closures, `closures after close: ${r.closed.closures}`);
    assert(r.closed.connections === r.before.connections, `connections after close: ${r.closed.connections}`);
    assert(r.closed.allocations === r.before.allocations && r.closed.heapBytes === r.before.heapBytes,
      `closed and freed, the subscription left ${live(r.closed)} where there were ${live(r.before)}`);
    assert(r.seq.length === 200 && r.seq.every((v, i) => v === i), `echoes in order: ${r.seq.length} of 200`);
    assert(r.pads, "echoed payloads intact");
  });

  await check("no uncaught error on the page", async () => {
    assert(pageErrors.length === 0, `page errors: ${pageErrors.join("; ")}`);
  });
}

await runSuite("\nfault suite on the shipped build", main, () => opened.close());
