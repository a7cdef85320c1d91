//! The browser side of sharing a connection across tabs (the decisions are [`crate::tabs`]'s):
//! one key's Web Lock and `BroadcastChannel` (through `src/host.js`), the closures they call, and
//! the tick that lets a follower notice a silent leader. Owned by its connection and closed with
//! it: dropping the link lets the lock go, closes the channel and frees the closures.

use std::rc::Weak;

use gloo_timers::callback::Interval;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::MessageEvent;

use crate::driver::{count_closures, Connection, Handler};
use crate::errors;
use crate::host;
use crate::machine::{Input as MachineInput, Note, State};
use crate::options::{Share, Token};
use crate::tabs::{Effect, Input, Role, Sent, Tabs, Value, Wire, TICK_MS};
use crate::url;

pub struct TabLink {
    js: JsValue,
    /// This tab's id for the key (random, as the machine's `me`).
    pub me: u64,
    _heard: Heard,
    _closures: [Handler; 2],
    _tick: Interval,
}

impl TabLink {
    /// The link for `name` (never the token: any script of the origin can list lock names), or
    /// `None` where the browser cannot share across tabs.
    pub fn new(conn: &Weak<Connection>, name: &str, me: u64) -> Option<TabLink> {
        let to = |f: fn(&Connection, JsValue)| {
            let conn = conn.clone();
            Handler::new(move |v: JsValue| {
                if let Some(c) = conn.upgrade() {
                    f(&c, v)
                }
            })
        };
        let heard = {
            let conn = conn.clone();
            Heard::new(move |t: f64, a: f64, b: f64, c: f64, v: JsValue| {
                if let (Some(conn), Some(w)) = (conn.upgrade(), decode(t, [a, b, c], v)) {
                    conn.tab_input(Input::Heard(w));
                }
            })
        };
        let granted = to(|c, _| {
            c.tab_input(Input::Granted {
                now: host::tabs_now() as u64,
            })
        });
        let lost = to(|c, stolen| c.tab_lost(stolen.is_truthy()));
        let js = host::tabs_link(name, heard.as_ref(), granted.as_ref(), lost.as_ref());
        if js.is_undefined() {
            return None;
        }
        let conn = conn.clone();
        let tick = Interval::new(TICK_MS, move || {
            if let Some(c) = conn.upgrade() {
                c.tab_input(Input::Tick {
                    now: js_sys::Date::now() as u64,
                    visible: host::visible(),
                });
            }
        });
        count_closures(4);
        Some(TabLink {
            js,
            me,
            _heard: heard,
            _closures: [granted, lost],
            _tick: tick,
        })
    }

    /// Asks for the lock, or takes it (`steal`).
    pub fn lock(&self, steal: bool) {
        host::tabs_lock(&self.js, steal);
    }

    /// Lets the lock go, or drops the pending request.
    pub fn unlock(&self) {
        host::tabs_unlock(&self.js);
    }

    /// Whether this tab holds the lock, as far as it has heard.
    pub fn held(&self) -> bool {
        host::tabs_held(&self.js)
    }

    pub fn post(&self, w: Wire<JsValue>) {
        let flat = w.flatten();
        let v = match flat.v {
            Some(Value::Data(d)) => d,
            Some(Value::Text(t)) => JsValue::from_str(&t),
            None => JsValue::UNDEFINED,
        };
        let [a, b, c] = flat.n;
        host::tabs_post(&self.js, flat.t, a, b, c, &v);
    }
}

impl Drop for TabLink {
    fn drop(&mut self) {
        host::tabs_close(&self.js);
        count_closures(-4);
    }
}

/// What the channel calls with a word's five parts (`[t, a, b, c, d]`, see `Wire::flatten`).
type Heard = Closure<dyn FnMut(f64, f64, f64, f64, JsValue)>;

/// A word from the channel; `None` for anything else.
fn decode(t: f64, n: [f64; 3], v: JsValue) -> Option<Wire<JsValue>> {
    if !t.is_finite() {
        return None; // not ours (a non-number becomes NaN on the way in)
    }
    Wire::unflatten(t, n, v, |v| v.as_string())
}

/// A random id: a tab's for a key, never reused.
fn random_id() -> u64 {
    (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64
}

impl Connection {
    /// Starts the connection: across tabs where `share` says so and the browser can, else this
    /// page's own socket.
    pub fn start(&self) {
        if self.opts.share != Share::Tabs {
            self.feed(MachineInput::Start);
            return;
        }
        match &self.opts.token {
            Token::Static(t) => {
                let t = t.clone();
                self.begin_tabs(&t);
            }
            // The key needs the instance the token names: the first attempt gets a token the
            // usual way (its timeout, errors and backoff), then `elect_with` takes it.
            Token::Dynamic(_) => {
                self.electing.set(true);
                self.feed(MachineInput::Start);
            }
        }
    }

    /// The first token of a connection shared across tabs: this tab's socket waits while the
    /// election runs; the attempt that follows, if this tab leads, uses the token.
    pub(crate) fn elect_with(&self, token: String) {
        let (actions, queue) = self.machine.borrow_mut().stop();
        self.run(actions);
        *self.first_token.borrow_mut() = Some(token.clone());
        self.begin_tabs(&token);
        for msg in queue {
            self.send(msg);
        }
    }

    /// Joins the election for this URL, event and the instance `token` names.
    fn begin_tabs(&self, token: &str) {
        if self.machine.borrow().state() == State::Closed {
            return; // closed while the first token was awaited
        }
        // The instance, never the token: any script of the origin can list lock names.
        let instance = match host::claim(token, "instanceName") {
            Some(i) => i,
            None if token.is_empty() => String::new(),
            None => return self.page_only("the token is not a JWT with an instanceName"),
        };
        let name = url::tab_key(&self.base, &self.event, &self.opts.params, &instance);
        let me = random_id();
        let Some(link) = TabLink::new(&self.me, &name, me) else {
            return self.page_only("this browser or page has no Web Locks or BroadcastChannel");
        };
        let limit = self.machine.borrow().config().queue_limit;
        *self.link.borrow_mut() = Some(link);
        *self.tabs.borrow_mut() = Some(Tabs::new(me, limit));
        self.tab_input(Input::Start);
    }

    /// Sharing within this page only, for `why`.
    fn page_only(&self, why: &str) {
        self.debug(&format!("shared within this page only: {why}"));
        self.leave_tabs();
        self.feed(MachineInput::Start);
    }

    /// Only the lock holder opens the socket, and the connection reconnects on its own timers:
    /// checked before every attempt. A tab that does not hold the lock steps down instead.
    pub(crate) fn may_open(&self) -> bool {
        let leads = match self.tabs.borrow().as_ref() {
            None => return true,
            Some(t) => t.leads(),
        };
        if leads && self.link.borrow().as_ref().is_some_and(TabLink::held) {
            return true;
        }
        self.debug("not connecting: this tab does not hold the lock");
        if leads {
            self.tab_input(Input::Lost);
        } else {
            self.stop_own_socket();
        }
        false
    }

    /// Drops the election and its link: the lock goes, the channel closes, the closures are freed.
    pub(crate) fn leave_tabs(&self) {
        let link = self.link.borrow_mut().take();
        drop(link);
        let tabs = self.tabs.borrow_mut().take();
        drop(tabs);
    }

    /// Whether another tab holds the socket (this one gets its frames and state).
    pub(crate) fn follows(&self) -> bool {
        self.tabs.borrow().as_ref().is_some_and(|t| !t.leads())
    }

    /// The handle's `role`.
    pub fn role(&self) -> Role {
        self.tabs.borrow().as_ref().map_or(Role::Page, Tabs::role)
    }

    /// Tabs sharing the socket, this one included.
    pub fn tab_count(&self) -> u32 {
        self.tabs.borrow().as_ref().map_or(1, Tabs::tabs)
    }

    pub(crate) fn send_via_leader(&self, msg: JsValue) -> bool {
        let sent = self.tabs.borrow_mut().as_mut().map(|t| t.send(msg));
        let Some((verdict, effects)) = sent else {
            return false;
        };
        self.tab_effects(effects);
        matches!(verdict, Sent::Handed | Sent::Queued)
    }

    /// A leader relays each frame its socket received (when other tabs listen).
    pub(crate) fn relay(&self, e: &MessageEvent) {
        let relays = self.tabs.borrow().as_ref().is_some_and(Tabs::relays);
        if relays {
            self.tab_input(Input::Frame(e.data()));
        }
    }

    /// A frame relayed by the leader, to this tab's subscribers: a `MessageEvent` is built (once)
    /// only if a callback may read it (see `Subscriber::takes_event`).
    fn deliver_relayed(&self, data: JsValue) {
        let subs = self.subscribers();
        if subs.iter().any(|s| s.takes_event.get()) {
            let e = host::message_event(&data);
            return self.deliver(e.unchecked_ref());
        }
        self.count_inbound();
        for sub in subs.iter() {
            sub.deliver_data(&data);
        }
    }

    /// Feeds the election and relay machine, if this connection is shared across tabs.
    pub fn tab_input(&self, input: Input<JsValue>) {
        let effects = match self.tabs.borrow_mut().as_mut() {
            Some(t) => t.handle(input),
            None => return,
        };
        self.tab_effects(effects);
    }

    /// The lock request ended without being released by us: taken by another tab (`stolen`),
    /// or refused by the browser, which leaves this page its own socket.
    pub(crate) fn tab_lost(&self, stolen: bool) {
        let leads = self.tabs.borrow().as_ref().is_some_and(Tabs::leads);
        if leads || stolen {
            self.tab_input(Input::Lost);
        } else {
            self.page_only("the browser refused the lock");
        }
    }

    /// `pagehide`/`freeze` (`hidden`), `pageshow`/`resume`.
    pub fn page(&self, hidden: bool) {
        self.tab_input(if hidden { Input::Hide } else { Input::Show });
    }

    /// Another tab holds the socket: this tab's closes quietly, its timers and token wait go,
    /// and what it had queued goes to the leader.
    fn stop_own_socket(&self) {
        self.debug("another tab holds the socket");
        let (actions, queue) = self.machine.borrow_mut().stop();
        self.abandon_token_wait();
        self.run(actions);
        for msg in queue {
            self.send_via_leader(msg);
        }
    }

    fn tab_effects(&self, effects: Vec<Effect<JsValue>>) {
        for effect in effects {
            self.tab_effect(effect);
        }
    }

    /// Runs `f` with the link (none after the connection ended). The lock and channel calls it
    /// makes answer later, in tasks of their own, never during `f`.
    fn with_link(&self, f: impl FnOnce(&TabLink)) {
        if let Some(l) = self.link.borrow().as_ref() {
            f(l)
        }
    }

    fn tab_effect(&self, effect: Effect<JsValue>) {
        match effect {
            Effect::RequestLock { steal } => self.with_link(|l| l.lock(steal)),
            Effect::ReleaseLock => self.with_link(TabLink::unlock),
            Effect::Post(w) => self.with_link(|l| l.post(w)),
            Effect::StartSocket => {
                self.debug("this tab holds the socket");
                self.feed(MachineInput::Start);
            }
            Effect::StopSocket => self.stop_own_socket(),
            Effect::Deliver(data) => self.deliver_relayed(data),
            Effect::Mirror(state) => {
                // Another tab leads: a token kept for this tab's first attempt would be stale
                // by the time it leads, if ever.
                self.first_token.borrow_mut().take();
                let was_open = self.shown.get() == State::Open;
                if state == State::Open && !was_open {
                    self.notify_mirrored(Note::Open);
                } else if was_open && state != State::Open {
                    self.notify_mirrored(Note::Close {
                        will_reconnect: state != State::Closed,
                        delay: None,
                    });
                }
                self.show(state);
            }
            Effect::Report { kind, message } => {
                self.report(errors::make(kind, &message, None));
            }
            Effect::Forward { tab, id, data } => {
                let ok = self.machine_send(data);
                let me = self.link.borrow().as_ref().map(|l| l.me);
                if me != Some(tab) {
                    self.tab_input(Input::Forwarded { tab, id, ok });
                }
            }
        }
    }
}
