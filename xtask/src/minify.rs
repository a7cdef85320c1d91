//! Short names for what crosses between the wasm and wasm-bindgen's glue: imports and exports.
//!
//! wasm-bindgen names each import it generates `__wbg_<name>_<16 hex digits>`, and the same name
//! appears twice in what the page downloads: in the wasm's import section and as a key of the
//! imports object in the glue. The hashes are random to gzip, so 40 imports cost ~1.2 KB gzipped
//! for names no one reads, and a JS minifier cannot touch them (they cross the JS/wasm boundary).
//! Emscripten and binaryen shorten them the same way (binaryen's `--minify-imports` only knows
//! emscripten's module names): rename in the wasm, then rename the keys in the glue.
//!
//! Exports likewise: the glue calls them as `wasm.<name>` (`wasm.subscription_close`, a closure
//! invoker with a hash), and the declarations list them in `InitOutput`; all three are renamed.
//!
//! Only imports from the glue's own module are renamed: the snippet modules (`src/host.js`) are
//! real ES modules whose export names the wasm must keep. Anything unexpected (a section this
//! parser does not know, a name that is not exactly one object key in the glue) is an error, not a
//! half-renamed package.

type Result<T> = std::result::Result<T, String>;

/// The glue module wasm-bindgen's imports come from, for `--out-name event_socket`.
pub const GLUE_MODULE: &str = "./event_socket_bg.js";

/// (old, new) import names.
pub type Renamed = Vec<(String, String)>;

/// Renames the imports from `module` in `wasm`; returns the new wasm and the names changed.
pub fn imports(wasm: &[u8], module: &str) -> Result<(Vec<u8>, Renamed)> {
    let mut renamed = Vec::new();
    let out = rewrite_section(wasm, 2, |body| import_section(body, module, &mut renamed))?;
    Ok((out, renamed))
}

/// Renames the function exports for which `rename` says yes; returns the new wasm and the names
/// changed. The glue reaches them as `wasm.<name>` (see [`glue_exports`]).
pub fn exports(wasm: &[u8], mut rename: impl FnMut(&str) -> bool) -> Result<(Vec<u8>, Renamed)> {
    let mut renamed = Vec::new();
    let out = rewrite_section(wasm, 7, |body| {
        let mut r = Reader { b: body, at: 0 };
        let count = r.leb()?;
        let mut out = Vec::with_capacity(body.len());
        push_leb(&mut out, count);
        for _ in 0..count {
            let name = r.name()?;
            let kind = r.byte()?;
            let index = r.leb()?;
            if kind == 0 && rename(name) {
                let short = short_name(renamed.len());
                push_name(&mut out, &short);
                renamed.push((name.to_string(), short));
            } else {
                push_name(&mut out, name);
            }
            out.push(kind);
            push_leb(&mut out, index);
        }
        if r.at != body.len() {
            return Err("export section: bytes after the last export".into());
        }
        Ok(out)
    })?;
    Ok((out, renamed))
}

/// The names of the wasm's function exports.
#[cfg(test)]
fn export_names(wasm: &[u8]) -> Result<Vec<String>> {
    let mut names = Vec::new();
    exports(wasm, |name| {
        names.push(name.to_string());
        false
    })?;
    Ok(names)
}

/// `wasm` with section `id` replaced by what `f` makes of its body; the others byte for byte.
fn rewrite_section(
    wasm: &[u8],
    id: u8,
    mut f: impl FnMut(&[u8]) -> Result<Vec<u8>>,
) -> Result<Vec<u8>> {
    if wasm.len() < 8 || &wasm[..4] != b"\0asm" {
        return Err("not a wasm module".into());
    }
    let mut out = wasm[..8].to_vec();
    let mut r = Reader { b: wasm, at: 8 };
    while r.at < wasm.len() {
        let section = r.byte()?;
        let len = r.leb()? as usize;
        let body = r.take(len)?;
        let body = if section == id {
            f(body)?
        } else {
            body.to_vec()
        };
        out.push(section);
        push_leb(&mut out, body.len() as u64);
        out.extend_from_slice(&body);
    }
    Ok(out)
}

fn import_section(body: &[u8], module: &str, renamed: &mut Renamed) -> Result<Vec<u8>> {
    let mut r = Reader { b: body, at: 0 };
    let count = r.leb()?;
    let mut out = Vec::with_capacity(body.len());
    push_leb(&mut out, count);
    for _ in 0..count {
        let m = r.name()?;
        let field = r.name()?;
        let desc_start = r.at;
        match r.byte()? {
            0x00 => {
                r.leb()?;
            }
            0x01 => {
                match r.byte()? {
                    0x70 | 0x6f => {}
                    t => return Err(format!("import `{field}`: table of type {t:#x}")),
                }
                r.limits()?;
            }
            0x02 => r.limits()?,
            0x03 => {
                r.byte()?;
                r.byte()?;
            }
            k => return Err(format!("import `{field}`: unknown kind {k:#x}")),
        }
        let desc = &body[desc_start..r.at];
        let field = if m == module {
            let short = short_name(renamed.len());
            renamed.push((field.to_string(), short.clone()));
            short
        } else {
            field.to_string()
        };
        push_name(&mut out, m);
        push_name(&mut out, &field);
        out.extend_from_slice(desc);
    }
    if r.at != body.len() {
        return Err("import section: bytes after the last import".into());
    }
    Ok(out)
}

/// `a`..`z`, `A`..`Z`, then two letters: valid object keys, never clashing with a kept name
/// (wasm-bindgen's start with `__wbg_` or `__wbindgen_`).
fn short_name(i: usize) -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let n = LETTERS.len();
    let mut s = String::new();
    if i >= n {
        s.push(LETTERS[i / n - 1] as char);
    }
    s.push(LETTERS[i % n] as char);
    s
}

/// Renames the keys of the glue's imports object: each old name must occur exactly once, as a
/// key (`name: function`), or the glue is not the shape this was written for.
pub fn glue(js: &str, renamed: &[(String, String)]) -> Result<String> {
    let mut js = js.to_string();
    for (old, new) in renamed {
        let hits: Vec<usize> = js
            .match_indices(old.as_str())
            .map(|(i, _)| i)
            .filter(|&i| {
                let before = js[..i].chars().next_back();
                let after = js[i + old.len()..].chars().next();
                !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
            })
            .collect();
        let [at] = hits[..] else {
            return Err(format!(
                "glue: `{old}` occurs {} times, expected once as an imports key",
                hits.len()
            ));
        };
        if !js[at + old.len()..].starts_with(": function") {
            return Err(format!("glue: `{old}` is not an imports key"));
        }
        js.replace_range(at..at + old.len(), new);
    }
    Ok(js)
}

/// Where the glue reaches export `name`: every `wasm.<name>` (as a whole identifier). An export
/// the glue names any other way (a string, a bare identifier of that name that is not a plain
/// function of its own) is left alone by the caller; see [`renameable_export`].
fn export_uses(js: &str, name: &str) -> Vec<usize> {
    let dotted = format!("wasm.{name}");
    js.match_indices(&dotted)
        .map(|(i, _)| i)
        .filter(|&i| {
            let before = js[..i].chars().next_back();
            let after = js[i + dotted.len()..].chars().next();
            !before.is_some_and(|c| is_ident(c) || c == '.') && !after.is_some_and(is_ident)
        })
        .collect()
}

/// Whether the glue reaches export `name` only as `wasm.<name>`: at least once that way, and
/// never inside a string (where a rename could not follow it).
pub fn renameable_export(js: &str, name: &str) -> bool {
    !export_uses(js, name).is_empty()
        && !js.contains(&format!("'{name}'"))
        && !js.contains(&format!("\"{name}\""))
        && !js.contains(&format!("`{name}`"))
}

/// Renames every `wasm.<old>` in the glue.
pub fn glue_exports(js: &str, renamed: &[(String, String)]) -> Result<String> {
    let mut js = js.to_string();
    for (old, new) in renamed {
        let uses = export_uses(&js, old);
        if uses.is_empty() {
            return Err(format!("glue: `wasm.{old}` not found"));
        }
        for at in uses.into_iter().rev() {
            let start = at + "wasm.".len();
            js.replace_range(start..start + old.len(), new);
        }
    }
    Ok(js)
}

/// Renames the exports in a TypeScript declaration file: `readonly <old>:` inside
/// `interface InitOutput { ... }` (nowhere else: a class getter may share a name) and
/// `export const <old>:` (the `.wasm.d.ts`), so that the types say what the module has.
pub fn types_exports(ts: &str, renamed: &[(String, String)]) -> String {
    let rename = |text: &str, prefix: &str| {
        let mut text = text.to_string();
        for (old, new) in renamed {
            text = text.replace(&format!("{prefix}{old}:"), &format!("{prefix}{new}:"));
        }
        text
    };
    let ts = rename(ts, "export const ");
    let open = "export interface InitOutput {";
    let Some(start) = ts.find(open) else {
        return ts;
    };
    let end = ts[start..].find('}').map_or(ts.len(), |e| start + e);
    format!(
        "{}{}{}",
        &ts[..start],
        rename(&ts[start..end], "readonly "),
        &ts[end..]
    )
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '$'
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8> {
        let v = *self.b.get(self.at).ok_or("wasm: unexpected end")?;
        self.at += 1;
        Ok(v)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.b.len());
        let end = end.ok_or("wasm: section runs past the end")?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn leb(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("wasm: LEB128 too long".into())
    }

    fn name(&mut self) -> Result<&'a str> {
        let n = self.leb()? as usize;
        std::str::from_utf8(self.take(n)?).map_err(|_| "wasm: a name is not UTF-8".into())
    }

    /// Limits: flags, min, and max when flag bit 0 is set (bit 1 shared, bit 2 64-bit).
    fn limits(&mut self) -> Result<()> {
        let flags = self.byte()?;
        if flags > 7 {
            return Err(format!("wasm: limits flags {flags:#x}"));
        }
        self.leb()?;
        if flags & 1 != 0 {
            self.leb()?;
        }
        Ok(())
    }
}

fn push_leb(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn push_name(out: &mut Vec<u8>, s: &str) {
    push_leb(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module with a type section, three imports (two from the glue, one from a snippet, one of
    /// them a memory) and a custom section after them.
    fn module() -> Vec<u8> {
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        m.extend_from_slice(&[1, 4, 1, 0x60, 0, 0]);
        let mut imports = Vec::new();
        push_leb(&mut imports, 3);
        for (module, field, desc) in [
            (GLUE_MODULE, "__wbg_log_0123456789abcdef", &[0u8, 0][..]),
            ("./snippets/x/src/host.js", "parse_call", &[0, 0][..]),
            (
                GLUE_MODULE,
                "__wbg_memory_fedcba9876543210",
                &[2, 1, 1, 2][..],
            ),
        ] {
            push_name(&mut imports, module);
            push_name(&mut imports, field);
            imports.extend_from_slice(desc);
        }
        m.push(2);
        push_leb(&mut m, imports.len() as u64);
        m.extend_from_slice(&imports);
        m.extend_from_slice(&[0, 4, 1, b'n', 0xaa, 0xbb]);
        m
    }

    #[test]
    fn renames_only_the_glue_imports_and_keeps_the_rest_byte_for_byte() {
        let before = module();
        let (after, renamed) = imports(&before, GLUE_MODULE).unwrap();
        assert_eq!(
            renamed,
            [
                ("__wbg_log_0123456789abcdef".to_string(), "a".to_string()),
                ("__wbg_memory_fedcba9876543210".to_string(), "b".to_string()),
            ]
        );
        // Parses again, with the new names, and the snippet import kept.
        let (_, again) = imports(&after, "./snippets/x/src/host.js").unwrap();
        assert_eq!(again, [("parse_call".to_string(), "a".to_string())]);
        assert_eq!(&after[..14], &before[..14], "header and type section");
        assert!(
            after.ends_with(&[0, 4, 1, b'n', 0xaa, 0xbb]),
            "custom section"
        );
        // 25 + 28 bytes of names, and the section's size now fits one LEB128 byte instead of two.
        assert_eq!(before.len() - after.len(), 25 + 28 + 1);
    }

    #[test]
    fn a_truncated_module_is_an_error() {
        let m = module();
        assert!(imports(&m[..m.len() - 10], GLUE_MODULE).is_err());
        assert!(imports(b"not wasm", GLUE_MODULE).is_err());
    }

    #[test]
    fn glue_keys_are_renamed_and_anything_else_is_refused() {
        let renamed = [("__wbg_log_0123".to_string(), "a".to_string())];
        let js = "const i = {\n  __wbg_log_0123: function(x) { console.log(x) },\n};";
        assert_eq!(
            glue(js, &renamed).unwrap(),
            "const i = {\n  a: function(x) { console.log(x) },\n};"
        );
        // A longer name that starts with the old one is not a hit.
        let js2 = "{ __wbg_log_0123: function() {}, __wbg_log_01234: function() {} }";
        assert_eq!(
            glue(js2, &renamed).unwrap(),
            "{ a: function() {}, __wbg_log_01234: function() {} }"
        );
        assert!(glue("{}", &renamed).is_err(), "missing");
        assert!(glue("f(__wbg_log_0123)", &renamed).is_err(), "not a key");
        let twice = "{ __wbg_log_0123: function() {} } __wbg_log_0123";
        assert!(glue(twice, &renamed).is_err(), "twice");
    }

    /// A module with two function exports and a memory export.
    fn with_exports() -> Vec<u8> {
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        let mut exports = Vec::new();
        push_leb(&mut exports, 3);
        for (name, kind, index) in [("memory", 2u8, 0u8), ("socket", 0, 5), ("keep_me", 0, 6)] {
            push_name(&mut exports, name);
            exports.push(kind);
            exports.push(index);
        }
        m.push(7);
        push_leb(&mut m, exports.len() as u64);
        m.extend_from_slice(&exports);
        m
    }

    #[test]
    fn exports_the_glue_reaches_as_wasm_dot_name_are_renamed_everywhere() {
        let js = "export function socket(a) { return wasm.socket(a); }\n\
                  function f() { wasm.socket(1); wasm.socketx(2); x.wasm.socket; wasm.memory; }\n\
                  const k = 'keep_me'; wasm[k]();";
        let wasm = with_exports();
        assert_eq!(
            export_names(&wasm).unwrap(),
            ["socket", "keep_me"],
            "functions only"
        );
        assert!(renameable_export(js, "socket"));
        assert!(!renameable_export(js, "keep_me"), "named in a string");
        let (out, renamed) = exports(&wasm, |n| renameable_export(js, n)).unwrap();
        assert_eq!(renamed, [("socket".to_string(), "a".to_string())]);
        assert_eq!(export_names(&out).unwrap(), ["a", "keep_me"]);
        assert_eq!(
            glue_exports(js, &renamed).unwrap(),
            "export function socket(a) { return wasm.a(a); }\n\
             function f() { wasm.a(1); wasm.socketx(2); x.wasm.socket; wasm.memory; }\n\
             const k = 'keep_me'; wasm[k]();"
        );
        let ts = "class S { readonly socket: string; }\n\
                  export interface InitOutput {\n  readonly socket: () => void;\n}\n\
                  export const socket: () => void;";
        assert_eq!(
            types_exports(ts, &renamed),
            "class S { readonly socket: string; }\n\
             export interface InitOutput {\n  readonly a: () => void;\n}\n\
             export const a: () => void;"
        );
        assert!(glue_exports("no uses", &renamed).is_err());
    }

    #[test]
    fn short_names_are_distinct() {
        let names: std::collections::HashSet<String> = (0..600).map(short_name).collect();
        assert_eq!(names.len(), 600);
        assert_eq!(short_name(0), "a");
        assert_eq!(short_name(52), "aa");
    }
}
