// A panic is a bug (nothing input or the network can reach panics), and when one happens the
// console must say what and where, not only `RuntimeError: unreachable`: the JS build's start
// function installs console_error_panic_hook.
//
//   EVENT_SERVER_BIN=target/debug/event-server ROOT=$PWD node tests/e2e/panic.mjs
//
// `cargo xtask test` first builds target/xtask/panic-probe/pkg: the release build with feature
// `panic-probe`, i.e. the shipped code plus one export, `panicProbe(i)`, that indexes an empty list
// (pkg/ never has it). A page loads it as an app loads pkg/, calls it, and the console is read.

import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { assert, check, CHROME_ARGS, log, spawnEventServer, stop, tally } from "./harness.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(process.env.ROOT || path.join(here, "..", ".."));
const BIN = process.env.EVENT_SERVER_BIN || path.join(ROOT, "target", "debug", "event-server");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const PROBE = path.join(ROOT, "target", "xtask", "panic-probe");

const PAGE = `<!doctype html>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<script type="module">
  import init, { panicProbe } from "./pkg/event_socket.js";
  await init();
  try {
    panicProbe(3);
    window.result = "returned";
  } catch (e) {
    window.result = String(e);
  }
</script>
`;

let server = null;
let browser = null;

try {
  assert(existsSync(path.join(PROBE, "pkg", "event_socket_bg.wasm")), `${PROBE}/pkg is missing: cargo xtask test builds it`);
  const site = path.join(PROBE, "site");
  rmSync(site, { recursive: true, force: true });
  mkdirSync(site, { recursive: true });
  cpSync(path.join(PROBE, "pkg"), path.join(site, "pkg"), { recursive: true });
  writeFileSync(path.join(site, "index.html"), PAGE);
  const ev = await spawnEventServer(BIN, ["--port", "0", "--static", site]);
  server = ev.child;
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROME_ARGS });
  const page = await browser.newPage();
  const errors = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  await page.goto(`${ev.base}/`);
  await page.waitForFunction(() => window.result !== undefined, null, { timeout: 15000 });
  const result = await page.evaluate(() => window.result);

  await check("a panic in the release build prints its message and source location to console.error", async () => {
    const panic = errors.find((e) => e.includes("panicked at"));
    log(`  console.error: ${JSON.stringify((panic || errors.join(" | ")).split("\n").slice(0, 2).join(" "))}`);
    assert(panic, `no "panicked at" line; console errors: ${JSON.stringify(errors)}`);
    assert(/panicked at src\/js\.rs:\d+:\d+/.test(panic), "the location (src/js.rs:line:col) is missing");
    assert(panic.includes("index out of bounds: the len is 0 but the index is 3"), "the message is missing");
  });
  await check("the call itself fails with the trap (the instance is not usable after a panic)", async () => {
    assert(/RuntimeError: unreachable/.test(result), `the call ended with: ${result}`);
  });
} catch (e) {
  tally.failures += 1;
  log(`FAIL - ${e?.stack || e}`);
} finally {
  if (browser) await browser.close().catch(() => {});
  stop(server);
}
log(`\npanic hook: ${tally.passed} passed, ${tally.failures} failed`);
process.exit(tally.failures ? 1 : 0);
