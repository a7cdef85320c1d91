// The event-socket benchmark (not a test): `cargo xtask bench`, or after `cargo xtask pkg` and
// `cargo build -p event-server --release`: `cd bench && npm ci && node run.mjs`.
//
// Starts event-server on a free port (for /flood and /echo), serves the bench page with pkg/ and the
// bundled comparison libraries from a small static server of its own (cross-origin isolated, so that
// performance.now() has 5 us resolution instead of 100 us), drives headless Chromium with
// playwright-core, and writes results.json, results.md and throughput.svg next to this file.
//
// Environment: EVENT_SERVER (path to the binary; default target/release/event-server, else debug),
// CHROMIUM (default /usr/bin/chromium), BENCH_QUICK=1 (fewer rounds, for trying it out),
// BENCH_ONLY=size,start,permessage,throughput,latency,memory (only those sections, printed, no files
// written: for trying a change).

import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { createInterface } from "node:readline";
import { existsSync, mkdtempSync, readFileSync, writeFileSync, cpSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, extname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";
import { chromium } from "playwright-core";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "..");
const QUICK = !!process.env.BENCH_QUICK;
const ONLY = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(",") : null;
const want = (section) => !ONLY || ONLY.includes(section);
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const CHROME_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--js-flags=--expose-gc",
  "--enable-precise-memory-info",
];

const SIZES = [
  { label: "100 B", size: 100, count: QUICK ? 5000 : 50000, pmCount: 20000 },
  { label: "1 KB", size: 1024, count: QUICK ? 5000 : 20000, pmCount: 10000 },
  { label: "64 KB", size: 65536, count: QUICK ? 200 : 1000, pmCount: 300 },
];
const ROUNDS = QUICK ? 2 : 15;
const PM_ROUNDS = QUICK ? 5 : 15;
// Many short rounds in rotating order (as for throughput), so that a slow spell of the machine
// lands on every client alike rather than on whichever ran then.
const LAT_SAMPLES = QUICK ? 200 : 500;
const LAT_ROUNDS = QUICK ? 1 : 36;
const RECONNECTS = QUICK ? 100 : 1000;
const RECONNECT_WARMUP = 20;
const START_SAMPLES = QUICK ? 2 : 7;

const BUDGET = {
  throughput: 0.95, // event-socket / hand-written, at every size, at least
  perMessage: { "100 B": 1.5, "1 KB": 1.2, "64 KB": 1.05 }, // at most
  p99: 1.1, // at most
  follower: 1.5, // a follower tab's per-message cost / hand-written at 1 KB, at most
  takeoverMs: 100, // median, below
  gzip: 36 * 1024, // bytes, at most (wasm + minified glue, gzip -9): the std build with console_error_panic_hook
};

const NAMES = {
  raw: "raw WebSocket (no-op handler)",
  hand: "hand-written (JSON.parse + callback)",
  hand2: "hand-written, second copy (sanity)",
  rws: "reconnecting-websocket",
  partysocket: "partysocket (partysocket/ws)",
  "event-socket": "event-socket (share: false)",
  "event-socket-shared": "event-socket (share: true, the default)",
};
// the memory runs' baseline (not one of the clients above): the browser's WebSocket, reconnected by hand
const PLAIN = "plain WebSocket reconnect loop (baseline)";

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const log = (...a) => console.log("[bench]", ...a);

// ---- the site: page, pkg, bundled libraries ----

async function buildSite() {
  const pkg = join(ROOT, "pkg");
  for (const f of ["event_socket.js", "event_socket_bg.wasm"]) {
    if (!existsSync(join(pkg, f))) throw new Error(`pkg/${f} is missing: run \`cargo xtask pkg\``);
  }
  const site = mkdtempSync(join(tmpdir(), "event-socket-bench-"));
  cpSync(pkg, join(site, "pkg"), { recursive: true }); // a snapshot: a parallel build may rewrite pkg/
  cpSync(join(HERE, "page.html"), join(site, "index.html"));
  cpSync(join(HERE, "page.js"), join(site, "page.js"));
  const bundle = async (entry, out) => {
    const r = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      format: "esm",
      minify: true,
      target: "es2022",
      write: false,
      absWorkingDir: HERE,
      logLevel: "error",
    });
    const code = r.outputFiles[0].contents;
    writeFileSync(join(site, "vendor", out), code);
    return code;
  };
  const { mkdirSync } = await import("node:fs");
  mkdirSync(join(site, "vendor"));
  const shipped = {
    hand: await bundle("./hand.js", "hand.js"),
    rws: await bundle("reconnecting-websocket", "reconnecting-websocket.js"),
    partysocket: await bundle("partysocket/ws", "partysocket.js"),
  };
  // sizes: min+gzip (gzip -9)
  const gz = (buf) => gzipSync(buf, { level: 9 }).length;
  const sizes = { raw: { min: 0, gzip: 0, note: "built in" } };
  for (const [k, code] of Object.entries(shipped)) sizes[k] = { min: code.length, gzip: gz(code) };
  const wasm = readFileSync(join(pkg, "event_socket_bg.wasm"));
  const glue = readFileSync(join(pkg, "event_socket.js"));
  // Bundled, so that wasm-bindgen's snippets (imported by the glue) are counted too.
  const glueMin = (
    await esbuild.build({
      entryPoints: [join(pkg, "event_socket.js")],
      bundle: true,
      minify: true,
      format: "esm",
      target: "es2022",
      write: false,
      logLevel: "error",
    })
  ).outputFiles[0].text;
  sizes["event-socket"] = {
    min: wasm.length + Buffer.byteLength(glueMin),
    gzip: gz(wasm) + gz(Buffer.from(glueMin)),
    wasm: wasm.length,
    wasmGzip: gz(wasm),
    glue: glue.length,
    glueGzip: gz(glue),
    glueMin: Buffer.byteLength(glueMin),
    glueMinGzip: gz(Buffer.from(glueMin)),
    note: "wasm gzip + minified glue gzip",
  };
  return { site, sizes };
}

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".ts": "text/plain",
};

function serveSite(site) {
  const srv = createServer((req, res) => {
    let path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    if (path.endsWith("/")) path += "index.html";
    if (path === "/favicon.ico") return void res.writeHead(204).end();
    const file = join(site, path);
    if (!file.startsWith(site) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, {
      "content-type": TYPES[extname(file)] || "application/octet-stream",
      "cache-control": "no-store",
      // cross-origin isolation: 5 us timers (WebSocket connections are not subject to COEP)
      "cross-origin-opener-policy": "same-origin",
      "cross-origin-embedder-policy": "require-corp",
    });
    res.end(readFileSync(file));
  });
  return new Promise((r) => srv.listen(0, "127.0.0.1", () => r(srv)));
}

function startEventServer() {
  const candidates = [
    process.env.EVENT_SERVER,
    join(ROOT, "target", "release", "event-server"),
    join(ROOT, "target", "debug", "event-server"),
  ].filter(Boolean);
  const bin = candidates.find((p) => existsSync(p));
  if (!bin) throw new Error("event-server is not built: cargo build -p event-server --release");
  if (bin.includes("/debug/")) log("warning: using a debug event-server; the flood source may be the bottleneck");
  const child = spawn(bin, ["--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolveP, reject) => {
    const rl = createInterface({ input: child.stdout });
    const timer = setTimeout(() => reject(new Error("event-server did not start in 30 s")), 30000);
    child.on("exit", (code) => reject(new Error(`event-server exited with ${code}`)));
    rl.on("line", (line) => {
      const m = line.match(/listening on http:\/\/([\d.]+:\d+)/);
      if (m) {
        clearTimeout(timer);
        resolveP({ child, bin, addr: m[1] });
      }
    });
  });
}

// ---- the measurements ----

/**
 * Every client of a finished round was closed by its own close(): 1.5 s after the last round
 * (longer than the hand-written client's 1 s reconnect delay) the server holds no /flood or
 * /echo socket. A client left reconnecting would sit in other clients' timed rounds.
 */
async function noClientLeftOver(server, section) {
  await new Promise((r) => setTimeout(r, 1500));
  const stats = await (await fetch(`http://${server.addr}/control/stats`)).json();
  if (stats.flood_open !== 0 || stats.echo_open !== 0) {
    throw new Error(`after the ${section} rounds the server still holds ${stats.flood_open} /flood and ${stats.echo_open} /echo sockets: a client of a finished round was not closed`);
  }
  log(`  ${section}: no client left connected (server: 0 /flood, 0 /echo sockets)`);
}

async function main() {
  const t0 = Date.now();
  const { site, sizes } = await buildSite();
  const http = await serveSite(site);
  const server = await startEventServer();
  const pageUrl = `http://127.0.0.1:${http.address().port}/`;
  const ws = `ws://${server.addr}`;
  log(`event-server ${server.bin} on ${server.addr}; page ${pageUrl}`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROME_ARGS, headless: true });
  const results = {
    date: new Date().toISOString(),
    chromium: browser.version(),
    node: process.version,
    quick: QUICK,
    config: { SIZES, ROUNDS, PM_ROUNDS, LAT_SAMPLES, LAT_ROUNDS, RECONNECTS, RECONNECT_WARMUP, START_SAMPLES },
    sizes,
  };
  try {
    const context = await browser.newContext();
    const open = async (query = "") => {
      const page = await context.newPage();
      page.on("pageerror", (e) => log("page error:", e.message));
      page.on("console", (m) => m.type() === "error" && !m.text().includes("404") && log("console:", m.text()));
      await page.goto(`${pageUrl}?ws=${encodeURIComponent(ws)}${query}`);
      await page.waitForFunction(() => window.benchReady === true, null, { timeout: 30000 });
      return page;
    };

    if (want("size")) {
      const es = sizes["event-socket"];
      log(`size: event-socket ${es.gzip} B gzip (wasm ${es.wasmGzip} B + glue ${es.glueMinGzip} B)`);
    }
    // start time: fresh page each sample
    if (want("start")) log("start time");
    results.start = {};
    for (const kind of want("start") ? ["event-socket", "raw", "hand"] : []) {
      const xs = [];
      for (let i = 0; i < START_SAMPLES; i++) {
        const p = await open("&noinit");
        xs.push(await p.evaluate((k) => window.bench.startTime(k), kind));
        await p.close();
      }
      results.start[kind] = {
        init: median(xs.map((x) => x.init)),
        open: median(xs.map((x) => x.open)),
        total: median(xs.map((x) => x.total)),
        samples: xs,
      };
    }

    const page = await open();
    results.crossOriginIsolated = await page.evaluate(() => window.bench.isolated());
    const clients = await page.evaluate(() => window.bench.ALL);

    // per-message cost without the network
    if (want("permessage")) log("per-message cost (stand-in WebSocket)");
    results.perMessage = {};
    for (const s of want("permessage") ? SIZES : []) {
      const out = await page.evaluate(([size, count, rounds]) => window.bench.perMessage(size, count, rounds), [
        s.size,
        s.pmCount,
        PM_ROUNDS,
      ]);
      const med = Object.fromEntries(Object.entries(out).map(([k, xs]) => [k, median(xs)]));
      results.perMessage[s.label] = {
        nsPerMessage: med,
        ratio: Object.fromEntries(Object.entries(med).map(([k, v]) => [k, v / med.hand])),
        rounds: out,
      };
      log(`  ${s.label}:`, Object.entries(med).map(([k, v]) => `${k} ${v.toFixed(0)} ns`).join(", "));
    }

    // sharing across tabs: pages of this one context share locks and channels like tabs
    if (want("tabs")) log("sharing across tabs: a follower's per-message cost, takeover after the leader closes");
    if (want("tabs")) results.tabs = await tabsBench(open);

    // end-to-end throughput: interleaved rounds, fresh connection per round
    if (want("throughput")) log("throughput (/flood)");
    results.throughput = {};
    // With a second copy of the hand-written client: its ratio to the first is the control, the
    // noise of this measurement on this machine (as two identical handlers are for per-message).
    const tpClients = [...clients, "hand2"];
    for (const s of want("throughput") ? SIZES : []) {
      const rates = Object.fromEntries(tpClients.map((k) => [k, []]));
      for (let r = 0; r < ROUNDS; r++) {
        const order = tpClients.slice(r % tpClients.length).concat(tpClients.slice(0, r % tpClients.length));
        for (const k of order) {
          const x = await page.evaluate(([k, size, count]) => window.bench.throughput(k, size, count), [
            k,
            s.size,
            s.count,
          ]);
          rates[k].push(x.rate);
        }
      }
      const med = Object.fromEntries(Object.entries(rates).map(([k, xs]) => [k, median(xs)]));
      results.throughput[s.label] = {
        count: s.count,
        messagesPerSecond: med,
        ratio: Object.fromEntries(Object.entries(med).map(([k, v]) => [k, v / med.hand])),
        rounds: rates,
      };
      log(`  ${s.label}:`, Object.entries(med).map(([k, v]) => `${k} ${v.toFixed(0)}/s`).join(", "));
    }

    await noClientLeftOver(server, "throughput");

    // latency through /echo
    if (want("latency")) log("latency (/echo)");
    // With the second copy of the hand-written client as the control, as for throughput.
    const latClients = [...clients, "hand2"];
    const lat = Object.fromEntries(latClients.map((k) => [k, []]));
    for (let r = 0; r < (want("latency") ? LAT_ROUNDS : 0); r++) {
      const n = latClients.length;
      const order = latClients.slice(r % n).concat(latClients.slice(0, r % n));
      for (const k of order) {
        lat[k].push(...(await page.evaluate(([k, n]) => window.bench.latency(k, n), [k, LAT_SAMPLES])));
      }
    }
    results.latency = Object.fromEntries(
      Object.entries(lat).map(([k, xs]) => [k, { p50: pct(xs, 50), p99: pct(xs, 99), n: xs.length }]),
    );
    if (want("latency")) log("  ", Object.entries(results.latency).map(([k, v]) => `${k} p50 ${(v.p50 * 1000).toFixed(0)} us p99 ${(v.p99 * 1000).toFixed(0)} us`).join(", "));
    await page.close();
    await noClientLeftOver(server, "latency");

    // memory before/after reconnect cycles, each client on a fresh page; "plain" is the baseline: a
    // plain WebSocket reconnected by hand (close, new WebSocket, wait for open), the same cycles
    if (want("memory")) log(`memory (${RECONNECTS} reconnects)`);
    results.memory = {};
    for (const kind of want("memory") ? ["plain", "event-socket", "rws", "partysocket"] : []) {
      const p = await open();
      const cdp = await context.newCDPSession(p);
      const measure = async () => {
        for (let i = 0; i < 3; i++) {
          await cdp.send("HeapProfiler.collectGarbage");
          await p.evaluate(() => window.gc && window.gc());
        }
        const heap = (await cdp.send("Runtime.getHeapUsage")).usedSize;
        const es = await p.evaluate(() => window.bench.esStats());
        return { jsHeap: heap, wasm: es.memory, closures: es.closures, connections: es.connections, allocations: es.allocations, heapBytes: es.heapBytes };
      };
      await p.evaluate((k) => window.bench.memSetup(k), kind);
      await p.evaluate((n) => window.bench.memCycles(n), RECONNECT_WARMUP);
      const before = await measure();
      const t = Date.now();
      await p.evaluate((n) => window.bench.memCycles(n), RECONNECTS);
      const ms = Date.now() - t;
      const after = await measure();
      await p.evaluate(() => window.bench.memTeardown());
      results.memory[kind] = {
        before,
        after,
        jsHeapGrowth: after.jsHeap - before.jsHeap,
        wasmGrowth: after.wasm - before.wasm,
        msPerReconnect: ms / RECONNECTS,
      };
      log(`  ${kind}: js heap ${before.jsHeap} -> ${after.jsHeap}, wasm ${before.wasm} -> ${after.wasm}`);
      await p.close();
    }
    // each client's JS heap growth net of the baseline's (client growth minus plain-loop growth)
    const base = results.memory.plain?.jsHeapGrowth;
    for (const [kind, m] of Object.entries(results.memory)) {
      if (kind !== "plain") m.jsHeapGrowthNet = m.jsHeapGrowth - base;
    }
  } finally {
    await browser.close();
    server.child.kill("SIGTERM");
    http.close();
    rmSync(site, { recursive: true, force: true });
  }
  results.seconds = (Date.now() - t0) / 1000;
  if (ONLY) return log(`BENCH_ONLY=${ONLY}: done in ${results.seconds.toFixed(0)} s, no files written`);
  results.budgets = budgets(results);
  writeFileSync(join(HERE, "results.json"), JSON.stringify(results, null, 2) + "\n");
  writeFileSync(join(HERE, "results.md"), markdown(results));
  writeFileSync(join(HERE, "throughput.svg"), svg(results));
  readmeTable(results);
  log(`wrote results.json, results.md, throughput.svg in ${results.seconds.toFixed(0)} s`);
  for (const b of results.budgets) log(`${b.verdict}  ${b.name}: ${b.value} (budget ${b.budget})`);
}

/**
 * Two pages on one key (the echo endpoint, default `share`): the first leads, the second follows.
 * A follower's per-message cost at 1 KB against the hand-written handler in the same page; then
 * takeover: the leader page closed, the time until the follower's own socket is open (measured
 * from the close call, both clocks the machine's), TAKEOVERS times with a fresh follower each.
 */
async function tabsBench(open) {
  const TAKEOVERS = QUICK ? 3 : 9;
  let leader = await open();
  assert((await leader.evaluate(() => window.bench.tabJoin())) === "leader", "the first page leads");
  let follower = await open();
  assert((await follower.evaluate(() => window.bench.tabJoin())) === "follower", "the second page follows");
  await leader.evaluate(() => window.bench.tabSend(JSON.stringify({ seq: 0 })));
  const s = SIZES.find((x) => x.label === "1 KB");
  const rounds = await follower.evaluate(([size, count, rounds]) => window.bench.followerPerMessage(size, count, rounds), [
    s.size,
    s.pmCount,
    PM_ROUNDS,
  ]);
  const ns = { hand: median(rounds.hand), follower: median(rounds.follower) };
  log(`  follower at 1 KB: ${ns.follower.toFixed(0)} ns, hand-written ${ns.hand.toFixed(0)} ns (${(ns.follower / ns.hand).toFixed(2)}x)`);
  const takeovers = [];
  for (let i = 0; i < TAKEOVERS; i++) {
    const t0 = Date.now();
    await leader.close();
    await follower.waitForFunction(() => window.bench.tabRole() === "leader" && window.bench.tabOpens().some(([, r]) => r === "leader"), null, { timeout: 5000, polling: 5 });
    const at = (await follower.evaluate(() => window.bench.tabOpens())).find(([, r]) => r === "leader")[0];
    takeovers.push(at - t0);
    leader = follower;
    follower = await open();
    assert((await follower.evaluate(() => window.bench.tabJoin())) === "follower", "a new page follows");
  }
  await follower.evaluate(() => window.bench.tabClose());
  await leader.evaluate(() => window.bench.tabClose());
  await follower.close();
  await leader.close();
  log(`  takeover after the leader closed: ${takeovers.join(", ")} ms (median ${median(takeovers)})`);
  return { followerNs: ns, followerRatio: ns.follower / ns.hand, rounds, takeoverMs: takeovers, takeoverMedian: median(takeovers) };
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

/**
 * A ratio's verdict against its budget, read with the control beside it (the hand-written client
 * against an identical copy, same rounds): PASS only when the ratio clears the budget by more than
 * the control's distance from 1.0, FAIL when it misses by more, else "within noise": one run on
 * this machine cannot tell.
 */
function verdict(ratio, budget, control, atLeast) {
  const noise = Math.abs(control - 1);
  const margin = atLeast ? ratio - budget : budget - ratio;
  return margin > noise ? "PASS" : margin < -noise ? "FAIL" : "within noise";
}

/// The client the budgets are about: event-socket as users get it, with its default options.
const DEFAULT = "event-socket-shared";

function budgets(R) {
  const out = [];
  const f2 = (x) => x.toFixed(2);
  const noted = (r, c) => `${f2(r)} (control ${f2(c)})`;
  for (const s of SIZES) {
    const r = R.throughput[s.label].ratio[DEFAULT];
    const c = R.throughput[s.label].ratio.hand2;
    out.push({ name: `e2e throughput at ${s.label}, x hand-written`, value: noted(r, c), budget: `>= ${BUDGET.throughput}`, verdict: verdict(r, BUDGET.throughput, c, true) });
  }
  for (const s of SIZES) {
    const r = R.perMessage[s.label].ratio[DEFAULT];
    const c = R.perMessage[s.label].ratio.hand2;
    const b = BUDGET.perMessage[s.label];
    out.push({ name: `per-message cost at ${s.label}, x hand-written`, value: noted(r, c), budget: `<= ${b}`, verdict: verdict(r, b, c, false) });
  }
  const p99 = R.latency[DEFAULT].p99 / R.latency.hand.p99;
  const p99c = R.latency.hand2.p99 / R.latency.hand.p99;
  out.push({ name: "echo p99 latency, x hand-written", value: noted(p99, p99c), budget: `<= ${BUDGET.p99}`, verdict: verdict(p99, BUDGET.p99, p99c, false) });
  if (R.tabs) {
    out.push({ name: "a follower tab's per-message cost at 1 KB, x hand-written", value: R.tabs.followerRatio.toFixed(2), budget: `<= ${BUDGET.follower}`, verdict: R.tabs.followerRatio <= BUDGET.follower ? "PASS" : "FAIL" });
    out.push({ name: "takeover after the leader tab closes (median)", value: `${R.tabs.takeoverMedian} ms`, budget: `< ${BUDGET.takeoverMs} ms`, verdict: R.tabs.takeoverMedian < BUDGET.takeoverMs ? "PASS" : "FAIL" });
  }
  const gz = R.sizes["event-socket"].gzip;
  out.push({ name: "event-socket shipped size (wasm + glue, min+gzip)", value: `${(gz / 1024).toFixed(1)} KB`, budget: `<= ${BUDGET.gzip / 1024} KB`, verdict: gz <= BUDGET.gzip ? "PASS" : "FAIL" });
  // Counted by the allocator (debugStats): exact, unlike the JS heap, which a plain WebSocket
  // reconnect loop alone moves by 70-145 KB run to run (given beside it, as context).
  const m = R.memory["event-socket"];
  const kb = (b) => `${(b / 1024).toFixed(1)} KB`;
  const allocs = m.after.allocations - m.before.allocations;
  const bytes = m.after.heapBytes - m.before.heapBytes;
  out.push({
    name: `live allocations and bytes in use after ${RECONNECTS} reconnects (JS heap, net of a plain WebSocket loop, as context)`,
    value: `${allocs} allocations, ${bytes} B (JS heap ${kb(m.jsHeapGrowth)} - plain loop ${kb(R.memory.plain.jsHeapGrowth)} = ${kb(m.jsHeapGrowthNet)})`,
    budget: "0 more",
    verdict: allocs <= 0 && bytes <= 0 ? "PASS" : "FAIL",
  });
  return out;
}

/// Rewrites the budget table between the bench markers of the README, so that it shows the latest run.
function readmeTable(R) {
  const path = join(ROOT, "README.md");
  const text = readFileSync(path, "utf8");
  const start = "<!-- bench:start -->";
  const end = "<!-- bench:end -->";
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) return log("README.md has no bench markers: table not written");
  const table = budgetTable(R);
  writeFileSync(path, `${text.slice(0, i + start.length)}\n${table}${text.slice(j)}`);
  log("README.md: budget table updated");
}

function budgetTable(R) {
  let md = "| budget | value | limit | result |\n|---|---|---|---|\n";
  for (const b of R.budgets) md += `| ${b.name} | ${b.value} | ${b.budget} | ${b.verdict === "within noise" ? "within noise" : `**${b.verdict}**`} |\n`;
  return md;
}

function markdown(R) {
  const kinds = Object.keys(NAMES).filter((k) => k !== "hand2");
  const n0 = (x) => Math.round(x).toLocaleString("en-US");
  const f2 = (x) => x.toFixed(2);
  const kb = (b) => (b / 1024).toFixed(1) + " KB";
  let md = `# event-socket benchmark\n\n`;
  md += `Generated by \`bench/run.mjs\` on ${R.date}: Chromium ${R.chromium} (headless), Node ${R.node}, `;
  md += `cross-origin isolated: ${R.crossOriginIsolated}${R.quick ? ", **BENCH_QUICK (reduced rounds)**" : ""}. `;
  md += `Total ${R.seconds.toFixed(0)} s. Raw numbers: \`results.json\`.\n\n`;
  md += `## Budgets\n\n${budgetTable(R)}`;

  md += `\n## End-to-end throughput (\`/flood\`, messages/s to the callback, median of ${R.config.ROUNDS} interleaved rounds)\n\n`;
  md += `| client | ${SIZES.map((s) => `${s.label} (N=${R.throughput[s.label].count})`).join(" | ")} |\n|---|${SIZES.map(() => "---").join("|")}|\n`;
  for (const k of kinds) {
    md += `| ${NAMES[k]} | ${SIZES.map((s) => `${n0(R.throughput[s.label].messagesPerSecond[k])} (${f2(R.throughput[s.label].ratio[k])}x)`).join(" | ")} |\n`;
  }
  md += `\nRatios are to the hand-written client. Chart: \`throughput.svg\`.\n`;
  // How far one round's ratio can be from another's: the budget's precision on this machine.
  const spread = (k) =>
    SIZES.map((s) => {
      const rs = R.throughput[s.label].rounds;
      if (!rs[k]) return `${s.label} n/a`;
      const xs = rs[k].map((v, i) => v / rs.hand[i]).sort((a, b) => a - b);
      return `${s.label} ${f2(xs[0])}-${f2(xs[xs.length - 1])} (median ${f2(median(xs))})`;
    }).join(", ");
  md += `\nSpread of event-socket / hand-written per round (the two ran seconds apart): ${spread("event-socket")}.\n`;
  md += `\nControl, the hand-written client against a second copy of itself, same rounds: ${spread("hand2")}; `;
  md += `its median ratio: ${SIZES.map((s) => `${s.label} ${f2(R.throughput[s.label].ratio.hand2 ?? NaN)}`).join(", ")}. `;
  md += `A budget closer to 1.0 than this control's spread cannot be resolved by one run on this machine.\n`;

  md += `\n## Per-message cost without the network (ns/message, median of ${R.config.PM_ROUNDS} interleaved rounds)\n\n`;
  md += `A stand-in \`WebSocket\` records the handlers each client installs; the same \`MessageEvent\`s are fed to each.\n\n`;
  md += `| client | ${SIZES.map((s) => s.label).join(" | ")} |\n|---|${SIZES.map(() => "---").join("|")}|\n`;
  for (const k of Object.keys(NAMES)) {
    md += `| ${NAMES[k]} | ${SIZES.map((s) => `${n0(R.perMessage[s.label].nsPerMessage[k])} (${f2(R.perMessage[s.label].ratio[k])}x)`).join(" | ")} |\n`;
  }

  md += `\n## Echo latency (\`/echo\`, sequential round trips, ${R.config.LAT_ROUNDS} x ${R.config.LAT_SAMPLES} samples)\n\n| client | p50 | p99 |\n|---|---|---|\n`;
  for (const k of Object.keys(NAMES)) {
    if (R.latency[k]) md += `| ${NAMES[k]} | ${(R.latency[k].p50 * 1000).toFixed(0)} us | ${(R.latency[k].p99 * 1000).toFixed(0)} us |\n`;
  }
  if (R.latency.hand2) {
    const r = (k, p) => f2(R.latency[k][p] / R.latency.hand[p]);
    md += `\nControl, the hand-written client against a second copy of itself in the same rounds: p50 x${r("hand2", "p50")}, p99 x${r("hand2", "p99")} `;
    md += `(event-socket: p50 x${r("event-socket", "p50")}, p99 x${r("event-socket", "p99")}). `;
    md += `The p99 of ${R.config.LAT_ROUNDS * R.config.LAT_SAMPLES} samples is its ${Math.round(R.config.LAT_ROUNDS * R.config.LAT_SAMPLES / 100)} slowest round trips: `;
    md += `a scheduling hiccup of the machine moves it; the control shows by how much in this run.\n`;
  }

  md += `\n## Shipped size (minified + gzip -9)\n\n| client | min | gzip |\n|---|---|---|\n`;
  for (const k of kinds.filter((k) => R.sizes[k])) md += `| ${NAMES[k]} | ${kb(R.sizes[k].min)} | ${kb(R.sizes[k].gzip)} |\n`;
  const es = R.sizes["event-socket"];
  md += `\nevent-socket: wasm ${kb(es.wasm)} (${kb(es.wasmGzip)} gzip) + glue ${kb(es.glue)} (${kb(es.glueGzip)} gzip; minified ${kb(es.glueMin)}, ${kb(es.glueMinGzip)} gzip).\n`;

  md += `\n## Start time (median of ${R.config.START_SAMPLES} fresh pages)\n\n| client | init() | construct -> open | total |\n|---|---|---|---|\n`;
  for (const [k, v] of Object.entries(R.start)) md += `| ${NAMES[k]} | ${v.init.toFixed(1)} ms | ${v.open.toFixed(1)} ms | ${v.total.toFixed(1)} ms |\n`;

  md += `\n## Memory before/after ${R.config.RECONNECTS} reconnect cycles (after ${R.config.RECONNECT_WARMUP} warm-up cycles; GC forced before each reading)\n\n`;
  md += `The baseline is a plain \`WebSocket\` reconnected by hand (close, \`new WebSocket\`, wait for open), with the same warm-up and forced GC; `;
  md += `"net" is a client's JS heap growth minus the baseline's.\n\n`;
  md += `| client | JS heap before | JS heap after | growth | growth net of baseline | wasm memory before -> after | ms/reconnect |\n|---|---|---|---|---|---|---|\n`;
  for (const [k, m] of Object.entries(R.memory)) {
    const net = k === "plain" ? "(baseline)" : kb(m.jsHeapGrowthNet);
    md += `| ${k === "plain" ? PLAIN : NAMES[k]} | ${kb(m.before.jsHeap)} | ${kb(m.after.jsHeap)} | ${kb(m.jsHeapGrowth)} | ${net} | ${k === "event-socket" ? `${kb(m.before.wasm)} -> ${kb(m.after.wasm)}` : "n/a"} | ${m.msPerReconnect.toFixed(2)} |\n`;
  }
  const m = R.memory["event-socket"];
  md += `\nevent-socket debugStats: closures ${m.before.closures} -> ${m.after.closures}, connections ${m.before.connections} -> ${m.after.connections}.\n`;
  return md;
}

function svg(R) {
  const kinds = ["raw", "hand", "rws", "partysocket", "event-socket"];
  const colors = { raw: "#9e9e9e", hand: "#1f77b4", rws: "#ff7f0e", partysocket: "#2ca02c", "event-socket": "#d62728" };
  const W = 720, H = 380, L = 60, B = 60, T = 40, Rm = 180;
  const plotW = W - L - Rm, plotH = H - T - B;
  const ratios = SIZES.flatMap((s) => kinds.map((k) => R.throughput[s.label].ratio[k]));
  const max = Math.max(1.2, Math.ceil(Math.max(...ratios) * 10) / 10);
  const y = (v) => T + plotH - (v / max) * plotH;
  const groupW = plotW / SIZES.length, barW = (groupW * 0.8) / kinds.length;
  let out = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">\n`;
  out += `<rect width="${W}" height="${H}" fill="white"/>\n`;
  out += `<text x="${L}" y="22" font-size="14" font-weight="bold">End-to-end throughput relative to the hand-written client (higher is better)</text>\n`;
  for (let v = 0; v <= max + 1e-9; v += 0.2) {
    out += `<line x1="${L}" x2="${L + plotW}" y1="${y(v)}" y2="${y(v)}" stroke="#e0e0e0"/>`;
    out += `<text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(1)}x</text>\n`;
  }
  SIZES.forEach((s, i) => {
    const gx = L + i * groupW + groupW * 0.1;
    kinds.forEach((k, j) => {
      const v = R.throughput[s.label].ratio[k];
      const mps = R.throughput[s.label].messagesPerSecond[k];
      out += `<rect x="${gx + j * barW}" y="${y(v)}" width="${barW - 2}" height="${y(0) - y(v)}" fill="${colors[k]}"><title>${NAMES[k]} ${s.label}: ${Math.round(mps)} msg/s (${v.toFixed(2)}x)</title></rect>\n`;
    });
    out += `<text x="${L + i * groupW + groupW / 2}" y="${y(0) + 18}" text-anchor="middle">${s.label} (hand: ${Math.round(R.throughput[s.label].messagesPerSecond.hand).toLocaleString("en-US")} msg/s)</text>\n`;
  });
  out += `<line x1="${L}" x2="${L + plotW}" y1="${y(BUDGET.throughput)}" y2="${y(BUDGET.throughput)}" stroke="#d62728" stroke-dasharray="5,4"/>`;
  out += `<text x="${L + plotW + 4}" y="${y(BUDGET.throughput) + 4}" fill="#d62728">budget ${BUDGET.throughput}x</text>\n`;
  out += `<line x1="${L}" x2="${L}" y1="${T}" y2="${y(0)}" stroke="black"/><line x1="${L}" x2="${L + plotW}" y1="${y(0)}" y2="${y(0)}" stroke="black"/>\n`;
  kinds.forEach((k, j) => {
    const ly = T + 30 + j * 20;
    out += `<rect x="${L + plotW + 10}" y="${ly - 10}" width="12" height="12" fill="${colors[k]}"/><text x="${L + plotW + 28}" y="${ly}">${k === "raw" ? "raw (floor)" : k}</text>\n`;
  });
  out += `</svg>\n`;
  return out;
}

main().catch((e) => {
  console.error("[bench] failed:", e);
  process.exit(1);
});
