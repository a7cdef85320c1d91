//! The wasm-bindgen exports: `configure`, `socket` and the `Subscription` handle. Thin: arguments are
//! checked and turned into plain options here, everything else happens in `hub` and `driver`.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::rc::Rc;
use core::cell::RefCell;

use js_sys::{Function, Object};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::driver::Connection;
use crate::errors::type_error;
use crate::host::{self, kind, Kind};
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
    if kind(callback) != Kind::Function {
        return Err(type_error(
            "callback must be a function (data, event) => {}",
        ));
    }
    let callback: Function = callback.clone().unchecked_into();
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
    match kind(data) {
        Kind::String | Kind::Binary => return Ok(data.clone()),
        Kind::Undefined | Kind::Function | Kind::Other => {
            return Err(type_error(
                "send(data): data must be a string, an object (sent as JSON), an ArrayBuffer, a TypedArray or a Blob",
            ))
        }
        _ => {}
    }
    match json_stringify(data) {
        Ok(text) if kind(&text) == Kind::String => Ok(text),
        Ok(_) => Err(type_error("send(data): data cannot be turned into JSON")),
        Err(e) => Err(type_error(&cat!(
            "send(data): JSON.stringify failed: ",
            host::read(&e, "message")
                .and_then(|(_, m)| m.as_string())
                .unwrap_or_default()
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
    match kind(v) {
        Kind::Undefined | Kind::Null => return Ok(PartialOptions::default()),
        Kind::Object => {}
        _ => return Err(type_error("options must be an object")),
    }
    for key in own_keys(v) {
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
    let r = Reader(v);
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

/// `Object.keys(o)`.
fn own_keys(o: &JsValue) -> Vec<String> {
    let keys = Object::keys(o.unchecked_ref::<Object>());
    (0..keys.length())
        .map(|i| keys.get(i).as_string().unwrap_or_default())
        .collect()
}

struct Reader<'a>(&'a JsValue);

impl Reader<'_> {
    /// The value and what it is, or `None` when absent or `undefined`.
    fn get(&self, key: &str) -> Result<Option<(Kind, JsValue)>, JsValue> {
        match host::read(self.0, key) {
            None => Err(type_error(&cat!("option `", key, "` could not be read"))),
            Some((Kind::Undefined, _)) => Ok(None),
            Some(found) => Ok(Some(found)),
        }
    }

    /// The value if it is of kind `want`; otherwise a `TypeError` saying what it `must` be.
    fn typed(&self, key: &str, want: Kind, must: &str) -> Result<Option<JsValue>, JsValue> {
        match self.get(key)? {
            None => Ok(None),
            Some((k, v)) if k == want => Ok(Some(v)),
            Some(_) => Err(type_error(&cat!("option `", key, "` ", must))),
        }
    }

    fn string(&self, key: &str) -> Result<Option<String>, JsValue> {
        Ok(self
            .typed(key, Kind::String, "must be a string")?
            .and_then(|v| v.as_string()))
    }

    fn number(&self, key: &str) -> Result<Option<f64>, JsValue> {
        Ok(self
            .typed(key, Kind::Number, "must be a number")?
            .and_then(|v| v.as_f64()))
    }

    fn boolean(&self, key: &str) -> Result<Option<bool>, JsValue> {
        Ok(self
            .typed(key, Kind::Bool, "must be true or false")?
            .and_then(|v| v.as_bool()))
    }

    fn function(&self, key: &str) -> Result<Option<Function>, JsValue> {
        if let Some((Kind::Null, _)) = self.get(key)? {
            return Ok(None);
        }
        Ok(self
            .typed(key, Kind::Function, "must be a function")?
            .map(JsCast::unchecked_into))
    }

    fn token(&self) -> Result<Option<Token<Function>>, JsValue> {
        match self.get("token")? {
            None => Ok(None),
            Some((Kind::String, v)) => Ok(v.as_string().map(Token::Static)),
            Some((Kind::Function, f)) => Ok(Some(Token::Dynamic(f.unchecked_into()))),
            Some(_) => Err(type_error(
                "option `token` must be a string or a function returning a string or a Promise of one",
            )),
        }
    }

    fn params(&self) -> Result<Option<Vec<(String, String)>>, JsValue> {
        let Some((kind, v)) = self.get("params")? else {
            return Ok(None);
        };
        if kind != Kind::Object {
            return Err(type_error("option `params` must be an object of strings"));
        }
        let mut out = Vec::new();
        for k in own_keys(&v) {
            let s = match host::read(&v, &k) {
                Some((Kind::String, s)) => s.as_string(),
                Some((Kind::Number, n)) => n.as_f64().map(crate::options::num),
                Some((Kind::Bool, b)) => b.as_bool().map(|b| b.to_string()),
                _ => None,
            };
            let Some(s) = s else {
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
        let v = match self.get("heartbeat")? {
            None => return Ok(None),
            Some((Kind::Null, _)) => return Ok(Some(None)),
            Some((Kind::Bool, v)) if v.as_bool() == Some(false) => return Ok(Some(None)),
            Some((Kind::Object, v)) => v,
            Some(_) => {
                return Err(type_error(
                    "option `heartbeat` must be null or { interval, timeout, message }",
                ))
            }
        };
        let h = Reader(&v);
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
    host::stats(
        crate::driver::live_closures() as u32,
        hub::connection_count() as u32,
        &wasm_bindgen::memory(),
    )
}
