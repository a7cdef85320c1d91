//! One socket per key across the tabs of a browser profile: the election and the relay, in plain
//! Rust (`(state, input) -> effects`, like [`crate::machine`]), tested natively.
//!
//! Why: the CodeChat server keeps one socket per instance and event and silently starves the older
//! of two. Sharing inside a page (`hub`) cannot see another tab, so with the app open twice the
//! first tab would go quiet without an error. Here the tabs that subscribe to one key elect a
//! leader through an exclusive Web Lock named after the key: the holder opens the socket and relays
//! every frame over a `BroadcastChannel` of the same name; the others follow: their subscribers get
//! the relayed frames and the leader's state, and their sends go through the leader.
//!
//! What the browser gives, and what this machine adds:
//! - The lock passes by itself when its holder's page closes, crashes or navigates away (the
//!   browser releases it): the next tab in the lock's queue is granted it and leads.
//! - A frozen or hung holder keeps its lock. A visible follower that hears nothing from the leader
//!   probes it; with no answer for [`STEAL_AFTER_MS`] it takes the lock with `steal`. The old
//!   holder's lock request then fails (`Lost`): it closes its socket and follows.
//! - Every leader takes an epoch greater than any it has heard (`max(last + 1, now)`): a follower
//!   drops what an older leader says (a resumed one's late frames), so a frame is delivered once
//!   per tab, in the order the leader received it (one sender's channel messages keep their
//!   order).
//! - The lock is the authority. Tabs that steal at once (all probed a hung holder) may end with
//!   the last holder having the smaller epoch (clocks apart, neither heard the other yet): a
//!   leader that hears a greater epoch follows it but keeps its lock; the other tab learns it
//!   lost the lock (`Lost`), says `Goodbye` and follows, and the holder leads again with an epoch
//!   greater than both.
//! - A follower's send goes to the leader of the epoch it knows and is acknowledged; while no
//!   leader is known it waits in a queue bounded like the connection's. One that was handed to a
//!   leader that went away without acknowledging it is reported `unsent`: never sent twice.
//!
//! The token never crosses the channel: each leader connects with its own tab's token.

use crate::machine::{ErrorKind, State};

/// A visible follower that has heard nothing from the leader for a tick probes it; unanswered for
/// this long, it takes the lock (`steal`).
pub const STEAL_AFTER_MS: u64 = 3000;

/// How often a follower's driver feeds [`Input::Tick`].
pub const TICK_MS: u32 = 1000;

/// Which tab holds the socket, as the handle's `role` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// This tab holds the socket and relays it.
    Leader,
    /// Another tab holds (or is about to hold) the socket; this one gets its frames.
    Follower,
    /// No sharing across tabs (not supported, turned off, or `share: "page"` / `false`).
    Page,
}

impl Role {
    /// The string the JavaScript API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Leader => "leader",
            Role::Follower => "follower",
            Role::Page => "page",
        }
    }
}

/// What one tab says to the others on the key's channel. `M` is a frame's or a send's data (a
/// `JsValue` in the browser). Tabs are named by random ids, epochs are milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub enum Wire<M> {
    /// A follower is here (on joining, and to each new leader): the leader counts it and answers
    /// with `State`.
    Hello {
        /// The follower.
        tab: u64,
    },
    /// A follower leaves (its last subscriber closed, or its page is going).
    Bye {
        /// The follower.
        tab: u64,
    },
    /// A tab took the lock and leads from `epoch` on.
    Lead {
        /// The new leader.
        tab: u64,
        /// Its epoch.
        epoch: u64,
    },
    /// The leader of `epoch` is letting the lock go (its page is hiding, or its last subscriber
    /// closed): the next tab in the lock's queue will lead.
    Goodbye {
        /// The leaving leader's epoch.
        epoch: u64,
    },
    /// A frame the leader received, numbered from 1 in its epoch.
    Frame {
        /// The leader's epoch.
        epoch: u64,
        /// The frame's number.
        seq: u64,
        /// The frame's data (text, `ArrayBuffer` or `Blob`).
        data: M,
    },
    /// The leader's connection state and how many tabs share it.
    State {
        /// The leader's epoch.
        epoch: u64,
        /// Its connection's state.
        state: State,
        /// Tabs sharing the socket, the leader's included.
        tabs: u32,
    },
    /// An error of the leader's connection that concerns every tab.
    Error {
        /// The leader's epoch.
        epoch: u64,
        /// `connect`, `timeout` or `retries-exhausted`.
        kind: ErrorKind,
        /// The message (the leader's URL without a token).
        message: String,
    },
    /// A follower's message, for the leader of `epoch` to send.
    Send {
        /// The follower.
        tab: u64,
        /// The follower's number for it, for `Ack`.
        id: u64,
        /// The leader it is meant for; another leader ignores it.
        epoch: u64,
        /// The message.
        data: M,
    },
    /// The leader took (`ok`) or refused (its queue is full, or it is closing) message `id`.
    Ack {
        /// The follower that sent it.
        tab: u64,
        /// The follower's number for it.
        id: u64,
        /// Taken.
        ok: bool,
    },
    /// A follower that heard nothing for a while asks whether the leader is there.
    Probe {
        /// The follower.
        tab: u64,
    },
    /// The leader's answer to `Probe`.
    Alive {
        /// The leader's epoch.
        epoch: u64,
    },
}

/// What the browser side reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Input<M> {
    /// This tab has subscribers for the key (again): ask for the lock, follow meanwhile.
    Start,
    /// The lock is this tab's; `now` a wall-clock reading (microseconds in the browser), the
    /// floor of the new epoch.
    Granted {
        /// The clock, for the epoch.
        now: u64,
    },
    /// The lock was taken from this tab (stolen), or the check before an attempt found it gone.
    Lost,
    /// A word from another tab.
    Heard(Wire<M>),
    /// (Leader) its connection's state changed.
    Connection(State),
    /// (Leader) its connection reported an error.
    ConnectionError {
        /// The error's kind.
        kind: ErrorKind,
        /// Its message.
        message: String,
    },
    /// (Leader) a frame arrived on the socket.
    Frame(M),
    /// (Leader) the connection took (`ok`) or refused a follower's message.
    Forwarded {
        /// The follower.
        tab: u64,
        /// Its number for the message.
        id: u64,
        /// Taken.
        ok: bool,
    },
    /// A timer tick (every [`TICK_MS`]) with the clock and the page's visibility.
    Tick {
        /// The clock, in milliseconds.
        now: u64,
        /// Whether the page is visible (hidden followers never steal: the browser may be
        /// throttling them, not the leader).
        visible: bool,
    },
    /// The page is going (`pagehide`) or being frozen (`freeze`): a frozen tab can relay nothing,
    /// so it lets the lock go rather than make the others wait to steal it.
    Hide,
    /// The page is back (`pageshow` from the back/forward cache, or `resume`).
    Show,
    /// The last subscriber of this tab closed. A leader says goodbye and lets the lock go; the
    /// driver closes the connection itself (which reports what it still held).
    End,
}

/// What the browser side must do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect<M> {
    /// Ask for the lock (queued behind its holder), or take it from the holder (`steal`). A new
    /// request replaces this tab's pending one.
    RequestLock {
        /// Take it from a holder that does not answer.
        steal: bool,
    },
    /// Let the lock go if held, and drop a pending request.
    ReleaseLock,
    /// Say something on the channel.
    Post(Wire<M>),
    /// Start the connection (this tab now holds the lock).
    StartSocket,
    /// Close the socket and its timers without telling the subscribers: another tab leads now.
    StopSocket,
    /// Hand a relayed frame to this tab's subscribers.
    Deliver(M),
    /// The state this tab's subscribers see changed (followers mirror the leader's).
    Mirror(State),
    /// An error for this tab's subscribers.
    Report {
        /// The error's kind.
        kind: ErrorKind,
        /// Its message.
        message: String,
    },
    /// Hand a message to this tab's connection (a follower's, or this tab's own queued while it
    /// followed, with `tab` this tab); feed back `Forwarded` for another tab's.
    Forward {
        /// Whose message it is.
        tab: u64,
        /// Its number.
        id: u64,
        /// The message.
        data: M,
    },
}

/// The verdict on a follower's `send`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// Handed to the leader (acknowledged later).
    Handed,
    /// Held until a leader is known.
    Queued,
    /// Refused: the queue is full (a `Report` says so).
    QueueFull,
    /// Refused: closed for good.
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Not started: no lock requested.
    Idle,
    /// The page is hidden in the back/forward cache or frozen: no lock, nothing said.
    Hidden,
    /// Lock requested; following whoever leads.
    Following,
    /// This tab holds the lock and the socket.
    Leading,
    /// Closed for good.
    Ended,
}

/// One key's election and relay in one tab. See the module docs.
#[derive(Debug, Clone)]
pub struct Tabs<M> {
    me: u64,
    phase: Phase,
    /// The epoch of the leader this tab follows or is (0: none heard yet).
    epoch: u64,
    /// The newest epoch heard from another tab: a leader that lost its lock goes back to it, so
    /// that the tab that took the lock is followed even if its clock gave it a smaller epoch.
    others: u64,
    /// Whether the leader of `epoch` is there (false after its `Goodbye`).
    led: bool,
    /// Whether this tab holds the lock (granted, not lost, released or asked again). The lock is
    /// the authority: a holder that deferred to a leader with a greater epoch (tabs that took
    /// the lock at once from a hung one, their clocks apart) leads again as soon as that leader
    /// goes (its lock was taken by this tab, so it will).
    holds: bool,
    /// The last frame number delivered (follower) or sent (leader) in `epoch`.
    seq: u64,
    /// The state this tab's subscribers see.
    shown: State,
    /// (Leader) its connection's state.
    conn: State,
    /// (Leader) the followers that said `Hello`; (follower) the leader's count.
    followers: Vec<u64>,
    tabs: u32,
    /// Messages waiting for a leader.
    outbox: Vec<(u64, M)>,
    /// Messages handed to the leader of an epoch and not acknowledged yet.
    inflight: Vec<(u64, u64)>,
    next_id: u64,
    queue_limit: usize,
    /// Heard from the leader since the last tick.
    heard: bool,
    /// When an unanswered probe went out.
    probed: Option<u64>,
    /// (Leader) relay every frame until the next tick: it took over from a leader that had
    /// followers, whose `Hello`s may not have arrived yet.
    census: bool,
}

impl<M> Tabs<M> {
    /// A tab's machine for one key: `me` is this tab's random id, `queue_limit` the connection's.
    pub fn new(me: u64, queue_limit: usize) -> Self {
        Tabs {
            me,
            phase: Phase::Idle,
            epoch: 0,
            others: 0,
            led: false,
            holds: false,
            seq: 0,
            shown: State::Connecting,
            conn: State::Connecting,
            followers: Vec::new(),
            tabs: 1,
            outbox: Vec::new(),
            inflight: Vec::new(),
            next_id: 0,
            queue_limit,
            heard: false,
            probed: None,
            census: false,
        }
    }

    /// The handle's `role`.
    pub fn role(&self) -> Role {
        if self.phase == Phase::Leading {
            Role::Leader
        } else {
            Role::Follower
        }
    }

    /// Whether this tab holds the lock (and may open the socket).
    pub fn leads(&self) -> bool {
        self.phase == Phase::Leading
    }

    /// Tabs sharing the socket, this one included, as far as this tab knows.
    pub fn tabs(&self) -> u32 {
        if self.phase == Phase::Leading {
            self.followers.len() as u32 + 1
        } else {
            self.tabs.max(1)
        }
    }

    /// The epoch of the leader this tab follows or is.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Whether this tab leads and relays frames (it has followers, or may have: the first tick
    /// after taking over). A leader alone reads nothing of a frame for the relay.
    pub fn relays(&self) -> bool {
        self.phase == Phase::Leading && (self.census || !self.followers.is_empty())
    }

    /// Messages held until a leader is known.
    pub fn queued(&self) -> usize {
        self.outbox.len()
    }

    /// Messages handed to the leader and not acknowledged yet.
    pub fn unacknowledged(&self) -> usize {
        self.inflight.len()
    }

    /// A subscriber of this tab sends while the tab follows (a leader's tab sends on its own
    /// connection).
    pub fn send(&mut self, data: M) -> (Sent, Vec<Effect<M>>) {
        let mut out = Vec::new();
        if self.phase == Phase::Ended {
            return (Sent::Closed, out);
        }
        self.next_id += 1;
        let id = self.next_id;
        if self.phase == Phase::Leading {
            // The driver sends on the connection itself; kept for completeness.
            out.push(Effect::Forward {
                tab: self.me,
                id,
                data,
            });
            return (Sent::Handed, out);
        }
        if self.led {
            self.hand(id, data, &mut out);
            return (Sent::Handed, out);
        }
        if self.outbox.len() >= self.queue_limit {
            out.push(Effect::Report {
                kind: ErrorKind::QueueFull,
                message: format!(
                    "no tab holds the socket yet and {} messages are already waiting (queueLimit)",
                    self.queue_limit
                ),
            });
            return (Sent::QueueFull, out);
        }
        self.outbox.push((id, data));
        (Sent::Queued, out)
    }

    fn hand(&mut self, id: u64, data: M, out: &mut Vec<Effect<M>>) {
        self.inflight.push((id, self.epoch));
        out.push(Effect::Post(Wire::Send {
            tab: self.me,
            id,
            epoch: self.epoch,
            data,
        }));
    }

    /// Feeds one input; returns what to do, in order.
    pub fn handle(&mut self, input: Input<M>) -> Vec<Effect<M>> {
        let mut out = Vec::new();
        match input {
            Input::Start => {
                if matches!(self.phase, Phase::Idle) {
                    self.follow(&mut out);
                }
            }
            Input::Granted { now } => self.granted(now, &mut out),
            Input::Lost => {
                if self.phase == Phase::Leading {
                    // Followers that still listen to this epoch hear that its socket is going.
                    out.push(Effect::Post(Wire::Goodbye { epoch: self.epoch }));
                    self.step_down(&mut out);
                    self.request_lock(false, &mut out);
                } else if self.holds && self.phase == Phase::Following {
                    self.request_lock(false, &mut out);
                }
            }
            Input::Heard(w) => self.heard(w, &mut out),
            Input::Connection(state) => self.connection(state, &mut out),
            Input::ConnectionError { kind, message } => {
                let relayed = matches!(
                    kind,
                    ErrorKind::Connect | ErrorKind::Timeout | ErrorKind::RetriesExhausted
                );
                if self.phase == Phase::Leading && relayed && !self.followers.is_empty() {
                    out.push(Effect::Post(Wire::Error {
                        epoch: self.epoch,
                        kind,
                        message,
                    }));
                }
            }
            Input::Frame(data) => {
                if self.relays() {
                    self.seq += 1;
                    out.push(Effect::Post(Wire::Frame {
                        epoch: self.epoch,
                        seq: self.seq,
                        data,
                    }));
                }
            }
            Input::Forwarded { tab, id, ok } => {
                if tab != self.me {
                    out.push(Effect::Post(Wire::Ack { tab, id, ok }));
                }
            }
            Input::Tick { now, visible } => self.tick(now, visible, &mut out),
            Input::Hide => match self.phase {
                Phase::Leading => {
                    self.leave_lead(&mut out);
                    out.push(Effect::StopSocket);
                    self.phase = Phase::Hidden;
                }
                Phase::Following => {
                    out.push(Effect::Post(Wire::Bye { tab: self.me }));
                    self.release_lock(&mut out);
                    self.phase = Phase::Hidden;
                }
                _ => {}
            },
            Input::Show => {
                if self.phase == Phase::Hidden {
                    self.follow(&mut out);
                }
            }
            Input::End => {
                match self.phase {
                    Phase::Leading => self.leave_lead(&mut out),
                    Phase::Following => {
                        out.push(Effect::Post(Wire::Bye { tab: self.me }));
                        self.release_lock(&mut out);
                    }
                    _ => self.release_lock(&mut out),
                }
                self.phase = Phase::Ended;
                self.unsend_all(&mut out);
            }
        }
        out
    }

    /// Asks for the lock and follows meanwhile; a leader that is there answers the `Hello`.
    fn follow(&mut self, out: &mut Vec<Effect<M>>) {
        self.phase = Phase::Following;
        self.led = false;
        self.heard = false;
        self.probed = None;
        self.request_lock(false, out);
        out.push(Effect::Post(Wire::Hello { tab: self.me }));
        self.mirror(
            if self.epoch == 0 {
                State::Connecting
            } else {
                State::Reconnecting
            },
            out,
        );
    }

    fn granted(&mut self, now: u64, out: &mut Vec<Effect<M>>) {
        if self.phase != Phase::Following {
            // Granted after this tab ended or hid: not wanted any more.
            self.release_lock(out);
            return;
        }
        self.phase = Phase::Leading;
        self.holds = true;
        self.epoch = (self.epoch.max(self.others) + 1).max(now);
        self.led = true;
        self.seq = 0;
        self.followers.clear();
        self.probed = None;
        self.census = self.tabs > 1;
        self.conn = State::Connecting;
        out.push(Effect::Post(Wire::Lead {
            tab: self.me,
            epoch: self.epoch,
        }));
        self.unsend_inflight(|_| true, out);
        out.push(Effect::StartSocket);
        for (id, data) in std::mem::take(&mut self.outbox) {
            out.push(Effect::Forward {
                tab: self.me,
                id,
                data,
            });
        }
    }

    /// Asks for the lock (or takes it): a new request replaces the one held or pending.
    fn request_lock(&mut self, steal: bool, out: &mut Vec<Effect<M>>) {
        self.holds = false;
        out.push(Effect::RequestLock { steal });
    }

    /// Lets the lock go, or drops the pending request.
    fn release_lock(&mut self, out: &mut Vec<Effect<M>>) {
        self.holds = false;
        out.push(Effect::ReleaseLock);
    }

    /// A leader that lost the lock (stolen) or saw a newer leader: stops its socket and follows.
    fn step_down(&mut self, out: &mut Vec<Effect<M>>) {
        self.phase = Phase::Following;
        self.epoch = self.others;
        self.led = false;
        self.followers.clear();
        self.heard = false;
        self.probed = None;
        out.push(Effect::StopSocket);
        self.mirror(State::Reconnecting, out);
    }

    /// A leader letting go: says goodbye first, so followers know the socket is going.
    fn leave_lead(&mut self, out: &mut Vec<Effect<M>>) {
        out.push(Effect::Post(Wire::Goodbye { epoch: self.epoch }));
        self.release_lock(out);
        self.led = false;
        self.followers.clear();
    }

    fn connection(&mut self, state: State, out: &mut Vec<Effect<M>>) {
        if self.phase != Phase::Leading {
            return;
        }
        self.conn = state;
        if !self.followers.is_empty() {
            out.push(Effect::Post(Wire::State {
                epoch: self.epoch,
                state,
                tabs: self.tabs(),
            }));
        }
        self.shown = state;
        if state == State::Closed {
            // Closed for good (retries exhausted, shouldReconnect said no, refused): every tab
            // hears it (the `State` above) and the lock goes.
            self.phase = Phase::Ended;
            self.release_lock(out);
        }
    }

    fn heard(&mut self, w: Wire<M>, out: &mut Vec<Effect<M>>) {
        if self.phase == Phase::Leading {
            self.heard_as_leader(w, out);
        } else if self.phase == Phase::Following {
            self.heard_as_follower(w, out);
        }
    }

    fn heard_as_leader(&mut self, w: Wire<M>, out: &mut Vec<Effect<M>>) {
        match w {
            Wire::Hello { tab } => {
                if !self.followers.contains(&tab) {
                    self.followers.push(tab);
                }
                out.push(Effect::Post(Wire::State {
                    epoch: self.epoch,
                    state: self.conn,
                    tabs: self.tabs(),
                }));
            }
            Wire::Bye { tab } => self.followers.retain(|t| *t != tab),
            Wire::Send {
                tab,
                id,
                epoch,
                data,
            } if epoch == self.epoch => out.push(Effect::Forward { tab, id, data }),
            Wire::Probe { .. } => out.push(Effect::Post(Wire::Alive { epoch: self.epoch })),
            // Two leaders: the other took the lock from this one (and this one has not heard
            // `Lost` yet), or this one took it from the other, whose clock gave it a greater
            // epoch. Either way, follow the greater epoch now, keeping the lock: `Lost` comes if
            // it was taken; if not, the other loses it and this tab leads again when it goes.
            Wire::Lead { epoch, .. }
            | Wire::Frame { epoch, .. }
            | Wire::State { epoch, .. }
            | Wire::Alive { epoch }
                if epoch > self.epoch =>
            {
                self.step_down(out);
                self.heard_as_follower(w, out);
            }
            _ => {}
        }
    }

    fn heard_as_follower(&mut self, w: Wire<M>, out: &mut Vec<Effect<M>>) {
        match w {
            Wire::Lead { epoch, .. } => {
                if epoch >= self.epoch {
                    self.adopt(epoch, out);
                }
            }
            Wire::State {
                epoch, state, tabs, ..
            } => {
                if epoch < self.epoch {
                    return;
                }
                self.adopt(epoch, out);
                self.tabs = tabs;
                self.mirror(state, out);
                if state == State::Closed {
                    self.phase = Phase::Ended;
                    self.release_lock(out);
                    self.unsend_all(out);
                }
            }
            Wire::Frame { epoch, seq, data } => {
                if epoch < self.epoch {
                    return;
                }
                self.adopt(epoch, out);
                if seq > self.seq {
                    self.seq = seq;
                    out.push(Effect::Deliver(data));
                }
            }
            Wire::Error {
                epoch,
                kind,
                message,
            } => {
                if epoch >= self.epoch {
                    self.adopt(epoch, out);
                    out.push(Effect::Report { kind, message });
                }
            }
            Wire::Goodbye { epoch } => {
                if epoch == self.epoch && self.led {
                    self.led = false;
                    self.mirror(State::Reconnecting, out);
                    if self.holds {
                        self.granted(0, out); // this tab holds the lock: it leads
                    }
                }
            }
            Wire::Alive { epoch } => {
                if epoch >= self.epoch {
                    self.adopt(epoch, out);
                }
            }
            Wire::Ack { tab, id, ok } => {
                if tab == self.me {
                    self.inflight.retain(|(i, _)| *i != id);
                    if !ok {
                        out.push(Effect::Report {
                            kind: ErrorKind::Unsent,
                            message: "the tab holding the socket could not take this message \
                                      (its queue is full, or it is closing)"
                                .into(),
                        });
                    }
                }
            }
            Wire::Hello { .. } | Wire::Bye { .. } | Wire::Send { .. } | Wire::Probe { .. } => {}
        }
    }

    /// Hears from the leader of `epoch` (at least the current one): a newer one is adopted, its
    /// `Hello` said, what the old one never acknowledged reported, and the queue handed over.
    fn adopt(&mut self, epoch: u64, out: &mut Vec<Effect<M>>) {
        self.others = self.others.max(epoch);
        self.heard = true;
        self.probed = None;
        if epoch == self.epoch && self.led {
            return;
        }
        let newer = epoch > self.epoch;
        self.epoch = epoch;
        self.led = true;
        if newer {
            self.seq = 0;
            out.push(Effect::Post(Wire::Hello { tab: self.me }));
            self.unsend_inflight(|e| e < epoch, out);
        }
        for (id, data) in std::mem::take(&mut self.outbox) {
            self.hand(id, data, out);
        }
    }

    fn tick(&mut self, now: u64, visible: bool, out: &mut Vec<Effect<M>>) {
        self.census = false;
        if self.phase != Phase::Following {
            return;
        }
        let heard = std::mem::take(&mut self.heard);
        if self.holds && !heard {
            // Deferred to a leader that has gone quiet while this tab holds the lock: lead.
            return self.granted(now, out);
        }
        if !visible || heard {
            self.probed = None;
            return;
        }
        match self.probed {
            None => {
                self.probed = Some(now);
                out.push(Effect::Post(Wire::Probe { tab: self.me }));
            }
            Some(since) if now.saturating_sub(since) >= STEAL_AFTER_MS => {
                self.probed = None;
                self.request_lock(true, out);
            }
            Some(_) => {}
        }
    }

    fn mirror(&mut self, state: State, out: &mut Vec<Effect<M>>) {
        if self.shown != state {
            self.shown = state;
            out.push(Effect::Mirror(state));
        }
    }

    /// Reports the handed messages of the epochs `gone` says went away unacknowledged.
    fn unsend_inflight(&mut self, gone: impl Fn(u64) -> bool, out: &mut Vec<Effect<M>>) {
        let before = self.inflight.len();
        self.inflight.retain(|(_, e)| !gone(*e));
        let lost = before - self.inflight.len();
        if lost > 0 {
            out.push(Effect::Report {
                kind: ErrorKind::Unsent,
                message: format!(
                    "the tab holding the socket went away before it took {lost} message(s); \
                     they were not sent"
                ),
            });
        }
    }

    /// Closed for good: whatever waits is reported, never dropped silently.
    fn unsend_all(&mut self, out: &mut Vec<Effect<M>>) {
        let waiting = self.outbox.len();
        self.outbox.clear();
        self.unsend_inflight(|_| true, out);
        if waiting > 0 {
            out.push(Effect::Report {
                kind: ErrorKind::Unsent,
                message: format!("{waiting} message(s) never sent: the connection closed"),
            });
        }
    }
}

/// A word as it crosses the channel: its number, three numbers, and a frame's or a send's data
/// or an error's text. Tabs of another version use another lock and channel name (the driver's
/// `url::TAB_PROTOCOL` prefix), so they never read each other's words.
#[derive(Debug, Clone, PartialEq)]
pub struct Flat<M> {
    /// The word's number.
    pub t: u32,
    /// Ids, epochs, counts, codes.
    pub n: [f64; 3],
    /// The data or the text.
    pub v: Option<Value<M>>,
}

/// The value a [`Flat`] word carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<M> {
    /// A frame's or a send's data.
    Data(M),
    /// An error's message.
    Text(String),
}

const STATES: [State; 4] = [
    State::Connecting,
    State::Open,
    State::Reconnecting,
    State::Closed,
];

const KINDS: [ErrorKind; 8] = [
    ErrorKind::Parse,
    ErrorKind::Callback,
    ErrorKind::Connect,
    ErrorKind::Timeout,
    ErrorKind::QueueFull,
    ErrorKind::Token,
    ErrorKind::RetriesExhausted,
    ErrorKind::Unsent,
];

fn code<T: PartialEq>(all: &[T], x: &T) -> f64 {
    all.iter().position(|y| y == x).unwrap_or(0) as f64
}

fn of<T: Copy>(all: &[T], n: f64) -> Option<T> {
    // `as` saturates: NaN and negatives become 0, which is in range, so check the sign first.
    (n >= 0.0).then(|| all.get(n as usize).copied()).flatten()
}

impl<M> Wire<M> {
    /// The word in its channel form.
    pub fn flatten(self) -> Flat<M> {
        let f = |t, n: [u64; 3], v| Flat {
            t,
            n: n.map(|x| x as f64),
            v,
        };
        match self {
            Wire::Hello { tab } => f(0, [tab, 0, 0], None),
            Wire::Bye { tab } => f(1, [tab, 0, 0], None),
            Wire::Lead { tab, epoch } => f(2, [tab, epoch, 0], None),
            Wire::Goodbye { epoch } => f(3, [epoch, 0, 0], None),
            Wire::Frame { epoch, seq, data } => f(4, [epoch, seq, 0], Some(Value::Data(data))),
            Wire::State { epoch, state, tabs } => Flat {
                t: 5,
                n: [epoch as f64, code(&STATES, &state), tabs as f64],
                v: None,
            },
            Wire::Error {
                epoch,
                kind,
                message,
            } => Flat {
                t: 6,
                n: [epoch as f64, code(&KINDS, &kind), 0.0],
                v: Some(Value::Text(message)),
            },
            Wire::Send {
                tab,
                id,
                epoch,
                data,
            } => f(7, [tab, id, epoch], Some(Value::Data(data))),
            Wire::Ack { tab, id, ok } => f(8, [tab, id, ok as u64], None),
            Wire::Probe { tab } => f(9, [tab, 0, 0], None),
            Wire::Alive { epoch } => f(10, [epoch, 0, 0], None),
        }
    }

    /// A word read from the channel: `t` and `n` as they came, `v` the value (`text` reads an
    /// error's message from it); `None` for anything that is not a word of ours.
    pub fn unflatten(
        t: f64,
        n: [f64; 3],
        v: M,
        text: impl FnOnce(&M) -> Option<String>,
    ) -> Option<Wire<M>> {
        let [a, b, c] = n.map(|x| if x >= 0.0 { x as u64 } else { 0 });
        Some(match t as i64 {
            0 => Wire::Hello { tab: a },
            1 => Wire::Bye { tab: a },
            2 => Wire::Lead { tab: a, epoch: b },
            3 => Wire::Goodbye { epoch: a },
            4 => Wire::Frame {
                epoch: a,
                seq: b,
                data: v,
            },
            5 => Wire::State {
                epoch: a,
                state: of(&STATES, n[1])?,
                tabs: c as u32,
            },
            6 => Wire::Error {
                epoch: a,
                kind: of(&KINDS, n[1])?,
                message: text(&v)?,
            },
            7 => Wire::Send {
                tab: a,
                id: b,
                epoch: c,
                data: v,
            },
            8 => Wire::Ack {
                tab: a,
                id: b,
                ok: c == 1,
            },
            9 => Wire::Probe { tab: a },
            10 => Wire::Alive { epoch: a },
            _ => return None,
        })
    }
}
