//! The JS error objects of the public API: an `Error` with `kind` (and `cause`, `raw` where given).

use wasm_bindgen::prelude::*;

use crate::host;
use crate::machine::ErrorKind;

pub fn make(kind: ErrorKind, message: &str, cause: Option<&JsValue>) -> JsValue {
    with_raw(kind, message, cause, &JsValue::UNDEFINED)
}

/// [`make`], with `raw`: the text that was not JSON.
pub fn with_raw(kind: ErrorKind, message: &str, cause: Option<&JsValue>, raw: &JsValue) -> JsValue {
    host::error(
        "Error",
        &format!("event-socket: {message}"),
        Some(kind.as_str()),
        cause.unwrap_or(&JsValue::UNDEFINED),
        raw,
    )
}

/// A `TypeError` for bad arguments: the message names the problem.
pub fn type_error(message: &str) -> JsValue {
    host::error(
        "TypeError",
        &format!("event-socket: {message}"),
        None,
        &JsValue::UNDEFINED,
        &JsValue::UNDEFINED,
    )
}

/// The `CloseEvent` given to `onClose` when the client itself closed the socket (the browser's own
/// close event never reaches us then: the handlers are already detached).
pub fn synthetic_close(code: u16, reason: &str) -> JsValue {
    host::close_event(code, reason)
}
