//! `using sub = socket(...)` closes the subscription at the end of the block.
//!
//! wasm-bindgen makes `[Symbol.dispose]` an alias of `free()`, which only releases the Rust side of
//! the handle: for this class that would leave the subscription running with no handle left to
//! close it, the opposite of what `using` promises. The glue's alias is replaced by a method that
//! closes, then frees (once: disposing twice does nothing more), and the type declaration says so.
//! `free()` itself keeps wasm-bindgen's meaning (the handle only; see the README). The declarations
//! reference the `esnext.disposable` library that `Symbol.dispose` needs.

type Result<T = ()> = std::result::Result<T, String>;

const ALIAS: &str =
    "if (Symbol.dispose) Subscription.prototype[Symbol.dispose] = Subscription.prototype.free;\n";
const CLOSING: &str = "if (Symbol.dispose) Subscription.prototype[Symbol.dispose] = function () { if (this.__wbg_ptr) { this.close(); this.free(); } };\n";

const DECLARED: &str = "    [Symbol.dispose](): void;\n";
const DOCUMENTED: &str = "    /**\n     * Closes the subscription (`close()`), then frees the handle: `using sub = socket(...)` ends it\n     * with the block. Disposing twice does nothing more.\n     */\n    [Symbol.dispose](): void;\n";

/// The glue with `[Symbol.dispose]` closing the subscription.
pub fn glue(js: &str) -> Result<String> {
    replace_once(js, ALIAS, CLOSING, "the glue")
}

/// What `[Symbol.dispose]` needs from TypeScript's libraries, so that a project compiling with
/// `lib: ["ES2022", "DOM"]` and `skipLibCheck: false` need not add `ESNext.Disposable` itself. A
/// triple-slash directive counts only at the top of a file.
const LIB_REFERENCE: &str = "/// <reference lib=\"esnext.disposable\" />\n";

/// The declarations with `[Symbol.dispose]` documented as closing, and the library it needs
/// referenced.
pub fn types(ts: &str) -> Result<String> {
    let ts = replace_once(ts, DECLARED, DOCUMENTED, "event_socket.d.ts")?;
    Ok(format!("{LIB_REFERENCE}{ts}"))
}

fn replace_once(text: &str, old: &str, new: &str, what: &str) -> Result<String> {
    match text.matches(old).count() {
        1 => Ok(text.replacen(old, new, 1)),
        n => Err(format!(
            "dispose: {what} has `{}` {n} times, expected once",
            old.trim()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispose_closes_then_frees_and_says_so() {
        let js = glue(&format!("class Subscription {{}}\n{ALIAS}export {{}};\n")).unwrap();
        assert!(js.contains("this.close(); this.free();"));
        assert!(!js.contains("= Subscription.prototype.free;"));
        let ts = types(&format!("export class Subscription {{\n{DECLARED}}}\n")).unwrap();
        assert!(ts.contains("Closes the subscription"));
        assert!(ts.starts_with("/// <reference lib=\"esnext.disposable\" />\n"));
    }

    #[test]
    fn a_glue_of_another_shape_is_an_error() {
        assert!(glue("class Subscription {}\n").is_err());
        assert!(glue(&format!("{ALIAS}{ALIAS}")).is_err());
        assert!(types("export class Subscription {}\n").is_err());
    }
}
