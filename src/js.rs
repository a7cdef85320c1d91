//! The wasm-bindgen exports: `configure`, `socket` and the `Subscription` handle. Thin: arguments are
//! checked and turned into plain options here, everything else happens in `hub` and `driver`.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::rc::Rc;
use core::cell::RefCell;

use js_sys::{Function, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::driver::Connection;
use crate::errors::type_error;
use crate::hub;
use crate::options::{BinaryType, HeartbeatSpec, Hooks, ParseMode, PartialOptions, Token};
use crate::subscriber::Subscriber;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** The state of a subscription. */
export type SocketState = "connecting" | "open" | "reconnecting" | "closed";

/** `error.kind` of every error reported through `onError`. */
export type ErrorKind =
  | "parse" | "callback" | "connect" | "timeout" | "queue-full" | "token" | "retries-exhausted" | "unsent";

/** The errors given to `onError`. */
export interface EventSocketError extends Error {
  kind: ErrorKind;
  /** For `"parse"`: the text that was not JSON. */
  raw?: string;
  /** For `"callback"`, `"token"`, `"parse"`: what was thrown. */
  cause?: unknown;
}

/** A JSON value as `JSON.parse` returns it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface Heartbeat {
  /** ms between heartbeat messages. */
  interval: number;
  /** ms to wait for any inbound message after a heartbeat; default `interval`. */
  timeout?: number;
  /** Text to send; default `"ping"`. */
  message?: string;
}

export interface CloseInfo { willReconnect: boolean; delay: number | null }
export interface ReconnectInfo { attempt: number; delay: number }

export interface SocketOptions {
  url?: string;
  token?: string | (() => string | Promise<string>);
  params?: Record<string, string | number | boolean>;
  reconnectInterval?: number;
  maxReconnectInterval?: number;
  backoffFactor?: number;
  jitter?: number;
  maxRetries?: number;
  minUptime?: number;
  connectTimeout?: number;
  heartbeat?: Heartbeat | null;
  queueLimit?: number;
  parse?: "json" | "text";
  binaryType?: "arraybuffer" | "blob";
  share?: boolean;
  shouldReconnect?: (event: CloseEvent) => boolean;
  onOpen?: (event: Event) => void;
  onClose?: (event: CloseEvent, info: CloseInfo) => void;
  onError?: (error: EventSocketError) => void;
  onReconnect?: (info: ReconnectInfo) => void;
  onStateChange?: (state: SocketState) => void;
  debug?: boolean;
}

/** CodeChat payloads of the events this package knows the shape of. */
export interface ConnectionUpdate { instance: string; state: "open" | "connecting" | "close" | "refused"; statusReason: number }
export interface QrcodeUpdated { count: number; code: string; base64: string }
export interface MessagesUpsert {
  keyId: string; keyFromMe: boolean; pushName: string; keyRemoteJid: string; messageType: string;
  content: Json; messageTimestamp: number; instanceId: string; isGroup: boolean; [key: string]: Json;
}
export interface EventPayloads {
  "connection.update": ConnectionUpdate;
  "qrcode.updated": QrcodeUpdated;
  "messages.upsert": MessagesUpsert;
}
/** What the callback receives: the parsed JSON (typed for known events), or a string with
 * `parse: "text"`, or an ArrayBuffer/Blob for binary frames. */
export type EventData<E extends string> = (E extends keyof EventPayloads ? EventPayloads[E] : Json) | string | ArrayBuffer | Blob;

/** Sets defaults for later `socket()` calls (merged over earlier `configure()` calls). */
export function configure(options: SocketOptions): void;

/** Subscribes `callback(data, event)` to `eventName`. Throws `TypeError` on bad arguments. */
export function socket<E extends string>(
  eventName: E,
  callback: (data: EventData<E>, event: MessageEvent) => void,
  options?: SocketOptions,
): Subscription;
"#;

/// Sets defaults for later `socket()` calls (merged over earlier `configure()` calls).
#[wasm_bindgen(skip_typescript)]
pub fn configure(options: &JsValue) -> Result<(), JsValue> {
    hub::configure(read_options(options)?)
}

/// Subscribes `callback(data, event)` to `eventName`; see the README for the options.
#[wasm_bindgen(skip_typescript)]
pub fn socket(
    event_name: &JsValue,
    callback: &JsValue,
    options: &JsValue,
) -> Result<Subscription, JsValue> {
    let event = match event_name.as_string() {
        Some(e) if !e.is_empty() => e,
        Some(_) => return Err(type_error("eventName must not be empty")),
        None => {
            return Err(type_error(
                "eventName must be a string, e.g. \"messages.upsert\"",
            ))
        }
    };
    let callback = callback
        .dyn_ref::<Function>()
        .cloned()
        .ok_or_else(|| type_error("callback must be a function (data, event) => {}"))?;
    let over = read_options(options)?;
    let (conn, sub) = hub::subscribe(event, callback, over)?;
    Ok(Subscription {
        conn: RefCell::new(conn),
        sub,
    })
}

/// A handle on one subscription. Dropping it does not stop the subscription; `close()` does.
#[wasm_bindgen]
pub struct Subscription {
    conn: RefCell<Rc<Connection>>,
    sub: Rc<Subscriber>,
}

#[wasm_bindgen]
impl Subscription {
    /// `"connecting" | "open" | "reconnecting" | "closed"`.
    #[wasm_bindgen(getter, unchecked_return_type = "SocketState")]
    pub fn state(&self) -> String {
        if self.sub.closed.get() {
            "closed".into()
        } else {
            self.conn.borrow().state().as_str().into()
        }
    }

    /// Consecutive failed attempts.
    #[wasm_bindgen(getter)]
    pub fn retries(&self) -> u32 {
        self.conn.borrow().retries()
    }

    /// The event this subscription receives (the `event=` query parameter).
    #[wasm_bindgen(getter, js_name = eventName)]
    pub fn event_name(&self) -> String {
        self.conn.borrow().event.clone()
    }

    /// The connection URL with the token redacted.
    #[wasm_bindgen(getter)]
    pub fn url(&self) -> String {
        self.conn.borrow().display_url()
    }

    /// Sends `data` (object -> JSON text, string -> text, ArrayBuffer/TypedArray/Blob -> binary).
    /// Returns false when it was not accepted (closed, or the queue is full).
    pub fn send(
        &self,
        #[wasm_bindgen(
            unchecked_param_type = "string | object | ArrayBuffer | ArrayBufferView | Blob"
        )]
        data: &JsValue,
    ) -> Result<bool, JsValue> {
        let msg = outgoing(data)?;
        if self.sub.closed.get() {
            return Ok(false);
        }
        let conn = self.conn.borrow().clone();
        Ok(conn.send(msg))
    }

    /// Closes for good: never reconnects. Safe to call twice.
    pub fn close(&self, code: Option<u16>, reason: Option<String>) -> Result<(), JsValue> {
        let code = code.unwrap_or(1000);
        if code != 1000 && !(3000..=4999).contains(&code) {
            return Err(type_error(&cat!(
                "close code must be 1000 or in 3000..=4999, got ",
                code
            )));
        }
        let reason = reason.unwrap_or_default();
        if reason.len() > 123 {
            return Err(type_error(
                "close reason must be at most 123 bytes of UTF-8",
            ));
        }
        let conn = self.conn.borrow().clone();
        hub::unsubscribe(&conn, &self.sub, code, reason);
        Ok(())
    }

    /// A fresh attempt now, with the backoff reset. Does nothing after `close()`.
    pub fn reconnect(&self) {
        if !self.sub.closed.get() {
            let conn = self.conn.borrow().clone();
            if let Some(joined) = hub::reconnect(&conn, &self.sub) {
                *self.conn.borrow_mut() = joined;
            }
        }
    }
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = JSON, js_name = stringify, catch)]
    fn json_stringify(value: &JsValue) -> Result<JsValue, JsValue>;
}

fn outgoing(data: &JsValue) -> Result<JsValue, JsValue> {
    if data.is_string()
        || data.is_instance_of::<js_sys::ArrayBuffer>()
        || js_sys::ArrayBuffer::is_view(data)
        || data.is_instance_of::<web_sys::Blob>()
    {
        return Ok(data.clone());
    }
    if data.is_undefined() || data.is_function() || data.is_symbol() || data.is_bigint() {
        return Err(type_error(
            "send(data): data must be a string, an object (sent as JSON), an ArrayBuffer, a TypedArray or a Blob",
        ));
    }
    match json_stringify(data) {
        Ok(text) if text.is_string() => Ok(text),
        Ok(_) => Err(type_error("send(data): data cannot be turned into JSON")),
        Err(e) => Err(type_error(&cat!(
            "send(data): JSON.stringify failed: ",
            String::from(js_sys::Error::from(e).message())
        ))),
    }
}

const KNOWN: &[&str] = &[
    "url",
    "token",
    "params",
    "reconnectInterval",
    "maxReconnectInterval",
    "backoffFactor",
    "jitter",
    "maxRetries",
    "minUptime",
    "connectTimeout",
    "heartbeat",
    "queueLimit",
    "parse",
    "binaryType",
    "share",
    "shouldReconnect",
    "onOpen",
    "onClose",
    "onError",
    "onReconnect",
    "onStateChange",
    "debug",
];

/// The option names, comma-separated, for the unknown-option message.
fn known_options() -> String {
    let mut out = String::new();
    for (i, name) in KNOWN.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(name);
    }
    out
}

/// Reads the JS options object into plain options, checking every type.
fn read_options(v: &JsValue) -> Result<PartialOptions<Function>, JsValue> {
    if v.is_undefined() || v.is_null() {
        return Ok(PartialOptions::default());
    }
    if !v.is_object() || v.is_function() || js_sys::Array::is_array(v) {
        return Err(type_error("options must be an object"));
    }
    let obj: &Object = v.unchecked_ref();
    for key in Object::keys(obj).iter() {
        let key = key.as_string().unwrap_or_default();
        if !KNOWN.contains(&key.as_str()) {
            return Err(type_error(&cat!(
                "unknown option `",
                key,
                "` (known: ",
                known_options(),
                ")"
            )));
        }
    }
    let r = Reader(obj);
    Ok(PartialOptions {
        url: r.string("url")?,
        token: r.token()?,
        params: r.params()?,
        reconnect_interval: r.number("reconnectInterval")?,
        max_reconnect_interval: r.number("maxReconnectInterval")?,
        backoff_factor: r.number("backoffFactor")?,
        jitter: r.number("jitter")?,
        max_retries: r.number("maxRetries")?,
        min_uptime: r.number("minUptime")?,
        connect_timeout: r.number("connectTimeout")?,
        heartbeat: r.heartbeat()?,
        queue_limit: r.number("queueLimit")?,
        parse: match r.string("parse")?.as_deref() {
            None => None,
            Some("json") => Some(ParseMode::Json),
            Some("text") => Some(ParseMode::Text),
            Some(other) => {
                return Err(type_error(&cat!(
                    "option `parse` must be \"json\" or \"text\", got \"",
                    other,
                    "\""
                )))
            }
        },
        binary_type: match r.string("binaryType")?.as_deref() {
            None => None,
            Some("arraybuffer") => Some(BinaryType::ArrayBuffer),
            Some("blob") => Some(BinaryType::Blob),
            Some(other) => {
                return Err(type_error(&cat!(
                    "option `binaryType` must be \"arraybuffer\" or \"blob\", got \"",
                    other,
                    "\""
                )))
            }
        },
        share: r.boolean("share")?,
        should_reconnect: r.function("shouldReconnect")?,
        debug: r.boolean("debug")?,
        hooks: Hooks {
            on_open: r.function("onOpen")?,
            on_close: r.function("onClose")?,
            on_error: r.function("onError")?,
            on_reconnect: r.function("onReconnect")?,
            on_state_change: r.function("onStateChange")?,
        },
    })
}

struct Reader<'a>(&'a Object);

impl Reader<'_> {
    /// The value, or `None` when absent or `undefined`.
    fn get(&self, key: &str) -> Result<Option<JsValue>, JsValue> {
        let v = Reflect::get(self.0, &JsValue::from_str(key))
            .map_err(|_| type_error(&cat!("option `", key, "` could not be read")))?;
        Ok(if v.is_undefined() { None } else { Some(v) })
    }

    fn string(&self, key: &str) -> Result<Option<String>, JsValue> {
        match self.get(key)? {
            None => Ok(None),
            Some(v) => v
                .as_string()
                .map(Some)
                .ok_or_else(|| type_error(&cat!("option `", key, "` must be a string"))),
        }
    }

    fn number(&self, key: &str) -> Result<Option<f64>, JsValue> {
        match self.get(key)? {
            None => Ok(None),
            Some(v) => v
                .as_f64()
                .map(Some)
                .ok_or_else(|| type_error(&cat!("option `", key, "` must be a number"))),
        }
    }

    fn boolean(&self, key: &str) -> Result<Option<bool>, JsValue> {
        match self.get(key)? {
            None => Ok(None),
            Some(v) => v
                .as_bool()
                .map(Some)
                .ok_or_else(|| type_error(&cat!("option `", key, "` must be true or false"))),
        }
    }

    fn function(&self, key: &str) -> Result<Option<Function>, JsValue> {
        match self.get(key)? {
            None => Ok(None),
            Some(v) if v.is_null() => Ok(None),
            Some(v) => v
                .dyn_into::<Function>()
                .map(Some)
                .map_err(|_| type_error(&cat!("option `", key, "` must be a function"))),
        }
    }

    fn token(&self) -> Result<Option<Token<Function>>, JsValue> {
        match self.get("token")? {
            None => Ok(None),
            Some(v) => {
                if let Some(s) = v.as_string() {
                    Ok(Some(Token::Static(s)))
                } else if let Some(f) = v.dyn_ref::<Function>() {
                    Ok(Some(Token::Dynamic(f.clone())))
                } else {
                    Err(type_error(
                        "option `token` must be a string or a function returning a string or a Promise of one",
                    ))
                }
            }
        }
    }

    fn params(&self) -> Result<Option<Vec<(String, String)>>, JsValue> {
        let Some(v) = self.get("params")? else {
            return Ok(None);
        };
        if !v.is_object() || v.is_function() || js_sys::Array::is_array(&v) {
            return Err(type_error("option `params` must be an object of strings"));
        }
        let mut out = Vec::new();
        for entry in Object::entries(v.unchecked_ref()).iter() {
            let pair: js_sys::Array = entry.unchecked_into();
            let k = pair.get(0).as_string().unwrap_or_default();
            let val = pair.get(1);
            let s = if let Some(s) = val.as_string() {
                s
            } else if let Some(n) = val.as_f64() {
                crate::options::num(n)
            } else if let Some(b) = val.as_bool() {
                b.to_string()
            } else {
                return Err(type_error(&cat!(
                    "option `params`: value of `",
                    k,
                    "` must be a string"
                )));
            };
            out.push((k, s));
        }
        Ok(Some(out))
    }

    fn heartbeat(&self) -> Result<Option<Option<HeartbeatSpec>>, JsValue> {
        let Some(v) = self.get("heartbeat")? else {
            return Ok(None);
        };
        if v.is_null() || v.as_bool() == Some(false) {
            return Ok(Some(None));
        }
        if !v.is_object() {
            return Err(type_error(
                "option `heartbeat` must be null or { interval, timeout, message }",
            ));
        }
        let h = Reader(v.unchecked_ref());
        let bad = |what: &str| type_error(&cat!("option `heartbeat`: ", what));
        let interval = h
            .number("interval")
            .map_err(|_| bad("interval must be a number"))?
            .ok_or_else(|| bad("interval is required"))?;
        let timeout = h
            .number("timeout")
            .map_err(|_| bad("timeout must be a number"))?
            .unwrap_or(interval);
        let message = h
            .string("message")
            .map_err(|_| bad("message must be a string"))?
            .unwrap_or_else(|| "ping".into());
        Ok(Some(Some(HeartbeatSpec {
            interval,
            timeout,
            message,
        })))
    }
}

/// Live closures and connections held by the module: the leak tests and the benchmark read it.
#[wasm_bindgen(js_name = debugStats, unchecked_return_type = "{ closures: number; connections: number; memory: number }")]
pub fn debug_stats() -> JsValue {
    let o = Object::new();
    let _ = Reflect::set(
        &o,
        &"closures".into(),
        &(crate::driver::live_closures() as f64).into(),
    );
    let _ = Reflect::set(
        &o,
        &"connections".into(),
        &(hub::connection_count() as f64).into(),
    );
    let _ = Reflect::set(&o, &"memory".into(), &wasm_memory_bytes().into());
    o.into()
}

fn wasm_memory_bytes() -> f64 {
    wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .ok()
        .and_then(|m| m.buffer().dyn_into::<js_sys::ArrayBuffer>().ok())
        .map(|b| b.byte_length() as f64)
        .unwrap_or(0.0)
}
