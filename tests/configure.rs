//! `configure()` changes module-wide defaults, so it runs in a module of its own.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use event_socket::{configure, socket};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// What `configure()` sets is what later sockets do: its url and token are the ones the server
/// sees, its backoff is the delay a drop schedules, its hook hears the drop, and an option given to
/// `socket()` wins over the configured one.
#[wasm_bindgen_test]
async fn configure_sets_defaults_for_later_sockets() {
    let _turn = serial().await; // it drops the server's sockets
    let tok = token("configured").await;
    let connects_before = connects("configured", "messages.upsert").await;
    let retries = Recorder::new();
    configure(&opts(&[
        ("url", events_url().into()),
        ("token", tok.into()),
        ("reconnectInterval", 123.into()),
        ("jitter", 0.into()),
        ("onReconnect", f(&retries)),
    ]))
    .unwrap();
    let sub = socket(
        &"messages.upsert".into(),
        &f(&Recorder::new()),
        &JsValue::UNDEFINED,
    )
    .unwrap();
    let over = socket(
        &"connection.update".into(),
        &f(&Recorder::new()),
        &opts(&[("reconnectInterval", 456.into())]),
    )
    .unwrap();
    wait_for("open with the configured url and token", 5000, || {
        sub.state() == "open" && over.state() == "open"
    })
    .await;
    let connected = connects("configured", "messages.upsert").await - connects_before;
    assert_eq!(
        connected, 1.0,
        "the server saw the configured url and token once"
    );
    control("/control/drop?mode=abrupt").await;
    wait_for("both dropped and retried", 5000, || retries.len() >= 2).await;
    let mut delays: Vec<f64> = (0..retries.len())
        .map(|i| get(&retries.arg(i), "delay").as_f64().unwrap_or(-1.0))
        .collect();
    delays.sort_by(f64::total_cmp);
    assert_eq!(
        &delays[..2],
        &[123.0, 456.0],
        "configured and overridden delays"
    );
    // For the next test in this module: no working url, no hook of this one.
    configure(&opts(&[
        ("url", "/unused".into()),
        ("token", "".into()),
        ("onReconnect", JsValue::NULL),
    ]))
    .unwrap();
    sub.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
    over.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED)
        .unwrap();
}

/// `null` for a hook in `socket()` turns off the hook `configure()` set (README: "`null` turns a
/// hook or the heartbeat off"), and a later `configure()` with `null` removes the default.
#[wasm_bindgen_test]
async fn null_turns_a_configured_hook_off() {
    let _turn = serial().await;
    let tok = token("configured-null").await;
    let states = Recorder::new();
    configure(&opts(&[
        ("url", events_url().into()),
        ("token", tok.into()),
        ("onStateChange", f(&states)),
    ]))
    .unwrap();
    let msgs = Recorder::new();
    let with_hook = socket(&"contacts.update".into(), &f(&msgs), &JsValue::UNDEFINED).unwrap();
    wait_state(&with_hook, "open", 5000).await;
    wait_for("the configured hook heard open", 5000, || {
        states.strings().iter().any(|s| s == "open")
    })
    .await;
    let heard = states.len();

    silent(
        "chats.update",
        &opts(&[("onStateChange", JsValue::NULL)]),
        &states,
        heard,
        "onStateChange: null still called the configured hook",
    )
    .await;
    configure(&opts(&[("onStateChange", JsValue::NULL)])).unwrap();
    silent(
        "chats.upsert",
        &JsValue::UNDEFINED,
        &states,
        heard,
        "configure({ onStateChange: null }) kept the hook",
    )
    .await;

    with_hook
        .close(&JsValue::UNDEFINED, &JsValue::UNDEFINED)
        .unwrap();
    configure(&opts(&[("url", "/unused".into()), ("token", "".into())])).unwrap();
}

/// Opens a subscription to `event` and closes it: the configured hook must have heard nothing more.
async fn silent(event: &str, options: &JsValue, states: &Recorder, heard: u32, why: &str) {
    let sub = socket(&event.into(), &f(&Recorder::new()), options).unwrap();
    wait_state(&sub, "open", 5000).await;
    sub.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
    // The hook would have heard `open` (and `closed`, synchronously in close()) by now.
    assert_eq!(states.len(), heard, "{why}: {:?}", states.strings());
}

/// `heartbeat: null` in `socket()` turns off the heartbeat `configure()` set: the echo server
/// echoes every ping, so the socket that kept it hears them and the other hears none.
#[wasm_bindgen_test]
async fn heartbeat_null_turns_a_configured_heartbeat_off() {
    let _turn = serial().await;
    configure(&opts(&[
        ("url", echo_url().into()),
        (
            "heartbeat",
            opts(&[("interval", 50.into()), ("message", "ping".into())]),
        ),
    ]))
    .unwrap();
    let (kept, off) = (Recorder::new(), Recorder::new());
    let with = socket(
        &"hb-kept".into(),
        &f(&kept),
        &opts(&[("parse", "text".into())]),
    )
    .unwrap();
    let without = socket(
        &"hb-off".into(),
        &f(&off),
        &opts(&[("parse", "text".into()), ("heartbeat", JsValue::NULL)]),
    )
    .unwrap();
    wait_state(&without, "open", 5000).await;
    wait_for("three pings echoed to the configured one", 5000, || {
        kept.strings().iter().filter(|s| *s == "ping").count() >= 3
    })
    .await;
    assert_eq!(
        off.len(),
        0,
        "heartbeat: null still sent {:?}",
        off.strings()
    );
    with.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED)
        .unwrap();
    without
        .close(&JsValue::UNDEFINED, &JsValue::UNDEFINED)
        .unwrap();
    configure(&opts(&[
        ("url", "/unused".into()),
        ("heartbeat", JsValue::NULL),
    ]))
    .unwrap();
}
