//! The Rust API, for Rust web apps (Leptos, Yew, Dioxus, or plain `wasm-bindgen`): the same client
//! as the JavaScript `socket()`, with a builder, Rust closures, typed messages and `Result`s.
//!
//! ```no_run
//! use event_socket::payloads::MessagesUpsert;
//! use event_socket::{Socket, SocketError};
//!
//! fn start(jwt: &str) -> Result<Socket, SocketError> {
//!     Socket::builder("ws://localhost:8084/ws/events", "messages.upsert")
//!         .token(jwt)
//!         .on_json(|m: Result<MessagesUpsert, SocketError>| match m {
//!             Ok(m) => web_sys::console::log_1(&format!("{}: {:?}", m.sender(), m.content.text).into()),
//!             Err(e) => web_sys::console::warn_1(&e.to_string().into()),
//!         })
//!         .on_state_change(|state| web_sys::console::log_1(&state.as_str().into()))
//!         .connect()
//! }
//! ```
//!
//! [`crate::payloads`] has CodeChat's payloads typed; your own `serde::Deserialize` types work the
//! same way.
//!
//! # Design
//!
//! - **A thin layer over the same core.** [`SocketBuilder::connect`] builds the same plain options
//!   the JavaScript `socket()` builds and calls the same registry (`hub::subscribe`): the state
//!   machine, backoff, queue, connection sharing and error reporting are one implementation, tested
//!   once. A Rust [`Socket`] and a JavaScript subscription for the same URL, event and instance
//!   (token) even share one connection. This module only converts: Rust closures to JS functions, JS error
//!   objects to [`SocketError`], JS values to your types.
//! - **A builder**, because Rust has no optional named arguments: one method per entry of the
//!   options table in the README, in snake_case. Every value is checked by
//!   [`connect`](SocketBuilder::connect), which returns a [`SocketError`] naming the method; nothing
//!   in this module panics on bad input.
//! - **Closures owned by the `Socket`.** Each Rust callback is wrapped in a
//!   [`wasm_bindgen::closure::Closure`] held by the [`Socket`] and handed to the core as a
//!   `js_sys::Function`. None is ever `forget`-ed: a component that mounts and unmounts a thousand
//!   times must not leak a thousand closures.
//! - **Dropping a `Socket` closes it** (RAII), which is what framework users expect: a socket stored
//!   in a Leptos owner (for example `StoredValue::new_local`, or dropped in `on_cleanup`), in a Yew
//!   component or `use_effect_with` cleanup, or in a Dioxus hook, goes away with its component. This
//!   differs from the JavaScript handle on purpose: JavaScript has no destructors (a
//!   `FinalizationRegistry` callback may run late or never), so there the module owns the connection
//!   and only `close()` ends it; the classic usage ignores the handle altogether. In Rust the owner
//!   is known and its drop runs reliably, so the handle owns the subscription. To keep a socket for
//!   the life of the page, keep the `Socket` somewhere that lives that long.
//! - **After the drop, none of your callbacks runs**, not even the final `on_state_change(Closed)`:
//!   a framework tears down its signals and state alongside the socket, and a callback touching
//!   them then could panic. (An explicit [`Socket::close`] does report `Closed`.) Errors raised by
//!   the teardown itself, such as [`SocketError::Unsent`] for messages still queued, go to the
//!   browser console instead. The closures are freed on the next microtask rather than during
//!   `drop`, so that a socket dropped from inside a callback (its own, or another subscriber's of
//!   the same shared connection) never leaves the core holding a dead function.
//! - **Typed messages** ([`SocketBuilder::on_json`]) convert the value the core already parsed with
//!   `JSON.parse` (once per message, however many subscribers share the connection) with
//!   `serde-wasm-bindgen`, instead of reparsing the text with `serde_json`: no second parse, no extra
//!   dependency. A message that does not fit your type is an `Err(`[`SocketError::Decode`]`)` for
//!   that message only; the socket stays open.
//! - **Panics**: a JavaScript callback that throws is reported as an error of kind `callback` and
//!   the socket carries on; a Rust closure that panics aborts the whole WebAssembly instance, which
//!   nothing can catch. Handle errors inside your callbacks instead of unwrapping.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;

use js_sys::{Function, Reflect};
use serde::{de::DeserializeOwned, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::MessageEvent;

use crate::driver::Connection;
use crate::hub;
pub use crate::machine::State;
pub use crate::options::{BinaryType, Share};
use crate::options::{HeartbeatSpec, Hooks, OptionsError, ParseMode, PartialOptions, Token};
use crate::subscriber::Subscriber;
pub use crate::tabs::Role;
use crate::url;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = JSON, js_name = stringify, catch)]
    fn json_stringify(value: &JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_name = queueMicrotask)]
    fn queue_microtask(f: &JsValue);
}

/// What can go wrong, as a Rust enum: returned by [`SocketBuilder::connect`] and the `send_*`
/// methods, and handed to [`SocketBuilder::on_error`] (and to [`SocketBuilder::on_json`] for
/// messages that do not fit).
///
/// The variants named after a JavaScript error kind (`error.kind` in the README's table) are built
/// from that error's `kind` and `message`; [`kind`](SocketError::kind) gives the kind string back.
///
/// ```no_run
/// # use event_socket::SocketError;
/// fn report(err: SocketError) {
///     match err {
///         SocketError::Decode(why) => web_sys::console::warn_1(&why.into()),
///         SocketError::RetriesExhausted(_) => web_sys::console::error_1(&"gave up".into()),
///         other => web_sys::console::warn_1(&other.to_string().into()),
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SocketError {
    /// A builder value is out of range (from [`connect`](SocketBuilder::connect)); `field` is the
    /// builder method, e.g. `"jitter"`.
    Options {
        /// The builder method whose value was refused.
        field: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The URL is not usable for a WebSocket (not `ws://`/`wss://` or a page-relative path, no host,
    /// or relative without a page to resolve it against).
    Url(String),
    /// Kind `parse`: a frame was not JSON: text that does not parse, or a binary frame (those
    /// need [`SocketBuilder::parse_text`]). The socket stays open.
    Parse {
        /// The text as received (empty for a binary frame).
        raw: String,
        /// The explanation.
        message: String,
    },
    /// A JSON message did not fit the type given to [`SocketBuilder::on_json`]. The socket stays
    /// open.
    Decode(String),
    /// [`Socket::send_json`] could not turn the value into JSON.
    Encode(String),
    /// Kind `callback`: a callback threw (only JavaScript functions can; a panicking Rust closure
    /// aborts the instance instead).
    Callback(String),
    /// Kind `connect`: an attempt failed before opening (refused, unreachable, token rejected).
    Connect(String),
    /// Kind `timeout`: the connect timeout or the heartbeat expired.
    Timeout(String),
    /// Kind `queue-full`: a send while not open, with `queue_limit` messages already held.
    QueueFull,
    /// Kind `token`: getting the token failed.
    Token(String),
    /// Kind `retries-exhausted`: `max_retries` consecutive failures; the state is `Closed`.
    RetriesExhausted(String),
    /// Kind `unsent`: the socket closed for good with messages still queued.
    Unsent(String),
    /// A send on a socket that is closed for good.
    Closed,
    /// From a [`crate::stream::Messages`] stream: this many messages were dropped because the
    /// consumer did not keep up (the oldest go first); the next items are the newest.
    Lagged(u64),
    /// An error of a kind this version does not know.
    Other {
        /// The `kind` of the JavaScript error.
        kind: String,
        /// Its message.
        message: String,
    },
}

impl SocketError {
    /// The kind as a string: the JavaScript `error.kind` for the variants that have one (`"parse"`,
    /// `"connect"`, `"queue-full"` …), and `"options"`, `"url"`, `"decode"`, `"encode"`, `"closed"`
    /// and `"lagged"` for the Rust-only ones.
    pub fn kind(&self) -> &str {
        match self {
            SocketError::Options { .. } => "options",
            SocketError::Url(_) => "url",
            SocketError::Parse { .. } => "parse",
            SocketError::Decode(_) => "decode",
            SocketError::Encode(_) => "encode",
            SocketError::Callback(_) => "callback",
            SocketError::Connect(_) => "connect",
            SocketError::Timeout(_) => "timeout",
            SocketError::QueueFull => "queue-full",
            SocketError::Token(_) => "token",
            SocketError::RetriesExhausted(_) => "retries-exhausted",
            SocketError::Unsent(_) => "unsent",
            SocketError::Closed => "closed",
            SocketError::Lagged(_) => "lagged",
            SocketError::Other { kind, .. } => kind,
        }
    }

    /// Reads a JavaScript error object of the core (`kind`, `message`, `raw`); a `TypeError`
    /// without `kind` is an options error.
    fn from_js(err: &JsValue) -> SocketError {
        let get = |key: &str| {
            if err.is_object() {
                Reflect::get(err, &JsValue::from_str(key))
                    .ok()
                    .and_then(|v| v.as_string())
            } else {
                None
            }
        };
        let message = get("message")
            .or_else(|| err.as_string())
            .unwrap_or_default();
        let message = match message.strip_prefix("event-socket: ") {
            Some(m) => m.to_string(),
            None => message,
        };
        match get("kind").as_deref() {
            None => SocketError::Options {
                field: String::new(),
                problem: message,
            },
            Some("parse") => SocketError::Parse {
                raw: get("raw").unwrap_or_default(),
                message,
            },
            Some("callback") => SocketError::Callback(message),
            Some("connect") => SocketError::Connect(message),
            Some("timeout") => SocketError::Timeout(message),
            Some("queue-full") => SocketError::QueueFull,
            Some("token") => SocketError::Token(message),
            Some("retries-exhausted") => SocketError::RetriesExhausted(message),
            Some("unsent") => SocketError::Unsent(message),
            Some(kind) => SocketError::Other {
                kind: kind.to_string(),
                message,
            },
        }
    }

    fn from_options(e: OptionsError) -> SocketError {
        SocketError::Options {
            field: snake_case(e.field),
            problem: e.problem,
        }
    }
}

/// `reconnectInterval` -> `reconnect_interval`: errors name the builder method, not the JS option.
fn snake_case(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

impl fmt::Display for SocketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SocketError::Options { field, problem } if field.is_empty() => {
                write!(f, "event-socket: {problem}")
            }
            SocketError::Options { field, problem } => {
                write!(f, "event-socket: `{field}` {problem}")
            }
            SocketError::Url(m) => write!(f, "event-socket: {m}"),
            SocketError::Parse { message, .. } => write!(f, "event-socket: {message}"),
            SocketError::Decode(m) => write!(
                f,
                "event-socket: a message does not fit the expected type ({m}); the socket stays open"
            ),
            SocketError::Encode(m) => {
                write!(f, "event-socket: the value cannot be sent as JSON: {m}")
            }
            SocketError::QueueFull => write!(
                f,
                "event-socket: the send queue is full (queue_limit); the message was not accepted"
            ),
            SocketError::Closed => write!(
                f,
                "event-socket: the socket is closed for good; the message was not sent"
            ),
            SocketError::Lagged(n) => write!(
                f,
                "event-socket: {n} message(s) dropped: the stream's consumer did not keep up"
            ),
            SocketError::Callback(m)
            | SocketError::Connect(m)
            | SocketError::Timeout(m)
            | SocketError::Token(m)
            | SocketError::RetriesExhausted(m)
            | SocketError::Unsent(m) => write!(f, "event-socket: {m}"),
            SocketError::Other { kind, message } => write!(f, "event-socket: {kind}: {message}"),
        }
    }
}

impl std::error::Error for SocketError {}

/// Given to [`SocketBuilder::on_close`] each time the connection closes.
#[derive(Debug, Clone, PartialEq)]
pub struct CloseInfo {
    /// The close code (`1006` for an abrupt drop or a refused handshake).
    pub code: u16,
    /// The close reason the server gave, if any.
    pub reason: String,
    /// Whether the closing handshake completed.
    pub was_clean: bool,
    /// Whether a retry follows.
    pub will_reconnect: bool,
    /// The delay before that retry, in milliseconds, when one is scheduled now.
    pub delay_ms: Option<f64>,
}

/// Given to [`SocketBuilder::on_reconnect`] when a retry is scheduled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReconnectInfo {
    /// The number of this attempt (1 for the first retry).
    pub attempt: u32,
    /// The delay before it, in milliseconds.
    pub delay_ms: f64,
}

type RawHandler = Box<dyn FnMut(JsValue, MessageEvent)>;
/// A typed handler with its type erased: decodes the value itself.
type TypedHandler = Box<dyn FnMut(Result<JsValue, SocketError>)>;

enum MessageHandler {
    Raw(RawHandler),
    // Built by `on_json`.
    Typed(TypedHandler),
}

/// Settings and callbacks for a [`Socket`]; made by [`Socket::builder`], ended by
/// [`connect`](SocketBuilder::connect).
///
/// Every setting has the default of the README's options table; times are in milliseconds.
///
/// ```no_run
/// # use event_socket::Socket;
/// let socket = Socket::builder("/ws/events", "messages.upsert")
///     .token("eyJhbGciOi...")
///     .param("instance", "main")
///     .reconnect_interval(3000)
///     .backoff_factor(1.0)
///     .jitter(0.0)
///     .on_message(|data, _event| web_sys::console::log_1(&data))
///     .connect();
/// ```
#[must_use = "a SocketBuilder does nothing until .connect()"]
pub struct SocketBuilder {
    event: String,
    opts: PartialOptions<Function>,
    on_message: Option<MessageHandler>,
    on_open: Option<Box<dyn FnMut()>>,
    on_close: Option<Box<dyn FnMut(CloseInfo)>>,
    on_error: Option<Box<dyn FnMut(SocketError)>>,
    on_reconnect: Option<Box<dyn FnMut(ReconnectInfo)>>,
    on_state_change: Option<Box<dyn FnMut(State)>>,
}

impl fmt::Debug for SocketBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketBuilder")
            .field("url", &self.opts.url)
            .field("event", &self.event)
            .finish_non_exhaustive()
    }
}

impl SocketBuilder {
    /// The token, sent as the `token=` query parameter (never shown in [`Socket::url`], logs or
    /// errors). Default: none.
    ///
    /// ```no_run
    /// # use event_socket::Socket;
    /// let b = Socket::builder("ws://localhost:8084/ws/events", "messages.upsert").token("eyJ...");
    /// ```
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.opts.token = Some(Token::Static(token.into()));
        self
    }

    /// A function called before every attempt for a fresh token (tokens that expire: CodeChat's
    /// live an hour). Subscriptions share a connection only when they share this function's
    /// connection settings, so give it to one [`Socket`] per event (or use
    /// [`token`](SocketBuilder::token) for a token that does not change).
    ///
    /// The function is handed to the connection, which may outlive this `Socket` when another
    /// subscription shares it; it is freed by the JavaScript garbage collector with the connection.
    ///
    /// ```no_run
    /// # use event_socket::Socket;
    /// # fn read_cached_jwt() -> String { String::new() }
    /// let b = Socket::builder("ws://h/ws/events", "messages.upsert").token_fn(read_cached_jwt);
    /// ```
    pub fn token_fn(mut self, mut f: impl FnMut() -> String + 'static) -> Self {
        let f = Closure::<dyn FnMut() -> JsValue>::new(move || JsValue::from(f())).into_js_value();
        self.opts.token = Some(Token::Dynamic(f.unchecked_into()));
        self
    }

    /// [`token_fn`](SocketBuilder::token_fn) for a token that takes a request: the future runs
    /// before every attempt; `Err(why)` is reported as [`SocketError::Token`] (with `why` as its
    /// cause) and the attempt is retried with backoff, like a refused connection.
    ///
    /// ```no_run
    /// # use event_socket::Socket;
    /// # async fn renew() -> Result<String, String> { Ok(String::new()) }
    /// let b = Socket::builder("ws://h/ws/events", "messages.upsert").token_async(renew);
    /// ```
    pub fn token_async<F, Fut>(mut self, mut f: F) -> Self
    where
        F: FnMut() -> Fut + 'static,
        Fut: std::future::Future<Output = Result<String, String>> + 'static,
    {
        let f = Closure::<dyn FnMut() -> JsValue>::new(move || {
            let token = f();
            JsValue::from(js_sys::futures::future_to_promise(async move {
                token.await.map(JsValue::from).map_err(JsValue::from)
            }))
        })
        .into_js_value();
        self.opts.token = Some(Token::Dynamic(f.unchecked_into()));
        self
    }

    /// Decides after each close whether to reconnect (`false`: closed for good); default: always.
    /// Called with the close as [`on_close`](SocketBuilder::on_close) reports it (`will_reconnect`
    /// and `delay_ms` are not decided yet: `true` and `None`). Like
    /// [`token_fn`](SocketBuilder::token_fn), it belongs to the connection.
    ///
    /// ```no_run
    /// # use event_socket::Socket;
    /// // 4001: CodeChat's reference server closing an older socket of the same instance.
    /// let b = Socket::builder("ws://h/ws/events", "e").should_reconnect(|close| close.code != 4001);
    /// ```
    pub fn should_reconnect(mut self, mut f: impl FnMut(&CloseInfo) -> bool + 'static) -> Self {
        let f = Closure::<dyn FnMut(JsValue) -> JsValue>::new(move |event: JsValue| {
            let (code, reason, was_clean) = match event.dyn_ref::<web_sys::CloseEvent>() {
                Some(e) => (e.code(), e.reason(), e.was_clean()),
                None => (1006, String::new(), false),
            };
            JsValue::from_bool(f(&CloseInfo {
                code,
                reason,
                was_clean,
                will_reconnect: true,
                delay_ms: None,
            }))
        })
        .into_js_value();
        self.opts.should_reconnect = Some(f.unchecked_into());
        self
    }

    /// Adds one extra query parameter (parameters already in the URL are kept).
    ///
    /// ```no_run
    /// # use event_socket::Socket;
    /// let b = Socket::builder("ws://localhost:8084/ws/events", "e").param("instance", "main");
    /// ```
    pub fn param(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.opts
            .params
            .get_or_insert_with(Vec::new)
            .push((key.into(), value.into()));
        self
    }

    /// Adds extra query parameters, in order.
    ///
    /// ```no_run
    /// # use event_socket::Socket;
    /// let b = Socket::builder("ws://localhost:8084/ws/events", "e")
    ///     .params([("instance", "main"), ("v", "2")]);
    /// ```
    pub fn params<I, K, V>(mut self, params: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.opts
            .params
            .get_or_insert_with(Vec::new)
            .extend(params.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// Delay before the first retry, in ms. Default 1000.
    ///
    /// ```no_run
    /// # use event_socket::Socket;
    /// let b = Socket::builder("ws://h/ws/events", "e").reconnect_interval(3000);
    /// ```
    pub fn reconnect_interval(mut self, ms: u32) -> Self {
        self.opts.reconnect_interval = Some(ms.into());
        self
    }

    /// Cap on the retry delay, in ms. Default 30000.
    ///
    /// ```no_run
    /// # use event_socket::Socket;
    /// let b = Socket::builder("ws://h/ws/events", "e").max_reconnect_interval(10_000);
    /// ```
    pub fn max_reconnect_interval(mut self, ms: u32) -> Self {
        self.opts.max_reconnect_interval = Some(ms.into());
        self
    }

    /// Growth of the delay per failed attempt: a finite number >= 1 (1 gives the classic fixed
    /// delay). Default 2. Checked by [`connect`](SocketBuilder::connect).
    ///
    /// ```no_run
    /// # use event_socket::Socket;
    /// let b = Socket::builder("ws://h/ws/events", "e").backoff_factor(1.5);
    /// ```
    pub fn backoff_factor(mut self, factor: f64) -> Self {
        self.opts.backoff_factor = Some(factor);
        self
    }

    /// Fraction (0 to 1) of each delay that is randomized, so that many clients do not retry in
    /// step. Default 0.5. Checked by [`connect`](SocketBuilder::connect).
    ///
    /// ```no_run
    /// # use event_socket::Socket;
    /// let b = Socket::builder("ws://h/ws/events", "e").jitter(0.2);
    /// ```
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.opts.jitter = Some(jitter);
        self
    }

    /// Consecutive failed attempts before giving up (state [`State::Closed`], error
    /// [`SocketError::RetriesExhausted`]). Default: unlimited.
    ///
    /// ```no_run
    /// # use event_socket::Socket;
    /// let b = Socket::builder("ws://h/ws/events", "e").max_retries(10);
    /// ```
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.opts.max_retries = Some(retries.into());
        self
    }

    /// An attempt not open after this many ms is abandoned and retried; 0: no timeout.
    /// Default 10000.
    ///
    /// ```no_run
    /// # use event_socket::Socket;
    /// let b = Socket::builder("ws://h/ws/events", "e").connect_timeout(5000);
    /// ```
    pub fn connect_timeout(mut self, ms: u32) -> Self {
        self.opts.connect_timeout = Some(ms.into());
        self
    }

    /// How long (ms) a connection must stay open before the retry count resets. Default 5000.
    ///
    /// ```no_run
    /// # use event_socket::Socket;
    /// let b = Socket::builder("ws://h/ws/events", "e").min_uptime(1000);
    /// ```
    pub fn min_uptime(mut self, ms: u32) -> Self {
        self.opts.min_uptime = Some(ms.into());
        self
    }

    /// Sends `message` every `interval_ms`; no inbound message within `timeout_ms` after it:
    /// reconnect. Off by default (CodeChat never answers). Both must be > 0.
    ///
    /// ```no_run
    /// # use event_socket::Socket;
    /// let b = Socket::builder("ws://h/ws/events", "e").heartbeat(25_000, 5_000, "ping");
    /// ```
    pub fn heartbeat(
        mut self,
        interval_ms: u32,
        timeout_ms: u32,
        message: impl Into<String>,
    ) -> Self {
        self.opts.heartbeat = Some(Some(HeartbeatSpec {
            interval: interval_ms.into(),
            timeout: timeout_ms.into(),
            message: message.into(),
        }));
        self
    }

    /// Messages held while not open, sent in order on open; when full, a send returns
    /// [`SocketError::QueueFull`]. Default 1000.
    ///
    /// ```no_run
    /// # use event_socket::Socket;
    /// let b = Socket::builder("ws://h/ws/events", "e").queue_limit(100);
    /// ```
    pub fn queue_limit(mut self, limit: usize) -> Self {
        self.opts.queue_limit = Some(limit as f64);
        self
    }

    /// Hands every frame to [`on_message`](SocketBuilder::on_message) as it came (text as the raw
    /// string, binary as an `ArrayBuffer`/`Blob`) instead of parsed JSON. Ignored with
    /// [`on_json`](SocketBuilder::on_json), which needs JSON.
    ///
    /// ```no_run
    /// # use event_socket::Socket;
    /// let b = Socket::builder("ws://h/echo", "e")
    ///     .parse_text()
    ///     .on_message(|text, _| web_sys::console::log_1(&text));
    /// ```
    pub fn parse_text(mut self) -> Self {
        self.opts.parse = Some(ParseMode::Text);
        self
    }

    /// How binary frames arrive: [`BinaryType::ArrayBuffer`] (the default) or
    /// [`BinaryType::Blob`].
    ///
    /// ```no_run
    /// # use event_socket::{BinaryType, Socket};
    /// let b = Socket::builder("ws://h/echo", "e").binary_type(BinaryType::Blob);
    /// ```
    pub fn binary_type(mut self, binary_type: BinaryType) -> Self {
        self.opts.binary_type = Some(binary_type);
        self
    }

    /// Which sockets with the same URL, event and instance share one connection (also with
    /// JavaScript subscriptions): `true` / [`Share::Tabs`] (the default) across the tabs of this
    /// origin, [`Share::Page`] within this page, `false` / [`Share::Off`] none. The CodeChat
    /// server keeps one socket per instance and event and starves the older of two. The
    /// instance is a JWT token's `instanceName` claim (else the token itself), so a renewed token
    /// joins the old one's connection, which then uses the newest token from its next attempt on.
    ///
    /// ```no_run
    /// # use event_socket::{Share, Socket};
    /// let b = Socket::builder("ws://h/ws/events", "e").share(false);
    /// let c = Socket::builder("ws://h/ws/events", "e").share(Share::Page);
    /// ```
    pub fn share(mut self, share: impl Into<Share>) -> Self {
        self.opts.share = Some(share.into());
        self
    }

    /// Logs the lifecycle to the console (token redacted). Default false.
    ///
    /// ```no_run
    /// # use event_socket::Socket;
    /// let b = Socket::builder("ws://h/ws/events", "e").debug(true);
    /// ```
    pub fn debug(mut self, debug: bool) -> Self {
        self.opts.debug = Some(debug);
        self
    }

    /// Called with every message: `data` is the parsed JSON, and the browser's `MessageEvent`. A
    /// frame that is not JSON (text that does not parse, or a binary frame) goes to
    /// [`on_error`](SocketBuilder::on_error) as [`SocketError::Parse`] instead. With
    /// [`parse_text`](SocketBuilder::parse_text), `data` is every frame as it came: the string, or
    /// an `ArrayBuffer`/`Blob` for binary frames. Replaces an earlier `on_message` or
    /// [`on_json`](SocketBuilder::on_json).
    ///
    /// ```no_run
    /// # use event_socket::Socket;
    /// let b = Socket::builder("ws://h/ws/events", "messages.upsert").on_message(|data, event| {
    ///     web_sys::console::log_2(&data, &event.origin().into());
    /// });
    /// ```
    pub fn on_message(mut self, f: impl FnMut(JsValue, MessageEvent) + 'static) -> Self {
        self.on_message = Some(MessageHandler::Raw(Box::new(f)));
        self
    }

    /// Called with every message decoded into `T` with `serde-wasm-bindgen`: `Ok(value)`, or
    /// `Err(`[`SocketError::Decode`]`)` when the JSON does not fit `T`, or
    /// `Err(`[`SocketError::Parse`]`)` when the text is not JSON at all (then it does not go to
    /// [`on_error`](SocketBuilder::on_error)). Either way the socket stays open. Replaces an earlier
    /// [`on_message`](SocketBuilder::on_message) or `on_json`. Feature `serde` (on by default).
    ///
    /// ```no_run
    /// # use event_socket::{Socket, SocketError};
    /// use event_socket::payloads::ConnectionUpdate;
    ///
    /// let b = Socket::builder("ws://h/ws/events", "connection.update").on_json(
    ///     |update: Result<ConnectionUpdate, SocketError>| {
    ///         if let Ok(u) = update {
    ///             web_sys::console::log_1(&format!("{}: {:?} ({})", u.instance, u.state, u.status_reason).into());
    ///         }
    ///     },
    /// );
    /// ```
    pub fn on_json<T, F>(mut self, mut f: F) -> Self
    where
        T: DeserializeOwned + 'static,
        F: FnMut(Result<T, SocketError>) + 'static,
    {
        self.on_message = Some(MessageHandler::Typed(Box::new(
            move |value: Result<JsValue, SocketError>| {
                f(value.and_then(|v| {
                    serde_wasm_bindgen::from_value::<T>(v)
                        .map_err(|e| SocketError::Decode(e.to_string()))
                }))
            },
        )));
        self
    }

    /// Called with every state change: to `Open`, `Reconnecting` (waiting for or making a retry)
    /// and `Closed`. A new socket starts in `Connecting` ([`Socket::state`]) without a call.
    ///
    /// ```no_run
    /// # use event_socket::{Socket, State};
    /// let b = Socket::builder("ws://h/ws/events", "e").on_state_change(|state| {
    ///     if state == State::Open {
    ///         web_sys::console::log_1(&"online".into());
    ///     }
    /// });
    /// ```
    pub fn on_state_change(mut self, f: impl FnMut(State) + 'static) -> Self {
        self.on_state_change = Some(Box::new(f));
        self
    }

    /// Called with every error the socket reports (see [`SocketError`]); without it they are
    /// logged to the console.
    ///
    /// ```no_run
    /// # use event_socket::Socket;
    /// let b = Socket::builder("ws://h/ws/events", "e")
    ///     .on_error(|err| web_sys::console::warn_1(&err.to_string().into()));
    /// ```
    pub fn on_error(mut self, f: impl FnMut(SocketError) + 'static) -> Self {
        self.on_error = Some(Box::new(f));
        self
    }

    /// Called each time the connection opens.
    ///
    /// ```no_run
    /// # use event_socket::Socket;
    /// let b = Socket::builder("ws://h/ws/events", "e").on_open(|| web_sys::console::log_1(&"open".into()));
    /// ```
    pub fn on_open(mut self, f: impl FnMut() + 'static) -> Self {
        self.on_open = Some(Box::new(f));
        self
    }

    /// Called each time the connection closes, with the code, reason and whether a retry follows.
    ///
    /// ```no_run
    /// # use event_socket::Socket;
    /// let b = Socket::builder("ws://h/ws/events", "e").on_close(|info| {
    ///     web_sys::console::log_1(&format!("closed {} retry: {}", info.code, info.will_reconnect).into());
    /// });
    /// ```
    pub fn on_close(mut self, f: impl FnMut(CloseInfo) + 'static) -> Self {
        self.on_close = Some(Box::new(f));
        self
    }

    /// Called when a retry is scheduled, with its number and delay.
    ///
    /// ```no_run
    /// # use event_socket::Socket;
    /// let b = Socket::builder("ws://h/ws/events", "e").on_reconnect(|r| {
    ///     web_sys::console::log_1(&format!("retry {} in {} ms", r.attempt, r.delay_ms).into());
    /// });
    /// ```
    pub fn on_reconnect(mut self, f: impl FnMut(ReconnectInfo) + 'static) -> Self {
        self.on_reconnect = Some(Box::new(f));
        self
    }

    /// Checks the settings and subscribes: joins a shared connection or starts connecting (the
    /// socket is [`State::Connecting`] when this returns; sends are queued until it is open).
    ///
    /// Errors: [`SocketError::Url`] for an unusable URL, [`SocketError::Options`] for an empty event
    /// name or a value out of range. Never panics.
    ///
    /// ```no_run
    /// # use event_socket::{Socket, SocketError};
    /// match Socket::builder("http://wrong", "e").connect() {
    ///     Err(SocketError::Url(why)) => web_sys::console::warn_1(&why.into()),
    ///     _ => {}
    /// }
    /// ```
    pub fn connect(self) -> Result<Socket, SocketError> {
        if self.event.is_empty() {
            return Err(SocketError::Options {
                field: "event".into(),
                problem: "must not be empty, e.g. \"messages.upsert\"".into(),
            });
        }
        let url = self.opts.url.clone().unwrap_or_default();
        url::resolve(&url, crate::host::page_url).map_err(|e| SocketError::Url(e.to_string()))?;
        let mut opts = self.opts;
        let live = Rc::new(Cell::new(true));
        let mut closures = Closures::default();

        let mut typed: Option<Rc<RefCell<TypedHandler>>> = None;
        // Only a raw handler reads the MessageEvent (see `Subscriber::takes_event`).
        let takes_event = matches!(self.on_message, Some(MessageHandler::Raw(_)));
        let message = match self.on_message {
            Some(MessageHandler::Raw(mut f)) => {
                let live = live.clone();
                Closure::<dyn FnMut(JsValue, MessageEvent)>::new(
                    move |data: JsValue, event: MessageEvent| {
                        if live.get() {
                            f(data, event);
                        }
                    },
                )
            }
            Some(MessageHandler::Typed(f)) => {
                opts.parse = Some(ParseMode::Json);
                let f = Rc::new(RefCell::new(f));
                typed = Some(f.clone());
                let live = live.clone();
                Closure::<dyn FnMut(JsValue, MessageEvent)>::new(
                    move |data: JsValue, _event: MessageEvent| {
                        if live.get() {
                            if let Ok(mut f) = f.try_borrow_mut() {
                                (*f)(Ok(data));
                            }
                        }
                    },
                )
            }
            None => Closure::<dyn FnMut(JsValue, MessageEvent)>::new(
                |_data: JsValue, _event: MessageEvent| {},
            ),
        };
        let callback: Function = message.as_ref().unchecked_ref::<Function>().clone();
        closures.message = Some(message);

        let mut hooks = Hooks::<Function>::default();
        if let Some(mut f) = self.on_state_change {
            let live = live.clone();
            let c = Closure::<dyn FnMut(JsValue)>::new(move |state: JsValue| {
                let state = match state.as_string().as_deref() {
                    Some("connecting") => State::Connecting,
                    Some("open") => State::Open,
                    Some("reconnecting") => State::Reconnecting,
                    Some("closed") => State::Closed,
                    _ => return,
                };
                if live.get() {
                    f(state);
                }
            });
            hooks.on_state_change = Some(c.as_ref().unchecked_ref::<Function>().clone());
            closures.one.push(c);
        }
        if let Some(mut f) = self.on_open {
            let live = live.clone();
            let c = Closure::<dyn FnMut(JsValue)>::new(move |_event: JsValue| {
                if live.get() {
                    f();
                }
            });
            hooks.on_open = Some(c.as_ref().unchecked_ref::<Function>().clone());
            closures.one.push(c);
        }
        if let Some(mut f) = self.on_reconnect {
            let live = live.clone();
            let c = Closure::<dyn FnMut(JsValue)>::new(move |info: JsValue| {
                if live.get() {
                    f(ReconnectInfo {
                        attempt: number(&info, "attempt").unwrap_or(0.0) as u32,
                        delay_ms: number(&info, "delay").unwrap_or(0.0),
                    });
                }
            });
            hooks.on_reconnect = Some(c.as_ref().unchecked_ref::<Function>().clone());
            closures.one.push(c);
        }
        if let Some(mut f) = self.on_close {
            let live = live.clone();
            let c = Closure::<dyn FnMut(JsValue, JsValue)>::new(
                move |event: JsValue, info: JsValue| {
                    if !live.get() {
                        return;
                    }
                    let (code, reason, was_clean) = match event.dyn_ref::<web_sys::CloseEvent>() {
                        Some(e) => (e.code(), e.reason(), e.was_clean()),
                        None => (1006, String::new(), false),
                    };
                    f(CloseInfo {
                        code,
                        reason,
                        was_clean,
                        will_reconnect: Reflect::get(&info, &"willReconnect".into())
                            .is_ok_and(|v| v.is_truthy()),
                        delay_ms: number(&info, "delay"),
                    });
                },
            );
            hooks.on_close = Some(c.as_ref().unchecked_ref::<Function>().clone());
            closures.two.push(c);
        }
        if self.on_error.is_some() || typed.is_some() {
            let mut user = self.on_error;
            let live = live.clone();
            let c = Closure::<dyn FnMut(JsValue)>::new(move |err: JsValue| {
                if !live.get() {
                    // Torn down: your callbacks are gone, but nothing is dropped silently.
                    crate::host::log(true, &err, &JsValue::UNDEFINED);
                    return;
                }
                let e = SocketError::from_js(&err);
                if matches!(e, SocketError::Parse { .. }) {
                    if let Some(Ok(mut t)) = typed.as_ref().map(|t| t.try_borrow_mut()) {
                        (*t)(Err(e));
                        return;
                    }
                }
                match &mut user {
                    Some(f) => f(e),
                    None => crate::host::log(true, &err, &JsValue::UNDEFINED),
                }
            });
            hooks.on_error = Some(c.as_ref().unchecked_ref::<Function>().clone());
            closures.one.push(c);
        }
        opts.hooks = hooks;

        // Checked here (not only by the hub) so that the error names the builder method.
        opts.resolve().map_err(SocketError::from_options)?;
        let (conn, sub) = hub::subscribe(self.event, callback, hub::defaults().merged_with(&opts))
            .map_err(|e| SocketError::from_js(&e))?;
        sub.takes_event.set(takes_event);
        Ok(Socket {
            conn: RefCell::new(conn),
            sub,
            live,
            closures: Some(closures),
            on_drop: None,
        })
    }

    /// [`connect`](SocketBuilder::connect), with the messages as a [`futures_core::Stream`] of
    /// `Result<T, SocketError>` (decoded as [`on_json`](SocketBuilder::on_json) decodes them, which
    /// this replaces) holding at most `capacity` untaken messages: when full, the oldest is
    /// dropped and the consumer's next item is [`SocketError::Lagged`]. The stream ends when the
    /// connection closes for good or the `Socket` is dropped. Feature `stream` (on by default).
    ///
    /// ```no_run
    /// # use event_socket::{Socket, SocketError};
    /// # async fn run() -> Result<(), SocketError> {
    /// use event_socket::payloads::MessagesUpsert;
    /// use event_socket::stream::Stream;
    /// use std::pin::Pin;
    ///
    /// let (_socket, mut messages) = Socket::builder("ws://h/ws/events", "messages.upsert")
    ///     .token("eyJ...")
    ///     .connect_stream::<MessagesUpsert>(1000)?;
    /// while let Some(m) =
    ///     std::future::poll_fn(|cx| Pin::new(&mut messages).poll_next(cx)).await
    /// {
    ///     match m {
    ///         Ok(m) => web_sys::console::log_1(&m.sender().into()),
    ///         Err(e) => web_sys::console::warn_1(&e.to_string().into()), // Lagged, Decode, Parse
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "stream")]
    pub fn connect_stream<T: DeserializeOwned + 'static>(
        mut self,
        capacity: usize,
    ) -> Result<(Socket, crate::stream::Messages<T>), SocketError> {
        use crate::stream::{Messages, Queue};
        let queue = Queue::new(capacity);
        let (fill, end, end_on_drop) = (queue.clone(), queue.clone(), queue.clone());
        let mut user_state = self.on_state_change.take();
        let mut socket = self
            .on_json(move |item: Result<T, SocketError>| fill.borrow_mut().push(item))
            .on_state_change(move |state| {
                if let Some(f) = user_state.as_mut() {
                    f(state);
                }
                if state == State::Closed {
                    end.borrow_mut().end();
                }
            })
            .connect()?;
        socket.on_drop = Some(Box::new(move || end_on_drop.borrow_mut().end()));
        Ok((socket, Messages::new(queue)))
    }
}

fn number(obj: &JsValue, key: &str) -> Option<f64> {
    Reflect::get(obj, &JsValue::from_str(key))
        .ok()
        .and_then(|v| v.as_f64())
}

/// The closures the core calls, owned by the [`Socket`].
#[derive(Default)]
struct Closures {
    message: Option<Closure<dyn FnMut(JsValue, MessageEvent)>>,
    one: Vec<Closure<dyn FnMut(JsValue)>>,
    two: Vec<Closure<dyn FnMut(JsValue, JsValue)>>,
}

/// One subscription to one event: receives its messages through the builder's callbacks, sends,
/// and closes when dropped.
///
/// Made by [`Socket::builder`] … [`connect`](SocketBuilder::connect). Keep it as long as you want
/// the messages: **dropping it closes the subscription** (and the connection, unless another
/// subscription shares it) and none of its callbacks runs afterwards. Not `Send`: it lives on the
/// browser's main thread, like everything of the DOM.
///
/// ```no_run
/// # use event_socket::{Socket, SocketError};
/// # fn demo() -> Result<(), SocketError> {
/// let socket = Socket::builder("ws://localhost:8084/echo", "chat")
///     .on_message(|data, _| web_sys::console::log_1(&data))
///     .connect()?;
/// socket.send_text("hello")?; // queued until open
/// # Ok(())
/// # }
/// ```
pub struct Socket {
    conn: RefCell<Rc<Connection>>,
    sub: Rc<Subscriber>,
    /// Cleared on drop: from then on the closures do nothing.
    live: Rc<Cell<bool>>,
    closures: Option<Closures>,
    /// Run on drop (a stream's end).
    on_drop: Option<Box<dyn FnOnce()>>,
}

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket")
            .field("url", &self.url())
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

impl Socket {
    /// Starts building a socket for `event` on `url` (`ws://`, `wss://`, or a path such as
    /// `/ws/events` resolved against the page).
    ///
    /// ```no_run
    /// # use event_socket::Socket;
    /// let socket = Socket::builder("ws://localhost:8084/ws/events", "messages.upsert")
    ///     .token("eyJ...")
    ///     .on_message(|data, _| web_sys::console::log_1(&data))
    ///     .connect();
    /// ```
    pub fn builder(url: impl Into<String>, event: impl Into<String>) -> SocketBuilder {
        SocketBuilder {
            event: event.into(),
            opts: PartialOptions {
                url: Some(url.into()),
                ..PartialOptions::default()
            },
            on_message: None,
            on_open: None,
            on_close: None,
            on_error: None,
            on_reconnect: None,
            on_state_change: None,
        }
    }

    /// The current state; [`State::Closed`] after [`close`](Socket::close) or when retries are
    /// exhausted.
    ///
    /// ```no_run
    /// # use event_socket::{Socket, State};
    /// # fn f(socket: &Socket) {
    /// if socket.state() == State::Open { /* … */ }
    /// # }
    /// ```
    pub fn state(&self) -> State {
        if self.sub.closed.get() {
            State::Closed
        } else {
            self.conn.borrow().state()
        }
    }

    /// Consecutive failed attempts so far.
    ///
    /// ```no_run
    /// # use event_socket::Socket;
    /// # fn f(socket: &Socket) {
    /// let n: u32 = socket.retries();
    /// # }
    /// ```
    pub fn retries(&self) -> u32 {
        self.conn.borrow().retries()
    }

    /// Which tab holds the socket: this one ([`Role::Leader`]), another of this origin that
    /// relays it ([`Role::Follower`]), or none shared ([`Role::Page`]: `share` is `Page` or
    /// `Off`, or the browser cannot share across tabs).
    ///
    /// ```no_run
    /// # use event_socket::{Role, Socket};
    /// # fn f(socket: &Socket) {
    /// let leads = socket.role() == Role::Leader;
    /// # }
    /// ```
    pub fn role(&self) -> Role {
        self.conn.borrow().role()
    }

    /// Tabs sharing the socket, this one included (1 when not shared across tabs).
    pub fn tabs(&self) -> u32 {
        self.conn.borrow().tab_count()
    }

    /// The connection URL with the token redacted.
    ///
    /// ```no_run
    /// # use event_socket::Socket;
    /// # fn f(socket: &Socket) {
    /// web_sys::console::log_1(&socket.url().into()); // ws://…?event=e&token=***
    /// # }
    /// ```
    pub fn url(&self) -> String {
        self.conn.borrow().display_url()
    }

    /// The event name this socket subscribes to.
    ///
    /// ```no_run
    /// # use event_socket::Socket;
    /// # fn f(socket: &Socket) {
    /// assert_eq!(socket.event_name(), "messages.upsert");
    /// # }
    /// ```
    pub fn event_name(&self) -> String {
        self.conn.borrow().event.clone()
    }

    /// Sends a text message: now if open, else queued and sent in order on open.
    ///
    /// Errors: [`SocketError::QueueFull`] (also reported to `on_error`), [`SocketError::Closed`].
    ///
    /// ```no_run
    /// # use event_socket::{Socket, SocketError};
    /// # fn f(socket: &Socket) -> Result<(), SocketError> {
    /// socket.send_text("ping")?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_text(&self, text: &str) -> Result<(), SocketError> {
        self.send_value(JsValue::from_str(text))
    }

    /// Sends `value` as JSON text (through `serde-wasm-bindgen` and `JSON.stringify`). Feature
    /// `serde` (on by default).
    ///
    /// Errors: [`SocketError::Encode`] when the value has no JSON form (a map with non-string
    /// keys, an integer beyond 2^53), and those of [`send_text`](Socket::send_text).
    ///
    /// ```no_run
    /// # use event_socket::{Socket, SocketError};
    /// #[derive(serde::Serialize)]
    /// struct Outgoing<'a> { message: &'a str }
    ///
    /// # fn f(socket: &Socket) -> Result<(), SocketError> {
    /// socket.send_json(&Outgoing { message: "test data" })?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_json<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), SocketError> {
        let serializer = serde_wasm_bindgen::Serializer::json_compatible();
        let js = value
            .serialize(&serializer)
            .map_err(|e| SocketError::Encode(e.to_string()))?;
        let text = match json_stringify(&js) {
            Ok(t) if t.is_string() => t,
            Ok(_) => return Err(SocketError::Encode("the value has no JSON form".into())),
            Err(e) => {
                return Err(SocketError::Encode(
                    e.dyn_ref::<js_sys::Error>()
                        .map(|e| String::from(e.message()))
                        .unwrap_or_else(|| "JSON.stringify failed".into()),
                ))
            }
        };
        self.send_value(text)
    }

    /// Sends a binary message (the bytes are copied; queued like text while not open).
    ///
    /// ```no_run
    /// # use event_socket::{Socket, SocketError};
    /// # fn f(socket: &Socket) -> Result<(), SocketError> {
    /// socket.send_bytes(&[1, 2, 3])?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_bytes(&self, bytes: &[u8]) -> Result<(), SocketError> {
        self.send_value(js_sys::Uint8Array::from(bytes).into())
    }

    fn send_value(&self, msg: JsValue) -> Result<(), SocketError> {
        if self.sub.closed.get() {
            return Err(SocketError::Closed);
        }
        let conn = self.conn.borrow().clone();
        if conn.send(msg) {
            Ok(())
        } else if conn.state() == State::Closed {
            Err(SocketError::Closed)
        } else {
            Err(SocketError::QueueFull)
        }
    }

    /// Closes for good with code 1000: never reconnects; `on_state_change(Closed)` and `on_close`
    /// still run. Safe to call twice. Dropping the socket does the same, silently.
    ///
    /// ```no_run
    /// # use event_socket::Socket;
    /// # fn f(socket: &Socket) {
    /// socket.close();
    /// # }
    /// ```
    pub fn close(&self) {
        let conn = self.conn.borrow().clone();
        hub::unsubscribe(&conn, &self.sub, 1000, String::new());
    }

    /// Closes for good with a close code (1000 or 3000..=4999) and a reason (at most 123 bytes).
    ///
    /// ```no_run
    /// # use event_socket::{Socket, SocketError};
    /// # fn f(socket: &Socket) -> Result<(), SocketError> {
    /// socket.close_with(4000, "logged out")?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn close_with(&self, code: u16, reason: &str) -> Result<(), SocketError> {
        if code != 1000 && !(3000..=4999).contains(&code) {
            return Err(SocketError::Options {
                field: "close_with".into(),
                problem: format!("code must be 1000 or in 3000..=4999, got {code}"),
            });
        }
        if reason.len() > 123 {
            return Err(SocketError::Options {
                field: "close_with".into(),
                problem: "reason must be at most 123 bytes of UTF-8".into(),
            });
        }
        let conn = self.conn.borrow().clone();
        hub::unsubscribe(&conn, &self.sub, code, reason.to_string());
        Ok(())
    }

    /// A fresh attempt now, with the backoff reset; revives a socket that gave up. Does nothing
    /// after [`close`](Socket::close).
    ///
    /// ```no_run
    /// # use event_socket::Socket;
    /// # fn f(socket: &Socket) {
    /// socket.reconnect();
    /// # }
    /// ```
    pub fn reconnect(&self) {
        if !self.sub.closed.get() {
            let conn = self.conn.borrow().clone();
            if let Some(joined) = hub::reconnect(&conn, &self.sub) {
                *self.conn.borrow_mut() = joined;
            }
        }
    }
}

impl Drop for Socket {
    /// Closes the subscription (the connection too, unless shared with another subscription),
    /// silently: none of this socket's callbacks runs from here on.
    fn drop(&mut self) {
        self.live.set(false);
        let conn = self.conn.borrow().clone();
        hub::unsubscribe(&conn, &self.sub, 1000, String::new());
        if let Some(f) = self.on_drop.take() {
            f();
        }
        if let Some(closures) = self.closures.take() {
            // Freed once the current dispatch is over: a socket dropped from inside a callback must
            // not leave the core, still iterating its subscribers, with a dead function.
            // `once_into_js` frees the function after its one call, and a microtask always runs.
            queue_microtask(&Closure::once_into_js(move || drop(closures)));
        }
    }
}
