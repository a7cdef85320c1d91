//! The Rust API (`Socket::builder`) against the real event server, in headless Chromium.
#![cfg(target_arch = "wasm32")]

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::*;
use event_socket::{Socket, SocketBuilder, SocketError, State};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// A list the callbacks push to and the test reads.
struct Log<T>(Rc<RefCell<Vec<T>>>);

impl<T: Clone + 'static> Log<T> {
    fn new() -> Self {
        Log(Rc::new(RefCell::new(Vec::new())))
    }
    fn pusher(&self) -> impl FnMut(T) + 'static {
        let log = self.0.clone();
        move |v| log.borrow_mut().push(v)
    }
    fn len(&self) -> usize {
        self.0.borrow().len()
    }
    fn items(&self) -> Vec<T> {
        self.0.borrow().clone()
    }
}

/// Fast retries and no jitter, as in the JS tests.
fn fast(event: &str, tok: &str) -> SocketBuilder {
    Socket::builder(events_url(), event)
        .token(tok)
        .reconnect_interval(100)
        .max_reconnect_interval(400)
        .jitter(0.0)
        .min_uptime(0)
}

fn connections() -> f64 {
    get(&event_socket::js::debug_stats(), "connections")
        .as_f64()
        .unwrap_or(-1.0)
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConnectionUpdate {
    instance: String,
    state: String,
    status_reason: u16,
}

#[wasm_bindgen_test]
async fn messages_reach_on_message_as_parsed_json_with_the_event() {
    let _turn = serial().await;
    let tok = token("rs-msg").await;
    let msgs: Log<(JsValue, web_sys::MessageEvent)> = Log::new();
    let states: Log<State> = Log::new();
    let push = msgs.0.clone();
    let socket = fast("messages.upsert", &tok)
        .on_message(move |data, event| push.borrow_mut().push((data, event)))
        .on_state_change(states.pusher())
        .connect()
        .expect("connect");
    assert_eq!(socket.event_name(), "messages.upsert");
    assert!(
        !socket.url().contains(&tok),
        "token redacted: {}",
        socket.url()
    );
    wait_for("open", 5000, || socket.state() == State::Open).await;
    assert_eq!(
        deliver(
            "rs-msg",
            "messages.upsert",
            r#"{"keyId":"K1","content":{"text":"oi"}}"#
        )
        .await,
        1.0
    );
    wait_for("message", 3000, || msgs.len() == 1).await;
    let (data, event) = msgs.items().remove(0);
    assert_eq!(get(&data, "keyId").as_string().as_deref(), Some("K1"));
    assert!(event.data().is_string(), "the MessageEvent comes along");
    socket.close();
    assert_eq!(socket.state(), State::Closed);
    assert_eq!(states.items(), vec![State::Open, State::Closed]);
    assert_eq!(socket.send_text("late"), Err(SocketError::Closed));
}

#[wasm_bindgen_test]
async fn on_json_decodes_into_a_struct_and_a_mismatch_is_a_decode_error_for_that_message_only() {
    let _turn = serial().await;
    let tok = token("rs-typed").await;
    let updates: Log<Result<ConnectionUpdate, SocketError>> = Log::new();
    let errors: Log<SocketError> = Log::new();
    let socket = fast("connection.update", &tok)
        .on_json(updates.pusher())
        .on_error(errors.pusher())
        .connect()
        .expect("connect");
    wait_for("open", 5000, || socket.state() == State::Open).await;
    let ev = "connection.update";
    deliver(
        "rs-typed",
        ev,
        r#"{"instance":"rs-typed","state":"open","statusReason":200}"#,
    )
    .await;
    deliver("rs-typed", ev, r#"{"instance":"rs-typed","state":5}"#).await;
    post(&format!("/events/rs-typed/{ev}?raw=text"), "not json {").await;
    deliver(
        "rs-typed",
        ev,
        r#"{"instance":"rs-typed","state":"close","statusReason":428}"#,
    )
    .await;
    wait_for("four messages", 3000, || updates.len() == 4).await;
    let got = updates.items();
    assert_eq!(
        got[0],
        Ok(ConnectionUpdate {
            instance: "rs-typed".into(),
            state: "open".into(),
            status_reason: 200
        })
    );
    match &got[1] {
        Err(e @ SocketError::Decode(_)) => {
            assert_eq!(e.kind(), "decode");
            assert!(e.to_string().contains("socket stays open"), "{e}");
        }
        other => panic!("expected a Decode error, got {other:?}"),
    }
    match &got[2] {
        Err(SocketError::Parse { raw, .. }) => assert_eq!(raw, "not json {"),
        other => panic!("expected a Parse error, got {other:?}"),
    }
    assert_eq!(
        got[3].as_ref().map(|u| u.status_reason),
        Ok(428),
        "the socket stayed open"
    );
    assert_eq!(socket.state(), State::Open);
    assert!(
        errors.items().is_empty(),
        "message errors go to on_json only: {:?}",
        errors.items()
    );
}

#[wasm_bindgen_test]
async fn dropping_the_socket_closes_it_for_good_and_silently() {
    let _turn = serial().await;
    control("/control/reset").await;
    let tok = token("rs-drop").await;
    let before = connections();
    let states: Log<State> = Log::new();
    let socket = fast("messages.upsert", &tok)
        .on_state_change(states.pusher())
        .connect()
        .expect("connect");
    wait_for("open", 5000, || socket.state() == State::Open).await;
    assert_eq!(open_count("rs-drop", "messages.upsert").await, 1.0);
    assert_eq!(connections(), before + 1.0);
    drop(socket);
    assert_eq!(connections(), before, "the module holds nothing of it");
    wait_open_count("rs-drop", "messages.upsert", 0.0).await;
    sleep(600).await; // longer than the retry interval: nothing reconnects
    assert_eq!(open_count("rs-drop", "messages.upsert").await, 0.0);
    assert_eq!(
        states.items(),
        vec![State::Open],
        "no callback after the drop"
    );
}

#[wasm_bindgen_test]
async fn a_socket_dropped_inside_its_own_callback_is_fine() {
    let _turn = serial().await;
    let tok = token("rs-self").await;
    let slot: Rc<RefCell<Option<Socket>>> = Rc::new(RefCell::new(None));
    let seen = Log::<f64>::new();
    let (slot2, mut push) = (slot.clone(), seen.pusher());
    let socket = fast("messages.upsert", &tok)
        .on_message(move |data, _| {
            push(get(&data, "n").as_f64().unwrap_or(-1.0));
            drop(slot2.borrow_mut().take());
        })
        .connect()
        .expect("connect");
    *slot.borrow_mut() = Some(socket);
    wait_for("open", 5000, || {
        slot.borrow().as_ref().map(|s| s.state()) == Some(State::Open)
    })
    .await;
    deliver("rs-self", "messages.upsert", r#"{"n":1}"#).await;
    wait_for("dropped", 3000, || slot.borrow().is_none()).await;
    // Sent before the server has seen the close: it may reach the page, never the callback.
    deliver("rs-self", "messages.upsert", r#"{"n":2}"#).await;
    wait_open_count("rs-self", "messages.upsert", 0.0).await;
    assert_eq!(seen.items(), vec![1.0]);
}

#[wasm_bindgen_test]
async fn bad_settings_are_errors_not_panics() {
    let _turn = serial().await;
    let cases: Vec<(SocketBuilder, &str)> = vec![
        (Socket::builder("http://example.com/ws", "e"), "url"),
        (Socket::builder("", "e"), "url"),
        (Socket::builder("ws://", "e"), "url"),
        (Socket::builder(events_url(), ""), "options"),
        (Socket::builder(events_url(), "e").jitter(2.0), "options"),
        (
            Socket::builder(events_url(), "e").backoff_factor(f64::NAN),
            "options",
        ),
    ];
    let before = connections();
    for (builder, kind) in cases {
        let err = builder.connect().expect_err("must be refused");
        assert_eq!(err.kind(), kind, "{err}");
        assert!(err.to_string().starts_with("event-socket: "), "{err}");
    }
    match Socket::builder(events_url(), "e").jitter(2.0).connect() {
        Err(SocketError::Options { field, problem }) => {
            assert_eq!(field, "jitter");
            assert!(problem.contains("between 0 and 1"), "{problem}");
        }
        other => panic!("expected an options error, got {other:?}"),
    }
    assert_eq!(connections(), before, "nothing was started");
    let s = Socket::builder(echo_url(), "e").connect().expect("connect");
    assert!(s.close_with(1001, "").is_err(), "1001 is not for clients");
    assert!(s.close_with(4000, &"x".repeat(124)).is_err());
    assert!(s.close_with(4000, "bye").is_ok());
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Chat {
    message: String,
    n: u32,
    tags: Vec<String>,
    reply_to: Option<u32>,
}

#[wasm_bindgen_test]
async fn send_json_text_and_bytes_round_trip_through_the_echo_server() {
    let _turn = serial().await;
    let chats: Log<Result<Chat, SocketError>> = Log::new();
    let echo = Socket::builder(echo_url(), "chat")
        .on_json(chats.pusher())
        .connect()
        .expect("connect");
    let out = Chat {
        message: "test data".into(),
        n: 7,
        tags: vec!["a".into(), "ü".into()],
        reply_to: None,
    };
    // sent before the socket is open: queued, then sent in order
    assert_eq!(echo.state(), State::Connecting);
    echo.send_json(&out).expect("queued");
    echo.send_text(r#"{"message":"raw","n":1,"tags":[],"reply_to":3}"#)
        .expect("queued");
    wait_for("two echoes", 5000, || chats.len() == 2).await;
    assert_eq!(chats.items()[0], Ok(out));
    assert_eq!(chats.items()[1].as_ref().map(|c| c.reply_to), Ok(Some(3)));
    let mut map = std::collections::BTreeMap::new();
    map.insert(1u32, "non-string key");
    assert!(matches!(echo.send_json(&map), Err(SocketError::Encode(_))));

    let frames: Log<JsValue> = Log::new();
    let mut push = frames.pusher();
    let bin = Socket::builder(echo_url(), "bin")
        .parse_text()
        .on_message(move |data, _| push(data))
        .connect()
        .expect("connect");
    bin.send_bytes(&[0, 1, 2, 255]).expect("queued");
    wait_for("binary echo", 5000, || frames.len() == 1).await;
    let buf = frames.items().remove(0);
    assert!(buf.is_instance_of::<js_sys::ArrayBuffer>());
    assert_eq!(
        js_sys::Uint8Array::new(buf.unchecked_ref()).to_vec(),
        vec![0, 1, 2, 255]
    );
}

#[wasm_bindgen_test]
async fn a_full_queue_and_a_lost_server_are_typed_errors() {
    let _turn = serial().await;
    control("/control/reset").await;
    control("/control/refuse?ms=3000").await;
    let errors: Log<SocketError> = Log::new();
    let closes: Log<event_socket::CloseInfo> = Log::new();
    let socket = Socket::builder(echo_url(), "q")
        .queue_limit(1)
        .max_retries(1)
        .reconnect_interval(50)
        .jitter(0.0)
        .on_error(errors.pusher())
        .on_close(closes.pusher())
        .connect()
        .expect("connect");
    socket.send_text("one").expect("queued");
    assert_eq!(socket.send_text("two"), Err(SocketError::QueueFull));
    wait_for("gave up", 5000, || socket.state() == State::Closed).await;
    let kinds: Vec<String> = errors
        .items()
        .iter()
        .map(|e| e.kind().to_string())
        .collect();
    for k in ["queue-full", "connect", "retries-exhausted", "unsent"] {
        assert!(kinds.iter().any(|x| x == k), "{k} in {kinds:?}");
    }
    assert!(closes.len() >= 1);
    assert!(
        closes.items().iter().all(|c| c.code == 1006),
        "{:?}",
        closes.items()
    );
    assert_eq!(closes.items().last().map(|c| c.will_reconnect), Some(false));
    control("/control/reset").await;
}

#[wasm_bindgen_test]
async fn a_socket_dropped_by_another_subscriber_of_the_shared_connection_hears_nothing_more() {
    let _turn = serial().await;
    let tok = token("rs-shared").await;
    let victim: Rc<RefCell<Option<Socket>>> = Rc::new(RefCell::new(None));
    let (a_msgs, b_msgs) = (Log::<f64>::new(), Log::<f64>::new());
    let (a_errs, b_errs) = (Log::<SocketError>::new(), Log::<SocketError>::new());
    let (v, mut push_a) = (victim.clone(), a_msgs.pusher());
    let a = fast("messages.upsert", &tok)
        .on_message(move |data, _| {
            push_a(get(&data, "n").as_f64().unwrap_or(-1.0));
            drop(v.borrow_mut().take());
        })
        .on_error(a_errs.pusher())
        .connect()
        .expect("connect a");
    let mut push_b = b_msgs.pusher();
    let b = fast("messages.upsert", &tok)
        .on_message(move |data, _| push_b(get(&data, "n").as_f64().unwrap_or(-1.0)))
        .on_error(b_errs.pusher())
        .connect()
        .expect("connect b");
    *victim.borrow_mut() = Some(b);
    wait_for("open", 5000, || a.state() == State::Open).await;
    assert_eq!(
        open_count("rs-shared", "messages.upsert").await,
        1.0,
        "shared"
    );
    deliver("rs-shared", "messages.upsert", r#"{"n":1}"#).await;
    wait_for("a heard it", 3000, || a_msgs.len() == 1).await;
    assert!(victim.borrow().is_none(), "b was dropped");
    deliver("rs-shared", "messages.upsert", r#"{"n":2}"#).await;
    wait_for("a heard the second", 3000, || a_msgs.len() == 2).await;
    sleep(50).await;
    assert!(b_msgs.items().is_empty(), "b heard {:?}", b_msgs.items());
    assert!(a_errs.items().is_empty(), "{:?}", a_errs.items());
    assert!(b_errs.items().is_empty(), "{:?}", b_errs.items());
    assert_eq!(a.state(), State::Open, "a carries on");
    assert_eq!(open_count("rs-shared", "messages.upsert").await, 1.0);
}

/// `on_json` with the crate's CodeChat payload types decodes what the (reference) server sends,
/// arrays included.
#[wasm_bindgen_test]
async fn codechat_payloads_decode_into_the_crates_types() {
    use event_socket::payloads::{Contact, MessagesUpsert};
    let _turn = serial().await;
    let tok = token("rs-payloads").await;
    let msgs: Log<Result<MessagesUpsert, SocketError>> = Log::new();
    let contacts: Log<Result<Vec<Contact>, SocketError>> = Log::new();
    let m = fast("messages.upsert", &tok)
        .on_json(msgs.pusher())
        .connect()
        .expect("connect");
    let c = fast("contacts.upsert", &tok)
        .on_json(contacts.pusher())
        .connect()
        .expect("connect");
    wait_for("open", 5000, || {
        m.state() == State::Open && c.state() == State::Open
    })
    .await;
    post("/control/simulate/rs-payloads", "{}").await;
    wait_for("one of each", 3000, || {
        msgs.len() == 1 && contacts.len() == 1
    })
    .await;
    let msg = msgs.items().remove(0).expect("a MessagesUpsert");
    assert!(msg.instance_id > 0 && msg.id.is_some());
    assert!(msg.content.text.is_some());
    let rows = contacts.items().remove(0).expect("a Vec<Contact>");
    assert_eq!(rows.len(), 1);
    assert!(rows[0].remote_jid.ends_with("@s.whatsapp.net"));
}

/// `token_async`: the future runs before every attempt; an `Err` is a `SocketError::Token`, then
/// the attempt is retried with backoff and the next token is used.
#[wasm_bindgen_test]
async fn an_async_token_function_runs_before_every_attempt_and_its_errors_are_token_errors() {
    let _turn = serial().await;
    let calls = Rc::new(std::cell::Cell::new(0u32));
    let errors: Log<SocketError> = Log::new();
    let counted = calls.clone();
    let socket = Socket::builder(events_url(), "messages.upsert")
        .reconnect_interval(50)
        .jitter(0.0)
        .min_uptime(0)
        .token_async(move || {
            counted.set(counted.get() + 1);
            let first = counted.get() == 1;
            async move {
                if first {
                    return Err("the token service is down".to_string());
                }
                let v = http("GET", "/dev/token?instance=rs-async", None).await;
                get(&v, "token")
                    .as_string()
                    .ok_or_else(|| "no token".to_string())
            }
        })
        .on_error(errors.pusher())
        .connect()
        .expect("connect");
    wait_for("open with the second token", 5000, || {
        socket.state() == State::Open
    })
    .await;
    assert_eq!(calls.get(), 2);
    assert!(
        matches!(errors.items().first(), Some(SocketError::Token(_))),
        "{:?}",
        errors.items()
    );
    control("/control/drop?mode=abrupt").await;
    wait_for("reconnecting", 3000, || {
        socket.state() == State::Reconnecting
    })
    .await;
    wait_for("open again", 5000, || socket.state() == State::Open).await;
    assert_eq!(calls.get(), 3, "called again for the next attempt");
}

/// `token_fn` is called before every attempt; `should_reconnect` decides after a close, here
/// refusing to reconnect after the server's 4000.
#[wasm_bindgen_test]
async fn a_token_function_and_should_reconnect() {
    let _turn = serial().await;
    let tok = token("rs-fn").await;
    let calls = Rc::new(std::cell::Cell::new(0u32));
    let seen: Log<u16> = Log::new();
    let (counted, mut push) = (calls.clone(), seen.pusher());
    let socket = Socket::builder(events_url(), "messages.upsert")
        .reconnect_interval(50)
        .jitter(0.0)
        .token_fn(move || {
            counted.set(counted.get() + 1);
            tok.clone()
        })
        .should_reconnect(move |close| {
            push(close.code);
            close.code != 4000
        })
        .connect()
        .expect("connect");
    wait_for("open", 5000, || socket.state() == State::Open).await;
    // 4002, not 1012: WebKitGTK reports a server's 1012 (service restart) as 1006.
    control("/control/drop?mode=close&code=4002&target=events").await;
    wait_for("reconnected after 4002", 5000, || {
        seen.len() == 1 && socket.state() == State::Open
    })
    .await;
    assert_eq!(calls.get(), 2, "a token for each attempt");
    control("/control/drop?mode=close&code=4000&target=events").await;
    wait_for("closed for good after 4000", 5000, || {
        socket.state() == State::Closed
    })
    .await;
    assert_eq!(seen.items(), vec![4002, 4000]);
    assert_eq!(calls.get(), 2, "no attempt after should_reconnect said no");
}

/// The next item of a stream (no executor crate needed: `poll_fn` and the test's own runtime).
async fn next<S: event_socket::stream::Stream + Unpin>(s: &mut S) -> Option<S::Item> {
    std::future::poll_fn(|cx| std::pin::Pin::new(&mut *s).poll_next(cx)).await
}

/// `connect_stream`: typed messages in order; with the buffer full the oldest are dropped and the
/// consumer hears how many (`Lagged`) before the newest; the stream ends when the socket goes.
#[wasm_bindgen_test]
async fn a_stream_of_typed_messages_with_bounded_backpressure() {
    #[derive(Debug, Clone, PartialEq, Deserialize)]
    struct N {
        n: u32,
    }
    let _turn = serial().await;
    let tok = token("rs-stream").await;
    let (socket, mut messages) = fast("messages.upsert", &tok)
        .connect_stream::<N>(2)
        .expect("connect");
    wait_for("open", 5000, || socket.state() == State::Open).await;
    deliver("rs-stream", "messages.upsert", r#"{"n":1}"#).await;
    assert_eq!(
        next(&mut messages).await.map(|r| r.ok()),
        Some(Some(N { n: 1 }))
    );
    // Three more before the consumer looks: the buffer holds two, the oldest goes.
    for n in 2..=4 {
        deliver("rs-stream", "messages.upsert", &format!(r#"{{"n":{n}}}"#)).await;
    }
    wait_for("one dropped", 3000, || messages.missed() == 1).await;
    assert_eq!(messages.buffered(), 2);
    assert!(matches!(
        next(&mut messages).await,
        Some(Err(SocketError::Lagged(1)))
    ));
    assert_eq!(
        next(&mut messages).await.map(|r| r.ok()),
        Some(Some(N { n: 3 }))
    );
    assert_eq!(
        next(&mut messages).await.map(|r| r.ok()),
        Some(Some(N { n: 4 }))
    );
    drop(socket);
    assert!(
        next(&mut messages).await.is_none(),
        "the stream ends with its socket"
    );
}
