//! `cargo xtask test | pkg | size | demo | bench`: the project's commands, one module each.
//!
//! - `test` (test.rs): installs what is missing, runs the native tests, starts an `event-server`,
//!   runs the browser tests (wasm-bindgen-test in headless Chromium) against it, builds the npm
//!   package and runs the page tests (`tests/e2e/run.mjs`) and the package tests
//!   (`tests/e2e/package.mjs`: `npm pack`, `examples/`, the shipped build's own suites). Exits
//!   non-zero on any failure.
//! - `pkg` (pkg.rs): builds the npm package into `pkg/` and prints its sizes.
//! - `size` (size.rs): where the bytes of the shipped wasm go, by twiggy.
//! - `bench` (bench.rs): builds the package and a release `event-server`, then runs
//!   `bench/run.mjs` (which starts its own server and browser). A benchmark, not a test.
//! - `demo` (demo.rs): starts `event-server --simulate demo` on port 8084 and `trunk serve`.
//!
//! tools.rs installs what a command needs; server.rs starts and stops the event server. Servers
//! this program starts are owned by a guard that kills them when it is dropped (on success, on
//! error and on panic). On Ctrl-C the terminal sends SIGINT to the whole foreground process group,
//! so the servers and tools started here stop together with us.

mod before_init;
mod bench;
mod demo;
mod dispose;
mod engines;
mod minify;
mod pkg;
mod server;
mod size;
mod test;
mod tools;

use tools::{ensure_tools, Tools};

use std::env;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

type Result<T = ()> = std::result::Result<T, String>;

const WASM_TARGET: &str = "wasm32-unknown-unknown";
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test   install missing tools, then run every test: native (cargo test --workspace),
         browser (wasm-bindgen-test in Chromium, Firefox ESR and WebKitGTK against a fresh
         event-server), the npm package build, the fault suite on it, the page tests and the
         package tests; `test --browser chromium|firefox|webkit`: only the browser suites, in
         that engine
  pkg    build the npm package into pkg/ (wasm-bindgen --target web, wasm-opt -Oz)
         and print its raw and gzipped sizes
  size   build pkg/, then report where the wasm's bytes go (twiggy, installed if missing),
         grouped by module and crate; written to target/xtask/size/report.md
  demo   start event-server --simulate demo on 127.0.0.1:8084 and `trunk serve` the demo page
  bench  build pkg/ and a release event-server, then run the benchmark (node bench/run.mjs);
         writes bench/results.json, bench/results.md and bench/throughput.svg (not a test)";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let ctx = Ctx::new();
    let started = Instant::now();
    let result = match args.first().map(String::as_str) {
        Some("test") => test::test(&ctx, &args[1..]),
        Some("pkg") => ensure_tools(&ctx, Tools::PKG).and_then(|()| pkg::pkg(&ctx).map(drop)),
        Some("demo") => demo::demo(&ctx),
        Some("size") => ensure_tools(&ctx, Tools::SIZE).and_then(|()| size::size(&ctx)),
        Some("bench") => ensure_tools(&ctx, Tools::PKG).and_then(|()| bench::bench(&ctx)),
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

struct Ctx {
    root: PathBuf,
    target_dir: PathBuf,
    cargo: OsString,
    e2e: PathBuf,
    /// Where `cargo install` puts tools (`$CARGO_HOME/bin`).
    cargo_bin: PathBuf,
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
        let cargo_bin = env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
            .unwrap_or_else(|| PathBuf::from(".cargo"))
            .join("bin");
        let paths: Vec<PathBuf> =
            env::split_paths(&env::var_os("PATH").unwrap_or_default()).collect();
        if !paths.contains(&cargo_bin) {
            let joined = env::join_paths(std::iter::once(cargo_bin.clone()).chain(paths))
                .expect("PATH entries are joinable");
            env::set_var("PATH", joined); // still single-threaded here
        }
        Ctx {
            cargo_bin,
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
