// Package tests: event-socket used like a real npm package, in headless Chromium.
//
//   EVENT_SERVER_BIN=target/debug/event-server ROOT=$PWD node tests/e2e/package.mjs
//
// `cargo xtask test` runs this after `cargo xtask pkg` and the page tests. Steps:
//  1. pkg/package.json is complete; `npm pack ./pkg` into target/npm/, renamed to the fixed
//     target/npm/event-socket.tgz that examples/vite-app depends on (`file:` tarball).
//  2. examples/vite-app: `npm ci` (the committed lock; its event-socket entry has no integrity,
//     so npm reads the fresh tarball instead of a cached older one, checked byte for byte; when the
//     lockfile is the one the last `npm ci` installed, only event-socket is replaced, unpacked from
//     the tarball),
//     `tsc --noEmit` (strict), `vite build` into examples/vite-app/dist.
//  3. The Vite build, served by `event-server --static dist --simulate demo`: events arrive.
//  4. examples/plain (no build step) with a copy of pkg/ beside it, served the same way; on that
//     page `[Symbol.dispose]` closes a subscription. (The fault suite and the 1000-reconnect leak
//     check on the shipped build are tests/e2e/faults.mjs.)
//  5. The plain page from a tiny Node server that sends a strict Content-Security-Policy
//     (script-src 'self' 'wasm-unsafe-eval'), its sockets on the event server's other port
//     (?ws=...&token=...): events arrive, no CSP violation, no console error. And a control:
//     without 'wasm-unsafe-eval' the violation is seen (so the listener really listens).
// (Step 1 also imports the glue in Node: calls before init() must say "await init()".)
// Each check prints `ok - ...` or `FAIL - ...`; exits non-zero on any failure; servers and the
// browser are stopped in every case.

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, createReadStream, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { assert, check, CHROME_ARGS, log, runSuite, spawnEventServer, tally } from "./harness.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(process.env.ROOT || path.join(here, "..", ".."));
const BIN = process.env.EVENT_SERVER_BIN || path.join(ROOT, "target", "debug", "event-server");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const PKG = path.join(ROOT, "pkg");
const NPM_DIR = path.join(ROOT, "target", "npm");
const TARBALL = path.join(NPM_DIR, "event-socket.tgz"); // examples/vite-app/package.json points here
const VITE_APP = path.join(ROOT, "examples", "vite-app");
const PLAIN_SRC = path.join(ROOT, "examples", "plain");
const PLAIN_DIR = path.join(ROOT, "target", "e2e-package", "plain"); // examples/plain + pkg/
const T = 15000;
const EVENTS_WANTED = 2; // of each kind

const servers = new Set(); // child processes
let httpServer = null;
let browser = null;

// ---------------------------------------------------------------- helpers




/** Runs a command to completion; throws with its output on failure. */
function sh(cmd, args, cwd) {
  log(`$ ${cmd} ${args.join(" ")}   (in ${path.relative(ROOT, cwd) || "."})`);
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  if (r.error || r.status !== 0) {
    process.stdout.write(r.stdout || "");
    process.stderr.write(r.stderr || "");
    throw new Error(`${cmd} ${args.join(" ")} failed (${r.error ? r.error.message : `status ${r.status}`})`);
  }
  return r.stdout;
}

function kill(child) {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill("SIGTERM");
    setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }, 3000).unref();
  }
  servers.delete(child);
}

async function cleanup() {
  if (browser) {
    const b = browser;
    browser = null;
    await b.close().catch(() => {});
  }
  if (httpServer) {
    httpServer.closeAllConnections?.();
    httpServer.close();
    httpServer = null;
  }
  for (const s of [...servers]) kill(s);
}

process.on("exit", () => {
  for (const s of [...servers]) kill(s);
});

/** Starts an event server with the demo simulation; resolves with { child, base: "http://HOST:PORT" }. */
async function startEventServer(staticDir) {
  const args = ["--port", "0", "--simulate", "demo", "--simulate-every", "300"];
  if (staticDir) args.push("--static", staticDir);
  const started = await spawnEventServer(BIN, args);
  servers.add(started.child);
  return started;
}

const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".ts": "text/plain; charset=utf-8",
};

/** The CSP the plain page is served with; `wasmEval: false` is the control that must fail. */
function csp(wsOrigin, wasmEval = true) {
  return [
    "default-src 'self'",
    `script-src 'self'${wasmEval ? " 'wasm-unsafe-eval'" : ""}`,
    `connect-src 'self' ${wsOrigin}`,
    "style-src 'self'",
    "img-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** A static file server for `dir` that adds a Content-Security-Policy header to every answer.
 * `?csp=no-wasm-eval` on the page address selects the control policy. Proxies nothing. */
function startCspServer(dir, wsOrigin) {
  return new Promise((resolve, reject) => {
    const server = createServer((req, res) => {
      const url = new URL(req.url, "http://x");
      const weak = url.searchParams.get("csp") === "no-wasm-eval";
      res.setHeader("Content-Security-Policy", csp(wsOrigin, !weak));
      res.setHeader("X-Content-Type-Options", "nosniff");
      let file = path.normalize(path.join(dir, decodeURIComponent(url.pathname)));
      if (!file.startsWith(dir)) {
        res.writeHead(403).end();
        return;
      }
      if (existsSync(file) && statSync(file).isDirectory()) file = path.join(file, "index.html");
      if (!existsSync(file) || req.method !== "GET") {
        res.writeHead(404, { "Content-Type": "text/plain" }).end("not found");
        return;
      }
      res.writeHead(200, { "Content-Type": MIME[path.extname(file)] || "application/octet-stream" });
      createReadStream(file).pipe(res);
    });
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

async function newPage(label) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  const page = await context.newPage();
  page.setDefaultTimeout(T);
  const problems = { pageErrors: [], consoleErrors: [], violations: [], failedRequests: [] };
  // Registered before any page script runs; init scripts are not subject to the page's CSP.
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener("securitypolicyviolation", (e) => {
      window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "(inline)"}`);
    });
  });
  page.on("pageerror", (e) => {
    problems.pageErrors.push(e.message);
    log(`  [${label}] page error: ${e.message}`);
  });
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    const where = m.location()?.url || "";
    if (/\/favicon\.ico$/.test(where)) return; // the browser's own favicon probe
    problems.consoleErrors.push(m.text());
    log(`  [${label}] console error: ${m.text()}`);
  });
  page.on("requestfailed", (r) => {
    if (!/\/favicon\.ico$/.test(r.url())) problems.failedRequests.push(`${r.url()}: ${r.failure()?.errorText}`);
  });
  return { context, page, problems };
}

/** Waits until the page lists EVENTS_WANTED rows of each event, then returns the texts. */
async function waitForEvents(page) {
  await page.waitForFunction(
    (n) =>
      document.querySelectorAll('#events li[data-event="connection.update"]').length >= n &&
      document.querySelectorAll('#events li[data-event="messages.upsert"]').length >= n,
    EVENTS_WANTED,
    { timeout: T },
  );
  return page.$$eval("#events li", (lis) => lis.map((li) => li.textContent));
}

/** The checks shared by every page: typed text rows, state open, nothing broken. */
async function expectWorkingPage(page, problems) {
  const rows = await waitForEvents(page);
  const conn = rows.find((t) => t.startsWith("connection.update: "));
  assert(/^connection\.update: (connecting|open|close) \(\d+\)$/.test(conn), `connection.update row: ${conn}`);
  const msg = rows.find((t) => t.startsWith("messages.upsert: "));
  assert(/^messages\.upsert: .+: .+/.test(msg), `messages.upsert row: ${msg}`);
  assert((await page.locator("#state").getAttribute("data-state")) === "open", "the state shows open");
  const errors = await page.$$eval("#errors li", (lis) => lis.map((li) => li.textContent));
  assert(errors.length === 0, `no onError reports: ${errors.join("; ")}`);
  // The simulator's texts include <img src=x onerror="window.__xss=1">: rendered as text only.
  assert((await page.locator("#events img").count()) === 0, "event text is not parsed as markup");
  assert((await page.evaluate(() => window.__xss)) === undefined, "no injected handler ran");
  assert(problems.pageErrors.length === 0, `page errors: ${problems.pageErrors.join("; ")}`);
  assert(problems.consoleErrors.length === 0, `console errors: ${problems.consoleErrors.join("; ")}`);
  assert(problems.failedRequests.length === 0, `failed requests: ${problems.failedRequests.join("; ")}`);
  return rows;
}

/** `version = "..."` of the `[package]` table of a Cargo.toml. */
function packageVersion(toml) {
  let inPackage = false;
  for (const line of toml.split("\n").map((l) => l.trim())) {
    if (line.startsWith("[")) inPackage = line === "[package]";
    else if (inPackage) {
      const m = /^version\s*=\s*"([^"]+)"/.exec(line);
      if (m) return m[1];
    }
  }
  return undefined;
}

// ---------------------------------------------------------------- the run

async function main() {
  assert(existsSync(path.join(PKG, "event_socket.js")), "pkg/ is missing: run `cargo xtask pkg` first");
  assert(existsSync(BIN), `EVENT_SERVER_BIN not found: ${BIN}`);

  // ------------------------------------------------ 1. the package itself
  const cargoVersion = packageVersion(readFileSync(path.join(ROOT, "Cargo.toml"), "utf8"));
  const meta = JSON.parse(readFileSync(path.join(PKG, "package.json"), "utf8"));
  await check("pkg/package.json: name, version, ES module, exports with types, files, sideEffects", async () => {
    assert(meta.name === "event-socket", `name ${meta.name}`);
    assert(meta.version === cargoVersion, `version ${meta.version} is Cargo.toml's ${cargoVersion}`);
    assert(meta.type === "module", `type ${meta.type}`);
    assert(meta.types === "event_socket.d.ts", `types ${meta.types}`);
    const dot = meta.exports?.["."];
    assert(dot?.types === "./event_socket.d.ts" && dot?.default === "./event_socket.js", `exports["."] ${JSON.stringify(dot)}`);
    assert(Object.keys(dot).indexOf("types") === 0, "exports[\".\"].types comes first (TypeScript needs that)");
    for (const f of ["event_socket.js", "event_socket.d.ts", "event_socket_bg.wasm"]) {
      assert(meta.files.includes(f), `files lists ${f}`);
      assert(existsSync(path.join(PKG, f)), `pkg/${f} exists`);
    }
    assert(meta.sideEffects === false, `sideEffects ${meta.sideEffects}`);
    assert(existsSync(path.join(PKG, "README.md")), "pkg/README.md exists");
    const dts = readFileSync(path.join(PKG, "event_socket.d.ts"), "utf8");
    for (const t of ["SocketOptions", "SocketState", "EventSocketError", "EventPayloads"]) {
      assert(new RegExp(`export (interface|type) ${t}\\b`).test(dts), `event_socket.d.ts exports ${t}`);
    }
  });

  await check("a call before init() throws an Error that says to await init() (not \"reading 'd' of undefined\")", async () => {
    // The glue as shipped, in Node: no page needed to see what the call says.
    const m = await import(pathToFileURL(path.join(PKG, "event_socket.js")).href);
    const calls = {
      socket: () => m.socket("messages.upsert", () => {}),
      configure: () => m.configure({}),
      debugStats: () => m.debugStats(),
    };
    for (const [name, call] of Object.entries(calls)) {
      let message = null;
      try {
        call();
      } catch (e) {
        message = String(e?.message);
      }
      assert(message?.startsWith(`event-socket: ${name}() was called before init()`) && message.includes("await init()"), `${name}(): ${message}`);
    }
  });

  let packed = null;
  await check("npm pack ./pkg -> target/npm/event-socket.tgz with js, d.ts, wasm and README", async () => {
    mkdirSync(NPM_DIR, { recursive: true });
    rmSync(TARBALL, { force: true });
    const out = sh("npm", ["pack", "./pkg", "--pack-destination", NPM_DIR, "--json", "--silent"], ROOT);
    [packed] = JSON.parse(out);
    renameSync(path.join(NPM_DIR, packed.filename), TARBALL);
    const files = packed.files.map((f) => f.path).sort();
    log(`  packed ${packed.filename} (${packed.size} B): ${files.join(", ")}`);
    for (const f of ["README.md", "event_socket.d.ts", "event_socket.js", "event_socket_bg.wasm", "package.json"]) {
      assert(files.includes(f), `the tarball holds ${f}`);
    }
    assert(!files.some((f) => f === ".gitignore" || f.endsWith(".rs")), "nothing stray in the tarball");
  });

  // ------------------------------------------------ 2. the Vite + TypeScript app
  const installed = await check("examples/vite-app: npm ci installs the packed tarball (the fresh one)", async () => {
    assert(existsSync(TARBALL), "no tarball");
    const lockText = readFileSync(path.join(VITE_APP, "package-lock.json"));
    const lockHash = createHash("sha256").update(lockText).digest("hex");
    const modules = path.join(VITE_APP, "node_modules");
    const stamp = path.join(modules, ".event-socket-lock-sha256");
    const dep = path.join(modules, "event-socket");
    if (existsSync(stamp) && readFileSync(stamp, "utf8") === lockHash) {
      // The lockfile is what the last `npm ci` installed: only event-socket is new, so it alone
      // is replaced, from the tarball, as npm would unpack it (package/ inside).
      log("  lockfile unchanged since the last npm ci: event-socket replaced from the tarball");
      rmSync(dep, { recursive: true, force: true });
      const unpack = path.join(NPM_DIR, "unpacked");
      rmSync(unpack, { recursive: true, force: true });
      mkdirSync(unpack, { recursive: true });
      sh("tar", ["-xzf", TARBALL, "-C", unpack], VITE_APP);
      renameSync(path.join(unpack, "package"), dep);
    } else {
      rmSync(modules, { recursive: true, force: true });
      sh("npm", ["ci", "--no-audit", "--no-fund"], VITE_APP);
      writeFileSync(stamp, lockHash);
    }
    const lock = JSON.parse(lockText.toString("utf8"));
    const entry = lock.packages["node_modules/event-socket"];
    assert(entry && entry.resolved === "file:../../target/npm/event-socket.tgz", `lock entry ${JSON.stringify(entry)}`);
    assert(!entry.integrity, "the lock's event-socket entry has no integrity (else npm reuses a cached older build)");
    for (const f of ["event_socket.js", "event_socket.d.ts", "event_socket_bg.wasm"]) {
      assert(readFileSync(path.join(dep, f)).equals(readFileSync(path.join(PKG, f))), `node_modules/event-socket/${f} is pkg/'s`);
    }
    const m = JSON.parse(readFileSync(path.join(dep, "package.json"), "utf8"));
    assert(m.version === meta.version, `installed version ${m.version}`);
  });

  const built =
    installed &&
    (await check("examples/vite-app: tsc --noEmit (strict, library types checked) and vite build", async () => {
      sh(path.join(VITE_APP, "node_modules", ".bin", "tsc"), ["--noEmit", "-p", "tsconfig.json"], VITE_APP);
      const out = sh(path.join(VITE_APP, "node_modules", ".bin", "vite"), ["build"], VITE_APP);
      process.stdout.write(out.split("\n").filter((l) => /dist\//.test(l)).map((l) => `  ${l.trim()}\n`).join(""));
      const assets = readdirSync(path.join(VITE_APP, "dist", "assets"));
      assert(assets.some((f) => f.endsWith(".wasm")), `vite emitted the .wasm as an asset: ${assets.join(", ")}`);
      assert(existsSync(path.join(VITE_APP, "dist", "index.html")), "dist/index.html");
    }));

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROME_ARGS,
  });

  // ------------------------------------------------ 3. the Vite build in the browser
  if (built) {
    const { child, base } = await startEventServer(path.join(VITE_APP, "dist"));
    const { context, page, problems } = await newPage("vite");
    await check("vite-app (served by event-server): init() loads the hashed .wasm asset, events arrive as text", async () => {
      const wasm = [];
      page.on("response", (r) => {
        if (r.url().endsWith(".wasm")) wasm.push(`${r.status()} ${r.headers()["content-type"]} ${new URL(r.url()).pathname}`);
      });
      const res = await page.goto(`${base}/`);
      assert(res && res.ok(), `GET / -> ${res && res.status()}`);
      const rows = await expectWorkingPage(page, problems);
      assert(wasm.length === 1 && /^200 application\/wasm \/assets\/event_socket_bg-.*\.wasm$/.test(wasm[0]), `wasm: ${wasm.join("; ")}`);
      log(`  e.g. ${JSON.stringify(rows[0])}`);
    });
    await context.close();
    kill(child);
  } else {
    tally.failures += 1;
    log("FAIL - vite-app in the browser: skipped, the app did not build");
  }

  // ------------------------------------------------ 4. the plain page, no build step
  rmSync(PLAIN_DIR, { recursive: true, force: true });
  mkdirSync(path.dirname(PLAIN_DIR), { recursive: true });
  cpSync(PLAIN_SRC, PLAIN_DIR, { recursive: true });
  cpSync(PKG, path.join(PLAIN_DIR, "pkg"), { recursive: true });
  const ev = await startEventServer(PLAIN_DIR);
  {
    const { context, page, problems } = await newPage("plain");
    await check("plain page (served by event-server, ./pkg/event_socket.js, no bundler): events arrive as text", async () => {
      const res = await page.goto(`${ev.base}/`);
      assert(res && res.ok(), `GET / -> ${res && res.status()}`);
      const rows = await expectWorkingPage(page, problems);
      log(`  e.g. ${JSON.stringify(rows[0])}`);
    });
    await check("plain page: [Symbol.dispose] (what `using sub = socket(...)` calls) closes the subscription, once", async () => {
      const r = await page.evaluate(async () => {
        const m = await import("./pkg/event_socket.js");
        const states = [];
        let opened;
        const open = new Promise((ok) => (opened = ok));
        const sub = m.socket("dispose-check", () => {}, { url: "/echo", onOpen: () => opened(), onStateChange: (s) => states.push(s) });
        await open;
        const before = m.debugStats().connections;
        sub[Symbol.dispose]();
        sub[Symbol.dispose]();
        await new Promise((ok) => setTimeout(ok, 100));
        return { before, after: m.debugStats().connections, states };
      });
      assert(r.states.at(-1) === "closed" && r.states.filter((s) => s === "closed").length === 1, `states: ${r.states.join(", ")}`);
      assert(r.after === r.before - 1, `connections ${r.before} -> ${r.after}`);
      assert(problems.pageErrors.length === 0, `page errors: ${problems.pageErrors.join("; ")}`);
    });
    await check("plain page: a real `using sub = socket(...)` block closes the subscription when it ends", async () => {
      // A string: the `using` declaration is page syntax (Chromium has it), not this Node's.
      const base = await page.evaluate(() => location.href);
      const r = await page.evaluate(`(async () => {
        const m = await import(${JSON.stringify(new URL("./pkg/event_socket.js", base).href)});
        const states = [];
        let opened;
        const open = new Promise((ok) => (opened = ok));
        {
          using sub = m.socket("using-check", () => {}, { url: "/echo", onOpen: () => opened(), onStateChange: (s) => states.push(s) });
          await open;
          states.push("end of block");
        }
        return states;
      })()`);
      assert(JSON.stringify(r.slice(-2)) === JSON.stringify(["end of block", "closed"]), `states: ${r.join(", ")}`);
    });
    await context.close();
  }

  // ------------------------------------------------ 5. the plain page under a strict CSP
  const wsOrigin = ev.base.replace(/^http/, "ws");
  const { token } = await (await fetch(`${ev.base}/dev/token?instance=demo`)).json();
  httpServer = await startCspServer(PLAIN_DIR, wsOrigin);
  const cspBase = `http://127.0.0.1:${httpServer.address().port}`;
  log(`server: CSP static server ${cspBase} (sockets on ${wsOrigin})`);
  const query = `ws=${encodeURIComponent(`${wsOrigin}/ws/events`)}&token=${encodeURIComponent(token)}`;
  {
    const { context, page, problems } = await newPage("csp");
    await check(`plain page under CSP "script-src 'self' 'wasm-unsafe-eval'", sockets cross-origin: events arrive, no violation`, async () => {
      const res = await page.goto(`${cspBase}/?${query}`);
      assert(res && res.ok(), `GET / -> ${res && res.status()}`);
      const header = res.headers()["content-security-policy"] || "";
      assert(header.includes("script-src 'self' 'wasm-unsafe-eval'") && header.includes("default-src 'self'"), `CSP header: ${header}`);
      await expectWorkingPage(page, problems);
      const violations = await page.evaluate(() => window.__cspViolations);
      assert(violations.length === 0, `CSP violations: ${violations.join("; ")}`);
    });
    await context.close();
  }
  {
    const { context, page, problems } = await newPage("csp control");
    await check("control: the same page without 'wasm-unsafe-eval' reports the violation (the listener works)", async () => {
      await page.goto(`${cspBase}/?${query}&csp=no-wasm-eval`);
      await page.waitForFunction(() => window.__cspViolations.length > 0, null, { timeout: T });
      const violations = await page.evaluate(() => window.__cspViolations);
      assert(violations.some((v) => v.startsWith("script-src")), `a script-src violation: ${violations.join("; ")}`);
      await page.locator('#errors li[data-event="startup"]').waitFor();
      assert((await page.locator("#events li").count()) === 0, "no events without the wasm");
      log(`  seen: ${violations[0]}; page says ${JSON.stringify(await page.locator("#errors li").first().textContent())}`);
      void problems; // console errors are expected here
    });
    await context.close();
  }
  kill(ev.child);
}

await runSuite("package tests", main, cleanup);
