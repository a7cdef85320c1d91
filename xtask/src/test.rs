//! `cargo xtask test`: every test, the one command CI runs.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::engines::{self, Engine};
use crate::pkg::{panic_probe, pkg};
use crate::server::{build_server, start_server};
use crate::tools::{ensure_engine, ensure_tools, Tools};
use crate::{run, show, step, Ctx, Result, CHROMIUM, WASM_TARGET};

/// `cargo xtask test [--browser chromium|firefox|webkit]`: everything, or with `--browser` the
/// browser suites in that one engine (quick work on an engine).
pub fn test(ctx: &Ctx, args: &[String]) -> Result {
    let only = match args {
        [] => None,
        [flag, name] if flag == "--browser" => Some(Engine::parse(name).ok_or_else(|| {
            format!("--browser: {name:?} is not one of chromium, firefox, webkit")
        })?),
        _ => {
            return Err(format!(
                "test: unexpected arguments {args:?} (try --browser NAME)"
            ))
        }
    };
    let started = Instant::now();
    ensure_tools(ctx, Tools::ALL)?;
    let engines: Vec<Engine> = match only {
        Some(e) => vec![e],
        // Chromium first: the page and package tests drive it too.
        None => Engine::ALL.to_vec(),
    };
    for &e in &engines {
        ensure_engine(ctx, e)?;
    }

    if only.is_none() {
        native_tests(ctx)?;
    }

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

    let mut counts = Vec::new();
    for &e in &engines {
        step(&format!(
            "browser tests in {}: cargo test -p event-socket --release --target \
             wasm32-unknown-unknown (the shipped features and profile)",
            e.name()
        ));
        let passed = browser_tests(ctx, &event_server, e)?;
        counts.push(format!("{} {passed}", e.name()));
    }
    if only.is_some() {
        drop(server);
        println!();
        println!(
            "== xtask test --browser: PASSED in {}s: {} tests",
            started.elapsed().as_secs(),
            counts.join(", ")
        );
        return Ok(());
    }

    let sizes = pkg(ctx)?;

    step("fault suite on the shipped build: node tests/e2e/faults.mjs (pkg/ in headless Chromium)");
    node_tests(ctx, "faults.mjs", &bin)?;

    step("sharing across tabs: node tests/e2e/tabs.mjs (pkg/ in tabs of one Chromium profile)");
    node_tests(ctx, "tabs.mjs", &bin)?;

    step("page tests: node tests/e2e/run.mjs");
    node_tests(ctx, "run.mjs", &bin)?;

    step("package tests: node tests/e2e/package.mjs (npm pack, examples/ in headless Chromium)");
    node_tests(ctx, "package.mjs", &bin)?;

    step("Leptos example: node tests/e2e/leptos.mjs (examples/leptos-dashboard, trunk build --release)");
    node_tests(ctx, "leptos.mjs", &bin)?;

    // Last: it leaves the probe build in cargo's output, which nothing after it reads.
    panic_probe(ctx)?;
    step("panic hook: node tests/e2e/panic.mjs (a panic shows its message and location)");
    node_tests(ctx, "panic.mjs", &bin)?;

    step("stop event-server");
    drop(server);

    println!();
    println!(
        "== xtask test: ALL PASSED in {}s: native tests, browser tests ({} passed), pkg (wasm+js \
         gzip {} B), the fault suite on pkg/, tabs, page tests, package tests, the Leptos example, the \
         panic hook",
        started.elapsed().as_secs(),
        counts.join(", "),
        sizes.gzip_total()
    );
    Ok(())
}

/// The native tests, then the build Rust apps use.
fn native_tests(ctx: &Ctx) -> Result {
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
    // Rust apps depend on the crate with `default-features = false` (README), with or without
    // `stream`: those builds must compile too, warnings included, though no suite links them.
    for features in ["", "stream"] {
        step(&format!(
            "the Rust apps' build: cargo rustc -p event-socket --target wasm32-unknown-unknown \
             --no-default-features --features '{features}' -- -D warnings"
        ));
        run(ctx.cargo().args([
            "rustc",
            "-p",
            "event-socket",
            "--lib",
            "--target",
            WASM_TARGET,
            "--no-default-features",
            "--features",
            features,
            "--",
            "-D",
            "warnings",
        ]))?;
    }
    // The rustdoc examples of the browser-only modules (rust_api, stream, js) are cfg'd out of the
    // native doc tests above: compile them for wasm32 (the few without `no_run` run in Node).
    step("rustdoc examples for wasm32: cargo test --doc -p event-socket --target wasm32-unknown-unknown");
    run(ctx.cargo().args([
        "test",
        "--doc",
        "-p",
        "event-socket",
        "--target",
        WASM_TARGET,
    ]))?;
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

/// Runs the wasm-bindgen-test suites in `engine`, echoing their output; returns how many tests
/// passed. Every test file must have run in that engine.
pub fn browser_tests(ctx: &Ctx, event_server: &str, engine: Engine) -> Result<usize> {
    // wasm-bindgen-test-runner reads browser capabilities from the file named by
    // WASM_BINDGEN_TEST_WEBDRIVER_JSON (default: ./webdriver.json); we generate ours.
    let dir = ctx.target_dir.join("xtask");
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let webdriver_json = dir.join("webdriver.json");
    fs::write(&webdriver_json, engines::webdriver_json())
        .map_err(|e| format!("cannot write {}: {e}", webdriver_json.display()))?;

    // WebKitGTK needs a display even when driven: a virtual one, for the whole run.
    let mut cmd = if engine.needs_display() {
        let mut c = Command::new("xvfb-run");
        c.arg("-a").arg(&ctx.cargo).current_dir(&ctx.root);
        c
    } else {
        ctx.cargo()
    };
    let (driver_var, driver) = engine.driver(&ctx.cargo_bin);
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
    .env(driver_var, &driver)
    .env("EVENT_SERVER", event_server)
    .env("WASM_BINDGEN_TEST_TIMEOUT", "900")
    .env("WASM_BINDGEN_TEST_DRIVER_TIMEOUT", "60")
    .env("WASM_BINDGEN_TEST_WEBDRIVER_JSON", &webdriver_json)
    .env_remove("NO_HEADLESS")
    .env_remove("WASM_BINDGEN_TEST_ONLY_NODE")
    .stdout(Stdio::piped());
    // Only the chosen driver: the runner picks the first it finds.
    for (var, _) in Engine::ALL.map(|e| e.driver(&ctx.cargo_bin)) {
        if var != driver_var {
            cmd.env_remove(var);
        }
    }
    println!("$ {}", show(&cmd));
    println!(
        "  ({driver_var}={} EVENT_SERVER={event_server} WASM_BINDGEN_TEST_TIMEOUT=900 \
         WASM_BINDGEN_TEST_WEBDRIVER_JSON={})",
        driver.display(),
        webdriver_json.display()
    );
    let mut child = cmd.spawn().map_err(|e| format!("cannot run cargo: {e}"))?;
    let banner = format!("Running headless tests in {}", engine.banner());
    let (mut runs, mut passed) = (0, 0);
    let mut renderer_hung = false;
    for line in BufReader::new(child.stdout.take().expect("piped")).lines() {
        let Ok(line) = line else { break };
        runs += usize::from(line.contains(&banner));
        passed += passed_in(&line);
        renderer_hung |= line.contains("Timed out receiving message from renderer");
        println!("{line}");
    }
    let status = child.wait().map_err(|e| format!("cargo test: {e}"))?;
    if !status.success() {
        if renderer_hung {
            println!(
                "hint: the driver got no answer from the page for minutes (`Timed out receiving \
                 message from renderer`; the runner then says `missing field chunk`): the page's \
                 main thread was blocked, i.e. a synchronous loop in a test or in the library. \
                 Run that file with NO_HEADLESS=1 to watch it in a browser."
            );
        }
        return Err(format!(
            "browser tests in {} failed ({status})",
            engine.name()
        ));
    }
    let files = browser_test_files(ctx);
    if runs < files.len() {
        return Err(format!(
            "{} browser test file(s) ({}) but only {runs} run(s) in {}: were they skipped?",
            files.len(),
            files.join(", "),
            engine.name()
        ));
    }
    println!(
        "ok: {runs} test binaries, {passed} tests passed in {}",
        engine.name()
    );
    Ok(passed)
}

/// N from wasm-bindgen-test's `test result: ok. N passed; …` line, else 0 (also for the doc
/// tests' line, which says `measured`: they only compile for this target).
fn passed_in(line: &str) -> usize {
    if line.contains("measured") {
        return 0;
    }
    line.trim()
        .strip_prefix("test result: ok. ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_passed_count() {
        assert_eq!(
            passed_in("test result: ok. 22 passed; 0 failed; 0 ignored; 0 filtered out; finished in 7.12s"),
            22
        );
        assert_eq!(passed_in("test result: FAILED. 21 passed; 1 failed"), 0);
        assert_eq!(passed_in("running 22 tests"), 0);
        assert_eq!(
            passed_in(
                "test result: ok. 45 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out"
            ),
            0
        );
    }
}
