//! The web-sys driver: owns one connection's `WebSocket`, its closures and its timers, feeds the
//! browser's events to the [`Machine`] and performs the actions it returns.
//!
//! Two rules keep it safe in a browser where user code runs inside our callbacks:
//! - Actions are drained from a FIFO queue, never performed while the machine is borrowed. A hook
//!   that calls `send()` or `close()` re-enters through `feed`, its actions join the queue, and the
//!   outer loop performs them in order: no `RefCell` double borrow, no reordering. Nothing performed
//!   may throw: a JS exception would unwind through the loop and leave it marked as draining for
//!   good, so user code and even the console are called through `src/host.js`'s guards.
//! - Every browser resource has one owner: [`LiveSocket`] holds the socket and its four closures and
//!   detaches them on drop, the timer slots hold gloo `Timeout`s (in [`Armed`]) that cancel on
//!   drop. Replacing a socket or closing drops the old owner, so nothing of an abandoned socket
//!   reaches us again.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use gloo_timers::callback::Timeout;
use js_sys::Function;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

use crate::errors;
use crate::guarded;
use crate::host::{self, Kind};
use crate::machine::{Action, ErrorKind, Input, Machine, Note, State, TimerKind};
use crate::options::{BinaryType, Options, Token};
use crate::subscriber::Subscriber;
use crate::url;

/// Every closure the browser holds for us has this one type: each closure type costs the wasm its
/// own call and drop shims, and the browser's events are cast back where they are used.
pub type Handler = Closure<dyn FnMut(JsValue)>;

/// One socket and the closures the browser holds for it.
struct LiveSocket {
    id: u64,
    ws: WebSocket,
    _on_open: Handler,
    _on_message: Handler,
    _on_error: Handler,
    _on_close: Handler,
}

impl Drop for LiveSocket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onerror(None);
        self.ws.set_onclose(None);
        count_closures(-4);
    }
}

thread_local! {
    // Live closures the module holds (sockets x 4, armed timers, token waits x 2): the leak tests
    // read it.
    static LIVE_CLOSURES: Cell<i64> = const { Cell::new(0) };
}

#[cfg(feature = "js")]
pub fn live_closures() -> i64 {
    LIVE_CLOSURES.get()
}

pub(crate) fn count_closures(delta: i64) {
    LIVE_CLOSURES.set(LIVE_CLOSURES.get() + delta);
}

#[wasm_bindgen]
extern "C" {
    /// `WebSocket.prototype.send` for every type it takes (the queue holds only what `send()`
    /// accepted: text, `ArrayBuffer`, a view, `Blob`): one binding instead of four, and text is
    /// not copied into wasm memory and back on its way out.
    type AnySend;
    #[wasm_bindgen(method, js_name = send, catch)]
    fn send_any(this: &AnySend, data: &JsValue) -> Result<(), JsValue>;
}

/// An armed timer: gloo's `Timeout` (cancelled when dropped), counted while it is held.
struct Armed {
    _timeout: Timeout,
}

impl Armed {
    fn new(ms: f64, fire: impl FnOnce() + 'static) -> Self {
        count_closures(1);
        // Browsers treat delays beyond 2^31 - 1 ms as 0; the machine never asks for that much.
        Armed {
            _timeout: Timeout::new(ms.clamp(0.0, i32::MAX as f64) as u32, fire),
        }
    }
}

impl Drop for Armed {
    fn drop(&mut self) {
        count_closures(-1);
    }
}

/// The closures waiting on a token promise and the promise's handle (see `host::then`); counted
/// while they live. Dropping it empties the handle first, so the promise never calls them freed.
struct TokenWait {
    handle: JsValue,
    _ok: Handler,
    _err: Handler,
}

impl TokenWait {
    fn new(handle: JsValue, ok: Handler, err: Handler) -> Self {
        count_closures(2);
        TokenWait {
            handle,
            _ok: ok,
            _err: err,
        }
    }
}

impl Drop for TokenWait {
    fn drop(&mut self) {
        host::unthen(&self.handle);
        count_closures(-2);
    }
}

/// What the hub asks to hear when a connection closes for good.
pub type ClosedHook = Box<dyn Fn(&Connection)>;

pub struct Connection {
    pub(crate) me: Weak<Connection>,
    pub event: String,
    /// The resolved `ws:`/`wss:` URL before `event` and `token` are added.
    pub(crate) base: String,
    pub opts: Options<Function>,
    /// The key under which the hub shares this connection, if it is shared.
    pub share_key: Option<String>,
    pub(crate) machine: RefCell<Machine<JsValue>>,
    pending: RefCell<Vec<Action<JsValue>>>,
    draining: Cell<bool>,
    socket: RefCell<Option<LiveSocket>>,
    timers: RefCell<[Option<Armed>; 4]>,
    /// Copy-on-write: the per-message path takes a snapshot by cloning one `Rc`, not a `Vec`, and a
    /// callback that subscribes or closes while we iterate changes the next snapshot, not this one.
    subscribers: RefCell<Rc<Vec<Rc<Subscriber>>>>,
    token: RefCell<String>,
    /// A static token given by a later subscription that joined this connection for the same
    /// instance (see `hub`): the newest one given is used from the next attempt on.
    renewed: RefCell<Option<String>>,
    /// The browser event behind the `Open`/`Close` note being performed.
    last_event: RefCell<JsValue>,
    /// The token promise this connection waits for, if any.
    token_wait: RefCell<Option<TokenWait>>,
    /// Whether `debug` has logged the unknown-event hint (once per connection).
    hinted: Cell<bool>,
    /// Messages received, for the heartbeat (a counter costs no browser call per message).
    inbound: Cell<u64>,
    /// Called when the connection is closed for good, so the hub forgets it.
    on_closed: RefCell<Option<ClosedHook>>,
    /// The state the subscribers were last told (machine and tabs both report; told once).
    pub(crate) shown: Cell<State>,
    /// Sharing across tabs (`share: true` where the browser can): the election and relay, and
    /// the lock and channel it speaks through. `None`: this page's own socket.
    pub(crate) tabs: RefCell<Option<crate::tabs::Tabs<JsValue>>>,
    pub(crate) link: RefCell<Option<crate::tablink::TabLink>>,
    /// The token the tab election got from the token function (to read the instance): the
    /// first attempt uses it instead of calling the function again.
    pub(crate) first_token: RefCell<Option<String>>,
    /// Sharing across tabs with a token function: the first token decides the election's key.
    pub(crate) electing: Cell<bool>,
}

fn slot(kind: TimerKind) -> usize {
    match kind {
        TimerKind::Retry => 0,
        TimerKind::ConnectTimeout => 1,
        TimerKind::HeartbeatSend => 2,
        TimerKind::HeartbeatDeadline => 3,
    }
}

impl Connection {
    pub fn new(
        event: String,
        base: String,
        opts: Options<Function>,
        share_key: Option<String>,
    ) -> Rc<Connection> {
        let seed = (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64;
        Rc::new_cyclic(|me| Connection {
            me: me.clone(),
            event,
            base,
            machine: RefCell::new(Machine::new(opts.config.clone(), seed)),
            opts,
            share_key,
            pending: RefCell::new(Vec::new()),
            draining: Cell::new(false),
            socket: RefCell::new(None),
            timers: RefCell::new([None, None, None, None]),
            subscribers: RefCell::new(Rc::new(Vec::new())),
            token: RefCell::new(String::new()),
            renewed: RefCell::new(None),
            last_event: RefCell::new(JsValue::UNDEFINED),
            token_wait: RefCell::new(None),
            hinted: Cell::new(false),
            inbound: Cell::new(0),
            on_closed: RefCell::new(None),
            shown: Cell::new(State::Connecting),
            tabs: RefCell::new(None),
            link: RefCell::new(None),
            first_token: RefCell::new(None),
            electing: Cell::new(false),
        })
    }

    pub fn set_on_closed(&self, f: ClosedHook) {
        *self.on_closed.borrow_mut() = Some(f);
    }

    /// What the subscribers see: the machine's state, or the leader's where another tab leads.
    pub fn state(&self) -> State {
        if self.follows() {
            self.shown.get()
        } else {
            self.machine.borrow().state()
        }
    }

    pub fn retries(&self) -> u32 {
        self.machine.borrow().retries()
    }

    /// The URL as shown to the caller and in logs: the token never appears.
    pub fn display_url(&self) -> String {
        let has_token = match &self.opts.token {
            Token::Static(t) => !t.is_empty(),
            Token::Dynamic(_) => true,
        };
        url::display(&self.base, &self.event, has_token, &self.opts.params)
    }

    /// Uses `token` instead of the configured static token from the next attempt on.
    pub fn renew_token(&self, token: &str) {
        *self.renewed.borrow_mut() = Some(token.into());
    }

    pub fn add(&self, sub: Rc<Subscriber>) {
        let mut subs = self.subscribers.borrow_mut();
        let mut next = subs.to_vec();
        next.push(sub);
        *subs = Rc::new(next);
    }

    pub fn subscriber_count(&self) -> usize {
        self.subscribers.borrow().len()
    }

    /// Removes a subscriber; returns how many remain.
    pub fn remove(&self, id: u64) -> usize {
        let mut subs = self.subscribers.borrow_mut();
        let next: Vec<Rc<Subscriber>> = subs.iter().filter(|s| s.id != id).cloned().collect();
        *subs = Rc::new(next);
        subs.len()
    }

    pub fn send(&self, msg: JsValue) -> bool {
        if self.follows() {
            return self.send_via_leader(msg);
        }
        self.machine_send(msg)
    }

    /// Hands a message to this tab's own machine (its socket, or its queue).
    pub(crate) fn machine_send(&self, msg: JsValue) -> bool {
        let (verdict, actions) = self.machine.borrow_mut().send(msg);
        self.run(actions);
        matches!(
            verdict,
            crate::machine::Sent::Now | crate::machine::Sent::Queued
        )
    }

    pub fn feed(&self, input: Input<JsValue>) {
        let actions = self.machine.borrow_mut().handle(input);
        self.run(actions);
    }

    pub(crate) fn run(&self, actions: Vec<Action<JsValue>>) {
        if actions.is_empty() {
            return;
        }
        self.pending.borrow_mut().extend(actions);
        if self.draining.replace(true) {
            return;
        }
        // Batch by batch: what an action queues lands behind the rest of its batch, so the order
        // is the same FIFO a deque would give, without a deque's code in the wasm.
        loop {
            let batch = std::mem::take(&mut *self.pending.borrow_mut());
            if batch.is_empty() {
                break;
            }
            for action in batch {
                self.perform(action);
            }
        }
        self.draining.set(false);
    }

    pub(crate) fn debug(&self, what: &str) {
        if self.opts.debug {
            let line = format!(
                "[event-socket] {} {}: {what}",
                self.event,
                self.display_url()
            );
            host::log(false, &line.into(), &JsValue::UNDEFINED);
        }
    }

    fn perform(&self, action: Action<JsValue>) {
        match action {
            Action::ResolveToken { socket } => self.resolve_token(socket),
            Action::OpenSocket { socket } => self.open(socket),
            Action::CloseSocket {
                socket,
                code,
                reason,
            } => {
                let live = {
                    let mut slot = self.socket.borrow_mut();
                    if slot.as_ref().is_some_and(|s| s.id == socket) {
                        slot.take()
                    } else {
                        None
                    }
                };
                if let Some(live) = live {
                    self.debug(&format!("closing socket ({code} {reason})"));
                    let ws = live.ws.clone();
                    drop(live);
                    let _ = ws.close_with_code_and_reason(code, &reason);
                    *self.last_event.borrow_mut() = errors::synthetic_close(code, &reason);
                }
            }
            Action::SetTimer { kind, id, ms } => {
                let me = self.me.clone();
                let fire = move || {
                    if let Some(conn) = me.upgrade() {
                        let inbound = conn.inbound.get();
                        conn.feed(Input::Timer { kind, id, inbound });
                    }
                };
                let old = self.timers.borrow_mut()[slot(kind)].replace(Armed::new(ms, fire));
                drop(old);
            }
            Action::CancelTimer { kind } => {
                let old = self.timers.borrow_mut()[slot(kind)].take();
                drop(old);
            }
            Action::Transmit(msg) => {
                if !self.transmit(&msg) {
                    self.feed(Input::Requeue(msg));
                }
            }
            Action::SendHeartbeat => {
                let msg = JsValue::from_str(&self.opts.heartbeat_message);
                self.transmit(&msg);
            }
            Action::Notify(note) => self.notify(note),
        }
    }

    /// Hands a message to the socket if it is really open; false means "queue it again".
    fn transmit(&self, msg: &JsValue) -> bool {
        let ws = match self.socket.borrow().as_ref() {
            Some(live) if live.ws.ready_state() == WebSocket::OPEN => live.ws.clone(),
            _ => return false,
        };
        ws.unchecked_ref::<AnySend>().send_any(msg).is_ok()
    }

    fn resolve_token(&self, socket: u64) {
        // The token the election got from the function, for the attempt right after it.
        let first = self.first_token.take();
        match &self.opts.token {
            Token::Static(t) => {
                let t = self.renewed.borrow().clone().unwrap_or_else(|| t.clone());
                self.token_ready(socket, t);
            }
            Token::Dynamic(_) if first.is_some() => {
                self.token_ready(socket, first.unwrap_or_default())
            }
            Token::Dynamic(f) => match guarded::call1(f, &JsValue::UNDEFINED) {
                Err(e) => self.token_failed(socket, e),
                Ok(v) => {
                    if let Some(t) = v.as_string() {
                        self.token_ready(socket, t);
                    } else if host::kind(&v) == Kind::Promise {
                        self.await_token(socket, &v);
                    } else {
                        self.token_failed(
                            socket,
                            JsValue::from_str(
                                "the token function returned neither a string nor a Promise",
                            ),
                        );
                    }
                }
            },
        }
    }

    /// A token function gave `token` for attempt `socket`. The first one of a connection shared
    /// across tabs goes to the election instead (its key needs the instance the token names);
    /// the next attempt, if this tab leads, reuses it.
    fn token_ready(&self, socket: u64, token: String) {
        if self.electing.replace(false) {
            return self.elect_with(token);
        }
        *self.token.borrow_mut() = token;
        self.feed(Input::TokenReady { socket });
    }

    /// Waits for a token promise. The two closures it calls are owned by the connection (one
    /// wait at a time): a later attempt or the end of the connection drops them and empties the
    /// promise's handle first, so a promise that never settles (or settles late) holds nothing
    /// of ours. A settlement for an abandoned attempt would reach the machine with its old socket
    /// id and be ignored anyway.
    fn await_token(&self, socket: u64, p: &JsValue) {
        let settle = |ok: bool| {
            let me = self.me.clone();
            Handler::new(move |v: JsValue| {
                if let Some(conn) = me.upgrade() {
                    // Freed after this call returns (wasm-bindgen defers it), not during it.
                    let done = conn.token_wait.borrow_mut().take();
                    match v.as_string() {
                        Some(t) if ok => conn.token_ready(socket, t),
                        _ if ok => conn.token_failed(
                            socket,
                            JsValue::from_str("the token promise resolved to a non-string"),
                        ),
                        _ => conn.token_failed(socket, v),
                    }
                    drop(done);
                }
            })
        };
        let (on_ok, on_err) = (settle(true), settle(false));
        if host::then(p, on_ok.as_ref(), on_err.as_ref()) != 0 {
            // Its `then` threw (a patched or subclassed Promise): it will never call them.
            drop((on_ok, on_err));
            self.token_failed(socket, host::take_caught());
            return;
        }
        let wait = TokenWait::new(host::take_caught(), on_ok, on_err);
        let old = self.token_wait.borrow_mut().replace(wait);
        drop(old);
    }

    fn token_failed(&self, socket: u64, cause: JsValue) {
        *self.last_event.borrow_mut() = cause;
        self.feed(Input::TokenFailed { socket });
    }

    fn open(&self, socket: u64) {
        if !self.may_open() {
            return;
        }
        let full = {
            let token = self.token.borrow();
            url::with_query(&self.base, &self.event, &token, &self.opts.params)
        };
        self.debug("connecting");
        let ws = match WebSocket::new(&full) {
            Ok(ws) => ws,
            Err(e) => {
                // The constructor throws for a URL it cannot parse (SyntaxError) or may not open
                // from this page (SecurityError: ws: from https:). The same URL would be refused
                // again, so this is the end, not a retry loop that cannot succeed.
                self.report(errors::make(
                    ErrorKind::Connect,
                    &format!(
                        "the browser refused to open {} (see cause); not retrying",
                        self.display_url()
                    ),
                    Some(&e),
                ));
                self.feed(Input::Refused { socket });
                return;
            }
        };
        ws.set_binary_type(match self.opts.binary_type {
            BinaryType::ArrayBuffer => web_sys::BinaryType::Arraybuffer,
            BinaryType::Blob => web_sys::BinaryType::Blob,
        });
        let on_open = self.handler(socket, |conn, socket, e| {
            *conn.last_event.borrow_mut() = e;
            conn.feed(Input::Opened {
                socket,
                now: js_sys::Date::now(),
            });
        });
        let on_message = self.handler(socket, |conn, _, e| conn.deliver(e.unchecked_ref()));
        let on_error = self.handler(socket, |conn, _, _| {
            conn.debug("socket error (the close event follows)")
        });
        let on_close = self.handler(socket, |conn, socket, e| {
            conn.closed(socket, e.unchecked_into())
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        count_closures(4);
        let old = self.socket.borrow_mut().replace(LiveSocket {
            id: socket,
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_error: on_error,
            _on_close: on_close,
        });
        drop(old);
    }

    /// A socket handler that reaches this connection while it lives. The four handlers share one
    /// closure type (what differs is the plain function `f`), so the wasm has one set of call and
    /// drop shims for them instead of four.
    fn handler(&self, socket: u64, f: fn(&Connection, u64, JsValue)) -> Handler {
        let me = self.me.clone();
        Handler::new(move |e: JsValue| {
            if let Some(conn) = me.upgrade() {
                f(&conn, socket, e);
            }
        })
    }

    fn closed(&self, socket: u64, e: CloseEvent) {
        let live = {
            let mut slot = self.socket.borrow_mut();
            if slot.as_ref().is_some_and(|s| s.id == socket) {
                slot.take()
            } else {
                None
            }
        };
        drop(live);
        self.debug(&format!("closed with code {}", e.code()));
        let retry = match &self.opts.should_reconnect {
            None => true,
            Some(f) => match guarded::call1(f, &e) {
                Ok(v) => v.is_truthy(),
                Err(cause) => {
                    self.report(errors::make(
                        ErrorKind::Callback,
                        "shouldReconnect threw; reconnecting anyway",
                        Some(&cause),
                    ));
                    true
                }
            },
        };
        let code = e.code();
        *self.last_event.borrow_mut() = e.into();
        self.feed(Input::Closed {
            socket,
            code,
            retry,
            now: js_sys::Date::now(),
        });
    }

    /// The per-message path, the hot one: one call into JS per subscriber (parse and callback
    /// together, see [`guarded`](crate::guarded)), however the message turns out.
    pub(crate) fn deliver(&self, e: &MessageEvent) {
        self.count_inbound();
        let subs = self.subscribers();
        for sub in subs.iter() {
            sub.deliver(e);
        }
        self.relay(e);
    }

    /// The subscribers now (a callback may add or remove some while they are called).
    pub(crate) fn subscribers(&self) -> Rc<Vec<Rc<Subscriber>>> {
        self.subscribers.borrow().clone()
    }

    /// A message arrived (the heartbeat's evidence that the connection lives).
    pub(crate) fn count_inbound(&self) {
        self.inbound.set(self.inbound.get().wrapping_add(1));
    }

    /// An error that belongs to every subscriber (connection-level).
    pub(crate) fn report(&self, err: JsValue) {
        let subs = self.subscribers();
        for sub in subs.iter() {
            sub.error(&err);
        }
    }

    fn notify(&self, note: Note) {
        let subs = self.subscribers();
        match note {
            Note::State(state) => {
                self.tab_input(crate::tabs::Input::Connection(state));
                self.show(state);
            }
            Note::Open => {
                self.debug("open");
                let ev = self.last_event.borrow().clone();
                for s in subs.iter() {
                    s.open(&ev);
                }
            }
            Note::Close {
                will_reconnect,
                delay,
            } => {
                let ev = self.last_event.borrow().clone();
                let ev = if ev.is_instance_of::<CloseEvent>() {
                    ev
                } else {
                    errors::synthetic_close(1000, "closed by the client")
                };
                let info = host::close_info(
                    will_reconnect,
                    &delay.map(JsValue::from_f64).unwrap_or(JsValue::NULL),
                );
                for s in subs.iter() {
                    s.close(&ev, &info);
                }
            }
            Note::Reconnect { attempt, delay } => {
                self.debug(&format!(
                    "retry {attempt} in {} ms",
                    crate::options::num(delay)
                ));
                let info = host::reconnect_info(attempt, delay);
                for s in subs.iter() {
                    s.reconnect(&info);
                }
            }
            Note::Error { kind, message } => {
                self.debug(&format!("error {}: {message}", kind.as_str()));
                let cause = match kind {
                    ErrorKind::Token => Some(self.last_event.borrow().clone()),
                    _ => None,
                };
                let message = match kind {
                    ErrorKind::Connect | ErrorKind::Timeout => {
                        let mut m = format!("{message} ({})", self.display_url());
                        let hint = match kind {
                            ErrorKind::Connect => crate::events::hint(&self.base, &self.event),
                            _ => None,
                        };
                        if let Some(hint) = hint {
                            if !self.hinted.replace(true) {
                                self.debug(&hint);
                            }
                            m.push_str("; ");
                            m.push_str(&hint);
                        }
                        m
                    }
                    _ => message,
                };
                self.report(errors::make(kind, &message, cause.as_ref()));
                self.tab_input(crate::tabs::Input::ConnectionError { kind, message });
            }
        }
    }

    /// Tells the subscribers the state, once per change; closed for good ends the connection.
    pub(crate) fn show(&self, state: State) {
        if self.shown.replace(state) == state {
            return;
        }
        self.debug(&format!("state {}", state.as_str()));
        let subs = self.subscribers();
        for s in subs.iter() {
            s.state(state);
        }
        if state == State::Closed {
            self.shutdown();
        }
    }

    /// The open and close a follower's subscribers hear when the leader's socket opens or goes.
    pub(crate) fn notify_mirrored(&self, note: Note) {
        *self.last_event.borrow_mut() = match note {
            Note::Open => host::event("open"),
            _ => errors::synthetic_close(1001, "the tab holding the socket went away"),
        };
        self.notify(note);
    }

    /// Stops waiting for a token promise: its closures are freed and the promise, if it settles,
    /// calls nothing of ours.
    pub(crate) fn abandon_token_wait(&self) {
        let wait = self.token_wait.borrow_mut().take();
        drop(wait);
    }

    /// Closed for good: drop every browser resource and let the hub forget us.
    fn shutdown(&self) {
        let live = self.socket.borrow_mut().take();
        drop(live);
        let timers: Vec<Option<Armed>> = self
            .timers
            .borrow_mut()
            .iter_mut()
            .map(Option::take)
            .collect();
        drop(timers);
        self.abandon_token_wait();
        self.leave_tabs();
        let hook = self.on_closed.borrow_mut().take();
        if let Some(hook) = hook {
            hook(self);
        }
    }
}
