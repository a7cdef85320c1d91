//! Short names for the wasm's imports from wasm-bindgen's glue.
//!
//! wasm-bindgen names each import it generates `__wbg_<name>_<16 hex digits>`, and the same name
//! appears twice in what the page downloads: in the wasm's import section and as a key of the
//! imports object in the glue. The hashes are random to gzip, so 40 imports cost ~1.2 KB gzipped
//! for names no one reads, and a JS minifier cannot touch them (they cross the JS/wasm boundary).
//! Emscripten and binaryen shorten them the same way (binaryen's `--minify-imports` only knows
//! emscripten's module names): rename in the wasm, then rename the keys in the glue.
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
    if wasm.len() < 8 || &wasm[..4] != b"\0asm" {
        return Err("not a wasm module".into());
    }
    let mut out = wasm[..8].to_vec();
    let mut renamed = Vec::new();
    let mut r = Reader { b: wasm, at: 8 };
    while r.at < wasm.len() {
        let id = r.byte()?;
        let len = r.leb()? as usize;
        let body = r.take(len)?;
        let body = if id == 2 {
            import_section(body, module, &mut renamed)?
        } else {
            body.to_vec()
        };
        out.push(id);
        push_leb(&mut out, body.len() as u64);
        out.extend_from_slice(&body);
    }
    Ok((out, renamed))
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

    #[test]
    fn short_names_are_distinct() {
        let names: std::collections::HashSet<String> = (0..600).map(short_name).collect();
        assert_eq!(names.len(), 600);
        assert_eq!(short_name(0), "a");
        assert_eq!(short_name(52), "aa");
    }
}
