//! The JS error objects of the public API: an `Error` with `kind` (and `cause`, `raw` where given).

#[allow(unused_imports)]
use crate::prelude::*;

use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use web_sys::{CloseEvent, CloseEventInit};

use crate::machine::ErrorKind;

pub fn make(kind: ErrorKind, message: &str, cause: Option<&JsValue>) -> JsValue {
    let err = js_sys::Error::new(&cat!("event-socket: ", message));
    let _ = Reflect::set(&err, &"kind".into(), &kind.as_str().into());
    if let Some(cause) = cause {
        let _ = Reflect::set(&err, &"cause".into(), cause);
    }
    err.into()
}

/// A `TypeError` for bad arguments: the message names the problem.
pub fn type_error(message: &str) -> JsValue {
    js_sys::TypeError::new(&cat!("event-socket: ", message)).into()
}

/// The `CloseEvent` given to `onClose` when the client itself closed the socket (the browser's own
/// close event never reaches us then: the handlers are already detached).
pub fn synthetic_close(code: u16, reason: &str) -> JsValue {
    let init = CloseEventInit::new();
    init.set_code(code);
    init.set_reason(reason);
    init.set_was_clean(true);
    match CloseEvent::new_with_event_init_dict("close", &init) {
        Ok(ev) => ev.into(),
        Err(_) => JsValue::UNDEFINED,
    }
}
