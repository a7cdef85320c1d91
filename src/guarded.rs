//! Calls into user code and `JSON.parse`, guarded by a `try` in `src/host.js`.
//!
//! wasm-bindgen's `catch` imports go through its generic `handleError(f, arguments)` (a closure, an
//! `arguments` object and `apply` per call), which at 100-byte messages cost as much as the rest of
//! the delivery. These functions do the same guarding in plain JS and report failure as a number:
//! a message's parse and callback are one crossing with nothing to allocate, and hooks use the same
//! guard. The decisions (what a failure means, who hears about it) stay in Rust; the exception
//! itself is fetched only on the rare failure path.

use wasm_bindgen::prelude::*;

use crate::host;

/// How [`parse_call`] went.
pub enum Delivered {
    /// The callback ran and returned.
    Ok,
    /// `JSON.parse(event.data)` threw: not JSON text, or a binary frame (an `ArrayBuffer`
    /// stringifies to `"[object ArrayBuffer]"`), so the type check is paid only on this path.
    NotJson,
    /// The callback threw this.
    Threw(JsValue),
}

impl From<Result<(), JsValue>> for Delivered {
    fn from(called: Result<(), JsValue>) -> Self {
        match called {
            Ok(()) => Delivered::Ok,
            Err(cause) => Delivered::Threw(cause),
        }
    }
}

/// `f(JSON.parse(event.data), event)` in one crossing: the whole fast path of a message.
pub fn parse_call(f: &JsValue, event: &JsValue) -> Delivered {
    match host::parse_call(f, event) {
        0 => Delivered::Ok,
        1 => Delivered::NotJson,
        _ => Delivered::Threw(host::take_caught()),
    }
}

/// `f(JSON.parse(data))` in one crossing: a relayed frame for a callback that takes no event.
pub fn parse_call_data(f: &JsValue, data: &JsValue) -> Delivered {
    match host::parse_call_data(f, data) {
        0 => Delivered::Ok,
        1 => Delivered::NotJson,
        _ => Delivered::Threw(host::take_caught()),
    }
}

/// Calls `f(a, b)` and returns what it threw, if it threw. The return value is not taken: no
/// callback or hook of ours has one.
pub fn call2(f: &JsValue, a: &JsValue, b: &JsValue) -> Result<(), JsValue> {
    if host::call2(f, a, b) == 0 {
        Ok(())
    } else {
        Err(host::take_caught())
    }
}

/// Calls `f(a)` and returns its result, or what it threw.
pub fn call1(f: &JsValue, a: &JsValue) -> Result<JsValue, JsValue> {
    let code = host::call1(f, a);
    let value = host::take_caught();
    if code == 0 {
        Ok(value)
    } else {
        Err(value)
    }
}
