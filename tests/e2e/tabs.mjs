// Sharing across tabs, on the shipped build: pages of ONE Playwright browser context share Web
// Locks and BroadcastChannels like the tabs of one browser profile. Each page loads pkg/ (the
// page tests/e2e/shipped/index.html, served by `event-server --static`) and subscribes with its
// own token for the same instance; the event server counts the sockets it holds per key.
//
//   EVENT_SERVER_BIN=target/debug/event-server ROOT=$PWD node tests/e2e/tabs.mjs
//
// Every check asserts what a user sees: how many sockets the server holds, which tab's callbacks
// got which events, the handles' `role` and `tabs`. Each prints `ok - …` or `FAIL - …`; the run
// exits non-zero on any failure; the server and the browser are stopped in every case.

import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { assert, check, CHROME_ARGS, log, Opened, runSuite, shippedSite, sleep, spawnEventServer, stop } from "./harness.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(process.env.ROOT || path.join(here, "..", ".."));
const BIN = process.env.EVENT_SERVER_BIN || path.join(ROOT, "target", "debug", "event-server");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const SITE = path.join(ROOT, "target", "e2e-tabs"); // shipped/index.html + a copy of pkg/

const INSTANCE = "tabs";
const EVENTS = ["messages.upsert", "connection.update"];
const [MU, CU] = EVENTS;

const opened = new Opened();
process.on("exit", () => stop(opened.server));
let base = "";

// ---------------------------------------------------------------- helpers (node side)

async function stats() {
  return (await fetch(`${base}/control/stats`)).json();
}

/** Sockets the server holds for `instance/event`. */
async function open(event, instance = INSTANCE) {
  return (await stats()).open[`${instance}/${event}`] || 0;
}

/** Sockets the server has accepted for `instance/event` since it started. */
async function connects(event, instance = INSTANCE) {
  return (await stats()).connects[`${instance}/${event}`] || 0;
}

/** Sends `body` to the instance's current socket for `event`; how many sockets it went to. */
async function post(event, body, instance = INSTANCE) {
  const r = await fetch(`${base}/events/${instance}/${event}`, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
  });
  assert(r.ok, `POST /events/${instance}/${event}: ${r.status}`);
  return (await r.json()).delivered;
}

/** Polls `cond` (async) every 20 ms; throws naming `what` after `ms`. Resolves with the time taken. */
async function until(what, ms, cond) {
  const t0 = Date.now();
  for (;;) {
    if (await cond()) return Date.now() - t0;
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for: ${what}`);
    await sleep(20);
  }
}

const consoleErrors = [];

/** A new tab of `context` with the shipped page loaded. */
async function openTab(context) {
  const page = await context.newPage();
  page.on("pageerror", (e) => {
    consoleErrors.push(e.message);
    log(`  page error: ${e.message}`);
  });
  page.on("console", (m) => {
    if (m.type() === "error" && !/^WebSocket connection to/.test(m.text())) {
      consoleErrors.push(m.text());
      log(`  console error: ${m.text()}`);
    }
  });
  await page.goto(`${base}/`);
  await page.waitForFunction(() => window.suite, null, { timeout: 15000 });
  return page;
}

/**
 * Subscribes the tab to `events` (its own token for INSTANCE). The page keeps what each callback
 * got (`window.got[event]`: the `seq` of each payload) and its handles (`window.subs`).
 */
async function subscribe(page, events = EVENTS, extra = {}) {
  await page.evaluate(
    async ({ events, instance, extra }) => {
      const { es, token } = window.suite;
      window.tok = await token(instance);
      window.got ??= {};
      window.subs ??= {};
      window.debugLines ??= [];
      for (const ev of events) {
        window.got[ev] = [];
        window.subs[ev] = es.socket(ev, (d) => window.got[ev].push(d.seq), {
          url: "/ws/events",
          token: window.tok,
          ...extra,
        });
      }
    },
    { events, instance: INSTANCE, extra },
  );
}

const role = (page, ev) => page.evaluate((ev) => window.subs[ev].role, ev);
const got = (page, ev) => page.evaluate((ev) => window.got[ev].slice(), ev);
const clear = (page, ev) => page.evaluate((ev) => { window.got[ev].length = 0; }, ev);

/** The tab of `pages` that holds `event`'s socket (exactly one must). */
async function leaderOf(pages, ev) {
  const roles = await Promise.all(pages.map((p) => role(p, ev)));
  const leaders = pages.filter((_, i) => roles[i] === "leader");
  assert(leaders.length === 1, `one leader for ${ev}, roles: ${roles.join(", ")}`);
  return leaders[0];
}

/** Posts seq `from..from+n` (one at a time, in order) and waits until every tab got all. */
async function deliverTo(pages, ev, from, n, ms = 5000) {
  for (let i = from; i < from + n; i++) await post(ev, { seq: i });
  return until(`${n} messages in ${pages.length} tab(s)`, ms, async () => {
    const all = await Promise.all(pages.map((p) => got(p, ev)));
    return all.every((g) => g.filter((s) => s >= from && s < from + n).length >= n);
  });
}

/** Every tab got exactly `from..from+n` of the run's messages since `clear`, once each, in order. */
async function exactlyOnceInOrder(pages, ev, from, n) {
  for (const [i, p] of pages.entries()) {
    const g = await got(p, ev);
    const want = Array.from({ length: n }, (_, k) => from + k);
    assert(
      g.length === n && g.every((s, k) => s === want[k]),
      `tab ${i}: ${g.length} messages, first differences: ${JSON.stringify(g.filter((s, k) => s !== want[k]).slice(0, 5))}`,
    );
  }
}

/**
 * After the leader tab went (closed, crashed, hung): waits until the server has a socket for the
 * key again and a new message reaches every remaining tab; returns the time that took.
 */
async function takeover(pages, ev, seq, ms) {
  const t0 = Date.now();
  for (const p of pages) await clear(p, ev);
  // Until the new leader's socket is the server's current one, a post goes to the old socket
  // (a hung tab's, or a crashed tab's the browser has not closed yet): post a new one each time.
  let next = seq;
  await until("a message in every remaining tab", ms, async () => {
    await post(ev, { seq: next++ });
    const all = await Promise.all(pages.map((p) => got(p, ev)));
    return all.every((g) => g.length > 0);
  });
  return Date.now() - t0;
}

/**
 * A leader that was replaced runs again: it follows, the server has one socket for the key and
 * exactly one connection more than `before` (the new leader's), and 100 new messages from `seq`
 * reach every tab once, in order (nothing relayed twice by the old leader).
 */
async function oldLeaderFollows(pages, leader, seq, before, since) {
  await until("the old leader follows", 3000, async () => (await role(leader, MU)) === "follower")
    .catch(async (e) => { throw new Error(`${e.message} (role: ${await role(leader, MU)})`); });
  await until("one socket for the key", 3000, async () => (await open(MU)) === 1);
  for (const p of pages) await clear(p, MU);
  await deliverTo(pages, MU, seq, 100);
  await sleep(200);
  await exactlyOnceInOrder(pages, MU, seq, 100);
  const n = (await connects(MU)) - before;
  assert(n === 1, `${n} connections since the ${since} (want 1: the new leader's)`);
}

// ---------------------------------------------------------------- the run

async function main() {
  assert(existsSync(BIN), `EVENT_SERVER_BIN not found: ${BIN}`);
  shippedSite(ROOT, SITE);

  const ev = await spawnEventServer(BIN, ["--port", "0", "--static", SITE]);
  opened.server = ev.child;
  base = ev.base;
  opened.browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROME_ARGS });
  const context = await opened.browser.newContext();
  // Every message any tab posts on a BroadcastChannel, as text, to look for the token in.
  await context.addInitScript(() => {
    const real = BroadcastChannel.prototype.postMessage;
    window.posted = [];
    BroadcastChannel.prototype.postMessage = function (m) {
      let s;
      try {
        s = JSON.stringify(m);
      } catch (_) {
        s = String(m);
      }
      window.posted.push(`${this.name}\u0000${s}`);
      return real.call(this, m);
    };
  });

  const pages = [];
  for (let i = 0; i < 3; i++) pages.push(await openTab(context));
  for (const p of pages) await subscribe(p);

  await check("3 tabs x 2 events: exactly 2 server sockets, one leader per event, stable for 10 s", async () => {
    await until("a socket per event", 5000, async () => (await open(MU)) === 1 && (await open(CU)) === 1);
    await until("every tab open", 5000, async () => {
      const s = await Promise.all(pages.map((p) => p.evaluate(() => Object.values(window.subs).map((s) => s.state))));
      return s.flat().every((x) => x === "open");
    });
    for (const e of EVENTS) await leaderOf(pages, e);
    const counts = await Promise.all(pages.map((p) => p.evaluate((e) => window.subs[e].tabs, MU)));
    assert(counts.every((c) => c === 3), `tabs seen: ${counts}`);
    const before = [await connects(MU), await connects(CU)];
    for (let t = 0; t < 40; t++) {
      const s = await stats();
      const keys = Object.entries(s.open).filter(([k]) => k.startsWith(`${INSTANCE}/`));
      assert(keys.length === 2 && keys.every(([, n]) => n === 1), `sockets: ${JSON.stringify(s.open)}`);
      await sleep(250);
    }
    const after = [await connects(MU), await connects(CU)];
    assert(before.every((n, i) => n === after[i]), `connections while stable: ${before} -> ${after}`);
  });

  await check("1,000 messages reach every tab exactly once, in order (both events)", async () => {
    for (const e of EVENTS) for (const p of pages) await clear(p, e);
    await Promise.all([deliverTo(pages, MU, 0, 1000, 20000), deliverTo(pages, CU, 0, 1000, 20000)]);
    await sleep(200); // anything extra would have arrived by now
    for (const e of EVENTS) await exactlyOnceInOrder(pages, e, 0, 1000);
  });

  await check("in a follower, a callback that takes (data, event) gets the frame's MessageEvent; one that takes (data) the data", async () => {
    const roles = await Promise.all(pages.map((p) => role(p, MU)));
    const follower = pages[roles.indexOf("follower")];
    assert(follower, `a follower among ${roles}`);
    await follower.evaluate((ev) => {
      window.withEvent = [];
      window.second = window.suite.es.socket(ev, (d, e) => window.withEvent.push([d.seq, e instanceof MessageEvent, e.data]), {
        url: "/ws/events",
        token: window.tok,
      });
    }, MU);
    await clear(follower, MU);
    await deliverTo([follower], MU, 5000, 5);
    await until("5 in the second callback", 3000, async () => (await follower.evaluate(() => window.withEvent.length)) >= 5);
    const r = await follower.evaluate(() => window.withEvent);
    for (const [seq, isEvent, data] of r) {
      assert(isEvent && JSON.parse(data).seq === seq, `event for ${seq}: ${isEvent}, ${data}`);
    }
    assert((await got(follower, MU)).join() === "5000,5001,5002,5003,5004", `the (data) callback got ${await got(follower, MU)}`);
    await follower.evaluate(() => window.second.close());
  });

  await check("sends from every tab reach the server once and come back to every tab once (echo)", async () => {
    for (const p of pages) {
      await p.evaluate(() => {
        window.echoes = [];
        window.echo = window.suite.es.socket("echo", (d) => window.echoes.push(d), { url: "/echo", parse: "text" });
      });
    }
    await until("the echo socket open in every tab", 5000, async () => {
      const s = await Promise.all(pages.map((p) => p.evaluate(() => window.echo.state)));
      return s.every((x) => x === "open");
    });
    assert((await stats()).echo_open === 1, `echo sockets: ${(await stats()).echo_open}`);
    await Promise.all(
      pages.map((p, i) =>
        p.evaluate((i) => {
          for (let k = 0; k < 50; k++) if (!window.echo.send(`${i}:${k}`)) throw new Error(`send ${k} refused`);
        }, i),
      ),
    );
    await until("150 echoes in every tab", 5000, async () => {
      const all = await Promise.all(pages.map((p) => p.evaluate(() => window.echoes.length)));
      return all.every((n) => n >= 150);
    });
    await sleep(200);
    for (const [i, p] of pages.entries()) {
      const e = await p.evaluate(() => window.echoes.slice());
      assert(e.length === 150 && new Set(e).size === 150, `tab ${i}: ${e.length} echoes, ${new Set(e).size} distinct`);
      for (let t = 0; t < 3; t++) {
        const mine = e.filter((s) => s.startsWith(`${t}:`)).map((s) => Number(s.split(":")[1]));
        assert(mine.every((k, j) => k === j), `tab ${i}: tab ${t}'s sends out of order`);
      }
    }
    for (const p of pages) await p.evaluate(() => window.echo.close());
    await until("the echo socket closed", 2000, async () => (await stats()).echo_open === 0);
  });

  await check("the token is in no channel message and no lock name", async () => {
    for (const [i, p] of pages.entries()) {
      const r = await p.evaluate(async () => ({
        tok: window.tok,
        posted: window.posted.length,
        leaks: window.posted.filter((s) => s.includes(window.tok)).length,
        locks: (await navigator.locks.query()).held.concat((await navigator.locks.query()).pending).map((l) => l.name),
      }));
      assert(r.posted > 0, `tab ${i} posted nothing: the check would see no leak`);
      assert(r.leaks === 0, `tab ${i}: the token in ${r.leaks} of ${r.posted} channel messages`);
      assert(r.locks.length >= 2, `tab ${i}: locks ${JSON.stringify(r.locks)}`);
      assert(!r.locks.some((n) => n.includes(r.tok)), `tab ${i}: the token in a lock name`);
      assert(r.locks.every((n) => !/token=/.test(n)), `a lock name with a token parameter: ${r.locks}`);
    }
  });

  let seq = 10000;
  await check("closing the leader tab: a new socket and delivery in every remaining tab within 1 s, until one tab is left", async () => {
    const left = pages.slice();
    const times = [];
    while (left.length > 1) {
      const leader = await leaderOf(left, MU);
      left.splice(left.indexOf(leader), 1);
      await leader.close();
      times.push(await takeover(left, MU, seq, 1000));
      seq += 1000;
      await leaderOf(left, MU);
      assert((await open(MU)) === 1, `sockets after takeover: ${await open(MU)}`);
    }
    log(`  takeover after close: ${times.join(", ")} ms`);
    pages.splice(0, pages.length, ...left);
  });

  await check("a crashed leader tab (CDP Page.crash): the same", async () => {
    while (pages.length < 3) {
      const p = await openTab(context);
      await subscribe(p);
      pages.push(p);
    }
    await until("3 tabs on the key", 5000, async () =>
      (await Promise.all(pages.map((p) => p.evaluate((e) => window.subs[e].tabs, MU)))).every((n) => n === 3));
    const leader = await leaderOf(pages, MU);
    pages.splice(pages.indexOf(leader), 1);
    const cdp = await context.newCDPSession(leader);
    cdp.send("Page.crash").catch(() => {}); // never answers: the page is gone
    const ms = await takeover(pages, MU, seq, 1000);
    seq += 1000;
    log(`  takeover after a crash: ${ms} ms`);
    await leader.close().catch(() => {});
    await leaderOf(pages, MU);
    assert((await open(MU)) === 1, `sockets: ${await open(MU)}`);
  });

  await check("a hung leader (its main thread busy 8 s) is replaced; resumed, it opens nothing and relays nothing", async () => {
    while (pages.length < 3) {
      const p = await openTab(context);
      await subscribe(p);
      pages.push(p);
    }
    const leader = await leaderOf(pages, MU);
    const others = pages.filter((p) => p !== leader);
    const before = await connects(MU);
    const hang = leader.evaluate(() => {
      const t = Date.now();
      while (Date.now() - t < 8000);
    });
    const ms = await takeover(others, MU, seq, 10000);
    seq += 1000;
    log(`  takeover from a hung leader: ${ms} ms`);
    await hang;
    await oldLeaderFollows(pages, leader, seq, before, "hang");
    seq += 100;
  });

  // CDP Page.setWebLifecycleState("frozen") does not freeze a visible headless page in this
  // Chromium (tried: no freeze event, its timers keep running; also with focus emulation off and
  // the window minimized). A frozen page is a page that runs no task: the hung leader above is
  // that case without the warning. Here the page gets the warning the browser gives before it
  // freezes one (`freeze` on document), then runs no task for 3 s, then `resume`.
  await check("a leader told it is frozen lets go at once; resumed, it follows, opens nothing and relays nothing", async () => {
    const leader = await leaderOf(pages, MU);
    const others = pages.filter((p) => p !== leader);
    const before = await connects(MU);
    await leader.evaluate(() => document.dispatchEvent(new Event("freeze")));
    const frozen = leader.evaluate(() => {
      const t = Date.now();
      while (Date.now() - t < 3000);
    });
    const ms = await takeover(others, MU, seq, 2500);
    seq += 1000;
    log(`  takeover from a frozen leader: ${ms} ms`);
    await frozen;
    await leader.evaluate(() => document.dispatchEvent(new Event("resume")));
    await oldLeaderFollows(pages, leader, seq, before, "freeze");
    seq += 100;
  });

  await check("the last unsubscribe in the browser closes the socket within 1 s", async () => {
    for (const p of pages.slice(1)) await p.evaluate(() => Object.values(window.subs).forEach((s) => s.close()));
    await sleep(300);
    assert((await open(MU)) === 1 && (await open(CU)) === 1, "the last tab still has its sockets");
    await pages[0].evaluate(() => Object.values(window.subs).forEach((s) => s.close()));
    const ms = await until("no socket for either key", 1000, async () => (await open(MU)) + (await open(CU)) === 0);
    log(`  closed in ${ms} ms`);
    const locks = await pages[0].evaluate(async () => (await navigator.locks.query()).held.length);
    assert(locks === 0, `${locks} lock(s) still held`);
  });

  await check("share: \"page\" and share: false keep a socket per tab (role \"page\")", async () => {
    const two = pages.slice(0, 2);
    for (const p of two) await subscribe(p, [MU], { share: "page" });
    await until("two sockets", 3000, async () => (await open(MU)) === 2);
    for (const p of two) assert((await role(p, MU)) === "page", "role page");
    for (const p of two) await p.evaluate((e) => window.subs[e].close(), MU);
    await until("closed", 2000, async () => (await open(MU)) === 0);
  });

  await check("a second browser context is a second browser: its own socket", async () => {
    await subscribe(pages[0], [MU]);
    await until("a socket", 3000, async () => (await open(MU)) === 1);
    const other = await opened.browser.newContext();
    const p = await openTab(other);
    await subscribe(p, [MU]);
    await until("a second socket", 3000, async () => (await open(MU)) === 2);
    assert((await role(p, MU)) === "leader", `role: ${await role(p, MU)}`);
    await p.evaluate((e) => window.subs[e].close(), MU);
    await pages[0].evaluate((e) => window.subs[e].close(), MU);
    await until("closed", 2000, async () => (await open(MU)) === 0);
    await other.close();
  });

  await check("without navigator.locks each tab still gets its events (role \"page\", one debug line why)", async () => {
    const bare = await opened.browser.newContext();
    await bare.addInitScript(() => {
      Object.defineProperty(Navigator.prototype, "locks", { get: () => undefined });
    });
    const p = await openTab(bare);
    const lines = [];
    p.on("console", (m) => lines.push(m.text()));
    await subscribe(p, [MU], { debug: true });
    await until("open", 3000, async () => (await p.evaluate((e) => window.subs[e].state, MU)) === "open");
    assert((await role(p, MU)) === "page", `role: ${await role(p, MU)}`);
    await clear(p, MU);
    await deliverTo([p], MU, seq, 10);
    const why = lines.filter((l) => /shared within this page only/.test(l));
    assert(why.length === 1 && /Web Locks/.test(why[0]), `debug lines: ${JSON.stringify(why)}`);
    await p.evaluate((e) => window.subs[e].close(), MU);
    await bare.close();
  });

  assert(consoleErrors.length === 0, `console errors: ${consoleErrors.join(" | ")}`);
}

await runSuite("\ntabs suite on the shipped build", main, () => opened.close());
