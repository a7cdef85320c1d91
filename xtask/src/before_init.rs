//! A clear error for calls made before `init()`.
//!
//! `--target web` glue holds the wasm in a module variable that `init()` sets. An exported function
//! called before that (forgetting `await init()` is the classic wasm-bindgen mistake, and a race
//! when init runs elsewhere) dies on `wasm.d(...)` with "Cannot read properties of undefined
//! (reading 'd')", which names neither the package nor the fix; with the boundary names shortened
//! (see `minify.rs`) not even the function. Each exported function of the glue gets a first line
//! that throws an `Error` saying what to do instead.
//!
//! Only the shape this was written for is changed: the module variable `wasm`, declared without a
//! value, and `export function` declarations. Anything else is an error, not a half-guarded glue.

type Result<T = ()> = std::result::Result<T, String>;

/// The glue's declaration of the variable `init()` sets; undefined until then.
const WASM_VAR: &str = "\nlet wasmModule, wasmInstance, wasm;\n";

/// The helper the guards call: one message, not one string per function.
const HELPER: &str = "\nfunction __es_before_init(name) {
    throw new Error(`event-socket: ${name}() was called before init() finished: \\`await init()\\` first (it loads the wasm)`);
}
";

/// The glue with every `export function NAME(...) {` starting with a check that the wasm is loaded.
/// Returns the new glue and the names guarded.
pub fn guard(js: &str) -> Result<(String, Vec<String>)> {
    if js.matches(WASM_VAR).count() != 1 {
        return Err(format!(
            "before-init guard: the glue does not declare `{}` once",
            WASM_VAR.trim()
        ));
    }
    let mut out = String::with_capacity(js.len() + 512);
    let mut names = Vec::new();
    for line in js.split_inclusive('\n') {
        out.push_str(line);
        let Some(rest) = line.strip_prefix("export function ") else {
            continue;
        };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '$')
            .collect();
        if name.is_empty() || !rest[name.len()..].starts_with('(') || !line.ends_with("{\n") {
            return Err(format!(
                "before-init guard: unexpected export line `{}`",
                line.trim_end()
            ));
        }
        out.push_str(&format!(
            "    if (wasm === undefined) __es_before_init(\"{name}\");\n"
        ));
        names.push(name);
    }
    if names.is_empty() {
        return Err("before-init guard: the glue exports no function".into());
    }
    out.push_str(HELPER);
    Ok((out, names))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GLUE: &str = "export class Subscription {
    free() {
        wasm.a(this.__wbg_ptr, 0);
    }
}
export function configure(options) {
    const ret = wasm.b(options);
}

export function socket(event_name, callback, options) {
    return wasm.d(event_name, callback, options);
}
let wasmModule, wasmInstance, wasm;
function initSync(module) {
    if (wasm !== undefined) return wasm;
}
export { initSync, __wbg_init as default };
";

    #[test]
    fn every_exported_function_checks_the_wasm_first() {
        let (js, names) = guard(GLUE).unwrap();
        assert_eq!(names, ["configure", "socket"]);
        assert!(js.contains(
            "export function socket(event_name, callback, options) {\n    if (wasm === undefined) __es_before_init(\"socket\");\n    return wasm.d("
        ));
        assert!(js.contains("export function configure(options) {\n    if (wasm === undefined) __es_before_init(\"configure\");\n"));
        // Methods are reached only through a handle that init() made possible: left alone.
        assert!(js.contains("    free() {\n        wasm.a("));
        assert!(js.ends_with(HELPER));
    }

    #[test]
    fn a_glue_of_another_shape_is_an_error() {
        assert!(
            guard(&GLUE.replace("let wasmModule, wasmInstance, wasm;", "let wasm = null;"))
                .is_err()
        );
        assert!(guard(&GLUE.replace("export function socket(", "export function (")).is_err());
        assert!(
            guard("\nlet wasmModule, wasmInstance, wasm;\n").is_err(),
            "no function"
        );
        assert!(guard(&GLUE.replace(
            "export function configure(options) {\n",
            "export function configure(options)\n{\n"
        ))
        .is_err());
    }
}
