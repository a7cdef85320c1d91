//! `cargo xtask demo`: the event server with simulated traffic and `trunk serve` for www/.

use std::fs;
use std::io::Read;
use std::process::Command;

use crate::server::{build_server, start_server};
use crate::tools::{ensure_tools, Tools};
use crate::{run, step, Ctx, Result};

const DEMO_PORT: u16 = 8084;

pub fn demo(ctx: &Ctx) -> Result {
    ensure_tools(ctx, Tools::DEMO)?;
    // The page loads the package from pkg/, which trunk's pre_build hook (Trunk.toml) builds with
    // `cargo xtask pkg` before every build, so a fresh clone needs no step of its own here.
    let page = ctx.root.join("www").join("index.html").exists();
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
pub fn trunk_serve_addr(ctx: &Ctx) -> (String, u16) {
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
