// The little test harness the page tests share: named checks printed as `ok - …` / `FAIL - …`,
// counted for the summary line and the exit code; starting an event server and stopping it.

import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";

export function log(line) {
  process.stdout.write(`${line}\n`);
}

export function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Checks run so far; `failures` also counts errors outside any check. */
export const tally = { passed: 0, failures: 0 };

/** Runs one named check; a throw fails it and the run goes on. */
export async function check(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    tally.passed += 1;
    log(`ok - ${name} (${Date.now() - t0} ms)`);
    return true;
  } catch (e) {
    tally.failures += 1;
    log(`FAIL - ${name}: ${(e && e.message) || e}`);
    return false;
  }
}

// ---------------------------------------------------------------- servers and the browser

/** Chromium's flags for these machines (no sandbox as root, no background network chatter). */
export const CHROME_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-dev-shm-usage",
];

/**
 * Lays out the shipped-build site in `site` (emptied first): tests/e2e/shipped/index.html beside
 * a copy of `root`/pkg/, which must have been built (`cargo xtask pkg`). Returns `site`.
 */
export function shippedSite(root, site) {
  const pkg = path.join(root, "pkg");
  assert(existsSync(path.join(pkg, "event_socket_bg.wasm")), `no pkg/ at ${pkg}: run \`cargo xtask pkg\` first`);
  rmSync(site, { recursive: true, force: true });
  mkdirSync(site, { recursive: true });
  const here = path.dirname(fileURLToPath(import.meta.url));
  cpSync(path.join(here, "shipped", "index.html"), path.join(site, "index.html"));
  cpSync(pkg, path.join(site, "pkg"), { recursive: true });
  return site;
}

/** Stops a child process: SIGTERM, then SIGKILL if it is still there 3 s later. */
export function stop(child) {
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill("SIGTERM");
    setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }, 3000).unref();
  }
}

/**
 * Starts `bin` (an event-server) with `args`; resolves with { child, base: "http://HOST:PORT" }
 * from its first stdout line. The caller stops it with `stop(child)`; if it does not come up, it
 * is stopped here.
 */
export function spawnEventServer(bin, args) {
  return new Promise((resolve, reject) => {
    log(`server: event-server ${args.join(" ")}`);
    const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    const fail = (e) => {
      stop(child);
      reject(e);
    };
    const timer = setTimeout(() => fail(new Error("event-server printed no ready line within 20 s")), 20000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${bin}: ${e.message}`));
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`event-server exited early (${signal || code})`));
    });
    child.stderr.on("data", (d) => process.stderr.write(`[event-server] ${d}`));
    createInterface({ input: child.stdout }).once("line", (line) => {
      clearTimeout(timer);
      const m = /^event-server listening on (http:\/\/\S+)$/.exec(line.trim());
      if (m) resolve({ child, base: m[1] });
      else fail(new Error(`unexpected first line: ${JSON.stringify(line)}`));
    });
  });
}

/** What a suite opened: its event server and browser. `close()` stops both, and may run twice. */
export class Opened {
  server = null;
  browser = null;

  async close() {
    const b = this.browser;
    this.browser = null;
    if (b) await b.close().catch(() => {});
    stop(this.server);
  }
}

/**
 * Runs a suite: `main()` (a throw counts as one failure), then `cleanup()` in every case, on
 * Ctrl-C and SIGTERM too; prints `NAME: P passed, F failed` and exits non-zero on any failure.
 */
export async function runSuite(name, main, cleanup) {
  for (const sig of ["SIGINT", "SIGTERM"]) {
    process.on(sig, () => {
      log(`interrupted (${sig})`);
      cleanup().finally(() => process.exit(130));
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
  log(`${name}: ${tally.passed} passed, ${tally.failures} failed`);
  process.exit(tally.failures ? 1 : 0);
}
