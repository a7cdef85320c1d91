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

import { cpSync, existsSync, mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { assert, check, CHROME_ARGS, log, spawnEventServer, stop, tally } from "./harness.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(process.env.ROOT || path.join(here, "..", ".."));
const BIN = process.env.EVENT_SERVER_BIN || path.join(ROOT, "target", "debug", "event-server");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const PKG = path.join(ROOT, "pkg");
const SITE = path.join(ROOT, "target", "e2e-shipped"); // shipped/index.html + a copy of pkg/

let server = null;
let browser = null;

async function cleanup() {
  if (browser) {
    const b = browser;
    browser = null;
    await b.close().catch(() => {});
  }
  stop(server);
}

for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    log(`interrupted (${sig})`);
    cleanup().finally(() => process.exit(130));
  });
}
process.on("exit", () => stop(server));

// ---------------------------------------------------------------- the checks (run in the page)

/**
 * A writer sends a numbered message every 2 ms while the server drops the echo socket 200 times
 * (abruptly, with 1012, with 4000, and after a refusal): what the client queued while not open
 * must all come back, nothing twice, nothing out of order, and never two sockets at once.
 */
async function dropCycles() {
  const { es, sleep, waitFor, control, stats } = window.suite;
  await control("/control/reset");
  const got = [];
  const errors = [];
  let opens = 0;
  const sub = es.socket("echo", (d) => got.push(Number(d)), {
    url: "/echo",
    parse: "text",
    reconnectInterval: 10,
    maxReconnectInterval: 40,
    minUptime: 0,
    queueLimit: 100000,
    onError: (e) => errors.push(e.kind),
    onOpen: () => opens++,
  });
  await waitFor("open", 5000, () => sub.state === "open");
  // The writer: numbered messages every 2 ms, noting whether the socket was open at the time.
  const sentOpen = [];
  let writing = true;
  const writer = (async () => {
    while (writing) {
      const n = sentOpen.length;
      const open = sub.state === "open";
      if (!sub.send(String(n))) throw new Error(`send ${n} refused`);
      sentOpen.push(open);
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
    // What was queued while down is flushed at open and is then in flight like any other
    // message: let its echoes return before the next drop, so that a queued message that never
    // arrives is a real loss, not the protocol's in-flight loss.
    const lastQueued = sentOpen.lastIndexOf(false);
    const deadline = Date.now() + 5000;
    while (lastQueued >= 0 && !(got.length && got[got.length - 1] >= lastQueued) && Date.now() < deadline && sub.state === "open") {
      await sleep(5);
    }
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
  const state = sub.state;
  sub.close();
  return { sentOpen, got, maxOpen, state, errors: [...new Set(errors)] };
}

/** The server is away for 2.5 s: a handful of retries on the backoff, not a storm. */
async function longStop() {
  const { es, waitFor, control, token } = window.suite;
  const tok = await token("stop");
  const retries = [];
  const sub = es.socket("messages.upsert", () => {}, {
    url: "/ws/events", token: tok, reconnectInterval: 100, maxReconnectInterval: 400, jitter: 0,
    onReconnect: (r) => retries.push(r), onError: () => {},
  });
  await waitFor("open", 5000, () => sub.state === "open");
  const t0 = Date.now();
  await control("/control/restart?down_ms=2500");
  await waitFor("down", 2000, () => sub.state === "reconnecting");
  await waitFor("back", 10000, () => sub.state === "open");
  const backAfter = Date.now() - t0 - 2500;
  sub.close();
  return { attempts: retries.length, backAfter };
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
  const closed = es.debugStats();
  return {
    before, baseline, after, closed,
    seq: got.map((d) => d.i),
    pads: got.every((d) => d.pad.length === d.i * 50),
  };
}

// ---------------------------------------------------------------- the run

async function main() {
  assert(existsSync(path.join(PKG, "event_socket_bg.wasm")), "pkg/ is missing: run `cargo xtask pkg` first");
  assert(existsSync(BIN), `EVENT_SERVER_BIN not found: ${BIN}`);
  rmSync(SITE, { recursive: true, force: true });
  mkdirSync(SITE, { recursive: true });
  cpSync(path.join(here, "shipped", "index.html"), path.join(SITE, "index.html"));
  cpSync(PKG, path.join(SITE, "pkg"), { recursive: true });

  const ev = await spawnEventServer(BIN, ["--port", "0", "--static", SITE]);
  server = ev.child;
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROME_ARGS });
  const page = await (await browser.newContext()).newPage();
  const pageErrors = [];
  page.on("pageerror", (e) => {
    pageErrors.push(e.message);
    log(`  page error: ${e.message}`);
  });
  page.on("console", (m) => {
    // The browser's own line for each refused or dropped handshake is what these checks cause.
    if (m.type() === "error" && !m.text().startsWith("WebSocket connection to")) log(`  console error: ${m.text()}`);
  });
  await page.goto(`${ev.base}/`);
  await page.waitForFunction(() => window.suite, null, { timeout: 15000 });

  await check("200 drop cycles lose nothing queued, never duplicate or reorder, never two sockets", async () => {
    const r = await page.evaluate(dropCycles);
    const total = r.sentOpen.length;
    const seen = new Set(r.got);
    const lostQueued = r.sentOpen.flatMap((open, n) => (!open && !seen.has(n) ? [n] : []));
    const lostOpen = r.sentOpen.filter((open, n) => open && !seen.has(n)).length;
    const queued = r.sentOpen.filter((open) => !open).length;
    log(`  ${total} messages sent (${queued} while not open), ${r.got.length} echoed, ${lostOpen} lost ` +
      `(handed to an open socket just before an abrupt drop), ${lostQueued.length} queued messages lost; ` +
      `max open echo sockets: ${r.maxOpen}; error kinds: ${r.errors.join(", ") || "none"}`);
    assert(r.got.every((n, i) => i === 0 || r.got[i - 1] < n), "echoes out of order or duplicated");
    assert(lostQueued.length === 0, `queued messages lost: ${lostQueued.slice(0, 20).join(", ")}`);
    assert(r.maxOpen <= 1, `two sockets for one subscription (${r.maxOpen})`);
    assert(r.state === "open", `state at the end: ${r.state}`);
    assert(total > 1000, `the writer kept writing: ${total}`);
  });

  await check("a 2.5 s server stop causes no retry storm, and it reconnects within the backoff", async () => {
    const r = await page.evaluate(longStop);
    log(`  ${r.attempts} retries while down, open again ${r.backAfter} ms after the server came back`);
    // 100, 200, 400, 400, 400, 400, 400 ms: about 7 retries cover 2.5 s; a storm would be hundreds.
    assert(r.attempts >= 4 && r.attempts <= 10, `retries: ${r.attempts}`);
    assert(r.backAfter < 400 + 500, `took ${r.backAfter} ms after the server came back`);
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

  await check("1000 reconnects leave closures and wasm memory flat; close frees them; echoes in order after", async () => {
    const r = await page.evaluate(thousandReconnects, 1000);
    log(`  closures ${r.baseline.closures} -> ${r.after.closures}, wasm memory ${r.baseline.memory} -> ` +
      `${r.after.memory} B; after close: closures ${r.closed.closures}, connections ${r.closed.connections} ` +
      `(before: ${r.before.closures}, ${r.before.connections})`);
    assert(r.after.closures === r.baseline.closures, `closures: ${r.baseline.closures} -> ${r.after.closures}`);
    assert(r.after.memory === r.baseline.memory, `wasm memory grew: ${r.baseline.memory} -> ${r.after.memory}`);
    assert(r.closed.closures === r.before.closures, `closures after close: ${r.closed.closures}`);
    assert(r.closed.connections === r.before.connections, `connections after close: ${r.closed.connections}`);
    assert(r.seq.length === 200 && r.seq.every((v, i) => v === i), `echoes in order: ${r.seq.length} of 200`);
    assert(r.pads, "echoed payloads intact");
  });

  await check("no uncaught error on the page", async () => {
    assert(pageErrors.length === 0, `page errors: ${pageErrors.join("; ")}`);
  });
}

try {
  await main();
} catch (e) {
  tally.failures += 1;
  log(`FAIL - ${e?.stack || e}`);
} finally {
  await cleanup();
}
log(`\nfault suite on the shipped build: ${tally.passed} passed, ${tally.failures} failed`);
process.exit(tally.failures ? 1 : 0);
