//! `cargo xtask test | pkg | demo`: the project's commands.
//!
//! - `test`: installs what is missing, runs the native tests, starts an `event-server`, runs the
//!   browser tests (wasm-bindgen-test in headless Chromium) against it, builds the npm package and
//!   runs the page tests (`tests/e2e/run.mjs`) and the package tests (`tests/e2e/package.mjs`:
//!   `npm pack`, `examples/` in headless Chromium) if there are any. Exits non-zero on any failure.
//! - `pkg`: builds the npm package into `pkg/` and prints its sizes.
//! - `bench`: builds the package and a release `event-server`, then runs `bench/run.mjs` (which
//!   starts its own server and browser). A benchmark, not a test: `test` never runs it.
//! - `demo`: starts `event-server --simulate demo` on port 8084 and `trunk serve` for `www/`.
//!
//! Servers this program starts are owned by a guard that kills them when it is dropped (on success,
//! on error and on panic). On Ctrl-C the terminal sends SIGINT to the whole foreground process group,
//! so the servers and tools started here stop together with us.

mod before_init;
mod dispose;
mod minify;

use std::env;
use std::ffi::OsString;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

type Result<T = ()> = std::result::Result<T, String>;

const WASM_TARGET: &str = "wasm32-unknown-unknown";
const TRUNK_VERSION: &str = "0.21.14";
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const DEMO_PORT: u16 = 8084;
const SERVER_START_TIMEOUT: Duration = Duration::from_secs(60);
/// Chromium flags for the browser tests (wasm-bindgen-test-runner adds `headless`,
/// `no-sandbox` and `disable-dev-shm-usage` itself; repeating them is harmless).
const CHROME_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
];
/// Features that current rustc enables by default for wasm32-unknown-unknown; wasm-opt must
/// accept them in its input (and may use them in its output: every current browser has them).
const WASM_OPT_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-bulk-memory-opt",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
    "--enable-call-indirect-overlong",
];

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test   install missing tools, then run every test: native (cargo test --workspace),
         browser (wasm-bindgen-test in headless Chromium against a fresh event-server),
         the npm package build, the page tests (tests/e2e/run.mjs) and the package
         tests (tests/e2e/package.mjs: npm pack, examples/) if present
  pkg    build the npm package into pkg/ (wasm-bindgen --target web, wasm-opt -Oz)
         and print its raw and gzipped sizes
  demo   start event-server --simulate demo on 127.0.0.1:8084 and `trunk serve` the demo page
  bench  build pkg/ and a release event-server, then run the benchmark (node bench/run.mjs);
         writes bench/results.json, bench/results.md and bench/throughput.svg (not a test)";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let ctx = Ctx::new();
    let started = Instant::now();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(&ctx),
        Some("pkg") => ensure_tools(&ctx, Tools::PKG).and_then(|()| pkg(&ctx).map(drop)),
        Some("demo") => demo(&ctx),
        Some("bench") => ensure_tools(&ctx, Tools::PKG).and_then(|()| bench(&ctx)),
        Some("help" | "-h" | "--help") => {
            println!("{USAGE}");
            Ok(())
        }
        None => Err(format!("no command given\n\n{USAGE}")),
        Some(other) => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!();
            eprintln!("xtask: FAILED after {}s: {e}", started.elapsed().as_secs());
            ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------------------------------------
// context and small helpers

struct Ctx {
    root: PathBuf,
    target_dir: PathBuf,
    cargo: OsString,
    e2e: PathBuf,
}

impl Ctx {
    fn new() -> Ctx {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("xtask lives in the workspace root")
            .to_path_buf();
        let target_dir = match env::var_os("CARGO_TARGET_DIR") {
            Some(dir) => root.join(dir), // join keeps an absolute dir as is
            None => root.join("target"),
        };
        // Tools installed by `cargo install` land in ~/.cargo/bin: make sure we (and the
        // children, e.g. cargo looking for the wasm-bindgen-test-runner) find them.
        if let Some(home) = env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        {
            let bin = home.join("bin");
            let paths: Vec<PathBuf> =
                env::split_paths(&env::var_os("PATH").unwrap_or_default()).collect();
            if !paths.contains(&bin) {
                let joined = env::join_paths(std::iter::once(bin).chain(paths))
                    .expect("PATH entries are joinable");
                env::set_var("PATH", joined); // still single-threaded here
            }
        }
        Ctx {
            cargo: env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
            e2e: root.join("tests").join("e2e"),
            root,
            target_dir,
        }
    }

    fn cargo(&self) -> Command {
        let mut cmd = Command::new(&self.cargo);
        cmd.current_dir(&self.root);
        cmd
    }

    fn wasm_opt(&self) -> PathBuf {
        self.e2e.join("node_modules").join(".bin").join("wasm-opt")
    }

    fn server_bin(&self) -> PathBuf {
        self.target_dir.join("debug").join("event-server")
    }
}

fn step(title: &str) {
    println!();
    println!("== {title}");
    let _ = std::io::stdout().flush();
}

fn show(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        s.push(' ');
        s.push_str(&arg.to_string_lossy());
    }
    s
}

/// Runs a command with inherited stdio; a non-zero exit is an error naming the command.
fn run(cmd: &mut Command) -> Result {
    let line = show(cmd);
    println!("$ {line}");
    let _ = std::io::stdout().flush();
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run `{line}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{line}` failed ({status})"))
    }
}

/// The trimmed stdout of a command, or None if it cannot run or fails.
fn output_of(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

// ---------------------------------------------------------------------------------------------
// tools

#[derive(Clone, Copy)]
struct Tools {
    trunk: bool,
    chromium: bool,
}

impl Tools {
    const ALL: Tools = Tools {
        trunk: true,
        chromium: true,
    };
    const PKG: Tools = Tools {
        trunk: false,
        chromium: false,
    };
    const DEMO: Tools = Tools {
        trunk: true,
        chromium: false,
    };
}

/// Installs each missing tool; prints one heading per tool.
fn ensure_tools(ctx: &Ctx, tools: Tools) -> Result {
    step(&format!("tools: rust target {WASM_TARGET}"));
    let installed = output_of("rustup", &["target", "list", "--installed"])
        .ok_or("cannot run `rustup target list --installed` (is rustup installed?)")?;
    if installed.lines().any(|l| l.trim() == WASM_TARGET) {
        println!("ok: installed");
    } else {
        run(Command::new("rustup").args(["target", "add", WASM_TARGET]))?;
    }

    let wbg = wasm_bindgen_version(ctx)?;
    step(&format!(
        "tools: wasm-bindgen-cli {wbg} (the wasm-bindgen version in Cargo.lock)"
    ));
    let want = format!("wasm-bindgen {wbg}");
    let have = output_of("wasm-bindgen", &["--version"]);
    let runner = output_of("wasm-bindgen-test-runner", &["--version"]);
    if have.as_deref() == Some(want.as_str()) && runner.is_some() {
        println!("ok: {want}");
    } else {
        println!("have: {}", have.as_deref().unwrap_or("none"));
        // No --locked: the CLI's own lockfile pins versions that may not build on this rustc.
        // `=`: a bare version is a caret requirement, which could pick a newer patch release.
        let exact = format!("={wbg}");
        run(Command::new(&ctx.cargo).args(["install", "wasm-bindgen-cli", "--version", &exact]))?;
        let have = output_of("wasm-bindgen", &["--version"]);
        if have.as_deref() != Some(want.as_str()) {
            return Err(format!(
                "after installing, `wasm-bindgen --version` says {have:?}, not `{want}`: \
                 another wasm-bindgen earlier in PATH?"
            ));
        }
    }

    if tools.trunk {
        step(&format!("tools: trunk {TRUNK_VERSION}"));
        let want = format!("trunk {TRUNK_VERSION}");
        match output_of("trunk", &["--version"]) {
            Some(v) if v == want => println!("ok: {v}"),
            have => {
                println!("have: {}", have.as_deref().unwrap_or("none"));
                run(Command::new(&ctx.cargo).args([
                    "install",
                    "trunk",
                    "--version",
                    &format!("={TRUNK_VERSION}"),
                    "--locked",
                ]))?;
            }
        }
    }

    if tools.chromium {
        step("tools: chromium and chromium-driver (Debian packages)");
        if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
            println!("ok: {CHROMIUM}, {CHROMEDRIVER}");
        } else {
            let root = output_of("id", &["-u"]).as_deref() == Some("0");
            let apt = |args: &[&str]| {
                let mut cmd = if root {
                    Command::new("apt-get")
                } else {
                    Command::new("sudo")
                };
                if !root {
                    cmd.args(["env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]);
                }
                cmd.env("DEBIAN_FRONTEND", "noninteractive").args(args);
                cmd
            };
            run(&mut apt(&["update"]))?;
            run(&mut apt(&["install", "-y", "chromium", "chromium-driver"]))?;
            for path in [CHROMIUM, CHROMEDRIVER] {
                if !Path::new(path).exists() {
                    return Err(format!("{path} is still missing after apt-get install"));
                }
            }
        }
        for program in [CHROMIUM, CHROMEDRIVER] {
            if let Some(v) = output_of(program, &["--version"]) {
                println!("{v}");
            }
        }
    }

    step("tools: npm packages in tests/e2e (binaryen for wasm-opt, playwright-core)");
    let modules = ctx.e2e.join("node_modules");
    if ctx.wasm_opt().exists()
        && modules
            .join("playwright-core")
            .join("package.json")
            .exists()
    {
        println!("ok: tests/e2e/node_modules");
    } else {
        let verb = if ctx.e2e.join("package-lock.json").exists() {
            "ci"
        } else {
            "install"
        };
        run(Command::new("npm")
            .args([verb, "--no-audit", "--no-fund"])
            .current_dir(&ctx.e2e))?;
    }
    Ok(())
}

/// The version of the `wasm-bindgen` package in Cargo.lock (creating the lockfile if needed).
fn wasm_bindgen_version(ctx: &Ctx) -> Result<String> {
    let lock = ctx.root.join("Cargo.lock");
    if !lock.exists() {
        run(ctx.cargo().arg("generate-lockfile"))?;
    }
    let text =
        fs::read_to_string(&lock).map_err(|e| format!("cannot read {}: {e}", lock.display()))?;
    lock_version(&text, "wasm-bindgen")
        .ok_or_else(|| format!("no `wasm-bindgen` package in {}", lock.display()))
}

fn lock_version(lock: &str, package: &str) -> Option<String> {
    let name_line = format!("name = \"{package}\"");
    let mut lines = lock.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if line == name_line {
            let version = lines.next()?.strip_prefix("version = ")?;
            return Some(version.trim_matches('"').to_string());
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// servers

/// A running child process, killed (and reaped) when dropped.
struct Server {
    name: &'static str,
    child: Child,
    /// host:port from the server's first line.
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
            println!("== stopped {} (pid {})", self.name, self.child.id());
        }
    }
}

/// Starts `event-server` with `args`, waits for its `listening on http://HOST:PORT` line and keeps
/// echoing its stdout (prefixed) from a thread.
fn start_server(bin: &Path, args: &[&str]) -> Result<Server> {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    println!("$ {}", show(&cmd));
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            println!("[event-server] {line}");
            if let Some(tx) = tx.take() {
                let _ = tx.send(line);
            }
        }
    });
    // From here on the guard owns the child: any early return kills it.
    let mut server = Server {
        name: "event-server",
        child,
        addr: String::new(),
    };
    let first = match rx.recv_timeout(SERVER_START_TIMEOUT) {
        Ok(line) => line,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            return Err(format!(
                "event-server printed no line within {}s",
                SERVER_START_TIMEOUT.as_secs()
            ))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let status = server
                .child
                .wait()
                .map(|s| s.to_string())
                .unwrap_or_default();
            return Err(format!(
                "event-server exited before printing its address ({status})"
            ));
        }
    };
    server.addr = listening_addr(&first)
        .ok_or_else(|| format!("unexpected first line from event-server: {first:?}"))?;
    Ok(server)
}

/// `event-server listening on http://HOST:PORT` -> `HOST:PORT`
fn listening_addr(line: &str) -> Option<String> {
    let rest = line
        .trim()
        .strip_prefix("event-server listening on http://")?;
    let addr = rest.trim_end_matches('/');
    let (host, port) = addr.rsplit_once(':')?;
    port.parse::<u16>().ok().filter(|p| *p != 0)?;
    (!host.is_empty()).then(|| addr.to_string())
}

fn build_server(ctx: &Ctx) -> Result<PathBuf> {
    run(ctx.cargo().args(["build", "-p", "event-server"]))?;
    let bin = ctx.server_bin();
    if bin.exists() {
        Ok(bin)
    } else {
        Err(format!(
            "built event-server, but {} is missing",
            bin.display()
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// test

fn test(ctx: &Ctx) -> Result {
    let started = Instant::now();
    ensure_tools(ctx, Tools::ALL)?;

    step("native tests: cargo test --workspace");
    run(ctx.cargo().args(["test", "--workspace", "--no-fail-fast"]))?;
    // The herd simulation prints its figures (peak attempts with and without jitter).
    run(ctx.cargo().args([
        "test",
        "-p",
        "event-socket",
        "--test",
        "herd",
        "--",
        "--nocapture",
    ]))?;

    step("event-server for the browser tests");
    let bin = build_server(ctx)?;
    let server = start_server(&bin, &["--port", "0"])?;
    let port = server
        .addr
        .rsplit_once(':')
        .map(|(_, p)| p)
        .unwrap_or_default()
        .to_string();
    let event_server = format!("127.0.0.1:{port}");
    println!("event-server is up; browser tests use EVENT_SERVER={event_server}");

    step("browser tests: cargo test -p event-socket --target wasm32-unknown-unknown (headless Chromium)");
    let browser_files = browser_test_files(ctx);
    let chrome_runs = browser_tests(ctx, &event_server)?;
    if chrome_runs < browser_files.len() {
        return Err(format!(
            "{} browser test file(s) ({}) but only {chrome_runs} run(s) in headless Chrome: \
             were they skipped?",
            browser_files.len(),
            browser_files.join(", ")
        ));
    }
    println!("ok: {chrome_runs} test binar(y/ies) ran in headless Chrome");

    let sizes = pkg(ctx)?;

    step("page tests: node tests/e2e/run.mjs");
    let page_tests = node_tests(ctx, "run.mjs", &bin)?;

    step("package tests: node tests/e2e/package.mjs (npm pack, examples/ in headless Chromium)");
    let package_tests = node_tests(ctx, "package.mjs", &bin)?;

    step("stop event-server");
    drop(server);

    println!();
    println!(
        "== xtask test: ALL PASSED in {}s: native tests, {chrome_runs} browser test binar(y/ies) in \
         headless Chrome, pkg (wasm+js gzip {} B), page tests {page_tests}, package tests \
         {package_tests}",
        started.elapsed().as_secs(),
        sizes.gzip_total
    );
    Ok(())
}

/// The `tests/*.rs` files that run in a browser.
fn browser_test_files(ctx: &Ctx) -> Vec<String> {
    let mut files: Vec<String> = fs::read_dir(ctx.root.join("tests"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "rs"))
        .filter(|e| fs::read_to_string(e.path()).is_ok_and(|text| text.contains("run_in_browser")))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    files
}

/// Runs the wasm tests, echoing their output; returns how many test binaries ran in headless Chrome.
/// Runs a page-test script of tests/e2e (it starts its own servers from `bin`).
fn node_tests(ctx: &Ctx, script: &str, bin: &Path) -> Result<&'static str> {
    let path = ctx.e2e.join(script);
    if !path.exists() {
        println!("skipped: tests/e2e/{script} does not exist yet");
        return Ok("none yet");
    }
    run(Command::new("node")
        .arg(&path)
        .current_dir(&ctx.root)
        .env("EVENT_SERVER_BIN", bin)
        .env("ROOT", &ctx.root)
        .env("CHROMIUM", CHROMIUM))?;
    Ok("passed")
}

fn browser_tests(ctx: &Ctx, event_server: &str) -> Result<usize> {
    // wasm-bindgen-test-runner reads browser capabilities from the file named by
    // WASM_BINDGEN_TEST_WEBDRIVER_JSON (default: ./webdriver.json); we generate ours.
    let dir = ctx.target_dir.join("xtask");
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let webdriver_json = dir.join("webdriver.json");
    fs::write(&webdriver_json, webdriver_json_text())
        .map_err(|e| format!("cannot write {}: {e}", webdriver_json.display()))?;

    let mut cmd = ctx.cargo();
    cmd.args([
        "test",
        "-p",
        "event-socket",
        "--target",
        WASM_TARGET,
        "--no-fail-fast",
        "--",
        // The fault suite and the leak test print their figures to the console.
        "--nocapture",
    ])
    .env("CHROMEDRIVER", CHROMEDRIVER)
    .env("EVENT_SERVER", event_server)
    .env("WASM_BINDGEN_TEST_TIMEOUT", "900")
    .env("WASM_BINDGEN_TEST_DRIVER_TIMEOUT", "60")
    .env("WASM_BINDGEN_TEST_WEBDRIVER_JSON", &webdriver_json)
    .env_remove("NO_HEADLESS")
    .env_remove("WASM_BINDGEN_TEST_ONLY_NODE")
    .stdout(Stdio::piped());
    println!("$ {}", show(&cmd));
    println!("  (CHROMEDRIVER={CHROMEDRIVER} EVENT_SERVER={event_server} WASM_BINDGEN_TEST_TIMEOUT=900 WASM_BINDGEN_TEST_WEBDRIVER_JSON={})", webdriver_json.display());
    let mut child = cmd.spawn().map_err(|e| format!("cannot run cargo: {e}"))?;
    let mut chrome_runs = 0;
    let mut renderer_hung = false;
    for line in BufReader::new(child.stdout.take().expect("piped")).lines() {
        let Ok(line) = line else { break };
        if line.contains("Running headless tests in Chrome") {
            chrome_runs += 1;
        }
        renderer_hung |= line.contains("Timed out receiving message from renderer");
        println!("{line}");
    }
    let status = child.wait().map_err(|e| format!("cargo test: {e}"))?;
    if !status.success() {
        if renderer_hung {
            println!(
                "hint: chromedriver got no answer from the page for minutes (`Timed out receiving \
                 message from renderer`; the runner then says `missing field chunk`): the page's \
                 main thread was blocked, i.e. a synchronous loop in a test or in the library. \
                 Run that file with NO_HEADLESS=1 to watch it in a browser."
            );
        }
        return Err(format!("browser tests failed ({status})"));
    }
    Ok(chrome_runs)
}

fn webdriver_json_text() -> String {
    let args: Vec<String> = CHROME_ARGS.iter().map(|a| format!("\"{a}\"")).collect();
    let binary = if Path::new(CHROMIUM).exists() {
        format!(",\n    \"binary\": \"{CHROMIUM}\"")
    } else {
        String::new()
    };
    format!(
        "{{\n  \"goog:chromeOptions\": {{\n    \"args\": [{}]{binary}\n  }}\n}}\n",
        args.join(", ")
    )
}

// ---------------------------------------------------------------------------------------------
// pkg

struct Sizes {
    gzip_total: usize,
}

/// `bench`: pkg/, a release event-server, bench/node_modules, then `node bench/run.mjs`.
fn bench(ctx: &Ctx) -> Result {
    pkg(ctx)?;
    step("bench: build a release event-server");
    run(ctx
        .cargo()
        .args(["build", "-p", "event-server", "--release"]))?;
    let dir = ctx.root.join("bench");
    if !dir.join("node_modules").join("esbuild").exists() {
        run(Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir))?;
    }
    step("bench: node bench/run.mjs");
    let server = ctx.target_dir.join("release").join("event-server");
    run(Command::new("node")
        .arg("run.mjs")
        .env("EVENT_SERVER", server)
        .env("CHROMIUM", CHROMIUM)
        .current_dir(&dir))
}

fn pkg(ctx: &Ctx) -> Result<Sizes> {
    step("pkg: build the npm package into pkg/");
    // `strip = true` would also drop the `target_features` section that wasm-bindgen reads to
    // learn which wasm features (reference types) it may use; wasm-opt strips the rest below.
    run(ctx
        .cargo()
        .args([
            "build",
            "-p",
            "event-socket",
            "--lib",
            "--release",
            "--target",
            WASM_TARGET,
        ])
        .env("CARGO_PROFILE_RELEASE_STRIP", "debuginfo"))?;
    let wasm_in = ctx
        .target_dir
        .join(WASM_TARGET)
        .join("release")
        .join("event_socket.wasm");
    let out = ctx.root.join("pkg");
    if out.exists() {
        fs::remove_dir_all(&out).map_err(|e| format!("cannot clean {}: {e}", out.display()))?;
    }
    run(Command::new("wasm-bindgen")
        .current_dir(&ctx.root)
        .args(["--target", "web", "--out-dir"])
        .arg(&out)
        .args(["--out-name", "event_socket"])
        .arg(&wasm_in))?;

    let wasm = out.join("event_socket_bg.wasm");
    let before = file_len(&wasm)?;
    let wasm_opt = ctx.wasm_opt();
    if !wasm_opt.exists() {
        return Err(format!(
            "{} is missing: run `npm ci` in tests/e2e (cargo xtask test does)",
            wasm_opt.display()
        ));
    }
    run(Command::new(&wasm_opt)
        .arg("-Oz")
        .args(WASM_OPT_FEATURES)
        .args([
            "--strip-debug",
            "--strip-producers",
            "--strip-target-features",
        ])
        .arg(&wasm)
        .arg("-o")
        .arg(&wasm))?;
    println!("wasm-opt -Oz: {before} B -> {} B", file_len(&wasm)?);
    shorten_boundary_names(&out)?;
    fix_glue(&out)?;

    let cargo_toml = fs::read_to_string(ctx.root.join("Cargo.toml"))
        .map_err(|e| format!("cannot read Cargo.toml: {e}"))?;
    let field = |key| package_field(&cargo_toml, key);
    let version = field("version").ok_or("no [package] version in Cargo.toml")?;

    let mut files: Vec<String> = [
        "event_socket.js",
        "event_socket.d.ts",
        "event_socket_bg.wasm",
        "event_socket_bg.wasm.d.ts",
    ]
    .into_iter()
    .filter(|f| out.join(f).exists())
    .map(String::from)
    .collect();
    if out.join("snippets").exists() {
        files.push("snippets/".into());
    }
    let readme = ctx.root.join("README.md");
    if readme.exists() {
        fs::copy(&readme, out.join("README.md"))
            .map_err(|e| format!("cannot copy README.md: {e}"))?;
        files.push("README.md".into());
    }
    let package_json = package_json_text(
        &version,
        field("description").as_deref(),
        field("license").as_deref(),
        &files,
    );
    fs::write(out.join("package.json"), package_json)
        .map_err(|e| format!("cannot write pkg/package.json: {e}"))?;
    // wasm-bindgen writes a .gitignore of `*` into pkg/; npm would then publish nothing.
    let _ = fs::remove_file(out.join(".gitignore"));
    println!(
        "wrote pkg/package.json (event-socket {version}; files: {})",
        files.join(", ")
    );

    let mut raw_total = 0;
    let mut gzip_total = 0;
    for name in ["event_socket_bg.wasm", "event_socket.js"] {
        let bytes = fs::read(out.join(name)).map_err(|e| format!("cannot read pkg/{name}: {e}"))?;
        let gz = gzip_len(&bytes);
        println!("size: {name} raw {} B, gzip {gz} B", bytes.len());
        raw_total += bytes.len();
        gzip_total += gz;
    }
    println!("size: total raw {raw_total} B, gzip {gzip_total} B");
    Ok(Sizes { gzip_total })
}

/// See `before_init.rs` and `dispose.rs`: the glue's exported functions say "await init() first"
/// instead of failing on an undefined `wasm`, and `using` closes a subscription.
fn fix_glue(out: &Path) -> Result<()> {
    let (js, names) = before_init::guard(&read_pkg(out, "event_socket.js")?)?;
    write_pkg(out, "event_socket.js", dispose::glue(&js)?.as_bytes())?;
    let ts = dispose::types(&read_pkg(out, "event_socket.d.ts")?)?;
    write_pkg(out, "event_socket.d.ts", ts.as_bytes())?;
    println!(
        "before-init guard: {}; [Symbol.dispose] closes",
        names.join(", ")
    );
    Ok(())
}

/// A text file of the package in `out`.
fn read_pkg(out: &Path, name: &str) -> Result<String> {
    fs::read_to_string(out.join(name)).map_err(|e| format!("cannot read pkg/{name}: {e}"))
}

fn write_pkg(out: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    fs::write(out.join(name), bytes).map_err(|e| format!("cannot write pkg/{name}: {e}"))
}

/// See `minify.rs`: the names that cross between the wasm and the glue (imports hashed by
/// wasm-bindgen, exports the glue calls as `wasm.<name>`), shortened in the wasm, the glue and
/// the type declarations alike.
fn shorten_boundary_names(out: &Path) -> Result<()> {
    let read = |name: &str| read_pkg(out, name);
    let write = |name: &str, bytes: &[u8]| write_pkg(out, name, bytes);
    let wasm_path = out.join("event_socket_bg.wasm");
    let wasm =
        fs::read(&wasm_path).map_err(|e| format!("cannot read {}: {e}", wasm_path.display()))?;
    let js = read("event_socket.js")?;
    let fail = |what: &str, e: String| format!("shortening {what} names: {e}");

    let (wasm, imports) =
        minify::imports(&wasm, minify::GLUE_MODULE).map_err(|e| fail("import", e))?;
    let js = minify::glue(&js, &imports).map_err(|e| fail("import", e))?;
    let (wasm, exports) = minify::exports(&wasm, |name| minify::renameable_export(&js, name))
        .map_err(|e| fail("export", e))?;
    let js = minify::glue_exports(&js, &exports).map_err(|e| fail("export", e))?;

    write("event_socket_bg.wasm", &wasm)?;
    write("event_socket.js", js.as_bytes())?;
    for types in ["event_socket.d.ts", "event_socket_bg.wasm.d.ts"] {
        if out.join(types).exists() {
            let ts = minify::types_exports(&read(types)?, &exports);
            write(types, ts.as_bytes())?;
        }
    }
    println!(
        "boundary names: {} imports and {} exports shortened",
        imports.len(),
        exports.len()
    );
    Ok(())
}

fn file_len(path: &Path) -> Result<u64> {
    fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn gzip_len(bytes: &[u8]) -> usize {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).expect("writing to a Vec");
    enc.finish().expect("writing to a Vec").len()
}

/// A `key = "value"` string field of the `[package]` table of a Cargo.toml.
fn package_field(cargo_toml: &str, key: &str) -> Option<String> {
    let mut in_package = false;
    for line in cargo_toml.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package {
            if let Some((k, v)) = line.split_once('=') {
                let v = v.trim();
                if k.trim() == key && v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
                    return Some(v[1..v.len() - 1].to_string());
                }
            }
        }
    }
    None
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn package_json_text(
    version: &str,
    description: Option<&str>,
    license: Option<&str>,
    files: &[String],
) -> String {
    let mut s = String::from("{\n  \"name\": \"event-socket\",\n");
    s += &format!("  \"version\": {},\n", json_str(version));
    if let Some(d) = description {
        s += &format!("  \"description\": {},\n", json_str(d));
    }
    if let Some(l) = license {
        s += &format!("  \"license\": {},\n", json_str(l));
    }
    s += "  \"type\": \"module\",\n";
    s += "  \"main\": \"event_socket.js\",\n";
    s += "  \"module\": \"event_socket.js\",\n";
    s += "  \"types\": \"event_socket.d.ts\",\n";
    s += "  \"exports\": {\n";
    s += "    \".\": {\n      \"types\": \"./event_socket.d.ts\",\n      \"default\": \"./event_socket.js\"\n    },\n";
    s += "    \"./event_socket_bg.wasm\": \"./event_socket_bg.wasm\"\n";
    s += "  },\n";
    let files: Vec<String> = files.iter().map(|f| json_str(f)).collect();
    s += &format!("  \"files\": [{}],\n", files.join(", "));
    s += "  \"sideEffects\": false\n}\n";
    s
}

// ---------------------------------------------------------------------------------------------
// demo

fn demo(ctx: &Ctx) -> Result {
    ensure_tools(ctx, Tools::DEMO)?;
    let page = ctx.root.join("www").join("index.html").exists();
    if page {
        // The page loads the package from pkg/ (see Trunk.toml): build it fresh.
        pkg(ctx)?;
    }
    step(&format!(
        "demo: event-server --simulate demo on 127.0.0.1:{DEMO_PORT}"
    ));
    let bin = build_server(ctx)?;
    let port = DEMO_PORT.to_string();
    let mut server = start_server(&bin, &["--port", &port, "--simulate", "demo"])?;
    println!("event-server is up at http://{}", server.addr);

    step("demo: trunk serve");
    if !page {
        println!("note: www/index.html does not exist yet, so there is no page to serve.");
        println!(
            "The server keeps running at http://{}; press Ctrl-C to stop it.",
            server.addr
        );
        let status = server
            .child
            .wait()
            .map_err(|e| format!("event-server: {e}"))?;
        return Err(format!("event-server exited ({status})"));
    }
    let (address, trunk_port) = trunk_serve_addr(ctx);
    println!();
    println!("   open http://{address}:{trunk_port}/   (Ctrl-C stops trunk and the server)");
    println!();
    let result = run(ctx.in_root("trunk").arg("serve"));
    drop(server);
    result
}

impl Ctx {
    fn in_root(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(&self.root);
        cmd
    }
}

/// The address and port `trunk serve` listens on: Trunk.toml's [serve] values or trunk's defaults.
fn trunk_serve_addr(ctx: &Ctx) -> (String, u16) {
    let mut address = "127.0.0.1".to_string();
    let mut port = 8080;
    let mut text = String::new();
    if let Ok(mut f) = fs::File::open(ctx.root.join("Trunk.toml")) {
        let _ = f.read_to_string(&mut text);
    }
    let mut in_serve = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_serve = line == "[serve]";
        } else if let (true, Some((k, v))) = (in_serve, line.split_once('=')) {
            let v = v.split('#').next().unwrap_or("").trim().trim_matches('"');
            match k.trim() {
                "port" => port = v.parse().unwrap_or(port),
                "address" | "addresses" => {
                    let v = v.trim_matches(|c| c == '[' || c == ']' || c == '"');
                    let first = v.split(',').next().unwrap_or("").trim().trim_matches('"');
                    if !first.is_empty() && first != "0.0.0.0" {
                        address = first.to_string();
                    }
                }
                _ => {}
            }
        }
    }
    (address, port)
}

// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_locked_wasm_bindgen_version() {
        let lock = "\
[[package]]
name = \"wasm-bindgen-futures\"
version = \"0.4.80\"

[[package]]
name = \"wasm-bindgen\"
version = \"0.2.130\"
source = \"registry+https://github.com/rust-lang/crates.io-index\"
";
        assert_eq!(
            lock_version(lock, "wasm-bindgen").as_deref(),
            Some("0.2.130")
        );
        assert_eq!(lock_version(lock, "web-sys"), None);
    }

    #[test]
    fn reads_the_address_from_the_servers_first_line() {
        let addr = listening_addr("event-server listening on http://127.0.0.1:40123\n");
        assert_eq!(addr.as_deref(), Some("127.0.0.1:40123"));
        assert_eq!(
            listening_addr("event-server listening on http://[::1]:8084/").as_deref(),
            Some("[::1]:8084")
        );
        assert_eq!(
            listening_addr("event-server listening on http://127.0.0.1:0"),
            None
        );
        assert_eq!(listening_addr("starting up"), None);
    }

    #[test]
    fn reads_package_fields_only_from_the_package_table() {
        let toml = "[package]\nname = \"event-socket\"\nversion = \"0.1.0\"\n\n[dependencies]\nversion = \"9\"\n";
        assert_eq!(package_field(toml, "version").as_deref(), Some("0.1.0"));
        assert_eq!(package_field(toml, "license"), None);
    }

    #[test]
    fn package_json_has_the_entry_points() {
        let files = vec!["event_socket.js".to_string(), "README.md".to_string()];
        let json = package_json_text("0.1.0", Some("a \"quoted\" client"), Some("MIT"), &files);
        assert!(json.contains("\"version\": \"0.1.0\""));
        assert!(json.contains("\"type\": \"module\""));
        assert!(json.contains("\"default\": \"./event_socket.js\""));
        assert!(json.contains("\"./event_socket_bg.wasm\": \"./event_socket_bg.wasm\""));
        assert!(json.contains("\"files\": [\"event_socket.js\", \"README.md\"]"));
        assert!(json.contains("a \\\"quoted\\\" client"));
        assert!(json.trim_end().ends_with("\"sideEffects\": false\n}"));
    }

    #[test]
    fn webdriver_json_passes_the_chrome_flags() {
        let json = webdriver_json_text();
        assert!(json.contains("\"goog:chromeOptions\""));
        assert!(json.contains("\"--headless\""));
        assert!(json.contains("\"--no-first-run\""));
    }

    #[test]
    fn gzip_makes_repetitive_text_smaller() {
        let text = "event-socket ".repeat(1000);
        assert!(gzip_len(text.as_bytes()) < 200);
    }
}
