//! The thundering herd, simulated natively: 100,000 clients lose their socket in the same instant
//! (a server restart), the server stays down for 5 s, and every client retries by the state machine's
//! own decisions. We count connection attempts per 100 ms window, with the default jitter and without.
#![cfg(not(target_arch = "wasm32"))]

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use event_socket::backoff::Backoff;
use event_socket::machine::{Action, Config, Input, Machine, TimerKind};

const CLIENTS: usize = 100_000;
const DOWN_MS: f64 = 5_000.0;
const WINDOW_MS: f64 = 100.0;

/// Returns (peak attempts in any window, total attempts).
fn simulate(config: Config) -> (usize, usize) {
    // (time in µs, client, timer id)
    let mut timers: BinaryHeap<Reverse<(u64, usize, u64)>> = BinaryHeap::new();
    let mut windows = vec![0usize; 1000];
    let mut total = 0;
    let mut machines: Vec<Machine<()>> = (0..CLIENTS)
        .map(|i| Machine::new(config.clone(), i as u64 * 7919 + 1))
        .collect();
    // Drive one client's actions; attempts before the server is back fail at once.
    fn drive(
        m: &mut Machine<()>,
        client: usize,
        now: f64,
        actions: Vec<Action<()>>,
        timers: &mut BinaryHeap<Reverse<(u64, usize, u64)>>,
        windows: &mut [usize],
        total: &mut usize,
    ) {
        let mut queue = std::collections::VecDeque::from(actions);
        while let Some(a) = queue.pop_front() {
            match a {
                Action::ResolveToken { socket } => {
                    queue.extend(m.handle(Input::TokenReady { socket }))
                }
                Action::OpenSocket { socket } => {
                    if now > 0.0 {
                        *total += 1;
                        if let Some(w) = windows.get_mut((now / WINDOW_MS) as usize) {
                            *w += 1;
                        }
                    }
                    let input = if now == 0.0 || now >= DOWN_MS {
                        Input::Opened { socket, now }
                    } else {
                        Input::Closed {
                            socket,
                            code: 1006,
                            retry: true,
                            now,
                        }
                    };
                    queue.extend(m.handle(input));
                }
                Action::SetTimer {
                    kind: TimerKind::Retry,
                    id,
                    ms,
                } => {
                    timers.push(Reverse((((now + ms) * 1000.0) as u64, client, id)));
                }
                _ => {}
            }
        }
    }
    for (i, m) in machines.iter_mut().enumerate() {
        let a = m.handle(Input::Start);
        drive(m, i, 0.0, a, &mut timers, &mut windows, &mut total);
        // The restart: every socket closes at t = 0.
        let socket = m.live_socket().expect("open");
        let a = m.handle(Input::Closed {
            socket,
            code: 1006,
            retry: true,
            now: 0.0,
        });
        drive(m, i, 0.0, a, &mut timers, &mut windows, &mut total);
    }
    while let Some(Reverse((t, client, id))) = timers.pop() {
        let now = t as f64 / 1000.0;
        let m = &mut machines[client];
        let a = m.handle(Input::Timer {
            kind: TimerKind::Retry,
            id,
            inbound: 0,
        });
        drive(m, client, now, a, &mut timers, &mut windows, &mut total);
    }
    assert!(machines
        .iter()
        .all(|m| m.state() == event_socket::machine::State::Open));
    (windows.iter().copied().max().unwrap_or(0), total)
}

#[test]
fn jitter_spreads_a_restart_herd() {
    let default = Config::default();
    let no_jitter = Config {
        backoff: Backoff {
            jitter: 0.0,
            ..default.backoff
        },
        ..default.clone()
    };
    let (peak_j, total_j) = simulate(default);
    let (peak_n, total_n) = simulate(no_jitter);
    println!(
        "herd of {CLIENTS} after a {DOWN_MS} ms restart: peak attempts per {WINDOW_MS} ms window \
         with jitter 0.5: {peak_j} ({total_j} attempts in all); without jitter: {peak_n} ({total_n})"
    );
    assert_eq!(
        peak_n, CLIENTS,
        "without jitter every client retries in the same window"
    );
    assert!(
        peak_j * 4 < peak_n,
        "jitter should cut the peak at least fourfold: {peak_j} vs {peak_n}"
    );
}
