//! The core against the real event server, in headless Chromium.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use event_socket::{configure, socket};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Fast retries so that the tests run in seconds; jitter off so that the counts are exact.
fn fast(tok: &str, extra: &[(&str, JsValue)]) -> JsValue {
    let mut pairs: Vec<(&str, JsValue)> = vec![
        ("url", events_url().into()),
        ("token", tok.into()),
        ("reconnectInterval", 100.into()),
        ("maxReconnectInterval", 400.into()),
        ("jitter", 0.into()),
        ("minUptime", 0.into()),
    ];
    for (k, v) in extra {
        pairs.retain(|(p, _)| p != k);
        pairs.push((k, v.clone()));
    }
    opts(&pairs)
}

#[wasm_bindgen_test]
async fn events_reach_the_right_callback_as_parsed_json() {
    let _turn = serial().await;
    let tok = token("deliver").await;
    let msgs = Recorder::new();
    let conn = Recorder::new();
    let a = socket(&"messages.upsert".into(), &f(&msgs), &fast(&tok, &[])).unwrap();
    let b = socket(&"connection.update".into(), &f(&conn), &fast(&tok, &[])).unwrap();
    wait_for("both open", 5000, || {
        a.state() == "open" && b.state() == "open"
    })
    .await;
    assert_eq!(
        deliver(
            "deliver",
            "messages.upsert",
            r#"{"keyId":"K1","pushName":"Ana","content":{"text":"oi"}}"#
        )
        .await,
        1.0
    );
    wait_for("message delivered", 3000, || msgs.len() == 1).await;
    let data = msgs.arg(0);
    assert_eq!(get(&data, "keyId").as_string().as_deref(), Some("K1"));
    assert_eq!(
        get(&get(&data, "content"), "text").as_string().as_deref(),
        Some("oi")
    );
    assert!(
        msgs.arg2(0).is_instance_of::<web_sys::MessageEvent>(),
        "second argument is the MessageEvent"
    );
    sleep(100).await;
    assert_eq!(conn.len(), 0, "the other event's callback got nothing");
    a.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
    b.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
}

#[wasm_bindgen_test]
async fn three_subscriptions_at_once_each_get_their_own_events() {
    let _turn = serial().await;
    let tok = token("three").await;
    let events = ["messages.upsert", "connection.update", "qrcode.updated"];
    let recs: Vec<Recorder> = events.iter().map(|_| Recorder::new()).collect();
    let subs: Vec<_> = events
        .iter()
        .zip(&recs)
        .map(|(e, r)| socket(&(*e).into(), &f(r), &fast(&tok, &[])).unwrap())
        .collect();
    wait_for("all open", 5000, || {
        subs.iter().all(|s| s.state() == "open")
    })
    .await;
    for (i, e) in events.iter().enumerate() {
        for n in 0..=i {
            deliver("three", e, &format!(r#"{{"n":{n}}}"#)).await;
        }
    }
    wait_for("all delivered", 3000, || {
        recs.iter()
            .enumerate()
            .all(|(i, r)| r.len() as usize == i + 1)
    })
    .await;
    for s in &subs {
        s.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
    }
}

#[wasm_bindgen_test]
async fn reconnects_after_drops_and_a_restart_with_the_same_event_token_and_callback() {
    let _turn = serial().await;
    control("/control/reset").await;
    let tok = token("recon").await;
    let msgs = Recorder::new();
    let states = Recorder::new();
    let sub = socket(
        &"messages.upsert".into(),
        &f(&msgs),
        &fast(&tok, &[("onStateChange", f(&states))]),
    )
    .unwrap();
    wait_for("open", 5000, || sub.state() == "open").await;
    for (round, drop) in [
        "/control/drop?mode=abrupt",
        "/control/drop?mode=close&code=1012",
        "/control/restart?down_ms=600",
    ]
    .iter()
    .enumerate()
    {
        control(drop).await;
        wait_for("reconnecting", 3000, || sub.state() != "open").await;
        wait_for("open again", 8000, || sub.state() == "open").await;
        deliver(
            "recon",
            "messages.upsert",
            &format!(r#"{{"round":{round}}}"#),
        )
        .await;
        wait_for("delivery continues", 3000, || {
            msgs.len() as usize == round + 1
        })
        .await;
        assert_eq!(get(&msgs.last(), "round").as_f64(), Some(round as f64));
    }
    assert!(
        states.strings().contains(&"reconnecting".to_string()),
        "{:?}",
        states.strings()
    );
    assert_eq!(
        open_count("recon", "messages.upsert").await,
        1.0,
        "one socket for one subscription"
    );
    sub.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
}

#[wasm_bindgen_test]
async fn close_while_open_never_reconnects() {
    let _turn = serial().await;
    let tok = token("close-open").await;
    let sub = socket(
        &"messages.upsert".into(),
        &f(&Recorder::new()),
        &fast(&tok, &[]),
    )
    .unwrap();
    wait_for("open", 5000, || sub.state() == "open").await;
    let before = connects("close-open", "messages.upsert").await;
    sub.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
    sub.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap(); // twice is fine
    assert_eq!(sub.state(), "closed");
    sleep(400).await; // > 3 retry intervals
    assert_eq!(connects("close-open", "messages.upsert").await, before);
    assert_eq!(open_count("close-open", "messages.upsert").await, 0.0);
}

#[wasm_bindgen_test]
async fn close_while_connecting_never_reconnects() {
    let _turn = serial().await;
    let tok = token("close-conn").await;
    // Held for 3 s: the close below lands while connecting however slow this machine is.
    let stalled = || async { get(&stats().await, "stalled").as_f64().unwrap_or(0.0) };
    let stalled_before = stalled().await;
    control("/control/stall?ms=3000").await;
    let sub = socket(
        &"messages.upsert".into(),
        &f(&Recorder::new()),
        &fast(&tok, &[]),
    )
    .unwrap();
    assert_eq!(sub.state(), "connecting");
    // Closed once the server holds the handshake (not before the browser has even sent it).
    for _ in 0..250 {
        if stalled().await > stalled_before {
            break;
        }
        sleep(20).await;
    }
    assert_eq!(sub.state(), "connecting");
    sub.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
    assert_eq!(sub.state(), "closed");
    // The stall window ends the stalled handshake; a retry would come 100 ms after that.
    control("/control/reset").await;
    sleep(800).await;
    assert_eq!(connects("close-conn", "messages.upsert").await, 0.0);
    assert_eq!(open_count("close-conn", "messages.upsert").await, 0.0);
}

#[wasm_bindgen_test]
async fn close_while_waiting_to_retry_never_reconnects() {
    let _turn = serial().await;
    let tok = token("close-wait").await;
    let sub = socket(
        &"messages.upsert".into(),
        &f(&Recorder::new()),
        &fast(
            &tok,
            &[
                ("reconnectInterval", 150.into()),
                ("backoffFactor", 1.into()),
            ],
        ),
    )
    .unwrap();
    wait_for("open", 5000, || sub.state() == "open").await;
    control("/control/drop?mode=abrupt").await;
    wait_for("reconnecting", 3000, || sub.state() == "reconnecting").await;
    sub.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
    let before = connects("close-wait", "messages.upsert").await;
    sleep(600).await;
    assert_eq!(connects("close-wait", "messages.upsert").await, before);
    assert_eq!(open_count("close-wait", "messages.upsert").await, 0.0);
    assert_eq!(sub.state(), "closed");
}

#[wasm_bindgen_test]
async fn a_rejected_token_is_reported_and_retried_with_backoff_not_in_a_tight_loop() {
    let _turn = serial().await;
    let attempts_before = get(&stats().await, "attempts").as_f64().unwrap_or(0.0);
    let errors = Recorder::new();
    let retries = Recorder::new();
    let sub = socket(
        &"messages.upsert".into(),
        &f(&Recorder::new()),
        &fast(
            "not-a-jwt",
            &[
                ("onError", f(&errors)),
                ("onReconnect", f(&retries)),
                ("maxReconnectInterval", 10000.into()),
            ],
        ),
    )
    .unwrap();
    // Four refused attempts, then compare what the client decided with what the server saw
    // between the two readings: counts of events, not a time window a loaded machine stretches.
    wait_for("four refused attempts", 10_000, || errors.len() >= 4).await;
    sub.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
    let attempts = get(&stats().await, "attempts").as_f64().unwrap_or(0.0) - attempts_before;
    let delays: Vec<f64> = (0..retries.len())
        .map(|i| get(&retries.arg(i), "delay").as_f64().unwrap_or(-1.0))
        .collect();
    // Backoff, not a tight loop: 100, 200, 400, 800 ms (jitter 0) between attempts, and the server
    // saw one attempt per reported failure (one more if an attempt was on its way at close()).
    assert_eq!(&delays[..3], &[100.0, 200.0, 400.0], "delays {delays:?}");
    let reported = errors.len() as f64;
    assert!(
        attempts == reported || attempts == reported + 1.0,
        "the server saw {attempts} attempts for {reported} reported failures"
    );
    assert!(
        errors.kinds().iter().all(|k| k == "connect"),
        "{:?}",
        errors.kinds()
    );
    assert!(errors.len() >= 2);
    let msg = get(&errors.arg(0), "message")
        .as_string()
        .unwrap_or_default();
    assert!(
        !msg.contains("not-a-jwt"),
        "the token leaked into an error: {msg}"
    );
}

#[wasm_bindgen_test]
async fn text_that_is_not_json_goes_to_on_error_and_the_socket_stays_open() {
    let _turn = serial().await;
    let tok = token("nonjson").await;
    let msgs = Recorder::new();
    let errors = Recorder::new();
    let sub = socket(
        &"messages.upsert".into(),
        &f(&msgs),
        &fast(&tok, &[("onError", f(&errors))]),
    )
    .unwrap();
    wait_for("open", 5000, || sub.state() == "open").await;
    post(
        "/events/nonjson/messages.upsert?raw=text",
        "hello <not json>",
    )
    .await;
    wait_for("parse error", 3000, || errors.len() == 1).await;
    assert_eq!(errors.kinds(), vec!["parse"]);
    assert_eq!(
        get(&errors.arg(0), "raw").as_string().as_deref(),
        Some("hello <not json>")
    );
    assert_eq!(
        get(&get(&errors.arg(0), "cause"), "name")
            .as_string()
            .as_deref(),
        Some("SyntaxError"),
        "the cause is JSON.parse's own error"
    );
    deliver("nonjson", "messages.upsert", r#"{"ok":true}"#).await;
    wait_for("next message", 3000, || msgs.len() == 1).await;
    assert_eq!(sub.state(), "open");
    sub.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
}

#[wasm_bindgen_test]
async fn parse_text_hands_over_the_raw_string() {
    let _turn = serial().await;
    let tok = token("astext").await;
    let msgs = Recorder::new();
    let sub = socket(
        &"messages.upsert".into(),
        &f(&msgs),
        &fast(&tok, &[("parse", "text".into())]),
    )
    .unwrap();
    wait_for("open", 5000, || sub.state() == "open").await;
    deliver("astext", "messages.upsert", r#"{"a":1}"#).await;
    wait_for("message", 3000, || msgs.len() == 1).await;
    assert_eq!(msgs.arg(0).as_string().as_deref(), Some(r#"{"a":1}"#));
    sub.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
}

/// With `parse: "text"` a binary frame reaches the callback as it came; with the default
/// `parse: "json"` the callback gets parsed JSON only, and a binary frame goes to `onError` (kind
/// `"parse"`, the frame as `raw`).
#[wasm_bindgen_test]
async fn binary_frames_go_to_text_callbacks_and_to_on_error_with_json() {
    let _turn = serial().await;
    let tok = token("binary").await;
    let (raw, parsed, errors) = (Recorder::new(), Recorder::new(), Recorder::new());
    let text = socket(
        &"messages.upsert".into(),
        &f(&raw),
        &fast(&tok, &[("parse", "text".into()), ("share", false.into())]),
    )
    .unwrap();
    let json = socket(
        &"messages.update".into(),
        &f(&parsed),
        &fast(&tok, &[("onError", f(&errors))]),
    )
    .unwrap();
    wait_for("open", 5000, || {
        text.state() == "open" && json.state() == "open"
    })
    .await;
    post("/events/binary/messages.upsert?raw=binary", "\u{1}\u{2}xyz").await;
    post("/events/binary/messages.update?raw=binary", "\u{1}\u{2}xyz").await;
    wait_for("the binary frames", 3000, || {
        raw.len() == 1 && errors.len() == 1
    })
    .await;
    let buf = raw
        .arg(0)
        .dyn_into::<js_sys::ArrayBuffer>()
        .expect("an ArrayBuffer");
    assert_eq!(
        js_sys::Uint8Array::new(&buf).to_vec(),
        b"\x01\x02xyz".to_vec()
    );
    let e = errors.arg(0);
    assert_eq!(get(&e, "kind").as_string().as_deref(), Some("parse"));
    assert!(get(&e, "raw").is_instance_of::<js_sys::ArrayBuffer>());
    assert_eq!(parsed.len(), 0, "the JSON callback got no binary frame");
    text.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED)
        .unwrap();
    json.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED)
        .unwrap();
}

#[wasm_bindgen_test]
async fn a_throwing_callback_is_reported_and_breaks_nothing_else() {
    let _turn = serial().await;
    let tok = token("throwing").await;
    let bad = Recorder::throwing();
    let bad_errors = Recorder::new();
    let good = Recorder::new();
    let s1 = socket(
        &"messages.upsert".into(),
        &f(&bad),
        &fast(&tok, &[("onError", f(&bad_errors))]),
    )
    .unwrap();
    let s2 = socket(&"chats.update".into(), &f(&good), &fast(&tok, &[])).unwrap();
    wait_for("open", 5000, || {
        s1.state() == "open" && s2.state() == "open"
    })
    .await;
    for i in 0..3 {
        deliver("throwing", "messages.upsert", &format!("{{\"i\":{i}}}")).await;
        deliver("throwing", "chats.update", &format!("{{\"i\":{i}}}")).await;
    }
    wait_for("all delivered", 3000, || bad.len() == 3 && good.len() == 3).await;
    assert_eq!(bad_errors.kinds(), vec!["callback"; 3]);
    assert_eq!(
        get(&get(&bad_errors.arg(0), "cause"), "message")
            .as_string()
            .as_deref(),
        Some("boom")
    );
    assert_eq!(s1.state(), "open");
    s1.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
    s2.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
}

#[wasm_bindgen_test]
async fn event_names_and_params_are_encoded_like_encode_uri_component() {
    let _turn = serial().await;
    let odd = "a+b&c=d#e/ü 😀";
    let expected = js(&format!("encodeURIComponent({odd:?})"))
        .as_string()
        .unwrap();
    let sub = socket(
        &odd.into(),
        &f(&Recorder::new()),
        &opts(&[
            ("url", format!("{}?keep=1", echo_url()).into()),
            ("token", odd.into()),
            ("params", opts(&[(odd, odd.into())])),
        ]),
    )
    .unwrap();
    let url = sub.url().as_string().unwrap_or_default();
    assert_eq!(
        url,
        format!(
            "{}?keep=1&{expected}={expected}&event={expected}&token=[redacted]",
            echo_url()
        )
    );
    assert_eq!(sub.event_name(), odd);
    sub.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();

    // Numbers and booleans in `params` are written as JavaScript's String() writes them.
    let params =
        "({ n: 0.1234, big: 1e21, huge: 12345678901234567, neg: -1.5, t: true, inf: -Infinity })";
    let expected = js(&format!(
        "Object.entries({params}).map(([k, v]) => k + '=' + encodeURIComponent(String(v))).join('&')"
    ))
    .as_string()
    .unwrap();
    let sub = socket(
        &"e".into(),
        &f(&Recorder::new()),
        &opts(&[("url", echo_url().into()), ("params", js(params))]),
    )
    .unwrap();
    let url = sub.url().as_string().unwrap_or_default();
    assert_eq!(url, format!("{}?{expected}&event=e&token=", echo_url()));
    sub.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
}

/// Page-relative URLs go through the browser's own URL parser (`..` removed, spaces and non-ASCII
/// percent-encoded), with the page's http(s) made ws(s), and get `event` and `token` after any
/// query they have.
#[wasm_bindgen_test]
async fn page_relative_urls_are_resolved_by_the_browsers_url_parser() {
    let _turn = serial().await;
    for (given, reference) in [
        ("../ev/ws?a=1#frag", "../ev/ws?a=1"),
        (" ./a b/\u{fc} ", "./a b/\u{fc}"),
        ("//127.0.0.1:9/x", "//127.0.0.1:9/x"),
        ("?only=query", "?only=query"),
    ] {
        let expected = js(&format!(
            "(() => {{ const u = new URL(\"{reference}\", location.href); \
             u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:'; return u.href }})()"
        ))
        .as_string()
        .unwrap();
        let sep = if expected.contains('?') { '&' } else { '?' };
        let errors = Recorder::new();
        let sub = socket(
            &"e".into(),
            &f(&Recorder::new()),
            &opts(&[
                ("url", js(&format!("\"{given}\""))),
                ("onError", f(&errors)),
            ]),
        )
        .unwrap();
        assert_eq!(
            sub.url().as_string().unwrap_or_default(),
            format!("{expected}{sep}event=e&token="),
            "url {given:?}"
        );
        sub.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
    }
}

#[wasm_bindgen_test]
async fn dropping_the_handle_keeps_the_subscription() {
    let _turn = serial().await;
    let tok = token("dropped").await;
    let msgs = Recorder::new();
    {
        // No handle to close it with afterwards: it stops for good at the server's close below.
        let stop_at_close = js("() => false");
        let options = fast(&tok, &[("shouldReconnect", stop_at_close)]);
        let _ = socket(&"messages.upsert".into(), &f(&msgs), &options).unwrap();
    }
    let mut delivered = 0.0;
    for _ in 0..100 {
        delivered = deliver("dropped", "messages.upsert", "{}").await;
        if delivered == 1.0 {
            break;
        }
        sleep(30).await;
    }
    assert_eq!(delivered, 1.0);
    wait_for("message after the handle was dropped", 3000, || {
        msgs.len() == 1
    })
    .await;
    control("/control/drop?mode=close&code=4000&target=events").await;
    wait_open_count("dropped", "messages.upsert", 0.0).await;
}

#[wasm_bindgen_test]
async fn same_event_and_token_share_one_socket() {
    let _turn = serial().await;
    let tok = token("shared").await;
    let a = Recorder::new();
    let b = Recorder::new();
    // The first subscriber's callback changes what it receives: the second must not see it.
    let a_mutates =
        js_sys::Function::new_with_args("rec", "return (d, e) => { d.n = 99; rec(d, e) }")
            .call1(&JsValue::NULL, &f(&a))
            .unwrap();
    let s1 = socket(&"messages.upsert".into(), &a_mutates, &fast(&tok, &[])).unwrap();
    let s2 = socket(&"messages.upsert".into(), &f(&b), &fast(&tok, &[])).unwrap();
    wait_for("open", 5000, || {
        s1.state() == "open" && s2.state() == "open"
    })
    .await;
    assert_eq!(open_count("shared", "messages.upsert").await, 1.0);
    deliver("shared", "messages.upsert", r#"{"n":1}"#).await;
    wait_for("both callbacks", 3000, || a.len() == 1 && b.len() == 1).await;
    assert_eq!(get(&a.arg(0), "n").as_f64(), Some(99.0));
    assert_eq!(
        get(&b.arg(0), "n").as_f64(),
        Some(1.0),
        "each gets its own copy"
    );
    s1.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
    assert_eq!(s1.state(), "closed");
    assert_eq!(s2.state(), "open");
    deliver("shared", "messages.upsert", "{}").await;
    wait_for("the other keeps receiving", 3000, || b.len() == 2).await;
    assert_eq!(a.len(), 1);
    s2.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
    wait_open_count("shared", "messages.upsert", 0.0).await;
}

/// A token function (fresh JWTs) names the same instance every time: two subscriptions to one event
/// through the same function must not open two sockets, or the server starves the first.
#[wasm_bindgen_test]
async fn same_event_and_token_function_share_one_socket() {
    let _turn = serial().await;
    let tok = token("shared-fn").await;
    let token_fn = js_sys::Function::new_with_args("t", "return () => Promise.resolve(t)")
        .call1(&JsValue::NULL, &tok.as_str().into())
        .unwrap();
    let with_fn = fast("", &[("token", token_fn)]);
    let a = Recorder::new();
    let b = Recorder::new();
    let s1 = socket(&"messages.upsert".into(), &f(&a), &with_fn).unwrap();
    let s2 = socket(&"messages.upsert".into(), &f(&b), &with_fn).unwrap();
    wait_for("open", 5000, || {
        s1.state() == "open" && s2.state() == "open"
    })
    .await;
    assert_eq!(connects("shared-fn", "messages.upsert").await, 1.0);
    deliver("shared-fn", "messages.upsert", r#"{"n":1}"#).await;
    wait_for("both callbacks", 3000, || a.len() == 1 && b.len() == 1).await;
    s1.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
    deliver("shared-fn", "messages.upsert", "{}").await;
    wait_for("the other keeps receiving", 3000, || b.len() == 2).await;
    s2.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
    wait_open_count("shared-fn", "messages.upsert", 0.0).await;
}

/// A token renewed for the same instance (a new `exp`, as after `refresh.token`) joins the
/// connection of the old one instead of opening a second socket for the server to starve the first
/// for, and the connection reconnects with it once the old one has expired.
#[wasm_bindgen_test]
async fn a_renewed_token_for_the_same_instance_joins_its_connection_and_is_used_next() {
    let _turn = serial().await;
    let dev_token = |exp: u32| async move {
        let v = http(
            "GET",
            &format!("/dev/token?instance=renewed&exp_secs={exp}"),
            None,
        )
        .await;
        get(&v, "token").as_string().unwrap_or_default()
    };
    let old = dev_token(2).await;
    let a = Recorder::new();
    let s1 = socket(&"messages.upsert".into(), &f(&a), &fast(&old, &[])).unwrap();
    wait_for("first open", 5000, || s1.state() == "open").await;
    let new = dev_token(3600).await;
    assert_ne!(old, new);
    let b = Recorder::new();
    let s2 = socket(&"messages.upsert".into(), &f(&b), &fast(&new, &[])).unwrap();
    assert_eq!(s2.state(), "open", "joined the open connection");
    assert_eq!(connects("renewed", "messages.upsert").await, 1.0);
    deliver("renewed", "messages.upsert", r#"{"n":1}"#).await;
    wait_for("both callbacks", 3000, || a.len() == 1 && b.len() == 1).await;

    // The old token has expired: a reconnect with it would be refused for good.
    sleep(2200).await;
    control("/control/drop?mode=abrupt").await;
    wait_for("reconnecting", 3000, || s1.state() == "reconnecting").await;
    wait_for("open again, with the renewed token", 5000, || {
        s1.state() == "open" && s2.state() == "open"
    })
    .await;
    assert_eq!(connects("renewed", "messages.upsert").await, 2.0);
    deliver("renewed", "messages.upsert", r#"{"n":2}"#).await;
    wait_for("both callbacks again", 3000, || {
        a.len() == 2 && b.len() == 2
    })
    .await;
    s1.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
    s2.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
}

#[wasm_bindgen_test]
async fn send_queues_while_connecting_and_echo_returns_in_order() {
    let _turn = serial().await;
    let got = Recorder::new();
    let sub = socket(
        &"echo".into(),
        &f(&got),
        &opts(&[("url", echo_url().into()), ("parse", "text".into())]),
    )
    .unwrap();
    assert!(sub.send(&"one".into()).unwrap());
    assert!(sub.send(&js("({ two: 2 })")).unwrap());
    // Instances of classes are sent as JSON too (their toJSON, if any, decides).
    assert!(sub.send(&js("new Date(0)")).unwrap());
    wait_for("echoes", 5000, || got.len() == 3).await;
    assert_eq!(
        got.strings(),
        vec!["one", r#"{"two":2}"#, r#""1970-01-01T00:00:00.000Z""#]
    );
    sub.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
    assert!(
        !sub.send(&"late".into()).unwrap(),
        "send after close returns false"
    );
}

#[wasm_bindgen_test]
async fn send_takes_array_buffers_views_and_blobs_as_binary_frames() {
    let _turn = serial().await;
    let got = Recorder::new();
    let sub = socket(
        &"echo-binary".into(),
        &f(&got),
        &opts(&[("url", echo_url().into()), ("parse", "text".into())]),
    )
    .unwrap();
    wait_for("open", 5000, || sub.state() == "open").await;
    assert!(sub.send(&js("new Uint8Array([1, 2, 3]).buffer")).unwrap());
    assert!(sub.send(&js("new Uint16Array([0x0504])")).unwrap());
    assert!(sub.send(&js("new Blob([new Uint8Array([6, 7])])")).unwrap());
    wait_for("three binary echoes", 5000, || got.len() == 3).await;
    let bytes: Vec<Vec<u8>> = (0..3)
        .map(|i| {
            let buf = got
                .arg(i)
                .dyn_into::<js_sys::ArrayBuffer>()
                .expect("an ArrayBuffer");
            js_sys::Uint8Array::new(&buf).to_vec()
        })
        .collect();
    assert_eq!(bytes, vec![vec![1, 2, 3], vec![4, 5], vec![6, 7]]);
    sub.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
}

fn type_error_message(r: Result<impl Sized, JsValue>) -> String {
    let e = r.err().expect("a TypeError");
    assert!(
        e.is_instance_of::<js_sys::TypeError>(),
        "not a TypeError: {e:?}"
    );
    get(&e, "message").as_string().unwrap_or_default()
}

#[wasm_bindgen_test]
fn bad_arguments_throw_type_errors_that_name_the_problem() {
    let cb = f(&Recorder::new());
    let u = || ("url", JsValue::from(events_url()));
    let cases: Vec<(Result<_, JsValue>, &str)> = vec![
        (socket(&JsValue::from(5), &cb, &opts(&[u()])), "eventName"),
        (socket(&"".into(), &cb, &opts(&[u()])), "eventName"),
        (
            socket(&"e".into(), &"nope".into(), &opts(&[u()])),
            "callback",
        ),
        (socket(&"e".into(), &cb, &JsValue::UNDEFINED), "url"),
        (
            socket(&"e".into(), &cb, &opts(&[("url", "http://x/ws".into())])),
            "url",
        ),
        (
            socket(
                &"e".into(),
                &cb,
                &opts(&[u(), ("reconnectInterval", "1".into())]),
            ),
            "reconnectInterval",
        ),
        (
            socket(&"e".into(), &cb, &opts(&[u(), ("jitter", 3.into())])),
            "jitter",
        ),
        (
            socket(
                &"e".into(),
                &cb,
                &opts(&[u(), ("reconectInterval", 1.into())]),
            ),
            "reconectInterval",
        ),
        (
            socket(&"e".into(), &cb, &opts(&[u(), ("onOpen", 1.into())])),
            "onOpen",
        ),
        (
            socket(&"e".into(), &cb, &opts(&[u(), ("token", 1.into())])),
            "token",
        ),
        (
            socket(&"e".into(), &cb, &opts(&[u(), ("parse", "xml".into())])),
            "parse",
        ),
        // A URL copied from the server's docs, event and token included: the client adds both.
        (
            socket(
                &"e".into(),
                &cb,
                &opts(&[(
                    "url",
                    format!("{}?event=e&token=s3cret", events_url()).into(),
                )]),
            ),
            "already has an `event`",
        ),
        (
            socket(
                &"e".into(),
                &cb,
                &opts(&[u(), ("params", js("({ token: 's3cret' })"))]),
            ),
            "must not set `token`",
        ),
        (
            socket(
                &"e".into(),
                &cb,
                &opts(&[u(), ("params", js("new URLSearchParams('instance=main')"))]),
            ),
            "plain object",
        ),
        (socket(&"e".into(), &cb, &"str".into()), "options"),
        (socket(&"e".into(), &cb, &js("[]")), "options"),
        (
            socket(
                &"e".into(),
                &cb,
                &js("({ get jitter() { throw new Error('no') } })"),
            ),
            "`jitter` could not be read",
        ),
        (
            socket(
                &"e".into(),
                &cb,
                &opts(&[u(), ("params", js("({ a: {} })"))]),
            ),
            "value of `a`",
        ),
        (
            socket(&"e".into(), &cb, &opts(&[u(), ("heartbeat", 5.into())])),
            "heartbeat",
        ),
        (
            socket(&"e".into(), &cb, &opts(&[u(), ("debug", "yes".into())])),
            "debug",
        ),
    ];
    for (r, needle) in cases {
        let msg = type_error_message(r);
        assert!(msg.contains(needle), "{msg:?} does not name {needle}");
        assert!(
            !msg.contains("s3cret"),
            "a token in an error message: {msg}"
        );
    }
    assert!(
        type_error_message(configure(&opts(&[("backoffFactor", 0.5.into())])))
            .contains("backoffFactor")
    );
    let sub = socket(&"e".into(), &cb, &opts(&[("url", echo_url().into())])).unwrap();
    assert!(type_error_message(sub.send(&JsValue::UNDEFINED)).contains("send"));
    assert!(
        type_error_message(sub.send(&js("(() => { const a = {}; a.a = a; return a })()")))
            .contains("JSON")
    );
    // Codes are checked as given: 70000 must not wrap round to 4464, nor "4000" become 0.
    for code in [
        JsValue::from(1001),
        JsValue::from(70000),
        JsValue::from(4000.5),
        JsValue::from(f64::NAN),
        JsValue::from("4000"),
    ] {
        let msg = type_error_message(sub.close(&code, &JsValue::UNDEFINED));
        assert!(msg.contains("close code"), "{code:?}: {msg}");
    }
    let msg = type_error_message(sub.close(&4000.into(), &5.into()));
    assert!(msg.contains("close reason must be a string"), "{msg}");
    let long = JsValue::from("é".repeat(62));
    let msg = type_error_message(sub.close(&JsValue::NULL, &long));
    assert!(msg.contains("123 bytes"), "{msg}");
    assert_ne!(
        sub.state(),
        "closed",
        "a refused close() leaves the subscription alone"
    );
    sub.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
}

/// A URL the browser's `WebSocket` constructor refuses (here a port above 65535) will be refused
/// every time: one `connect` error that carries the browser's exception, then closed for good,
/// instead of a retry loop that can never succeed.
#[wasm_bindgen_test]
async fn a_url_the_browser_refuses_closes_for_good_with_its_reason() {
    let _turn = serial().await;
    let errors = Recorder::new();
    let closes = Recorder::new();
    let sub = socket(
        &"e".into(),
        &f(&Recorder::new()),
        &opts(&[
            ("url", "ws://127.0.0.1:99999/ws".into()),
            ("reconnectInterval", 10.into()),
            ("onError", f(&errors)),
            ("onClose", f(&closes)),
        ]),
    )
    .unwrap();
    wait_state(&sub, "closed", 2000).await;
    sleep(100).await;
    assert_eq!(errors.kinds(), ["connect"], "one error, no retries");
    let message = get(&errors.arg(0), "message")
        .as_string()
        .unwrap_or_default();
    assert!(message.contains("refused to open"), "{message}");
    let cause = get(&errors.arg(0), "cause");
    assert_eq!(
        get(&cause, "name"),
        "SyntaxError",
        "the browser's own exception"
    );
    assert_eq!(closes.len(), 0, "no socket ever existed, so no onClose");
    assert_eq!(sub.retries(), 0);
}

/// Puts `console.error` back when the test ends, passed or not.
struct RestoreConsole;

impl Drop for RestoreConsole {
    fn drop(&mut self) {
        js("console.error = globalThis.__realConsoleError || console.error");
    }
}

/// Without `onError`, errors go to `console.error`; a page (or a test runner) may have replaced it
/// with something that throws. That must not reach the socket: later messages still arrive.
#[wasm_bindgen_test]
async fn a_throwing_console_error_does_not_break_the_socket() {
    let _turn = serial().await;
    js("globalThis.__realConsoleError = console.error; globalThis.__consoleErrors = 0; \
        console.error = () => { globalThis.__consoleErrors++; throw new Error('console is broken') }");
    let _restore = RestoreConsole;
    // A connection-level error (here: refused, bad token) is reported while the connection is
    // performing its actions; the retries must go on.
    let refused = socket(
        &"messages.upsert".into(),
        &f(&Recorder::new()),
        &opts(&[
            ("url", events_url().into()),
            ("token", "not-a-jwt".into()),
            ("reconnectInterval", 10.into()),
            ("maxReconnectInterval", 20.into()),
        ]),
    )
    .unwrap();
    wait_for("retries go on after console.error threw", 5000, || {
        refused.retries() >= 3
    })
    .await;
    refused
        .close(&JsValue::UNDEFINED, &JsValue::UNDEFINED)
        .unwrap();
    assert!(js("globalThis.__consoleErrors").as_f64().unwrap_or(0.0) >= 1.0);

    let msgs = Recorder::new();
    let sub = socket(&"e".into(), &f(&msgs), &opts(&[("url", echo_url().into())])).unwrap();
    wait_state(&sub, "open", 5000).await;
    assert!(sub.send(&"not json".into()).unwrap(), "sent");
    sleep(100).await;
    for i in 0..3 {
        assert!(sub.send(&js(&format!("({{ n: {i} }})"))).unwrap());
    }
    wait_for(
        "the three JSON messages after the console threw",
        3000,
        || msgs.len() == 3,
    )
    .await;
    assert_eq!(get(&msgs.arg(2), "n"), 2);
    sub.close(&JsValue::UNDEFINED, &JsValue::UNDEFINED).unwrap();
}
