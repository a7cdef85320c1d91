//! The cross-tab election and relay (`event_socket::tabs`), driven natively: a simulated browser
//! profile with an exclusive lock (queued requests, `steal`), a broadcast channel (each tab hears
//! the others' words in the order each said them), tabs that open, close, crash, hang, hide and
//! come back, and a CodeChat-like server that sends each frame to the newest socket of the key.
//!
//! Properties, for any sequence of those:
//! - no tab delivers a frame twice or out of order;
//! - once the tabs settle, exactly one tab that can run leads, it holds the lock, its socket is
//!   the server's socket for the key, and the frames the server sends then reach every tab once;
//! - no follower's message is sent twice, and each is sent or reported (never silently lost).

#![cfg(not(target_arch = "wasm32"))]

use std::collections::VecDeque;

use event_socket::machine::{ErrorKind, State};
use event_socket::tabs::{Effect, Input, Role, Sent, Tabs, Wire, STEAL_AFTER_MS, TICK_MS};
use proptest::prelude::*;

/// What reaches a tab: an input, or the lock's answer to one of its requests (the driver feeds
/// `Granted`/`Lost` only for its current request and lets an abandoned request's lock go).
enum Item {
    Input(Input<u32>),
    Grant { req: u64, now: u64 },
    Lost { req: u64 },
}

struct Tab {
    m: Tabs<u32>,
    inbox: VecDeque<Item>,
    /// Its current lock request (0: none).
    req: u64,
    alive: bool,
    /// Hung (a long task, a debugger): processes nothing, keeps its lock.
    busy: bool,
    visible: bool,
    ended: bool,
    socket: bool,
    delivered: Vec<u32>,
    /// Frames its own socket received (a leader's subscribers get them directly).
    received: Vec<u32>,
    reports: Vec<(ErrorKind, String)>,
    shown: Vec<State>,
    /// Its sends the machine accepted (handed or queued), and those reported unsent.
    accepted: usize,
    unsent: usize,
}

#[derive(Default)]
struct Lock {
    holder: Option<(usize, u64)>,
    queue: VecDeque<(usize, u64)>,
    next_req: u64,
}

struct Sim {
    tabs: Vec<Tab>,
    lock: Lock,
    /// The tab whose socket the server sends to (the newest one opened).
    owner: Option<usize>,
    next_frame: u32,
    now: u64,
    /// (tab, id) of every message a leader's connection took: each at most once.
    forwarded: Vec<(u64, u64)>,
}

fn tab_id(i: usize) -> u64 {
    1000 + i as u64
}

impl Sim {
    fn new() -> Self {
        Sim {
            tabs: Vec::new(),
            lock: Lock::default(),
            owner: None,
            next_frame: 0,
            now: 1_000_000,
            forwarded: Vec::new(),
        }
    }

    fn open_tab(&mut self) -> usize {
        let i = self.tabs.len();
        self.tabs.push(Tab {
            m: Tabs::new(tab_id(i), 5),
            inbox: VecDeque::new(),
            req: 0,
            alive: true,
            busy: false,
            visible: true,
            ended: false,
            socket: false,
            delivered: Vec::new(),
            received: Vec::new(),
            reports: Vec::new(),
            shown: Vec::new(),
            accepted: 0,
            unsent: 0,
        });
        self.tabs[i].inbox.push_back(Item::Input(Input::Start));
        i
    }

    fn grant(&mut self, (i, req): (usize, u64)) {
        self.lock.holder = Some((i, req));
        // The epoch clock (microseconds in the browser) moves between two grants, and each tab's
        // is a little off (pages sample the wall clock at different times).
        self.now += 1;
        let now = self.now + (i as u64 * 7) % 5;
        self.tabs[i].inbox.push_back(Item::Grant { req, now });
    }

    /// Lets go of request `req` of tab `i`: pending or held.
    fn release(&mut self, i: usize, req: u64) {
        self.lock.queue.retain(|r| *r != (i, req));
        if self.lock.holder == Some((i, req)) {
            self.lock.holder = None;
            if let Some(next) = self.lock.queue.pop_front() {
                self.grant(next);
            }
        }
    }

    fn holder(&self) -> Option<usize> {
        self.lock.holder.map(|(i, _)| i)
    }

    /// The browser releases everything of a tab that is gone.
    fn gone(&mut self, i: usize) {
        self.tabs[i].alive = false;
        self.tabs[i].socket = false;
        if self.owner == Some(i) {
            self.owner = None;
        }
        self.lock.queue.retain(|(t, _)| *t != i);
        if let Some((h, req)) = self.lock.holder {
            if h == i {
                self.release(i, req);
            }
        }
    }

    fn perform(&mut self, i: usize, effects: Vec<Effect<u32>>) {
        for e in effects {
            match e {
                Effect::RequestLock { steal } => {
                    // A new request replaces the tab's pending or held one.
                    let old = self.tabs[i].req;
                    self.release(i, old);
                    self.lock.next_req += 1;
                    let req = self.lock.next_req;
                    self.tabs[i].req = req;
                    match (self.lock.holder, steal) {
                        (None, _) => self.grant((i, req)),
                        (Some((h, hreq)), true) => {
                            self.tabs[h].inbox.push_back(Item::Lost { req: hreq });
                            self.grant((i, req));
                        }
                        (Some(_), false) => self.lock.queue.push_back((i, req)),
                    }
                }
                Effect::ReleaseLock => {
                    let req = std::mem::take(&mut self.tabs[i].req);
                    self.release(i, req);
                }
                Effect::Post(w) => {
                    for (j, t) in self.tabs.iter_mut().enumerate() {
                        if j != i && t.alive {
                            t.inbox.push_back(Item::Input(Input::Heard(w.clone())));
                        }
                    }
                }
                Effect::StartSocket => {
                    // The driver checks that the tab still holds the lock before it opens a
                    // socket (a grant handled after a steal): if not, the machine hears `Lost`.
                    let req = self.tabs[i].req;
                    if self.lock.holder != Some((i, req)) {
                        self.tabs[i].inbox.push_back(Item::Lost { req });
                        continue;
                    }
                    self.tabs[i].socket = true;
                    self.owner = Some(i);
                    self.tabs[i]
                        .inbox
                        .push_back(Item::Input(Input::Connection(State::Open)));
                }
                Effect::StopSocket => {
                    self.tabs[i].socket = false;
                    if self.owner == Some(i) {
                        self.owner = None;
                    }
                }
                Effect::Deliver(n) => self.tabs[i].delivered.push(n),
                Effect::Mirror(s) => self.tabs[i].shown.push(s),
                Effect::Report { kind, message } => {
                    if kind == ErrorKind::Unsent {
                        // "could not take this message" is one; the others say how many.
                        let n = if message.contains("could not take") {
                            1
                        } else {
                            message
                                .split(|c: char| !c.is_ascii_digit())
                                .find_map(|s| s.parse().ok())
                                .unwrap_or(usize::MAX)
                        };
                        self.tabs[i].unsent += n;
                    }
                    self.tabs[i].reports.push((kind, message));
                }
                Effect::Forward { tab, id, .. } => {
                    assert!(
                        !self.forwarded.contains(&(tab, id)),
                        "message {id} of tab {tab} taken twice"
                    );
                    self.forwarded.push((tab, id));
                    if tab != tab_id(i) {
                        self.tabs[i].inbox.push_back(Item::Input(Input::Forwarded {
                            tab,
                            id,
                            ok: true,
                        }));
                    }
                }
            }
        }
    }

    /// Tab `i` handles its next input, if it can.
    fn step(&mut self, i: usize) -> bool {
        let t = &mut self.tabs[i];
        if !t.alive || t.busy {
            return false;
        }
        let input = match t.inbox.pop_front() {
            None => return false,
            Some(Item::Input(input)) => input,
            Some(Item::Grant { req, now }) if req == t.req => Input::Granted { now },
            Some(Item::Lost { req }) if req == t.req => Input::Lost,
            Some(Item::Grant { req, .. }) => {
                // Granted after the tab gave the request up: the driver lets it go.
                self.release(i, req);
                return true;
            }
            Some(Item::Lost { .. }) => return true,
        };
        if let Input::Frame(n) = &input {
            t.received.push(*n);
        }
        let ends = matches!(input, Input::End) && t.m.leads();
        let effects = t.m.handle(input);
        self.perform(i, effects);
        if ends {
            // The driver closes the connection after the last subscriber's End.
            self.tabs[i].socket = false;
            if self.owner == Some(i) {
                self.owner = None;
            }
        }
        true
    }

    /// Every tab that can run handles everything it has.
    fn drain(&mut self) {
        for _ in 0..100_000 {
            let mut any = false;
            for i in 0..self.tabs.len() {
                any |= self.step(i);
            }
            if !any {
                return;
            }
        }
        panic!("the tabs never settle");
    }

    fn tick_all(&mut self) {
        self.now += TICK_MS as u64;
        for t in self.tabs.iter_mut().filter(|t| t.alive) {
            t.inbox.push_back(Item::Input(Input::Tick {
                now: self.now,
                visible: t.visible,
            }));
        }
    }

    fn server_frame(&mut self) {
        self.next_frame += 1;
        if let Some(o) = self.owner {
            self.tabs[o]
                .inbox
                .push_back(Item::Input(Input::Frame(self.next_frame)));
        }
    }

    fn send(&mut self, i: usize) {
        let t = &mut self.tabs[i];
        if !t.alive || t.busy || t.ended || t.m.leads() {
            return;
        }
        let (verdict, effects) = t.m.send(0);
        if matches!(verdict, Sent::Handed | Sent::Queued) {
            t.accepted += 1;
        }
        self.perform(i, effects);
    }

    fn runnable(&self) -> impl Iterator<Item = (usize, &Tab)> {
        self.tabs
            .iter()
            .enumerate()
            .filter(|(_, t)| t.alive && !t.busy && !t.ended)
    }

    /// Settles the tabs: enough ticks for a visible follower to take the lock from a hung
    /// holder, with everything handled between them.
    fn settle(&mut self) {
        self.drain();
        for _ in 0..(STEAL_AFTER_MS / TICK_MS as u64 + 3) {
            self.tick_all();
            self.drain();
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Open,
    Step(usize),
    Frame,
    Tick,
    Send(usize),
    /// The last subscriber of the tab closes.
    End(usize),
    /// The tab closes: `pagehide`, then it is gone.
    Close(usize),
    /// The tab crashes: gone without a word.
    Crash(usize),
    Hang(usize),
    Unhang(usize),
    Hide(usize),
    Show(usize),
    Visible(usize, bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => Just(Op::Open),
        12 => (0usize..5).prop_map(Op::Step),
        5 => Just(Op::Frame),
        2 => Just(Op::Tick),
        3 => (0usize..5).prop_map(Op::Send),
        1 => (0usize..5).prop_map(Op::End),
        1 => (0usize..5).prop_map(Op::Close),
        1 => (0usize..5).prop_map(Op::Crash),
        1 => (0usize..5).prop_map(Op::Hang),
        1 => (0usize..5).prop_map(Op::Unhang),
        1 => (0usize..5).prop_map(Op::Hide),
        1 => (0usize..5).prop_map(Op::Show),
        1 => ((0usize..5), any::<bool>()).prop_map(|(i, v)| Op::Visible(i, v)),
    ]
}

fn apply(sim: &mut Sim, op: Op) {
    let n = sim.tabs.len();
    let pick = |i: usize| (n > 0).then(|| i % n);
    match op {
        Op::Open => {
            if n < 5 {
                sim.open_tab();
            }
        }
        Op::Step(i) => {
            if let Some(i) = pick(i) {
                sim.step(i);
            }
        }
        Op::Frame => sim.server_frame(),
        Op::Tick => sim.tick_all(),
        Op::Send(i) => {
            if let Some(i) = pick(i) {
                sim.send(i);
            }
        }
        Op::End(i) => {
            if let Some(i) = pick(i) {
                if sim.tabs[i].alive && !sim.tabs[i].ended {
                    sim.tabs[i].ended = true;
                    sim.tabs[i].inbox.push_back(Item::Input(Input::End));
                }
            }
        }
        Op::Close(i) => {
            if let Some(i) = pick(i) {
                if sim.tabs[i].alive && !sim.tabs[i].busy {
                    let effects = sim.tabs[i].m.handle(Input::Hide);
                    sim.perform(i, effects);
                    sim.gone(i);
                }
            }
        }
        Op::Crash(i) => {
            if let Some(i) = pick(i) {
                sim.gone(i);
            }
        }
        Op::Hang(i) => {
            if let Some(i) = pick(i) {
                sim.tabs[i].busy = true;
            }
        }
        Op::Unhang(i) => {
            if let Some(i) = pick(i) {
                sim.tabs[i].busy = false;
            }
        }
        Op::Hide(i) => {
            if let Some(i) = pick(i) {
                if sim.tabs[i].alive {
                    sim.tabs[i].inbox.push_back(Item::Input(Input::Hide));
                }
            }
        }
        Op::Show(i) => {
            if let Some(i) = pick(i) {
                if sim.tabs[i].alive {
                    sim.tabs[i].inbox.push_back(Item::Input(Input::Show));
                }
            }
        }
        Op::Visible(i, v) => {
            if let Some(i) = pick(i) {
                sim.tabs[i].visible = v;
            }
        }
    }
}

/// No tab delivers a frame twice or out of order (frames are numbered by the server).
fn check_order(sim: &Sim) -> Result<(), TestCaseError> {
    for (i, t) in sim.tabs.iter().enumerate() {
        for w in t.delivered.windows(2) {
            prop_assert!(w[0] < w[1], "tab {} delivered {:?}", i, t.delivered);
        }
        for n in &t.delivered {
            prop_assert!(!t.received.contains(n), "tab {} got frame {} twice", i, n);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn one_leader_and_every_frame_once(ops in prop::collection::vec(op(), 1..120)) {
        let mut sim = Sim::new();
        sim.open_tab();
        for op in ops {
            apply(&mut sim, op);
            check_order(&sim)?;
        }

        // Settle: hung tabs stay hung, hidden ones come back, every visible one may steal.
        for t in sim.tabs.iter_mut().filter(|t| t.alive) {
            t.inbox.push_back(Item::Input(Input::Show));
            t.visible = true;
        }
        sim.settle();
        check_order(&sim)?;

        let runnable: Vec<usize> = sim.runnable().map(|(i, _)| i).collect();
        let leaders: Vec<usize> = runnable.iter().copied().filter(|i| sim.tabs[*i].m.leads()).collect();
        if runnable.iter().any(|i| sim.tabs[*i].m.role() != Role::Leader && !sim.tabs[*i].ended) {
            // Anyone still wanting the stream: one leader among the tabs that run.
            prop_assert_eq!(leaders.len(), 1, "leaders among the running tabs");
        }
        prop_assert!(leaders.len() <= 1, "two running leaders: {:?}", leaders);
        if let Some(&l) = leaders.first() {
            prop_assert_eq!(sim.holder(), Some(l), "the leader holds the lock");
            prop_assert_eq!(sim.owner, Some(l), "the leader's socket is the server's");

            // Frames now reach every running tab once, in order.
            let first = sim.next_frame + 1;
            for _ in 0..20 {
                sim.server_frame();
            }
            sim.drain();
            check_order(&sim)?;
            let want: Vec<u32> = (first..first + 20).collect();
            for &i in &runnable {
                let t = &sim.tabs[i];
                let got: Vec<u32> = if i == l {
                    t.received.iter().copied().filter(|n| *n >= first).collect()
                } else {
                    t.delivered.iter().copied().filter(|n| *n >= first).collect()
                };
                if !t.m.leads() && t.m.epoch() != sim.tabs[l].m.epoch() {
                    continue; // ended by a leader's close for good
                }
                prop_assert_eq!(&got, &want, "tab {} (leader {})", i, l);
            }
        }
        // Sends: each taken at most once (asserted as they happen); in a tab that runs, each is
        // taken, reported, or still waiting or unacknowledged: never silently lost.
        sim.drain();
        for (i, t) in sim.tabs.iter().enumerate().filter(|(_, t)| t.alive && !t.busy) {
            let taken = sim.forwarded.iter().filter(|(tab, _)| *tab == tab_id(i)).count();
            let open = t.m.queued() + t.m.unacknowledged();
            prop_assert!(
                taken + t.unsent + open >= t.accepted,
                "tab {}: accepted {}, taken {}, reported {}, open {}",
                i, t.accepted, taken, t.unsent, open
            );
        }
    }
}

fn wire<M>(effects: &[Effect<M>]) -> Vec<&Wire<M>> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Post(w) => Some(w),
            _ => None,
        })
        .collect()
}

#[test]
fn a_lone_tab_leads_and_relays_nothing() {
    let mut t: Tabs<u32> = Tabs::new(1, 5);
    let start = t.handle(Input::Start);
    assert_eq!(start[0], Effect::RequestLock { steal: false });
    assert_eq!(t.role(), Role::Follower);
    let granted = t.handle(Input::Granted { now: 50 });
    assert!(granted.contains(&Effect::StartSocket));
    assert_eq!(t.role(), Role::Leader);
    assert_eq!(t.epoch(), 50);
    // Nobody said Hello: a frame costs no post.
    assert!(t.handle(Input::Frame(7)).is_empty());
    assert_eq!(t.tabs(), 1);
}

#[test]
fn a_follower_mirrors_the_leader_and_its_sends_wait_for_one() {
    let mut t: Tabs<u32> = Tabs::new(2, 2);
    t.handle(Input::Start);
    // No leader known: queued, up to the limit, then refused with a report.
    assert_eq!(t.send(1).0, Sent::Queued);
    assert_eq!(t.send(2).0, Sent::Queued);
    let (v, e) = t.send(3);
    assert_eq!(v, Sent::QueueFull);
    assert!(matches!(
        e[0],
        Effect::Report {
            kind: ErrorKind::QueueFull,
            ..
        }
    ));
    // A leader speaks: Hello to it, the queue handed over.
    let e = t.handle(Input::Heard(Wire::State {
        epoch: 9,
        state: State::Open,
        tabs: 2,
    }));
    let w = wire(&e);
    assert_eq!(w[0], &Wire::Hello { tab: 2 });
    assert!(matches!(
        w[1],
        Wire::Send {
            id: 1,
            epoch: 9,
            ..
        }
    ));
    assert!(matches!(
        w[2],
        Wire::Send {
            id: 2,
            epoch: 9,
            ..
        }
    ));
    assert!(e.contains(&Effect::Mirror(State::Open)));
    assert_eq!(t.tabs(), 2);
    // The leader vanishes before acknowledging #2; a new one leads: #2 is reported, not resent.
    t.handle(Input::Heard(Wire::Ack {
        tab: 2,
        id: 1,
        ok: true,
    }));
    let e = t.handle(Input::Heard(Wire::Lead { tab: 3, epoch: 20 }));
    assert!(e.iter().any(|e| matches!(
        e,
        Effect::Report {
            kind: ErrorKind::Unsent,
            ..
        }
    )));
    assert!(!wire(&e).iter().any(|w| matches!(w, Wire::Send { .. })));
}

#[test]
fn frames_of_an_older_leader_are_dropped() {
    let mut t: Tabs<u32> = Tabs::new(2, 5);
    t.handle(Input::Start);
    t.handle(Input::Heard(Wire::Lead { tab: 1, epoch: 10 }));
    assert_eq!(
        t.handle(Input::Heard(Wire::Frame {
            epoch: 10,
            seq: 1,
            data: 1
        })),
        vec![Effect::Deliver(1)]
    );
    assert!(
        t.handle(Input::Heard(Wire::Frame {
            epoch: 10,
            seq: 1,
            data: 1
        }))
        .is_empty(),
        "a repeat"
    );
    t.handle(Input::Heard(Wire::Lead { tab: 3, epoch: 11 }));
    assert!(
        t.handle(Input::Heard(Wire::Frame {
            epoch: 10,
            seq: 2,
            data: 2
        }))
        .is_empty(),
        "the old leader's"
    );
    assert_eq!(
        t.handle(Input::Heard(Wire::Frame {
            epoch: 11,
            seq: 1,
            data: 3
        })),
        vec![Effect::Deliver(3)]
    );
}

#[test]
fn a_visible_follower_steals_from_a_silent_leader_and_a_hidden_one_does_not() {
    for visible in [true, false] {
        let mut t: Tabs<u32> = Tabs::new(2, 5);
        t.handle(Input::Start);
        t.handle(Input::Heard(Wire::Lead { tab: 1, epoch: 10 }));
        let mut now = 0;
        let mut stole = false;
        for _ in 0..10 {
            now += TICK_MS as u64;
            let e = t.handle(Input::Tick { now, visible });
            stole |= e.contains(&Effect::RequestLock { steal: true });
        }
        assert_eq!(stole, visible);
    }
    // An answer to the probe keeps the leader.
    let mut t: Tabs<u32> = Tabs::new(2, 5);
    t.handle(Input::Start);
    t.handle(Input::Heard(Wire::Lead { tab: 1, epoch: 10 }));
    let mut now = 0;
    for _ in 0..10 {
        now += TICK_MS as u64;
        let e = t.handle(Input::Tick { now, visible: true });
        assert!(!e.contains(&Effect::RequestLock { steal: true }));
        if wire(&e).contains(&&Wire::Probe { tab: 2 }) {
            t.handle(Input::Heard(Wire::Alive { epoch: 10 }));
        }
    }
}

#[test]
fn a_leader_that_lost_its_lock_stops_its_socket_and_follows() {
    let mut t: Tabs<u32> = Tabs::new(1, 5);
    t.handle(Input::Start);
    t.handle(Input::Granted { now: 10 });
    t.handle(Input::Heard(Wire::Hello { tab: 2 }));
    assert_eq!(t.tabs(), 2);
    let e = t.handle(Input::Lost);
    assert!(e.contains(&Effect::StopSocket));
    assert!(e.contains(&Effect::RequestLock { steal: false }));
    assert_eq!(t.role(), Role::Follower);
    // Its socket's late frames relay nothing.
    assert!(t.handle(Input::Frame(5)).is_empty());
}

#[test]
fn a_new_leader_relays_before_its_followers_say_hello_again() {
    // Tab 2 followed a leader with two followers; it takes over and its socket gets a frame
    // before their Hellos arrive: relayed anyway (until the next tick), not lost.
    let mut t: Tabs<u32> = Tabs::new(2, 5);
    t.handle(Input::Start);
    t.handle(Input::Heard(Wire::State {
        epoch: 10,
        state: State::Open,
        tabs: 3,
    }));
    t.handle(Input::Granted { now: 20 });
    let e = t.handle(Input::Frame(1));
    assert_eq!(
        wire(&e),
        vec![&Wire::Frame {
            epoch: 20,
            seq: 1,
            data: 1
        }]
    );
    // After a tick, only the followers that said Hello count.
    t.handle(Input::Tick {
        now: 21,
        visible: true,
    });
    assert!(t.handle(Input::Frame(2)).is_empty());
}

#[test]
fn every_word_crosses_the_channel_unchanged() {
    let words: Vec<Wire<u32>> = vec![
        Wire::Hello { tab: 1 << 52 },
        Wire::Bye { tab: 3 },
        Wire::Lead {
            tab: 4,
            epoch: 1_765_000_000_000_000,
        },
        Wire::Goodbye { epoch: 5 },
        Wire::Frame {
            epoch: 6,
            seq: 7,
            data: 8,
        },
        Wire::State {
            epoch: 9,
            state: State::Reconnecting,
            tabs: 3,
        },
        Wire::Error {
            epoch: 10,
            kind: ErrorKind::RetriesExhausted,
            message: "gone (ws://h/ws/events)".into(),
        },
        Wire::Send {
            tab: 11,
            id: 12,
            epoch: 13,
            data: 14,
        },
        Wire::Ack {
            tab: 15,
            id: 16,
            ok: true,
        },
        Wire::Ack {
            tab: 15,
            id: 17,
            ok: false,
        },
        Wire::Probe { tab: 18 },
        Wire::Alive { epoch: 19 },
    ];
    for w in words {
        let flat = w.clone().flatten();
        // In the browser the value is one JsValue: data, or the text as a string.
        let (v, text) = match flat.v.clone() {
            Some(event_socket::tabs::Value::Data(d)) => (d, None),
            Some(event_socket::tabs::Value::Text(t)) => (0, Some(t)),
            None => (0, None),
        };
        let back = Wire::unflatten(flat.t as f64, flat.n, v, |_| text.clone());
        assert_eq!(back, Some(w));
    }
    // Not ours: unknown numbers, a state or kind out of range.
    assert_eq!(Wire::<u32>::unflatten(42.0, [0.0; 3], 0, |_| None), None);
    assert_eq!(
        Wire::<u32>::unflatten(5.0, [1.0, 9.0, 1.0], 0, |_| None),
        None
    );
    assert_eq!(
        Wire::<u32>::unflatten(6.0, [1.0, -1.0, 0.0], 0, |_| Some("x".into())),
        None
    );
}

/// Found by the property test: three visible followers take the lock at once from a hung
/// holder; the last to take it (the holder) had the smallest epoch (clocks apart) and used to
/// step down for a greater one, letting the lock go to a hung tab's request: nobody led.
#[test]
fn followers_that_take_the_lock_at_once_end_with_the_holder_leading() {
    use Op::*;
    let mut sim = Sim::new();
    sim.open_tab();
    for op in [Open, Step(1), Open, Hang(1), Open, Open, Step(4), Hang(4)] {
        apply(&mut sim, op);
    }
    sim.settle();
    let leaders: Vec<usize> = sim
        .runnable()
        .filter(|(_, t)| t.m.leads())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(leaders.len(), 1, "leaders: {leaders:?}");
    assert_eq!(sim.holder(), Some(leaders[0]));
    assert_eq!(sim.owner, Some(leaders[0]));
    let epoch = sim.tabs[leaders[0]].m.epoch();
    for (i, t) in sim.runnable() {
        assert_eq!(t.m.epoch(), epoch, "tab {i} follows another epoch");
    }
}
