// Page test of examples/leptos-dashboard: a Leptos (CSR) app that depends on the crate by path with
// `default-features = false`, built by `trunk build --release`, served by a real event server
// (`--static` its dist/, `--simulate demo`), driven in headless Chromium by playwright-core.
//
//   EVENT_SERVER_BIN=target/debug/event-server ROOT=$PWD node tests/e2e/leptos.mjs
//
// `cargo xtask test` runs it. It checks what a Leptos user sees: both sockets open with their
// badges, typed connection.update and messages.upsert rendered, and that unmounting the component
// closes its sockets on the server (the Socket dropped with the component) and mounting opens them
// again. Exits non-zero on any failure; the server and the browser are stopped in every case.

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { assert, check, CHROME_ARGS, log, Opened, runSuite, spawnEventServer, stop } from "./harness.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(process.env.ROOT || path.join(here, "..", ".."));
const BIN = process.env.EVENT_SERVER_BIN || path.join(ROOT, "target", "debug", "event-server");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const APP = path.join(ROOT, "examples", "leptos-dashboard");
const DIST = path.join(APP, "dist");
const T = 15000; // default wait
const KEYS = ["demo/connection.update", "demo/messages.upsert"]; // the server's instance/event keys

const opened = new Opened();
process.on("exit", () => stop(opened.server));

async function stats(base) {
  const res = await fetch(`${base}/control/stats`);
  assert(res.ok, `GET /control/stats: HTTP ${res.status}`);
  return res.json();
}

/** Polls the server until `pred(open)` holds for its map of open sockets per instance/event. */
async function waitOpen(base, pred, what) {
  const until = Date.now() + T;
  let open = {};
  while (Date.now() < until) {
    open = (await stats(base)).open;
    if (pred(open)) return open;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what}: the server has ${JSON.stringify(open)}`);
}

async function main() {
  assert(existsSync(BIN), `EVENT_SERVER_BIN not found: ${BIN}`);

  log("build: trunk build --release (examples/leptos-dashboard)");
  // trunk runs wasm-opt from PATH (offline: it downloads nothing): npm binaryen's, installed here.
  const env = { ...process.env, PATH: `${path.join(here, "node_modules", ".bin")}${path.delimiter}${process.env.PATH}` };
  const build = spawnSync("trunk", ["build", "--release"], { cwd: APP, env, stdio: "inherit" });
  if (build.error || build.status !== 0) {
    throw new Error(`trunk build failed (${build.error ? build.error.message : `status ${build.status}`})`);
  }
  assert(existsSync(path.join(DIST, "index.html")), "trunk build wrote no dist/index.html");

  const started = await spawnEventServer(BIN, ["--port", "0", "--static", DIST, "--simulate", "demo", "--simulate-every", "300"]);
  opened.server = started.child;
  const base = started.base;
  log(`server: ${base}`);

  opened.browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROME_ARGS });
  const page = await opened.browser.newPage();
  page.setDefaultTimeout(T);
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") {
      pageErrors.push(m.text());
      log(`  console error: ${m.text()}`);
    }
  });

  const up = await check("both sockets open: a badge per event says open", async () => {
    const res = await page.goto(`${base}/`);
    assert(res && res.ok(), `GET / -> ${res && res.status()}`);
    for (const ev of ["connection.update", "messages.upsert"]) {
      await page.locator(`[data-event="${ev}"] .badge[data-state="open"]`).waitFor();
    }
    await waitOpen(base, (open) => KEYS.every((k) => open[k] === 1), "one socket per event");
  });
  if (!up) throw new Error("the dashboard did not come up; skipping the rest");

  await check("connection.update arrives typed: the instance and its state", async () => {
    await page.waitForFunction(() => /^demo: (open|connecting|close)$/.test(document.getElementById("instance-state")?.textContent || ""));
  });

  await check("messages.upsert arrives typed: sender and text", async () => {
    const first = page.locator("#messages li").first();
    await first.waitFor();
    const sender = (await first.locator(".sender").textContent()).trim();
    assert(sender.length > 0 && sender !== "?", `a sender: ${JSON.stringify(sender)}`);
    await page.waitForFunction(() => Number.parseInt(document.getElementById("message-count").textContent, 10) >= 2);
  });

  await check("unmounting the component closes its sockets; mounting opens them again", async () => {
    await page.click("#toggle");
    await page.locator("#unmounted").waitFor();
    await waitOpen(base, (open) => KEYS.every((k) => !open[k]), "no socket left after the unmount");
    await page.click("#toggle");
    await page.locator('[data-event="messages.upsert"] .badge[data-state="open"]').waitFor();
    await waitOpen(base, (open) => KEYS.every((k) => open[k] === 1), "one socket per event after mounting again");
  });

  await check("no uncaught errors and no error shown on the page", async () => {
    assert(pageErrors.length === 0, pageErrors.join("; "));
    assert(await page.locator("#error").isHidden(), `the page shows: ${await page.locator("#error").textContent()}`);
  });
}

await runSuite("leptos page tests", main, () => opened.close());
