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

use std::collections::VecDeque;

use crate::backoff::{Backoff, Rng};

/// What the user sees as `state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Connecting,
    Open,
    Reconnecting,
    Closed,
}

impl State {
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
    Parse,
    Callback,
    Connect,
    Timeout,
    QueueFull,
    Token,
    RetriesExhausted,
    /// Messages still queued when the caller closed: reported, never dropped silently.
    Unsent,
}

impl ErrorKind {
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimerKind {
    Retry,
    ConnectTimeout,
    HeartbeatSend,
    HeartbeatDeadline,
}

/// Heartbeat timing; the message itself belongs to the driver.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Heartbeat {
    pub interval: f64,
    pub timeout: f64,
}

/// The settings the decisions depend on (validated by `options`).
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub backoff: Backoff,
    /// `None`: retry forever.
    pub max_retries: Option<u32>,
    pub min_uptime: f64,
    /// `None`: no timeout.
    pub connect_timeout: Option<f64>,
    pub queue_limit: usize,
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
    Start,
    TokenReady {
        socket: u64,
    },
    TokenFailed {
        socket: u64,
    },
    Opened {
        socket: u64,
        now: f64,
    },
    /// `retry` is the verdict of `shouldReconnect` (true when the caller gave none).
    Closed {
        socket: u64,
        code: u16,
        retry: bool,
        now: f64,
    },
    Timer {
        kind: TimerKind,
        id: u64,
        inbound: u64,
    },
    /// A message the caller sends; see [`Machine::send`] for the verdict.
    Send(M),
    /// The driver could not hand a `Transmit` to the socket (it was no longer open): queue it again.
    Requeue(M),
    Close {
        code: u16,
        reason: String,
    },
    Reconnect,
    Online,
    Offline,
    Visible,
}

/// What the driver must do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Action<M> {
    /// Get the token (call the token function if there is one), then feed `TokenReady`/`TokenFailed`.
    ResolveToken {
        socket: u64,
    },
    OpenSocket {
        socket: u64,
    },
    /// Close the socket and detach every handler: nothing from it reaches the machine again.
    CloseSocket {
        socket: u64,
        code: u16,
        reason: String,
    },
    SetTimer {
        kind: TimerKind,
        id: u64,
        ms: f64,
    },
    CancelTimer {
        kind: TimerKind,
    },
    Transmit(M),
    SendHeartbeat,
    Notify(Note),
}

/// Notifications for the hooks.
#[derive(Debug, Clone, PartialEq)]
pub enum Note {
    State(State),
    Open,
    /// A socket closed (or was abandoned); `delay` is `None` when no retry is scheduled yet.
    Close {
        will_reconnect: bool,
        delay: Option<f64>,
    },
    Reconnect {
        attempt: u32,
        delay: f64,
    },
    Error {
        kind: ErrorKind,
        message: String,
    },
}

/// The verdict on a message given to `send`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    Now,
    Queued,
    QueueFull,
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq)]
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
    queue: VecDeque<M>,
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

const TIMER_KINDS: [TimerKind; 4] = [
    TimerKind::Retry,
    TimerKind::ConnectTimeout,
    TimerKind::HeartbeatSend,
    TimerKind::HeartbeatDeadline,
];

impl<M> Machine<M> {
    pub fn new(config: Config, seed: u64) -> Self {
        Machine {
            config,
            phase: Phase::Idle,
            retries: 0,
            first: true,
            online: true,
            next_id: 0,
            timers: [None; 4],
            queue: VecDeque::new(),
            requeue_at: 0,
            rng: Rng::new(seed),
            published: State::Connecting,
        }
    }

    pub fn state(&self) -> State {
        match self.phase {
            Phase::Open { .. } => State::Open,
            Phase::Closed => State::Closed,
            Phase::Waiting | Phase::Offline => State::Reconnecting,
            Phase::Idle | Phase::Connecting { .. } if self.first => State::Connecting,
            Phase::Idle | Phase::Connecting { .. } => State::Reconnecting,
        }
    }

    pub fn retries(&self) -> u32 {
        self.retries
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

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
                self.queue.push_back(msg);
                Sent::Queued
            }
            _ => {
                out.push(Action::Notify(Note::Error {
                    kind: ErrorKind::QueueFull,
                    message: cat!(
                        "send queue is full (",
                        self.config.queue_limit,
                        " messages held while not open); message not accepted"
                    ),
                }));
                Sent::QueueFull
            }
        };
        (verdict, out)
    }

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
                        self.failed(true, None, &mut out);
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
                            message: cat!(
                                "connection failed before it opened (close code ",
                                code,
                                "): refused, unreachable, or the token or event was rejected"
                            ),
                        }));
                    }
                    if retry {
                        self.failed(false, Some(()), &mut out);
                    } else {
                        self.phase = Phase::Closed;
                        self.cancel_all(&mut out);
                        out.push(Action::Notify(Note::Close {
                            will_reconnect: false,
                            delay: None,
                        }));
                        self.report_unsent(&mut out);
                        self.publish(&mut out);
                    }
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
                if self.phase != Phase::Closed {
                    let at = self.requeue_at.min(self.queue.len());
                    self.queue.insert(at, msg);
                    self.requeue_at = at + 1;
                }
            }
            Input::Close { code, reason } => {
                if self.phase != Phase::Closed {
                    if let Some(socket) = self.live_socket() {
                        out.push(Action::CloseSocket {
                            socket,
                            code,
                            reason,
                        });
                    }
                    self.phase = Phase::Closed;
                    self.cancel_all(&mut out);
                    out.push(Action::Notify(Note::Close {
                        will_reconnect: false,
                        delay: None,
                    }));
                    self.report_unsent(&mut out);
                    self.publish(&mut out);
                }
            }
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
                if self.phase == Phase::Waiting {
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
                if self.phase == Phase::Waiting && self.online {
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
                    message: cat!(
                        "connection not open after ",
                        self.config.connect_timeout.unwrap_or_default(),
                        " ms: abandoned"
                    ),
                }));
                self.failed(false, Some(()), out);
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
                    self.failed(false, Some(()), out);
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
    /// `closed_note` is `Some` when a socket closed, so the `onClose` hook learns what comes next.
    fn failed(&mut self, token: bool, closed_note: Option<()>, out: &mut Vec<Action<M>>) {
        if token {
            out.push(Action::Notify(Note::Error {
                kind: ErrorKind::Token,
                message: "the token function threw or its promise rejected".into(),
            }));
        }
        self.first = false;
        if !self.online {
            self.phase = Phase::Offline;
            if closed_note.is_some() {
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
            self.phase = Phase::Closed;
            self.cancel_all(out);
            if closed_note.is_some() {
                out.push(Action::Notify(Note::Close {
                    will_reconnect: false,
                    delay: None,
                }));
            }
            out.push(Action::Notify(Note::Error {
                kind: ErrorKind::RetriesExhausted,
                message: cat!(
                    "gave up after ",
                    self.retries,
                    " consecutive failed attempts (maxRetries)"
                ),
            }));
            self.report_unsent(out);
            self.publish(out);
            return;
        }
        let r = self.rng.next_f64();
        let delay = self.config.backoff.delay(self.retries, r);
        self.phase = Phase::Waiting;
        self.arm(TimerKind::Retry, delay, out);
        if closed_note.is_some() {
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

    fn report_unsent(&mut self, out: &mut Vec<Action<M>>) {
        if !self.queue.is_empty() {
            let n = self.queue.len();
            self.queue.clear();
            self.requeue_at = 0;
            out.push(Action::Notify(Note::Error {
                kind: ErrorKind::Unsent,
                message: cat!(
                    n,
                    " queued message(s) were never sent: the connection closed"
                ),
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

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
