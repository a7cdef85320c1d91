//! The bindings to `src/host.js`: the few lines of JS the wasm calls besides the browser's API.
//!
//! Every import costs the download twice (a hashed name and an adapter in the wasm, a shim in the
//! glue), and web-sys/js-sys reach simple facts through several: `web_sys::window()` tries four
//! global objects and `instanceof Window`; a type test is an import per question; a `catch`
//! import goes through wasm-bindgen's generic `handleError`. Here each is one call that answers
//! with a number, and the Rust side decides what it means.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/host.js")]
extern "C" {
    /// `f(JSON.parse(e.data), e)`: 0 ran, 1 not JSON (text: the `SyntaxError` is kept for
    /// [`take_caught`]), 2 threw (see [`take_caught`]).
    pub fn parse_call(f: &JsValue, e: &JsValue) -> u32;
    /// `f(JSON.parse(d))`: as [`parse_call`], for a relayed frame's data.
    pub fn parse_call_data(f: &JsValue, d: &JsValue) -> u32;
    /// `f(a, b)`: 0 returned, 2 threw (see [`take_caught`]).
    pub fn call2(f: &JsValue, a: &JsValue, b: &JsValue) -> u32;
    /// `f(a)`: 0 returned, 2 threw; [`take_caught`] has the result either way.
    pub fn call1(f: &JsValue, a: &JsValue) -> u32;
    /// The last exception (or `call1` result), cleared.
    pub fn take_caught() -> JsValue;
    /// `p.then(ok, err)` through a handle, guarded: 0 done ([`take_caught`] has the handle for
    /// [`unthen`]), 2 threw (see [`take_caught`]).
    pub fn then(p: &JsValue, ok: &JsValue, err: &JsValue) -> u32;
    /// Empties a [`then`] handle: `ok` and `err` are never called, and may be freed.
    pub fn unthen(handle: &JsValue);
    #[wasm_bindgen(js_name = kind)]
    fn kind_code(v: &JsValue) -> u32;
    #[wasm_bindgen(js_name = read)]
    fn read_code(o: &JsValue, k: &str) -> u32;
    /// An `Error` (or `TypeError`) with `kind`, `cause` and `raw` when given.
    pub fn error(
        name: &str,
        message: &str,
        kind: Option<&str>,
        cause: &JsValue,
        raw: &JsValue,
    ) -> JsValue;
    /// `{ willReconnect, delay }` for `onClose`.
    pub fn close_info(will_reconnect: bool, delay: &JsValue) -> JsValue;
    /// `{ attempt, delay }` for `onReconnect`.
    pub fn reconnect_info(attempt: u32, delay: f64) -> JsValue;
    /// `{ closures, connections, allocations, heapBytes, memory }` for `debugStats()`.
    pub fn stats(
        closures: u32,
        connections: u32,
        allocations: u32,
        heap_bytes: u32,
        memory: &JsValue,
    ) -> JsValue;
    /// A clean `CloseEvent`, or `undefined` where there is no `CloseEvent`.
    pub fn close_event(code: u16, reason: &str) -> JsValue;
    /// `console.error(a, b)` (`b` left out when undefined) or `console.log(a)`; never throws.
    pub fn log(error: bool, a: &JsValue, b: &JsValue);
    #[wasm_bindgen(js_name = page_url)]
    fn page_url_value(url: &str) -> JsValue;
    /// The string claim `key` of the JWT `token`, else `undefined`; never throws.
    #[wasm_bindgen(js_name = claim)]
    fn claim_value(token: &str, key: &str) -> JsValue;
    /// Whether `document.visibilityState` is `"visible"`.
    pub fn visible() -> bool;
    /// `addEventListener(name, f)` on the global object, if it has one.
    pub fn listen(name: &str, f: &JsValue);
    /// `document.addEventListener(name, f)`, if there is a document.
    pub fn listen_doc(name: &str, f: &JsValue);
    /// A key's lock and channel (`heard(words)`, `granted()`, `lost(stolen)`), or `undefined`
    /// where the browser cannot share across tabs.
    /// Whether the link's lock is held (granted, not let go or taken as far as the page knows).
    pub fn tabs_held(link: &JsValue) -> bool;
    pub fn tabs_link(name: &str, heard: &JsValue, granted: &JsValue, lost: &JsValue) -> JsValue;
    /// Asks for the link's lock (`steal`: takes it); replaces a pending request.
    pub fn tabs_lock(link: &JsValue, steal: bool);
    /// Lets the link's lock go, or drops its pending request.
    pub fn tabs_unlock(link: &JsValue);
    /// Posts `[t, a, b, c, d]` on the link's channel; never throws.
    pub fn tabs_post(link: &JsValue, t: u32, a: f64, b: f64, c: f64, d: &JsValue);
    /// Closes the link: lock, channel, callbacks.
    pub fn tabs_close(link: &JsValue);
    /// Microseconds on the wall clock.
    pub fn tabs_now() -> f64;
    /// `new MessageEvent("message", { data })`.
    pub fn message_event(data: &JsValue) -> JsValue;
    /// `new Event(type)`.
    pub fn event(kind: &str) -> JsValue;
}

/// What a JS value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `undefined`.
    Undefined,
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool,
    /// Any number, `NaN` included.
    Number,
    /// A string.
    String,
    /// A function.
    Function,
    /// An `Array`.
    Array,
    /// An `ArrayBuffer`, a view of one (typed array, `DataView`) or a `Blob`.
    Binary,
    /// A `Promise`.
    Promise,
    /// A symbol or a bigint.
    Other,
    /// A plain object (`{ ... }`, or `Object.create(null)`).
    Object,
    /// An instance of some class: `URLSearchParams`, `Map`, `Date`, a class of the app's own.
    Instance,
}

/// `url` resolved against the page by the browser's URL parser (`new URL(url, location.href)`),
/// without fragment; `None` without a page location or when no URL comes out. For
/// [`crate::url::resolve`].
pub fn page_url(url: &str) -> Option<String> {
    page_url_value(url).as_string()
}

/// The string claim `key` of `token` if it is a JWT. Read with the browser's `atob`,
/// `TextDecoder` and `JSON.parse`: the same in Rust (base64url, UTF-8 validation, a JSON scanner)
/// cost every page 1 KB of gzipped wasm, for a key that is only ever compared.
pub fn claim(token: &str, key: &str) -> Option<String> {
    claim_value(token, key).as_string()
}

/// What `v` is, in one call.
pub fn kind(v: &JsValue) -> Kind {
    kind_of(kind_code(v))
}

/// `o[key]` and what it is; `None` when reading it threw (a getter).
#[cfg_attr(not(feature = "js"), allow(dead_code))] // the options reader of the JS exports
pub fn read(o: &JsValue, key: &str) -> Option<(Kind, JsValue)> {
    let code = read_code(o, key);
    let value = take_caught();
    (code != 11).then(|| (kind_of(code), value))
}

fn kind_of(code: u32) -> Kind {
    match code {
        0 => Kind::Undefined,
        1 => Kind::Null,
        2 => Kind::Bool,
        3 => Kind::Number,
        4 => Kind::String,
        5 => Kind::Function,
        6 => Kind::Array,
        7 => Kind::Binary,
        8 => Kind::Promise,
        10 => Kind::Object,
        12 => Kind::Instance,
        _ => Kind::Other,
    }
}
