//! Options the README documents, each seen in effect against the real event server: what a user
//! who sets one would see.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use event_socket::socket;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// `url` and `token` for `instance`, then `extra`.
async fn on(instance: &str, extra: &[(&str, JsValue)]) -> JsValue {
    let mut pairs: Vec<(&str, JsValue)> = vec![
        ("url", events_url().into()),
        ("token", token(instance).await.into()),
    ];
    pairs.extend(extra.iter().cloned());
    opts(&pairs)
}

fn close(sub: &event_socket::Subscription) {
    sub.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
}

fn delays(r: &Recorder) -> Vec<f64> {
    (0..r.len())
        .map(|i| get(&r.arg(i), "delay").as_f64().unwrap_or(-1.0))
        .collect()
}

fn attempts(r: &Recorder) -> Vec<f64> {
    (0..r.len())
        .map(|i| get(&r.arg(i), "attempt").as_f64().unwrap_or(-1.0))
        .collect()
}

#[wasm_bindgen_test]
async fn binary_type_blob_hands_binary_frames_over_as_blobs() {
    let _turn = serial().await;
    let msgs = Recorder::new();
    let sub = socket(
        &"messages.upsert".into(),
        &f(&msgs),
        &on(
            "blob",
            &[("binaryType", "blob".into()), ("parse", "text".into())],
        )
        .await,
    )
    .unwrap();
    wait_state(&sub, "open", 5000).await;
    post("/events/blob/messages.upsert?raw=binary", "\u{1}\u{2}xyz").await;
    wait_for("the binary frame", 3000, || msgs.len() == 1).await;
    let blob = msgs.arg(0).dyn_into::<web_sys::Blob>().expect("a Blob");
    assert_eq!(blob.size(), 5.0);
    close(&sub);
}

#[wasm_bindgen_test]
async fn share_false_opens_a_socket_of_its_own() {
    let _turn = serial().await;
    let before = connects("own", "messages.upsert").await;
    let shared = socket(
        &"messages.upsert".into(),
        &f(&Recorder::new()),
        &on("own", &[]).await,
    )
    .unwrap();
    let own = socket(
        &"messages.upsert".into(),
        &f(&Recorder::new()),
        &on("own", &[("share", false.into())]).await,
    )
    .unwrap();
    wait_for("both open", 5000, || {
        shared.state() == "open" && own.state() == "open"
    })
    .await;
    assert_eq!(connects("own", "messages.upsert").await - before, 2.0);
    close(&shared);
    close(&own);
}

/// A subscription that joins a shared connection takes its connection-level options (here the
/// backoff) from the first one; its own hooks still hear everything.
#[wasm_bindgen_test]
async fn a_shared_connection_keeps_the_first_subscriptions_backoff() {
    let _turn = serial().await;
    let (first, second) = (Recorder::new(), Recorder::new());
    let a = socket(
        &"messages.upsert".into(),
        &f(&Recorder::new()),
        &on(
            "first",
            &[
                ("reconnectInterval", 111.into()),
                ("jitter", 0.into()),
                ("onReconnect", f(&first)),
            ],
        )
        .await,
    )
    .unwrap();
    let b = socket(
        &"messages.upsert".into(),
        &f(&Recorder::new()),
        &on(
            "first",
            &[
                ("reconnectInterval", 999.into()),
                ("jitter", 0.into()),
                ("onReconnect", f(&second)),
            ],
        )
        .await,
    )
    .unwrap();
    wait_state(&b, "open", 5000).await;
    control("/control/drop?mode=abrupt").await;
    wait_for("both hear the retry", 5000, || {
        first.len() == 1 && second.len() == 1
    })
    .await;
    assert_eq!(delays(&first), vec![111.0]);
    assert_eq!(delays(&second), vec![111.0], "the joiner's 999 is not used");
    wait_state(&a, "open", 5000).await;
    close(&a);
    close(&b);
}

#[wasm_bindgen_test]
async fn a_throwing_hook_is_reported_as_kind_callback_and_breaks_nothing() {
    let _turn = serial().await;
    let errors = Recorder::new();
    let msgs = Recorder::new();
    let sub = socket(
        &"messages.upsert".into(),
        &f(&msgs),
        &on(
            "hook-throws",
            &[
                ("onOpen", js("() => { throw new Error('from onOpen') }")),
                ("onError", f(&errors)),
            ],
        )
        .await,
    )
    .unwrap();
    wait_for("the report", 5000, || errors.len() == 1).await;
    let e = errors.arg(0);
    assert_eq!(get(&e, "kind").as_string().as_deref(), Some("callback"));
    assert!(get(&e, "message")
        .as_string()
        .unwrap_or_default()
        .contains("onOpen"));
    assert_eq!(
        get(&get(&e, "cause"), "message").as_string().as_deref(),
        Some("from onOpen")
    );
    assert_eq!(sub.state(), "open");
    deliver("hook-throws", "messages.upsert", r#"{"n":1}"#).await;
    wait_for("the message still arrives", 3000, || msgs.len() == 1).await;
    close(&sub);
}

/// Only the options object's own properties are read (what `{ ...options }` copies), and
/// `undefined` means "not given": here `parse: undefined` is the default, JSON.
#[wasm_bindgen_test]
async fn inherited_options_are_not_read_and_undefined_is_not_given() {
    let _turn = serial().await;
    let inherited = Recorder::new();
    let msgs = Recorder::new();
    let proto = opts(&[("onOpen", f(&inherited))]);
    let options: JsValue = js_sys::Object::create(proto.unchecked_ref::<js_sys::Object>()).into();
    let own = on("own-props", &[("parse", JsValue::UNDEFINED)]).await;
    js_sys::Object::assign(
        options.unchecked_ref::<js_sys::Object>(),
        own.unchecked_ref::<js_sys::Object>(),
    );
    let sub = socket(&"messages.upsert".into(), &f(&msgs), &options).unwrap();
    wait_state(&sub, "open", 5000).await;
    deliver("own-props", "messages.upsert", r#"{"n":7}"#).await;
    wait_for("the message", 3000, || msgs.len() == 1).await;
    assert_eq!(
        get(&msgs.arg(0), "n").as_f64(),
        Some(7.0),
        "parsed: parse was not given"
    );
    assert_eq!(inherited.len(), 0, "an inherited onOpen was called");
    close(&sub);
}

/// In the same stalled handshake (the server holds it 600 ms, then drops it), `connectTimeout: 100`
/// abandons the attempt with a `timeout` error and `connectTimeout: 0` never does.
#[wasm_bindgen_test]
async fn connect_timeout_zero_never_abandons_a_slow_handshake() {
    let _turn = serial().await;
    let (untimed_errors, timed_errors) = (Recorder::new(), Recorder::new());
    let untimed_options = on(
        "no-timeout",
        &[
            ("connectTimeout", 0.into()),
            ("onError", f(&untimed_errors)),
        ],
    )
    .await;
    let timed_options = on(
        "timeout",
        &[
            ("connectTimeout", 100.into()),
            ("onError", f(&timed_errors)),
        ],
    )
    .await;
    control("/control/stall?ms=600").await;
    let untimed = socket(
        &"messages.upsert".into(),
        &f(&Recorder::new()),
        &untimed_options,
    )
    .unwrap();
    let timed = socket(
        &"messages.upsert".into(),
        &f(&Recorder::new()),
        &timed_options,
    )
    .unwrap();
    wait_for("both open after the stall", 10_000, || {
        untimed.state() == "open" && timed.state() == "open"
    })
    .await;
    assert!(
        timed_errors.kinds().contains(&"timeout".to_string()),
        "connectTimeout 100: {:?}",
        timed_errors.kinds()
    );
    assert!(
        !untimed_errors.kinds().contains(&"timeout".to_string()),
        "connectTimeout 0: {:?}",
        untimed_errors.kinds()
    );
    close(&untimed);
    close(&timed);
}

#[wasm_bindgen_test]
async fn messages_still_queued_at_close_are_reported_unsent() {
    let _turn = serial().await;
    let errors = Recorder::new();
    let sub = socket(
        &"messages.upsert".into(),
        &f(&Recorder::new()),
        &opts(&[
            ("url", events_url().into()),
            ("token", "not-a-jwt".into()),
            ("reconnectInterval", 10_000.into()),
            ("onError", f(&errors)),
        ]),
    )
    .unwrap();
    assert!(sub.send(&"one".into()).unwrap());
    assert!(sub.send(&"two".into()).unwrap());
    close(&sub);
    let unsent: Vec<JsValue> = (0..errors.len())
        .map(|i| errors.arg(i))
        .filter(|e| get(e, "kind").as_string().as_deref() == Some("unsent"))
        .collect();
    assert_eq!(unsent.len(), 1, "{:?}", errors.kinds());
    let message = get(&unsent[0], "message").as_string().unwrap_or_default();
    assert!(message.contains("2 queued message(s)"), "{message}");
}

#[wasm_bindgen_test]
fn params_that_are_not_a_plain_object_are_a_type_error() {
    for params in ["new Map([['a', 'b']])", "new URLSearchParams('a=b')"] {
        let err = socket(
            &"e".into(),
            &f(&Recorder::new()),
            &opts(&[("url", echo_url().into()), ("params", js(params))]),
        )
        .err()
        .expect("a TypeError");
        assert!(err.is_instance_of::<js_sys::TypeError>(), "{params}");
        let message = get(&err, "message").as_string().unwrap_or_default();
        assert!(message.contains("`params`"), "{message}");
        assert!(message.contains("Object.fromEntries"), "{message}");
    }
}

#[wasm_bindgen_test]
async fn close_with_a_code_and_reason_reaches_the_server() {
    let _turn = serial().await;
    let sub = socket(
        &"messages.upsert".into(),
        &f(&Recorder::new()),
        &on("bye", &[]).await,
    )
    .unwrap();
    wait_state(&sub, "open", 5000).await;
    sub.close(&4001.into(), &"see you".into()).unwrap();
    let seen = || async {
        let closes = js_sys::Array::from(&get(&stats().await, "client_closes"));
        closes.iter().any(|c| {
            get(&c, "key").as_string().as_deref() == Some("bye/messages.upsert")
                && get(&c, "code").as_f64() == Some(4001.0)
                && get(&c, "reason").as_string().as_deref() == Some("see you")
        })
    };
    for _ in 0..100 {
        if seen().await {
            return;
        }
        sleep(20).await;
    }
    panic!("the server never recorded close 4001 \"see you\" for bye/messages.upsert");
}

/// `backoffFactor: 1` keeps every delay at `reconnectInterval`; a connection that lived
/// `minUptime` counts its next failure as attempt 1 again, one that did not keeps counting.
#[wasm_bindgen_test]
async fn backoff_factor_one_and_min_uptime_resetting_the_count() {
    let _turn = serial().await;
    let retries = Recorder::new();
    let sub = socket(
        &"messages.upsert".into(),
        &f(&Recorder::new()),
        &on(
            "uptime",
            &[
                ("reconnectInterval", 50.into()),
                ("backoffFactor", 1.into()),
                ("jitter", 0.into()),
                ("minUptime", 400.into()),
                ("onReconnect", f(&retries)),
            ],
        )
        .await,
    )
    .unwrap();
    wait_state(&sub, "open", 5000).await;
    // Two drops soon after opening: attempts 1 and 2 (the first open is not counted as lived).
    for n in 1..=2u32 {
        control("/control/drop?mode=abrupt").await;
        wait_for("retried", 5000, || retries.len() == n).await;
        wait_state(&sub, "open", 5000).await;
    }
    // Open longer than minUptime, then a drop: the count starts again.
    sleep(600).await;
    control("/control/drop?mode=abrupt").await;
    wait_for("retried", 5000, || retries.len() == 3).await;
    wait_state(&sub, "open", 5000).await;
    assert_eq!(delays(&retries), vec![50.0, 50.0, 50.0]);
    assert_eq!(attempts(&retries), vec![1.0, 2.0, 1.0]);
    close(&sub);
}
