//! The state machine, natively: unit tests of its decisions and a property test of its invariants
//! over random sequences of browser and caller events.
#![cfg(not(target_arch = "wasm32"))]

use event_socket::backoff::Backoff;
use event_socket::machine::*;
use proptest::prelude::*;

fn cfg() -> Config {
    Config {
        backoff: Backoff {
            initial: 100.0,
            max: 1000.0,
            factor: 2.0,
            jitter: 0.0,
        },
        max_retries: None,
        min_uptime: 500.0,
        connect_timeout: Some(300.0),
        queue_limit: 3,
        heartbeat: None,
    }
}

/// Drives the machine the way the driver does for a static token.
fn run(m: &mut Machine<u32>, input: Input<u32>) -> Vec<Action<u32>> {
    let mut out = m.handle(input);
    let mut extra = Vec::new();
    for a in &out {
        if let Action::ResolveToken { socket } = a {
            extra.extend(m.handle(Input::TokenReady { socket: *socket }));
        }
    }
    out.extend(extra);
    out
}

/// The armed retry timer's id (the tests fire it by hand).
fn retry_id(m: &Machine<u32>) -> u64 {
    m.armed_timer(TimerKind::Retry)
        .expect("a retry timer is armed")
}

/// Fires the armed retry timer, as the browser would, and returns the socket it opens.
fn fire_retry(m: &mut Machine<u32>) -> u64 {
    let id = retry_id(m);
    let a = run(
        m,
        Input::Timer {
            kind: TimerKind::Retry,
            id,
            inbound: 0,
        },
    );
    opened_socket(&a).expect("the retry opens a socket")
}

fn opened_socket(actions: &[Action<u32>]) -> Option<u64> {
    actions.iter().find_map(|a| match a {
        Action::OpenSocket { socket } => Some(*socket),
        _ => None,
    })
}

fn timer(actions: &[Action<u32>], kind: TimerKind) -> Option<(u64, f64)> {
    actions.iter().find_map(|a| match a {
        Action::SetTimer { kind: k, id, ms } if *k == kind => Some((*id, *ms)),
        _ => None,
    })
}

fn notes(actions: &[Action<u32>]) -> Vec<Note> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Notify(n) => Some(n.clone()),
            _ => None,
        })
        .collect()
}

fn transmitted(actions: &[Action<u32>]) -> Vec<u32> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Transmit(m) => Some(*m),
            _ => None,
        })
        .collect()
}

fn closed(socket: u64, now: f64) -> Input<u32> {
    Input::Closed {
        socket,
        code: 1006,
        retry: true,
        now,
    }
}

#[test]
fn first_attempt_opens_one_socket_and_reports_connecting_then_open() {
    let mut m = Machine::new(cfg(), 1);
    let a = run(&mut m, Input::Start);
    let s = opened_socket(&a).unwrap();
    assert_eq!(m.state(), State::Connecting);
    let a = run(
        &mut m,
        Input::Opened {
            socket: s,
            now: 0.0,
        },
    );
    assert!(a.contains(&Action::CancelTimer {
        kind: TimerKind::ConnectTimeout
    }));
    assert_eq!(notes(&a), vec![Note::Open, Note::State(State::Open)]);
}

#[test]
fn drop_schedules_a_retry_with_growing_delay_and_same_subscription() {
    let mut m = Machine::new(cfg(), 1);
    let s = opened_socket(&run(&mut m, Input::Start)).unwrap();
    run(
        &mut m,
        Input::Opened {
            socket: s,
            now: 0.0,
        },
    );
    let mut delays = Vec::new();
    let mut socket = s;
    let mut now = 10.0;
    for _ in 0..5 {
        let a = run(&mut m, closed(socket, now));
        assert_eq!(m.state(), State::Reconnecting);
        let (id, ms) = timer(&a, TimerKind::Retry).unwrap();
        delays.push(ms);
        let a = run(
            &mut m,
            Input::Timer {
                kind: TimerKind::Retry,
                id,
                inbound: 0,
            },
        );
        socket = opened_socket(&a).unwrap();
        now += 1.0;
    }
    assert_eq!(delays, vec![100.0, 200.0, 400.0, 800.0, 1000.0]);
    assert_eq!(m.retries(), 5);
}

#[test]
fn a_connection_that_lived_min_uptime_resets_the_count() {
    let mut m = Machine::new(cfg(), 1);
    let s = opened_socket(&run(&mut m, Input::Start)).unwrap();
    run(&mut m, closed(s, 0.0));
    let s = fire_retry(&mut m);
    run(
        &mut m,
        Input::Opened {
            socket: s,
            now: 0.0,
        },
    );
    assert_eq!(m.retries(), 1);
    let a = run(&mut m, closed(s, 100.0));
    assert_eq!(m.retries(), 2, "died within minUptime: count kept");
    assert_eq!(timer(&a, TimerKind::Retry).unwrap().1, 200.0);
    let s = fire_retry(&mut m);
    run(
        &mut m,
        Input::Opened {
            socket: s,
            now: 1000.0,
        },
    );
    let a = run(&mut m, closed(s, 2000.0));
    assert_eq!(m.retries(), 1);
    assert_eq!(timer(&a, TimerKind::Retry).unwrap().1, 100.0);
}

#[test]
fn close_while_waiting_to_retry_never_reconnects() {
    let mut m = Machine::new(cfg(), 1);
    let s = opened_socket(&run(&mut m, Input::Start)).unwrap();
    run(&mut m, closed(s, 0.0));
    let id = retry_id(&m);
    let a = run(
        &mut m,
        Input::Close {
            code: 1000,
            reason: String::new(),
        },
    );
    assert!(a.contains(&Action::CancelTimer {
        kind: TimerKind::Retry
    }));
    assert_eq!(m.armed_timers(), 0);
    let a = run(
        &mut m,
        Input::Timer {
            kind: TimerKind::Retry,
            id,
            inbound: 0,
        },
    );
    assert!(a.is_empty(), "a stale timer does nothing: {a:?}");
    assert_eq!(m.state(), State::Closed);
}

#[test]
fn close_while_connecting_closes_that_socket_and_ignores_its_late_events() {
    let mut m = Machine::new(cfg(), 1);
    let s = opened_socket(&run(&mut m, Input::Start)).unwrap();
    let a = run(
        &mut m,
        Input::Close {
            code: 1000,
            reason: "bye".into(),
        },
    );
    assert!(matches!(a[0], Action::CloseSocket { socket, .. } if socket == s));
    assert!(run(
        &mut m,
        Input::Opened {
            socket: s,
            now: 0.0
        }
    )
    .is_empty());
    assert!(run(&mut m, closed(s, 0.0)).is_empty());
    assert_eq!(m.live_socket(), None);
}

#[test]
fn queue_holds_messages_in_order_and_refuses_when_full() {
    let mut m = Machine::new(cfg(), 1);
    let s = opened_socket(&run(&mut m, Input::Start)).unwrap();
    assert_eq!(m.send(1).0, Sent::Queued);
    assert_eq!(m.send(2).0, Sent::Queued);
    assert_eq!(m.send(3).0, Sent::Queued);
    let (v, a) = m.send(4);
    assert_eq!(v, Sent::QueueFull);
    assert!(matches!(
        &notes(&a)[0],
        Note::Error {
            kind: ErrorKind::QueueFull,
            ..
        }
    ));
    let a = run(
        &mut m,
        Input::Opened {
            socket: s,
            now: 0.0,
        },
    );
    assert_eq!(transmitted(&a), vec![1, 2, 3]);
    let (v, a) = m.send(5);
    assert_eq!((v, transmitted(&a)), (Sent::Now, vec![5]));
}

#[test]
fn requeued_messages_go_out_first_and_in_order() {
    let mut m = Machine::new(cfg(), 1);
    let s = opened_socket(&run(&mut m, Input::Start)).unwrap();
    run(
        &mut m,
        Input::Opened {
            socket: s,
            now: 0.0,
        },
    );
    run(&mut m, closed(s, 1.0));
    m.send(3);
    run(&mut m, Input::Requeue(1));
    run(&mut m, Input::Requeue(2));
    let s = fire_retry(&mut m);
    let a = run(
        &mut m,
        Input::Opened {
            socket: s,
            now: 2.0,
        },
    );
    assert_eq!(transmitted(&a), vec![1, 2, 3]);
}

#[test]
fn connect_timeout_abandons_the_attempt_and_retries() {
    let mut m = Machine::new(cfg(), 1);
    let a = run(&mut m, Input::Start);
    let s = opened_socket(&a).unwrap();
    let (id, ms) = timer(&a, TimerKind::ConnectTimeout).unwrap();
    assert_eq!(ms, 300.0);
    let a = run(
        &mut m,
        Input::Timer {
            kind: TimerKind::ConnectTimeout,
            id,
            inbound: 0,
        },
    );
    assert!(matches!(a[0], Action::CloseSocket { socket, .. } if socket == s));
    assert!(notes(&a).iter().any(|n| matches!(
        n,
        Note::Error {
            kind: ErrorKind::Timeout,
            ..
        }
    )));
    assert!(timer(&a, TimerKind::Retry).is_some());
}

#[test]
fn max_retries_gives_up_with_retries_exhausted() {
    let mut c = cfg();
    c.max_retries = Some(2);
    let mut m = Machine::new(c, 1);
    let mut s = opened_socket(&run(&mut m, Input::Start)).unwrap();
    for _ in 0..2 {
        run(&mut m, closed(s, 0.0));
        let id = retry_id(&m);
        s = opened_socket(&run(
            &mut m,
            Input::Timer {
                kind: TimerKind::Retry,
                id,
                inbound: 0,
            },
        ))
        .unwrap();
    }
    let a = run(&mut m, closed(s, 0.0));
    assert_eq!(m.state(), State::Closed);
    assert!(notes(&a).iter().any(|n| matches!(
        n,
        Note::Error {
            kind: ErrorKind::RetriesExhausted,
            ..
        }
    )));
    assert_eq!(m.armed_timers(), 0);
}

#[test]
fn a_socket_the_browser_cannot_create_closes_for_good_without_a_close_note() {
    let mut m = Machine::new(cfg(), 1);
    let s = opened_socket(&run(&mut m, Input::Start)).unwrap();
    assert!(
        run(&mut m, Input::Refused { socket: s + 100 }).is_empty(),
        "stale"
    );
    let (sent, _) = m.send(5);
    assert_eq!(sent, Sent::Queued);
    let a = run(&mut m, Input::Refused { socket: s });
    assert_eq!(m.state(), State::Closed);
    assert_eq!(m.armed_timers(), 0, "no retry, no connect timeout");
    let n = notes(&a);
    assert!(!n.iter().any(|n| matches!(n, Note::Close { .. })), "{n:?}");
    assert!(n.iter().any(|n| matches!(
        n,
        Note::Error {
            kind: ErrorKind::Unsent,
            ..
        }
    )));
    assert_eq!(n.last(), Some(&Note::State(State::Closed)));
}

#[test]
fn should_reconnect_false_closes_for_good() {
    let mut m = Machine::new(cfg(), 1);
    let s = opened_socket(&run(&mut m, Input::Start)).unwrap();
    run(
        &mut m,
        Input::Opened {
            socket: s,
            now: 0.0,
        },
    );
    let a = run(
        &mut m,
        Input::Closed {
            socket: s,
            code: 4001,
            retry: false,
            now: 1.0,
        },
    );
    assert_eq!(m.state(), State::Closed);
    assert!(notes(&a).contains(&Note::Close {
        will_reconnect: false,
        delay: None
    }));
}

#[test]
fn offline_spends_no_retries_and_online_retries_at_once() {
    let mut m = Machine::new(cfg(), 1);
    let s = opened_socket(&run(&mut m, Input::Start)).unwrap();
    run(&mut m, Input::Offline);
    run(&mut m, closed(s, 0.0));
    assert_eq!(m.armed_timers(), 0, "no retry timer while offline");
    assert_eq!(m.retries(), 0, "no retry spent while offline");
    assert_eq!(m.state(), State::Reconnecting);
    let a = run(&mut m, Input::Online);
    assert!(opened_socket(&a).is_some());
}

#[test]
fn heartbeat_without_answer_reconnects() {
    let mut c = cfg();
    c.heartbeat = Some(Heartbeat {
        interval: 50.0,
        timeout: 20.0,
    });
    let mut m = Machine::new(c, 1);
    let s = opened_socket(&run(&mut m, Input::Start)).unwrap();
    let a = run(
        &mut m,
        Input::Opened {
            socket: s,
            now: 0.0,
        },
    );
    let (id, _) = timer(&a, TimerKind::HeartbeatSend).unwrap();
    let a = run(
        &mut m,
        Input::Timer {
            kind: TimerKind::HeartbeatSend,
            id,
            inbound: 7,
        },
    );
    assert!(a.contains(&Action::SendHeartbeat));
    let (id, _) = timer(&a, TimerKind::HeartbeatDeadline).unwrap();
    // An answer arrived: still open.
    let a2 = m.clone().handle(Input::Timer {
        kind: TimerKind::HeartbeatDeadline,
        id,
        inbound: 8,
    });
    assert!(a2.is_empty());
    let a = run(
        &mut m,
        Input::Timer {
            kind: TimerKind::HeartbeatDeadline,
            id,
            inbound: 7,
        },
    );
    assert!(matches!(a[0], Action::CloseSocket { code: 4009, .. }));
    assert_eq!(m.state(), State::Reconnecting);
}

// ---- property tests: any sequence of browser and caller events keeps the invariants ----

#[derive(Debug, Clone)]
enum Step {
    Open,
    Close(bool),
    Refused,
    FireTimer(usize),
    StaleOpen,
    Send,
    UserClose,
    Reconnect,
    Offline,
    Online,
    Visible,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => Just(Step::Open),
        3 => any::<bool>().prop_map(Step::Close),
        1 => Just(Step::Refused),
        4 => (0usize..4).prop_map(Step::FireTimer),
        1 => Just(Step::StaleOpen),
        4 => Just(Step::Send),
        1 => Just(Step::UserClose),
        1 => Just(Step::Reconnect),
        1 => Just(Step::Offline),
        1 => Just(Step::Online),
        1 => Just(Step::Visible),
    ]
}

proptest! {
    #[test]
    fn invariants_hold_for_any_event_sequence(steps in prop::collection::vec(step(), 1..80)) {
        let mut c = cfg();
        c.heartbeat = Some(Heartbeat { interval: 10.0, timeout: 5.0 });
        c.queue_limit = 1000;
        let mut m: Machine<u32> = Machine::new(c, 7);
        // The browser's view: sockets opened and not yet closed by an action or a close event.
        let mut live: Vec<u64> = Vec::new();
        let mut timers: std::collections::HashMap<TimerKind, u64> = Default::default();
        let mut next_msg = 0u32;
        let mut delivered: Vec<u32> = Vec::new();
        let mut accepted: Vec<u32> = Vec::new();
        let mut user_closed = false;
        let mut now = 0.0;
        // Accepted messages reported as unsent (closed with a queue) leave the expected list: the
        // reports must count exactly those accepted and not delivered.
        let mut unsent_reports = 0usize;
        // Offline: the machine waits for `online` instead of retrying (spends no retries).
        let mut offline = false;
        let apply = |a: Vec<Action<u32>>, live: &mut Vec<u64>, timers: &mut std::collections::HashMap<TimerKind, u64>, delivered: &mut Vec<u32>, unsent: &mut usize| {
            for act in a {
                if let Action::Notify(Note::Error { kind: ErrorKind::Unsent, message }) = &act {
                    // "{n} queued message(s) were never sent: …" (never 0: no report then).
                    let n: usize = message.split(' ').next().and_then(|n| n.parse().ok()).unwrap_or(usize::MAX);
                    *unsent += n;
                }
                match act {
                    Action::OpenSocket { socket } => live.push(socket),
                    Action::CloseSocket { socket, .. } => live.retain(|s| *s != socket),
                    Action::SetTimer { kind, id, .. } => { timers.insert(kind, id); }
                    Action::CancelTimer { kind } => { timers.remove(&kind); }
                    Action::Transmit(msg) => delivered.push(msg),
                    _ => {}
                }
            }
        };
        let a = run(&mut m, Input::Start);
        apply(a, &mut live, &mut timers, &mut delivered, &mut unsent_reports);
            if unsent_reports > 0 {
                prop_assert_eq!(m.queued(), 0);
                prop_assert_eq!(unsent_reports, accepted.len() - delivered.len(), "unsent count");
                accepted.truncate(delivered.len());
                unsent_reports = 0;
            }
        for s in steps {
            now += 1.0;
            let input = match s {
                Step::Open => match m.live_socket() { Some(socket) => Input::Opened { socket, now }, None => continue },
                Step::Close(retry) => match m.live_socket() {
                    Some(socket) => { live.retain(|x| *x != socket); Input::Closed { socket, code: 1006, retry, now } }
                    None => continue,
                },
                Step::Refused => match m.live_socket() {
                    Some(socket) => { live.retain(|x| *x != socket); Input::Refused { socket } }
                    None => continue,
                },
                Step::FireTimer(k) => {
                    let kind = TIMER_KINDS[k];
                    match timers.remove(&kind) { Some(id) => Input::Timer { kind, id, inbound: 0 }, None => continue }
                }
                Step::StaleOpen => Input::Opened { socket: 9999, now },
                Step::Send => {
                    next_msg += 1;
                    let (v, a) = m.send(next_msg);
                    if matches!(v, Sent::Now | Sent::Queued) { accepted.push(next_msg); }
                    apply(a, &mut live, &mut timers, &mut delivered, &mut unsent_reports);
            if unsent_reports > 0 {
                prop_assert_eq!(m.queued(), 0);
                prop_assert_eq!(unsent_reports, accepted.len() - delivered.len(), "unsent count");
                accepted.truncate(delivered.len());
                unsent_reports = 0;
            }
                    continue;
                }
                Step::UserClose => { user_closed = true; Input::Close { code: 1000, reason: String::new() } }
                Step::Reconnect => { if user_closed { continue } Input::Reconnect }
                Step::Offline => { offline = true; Input::Offline }
                Step::Online => { offline = false; Input::Online }
                Step::Visible => Input::Visible,
            };
            let a = run(&mut m, input);
            apply(a, &mut live, &mut timers, &mut delivered, &mut unsent_reports);
            if unsent_reports > 0 {
                prop_assert_eq!(m.queued(), 0);
                prop_assert_eq!(unsent_reports, accepted.len() - delivered.len(), "unsent count");
                accepted.truncate(delivered.len());
                unsent_reports = 0;
            }
            prop_assert!(live.len() <= 1, "two live sockets: {:?}", live);
            prop_assert_eq!(m.live_socket().is_some(), !live.is_empty());
            prop_assert_eq!(m.armed_timers(), timers.len());
            if m.state() == State::Closed {
                prop_assert_eq!(m.armed_timers(), 0, "a timer outlived close()");
                prop_assert!(live.is_empty());
            } else {
                // Liveness: short of closing for good, there is always a way back: a socket, a
                // retry timer, or (offline) the page's `online` event.
                prop_assert!(
                    m.live_socket().is_some() || m.armed_timer(TimerKind::Retry).is_some() || offline,
                    "stuck in {:?}: no socket, no retry timer, online", m.state()
                );
            }
        }
        // Delivered messages are a prefix of accepted ones, in order, never twice.
        prop_assert!(delivered.len() <= accepted.len());
        prop_assert_eq!(&accepted[..delivered.len()], &delivered[..]);
    }
}

#[test]
fn a_message_the_closing_socket_refused_waits_for_the_next_socket() {
    let mut m = Machine::new(cfg(), 1);
    let s = opened_socket(&run(&mut m, Input::Start)).unwrap();
    run(
        &mut m,
        Input::Opened {
            socket: s,
            now: 0.0,
        },
    );
    // The socket is closing but its close event has not arrived: no retransmit loop.
    assert!(run(&mut m, Input::Requeue(1)).is_empty());
    assert_eq!(m.queued(), 1);
    run(&mut m, closed(s, 1.0));
    let s = fire_retry(&mut m);
    assert_eq!(
        transmitted(&run(
            &mut m,
            Input::Opened {
                socket: s,
                now: 2.0
            }
        )),
        vec![1]
    );
}

#[test]
fn stop_for_another_tab_closes_quietly_and_hands_back_the_queue() {
    let mut m: Machine<u32> = Machine::new(cfg(), 1);
    let a = run(&mut m, Input::Start);
    let socket = opened_socket(&a).unwrap();
    assert_eq!(m.send(7).0, Sent::Queued);
    let (actions, queue) = m.stop();
    assert_eq!(queue, vec![7]);
    assert!(actions
        .iter()
        .any(|a| matches!(a, Action::CloseSocket { socket: s, code: 1000, .. } if *s == socket)));
    assert!(notes(&actions).is_empty(), "no note: {actions:?}");
    assert_eq!(m.armed_timers(), 0);
    assert_eq!(m.live_socket(), None);
    // The socket's late close is stale; a Start connects again and says so.
    assert!(m.handle(closed(socket, 1.0)).is_empty());
    // A follower's reconnect() must not open a second socket for the key.
    assert!(m.handle(Input::Reconnect).is_empty());
    assert_eq!(m.live_socket(), None);
    let a = run(&mut m, Input::Start);
    assert!(opened_socket(&a).is_some());
    assert!(!notes(&a).is_empty());
}
