//! One subscriber of a connection: the caller's callback and hooks.
//!
//! Every call into user code goes through here and is guarded: a throwing callback or hook becomes
//! an `onError` report of kind `"callback"` (or a console error if `onError` itself throws), and the
//! socket and every other subscriber carry on.

use std::cell::Cell;

use js_sys::Function;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::MessageEvent;

use crate::errors;
use crate::machine::{ErrorKind, State};
use crate::options::{Hooks, ParseMode};

#[wasm_bindgen]
extern "C" {
    /// The message callback, for the one call below.
    #[wasm_bindgen(extends = Function)]
    type Callback;

    /// `Function.prototype.call` with two arguments, declared to return nothing: the callback's
    /// return value is never used, and not taking it saves a trip through the externref table on
    /// every message.
    #[wasm_bindgen(method, js_name = call, catch)]
    fn call_ignoring_result(
        this: &Callback,
        ctx: &JsValue,
        a: &JsValue,
        b: &JsValue,
    ) -> Result<(), JsValue>;
}

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

    pub fn message(&self, data: &JsValue, event: &MessageEvent) {
        // Another subscriber's callback may have closed this one during this very delivery.
        if self.closed.get() {
            return;
        }
        let callback: &Callback = self.callback.unchecked_ref();
        if let Err(cause) = callback.call_ignoring_result(&JsValue::NULL, data, event) {
            self.error(&errors::make(
                ErrorKind::Callback,
                "the message callback threw; the socket stays open",
                Some(&cause),
            ));
        }
    }

    pub fn error(&self, err: &JsValue) {
        match &self.hooks.on_error {
            Some(f) => {
                if let Err(cause) = f.call1(&JsValue::NULL, err) {
                    web_sys::console::error_2(&"event-socket: onError threw".into(), &cause);
                }
            }
            None => web_sys::console::error_1(err),
        }
    }

    fn hook(&self, f: &Option<Function>, name: &str, arg1: &JsValue, arg2: Option<&JsValue>) {
        if let Some(f) = f {
            let result = match arg2 {
                Some(a2) => f.call2(&JsValue::NULL, arg1, a2),
                None => f.call1(&JsValue::NULL, arg1),
            };
            if let Err(cause) = result {
                self.error(&errors::make(
                    ErrorKind::Callback,
                    &cat!("the ", name, " hook threw"),
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
            None,
        );
    }

    pub fn open(&self, event: &JsValue) {
        self.hook(&self.hooks.on_open, "onOpen", event, None);
    }

    pub fn close(&self, event: &JsValue, info: &JsValue) {
        self.hook(&self.hooks.on_close, "onClose", event, Some(info));
    }

    pub fn reconnect(&self, info: &JsValue) {
        self.hook(&self.hooks.on_reconnect, "onReconnect", info, None);
    }
}
