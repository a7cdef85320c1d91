//! One subscriber of a connection: the caller's callback and hooks.
//!
//! Every call into user code goes through here and is guarded: a throwing callback or hook becomes
//! an `onError` report of kind `"callback"` (or a console error if `onError` itself throws), and the
//! socket and every other subscriber carry on.

use std::cell::Cell;

use js_sys::Function;
use wasm_bindgen::prelude::*;
use web_sys::MessageEvent;

use crate::errors;
use crate::guarded::{self, Delivered};
use crate::host::{self, Kind};
use crate::machine::{ErrorKind, State};
use crate::options::{Hooks, ParseMode};

pub struct Subscriber {
    pub id: u64,
    pub parse: ParseMode,
    callback: Function,
    hooks: Hooks<Function>,
    /// Set by this subscriber's `close()`: from then on it hears nothing.
    pub closed: Cell<bool>,
    /// Whether the callback may read its second argument, the `MessageEvent`: declared with
    /// other than one parameter (two, or none: `arguments`, `...rest`), or a Rust raw handler.
    /// A frame relayed from another tab has no `MessageEvent`, and building one costs about
    /// 1.5 us, more than the rest of its delivery: it is built only for such callbacks.
    pub takes_event: Cell<bool>,
}

impl Subscriber {
    pub fn new(id: u64, parse: ParseMode, callback: Function, hooks: Hooks<Function>) -> Self {
        Subscriber {
            id,
            parse,
            takes_event: Cell::new(callback.length() != 1),
            callback,
            hooks,
            closed: Cell::new(false),
        }
    }

    /// Hands one message to the callback: parsed JSON (each subscriber parses its own copy, so
    /// one cannot mutate what another receives), the raw data in text mode or for binary frames,
    /// or a `"parse"` error for text that is not JSON.
    pub fn deliver(&self, event: &MessageEvent) {
        if self.closed.get() {
            return;
        }
        let delivered = if self.parse == ParseMode::Text {
            guarded::call2(&self.callback, &event.data(), event).into()
        } else {
            guarded::parse_call(&self.callback, event)
        };
        self.delivered(delivered, || event.data());
    }

    /// A frame relayed from another tab, for a callback that takes no event (`takes_event`).
    pub fn deliver_data(&self, data: &JsValue) {
        if self.closed.get() {
            return;
        }
        let delivered = if self.parse == ParseMode::Text {
            guarded::call2(&self.callback, data, &JsValue::UNDEFINED).into()
        } else {
            guarded::parse_call_data(&self.callback, data)
        };
        self.delivered(delivered, || data.clone());
    }

    fn delivered(&self, delivered: Delivered, data: impl FnOnce() -> JsValue) {
        match delivered {
            Delivered::Ok => {}
            Delivered::NotJson => self.not_json(data()),
            Delivered::Threw(cause) => self.error(&errors::make(
                ErrorKind::Callback,
                "the message callback threw; the socket stays open",
                Some(&cause),
            )),
        }
    }

    fn not_json(&self, data: JsValue) {
        let (message, cause) = if host::kind(&data) == Kind::String {
            (
                "a text message is not JSON; the socket stays open",
                host::take_caught(),
            )
        } else {
            (
                "a binary frame is not JSON (parse: \"text\" takes them); the socket stays open",
                JsValue::UNDEFINED,
            )
        };
        let err = errors::with_raw(ErrorKind::Parse, message, Some(&cause), &data);
        self.error(&err);
    }

    pub fn error(&self, err: &JsValue) {
        match &self.hooks.on_error {
            Some(f) => {
                if let Err(cause) = guarded::call2(f, err, &JsValue::UNDEFINED) {
                    host::log(true, &"event-socket: onError threw".into(), &cause);
                }
            }
            None => host::log(true, err, &JsValue::UNDEFINED),
        }
    }

    fn hook(&self, f: &Option<Function>, name: &str, arg1: &JsValue, arg2: &JsValue) {
        if let Some(f) = f {
            if let Err(cause) = guarded::call2(f, arg1, arg2) {
                self.error(&errors::make(
                    ErrorKind::Callback,
                    &format!("the {name} hook threw"),
                    Some(&cause),
                ));
            }
        }
    }

    pub fn state(&self, state: State) {
        self.hook(
            &self.hooks.on_state_change,
            "onStateChange",
            &JsValue::from_str(state.as_str()),
            &JsValue::UNDEFINED,
        );
    }

    pub fn open(&self, event: &JsValue) {
        self.hook(&self.hooks.on_open, "onOpen", event, &JsValue::UNDEFINED);
    }

    pub fn close(&self, event: &JsValue, info: &JsValue) {
        self.hook(&self.hooks.on_close, "onClose", event, info);
    }

    pub fn reconnect(&self, info: &JsValue) {
        self.hook(
            &self.hooks.on_reconnect,
            "onReconnect",
            info,
            &JsValue::UNDEFINED,
        );
    }
}
