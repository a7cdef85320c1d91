//! The rest of the options table against the real server: fresh tokens, shouldReconnect, the queue
//! limit, maxRetries, heartbeat, the page's online/offline events, hooks and debug logging.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use event_socket::socket;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn base(extra: &[(&str, JsValue)]) -> Vec<(&'static str, JsValue)> {
    let mut v: Vec<(&'static str, JsValue)> = vec![
        ("url", events_url().into()),
        ("reconnectInterval", 50.into()),
        ("maxReconnectInterval", 200.into()),
        ("jitter", 0.into()),
        ("minUptime", 0.into()),
    ];
    for (k, val) in extra {
        let k: &'static str = Box::leak(k.to_string().into_boxed_str());
        v.retain(|(p, _)| *p != k);
        v.push((k, val.clone()));
    }
    v
}

#[wasm_bindgen_test]
async fn a_token_function_is_called_before_every_attempt_and_may_return_a_promise() {
    let _turn = serial().await;
    let tok = token("fresh").await;
    let calls = Recorder::new();
    let token_fn = js_sys::Function::new_with_args(
        "tok, log",
        "return () => { log.push([1]); return Promise.resolve(tok) }",
    )
    .call2(&JsValue::NULL, &tok.into(), &calls.log)
    .unwrap();
    let sub = socket(
        &"messages.upsert".into(),
        &f(&Recorder::new()),
        &opts(&base(&[("token", token_fn)])),
    )
    .unwrap();
    wait_state(&sub, "open", 5000).await;
    assert_eq!(calls.len(), 1);
    control("/control/drop?mode=abrupt&target=events").await;
    wait_for("reconnecting", 3000, || sub.state() != "open").await;
    wait_for("open again", 5000, || sub.state() == "open").await;
    assert_eq!(calls.len(), 2, "called again for the new attempt");
    assert!(sub
        .url()
        .as_string()
        .is_some_and(|u| u.ends_with("token=[redacted]")));
    sub.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
}

#[wasm_bindgen_test]
async fn a_throwing_token_function_is_reported_and_backed_off() {
    let _turn = serial().await;
    let tok = token("tokfail").await;
    let errors = Recorder::new();
    // Throws on the first call, rejects on the second, returns a promise whose `then` throws on
    // the third (a patched or subclassed Promise), then works.
    let token_fn = js_sys::Function::new_with_args(
        "tok",
        "let n = 0; return () => { n++; if (n === 1) throw new Error('no token yet'); \
         if (n === 2) return Promise.reject(new Error('still none')); \
         if (n === 3) { const p = Promise.resolve(tok); p.then = () => { throw new Error('then broke') }; return p } \
         return tok }",
    )
    .call1(&JsValue::NULL, &tok.into())
    .unwrap();
    let sub = socket(
        &"messages.upsert".into(),
        &f(&Recorder::new()),
        &opts(&base(&[("token", token_fn), ("onError", f(&errors))])),
    )
    .unwrap();
    wait_for("open on the fourth try", 5000, || sub.state() == "open").await;
    assert_eq!(errors.kinds(), vec!["token", "token", "token"]);
    assert_eq!(
        get(&get(&errors.arg(2), "cause"), "message")
            .as_string()
            .as_deref(),
        Some("then broke")
    );
    assert_eq!(
        get(&get(&errors.arg(0), "cause"), "message")
            .as_string()
            .as_deref(),
        Some("no token yet")
    );
    sub.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
}

#[wasm_bindgen_test]
async fn a_token_promise_that_settles_after_close_opens_nothing_and_breaks_nothing() {
    let _turn = serial().await;
    let tok = token("latetoken").await;
    // Pending token promises whose settle functions the test keeps; unhandled rejections recorded
    // (a closure freed before its promise settled would throw inside the promise reaction).
    let held = js("(() => { const h = { settle: [], unhandled: [] };
           addEventListener('unhandledrejection', (e) => h.unhandled.push(String(e.reason)));
           h.token = () => new Promise((ok, no) => h.settle.push([ok, no]));
           return h; })()");
    let errors = Recorder::new();
    let mut subs = Vec::new();
    for _ in 0..2 {
        subs.push(
            socket(
                &"messages.upsert".into(),
                &f(&Recorder::new()),
                // Not shared: two connections, each with a promise of its own.
                &opts(&base(&[
                    ("token", get(&held, "token")),
                    ("onError", f(&errors)),
                    ("share", false.into()),
                ])),
            )
            .unwrap(),
        );
    }
    sleep(50).await;
    for sub in &subs {
        assert_eq!(sub.state(), "connecting", "waiting for its token");
        sub.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
    }
    // One promise resolves with a good token, the other rejects, both after the close.
    let settle = js_sys::Array::from(&get(&held, "settle"));
    assert_eq!(settle.length(), 2);
    let call = |i: u32, which: u32, v: &JsValue| {
        let pair = js_sys::Array::from(&settle.get(i));
        pair.get(which)
            .unchecked_into::<js_sys::Function>()
            .call1(&JsValue::NULL, v)
            .unwrap();
    };
    call(0, 0, &tok.into());
    call(1, 1, &js("new Error('too late')"));
    sleep(300).await;
    for sub in &subs {
        assert_eq!(sub.state(), "closed");
    }
    assert_eq!(connects("latetoken", "messages.upsert").await, 0.0);
    assert_eq!(errors.len(), 0, "no report for a closed subscription");
    let unhandled = js_sys::Array::from(&get(&held, "unhandled"));
    assert_eq!(unhandled.length(), 0, "{:?}", unhandled.to_vec());
}

#[wasm_bindgen_test]
async fn should_reconnect_false_stops_after_that_close() {
    let _turn = serial().await;
    let tok = token("shouldnt").await;
    let closes = Recorder::new();
    let decide = js("(ev) => ev.code !== 4000");
    let sub = socket(
        &"messages.upsert".into(),
        &f(&Recorder::new()),
        &opts(&base(&[
            ("token", tok.into()),
            ("shouldReconnect", decide),
            ("onClose", f(&closes)),
        ])),
    )
    .unwrap();
    wait_state(&sub, "open", 5000).await;
    control("/control/drop?mode=close&code=4001&target=events").await;
    wait_for("back after 4001", 5000, || {
        closes.len() >= 1 && sub.state() == "open"
    })
    .await;
    assert_eq!(get(&closes.arg2(0), "willReconnect").as_bool(), Some(true));
    assert_eq!(get(&closes.arg2(0), "delay").as_f64(), Some(50.0));
    assert_eq!(get(&closes.arg(0), "code").as_f64(), Some(4001.0));
    control("/control/drop?mode=close&code=4000&target=events").await;
    wait_for("closed for good", 3000, || sub.state() == "closed").await;
    let last = closes.len() - 1;
    assert_eq!(get(&closes.arg(last), "code").as_f64(), Some(4000.0));
    assert_eq!(
        get(&closes.arg2(last), "willReconnect").as_bool(),
        Some(false)
    );
    let before = connects("shouldnt", "messages.upsert").await;
    sleep(300).await;
    assert_eq!(connects("shouldnt", "messages.upsert").await, before);
}

#[wasm_bindgen_test]
async fn a_full_queue_refuses_and_reports_and_keeps_what_it_holds() {
    let _turn = serial().await;
    let errors = Recorder::new();
    let got = Recorder::new();
    control("/control/stall?ms=300").await;
    // An event of its own: a connection another test left open on /echo must not be joined (it
    // was, once, in Firefox after the heartbeat test failed: then the sends went out at once).
    let sub = socket(
        &"queue-full".into(),
        &f(&got),
        &opts(&[
            ("url", echo_url().into()),
            ("parse", "text".into()),
            ("queueLimit", 2.into()),
            ("onError", f(&errors)),
            ("connectTimeout", 0.into()),
        ]),
    )
    .unwrap();
    assert!(sub.send(&"a".into()).unwrap());
    assert!(sub.send(&"b".into()).unwrap());
    assert!(!sub.send(&"c".into()).unwrap(), "the third does not fit");
    assert_eq!(errors.kinds(), vec!["queue-full"]);
    wait_for("queued messages echoed", 8000, || got.len() == 2).await;
    assert_eq!(got.strings(), vec!["a", "b"]);
    sub.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
}

#[wasm_bindgen_test]
async fn max_retries_gives_up_with_retries_exhausted() {
    let _turn = serial().await;
    let errors = Recorder::new();
    let states = Recorder::new();
    let sub = socket(
        &"messages.upsert".into(),
        &f(&Recorder::new()),
        &opts(&base(&[
            ("token", "bad".into()),
            ("maxRetries", 2.into()),
            ("onError", f(&errors)),
            ("onStateChange", f(&states)),
        ])),
    )
    .unwrap();
    wait_for("closed", 5000, || sub.state() == "closed").await;
    assert_eq!(
        errors.kinds(),
        vec!["connect", "connect", "connect", "retries-exhausted"]
    );
    assert_eq!(states.strings().last().map(String::as_str), Some("closed"));
    assert_eq!(sub.retries(), 3);
    // reconnect() revives it (here: fails again, which is fine; it must try).
    sub.reconnect();
    assert_ne!(sub.state(), "closed");
    sub.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
}

#[wasm_bindgen_test]
async fn heartbeat_keeps_an_answering_link_and_replaces_a_silent_one() {
    let _turn = serial().await;
    let hb = opts(&[
        ("interval", 100.into()),
        ("timeout", 100.into()),
        ("message", "ping".into()),
    ]);
    // /echo answers every ping: the link stays up.
    let echoed = Recorder::new();
    let alive = socket(
        &"echo".into(),
        &f(&echoed),
        &opts(&[
            ("url", echo_url().into()),
            ("parse", "text".into()),
            ("heartbeat", hb.clone()),
        ]),
    )
    .unwrap();
    // The events server never answers: with a heartbeat the link counts as dead.
    let tok = token("heartbeat").await;
    let errors = Recorder::new();
    let silent = socket(
        &"messages.upsert".into(),
        &f(&Recorder::new()),
        &opts(&base(&[
            ("token", tok.into()),
            ("heartbeat", hb),
            ("onError", f(&errors)),
        ])),
    )
    .unwrap();
    wait_for("three pings echoed and a heartbeat timeout", 10_000, || {
        echoed.strings().iter().filter(|s| *s == "ping").count() >= 3
            && errors.kinds().contains(&"timeout".to_string())
    })
    .await;
    assert_eq!(alive.retries(), 0);
    assert_eq!(alive.state(), "open");
    assert!(
        errors.kinds().contains(&"timeout".to_string()),
        "{:?}",
        errors.kinds()
    );
    alive
        .close(&JsValue::UNDEFINED, &JsValue::UNDEFINED)
        .unwrap();
    silent
        .close(&JsValue::UNDEFINED, &JsValue::UNDEFINED)
        .unwrap();
}

#[wasm_bindgen_test]
async fn offline_spends_no_retries_and_online_reconnects_at_once() {
    let _turn = serial().await;
    let tok = token("offline").await;
    let retries = Recorder::new();
    let sub = socket(
        &"messages.upsert".into(),
        &f(&Recorder::new()),
        &opts(&base(&[
            ("token", tok.into()),
            ("reconnectInterval", 60_000.into()),
            ("maxReconnectInterval", 60_000.into()),
            ("onReconnect", f(&retries)),
        ])),
    )
    .unwrap();
    open_eventually(&sub).await;
    js("window.dispatchEvent(new Event('offline'))");
    control("/control/drop?mode=abrupt&target=events").await;
    wait_for("reconnecting", 3000, || sub.state() == "reconnecting").await;
    sleep(100).await;
    assert_eq!(retries.len(), 0, "no retry scheduled while offline");
    assert_eq!(sub.retries(), 0);
    js("window.dispatchEvent(new Event('online'))");
    // The retry interval is a minute: only the online event can bring it back this fast.
    wait_for("open at once", 3000, || sub.state() == "open").await;
    sub.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
}

#[wasm_bindgen_test]
async fn debug_logs_the_lifecycle_without_the_token() {
    let _turn = serial().await;
    let tok = token("debuglog").await;
    let logs = js_sys::Array::new();
    let restore = js_sys::Function::new_with_args(
        "logs",
        "const orig = console.log; console.log = (...a) => { logs.push(a.join(' ')); }; return () => { console.log = orig }",
    )
    .call1(&JsValue::NULL, &logs)
    .unwrap();
    let sub = socket(
        &"messages.upsert".into(),
        &f(&Recorder::new()),
        &opts(&base(&[
            ("token", tok.clone().into()),
            ("debug", true.into()),
        ])),
    )
    .unwrap();
    wait_state(&sub, "open", 5000).await;
    sub.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
    let _ = restore
        .unchecked_ref::<js_sys::Function>()
        .call0(&JsValue::NULL);
    let lines: Vec<String> = logs.iter().filter_map(|l| l.as_string()).collect();
    assert!(lines.iter().any(|l| l.contains("open")), "{lines:?}");
    assert!(lines.iter().any(|l| l.contains("[redacted]")));
    assert!(
        lines.iter().all(|l| !l.contains(&tok)),
        "the token leaked into a log"
    );
}

#[wasm_bindgen_test]
async fn hooks_that_call_back_into_the_subscription_are_safe() {
    let _turn = serial().await;
    let got = Recorder::new();
    // onOpen sends, and the callback closes on the first echo: re-entrant calls from hooks.
    let holder = js_sys::Array::new();
    let on_open =
        js_sys::Function::new_with_args("holder", "return () => holder[0].send('from onOpen')")
            .call1(&JsValue::NULL, &holder)
            .unwrap();
    let cb = js_sys::Function::new_with_args(
        "holder, log",
        "return (data) => { log.push([data]); holder[0].close() }",
    )
    .call2(&JsValue::NULL, &holder, &got.log)
    .unwrap();
    let sub = socket(
        &"echo".into(),
        &cb,
        &opts(&[
            ("url", echo_url().into()),
            ("parse", "text".into()),
            ("onOpen", on_open),
        ]),
    )
    .unwrap();
    holder.push(&JsValue::from(sub));
    wait_for("echo of the message sent from onOpen", 5000, || {
        got.len() == 1
    })
    .await;
    assert_eq!(got.strings(), vec!["from onOpen"]);
    let state = get(&holder.get(0), "state").as_string();
    assert_eq!(state.as_deref(), Some("closed"));
}

#[wasm_bindgen_test]
async fn a_connection_dropped_within_min_uptime_keeps_counting_retries() {
    let _turn = serial().await;
    let tok = token("uptime").await;
    let retries = Recorder::new();
    let sub = socket(
        &"messages.upsert".into(),
        &f(&Recorder::new()),
        &opts(&base(&[
            ("token", tok.into()),
            ("minUptime", 60_000.into()),
            ("onReconnect", f(&retries)),
        ])),
    )
    .unwrap();
    // The server accepts, then drops at once, three times: the count must grow, not reset.
    for round in 1..=3u32 {
        wait_state(&sub, "open", 5000).await;
        control("/control/drop?mode=abrupt&target=events").await;
        wait_for("retry scheduled", 3000, || retries.len() == round).await;
    }
    let attempts: Vec<f64> = (0..3)
        .map(|i| get(&retries.arg(i), "attempt").as_f64().unwrap())
        .collect();
    let delays: Vec<f64> = (0..3)
        .map(|i| get(&retries.arg(i), "delay").as_f64().unwrap())
        .collect();
    assert_eq!(attempts, vec![1.0, 2.0, 3.0]);
    assert_eq!(
        delays,
        vec![50.0, 100.0, 200.0],
        "the backoff keeps growing"
    );
    sub.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
}

#[wasm_bindgen_test]
async fn a_tab_becoming_visible_retries_at_once() {
    let _turn = serial().await;
    let tok = token("visible").await;
    let sub = socket(
        &"messages.upsert".into(),
        &f(&Recorder::new()),
        &opts(&base(&[
            ("token", tok.into()),
            ("reconnectInterval", 60_000.into()),
            ("maxReconnectInterval", 60_000.into()),
        ])),
    )
    .unwrap();
    open_eventually(&sub).await;
    control("/control/drop?mode=abrupt&target=events").await;
    wait_for("waiting a minute to retry", 3000, || {
        sub.state() == "reconnecting"
    })
    .await;
    js("Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'visible' }); \
        document.dispatchEvent(new Event('visibilitychange'))");
    wait_for("open at once", 3000, || sub.state() == "open").await;
    js("delete document.visibilityState");
    sub.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
}

/// A token function whose promise never settles: each attempt is abandoned at `connectTimeout`
/// like a stalled handshake and retried, and only the current attempt's wait holds closures (an
/// abandoned wait is emptied and freed, not left for a settlement that never comes).
#[wasm_bindgen_test]
async fn a_token_promise_that_never_settles_times_out_and_holds_nothing_after() {
    let _turn = serial().await;
    let closures = || {
        get(&event_socket::js::debug_stats(), "closures")
            .as_f64()
            .unwrap_or(-1.0)
    };
    let before = closures();
    let errors = Recorder::new();
    let sub = socket(
        &"messages.upsert".into(),
        &f(&Recorder::new()),
        &opts(&[
            ("url", events_url().into()),
            ("token", js("() => new Promise(() => {})")),
            ("connectTimeout", 100.into()),
            ("reconnectInterval", 20.into()),
            ("maxReconnectInterval", 20.into()),
            ("onError", f(&errors)),
        ]),
    )
    .unwrap();
    let timeouts = || errors.kinds().iter().filter(|k| *k == "timeout").count();
    wait_for("three abandoned attempts", 5000, || timeouts() >= 3).await;
    // One wait (two closures) and at most the two timers of the attempt under way.
    let held = closures() - before;
    assert!(
        held <= 4.0,
        "{held} closures held after {} attempts",
        timeouts()
    );
    sub.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
    assert_eq!(closures(), before, "close frees the wait");
}
