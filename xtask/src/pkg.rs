//! `cargo xtask pkg`: the npm package in pkg/, and its sizes.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{before_init, dispose, minify, run, step, Ctx, Result, WASM_TARGET};

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

/// The shipped files' sizes in bytes.
pub struct Sizes {
    pub wasm_raw: usize,
    pub wasm_gzip: usize,
    pub glue_gzip: usize,
}

impl Sizes {
    pub fn gzip_total(&self) -> usize {
        self.wasm_gzip + self.glue_gzip
    }
}

pub fn pkg(ctx: &Ctx) -> Result<Sizes> {
    step("pkg: build the npm package into pkg/");
    let wasm_in = build_wasm(ctx, &[])?;
    let out = ctx.root.join("pkg");
    bindgen(&wasm_in, &out)?;
    let wasm = out.join("event_socket_bg.wasm");
    let before = file_len(&wasm)?;
    optimize(ctx, &wasm, Names::Strip)?;
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

    let mut measured = [(0, 0); 2];
    for (name, m) in ["event_socket_bg.wasm", "event_socket.js"]
        .into_iter()
        .zip(&mut measured)
    {
        let bytes = fs::read(out.join(name)).map_err(|e| format!("cannot read pkg/{name}: {e}"))?;
        *m = (bytes.len(), gzip_len(&bytes));
        println!("size: {name} raw {} B, gzip {} B", m.0, m.1);
    }
    let [(wasm_raw, wasm_gzip), (glue_raw, glue_gzip)] = measured;
    println!(
        "size: total raw {} B, gzip {} B",
        wasm_raw + glue_raw,
        wasm_gzip + glue_gzip
    );
    Ok(Sizes {
        wasm_raw,
        wasm_gzip,
        glue_gzip,
    })
}

/// `cargo build --release` of the library for the browser: the shipped features (the defaults)
/// and `extra` ones, the release profile of Cargo.toml. Returns the path of the wasm.
pub fn build_wasm(ctx: &Ctx, extra: &[&str]) -> Result<PathBuf> {
    // Cargo.toml's release profile strips debug info only: wasm-bindgen reads the
    // `target_features` section to learn which wasm features (reference types) it may use;
    // wasm-opt strips the rest.
    run(ctx.cargo().args([
        "build",
        "-p",
        "event-socket",
        "--lib",
        "--release",
        "--target",
        WASM_TARGET,
        "--features",
        &extra.join(","),
    ]))?;
    Ok(ctx
        .target_dir
        .join(WASM_TARGET)
        .join("release")
        .join("event_socket.wasm"))
}

/// For tests/e2e/panic.mjs: the release build with feature `panic-probe` (one more export, which
/// panics), through wasm-bindgen and the same `wasm-opt`, into target/xtask/panic-probe/pkg.
/// Never pkg/. Returns that directory.
pub fn panic_probe(ctx: &Ctx) -> Result<PathBuf> {
    step("panic probe: the release build plus an export that panics (target/xtask/panic-probe)");
    let wasm_in = build_wasm(ctx, &["panic-probe"])?;
    let out = ctx.target_dir.join("xtask").join("panic-probe").join("pkg");
    bindgen(&wasm_in, &out)?;
    optimize(ctx, &out.join("event_socket_bg.wasm"), Names::Strip)?;
    Ok(out)
}

/// `wasm-bindgen --target web` of `wasm_in` into a fresh `out`.
pub fn bindgen(wasm_in: &Path, out: &Path) -> Result {
    if out.exists() {
        fs::remove_dir_all(out).map_err(|e| format!("cannot clean {}: {e}", out.display()))?;
    }
    run(Command::new("wasm-bindgen")
        .args(["--target", "web", "--out-dir"])
        .arg(out)
        .args(["--out-name", "event_socket"])
        .arg(wasm_in))
}

/// What `wasm-opt` keeps of the function names.
#[derive(Clone, Copy, PartialEq)]
pub enum Names {
    /// The shipped package: no names, no debug, producers or target-features sections.
    Strip,
    /// The same optimisation with the names kept, for the size report.
    Keep,
}

/// `wasm-opt -Oz` in place (npm `binaryen`).
pub fn optimize(ctx: &Ctx, wasm: &Path, names: Names) -> Result {
    let wasm_opt = ctx.wasm_opt();
    if !wasm_opt.exists() {
        return Err(format!(
            "{} is missing: run `npm ci` in tests/e2e (cargo xtask test does)",
            wasm_opt.display()
        ));
    }
    let mut cmd = Command::new(&wasm_opt);
    cmd.arg("-Oz").args(WASM_OPT_FEATURES);
    match names {
        Names::Strip => cmd.args([
            "--strip-debug",
            "--strip-producers",
            "--strip-target-features",
        ]),
        Names::Keep => cmd.arg("--debuginfo"),
    };
    run(cmd.arg(wasm).arg("-o").arg(wasm))
}

/// See `before_init.rs` and `dispose.rs`: the glue's exported functions say "await init() first"
/// instead of failing on an undefined `wasm`, and `using` closes a subscription.
pub fn fix_glue(out: &Path) -> Result<()> {
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
pub fn read_pkg(out: &Path, name: &str) -> Result<String> {
    fs::read_to_string(out.join(name)).map_err(|e| format!("cannot read pkg/{name}: {e}"))
}

pub fn write_pkg(out: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    fs::write(out.join(name), bytes).map_err(|e| format!("cannot write pkg/{name}: {e}"))
}

/// See `minify.rs`: the names that cross between the wasm and the glue (imports hashed by
/// wasm-bindgen, exports the glue calls as `wasm.<name>`), shortened in the wasm, the glue and
/// the type declarations alike.
pub fn shorten_boundary_names(out: &Path) -> Result<()> {
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

pub fn file_len(path: &Path) -> Result<u64> {
    fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| format!("{}: {e}", path.display()))
}

pub fn gzip_len(bytes: &[u8]) -> usize {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).expect("writing to a Vec");
    enc.finish().expect("writing to a Vec").len()
}

/// A `key = "value"` string field of the `[package]` table of a Cargo.toml.
pub fn package_field(cargo_toml: &str, key: &str) -> Option<String> {
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

pub fn json_str(s: &str) -> String {
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

pub fn package_json_text(
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn gzip_makes_repetitive_text_smaller() {
        let text = "event-socket ".repeat(1000);
        assert!(gzip_len(text.as_bytes()) < 200);
    }
}
