//! The fault suite: the server drops, refuses, stalls and restarts while the client works; nothing
//! queued is lost, nothing is duplicated or reordered, and nothing leaks.
#![cfg(target_arch = "wasm32")]

mod common;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use common::*;
use event_socket::socket;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn console_log(s: &str) {
    web_sys::console::log_1(&s.into());
}

#[wasm_bindgen_test]
async fn two_hundred_drop_cycles_lose_nothing_queued_and_never_duplicate_or_reorder() {
    let _turn = serial().await;
    control("/control/reset").await;
    let got = Recorder::new();
    let errors = Recorder::new();
    let opens = Recorder::new();
    let sub = Rc::new(
        socket(
            &"echo".into(),
            &f(&got),
            &opts(&[
                ("url", echo_url().into()),
                ("parse", "text".into()),
                ("reconnectInterval", 10.into()),
                ("maxReconnectInterval", 40.into()),
                ("minUptime", 0.into()),
                ("queueLimit", 100000.into()),
                ("onError", f(&errors)),
                ("onOpen", f(&opens)),
            ]),
        )
        .unwrap(),
    );
    wait_for("open", 5000, || sub.state() == "open").await;
    // The writer: numbered messages every 2 ms, noting whether the socket was open at the time.
    let stop = Rc::new(Cell::new(false));
    let sent: Rc<RefCell<Vec<bool>>> = Rc::default();
    {
        let (sub, stop, sent) = (sub.clone(), stop.clone(), sent.clone());
        wasm_bindgen_futures::spawn_local(async move {
            while !stop.get() {
                let n = sent.borrow().len();
                let open = sub.state() == "open";
                assert!(sub.send(&n.to_string().into()).unwrap(), "send {n} refused");
                sent.borrow_mut().push(open);
                sleep(2).await;
            }
        });
    }
    let mut max_open = 0.0f64;
    for cycle in 0..200 {
        let path = match cycle % 4 {
            0 => "/control/drop?mode=abrupt&target=echo",
            1 => "/control/drop?mode=close&code=1012&target=echo",
            2 => "/control/drop?mode=close&code=4000&reason=bye&target=echo",
            _ => {
                control("/control/refuse?ms=60").await;
                "/control/drop?mode=abrupt&target=echo"
            }
        };
        let opens_before = opens.len();
        control(path).await;
        // A new socket must open: the old one may still look open until its close event arrives.
        wait_for("reconnected", 10_000, || {
            opens.len() > opens_before && sub.state() == "open"
        })
        .await;
        // What was queued while down is flushed at open; it is then in flight on an open socket
        // like any other message. Let its echoes return before the next drop, so that a queued
        // message that never arrives is a real loss and not the protocol's in-flight loss.
        let last_queued = sent.borrow().iter().rposition(|open| !*open);
        if let Some(last) = last_queued {
            let echoed_up_to = || {
                let n = got.len();
                n > 0
                    && got
                        .arg(n - 1)
                        .as_string()
                        .and_then(|s| s.parse::<usize>().ok())
                        >= Some(last)
            };
            let mut waited = 0;
            while !echoed_up_to() && waited < 5000 && sub.state() == "open" {
                sleep(5).await;
                waited += 5;
            }
        }
        if cycle % 20 == 0 {
            max_open = max_open.max(get(&stats().await, "echo_open").as_f64().unwrap_or(0.0));
        }
        sleep(15).await;
    }
    stop.set(true);
    sleep(20).await;
    let total = sent.borrow().len();
    // Let the last echoes come back.
    let mut last = 0;
    for _ in 0..100 {
        sleep(50).await;
        if got.len() == last && sub.state() == "open" {
            break;
        }
        last = got.len();
    }
    let received: Vec<usize> = got.strings().iter().map(|s| s.parse().unwrap()).collect();
    assert!(
        received.windows(2).all(|w| w[0] < w[1]),
        "echoes out of order or duplicated"
    );
    let mut seen = vec![false; total];
    for &n in &received {
        seen[n] = true;
    }
    let sent = sent.borrow();
    let lost_queued: Vec<usize> = (0..total).filter(|&n| !seen[n] && !sent[n]).collect();
    let lost_open = (0..total).filter(|&n| !seen[n] && sent[n]).count();
    let queued = sent.iter().filter(|o| !**o).count();
    console_log(&format!(
        "fault suite: 200 drop cycles, {total} messages sent ({queued} while not open), {} echoed, \
         {lost_open} lost (handed to an open socket just before an abrupt drop), \
         {} queued messages lost; max open echo sockets seen: {max_open}",
        received.len(),
        lost_queued.len()
    ));
    assert!(
        lost_queued.is_empty(),
        "queued messages lost: {lost_queued:?}"
    );
    assert!(max_open <= 1.0, "two sockets for one subscription");
    assert_eq!(sub.state(), "open");
    assert!(total > 1000, "the writer kept writing: {total}");
    sub.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
}

#[wasm_bindgen_test]
async fn a_long_server_stop_causes_no_retry_storm_and_reconnects_within_the_backoff() {
    let _turn = serial().await;
    let tok = token("stop").await;
    let retries = Recorder::new();
    let sub = socket(
        &"messages.upsert".into(),
        &f(&Recorder::new()),
        &opts(&[
            ("url", events_url().into()),
            ("token", tok.into()),
            ("reconnectInterval", 100.into()),
            ("maxReconnectInterval", 400.into()),
            ("jitter", 0.into()),
            ("onReconnect", f(&retries)),
            ("onError", f(&Recorder::new())),
        ]),
    )
    .unwrap();
    wait_for("open", 5000, || sub.state() == "open").await;
    let t0 = js_sys::Date::now();
    control("/control/restart?down_ms=2500").await;
    wait_for("down", 2000, || sub.state() == "reconnecting").await;
    wait_for("back", 10_000, || sub.state() == "open").await;
    let back_after = js_sys::Date::now() - t0 - 2500.0;
    let attempts = retries.len();
    console_log(&format!(
        "server down 2500 ms: {attempts} retries while down, open again {back_after:.0} ms after it came back"
    ));
    // 100, 200, 400, 400, 400, 400, 400 ms: about 7 retries cover 2.5 s; a storm would be hundreds.
    assert!((4..=10).contains(&attempts), "retries: {attempts}");
    assert!(
        back_after < 400.0 + 500.0,
        "took {back_after} ms after the server came back"
    );
    sub.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
}

#[wasm_bindgen_test]
async fn a_stalled_handshake_hits_connect_timeout_and_then_connects() {
    let _turn = serial().await;
    let tok = token("stall").await;
    let errors = Recorder::new();
    control("/control/stall?ms=700").await;
    let sub = socket(
        &"messages.upsert".into(),
        &f(&Recorder::new()),
        &opts(&[
            ("url", events_url().into()),
            ("token", tok.into()),
            ("connectTimeout", 200.into()),
            ("reconnectInterval", 50.into()),
            ("onError", f(&errors)),
        ]),
    )
    .unwrap();
    wait_for("a timeout", 3000, || {
        errors.kinds().contains(&"timeout".to_string())
    })
    .await;
    wait_for("open after the stall", 5000, || sub.state() == "open").await;
    sub.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
}

#[wasm_bindgen_test]
async fn refusals_grow_the_backoff_to_its_cap() {
    let _turn = serial().await;
    let tok = token("refused").await;
    let retries = Recorder::new();
    control("/control/refuse?ms=1500").await;
    let sub = socket(
        &"messages.upsert".into(),
        &f(&Recorder::new()),
        &opts(&[
            ("url", events_url().into()),
            ("token", tok.into()),
            ("reconnectInterval", 50.into()),
            ("maxReconnectInterval", 200.into()),
            ("jitter", 0.into()),
            ("onReconnect", f(&retries)),
            ("onError", f(&Recorder::new())),
        ]),
    )
    .unwrap();
    wait_for("open after refusals", 5000, || sub.state() == "open").await;
    let delays: Vec<f64> = (0..retries.len())
        .map(|i| get(&retries.arg(i), "delay").as_f64().unwrap())
        .collect();
    let attempts: Vec<f64> = (0..retries.len())
        .map(|i| get(&retries.arg(i), "attempt").as_f64().unwrap())
        .collect();
    assert!(delays.len() >= 5, "{delays:?}");
    assert_eq!(&delays[..4], &[50.0, 100.0, 200.0, 200.0]);
    assert!(delays.iter().all(|d| *d <= 200.0));
    assert_eq!(attempts[..4], [1.0, 2.0, 3.0, 4.0]);
    sub.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
}

#[wasm_bindgen_test]
async fn a_thousand_reconnects_leave_no_closures_and_no_memory_behind() {
    let _turn = serial().await;
    let stats = || event_socket::js::debug_stats();
    let n = |v: &JsValue, k: &str| get(v, k).as_f64().unwrap_or(-1.0);
    let before = stats();
    let sub = socket(
        &"echo".into(),
        &f(&Recorder::new()),
        &opts(&[("url", echo_url().into()), ("parse", "text".into())]),
    )
    .unwrap();
    wait_for("open", 5000, || sub.state() == "open").await;
    // Warm up allocator pools, then measure.
    for _ in 0..50 {
        sub.reconnect();
        wait_for("open", 5000, || sub.state() == "open").await;
    }
    let open_baseline = stats();
    for _ in 0..1000 {
        sub.reconnect();
        wait_for("open", 5000, || sub.state() == "open").await;
    }
    let after = stats();
    sub.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
    let closed = stats();
    console_log(&format!(
        "1000 reconnects: closures {} -> {}, wasm memory {} -> {} bytes; after close: closures {}, connections {}",
        n(&open_baseline, "closures"),
        n(&after, "closures"),
        n(&open_baseline, "memory"),
        n(&after, "memory"),
        n(&closed, "closures"),
        n(&closed, "connections"),
    ));
    assert_eq!(n(&after, "closures"), n(&open_baseline, "closures"));
    assert!(n(&after, "memory") - n(&open_baseline, "memory") <= 65536.0);
    assert_eq!(n(&closed, "closures"), n(&before, "closures"));
    assert_eq!(n(&closed, "connections"), n(&before, "connections"));
}
