//! The connection state machine: `(state, input) -> (new state, actions)`, with no browser in sight.
//!
//! Every hard bug of reconnecting clients is a decision bug: two sockets for one event, a timer
//! left running after `close()`, retries counted wrong, a queue flushed twice or out of order. Here
//! those decisions are plain data, so native tests (and property tests) can drive any sequence of
//! events; `driver` only performs the actions and feeds back what the browser reports.
//!
//! Sockets and timers are named by ids the machine hands out; an input naming a socket or timer
//! that is no longer current is stale and ignored, which is what makes "at most one live socket"
//! hold even when the browser delivers a late event from a socket we already abandoned.

use crate::backoff::{Backoff, Rng};

/// What the user sees as `state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// The first attempt is under way and nothing has failed yet.
    Connecting,
    /// A socket is open: sends go out now.
    Open,
    /// Something failed or the link was lost: a retry is pending or under way (also while offline).
    Reconnecting,
    /// For good (`close()`, `shouldReconnect` said no, or retries exhausted) until `Start` or
    /// `Reconnect`; sends are refused.
    Closed,
}

impl State {
    /// The string the JavaScript API uses (`"connecting"`, `"open"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            State::Connecting => "connecting",
            State::Open => "open",
            State::Reconnecting => "reconnecting",
            State::Closed => "closed",
        }
    }
}

/// The error kinds of the public API (`error.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A text message was not JSON; the socket stays open.
    Parse,
    /// The callback or a hook threw; nothing else is affected.
    Callback,
    /// An attempt failed before it opened (refused, unreachable, token rejected).
    Connect,
    /// The connect timeout or the heartbeat deadline expired.
    Timeout,
    /// A send while not open with `queue_limit` messages already held.
    QueueFull,
    /// The token function threw or its promise rejected.
    Token,
    /// `max_retries` consecutive failures: the machine is closed.
    RetriesExhausted,
    /// Messages still queued when the caller closed: reported, never dropped silently.
    Unsent,
}

impl ErrorKind {
    /// The JavaScript `error.kind` string (kebab-case, e.g. `"queue-full"`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Parse => "parse",
            ErrorKind::Callback => "callback",
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::QueueFull => "queue-full",
            ErrorKind::Token => "token",
            ErrorKind::RetriesExhausted => "retries-exhausted",
            ErrorKind::Unsent => "unsent",
        }
    }
}

/// The machine's timers: at most one of each kind is armed at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimerKind {
    /// Waits out the backoff delay before the next attempt.
    Retry,
    /// Abandons an attempt not open within `connect_timeout`.
    ConnectTimeout,
    /// Sends the next heartbeat.
    HeartbeatSend,
    /// Declares the link dead when nothing arrived since the last heartbeat.
    HeartbeatDeadline,
}

/// Heartbeat timing; the message itself belongs to the driver.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Heartbeat {
    /// Milliseconds between heartbeats.
    pub interval: f64,
    /// Milliseconds after a heartbeat within which any inbound message (not necessarily a reply)
    /// must arrive, or the link is considered dead.
    pub timeout: f64,
}

/// The settings the decisions depend on (validated by `options`).
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Shapes the delay before each retry.
    pub backoff: Backoff,
    /// `None`: retry forever.
    pub max_retries: Option<u32>,
    /// Milliseconds a connection must stay open before the retry count resets, so a server that
    /// accepts and then drops at once still gets backed off from.
    pub min_uptime: f64,
    /// `None`: no timeout.
    pub connect_timeout: Option<f64>,
    /// Messages held while not open; a send beyond it is refused (`Sent::QueueFull`).
    pub queue_limit: usize,
    /// `None` (the default): no heartbeat.
    pub heartbeat: Option<Heartbeat>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            backoff: Backoff::default(),
            max_retries: None,
            min_uptime: 5000.0,
            connect_timeout: Some(10000.0),
            queue_limit: 1000,
            heartbeat: None,
        }
    }
}

/// What the browser (or the caller) reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Input<M> {
    /// Begin connecting; ignored unless idle or closed. Resets the retry count.
    Start,
    /// The token for attempt `socket` is ready: the machine answers with `OpenSocket`.
    TokenReady {
        /// The id from `ResolveToken`; a stale one is ignored.
        socket: u64,
    },
    /// Getting the token failed: counts as a failed attempt.
    TokenFailed {
        /// The id from `ResolveToken`; a stale one is ignored.
        socket: u64,
    },
    /// The socket's `open` event.
    Opened {
        /// The id from `OpenSocket`; a stale one is ignored.
        socket: u64,
        /// Milliseconds (the driver: `Date.now()`), compared with `Closed::now` for `min_uptime`.
        now: f64,
    },
    /// `retry` is the verdict of `shouldReconnect` (true when the caller gave none).
    Closed {
        /// The socket that closed; a stale one is ignored.
        socket: u64,
        /// The close code, quoted in the `Connect` error when the socket never opened.
        code: u16,
        /// `false` closes the machine for good.
        retry: bool,
        /// Milliseconds on the clock `Opened::now` used.
        now: f64,
    },
    /// The browser's `WebSocket` constructor threw for the socket `OpenSocket` asked for (a URL
    /// it cannot parse, or may not open from this page): the same URL would be refused again, so
    /// this closes for good. No `Close` note: no socket ever existed.
    Refused {
        /// The socket that could not be created; a stale one is ignored.
        socket: u64,
    },
    /// A timer armed by `SetTimer` fired.
    Timer {
        /// The kind given in `SetTimer`.
        kind: TimerKind,
        /// The id given in `SetTimer`; a cancelled or replaced timer's id is stale and ignored.
        id: u64,
        /// The driver's running count of inbound messages: the heartbeat deadline compares it
        /// with the count when the heartbeat went out.
        inbound: u64,
    },
    /// A message the caller sends; see [`Machine::send`] for the verdict.
    Send(M),
    /// The driver could not hand a `Transmit` to the socket (it was no longer open): queue it again.
    Requeue(M),
    /// The caller's `close()`: final; still-queued messages are reported as `Unsent`.
    Close {
        /// Passed to the socket's `close()`.
        code: u16,
        /// Passed to the socket's `close()`.
        reason: String,
    },
    /// The caller's `reconnect()`: drop any socket and try now with the retry count reset (from
    /// `Closed` too).
    Reconnect,
    /// The browser is back online: a pending retry happens now instead of after its delay.
    Online,
    /// The browser went offline: no retries are spent until `Online`.
    Offline,
    /// The page became visible: a pending retry (when online) happens now.
    Visible,
}

/// What the driver must do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Action<M> {
    /// Get the token (call the token function if there is one), then feed `TokenReady`/`TokenFailed`.
    ResolveToken {
        /// The id of the new attempt, to pass back in every input about it.
        socket: u64,
    },
    /// Open the WebSocket for attempt `socket`; report `Opened` or `Closed`.
    OpenSocket {
        /// The attempt's id.
        socket: u64,
    },
    /// Close the socket and detach every handler: nothing from it reaches the machine again.
    CloseSocket {
        /// The socket to close.
        socket: u64,
        /// 4000 reconnect, 4008 connect timeout, 4009 heartbeat timeout, or the caller's code.
        code: u16,
        /// The close reason to send.
        reason: String,
    },
    /// Arm a timer, replacing any of the same kind; when it fires, feed `Input::Timer`.
    SetTimer {
        /// Echo back in `Input::Timer`.
        kind: TimerKind,
        /// Echo back in `Input::Timer`.
        id: u64,
        /// The delay in milliseconds.
        ms: f64,
    },
    /// Clear the browser timer of this kind (its id is stale already: a late firing is harmless).
    CancelTimer {
        /// The timer to clear.
        kind: TimerKind,
    },
    /// Send the message on the open socket; if the socket refuses it, feed back `Input::Requeue`.
    Transmit(M),
    /// Send the heartbeat message (the machine only knows its timing).
    SendHeartbeat,
    /// Tell the hooks.
    Notify(Note),
}

/// Notifications for the hooks.
#[derive(Debug, Clone, PartialEq)]
pub enum Note {
    /// The user-visible state changed (sent only on a change).
    State(State),
    /// A socket opened; the queued messages were transmitted just before.
    Open,
    /// A socket closed (or was abandoned); `delay` is `None` when no retry is scheduled yet.
    Close {
        /// Whether a retry follows (possibly once the browser is back online).
        will_reconnect: bool,
        /// Milliseconds until the retry, when one is scheduled now.
        delay: Option<f64>,
    },
    /// A retry is scheduled.
    Reconnect {
        /// 1 for the first retry; counts consecutive failures.
        attempt: u32,
        /// Milliseconds until it, jitter included.
        delay: f64,
    },
    /// Something for `onError`.
    Error {
        /// The `error.kind`.
        kind: ErrorKind,
        /// A human-readable explanation; never contains the token.
        message: String,
    },
}

/// The verdict on a message given to `send`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// Handed to the open socket (a `Transmit` is among the actions).
    Now,
    /// Held until the next socket opens.
    Queued,
    /// Refused: `queue_limit` messages are already held (an `Error` note says so).
    QueueFull,
    /// Refused: the machine is closed for good.
    Closed,
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    Idle,
    /// Waiting for the token, then for the socket to open.
    Connecting {
        socket: u64,
        token_ready: bool,
    },
    Open {
        socket: u64,
        since: f64,
        pinged_at: Option<u64>,
    },
    /// A retry timer is armed.
    Waiting,
    /// The browser is offline: no retries are spent until it is back.
    Offline,
    Closed,
}

/// The state of one connection. `M` is the outgoing message type (a `JsValue` in the browser,
/// numbers in tests).
///
/// The driver feeds every [`Input`] to [`handle`](Machine::handle) and performs the returned
/// [`Action`]s in order. One attempt, with a message sent before the socket opens:
///
/// ```
/// use event_socket::machine::{Action, Config, Input, Machine, Note, Sent, State, TimerKind};
///
/// let mut m: Machine<&str> = Machine::new(Config::default(), 42);
///
/// // Start: arm the connect timeout and get the token first.
/// let actions = m.handle(Input::Start);
/// let socket = actions
///     .iter()
///     .find_map(|a| match a {
///         Action::ResolveToken { socket } => Some(*socket),
///         _ => None,
///     })
///     .unwrap();
/// assert_eq!(m.state(), State::Connecting);
///
/// // Not open yet: the message waits in the queue.
/// assert_eq!(m.send("hello").0, Sent::Queued);
///
/// // The token is ready: open the socket.
/// let actions = m.handle(Input::TokenReady { socket });
/// assert_eq!(actions, vec![Action::OpenSocket { socket }]);
///
/// // The browser reports it open: timeout cleared, queue flushed, then the hooks.
/// let actions = m.handle(Input::Opened { socket, now: 0.0 });
/// assert_eq!(
///     actions,
///     vec![
///         Action::CancelTimer { kind: TimerKind::ConnectTimeout },
///         Action::Transmit("hello"),
///         Action::Notify(Note::Open),
///         Action::Notify(Note::State(State::Open)),
///     ]
/// );
///
/// // A late event from a socket that is not the live one is ignored.
/// let stale = Input::Closed { socket: socket + 100, code: 1006, retry: true, now: 1.0 };
/// assert!(m.handle(stale).is_empty());
/// assert_eq!(m.state(), State::Open);
/// ```
#[derive(Debug, Clone)]
pub struct Machine<M> {
    config: Config,
    phase: Phase,
    /// Consecutive failed attempts.
    retries: u32,
    /// True until the first socket opens and while nothing has failed: `connecting` vs `reconnecting`.
    first: bool,
    online: bool,
    next_id: u64,
    timers: [Option<u64>; 4],
    queue: Vec<M>,
    /// Where the next requeued message goes: requeued messages keep their order, ahead of newer ones.
    requeue_at: usize,
    rng: Rng,
    published: State,
}

fn timer_slot(kind: TimerKind) -> usize {
    match kind {
        TimerKind::Retry => 0,
        TimerKind::ConnectTimeout => 1,
        TimerKind::HeartbeatSend => 2,
        TimerKind::HeartbeatDeadline => 3,
    }
}

/// Every timer kind, in slot order.
pub const TIMER_KINDS: [TimerKind; 4] = [
    TimerKind::Retry,
    TimerKind::ConnectTimeout,
    TimerKind::HeartbeatSend,
    TimerKind::HeartbeatDeadline,
];

impl<M> Machine<M> {
    /// `seed` drives the jitter: give each connection its own so that clients do not retry in step.
    /// Nothing happens until `Input::Start`.
    pub fn new(config: Config, seed: u64) -> Self {
        Machine {
            config,
            phase: Phase::Idle,
            retries: 0,
            first: true,
            online: true,
            next_id: 0,
            timers: [None; 4],
            queue: Vec::new(),
            requeue_at: 0,
            rng: Rng::new(seed),
            published: State::Connecting,
        }
    }

    /// The user-visible state; `Reconnecting` also covers waiting for the browser to be online.
    pub fn state(&self) -> State {
        match self.phase {
            Phase::Open { .. } => State::Open,
            Phase::Closed => State::Closed,
            Phase::Waiting | Phase::Offline => State::Reconnecting,
            Phase::Idle | Phase::Connecting { .. } if self.first => State::Connecting,
            Phase::Idle | Phase::Connecting { .. } => State::Reconnecting,
        }
    }

    /// Consecutive failed attempts; reset by `Start`, `Reconnect` and a connection that stayed
    /// open `min_uptime`.
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// The settings it was made with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Messages held for the next open.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// The socket that may still deliver events, if any (for invariant checks and the driver).
    pub fn live_socket(&self) -> Option<u64> {
        match self.phase {
            Phase::Connecting { socket, .. } | Phase::Open { socket, .. } => Some(socket),
            _ => None,
        }
    }

    /// The id of the armed timer of `kind`, if any: a test or simulation fires it by feeding
    /// [`Input::Timer`] with this id.
    pub fn armed_timer(&self, kind: TimerKind) -> Option<u64> {
        self.timers[timer_slot(kind)]
    }

    /// Timers currently armed (for invariant checks).
    pub fn armed_timers(&self) -> usize {
        self.timers.iter().filter(|t| t.is_some()).count()
    }

    /// A message from the caller: sent now, queued, or refused (the return value of `send`).
    pub fn send(&mut self, msg: M) -> (Sent, Vec<Action<M>>) {
        let mut out = Vec::new();
        let verdict = match self.phase {
            Phase::Open { .. } => {
                out.push(Action::Transmit(msg));
                Sent::Now
            }
            Phase::Closed => Sent::Closed,
            _ if self.queue.len() < self.config.queue_limit => {
                self.queue.push(msg);
                Sent::Queued
            }
            _ => {
                out.push(Action::Notify(Note::Error {
                    kind: ErrorKind::QueueFull,
                    message: format!("send queue is full ({} messages held while not open); message not accepted", self.config.queue_limit),
                }));
                Sent::QueueFull
            }
        };
        (verdict, out)
    }

    /// Another tab holds the socket now (see [`crate::tabs`]): closes the socket, cancels every
    /// timer and goes back to idle without a note (the subscribers hear what the tabs machine
    /// mirrors, not a close), and hands back the queued messages, for the tab that leads now.
    /// A later `Start` connects again. Nothing happens once closed for good.
    pub fn stop(&mut self) -> (Vec<Action<M>>, Vec<M>) {
        let mut out = Vec::new();
        if matches!(self.phase, Phase::Closed) {
            return (out, Vec::new());
        }
        if let Some(socket) = self.live_socket() {
            out.push(Action::CloseSocket {
                socket,
                code: 1000,
                reason: "another tab holds the socket".into(),
            });
        }
        self.cancel_all(&mut out);
        self.retries = 0;
        self.phase = Phase::Idle;
        // What the subscribers see now comes from the tabs machine: the next `Start` publishes
        // its state afresh.
        self.published = State::Closed;
        (out, std::mem::take(&mut self.queue))
    }

    /// Feeds one input and returns what the driver must do, in order. Inputs naming a stale socket
    /// or timer are ignored (no actions).
    pub fn handle(&mut self, input: Input<M>) -> Vec<Action<M>> {
        let mut out = Vec::new();
        match input {
            Input::Start => {
                if matches!(self.phase, Phase::Idle | Phase::Closed) {
                    self.retries = 0;
                    self.first = true;
                    self.attempt(&mut out);
                }
            }
            Input::TokenReady { socket } => {
                if let Phase::Connecting {
                    socket: s,
                    token_ready: false,
                } = self.phase
                {
                    if s == socket {
                        self.phase = Phase::Connecting {
                            socket,
                            token_ready: true,
                        };
                        out.push(Action::OpenSocket { socket });
                    }
                }
            }
            Input::TokenFailed { socket } => {
                if let Phase::Connecting {
                    socket: s,
                    token_ready: false,
                } = self.phase
                {
                    if s == socket {
                        self.phase = Phase::Idle;
                        self.cancel(TimerKind::ConnectTimeout, &mut out);
                        self.failed(true, false, &mut out);
                    }
                }
            }
            Input::Opened { socket, now } => {
                if let Phase::Connecting { socket: s, .. } = self.phase {
                    if s == socket {
                        self.cancel(TimerKind::ConnectTimeout, &mut out);
                        self.phase = Phase::Open {
                            socket,
                            since: now,
                            pinged_at: None,
                        };
                        self.first = false;
                        self.requeue_at = 0;
                        out.extend(self.queue.drain(..).map(Action::Transmit));
                        if let Some(hb) = self.config.heartbeat {
                            self.arm(TimerKind::HeartbeatSend, hb.interval, &mut out);
                        }
                        out.push(Action::Notify(Note::Open));
                        self.publish(&mut out);
                    }
                }
            }
            Input::Closed {
                socket,
                code,
                retry,
                now,
            } => {
                if self.live_socket() == Some(socket) {
                    let was_open = match self.phase {
                        Phase::Open { since, .. } => Some(now - since),
                        _ => None,
                    };
                    self.phase = Phase::Idle;
                    for kind in [
                        TimerKind::ConnectTimeout,
                        TimerKind::HeartbeatSend,
                        TimerKind::HeartbeatDeadline,
                    ] {
                        self.cancel(kind, &mut out);
                    }
                    if was_open.is_some_and(|up| up >= self.config.min_uptime) {
                        self.retries = 0;
                    }
                    if was_open.is_none() {
                        out.push(Action::Notify(Note::Error {
                            kind: ErrorKind::Connect,
                            message: format!("connection failed before it opened (close code {code}): refused, unreachable, or the token or event was rejected"),
                        }));
                    }
                    if retry {
                        self.failed(false, true, &mut out);
                    } else {
                        self.close_for_good(true, None, &mut out);
                    }
                }
            }
            Input::Refused { socket } => {
                if self.live_socket() == Some(socket) {
                    self.close_for_good(false, None, &mut out);
                }
            }
            Input::Timer { kind, id, inbound } => {
                if self.timers[timer_slot(kind)] == Some(id) {
                    self.timers[timer_slot(kind)] = None;
                    self.timer_fired(kind, inbound, &mut out);
                }
            }
            Input::Send(msg) => {
                let (_, actions) = self.send(msg);
                out.extend(actions);
            }
            // The socket refused it: even if we still think it is open, it is closing (its close
            // event is on the way), so hold the message for the next socket. Retransmitting now
            // would spin until the close event arrives, which it cannot while we spin.
            Input::Requeue(msg) => {
                if !matches!(self.phase, Phase::Closed) {
                    let at = self.requeue_at.min(self.queue.len());
                    // `insert(at, msg)` without its index assertion, whose message would bring
                    // std::fmt into the wasm; requeues are rare, so rebuilding costs nothing.
                    let mut msg = Some(msg);
                    for (i, queued) in std::mem::take(&mut self.queue).into_iter().enumerate() {
                        if i == at {
                            self.queue.extend(msg.take());
                        }
                        self.queue.push(queued);
                    }
                    self.queue.extend(msg);
                    self.requeue_at = at + 1;
                }
            }
            Input::Close { code, reason } => {
                if !matches!(self.phase, Phase::Closed) {
                    if let Some(socket) = self.live_socket() {
                        out.push(Action::CloseSocket {
                            socket,
                            code,
                            reason,
                        });
                    }
                    self.close_for_good(true, None, &mut out);
                }
            }
            // Idle: not started, or stopped because another tab holds the socket (`stop`): a
            // socket here would be a second one for the key.
            Input::Reconnect if matches!(self.phase, Phase::Idle) => {}
            Input::Reconnect => {
                if let Some(socket) = self.live_socket() {
                    out.push(Action::CloseSocket {
                        socket,
                        code: 4000,
                        reason: "reconnect requested".into(),
                    });
                }
                self.cancel_all(&mut out);
                self.retries = 0;
                self.phase = Phase::Idle;
                self.attempt(&mut out);
            }
            Input::Offline => {
                self.online = false;
                if matches!(self.phase, Phase::Waiting) {
                    self.cancel(TimerKind::Retry, &mut out);
                    self.phase = Phase::Offline;
                    self.publish(&mut out);
                }
            }
            Input::Online => {
                self.online = true;
                if matches!(self.phase, Phase::Offline | Phase::Waiting) {
                    self.cancel(TimerKind::Retry, &mut out);
                    self.attempt(&mut out);
                }
            }
            Input::Visible => {
                if matches!(self.phase, Phase::Waiting) && self.online {
                    self.cancel(TimerKind::Retry, &mut out);
                    self.attempt(&mut out);
                }
            }
        }
        out
    }

    fn timer_fired(&mut self, kind: TimerKind, inbound: u64, out: &mut Vec<Action<M>>) {
        match (kind, self.phase) {
            (TimerKind::Retry, Phase::Waiting) => self.attempt(out),
            (TimerKind::ConnectTimeout, Phase::Connecting { socket, .. }) => {
                out.push(Action::CloseSocket {
                    socket,
                    code: 4008,
                    reason: "connect timeout".into(),
                });
                self.phase = Phase::Idle;
                out.push(Action::Notify(Note::Error {
                    kind: ErrorKind::Timeout,
                    message: format!(
                        "connection not open after {} ms: abandoned",
                        crate::options::num(self.config.connect_timeout.unwrap_or_default())
                    ),
                }));
                self.failed(false, true, out);
            }
            (
                TimerKind::HeartbeatSend,
                Phase::Open {
                    socket,
                    since,
                    pinged_at: None,
                },
            ) => {
                if let Some(hb) = self.config.heartbeat {
                    out.push(Action::SendHeartbeat);
                    self.phase = Phase::Open {
                        socket,
                        since,
                        pinged_at: Some(inbound),
                    };
                    self.arm(TimerKind::HeartbeatDeadline, hb.timeout, out);
                    self.arm(TimerKind::HeartbeatSend, hb.interval, out);
                }
            }
            (TimerKind::HeartbeatSend, Phase::Open { .. }) => {
                if let Some(hb) = self.config.heartbeat {
                    self.arm(TimerKind::HeartbeatSend, hb.interval, out);
                }
            }
            (
                TimerKind::HeartbeatDeadline,
                Phase::Open {
                    socket,
                    since,
                    pinged_at: Some(at),
                },
            ) => {
                if inbound > at {
                    self.phase = Phase::Open {
                        socket,
                        since,
                        pinged_at: None,
                    };
                } else {
                    out.push(Action::CloseSocket {
                        socket,
                        code: 4009,
                        reason: "heartbeat timeout".into(),
                    });
                    self.phase = Phase::Idle;
                    self.cancel(TimerKind::HeartbeatSend, out);
                    out.push(Action::Notify(Note::Error {
                        kind: ErrorKind::Timeout,
                        message: "no message within the heartbeat timeout: link considered dead"
                            .into(),
                    }));
                    self.failed(false, true, out);
                }
            }
            _ => {}
        }
    }

    /// A new attempt: token first, then the socket.
    fn attempt(&mut self, out: &mut Vec<Action<M>>) {
        let socket = self.id();
        self.phase = Phase::Connecting {
            socket,
            token_ready: false,
        };
        if let Some(ms) = self.config.connect_timeout {
            self.arm(TimerKind::ConnectTimeout, ms, out);
        }
        out.push(Action::ResolveToken { socket });
        self.publish(out);
    }

    /// An attempt failed or a connection was lost: count it, then retry later or give up.
    /// `closed` is true when a socket closed, so the `onClose` hook learns what comes next.
    fn failed(&mut self, token: bool, closed: bool, out: &mut Vec<Action<M>>) {
        if token {
            out.push(Action::Notify(Note::Error {
                kind: ErrorKind::Token,
                message: "the token function threw or its promise rejected".into(),
            }));
        }
        self.first = false;
        if !self.online {
            self.phase = Phase::Offline;
            if closed {
                out.push(Action::Notify(Note::Close {
                    will_reconnect: true,
                    delay: None,
                }));
            }
            self.publish(out);
            return;
        }
        self.retries = self.retries.saturating_add(1);
        if self
            .config
            .max_retries
            .is_some_and(|max| self.retries > max)
        {
            let gave_up = Note::Error {
                kind: ErrorKind::RetriesExhausted,
                message: format!(
                    "gave up after {} consecutive failed attempts (maxRetries)",
                    self.retries
                ),
            };
            self.close_for_good(closed, Some(gave_up), out);
            return;
        }
        let r = self.rng.next_f64();
        let delay = self.config.backoff.delay(self.retries, r);
        self.phase = Phase::Waiting;
        self.arm(TimerKind::Retry, delay, out);
        if closed {
            out.push(Action::Notify(Note::Close {
                will_reconnect: true,
                delay: Some(delay),
            }));
        }
        out.push(Action::Notify(Note::Reconnect {
            attempt: self.retries,
            delay,
        }));
        self.publish(out);
    }

    /// The end: no socket, no timer; the caller is told (`onClose` if a socket just closed, then
    /// `why`), queued messages are reported, the state becomes `closed`.
    fn close_for_good(&mut self, close_note: bool, why: Option<Note>, out: &mut Vec<Action<M>>) {
        self.phase = Phase::Closed;
        self.cancel_all(out);
        if close_note {
            out.push(Action::Notify(Note::Close {
                will_reconnect: false,
                delay: None,
            }));
        }
        out.extend(why.map(Action::Notify));
        self.report_unsent(out);
        self.publish(out);
    }

    fn report_unsent(&mut self, out: &mut Vec<Action<M>>) {
        if !self.queue.is_empty() {
            let n = self.queue.len();
            self.queue.clear();
            self.requeue_at = 0;
            out.push(Action::Notify(Note::Error {
                kind: ErrorKind::Unsent,
                message: format!("{n} queued message(s) were never sent: the connection closed"),
            }));
        }
    }

    fn publish(&mut self, out: &mut Vec<Action<M>>) {
        let now = self.state();
        if now != self.published {
            self.published = now;
            out.push(Action::Notify(Note::State(now)));
        }
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn arm(&mut self, kind: TimerKind, ms: f64, out: &mut Vec<Action<M>>) {
        let id = self.id();
        self.timers[timer_slot(kind)] = Some(id);
        out.push(Action::SetTimer { kind, id, ms });
    }

    fn cancel(&mut self, kind: TimerKind, out: &mut Vec<Action<M>>) {
        if self.timers[timer_slot(kind)].take().is_some() {
            out.push(Action::CancelTimer { kind });
        }
    }

    fn cancel_all(&mut self, out: &mut Vec<Action<M>>) {
        for kind in TIMER_KINDS {
            self.cancel(kind, out);
        }
    }
}
