//! `configure()` changes module-wide defaults, so it runs in a module of its own.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use event_socket::{configure, socket};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn configure_sets_defaults_for_later_sockets() {
    let tok = token("configured").await;
    configure(&opts(&[
        ("url", events_url().into()),
        ("token", tok.into()),
        ("reconnectInterval", 100.into()),
    ]))
    .unwrap();
    let msgs = Recorder::new();
    let sub = socket(&"messages.upsert".into(), &f(&msgs), &JsValue::UNDEFINED).unwrap();
    wait_for("open with configured url and token", 5000, || {
        sub.state() == "open"
    })
    .await;
    configure(&opts(&[("url", "/unused".into()), ("token", "".into())])).unwrap();
    sub.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
}

/// `null` for a hook in `socket()` turns off the hook `configure()` set (README: "`null` turns a
/// hook or the heartbeat off"), and a later `configure()` with `null` removes the default.
#[wasm_bindgen_test]
async fn null_turns_a_configured_hook_off() {
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
    sleep(100).await;
    assert_eq!(states.len(), heard, "{why}: {:?}", states.strings());
}
