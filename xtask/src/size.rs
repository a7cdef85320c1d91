//! `cargo xtask size`: where the bytes of the shipped wasm go, measured by twiggy.
//!
//! Builds pkg/ (printing its raw and gzipped sizes as `cargo xtask pkg` does), then the same wasm
//! through the same `wasm-opt -Oz` with its function names kept, and asks twiggy for every item's
//! size. Items are grouped by what they belong to (a module of ours, a crate, wasm-bindgen's
//! export shims, the data segments), so the README's breakdown is this command's output, not
//! numbers typed in. The sizes are raw bytes of the optimised wasm; gzip shrinks each group by
//! roughly the same factor (the totals line gives it).

use std::collections::BTreeMap;
use std::fs;
use std::process::Command;

use crate::pkg::{bindgen, build_wasm, optimize, pkg, Names};
use crate::{step, Ctx, Result};

/// How many of the largest single items to list.
const TOP_ITEMS: usize = 15;

pub fn size(ctx: &Ctx) -> Result {
    let shipped = pkg(ctx)?;
    step("size: the same wasm with function names, through twiggy");
    let dir = ctx.target_dir.join("xtask").join("size");
    bindgen(&build_wasm(ctx, &[])?, &dir)?;
    let wasm = dir.join("event_socket_bg.wasm");
    optimize(ctx, &wasm, Names::Keep)?;
    let out = Command::new("twiggy")
        .args(["top", "-n", "1000000", "--format", "csv"])
        .arg(&wasm)
        .output()
        .map_err(|e| format!("cannot run twiggy: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "twiggy top failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let items = parse_top(&String::from_utf8_lossy(&out.stdout))?;
    let code: u64 = items.iter().map(|(_, n)| n).sum();
    let report = report(&items);
    println!("{report}");
    println!(
        "shipped pkg/: wasm {} B raw, {} B gzip; glue {} B gzip (unminified); {code} B of items \
         above, gzip keeps {:.0}% of the wasm",
        shipped.wasm_raw,
        shipped.wasm_gzip,
        shipped.glue_gzip,
        100.0 * shipped.wasm_gzip as f64 / shipped.wasm_raw.max(1) as f64
    );
    let file = dir.join("report.md");
    fs::write(&file, &report).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    println!("written to {}", file.display());
    Ok(())
}

/// (name, shallow bytes) of every item of `twiggy top --format csv`, without the name section
/// (the shipped wasm has none).
fn parse_top(csv: &str) -> Result<Vec<(String, u64)>> {
    let mut items = Vec::new();
    for line in csv.lines().skip(1) {
        let fields = csv_fields(line);
        let (Some(name), Some(bytes)) = (fields.first(), fields.get(1)) else {
            continue;
        };
        let bytes: u64 = bytes
            .parse()
            .map_err(|_| format!("twiggy: no size in {line:?}"))?;
        if name.contains("\"function names\" subsection") || name.contains("\"names\"") {
            continue;
        }
        items.push((name.clone(), bytes));
    }
    if items.is_empty() {
        return Err("twiggy listed no items".into());
    }
    Ok(items)
}

/// The fields of one CSV line: quoted fields may hold commas and doubled quotes.
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    fields.push(cur);
    fields
}

/// What an item belongs to: a module of ours (`event_socket::driver`), a crate, wasm-bindgen's
/// export shims, data, or the module's own sections.
fn group(name: &str) -> String {
    if name.starts_with("data segment") {
        return "data segments (messages, tables)".into();
    }
    if name.contains(" shim") || name.starts_with("export ") {
        return "wasm-bindgen export shims".into();
    }
    // `<dlmalloc[hash]::dlmalloc::Dlmalloc<..>>::malloc`, `core[hash]::fmt::write`,
    // `event_socket::driver::Connection::run::h…`, `<&u64 as core[…]::fmt::Debug>::fmt`
    let path = name.trim_start_matches(['<', '&']);
    let path = path.strip_prefix("mut ").unwrap_or(path);
    // `<u64 as core::fmt::Debug>::fmt`: a primitive's impl counts for the trait's crate;
    // `<alloc::string::String as core::fmt::Write>::…` for the type's.
    let path = match path.split_once(" as ") {
        Some((ty, tr)) if !ty.contains("::") => tr,
        _ => path,
    };
    let mut parts = path.split("::");
    let krate = parts.next().unwrap_or_default();
    let krate = krate.split('[').next().unwrap_or_default();
    let known = krate
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !known || krate.is_empty() || !path.contains("::") {
        return "other (imports, tables, wasm-bindgen runtime)".into();
    }
    match krate {
        "event_socket" => match parts.next() {
            Some(module) if module.chars().all(|c| c.is_ascii_lowercase() || c == '_') => {
                format!("event_socket::{module}")
            }
            _ => "event_socket".into(),
        },
        "__rustc" => "std (allocator shims)".into(),
        "dlmalloc" => "dlmalloc (std's allocator)".into(),
        k => k.into(),
    }
}

/// The report: bytes per group, largest first, then the largest items.
fn report(items: &[(String, u64)]) -> String {
    let total: u64 = items.iter().map(|(_, n)| n).sum();
    let mut groups: BTreeMap<String, u64> = BTreeMap::new();
    for (name, bytes) in items {
        *groups.entry(group(name)).or_default() += bytes;
    }
    let mut groups: Vec<(String, u64)> = groups.into_iter().collect();
    groups.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let pct = |n: u64| 100.0 * n as f64 / total.max(1) as f64;
    let mut out = String::from("| part of the wasm | bytes | share |\n|---|---:|---:|\n");
    for (g, n) in &groups {
        out += &format!("| {g} | {n} | {:.1}% |\n", pct(*n));
    }
    out += &format!("| **total (wasm-opt -Oz, before gzip)** | **{total}** | 100% |\n\n");
    let mut largest: Vec<&(String, u64)> = items.iter().collect();
    largest.sort_by_key(|item| std::cmp::Reverse(item.1));
    out += "| largest items | bytes |\n|---|---:|\n";
    for (name, n) in largest.into_iter().take(TOP_ITEMS) {
        out += &format!("| `{}` | {n} |\n", short(name));
    }
    out
}

/// A name without crate hashes (`[c5930c85a12de822]`) and symbol hashes (`::h1a2b…`).
fn short(name: &str) -> String {
    let mut out = String::new();
    let mut rest = name;
    while let Some(i) = rest.find('[') {
        out.push_str(&rest[..i]);
        match rest[i..].find(']') {
            Some(j) if rest[i + 1..i + j].chars().all(|c| c.is_ascii_hexdigit()) => {
                rest = &rest[i + j + 1..];
            }
            _ => {
                out.push('[');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    match out.rfind("::h") {
        Some(i)
            if out[i + 3..].len() == 16 && out[i + 3..].chars().all(|c| c.is_ascii_hexdigit()) =>
        {
            out.truncate(i)
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_quoted_csv_fields() {
        assert_eq!(
            csv_fields(r#""data segment "".rodata""",3974,3.7,,"#),
            vec!["data segment \".rodata\"", "3974", "3.7", "", ""]
        );
        assert_eq!(csv_fields("a::<b, c>,1"), vec!["a::<b", " c>", "1"]);
        assert_eq!(csv_fields(r#""a::<b, c>",1"#), vec!["a::<b, c>", "1"]);
    }

    #[test]
    fn groups_items_by_module_crate_or_kind() {
        let cases = [
            ("event_socket::driver::Connection::run::he1c2e416ef9f0710", "event_socket::driver"),
            ("event_socket::options::PartialOptions<F>::resolve_with::h5f4a", "event_socket::options"),
            ("<dlmalloc[e24a27700634d609]::dlmalloc::Dlmalloc<dlmalloc[e2]::sys::System>>::malloc", "dlmalloc (std's allocator)"),
            ("core[c5930c85a12de822]::fmt::write", "core"),
            ("<&u64 as core[c5930c85a12de822]::fmt::Debug>::fmt", "core"),
            ("socket externref shim multivalue shim", "wasm-bindgen export shims"),
            ("data segment \".rodata\"", "data segments (messages, tables)"),
            ("__externref_table_alloc", "other (imports, tables, wasm-bindgen runtime)"),
        ];
        for (name, want) in cases {
            assert_eq!(group(name), want, "{name}");
        }
    }

    #[test]
    fn short_names_drop_the_hashes() {
        assert_eq!(
            short("<core[c5930c85a12de822]::fmt::Formatter>::pad"),
            "<core::fmt::Formatter>::pad"
        );
        assert_eq!(
            short("event_socket::driver::Connection::run::he1c2e416ef9f0710"),
            "event_socket::driver::Connection::run"
        );
        assert_eq!(short("a[x]::b"), "a[x]::b");
    }

    #[test]
    fn the_report_adds_up() {
        let items = vec![
            (
                "event_socket::hub::forget::h0123456789abcdef".to_string(),
                30,
            ),
            ("core[c5930c85a12de822]::fmt::write".to_string(), 70),
        ];
        let r = report(&items);
        assert!(r.contains("| core | 70 | 70.0% |"), "{r}");
        assert!(r.contains("| event_socket::hub | 30 | 30.0% |"), "{r}");
        assert!(r.contains("**100**"), "{r}");
        assert!(r.contains("| `event_socket::hub::forget` | 30 |"), "{r}");
    }
}
