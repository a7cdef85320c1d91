//! What is particular to CodeChat's server, against the reference server that speaks it: an event
//! name it refuses (like a bad token), tokens renewed through its refresh endpoint, and payloads
//! in its shapes.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use event_socket::socket;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// A misspelled event is refused by the server exactly like a bad token (a bare 401 before the
/// handshake): the `connect` error says which name was meant. Retries go on as for any refusal.
#[wasm_bindgen_test]
async fn a_misspelled_event_is_named_in_the_connect_error() {
    let _turn = serial().await;
    let errors = Recorder::new();
    let sub = socket(
        &"messages.upserts".into(),
        &f(&Recorder::new()),
        &opts(&[
            ("url", events_url().into()),
            ("token", token("typo").await.into()),
            ("reconnectInterval", 5000.into()),
            ("onError", f(&errors)),
        ]),
    )
    .unwrap();
    wait_for("the connect error", 5000, || errors.len() == 1).await;
    let e = errors.arg(0);
    assert_eq!(get(&e, "kind").as_string().as_deref(), Some("connect"));
    let message = get(&e, "message").as_string().unwrap_or_default();
    assert!(
        message.contains("\"messages.upserts\" is not a CodeChat event")
            && message.contains("did you mean \"messages.upsert\"?"),
        "{message}"
    );
    assert_eq!(sub.state(), "reconnecting", "a refusal is retried as ever");
    sub.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
}

/// The README's recipe for tokens that expire: a token function that renews the token through
/// `PUT /instance/refreshToken/{instance}` before each attempt. The first token has expired before
/// the first attempt; every attempt (the first, and the one after a drop) connects with a fresh one.
#[wasm_bindgen_test]
async fn a_token_function_renews_an_expired_token_through_the_refresh_endpoint() {
    let _turn = serial().await;
    let first = get(
        &http("GET", "/dev/token?instance=renewing&exp_secs=1", None).await,
        "token",
    )
    .as_string()
    .unwrap_or_default();
    sleep(1100).await; // `exp` is now in the past: the server would refuse this token
    let renew = js(&format!(
        "(() => {{
            let current = {first:?};
            const fresh = () => fetch('http://{SERVER}/instance/refreshToken/renewing', {{
                method: 'PUT',
                headers: {{ 'content-type': 'application/json' }},
                body: JSON.stringify({{ oldToken: current }}),
            }}).then((r) => r.json()).then((a) => (current = a.token));
            fresh.current = () => current;
            return fresh;
        }})()"
    ));
    let before = connects("renewing", "messages.upsert").await;
    let sub = socket(
        &"messages.upsert".into(),
        &f(&Recorder::new()),
        &opts(&[
            ("url", events_url().into()),
            ("token", renew.clone()),
            ("reconnectInterval", 50.into()),
        ]),
    )
    .unwrap();
    wait_state(&sub, "open", 5000).await;
    let current = || {
        js_sys::Reflect::get(&renew, &"current".into())
            .ok()
            .and_then(|f| js_sys::Function::from(f).call0(&JsValue::NULL).ok())
            .and_then(|t| t.as_string())
            .unwrap_or_default()
    };
    let after_first = current();
    assert_ne!(after_first, first, "the expired token was renewed");
    control("/control/drop?mode=abrupt").await;
    wait_for("reconnecting", 3000, || sub.state() == "reconnecting").await;
    wait_state(&sub, "open", 5000).await;
    assert_ne!(
        current(),
        after_first,
        "renewed again for the second attempt"
    );
    assert_eq!(connects("renewing", "messages.upsert").await - before, 2.0);
    sub.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
}

/// The simulator sends CodeChat's shapes: `messages.upsert` with numbers for `instanceId` and
/// `id`, `chats.upsert` and `contacts.upsert` as arrays.
#[wasm_bindgen_test]
async fn payloads_arrive_in_codechat_shapes() {
    let _turn = serial().await;
    let tok = token("shapes").await;
    let (msgs, chats, contacts) = (Recorder::new(), Recorder::new(), Recorder::new());
    let subs: Vec<_> = [
        ("messages.upsert", &msgs),
        ("chats.upsert", &chats),
        ("contacts.upsert", &contacts),
    ]
    .iter()
    .map(|(event, rec)| {
        socket(
            &(*event).into(),
            &f(rec),
            &opts(&[("url", events_url().into()), ("token", tok.clone().into())]),
        )
        .unwrap()
    })
    .collect();
    wait_for("all open", 5000, || {
        subs.iter().all(|s| s.state() == "open")
    })
    .await;
    post("/control/simulate/shapes", "{}").await;
    wait_for("one of each", 3000, || {
        msgs.len() == 1 && chats.len() == 1 && contacts.len() == 1
    })
    .await;
    let m = msgs.arg(0);
    assert!(
        get(&m, "instanceId").as_f64().is_some(),
        "instanceId is a number"
    );
    assert!(get(&m, "id").as_f64().is_some(), "id is a number");
    assert!(get(&m, "messageTimestamp").as_f64().is_some());
    assert!(
        js_sys::Array::is_array(&chats.arg(0)),
        "chats.upsert is an array"
    );
    assert!(
        js_sys::Array::is_array(&contacts.arg(0)),
        "contacts.upsert is an array"
    );
    for s in &subs {
        s.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
    }
}
