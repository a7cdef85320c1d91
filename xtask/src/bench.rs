//! `cargo xtask bench`: the side-by-side benchmark (bench/run.mjs), not a test.

use std::process::Command;

use crate::pkg::pkg;
use crate::{run, step, Ctx, Result, CHROMIUM};

/// `bench`: pkg/, a release event-server, bench/node_modules, then `node bench/run.mjs`.
pub fn bench(ctx: &Ctx) -> Result {
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
