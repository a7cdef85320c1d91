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
    sub.close(None, None).unwrap();
}
