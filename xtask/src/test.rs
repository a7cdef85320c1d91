//! `cargo xtask test`: every test, the one command CI runs.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::pkg::{panic_probe, pkg};
use crate::server::{build_server, start_server};
use crate::tools::{ensure_tools, Tools};
use crate::{run, show, step, Ctx, Result, CHROMEDRIVER, CHROMIUM, WASM_TARGET};

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

pub fn test(ctx: &Ctx) -> Result {
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

    // Rust apps depend on the crate with `default-features = false` (README): that build must
    // compile too, warnings included, though no suite links it.
    step("the Rust apps' build: cargo rustc -p event-socket --target wasm32-unknown-unknown --no-default-features -- -D warnings");
    run(ctx.cargo().args([
        "rustc",
        "-p",
        "event-socket",
        "--lib",
        "--target",
        WASM_TARGET,
        "--no-default-features",
        "--",
        "-D",
        "warnings",
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

    step(
        "browser tests: cargo test -p event-socket --release --target wasm32-unknown-unknown \
         (the shipped features and profile, headless Chromium)",
    );
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

    step("fault suite on the shipped build: node tests/e2e/faults.mjs (pkg/ in headless Chromium)");
    node_tests(ctx, "faults.mjs", &bin)?;

    step("page tests: node tests/e2e/run.mjs");
    node_tests(ctx, "run.mjs", &bin)?;

    step("package tests: node tests/e2e/package.mjs (npm pack, examples/ in headless Chromium)");
    node_tests(ctx, "package.mjs", &bin)?;

    // Last: it leaves the probe build in cargo's output, which nothing after it reads.
    panic_probe(ctx)?;
    step("panic hook: node tests/e2e/panic.mjs (a panic shows its message and location)");
    node_tests(ctx, "panic.mjs", &bin)?;

    step("stop event-server");
    drop(server);

    println!();
    println!(
        "== xtask test: ALL PASSED in {}s: native tests, {chrome_runs} browser test binar(y/ies) in \
         headless Chrome, pkg (wasm+js gzip {} B), the fault suite on pkg/, page tests, package \
         tests, the panic hook",
        started.elapsed().as_secs(),
        sizes.gzip_total()
    );
    Ok(())
}

/// The `tests/*.rs` files that run in a browser.
pub fn browser_test_files(ctx: &Ctx) -> Vec<String> {
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
/// Runs a test script of tests/e2e (it starts its own servers from `bin`); a missing script is an
/// error, not a pass.
pub fn node_tests(ctx: &Ctx, script: &str, bin: &Path) -> Result {
    let path = ctx.e2e.join(script);
    if !path.exists() {
        return Err(format!("tests/e2e/{script} is missing"));
    }
    run(Command::new("node")
        .arg(&path)
        .current_dir(&ctx.root)
        .env("EVENT_SERVER_BIN", bin)
        .env("ROOT", &ctx.root)
        .env("CHROMIUM", CHROMIUM))
}

pub fn browser_tests(ctx: &Ctx, event_server: &str) -> Result<usize> {
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
        // What pkg/ ships: the same features (the defaults) and the same release profile (opt-level
        // z, LTO, panic abort), so the Rust these suites run is the shipped Rust; the wasm-opt pass
        // and the glue fixes are exercised on pkg/ itself by tests/e2e/faults.mjs and package.mjs.
        "--release",
        "--target",
        WASM_TARGET,
        "--no-fail-fast",
        "--",
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

pub fn webdriver_json_text() -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webdriver_json_passes_the_chrome_flags() {
        let json = webdriver_json_text();
        assert!(json.contains("\"goog:chromeOptions\""));
        assert!(json.contains("\"--headless\""));
        assert!(json.contains("\"--no-first-run\""));
    }
}
