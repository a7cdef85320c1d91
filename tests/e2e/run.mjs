// Page tests for the demo (www/): the built page in headless Chromium, driven by playwright-core,
// against a real event-server that serves the page and the sockets on one origin.
//
//   EVENT_SERVER_BIN=target/debug/event-server ROOT=$PWD node tests/e2e/run.mjs
//
// `cargo xtask test` runs this after building pkg/ (the page copies it). Steps: `trunk build` (its
// pre_build hook runs `cargo xtask pkg`, up to date by then) into
// ROOT/dist, `event-server --port 0 --static dist --simulate demo --simulate-every 300`, then the
// checks below, each printed as `ok - ...` or `FAIL - ...`. Screenshots go to target/screenshots/.
// Exits non-zero on any failure; the server and the browser are stopped in every case.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { assert, check, CHROME_ARGS, log, runSuite, sleep, spawnEventServer, stop } from "./harness.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(process.env.ROOT || path.join(here, "..", ".."));
const BIN = process.env.EVENT_SERVER_BIN || path.join(ROOT, "target", "debug", "event-server");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const DIST = path.join(ROOT, "dist");
const SHOTS = path.join(ROOT, "target", "screenshots");
const RETRY_MS = 1000; // the page's reconnectInterval
const T = 15000; // default wait
/** The events the demo subscribes to, each with its own socket. */
const LIVE_EVENTS = ["connection.update", "qrcode.updated", "messages.upsert", "presence.update", "chats.upsert"];

let server = null;
let browser = null;
let bare = null; // the static server without an event server behind it

// ---------------------------------------------------------------- helpers

function stopServer() {
  stop(server);
}

async function cleanup() {
  bare?.close();
  bare = null;
  if (browser) {
    const b = browser;
    browser = null;
    await b.close().catch(() => {});
  }
  stopServer();
}

process.on("exit", stopServer);

/** Starts the event server; resolves with its http://HOST:PORT. */
async function startServer() {
  const args = ["--port", "0", "--static", DIST, "--simulate", "demo", "--simulate-every", "300"];
  const started = await spawnEventServer(BIN, args);
  server = started.child;
  return started.base;
}

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".css": "text/css", ".svg": "image/svg+xml" };

/**
 * dist/ served the way `trunk serve` serves it when the event server is not running: the files,
 * and HTTP 500 for /health (what trunk's proxy answers when 127.0.0.1:8084 refuses) until
 * `healthy.ok` is set. Resolves with its http://127.0.0.1:PORT.
 */
function serveDistAlone(healthy) {
  return new Promise((resolve, reject) => {
    bare = http.createServer((req, res) => {
      const p = new URL(req.url, "http://x").pathname;
      if (p === "/health") {
        res.writeHead(healthy.ok ? 200 : 500, { "content-type": "application/json" });
        return res.end(healthy.ok ? '{"ok":true}' : "");
      }
      const file = path.join(DIST, p.endsWith("/") ? `${p}index.html` : p);
      if (!file.startsWith(DIST) || !existsSync(file)) {
        res.writeHead(404);
        return res.end();
      }
      res.writeHead(200, { "content-type": TYPES[path.extname(file)] || "application/octet-stream" });
      res.end(readFileSync(file));
    });
    bare.on("error", reject);
    bare.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${bare.address().port}`));
  });
}

async function api(base, method, p) {
  const res = await fetch(`${base}${p}`, { method });
  assert(res.ok, `${method} ${p}: HTTP ${res.status}`);
  return res.json();
}

// ---------------------------------------------------------------- the run

async function main() {
  assert(existsSync(path.join(ROOT, "pkg", "event_socket.js")), "pkg/ is missing: run `cargo xtask pkg` first");
  assert(existsSync(BIN), `EVENT_SERVER_BIN not found: ${BIN}`);

  log("build: trunk build");
  const build = spawnSync("trunk", ["build"], { cwd: ROOT, encoding: "utf8" });
  if (build.error || build.status !== 0) {
    process.stdout.write(build.stdout || "");
    process.stderr.write(build.stderr || "");
    throw new Error(`trunk build failed (${build.error ? build.error.message : `status ${build.status}`})`);
  }
  assert(existsSync(path.join(DIST, "index.html")), "trunk build wrote no dist/index.html");
  assert(existsSync(path.join(DIST, "pkg", "event_socket_bg.wasm")), "dist/pkg/event_socket_bg.wasm is missing");

  const base = await startServer();
  log(`server: ${base}`);
  mkdirSync(SHOTS, { recursive: true });

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROME_ARGS,
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(T);
  const pageErrors = [];
  page.on("pageerror", (e) => {
    pageErrors.push(e.message);
    log(`  page error: ${e.message}`);
  });
  page.on("console", (m) => {
    if (m.type() === "error") log(`  console error: ${m.text()}`);
  });

  const statusText = () => page.locator("#status-text").textContent();
  const waitStatus = (re, timeout = T) =>
    page.waitForFunction(
      (src) => new RegExp(src).test(document.getElementById("status-text")?.textContent || ""),
      re.source,
      { timeout },
    );
  const stats = () => api(base, "GET", "/control/stats");

  const loaded = await check("the page loads and the chat says Connected", async () => {
    const health = page.waitForResponse((r) => new URL(r.url()).pathname === "/health");
    const res = await page.goto(`${base}/`);
    assert(res && res.ok(), `GET / -> ${res && res.status()}`);
    await waitStatus(/^Connected to ws:\/\//);
    const text = await statusText();
    assert(text.includes("/echo"), `status names the echo url: ${text}`);
    assert((await page.locator("#chat-badge").textContent()) === "open", "chat badge is open");
    assert((await health).ok(), "the page asked its server for /health and got it");
    assert(await page.locator("#server-banner").isHidden(), "no missing-server banner while the server answers");
  });
  if (!loaded) throw new Error("the page did not come up; skipping the rest");

  await check("a sent message comes back from /echo, styled apart", async () => {
    const text = `hello from the page test <b>${Date.now()}</b>`;
    await page.fill("#message", text);
    await page.press("#message", "Enter");
    await page.locator("#messages li.msg.sent .text", { hasText: text }).waitFor();
    await page.locator("#messages li.msg.received .text", { hasText: text }).waitFor();
    assert((await page.inputValue("#message")) === "", "the field is cleared after sending");
    assert((await page.locator("#messages b").count()) === 0, "the message is text, not markup");
    const [sentBg, recvBg] = await page.evaluate(() =>
      ["sent", "received"].map(
        (k) => getComputedStyle(document.querySelector(`#messages li.msg.${k}`)).backgroundColor,
      ),
    );
    assert(sentBg !== recvBg, `sent and received look different (${sentBg} vs ${recvBg})`);
    assert((await page.getAttribute("#messages", "aria-live")) === "polite", "the message list has aria-live");
  });

  await check("each event subscription opens (its own state badge)", async () => {
    for (const ev of LIVE_EVENTS) {
      await page.locator(`.subs li[data-event="${ev}"] .badge[data-state="open"]`).waitFor();
    }
  });

  await check("a second tab shares the sockets: one leads, the other follows, the server holds one per event", async () => {
    const second = await context.newPage();
    try {
      await second.goto(`${base}/`);
      for (const ev of LIVE_EVENTS) {
        await second.locator(`.subs li[data-event="${ev}"] .badge[data-state="open"]`).waitFor();
      }
      const roles = async (p) =>
        p.evaluate(() => [...document.querySelectorAll(".subs li .role")].map((r) => r.textContent));
      await page.waitForFunction(() => /2 tabs share them/.test(document.getElementById("tabs-count").textContent));
      await second.waitForFunction(() => /2 tabs share them/.test(document.getElementById("tabs-count").textContent));
      const [a, b] = [await roles(page), await roles(second)];
      for (let i = 0; i < LIVE_EVENTS.length; i++) {
        assert([a[i], b[i]].sort().join() === "follower,leader", `${LIVE_EVENTS[i]}: roles ${a[i]} and ${b[i]}`);
      }
      const open = (await stats()).open;
      for (const ev of LIVE_EVENTS) {
        const n = Object.entries(open).filter(([k]) => k.endsWith(`/${ev}`)).reduce((x, [, v]) => x + v, 0);
        assert(n === 1, `${ev}: ${n} server sockets with two tabs open`);
      }
    } finally {
      await second.close();
    }
    await page.waitForFunction(() => /Only this tab/.test(document.getElementById("tabs-count").textContent));
    await page.waitForFunction(() => [...document.querySelectorAll(".subs li .role")].every((r) => r.textContent === "leader"));
  });

  await check("connection.update shows the instance state", async () => {
    await page.waitForFunction(() =>
      ["open", "connecting", "close"].includes(document.getElementById("instance-state").dataset.state),
    );
    const n = Number(await page.locator('.subs li[data-event="connection.update"] .count').textContent());
    assert(n > 0, "the connection.update counter moved");
  });

  await check("qrcode.updated renders the QR image", async () => {
    await page.waitForFunction(() => {
      const img = document.getElementById("qr-img");
      return img && !img.hidden && img.complete && img.naturalWidth > 0;
    });
    const src = await page.getAttribute("#qr-img", "src");
    assert(src.startsWith("data:image/png;base64,"), "the src is the payload's data URL");
  });

  await check("messages.upsert shows sender and text", async () => {
    await page.locator("#wa-messages li.wa .sender").first().waitFor();
    const name = (await page.locator("#wa-messages li.wa .sender").first().textContent()).trim();
    const text = (await page.locator("#wa-messages li.wa .text").first().textContent()).trim();
    assert(name.length > 0 && text.length > 0, `sender ${JSON.stringify(name)}, text ${JSON.stringify(text)}`);
  });

  await check("presence.update and chats.upsert (an array) show rows; a pairing code shows beside the QR", async () => {
    await page.locator("#presence li:not(.empty)").first().waitFor();
    await page.locator("#chats li:not(.empty)").first().waitFor();
    const chat = (await page.locator("#chats li .h-state").first().textContent()).trim();
    assert(/^\d+|^\d{6,}/.test(chat), `a chat row names the chat: ${chat}`);
    // every third QR round of the simulator pairs by phone: `paringCode` (sic)
    await page.locator("#qr-caption .pairing").waitFor({ timeout: 20000 });
    const code = (await page.locator("#qr-caption .pairing").textContent()).trim();
    assert(/^[A-Z0-9]{8}$/.test(code), `the pairing code: ${code}`);
  });

  await check("the XSS message appears as text and runs nothing", async () => {
    const xss = '<img src=x onerror="window.__xss=1">';
    await page.waitForFunction(
      (t) => Array.from(document.querySelectorAll("#wa-messages .text")).some((p) => p.textContent === t),
      xss,
      { timeout: 20000 },
    );
    await sleep(300);
    assert((await page.evaluate(() => window.__xss)) === undefined, "window.__xss stays undefined");
    assert((await page.locator('img[src="x"]').count()) === 0, "no <img src=x> in the DOM");
  });

  await check("screenshots: desktop 1280x800 and phone 390x844", async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await sleep(300);
    await page.screenshot({ path: path.join(SHOTS, "demo-desktop.png"), fullPage: true, animations: "disabled" });
    await page.setViewportSize({ width: 390, height: 844 });
    await sleep(300);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    await page.screenshot({ path: path.join(SHOTS, "demo-phone.png"), fullPage: true, animations: "disabled" });
    await page.setViewportSize({ width: 1280, height: 800 });
    assert(overflow <= 0, `no horizontal scrolling on a phone (overflow ${overflow}px)`);
  });

  await check("close stays closed: no echo connection for three retry intervals", async () => {
    const before = await stats();
    assert(before.echo_open === 1, `one echo socket open before closing (echo_open ${before.echo_open})`);
    await page.click("#close");
    await waitStatus(/^Disconnected/);
    await page.locator("#connect").waitFor({ state: "visible" });
    assert(await page.isDisabled("#send"), "the send button is disabled while closed");
    await sleep(3 * RETRY_MS + 500);
    const after = await stats();
    assert(after.echo_open === 0, `echo_open is ${after.echo_open}`);
    assert(
      after.echo_connects === before.echo_connects,
      `echo_connects moved from ${before.echo_connects} to ${after.echo_connects}`,
    );
    assert((await page.locator("#chat-badge").textContent()) === "closed", "the chat badge says closed");
    assert(/^Disconnected/.test(await statusText()), "the status still says Disconnected");
  });

  await check("connect again opens a new socket and echoes", async () => {
    const before = await stats();
    await page.click("#connect");
    await waitStatus(/^Connected to /);
    const text = `second session ${Date.now()}`;
    await page.fill("#message", text);
    await page.click("#send");
    await page.locator("#messages li.msg.received .text", { hasText: text }).waitFor();
    const after = await stats();
    assert(after.echo_open === 1, `echo_open is ${after.echo_open}`);
    assert(after.echo_connects === before.echo_connects + 1, "exactly one new echo connection");
  });

  await check("an abrupt drop: the status goes to Reconnecting and back to Connected", async () => {
    // record every status text and badge state the page shows from now on
    await page.evaluate(() => {
      window.__seen = { status: [], badges: [] };
      const status = document.getElementById("status-text");
      new MutationObserver(() => window.__seen.status.push(status.textContent)).observe(status, {
        childList: true,
        characterData: true,
        subtree: true,
      });
      for (const b of document.querySelectorAll(".subs .badge")) {
        new MutationObserver(() => window.__seen.badges.push(`${b.closest("li").dataset.event}:${b.dataset.state}`)).observe(
          b,
          { attributes: true, attributeFilter: ["data-state"] },
        );
      }
    });
    const dropped = await api(base, "POST", "/control/drop?mode=abrupt");
    assert(dropped.dropped >= 1 + LIVE_EVENTS.length, `the server dropped the chat and the event sockets (dropped ${dropped.dropped})`);
    await page.waitForFunction(() => window.__seen.status.some((s) => /^Reconnecting in \d+ s \(attempt \d+\)$/.test(s)));
    await waitStatus(/^Connected to /, 20000);
    for (const ev of LIVE_EVENTS) {
      await page.locator(`.subs li[data-event="${ev}"] .badge[data-state="open"]`).waitFor({ timeout: 20000 });
    }
    const seen = await page.evaluate(() => window.__seen);
    log(`  status seen: ${seen.status.join(" | ")}`);
    for (const ev of LIVE_EVENTS) {
      assert(seen.badges.includes(`${ev}:reconnecting`), `${ev} went through reconnecting`);
    }
    const text = `after the drop ${Date.now()}`;
    await page.fill("#message", text);
    await page.press("#message", "Enter");
    await page.locator("#messages li.msg.received .text", { hasText: text }).waitFor();
    const s = await stats();
    assert(s.echo_open === 1, `one echo socket after reconnecting (echo_open ${s.echo_open})`);
  });

  await check("settings: the server and instance are kept in the page address", async () => {
    await page.click("#settings-toggle");
    await page.locator("#settings").waitFor({ state: "visible" });
    await page.fill("#set-server", base.replace(/^http/, "ws"));
    await page.fill("#set-instance", "demo");
    await page.click("#settings-apply");
    await page.locator("#settings").waitFor({ state: "hidden" });
    const url = new URL(page.url());
    assert(url.searchParams.get("server") === base.replace(/^http/, "ws"), `server in the query: ${page.url()}`);
    assert(!url.searchParams.has("token"), "no token in the address");
    for (const ev of LIVE_EVENTS) {
      await page.locator(`.subs li[data-event="${ev}"] .badge[data-state="open"]`).waitFor();
    }
    // a reload keeps the setting
    await page.reload();
    assert((await page.inputValue("#set-server")) === base.replace(/^http/, "ws"), "the setting survives a reload");
    await waitStatus(/^Connected to /);
  });

  await check("without the event server (trunk serve alone) a banner says what to start, and goes once it answers", async () => {
    const healthy = { ok: false };
    const alone = await serveDistAlone(healthy);
    const p2 = await context.newPage();
    try {
      await p2.goto(`${alone}/`);
      const banner = p2.locator("#server-banner");
      await banner.waitFor({ state: "visible" });
      const said = await banner.textContent();
      for (const part of ["cargo run -p event-server", "cargo xtask demo", "8084"]) {
        assert(said.includes(part), `the banner names ${JSON.stringify(part)}: ${said}`);
      }
      healthy.ok = true;
      await banner.waitFor({ state: "hidden", timeout: 10000 });
    } finally {
      await p2.close();
    }
  });

  await check("no uncaught errors on the page", async () => {
    assert(pageErrors.length === 0, pageErrors.join("; "));
  });
}

await runSuite(`page tests (screenshots in ${path.relative(ROOT, SHOTS) || SHOTS})`, main, cleanup);
