//! Installing what the commands need, each tool only if it is missing.

use std::fs;
use std::path::Path;
use std::process::Command;

use std::sync::atomic::{AtomicBool, Ordering};

use crate::engines::{Engine, GECKODRIVER_VERSION};
use crate::{output_of, run, step, Ctx, Result, WASM_TARGET};

const TRUNK_VERSION: &str = "0.21.14";
/// The wasm size profiler behind `cargo xtask size`.
const TWIGGY_VERSION: &str = "0.8.0";

/// What a command needs besides the wasm target, wasm-bindgen and the npm tools (always).
#[derive(Clone, Copy)]
pub struct Tools {
    trunk: bool,
    twiggy: bool,
}

impl Tools {
    pub const ALL: Tools = Tools {
        trunk: true,
        twiggy: false,
    };
    pub const PKG: Tools = Tools {
        trunk: false,
        twiggy: false,
    };
    pub const DEMO: Tools = Tools {
        trunk: true,
        twiggy: false,
    };
    pub const SIZE: Tools = Tools {
        trunk: false,
        twiggy: true,
    };
}

/// Installs each missing tool; prints one heading per tool.
pub fn ensure_tools(ctx: &Ctx, tools: Tools) -> Result {
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
        // No --locked: tried (2026-12-07), `cargo install wasm-bindgen-cli --version =0.2.130
        // --locked` fails to resolve here ("failed to select a version for webpki-roots
        // ^1.0.10 (locked to 1.0.11)": the registry these machines reach lacks it). What must
        // match is pinned: the CLI's own version, exactly the library's in Cargo.lock (`=`: a bare
        // version would be a caret requirement and could pick a newer patch release); its
        // dependencies only build the tool.
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
        cargo_tool(ctx, "trunk", TRUNK_VERSION)?;
    }
    if tools.twiggy {
        cargo_tool(ctx, "twiggy", TWIGGY_VERSION)?;
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

/// What `engine` needs (Debian's packages; geckodriver from crates.io), each only if missing.
pub fn ensure_engine(ctx: &Ctx, engine: Engine) -> Result {
    step(&format!(
        "tools: {} for the browser tests ({})",
        engine.name(),
        engine.packages().join(", ")
    ));
    let missing: Vec<&str> = engine
        .installed()
        .iter()
        .copied()
        .filter(|p| !Path::new(p).exists())
        .collect();
    if missing.is_empty() {
        println!("ok: {}", engine.installed().join(", "));
    } else {
        println!("missing: {}", missing.join(", "));
        apt_install(engine.packages())?;
        for path in engine.installed() {
            if !Path::new(path).exists() {
                return Err(format!("{path} is still missing after apt-get install"));
            }
        }
    }
    if engine == Engine::Firefox {
        cargo_tool(ctx, "geckodriver", GECKODRIVER_VERSION)?;
    }
    Ok(())
}

/// `apt-get install -y` (after one `apt-get update` per run), with `sudo` unless root.
fn apt_install(packages: &[&str]) -> Result {
    static UPDATED: AtomicBool = AtomicBool::new(false);
    let root = output_of("id", &["-u"]).as_deref() == Some("0");
    let apt = |args: &[&str]| {
        let mut cmd = if root {
            Command::new("apt-get")
        } else {
            let mut sudo = Command::new("sudo");
            sudo.args(["env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]);
            sudo
        };
        cmd.env("DEBIAN_FRONTEND", "noninteractive").args(args);
        cmd
    };
    if !UPDATED.swap(true, Ordering::Relaxed) {
        run(&mut apt(&["update"]))?;
    }
    let mut args = vec!["install", "-y"];
    args.extend_from_slice(packages);
    run(&mut apt(&args))
}

/// `cargo install <name> --version =<version> --locked` unless `<name> --version` says that
/// version already.
fn cargo_tool(ctx: &Ctx, name: &str, version: &str) -> Result {
    step(&format!("tools: {name} {version}"));
    // `trunk 0.21.14`; twiggy says `twiggy-opt 0.8.0`; geckodriver `geckodriver 0.37.1 (…)` and
    // more lines.
    match output_of(name, &["--version"]) {
        Some(v) if v.starts_with(name) && v.split_whitespace().nth(1) == Some(version) => {
            println!("ok: {}", v.lines().next().unwrap_or_default())
        }
        have => {
            println!("have: {}", have.as_deref().unwrap_or("none"));
            run(Command::new(&ctx.cargo).args([
                "install",
                name,
                "--version",
                &format!("={version}"),
                "--locked",
            ]))?;
        }
    }
    Ok(())
}

/// The version of the `wasm-bindgen` package in Cargo.lock (creating the lockfile if needed).
pub fn wasm_bindgen_version(ctx: &Ctx) -> Result<String> {
    let lock = ctx.root.join("Cargo.lock");
    if !lock.exists() {
        run(ctx.cargo().arg("generate-lockfile"))?;
    }
    let text =
        fs::read_to_string(&lock).map_err(|e| format!("cannot read {}: {e}", lock.display()))?;
    lock_version(&text, "wasm-bindgen")
        .ok_or_else(|| format!("no `wasm-bindgen` package in {}", lock.display()))
}

pub fn lock_version(lock: &str, package: &str) -> Option<String> {
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
}
