//! Options: defaults, merging (`configure()` then per-socket), and validation, in plain Rust.
//!
//! `F` is the type of a caller-supplied function (a `js_sys::Function` in the browser); keeping it
//! generic lets native tests cover every rule without a browser. Every error names the option,
//! because the message ends up in a `TypeError` a web developer reads in the console.

use std::fmt;

use crate::backoff::Backoff;
use crate::machine::{Config, Heartbeat};

/// How text frames reach the callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ParseMode {
    /// `JSON.parse` first; a failure is reported (kind `parse`) and the socket stays open.
    #[default]
    Json,
    /// The raw string, unparsed.
    Text,
}

/// The socket's `binaryType`: what binary frames reach the callback as (they are never parsed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BinaryType {
    /// An `ArrayBuffer`, readable at once.
    #[default]
    ArrayBuffer,
    /// A `Blob`, read asynchronously.
    Blob,
}

/// `share`: which subscriptions may use one connection (and so one socket).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Share {
    /// `true`: the same URL, event and instance share one socket across the tabs and windows of
    /// this origin in this browser profile (see `tabs`), and within the page where the browser
    /// cannot coordinate tabs.
    #[default]
    Tabs,
    /// `"page"`: shared within this page only; every tab has its own socket.
    Page,
    /// `false`: a socket of its own.
    Off,
}

impl From<bool> for Share {
    fn from(share: bool) -> Self {
        if share {
            Share::Tabs
        } else {
            Share::Off
        }
    }
}

/// A token given once, or a function called before every attempt (fresh tokens).
#[derive(Debug, Clone, PartialEq)]
pub enum Token<F> {
    /// Sent with every attempt; connections for the same instance can be shared (see `hub`).
    Static(String),
    /// Called before every attempt (may return a promise); shared only with the same function.
    Dynamic(F),
}

/// The heartbeat as given; `message` is sent as text.
#[derive(Debug, Clone, PartialEq)]
pub struct HeartbeatSpec {
    /// Milliseconds between heartbeats; must be > 0.
    pub interval: f64,
    /// Milliseconds after a heartbeat within which any inbound message must arrive; must be > 0.
    pub timeout: f64,
    /// The text frame to send.
    pub message: String,
}

/// The lifecycle hooks of one subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct Hooks<F> {
    /// `onOpen(event)`.
    pub on_open: Option<F>,
    /// `onClose(closeEvent, { willReconnect, delay })`.
    pub on_close: Option<F>,
    /// `onError(error)`, with `error.kind`.
    pub on_error: Option<F>,
    /// `onReconnect({ attempt, delay })`, called when a retry is scheduled.
    pub on_reconnect: Option<F>,
    /// `onStateChange(state)`.
    pub on_state_change: Option<F>,
}

impl<F> Default for Hooks<F> {
    fn default() -> Self {
        Self::none()
    }
}

impl<F> Hooks<F> {
    /// No hooks (`const`, for module-wide state).
    pub const fn none() -> Self {
        Hooks {
            on_open: None,
            on_close: None,
            on_error: None,
            on_reconnect: None,
            on_state_change: None,
        }
    }
}

/// Options as the caller gave them: every field optional, so `configure()` defaults and
/// per-socket options can be layered.
#[derive(Debug, Clone, PartialEq)]
pub struct PartialOptions<F> {
    /// `url`: `ws://`/`wss://` or a path resolved against the page; required once merged.
    pub url: Option<String>,
    /// `token` (default: empty).
    pub token: Option<Token<F>>,
    /// `params`: extra query parameters, placed before `event` and `token`.
    pub params: Option<Vec<(String, String)>>,
    /// `reconnectInterval`: ms before the first retry (default 1000).
    pub reconnect_interval: Option<f64>,
    /// `maxReconnectInterval`: cap on the delay in ms (default 30000).
    pub max_reconnect_interval: Option<f64>,
    /// `backoffFactor`: >= 1 (default 2); 1 gives the classic fixed delay.
    pub backoff_factor: Option<f64>,
    /// `jitter`: randomized fraction of each delay, 0 to 1 (default 0.5).
    pub jitter: Option<f64>,
    /// `maxRetries`: a whole number or `Infinity` (default); `f64` as JavaScript passes it.
    pub max_retries: Option<f64>,
    /// `minUptime`: ms open before the retry count resets (default 5000).
    pub min_uptime: Option<f64>,
    /// `connectTimeout`: ms (default 10000); 0 or `Infinity` means none.
    pub connect_timeout: Option<f64>,
    /// `Some(None)`: explicitly off (`heartbeat: null`).
    pub heartbeat: Option<Option<HeartbeatSpec>>,
    /// `queueLimit`: a whole number or `Infinity` (default 1000).
    pub queue_limit: Option<f64>,
    /// `parse` (default JSON).
    pub parse: Option<ParseMode>,
    /// `binaryType` (default `ArrayBuffer`).
    pub binary_type: Option<BinaryType>,
    /// `share` (default true): the same URL, event and instance (a JWT's `instanceName`, else the
    /// token; a token function by identity) share one connection; see [`Share`].
    pub share: Option<Share>,
    /// `shouldReconnect(closeEvent)`: false stops after that close (default: always retry).
    pub should_reconnect: Option<F>,
    /// `debug`: log the lifecycle to the console, token redacted (default false).
    pub debug: Option<bool>,
    /// The hooks, merged one by one.
    pub hooks: Hooks<F>,
}

impl<F> Default for PartialOptions<F> {
    fn default() -> Self {
        Self::none()
    }
}

impl<F> PartialOptions<F> {
    /// Nothing given (`const`, for module-wide state).
    pub const fn none() -> Self {
        PartialOptions {
            url: None,
            token: None,
            params: None,
            reconnect_interval: None,
            max_reconnect_interval: None,
            backoff_factor: None,
            jitter: None,
            max_retries: None,
            min_uptime: None,
            connect_timeout: None,
            heartbeat: None,
            queue_limit: None,
            parse: None,
            binary_type: None,
            share: None,
            should_reconnect: None,
            debug: None,
            hooks: Hooks::none(),
        }
    }
}

/// Validated options for one subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct Options<F> {
    /// As given: not yet resolved against the page (see [`crate::url::resolve`]).
    pub url: String,
    /// An empty static token when none was given.
    pub token: Token<F>,
    /// Extra query parameters, in the caller's order.
    pub params: Vec<(String, String)>,
    /// What the state machine needs.
    pub config: Config,
    /// Empty when the heartbeat is off.
    pub heartbeat_message: String,
    /// How text frames reach the callback.
    pub parse: ParseMode,
    /// What binary frames reach the callback as.
    pub binary_type: BinaryType,
    /// Who may share the connection.
    pub share: Share,
    /// `None`: always retry.
    pub should_reconnect: Option<F>,
    /// Log the lifecycle to the console.
    pub debug: bool,
    /// Per subscription, even on a shared connection.
    pub hooks: Hooks<F>,
}

/// A bad option: `field` is the camelCase name the caller wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionsError {
    /// The option's camelCase name, e.g. `"reconnectInterval"`.
    pub field: &'static str,
    /// What is wrong, phrased to follow the name (`"must be …"`).
    pub problem: String,
}

impl OptionsError {
    /// `problem` continues the sentence after the option's name.
    pub fn new(field: &'static str, problem: impl Into<String>) -> Self {
        OptionsError {
            field,
            problem: problem.into(),
        }
    }
}

impl OptionsError {
    /// The full sentence for the `TypeError`, prefixed with `event-socket: option`.
    pub fn message(&self) -> String {
        format!("event-socket: option `{}` {}", self.field, self.problem)
    }
}

impl fmt::Display for OptionsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

/// A number as JavaScript's `String(n)` writes it (`0.5`, `3000`, `NaN`, `Infinity`): messages
/// quote what the caller passed, in the caller's language. In the browser JavaScript itself
/// writes it; natively (tests, tools) Rust's shortest round-trip digits, which are the same for
/// numbers below 1e21. Why not `format!` in the browser too: `f64`'s `Display` is 18 KB of
/// wasm (a fifth of the module) for the sake of a few error messages.
pub fn num(v: f64) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Number::from(v)
            .to_string_with_radix(10)
            .map(String::from)
            .unwrap_or_default()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        if v.is_nan() {
            "NaN".into()
        } else if v.is_infinite() {
            if v > 0.0 { "Infinity" } else { "-Infinity" }.into()
        } else {
            format!("{v}")
        }
    }
}

/// "`must …, got v`": one function for every numeric check, not one inlined message per check.
#[inline(never)]
fn got(field: &'static str, must: &str, v: f64) -> OptionsError {
    OptionsError::new(field, format!("{must}{}", num(v)))
}

/// `v` is a whole number (and finite).
fn is_whole(v: f64) -> bool {
    v.is_finite() && v.fract() == 0.0
}

/// Browsers clamp longer `setTimeout` delays to 1 ms; a larger delay is treated as "never".
const MAX_TIMER_MS: f64 = 2_147_483_647.0;

/// A delay option: given (checked) or its default.
fn ms(field: &'static str, v: Option<f64>, default: f64) -> Result<f64, OptionsError> {
    checked_ms(field, v.unwrap_or(default))
}

/// A number of milliseconds >= 0, capped at what a browser timer takes.
fn checked_ms(field: &'static str, v: f64) -> Result<f64, OptionsError> {
    if v.is_nan() || v < 0.0 {
        return Err(got(field, "must be a number of milliseconds >= 0, got ", v));
    }
    Ok(v.min(MAX_TIMER_MS))
}

impl<F: Clone> PartialOptions<F> {
    /// `over` wins field by field (hooks too).
    pub fn merged_with(&self, over: &PartialOptions<F>) -> PartialOptions<F> {
        fn pick<T: Clone>(a: &Option<T>, b: &Option<T>) -> Option<T> {
            b.clone().or_else(|| a.clone())
        }
        PartialOptions {
            url: pick(&self.url, &over.url),
            token: pick(&self.token, &over.token),
            params: pick(&self.params, &over.params),
            reconnect_interval: pick(&self.reconnect_interval, &over.reconnect_interval),
            max_reconnect_interval: pick(
                &self.max_reconnect_interval,
                &over.max_reconnect_interval,
            ),
            backoff_factor: pick(&self.backoff_factor, &over.backoff_factor),
            jitter: pick(&self.jitter, &over.jitter),
            max_retries: pick(&self.max_retries, &over.max_retries),
            min_uptime: pick(&self.min_uptime, &over.min_uptime),
            connect_timeout: pick(&self.connect_timeout, &over.connect_timeout),
            heartbeat: pick(&self.heartbeat, &over.heartbeat),
            queue_limit: pick(&self.queue_limit, &over.queue_limit),
            parse: pick(&self.parse, &over.parse),
            binary_type: pick(&self.binary_type, &over.binary_type),
            share: pick(&self.share, &over.share),
            should_reconnect: pick(&self.should_reconnect, &over.should_reconnect),
            debug: pick(&self.debug, &over.debug),
            hooks: Hooks {
                on_open: pick(&self.hooks.on_open, &over.hooks.on_open),
                on_close: pick(&self.hooks.on_close, &over.hooks.on_close),
                on_error: pick(&self.hooks.on_error, &over.hooks.on_error),
                on_reconnect: pick(&self.hooks.on_reconnect, &over.hooks.on_reconnect),
                on_state_change: pick(&self.hooks.on_state_change, &over.hooks.on_state_change),
            },
        }
    }

    /// Applies the defaults of the options table and checks every value.
    pub fn resolve(&self) -> Result<Options<F>, OptionsError> {
        let url =
            match &self.url {
                Some(u) if !crate::url::trim(u).is_empty() => u.clone(),
                _ => return Err(OptionsError::new(
                    "url",
                    "is required: pass it to configure() or to socket() (ws://, wss:// or a path)",
                )),
            };
        self.resolve_with(url)
    }

    /// Checks every value but the URL, which `configure()` may leave to each `socket()`.
    pub fn check(&self) -> Result<(), OptionsError> {
        self.resolve_with(String::new()).map(drop)
    }

    fn resolve_with(&self, url: String) -> Result<Options<F>, OptionsError> {
        // The client adds `event` and `token` itself; a second one would be read by some servers.
        let params = self.params.as_deref().unwrap_or_default();
        if let Some((key, _)) = params.iter().find(|(k, _)| k == "event" || k == "token") {
            return Err(OptionsError::new(
                "params",
                format!("must not set `{key}`: the client adds it (from eventName and the token option)"),
            ));
        }
        // The defaults of the options table live in one place: `Config::default()`.
        let d = Config::default();
        let initial = ms(
            "reconnectInterval",
            self.reconnect_interval,
            d.backoff.initial,
        )?;
        let max = ms(
            "maxReconnectInterval",
            self.max_reconnect_interval,
            d.backoff.max,
        )?;
        let factor = self.backoff_factor.unwrap_or(d.backoff.factor);
        if !(factor >= 1.0 && factor.is_finite()) {
            return Err(got(
                "backoffFactor",
                "must be a finite number >= 1, got ",
                factor,
            ));
        }
        let jitter = self.jitter.unwrap_or(d.backoff.jitter);
        if !(0.0..=1.0).contains(&jitter) {
            return Err(got("jitter", "must be between 0 and 1, got ", jitter));
        }
        let max_retries = match self.max_retries {
            None => None,
            Some(v) if v == f64::INFINITY => None,
            Some(v) if v >= 0.0 && is_whole(v) => Some(v.min(u32::MAX as f64) as u32),
            Some(v) => {
                return Err(got(
                    "maxRetries",
                    "must be a whole number >= 0 or Infinity, got ",
                    v,
                ))
            }
        };
        let min_uptime = ms("minUptime", self.min_uptime, d.min_uptime)?;
        let connect_timeout = match self.connect_timeout {
            Some(v) if v == f64::INFINITY || v == 0.0 => None,
            Some(v) => Some(checked_ms("connectTimeout", v)?),
            None => d.connect_timeout,
        };
        let (heartbeat, heartbeat_message) = match self.heartbeat.clone().flatten() {
            None => (None, String::new()),
            Some(h) => {
                if !(h.interval > 0.0 && h.interval.is_finite()) {
                    return Err(got(
                        "heartbeat",
                        "interval must be a number of milliseconds > 0, got ",
                        h.interval,
                    ));
                }
                if !(h.timeout > 0.0 && h.timeout.is_finite()) {
                    return Err(got(
                        "heartbeat",
                        "timeout must be a number of milliseconds > 0, got ",
                        h.timeout,
                    ));
                }
                (
                    Some(Heartbeat {
                        interval: h.interval.min(MAX_TIMER_MS),
                        timeout: h.timeout.min(MAX_TIMER_MS),
                    }),
                    h.message,
                )
            }
        };
        let queue_limit = match self.queue_limit {
            None => d.queue_limit,
            Some(v) if v == f64::INFINITY => usize::MAX,
            Some(v) if v >= 0.0 && is_whole(v) => v as usize,
            Some(v) => return Err(got("queueLimit", "must be a whole number >= 0, got ", v)),
        };
        Ok(Options {
            url,
            token: self
                .token
                .clone()
                .unwrap_or_else(|| Token::Static(String::new())),
            params: self.params.clone().unwrap_or_default(),
            config: Config {
                backoff: Backoff {
                    initial,
                    max,
                    factor,
                    jitter,
                },
                max_retries,
                min_uptime,
                connect_timeout,
                queue_limit,
                heartbeat,
            },
            heartbeat_message,
            parse: self.parse.unwrap_or_default(),
            binary_type: self.binary_type.unwrap_or_default(),
            share: self.share.unwrap_or_default(),
            should_reconnect: self.should_reconnect.clone(),
            debug: self.debug.unwrap_or(false),
            hooks: self.hooks.clone(),
        })
    }
}
