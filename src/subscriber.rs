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
}

impl Subscriber {
    pub fn new(id: u64, parse: ParseMode, callback: Function, hooks: Hooks<Function>) -> Self {
        Subscriber {
            id,
            parse,
            callback,
            hooks,
            closed: Cell::new(false),
        }
    }

    /// Hands one message to the callback: parsed JSON (each subscriber parses its own copy, so
    /// one cannot mutate what another receives), the raw data in text mode or for binary frames,
    /// or a `"parse"` error for text that is not JSON.
    pub fn deliver(&self, event: &MessageEvent) {
        // Another subscriber's callback may have closed this one during this very delivery.
        if self.closed.get() {
            return;
        }
        let called = if self.parse == ParseMode::Text {
            guarded::call2(&self.callback, &event.data(), event)
        } else {
            match guarded::parse_call(&self.callback, event) {
                Delivered::Ok => Ok(()),
                Delivered::Threw(cause) => Err(cause),
                Delivered::NotJson => {
                    self.not_json(event);
                    Ok(())
                }
            }
        };
        if let Err(cause) = called {
            self.error(&errors::make(
                ErrorKind::Callback,
                "the message callback threw; the socket stays open",
                Some(&cause),
            ));
        }
    }

    /// The slow path of [`deliver`](Self::deliver): a frame that is not JSON becomes an error
    /// carrying the frame as `raw`, never a callback call: with `parse: "json"` the callback gets
    /// parsed JSON only (what its TypeScript type says). Binary frames are for `parse: "text"`.
    fn not_json(&self, event: &MessageEvent) {
        let data = event.data();
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
