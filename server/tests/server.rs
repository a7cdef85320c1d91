//! End-to-end tests: a real server on 127.0.0.1 (any free port), real sockets, tokio-tungstenite as
//! the client.

use base64::Engine;
use event_server::{jwt, Config, OnDuplicate, Server};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{connect_async, MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn server() -> Server {
    event_server::start(Config::ephemeral())
        .await
        .expect("server starts")
}

/// A minimal HTTP/1.1 client: returns the status and the body parsed as JSON (or as a string).
async fn http(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, Value) {
    let mut s = TcpStream::connect(addr).await.expect("connect for HTTP");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.expect("write request");
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.expect("read response");
    let text = String::from_utf8_lossy(&buf).to_string();
    let status: u16 = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text:?}"));
    let body = text.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
    let value = serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.to_string()));
    (status, value)
}

async fn post(addr: SocketAddr, path: &str, body: &str) -> Value {
    let (status, v) = http(addr, "POST", path, body).await;
    assert_eq!(status, 200, "POST {path} -> {v}");
    v
}

async fn stats(addr: SocketAddr) -> Value {
    let (status, v) = http(addr, "GET", "/control/stats", "").await;
    assert_eq!(status, 200);
    v
}

fn events_url(s: &Server, event: &str, token: &str) -> String {
    format!("{}/ws/events?event={event}&token={token}", s.ws_url())
}

async fn connect(s: &Server, instance: &str, event: &str) -> Ws {
    let token = s.token(instance).expect("token");
    let (ws, resp) = connect_async(events_url(s, event, &token))
        .await
        .expect("websocket connects");
    assert_eq!(resp.status(), 101);
    ws
}

/// The HTTP status of a refused handshake.
fn refused_status(r: Result<(Ws, impl std::fmt::Debug), WsError>) -> u16 {
    match r {
        Err(WsError::Http(resp)) => resp.status().as_u16(),
        Err(e) => panic!("expected an HTTP error, got {e:?}"),
        Ok(_) => panic!("expected a refused handshake, got a websocket"),
    }
}

/// The next data frame (skipping nothing: the server never pings).
async fn next_msg(ws: &mut Ws) -> Message {
    tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .expect("a message within 5s")
        .expect("stream not ended")
        .expect("no error")
}

async fn next_text(ws: &mut Ws) -> String {
    match next_msg(ws).await {
        Message::Text(t) => t.to_string(),
        other => panic!("expected text, got {other:?}"),
    }
}

/// Asserts nothing arrives for `d` (and the stream is not closed).
async fn assert_silent(ws: &mut Ws, d: Duration) {
    if let Ok(got) = tokio::time::timeout(d, ws.next()).await {
        panic!("expected silence, got {got:?}");
    }
}

/// Waits until `/control/stats` satisfies `pred`.
async fn wait_stats(addr: SocketAddr, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let st = stats(addr).await;
        if pred(&st) {
            return st;
        }
        assert!(Instant::now() < deadline, "stats never matched: {st}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The stream ends without a close frame (an abrupt drop).
async fn assert_abrupt_end(ws: &mut Ws) {
    match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
        Ok(None) | Ok(Some(Err(_))) => {}
        Ok(Some(Ok(m))) => panic!("expected an abrupt end, got {m:?}"),
        Err(_) => panic!("socket was not dropped"),
    }
}

#[tokio::test]
async fn delivers_posted_event_verbatim() {
    let s = server().await;
    let mut ws = connect(&s, "demo", "messages.upsert").await;
    let body = r#"{ "keyId":"A1",  "content": {"text": "hi"} }"#;
    let v = post(s.addr, "/events/demo/messages.upsert", body).await;
    assert_eq!(v, json!({"delivered": 1}));
    assert_eq!(next_text(&mut ws).await, body);

    // another key gets nothing
    let v = post(s.addr, "/events/other/messages.upsert", body).await;
    assert_eq!(v, json!({"delivered": 0}));
    let v = post(s.addr, "/events/demo/connection.update", body).await;
    assert_eq!(v, json!({"delivered": 0}));

    // raw text (not JSON) and raw binary
    let v = post(
        s.addr,
        "/events/demo/messages.upsert?raw=text",
        "not json {",
    )
    .await;
    assert_eq!(v["delivered"], 1);
    assert_eq!(next_text(&mut ws).await, "not json {");
    let v = post(
        s.addr,
        "/events/demo/messages.upsert?raw=binary",
        "\u{1}bin",
    )
    .await;
    assert_eq!(v["delivered"], 1);
    assert_eq!(
        next_msg(&mut ws).await,
        Message::Binary(b"\x01bin".to_vec().into())
    );

    // without raw, the body must be JSON; unknown events are refused
    let (status, _) = http(s.addr, "POST", "/events/demo/messages.upsert", "nope").await;
    assert_eq!(status, 400);
    let (status, _) = http(s.addr, "POST", "/events/demo/no.such", "{}").await;
    assert_eq!(status, 400);

    // what the client sends is read and ignored
    ws.send(Message::text("{\"hello\":1}")).await.expect("send");
    assert_silent(&mut ws, Duration::from_millis(200)).await;
    let st = stats(s.addr).await;
    assert_eq!(st["open"]["demo/messages.upsert"], 1);
    assert_eq!(st["connects"]["demo/messages.upsert"], 1);
    assert_eq!(st["attempts"], 1);
    assert_eq!(st["refused"], 0);
}

#[tokio::test]
async fn refuses_before_the_handshake() {
    let s = server().await;
    let good = s.token("demo").expect("token");
    let other_secret = jwt::issue("another-secret", "demo", "id", 60).expect("token");
    let expired = jwt::sign(
        event_server::cli::DEFAULT_SECRET,
        &json!({"instanceName": "demo", "exp": 1000}),
    )
    .expect("token");
    let no_instance =
        jwt::sign(event_server::cli::DEFAULT_SECRET, &json!({"sub": "demo"})).expect("token");
    for url in [
        events_url(&s, "messages.upsert", "garbage"),
        events_url(&s, "messages.upsert", ""),
        events_url(&s, "messages.upsert", &other_secret),
        events_url(&s, "messages.upsert", &expired),
        events_url(&s, "messages.upsert", &no_instance),
        events_url(&s, "no.such.event", &good),
        events_url(&s, "", &good),
        format!("{}/ws/events?token={good}", s.ws_url()),
    ] {
        assert_eq!(
            refused_status(connect_async(url.as_str()).await),
            401,
            "{url}"
        );
    }
    let wrong_path = format!("{}/ws/nope?event=messages.upsert&token={good}", s.ws_url());
    assert_eq!(refused_status(connect_async(wrong_path).await), 404);

    let st = stats(s.addr).await;
    assert_eq!(st["attempts"], 8);
    assert_eq!(st["refused"], 8);
    assert_eq!(st["open"], json!({}));

    // a plain GET with a good token but no upgrade is not a websocket
    let (status, _) = http(
        s.addr,
        "GET",
        &format!("/ws/events?event=messages.upsert&token={good}"),
        "",
    )
    .await;
    assert!((400..500).contains(&status) && status != 401, "{status}");
}

#[tokio::test]
async fn newer_socket_replaces_older_one() {
    let s = server().await;
    let mut first = connect(&s, "demo", "connection.update").await;
    let mut second = connect(&s, "demo", "connection.update").await;
    let v = post(
        s.addr,
        "/events/demo/connection.update",
        r#"{"state":"open"}"#,
    )
    .await;
    assert_eq!(v["delivered"], 1);
    assert_eq!(next_text(&mut second).await, r#"{"state":"open"}"#);
    // the older one gets nothing and is not closed
    assert_silent(&mut first, Duration::from_millis(300)).await;
    first
        .send(Message::text("still here"))
        .await
        .expect("older socket still open");
    let st = stats(s.addr).await;
    assert_eq!(st["open"]["demo/connection.update"], 2);
    assert_eq!(st["connects"]["demo/connection.update"], 2);

    // when the current one closes, the starved one does not take over
    second.close(None).await.expect("close");
    wait_stats(s.addr, |st| st["open"]["demo/connection.update"] == 1).await;
    let v = post(s.addr, "/events/demo/connection.update", "{}").await;
    assert_eq!(v["delivered"], 0);
    assert_silent(&mut first, Duration::from_millis(200)).await;
}

#[tokio::test]
async fn close_old_mode_closes_the_older_socket() {
    let s = event_server::start(Config {
        on_duplicate: OnDuplicate::CloseOld,
        ..Config::ephemeral()
    })
    .await
    .expect("server starts");
    let mut first = connect(&s, "demo", "messages.upsert").await;
    let mut second = connect(&s, "demo", "messages.upsert").await;
    match next_msg(&mut first).await {
        Message::Close(Some(f)) => assert_eq!(u16::from(f.code), 4001),
        other => panic!("expected close 4001, got {other:?}"),
    }
    let st = wait_stats(s.addr, |st| st["open"]["demo/messages.upsert"] == 1).await;
    assert_eq!(st["connects"]["demo/messages.upsert"], 2);
    post(s.addr, "/events/demo/messages.upsert", "[1]").await;
    assert_eq!(next_text(&mut second).await, "[1]");
}

#[tokio::test]
async fn echo_text_and_binary() {
    let s = server().await;
    let (mut ws, _) = connect_async(format!("{}/echo", s.ws_url()))
        .await
        .expect("echo connects");
    ws.send(Message::text("hello ✓")).await.expect("send");
    assert_eq!(next_msg(&mut ws).await, Message::text("hello ✓"));
    ws.send(Message::Binary(vec![0u8, 1, 2, 255].into()))
        .await
        .expect("send");
    assert_eq!(
        next_msg(&mut ws).await,
        Message::Binary(vec![0u8, 1, 2, 255].into())
    );
    let st = stats(s.addr).await;
    assert_eq!(st["echo_open"], 1);
    assert_eq!(st["echo_connects"], 1);
    assert_eq!(st["echo_attempts"], 1);
    assert_eq!(st["attempts"], 0);
}

#[tokio::test]
async fn drop_abrupt_and_with_code() {
    let s = server().await;
    let mut a = connect(&s, "demo", "messages.upsert").await;
    let (mut e, _) = connect_async(format!("{}/echo", s.ws_url()))
        .await
        .expect("echo");

    // only the echo socket
    let v = post(s.addr, "/control/drop?mode=abrupt&target=echo", "").await;
    assert_eq!(v["dropped"], 1);
    assert_abrupt_end(&mut e).await;
    assert_silent(&mut a, Duration::from_millis(100)).await;

    let v = post(
        s.addr,
        "/control/drop?mode=close&code=4000&reason=bye%20now",
        "",
    )
    .await;
    assert_eq!(v["dropped"], 1);
    match next_msg(&mut a).await {
        Message::Close(Some(f)) => {
            assert_eq!(f.code, CloseCode::from(4000));
            assert_eq!(f.reason.as_str(), "bye now");
        }
        other => panic!("expected a close frame, got {other:?}"),
    }
    wait_stats(s.addr, |st| st["open"] == json!({}) && st["echo_open"] == 0).await;

    // default mode is close with 1012
    let mut b = connect(&s, "demo", "messages.upsert").await;
    let v = post(s.addr, "/control/drop", "").await;
    assert_eq!(v["dropped"], 1);
    match next_msg(&mut b).await {
        Message::Close(Some(f)) => assert_eq!(u16::from(f.code), 1012),
        other => panic!("expected a close frame, got {other:?}"),
    }

    // abrupt on event sockets
    let mut c = connect(&s, "demo", "messages.upsert").await;
    let v = post(s.addr, "/control/drop?mode=abrupt", "").await;
    assert_eq!(v["dropped"], 1);
    assert_abrupt_end(&mut c).await;
}

#[tokio::test]
async fn refuse_window() {
    let s = server().await;
    // A long window for the refusals: what a loaded machine takes between them cannot end it.
    post(s.addr, "/control/refuse?ms=60000", "").await;
    let token = s.token("demo").expect("token");
    let url = events_url(&s, "messages.upsert", &token);
    assert_eq!(refused_status(connect_async(url.as_str()).await), 401);
    assert_eq!(
        refused_status(connect_async(format!("{}/echo", s.ws_url())).await),
        401
    );
    let st = stats(s.addr).await;
    assert_eq!(st["attempts"], 1);
    assert_eq!(st["refused"], 1);
    assert_eq!(st["echo_attempts"], 1);

    // A window ends by itself: a short one, then connects are accepted again.
    post(s.addr, "/control/refuse?ms=200", "").await;
    let started = Instant::now();
    let _kept = loop {
        match connect_async(url.as_str()).await {
            Ok((ws, _)) => break ws,
            Err(_) => {
                assert!(
                    started.elapsed() < Duration::from_secs(10),
                    "still refusing"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };

    // reset clears the window and the counters
    post(s.addr, "/control/refuse?ms=60000", "").await;
    post(s.addr, "/control/reset", "").await;
    let st = stats(s.addr).await;
    assert_eq!(st["attempts"], 0);
    assert_eq!(st["refused"], 0);
    assert_eq!(st["open"]["demo/messages.upsert"], 1);
    connect_async(url.as_str())
        .await
        .expect("connects after reset");
}

#[tokio::test]
async fn stall_window() {
    let s = server().await;
    // 3 s: the checks below fit in it even on a loaded machine.
    post(s.addr, "/control/stall?ms=3000", "").await;
    let token = s.token("demo").expect("token");
    let url = events_url(&s, "messages.upsert", &token);

    let window_start = Instant::now();

    // clients with a connect timeout give up, on both websocket endpoints
    let r = tokio::time::timeout(Duration::from_millis(300), connect_async(url.as_str())).await;
    assert!(r.is_err(), "the handshake should hang");
    let echo_url = format!("{}/echo", s.ws_url());
    let r =
        tokio::time::timeout(Duration::from_millis(200), connect_async(echo_url.as_str())).await;
    assert!(r.is_err(), "the echo handshake should hang too");

    // control endpoints are not stalled
    let st = stats(s.addr).await;
    assert_eq!(st["attempts"], 1);
    assert_eq!(st["stalled"], 1);
    assert_eq!(st["echo_stalled"], 1);

    // a patient client is dropped without any response when the window ends
    let r = tokio::time::timeout(Duration::from_secs(5), connect_async(url.as_str()))
        .await
        .expect("the stalled request ends");
    match r {
        Err(WsError::Http(resp)) => panic!("expected no response, got {}", resp.status()),
        Err(_) => {}
        Ok(_) => panic!("expected a failed handshake"),
    }
    assert!(window_start.elapsed() >= Duration::from_millis(2900));

    // The window is over: the next handshake is answered.
    connect_async(url.as_str())
        .await
        .expect("connects after the window");
}

#[tokio::test]
async fn restart_goes_down_and_comes_back() {
    let s = server().await;
    let mut ws = connect(&s, "demo", "messages.upsert").await;
    let started = Instant::now();
    // 3 s down: the checks made while it is down fit in it even on a loaded machine.
    let v = post(s.addr, "/control/restart?down_ms=3000", "").await;
    assert_eq!(v["restarting"], true);
    assert_abrupt_end(&mut ws).await;

    // while down, new TCP connections are refused
    match TcpStream::connect(s.addr).await {
        Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionRefused),
        Ok(_) => panic!("connected while the server is down"),
    }

    // then it listens again on the same port
    let token = s.token("demo").expect("token");
    let url = events_url(&s, "messages.upsert", &token);
    let mut ws = loop {
        match connect_async(url.as_str()).await {
            Ok((ws, _)) => break ws,
            Err(_) => {
                assert!(
                    started.elapsed() < Duration::from_secs(10),
                    "never came back"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    assert!(started.elapsed() >= Duration::from_millis(2900));
    post(s.addr, "/events/demo/messages.upsert", "{\"after\":true}").await;
    assert_eq!(next_text(&mut ws).await, "{\"after\":true}");
}

fn check_qr_png(data_url: &str, code: &str) {
    let b64 = data_url
        .strip_prefix("data:image/png;base64,")
        .expect("a PNG data URL");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("valid base64");
    let decoder = png::Decoder::new(bytes.as_slice());
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("a frame");
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    // the image is exactly the QR code for `code`
    let qr = event_server::qr::encode(code).expect("encodable");
    let n = qr.size() as usize;
    let (scale, border) = (event_server::qr::SCALE, event_server::qr::BORDER);
    assert_eq!(info.width as usize, (n + 2 * border) * scale);
    let w = info.width as usize;
    for y in 0..n {
        for x in 0..n {
            let px = buf[((y + border) * scale + scale / 2) * w + (x + border) * scale + scale / 2];
            assert_eq!(px == 0, qr.get_module(x as i32, y as i32), "module {x},{y}");
        }
    }
}

#[tokio::test]
async fn simulator_emits_codechat_shapes() {
    let s = server().await;
    let mut conn = connect(&s, "sim", "connection.update").await;
    let mut qr = connect(&s, "sim", "qrcode.updated").await;
    let mut msg = connect(&s, "sim", "messages.upsert").await;
    let mut chats = connect(&s, "sim", "chats.upsert").await;
    let mut contacts = connect(&s, "sim", "contacts.upsert").await;
    let mut presence = connect(&s, "sim", "presence.update").await;
    let mut texts = Vec::new();
    let mut states = Vec::new();
    let (mut no_push_name, mut lid_only, mut pairing) = (false, false, false);
    for round in 1..=7u64 {
        let v = post(s.addr, "/control/simulate/sim", "").await;
        assert_eq!(v["delivered"], 6);

        let c: Value = serde_json::from_str(&next_text(&mut conn).await).expect("json");
        assert_eq!(c["instance"], "sim");
        assert!(c["statusReason"].is_number());
        states.push(c["state"].as_str().expect("state").to_string());

        let q: Value = serde_json::from_str(&next_text(&mut qr).await).expect("json");
        assert_eq!(q["count"], round);
        let code = q["code"].as_str().expect("code");
        check_qr_png(q["base64"].as_str().expect("base64"), code);
        pairing |= q["paringCode"].is_string();

        // CodeChat's messages.upsert: numbers where its database has numbers.
        let m: Value = serde_json::from_str(&next_text(&mut msg).await).expect("json");
        for field in [
            "keyId",
            "keyFromMe",
            "messageTimestamp",
            "instanceId",
            "isGroup",
            "id",
        ] {
            assert!(m.get(field).is_some(), "messages.upsert lacks {field}: {m}");
        }
        assert_eq!(m["messageType"], "conversation");
        assert!(m["messageTimestamp"].is_u64() && m["instanceId"].is_u64() && m["id"].is_u64());
        assert!(m["isGroup"].is_boolean() && m["keyFromMe"].is_boolean());
        assert_eq!(m["info"]["type"], "notify");
        assert!(["ios", "android", "web", "unknown", "desktop"]
            .contains(&m["device"].as_str().unwrap_or("")));
        no_push_name |= m.get("pushName").is_none();
        lid_only |= m.get("keyRemoteJid").is_none() && m["keyLid"].is_string();
        texts.push(m["content"]["text"].as_str().expect("text").to_string());

        // The list events come as arrays of rows.
        let ch: Value = serde_json::from_str(&next_text(&mut chats).await).expect("json");
        assert!(
            ch[0]["remoteJid"].is_string() && ch[0]["id"].is_u64(),
            "{ch}"
        );
        let co: Value = serde_json::from_str(&next_text(&mut contacts).await).expect("json");
        assert!(
            co[0]["remoteJid"].is_string() && co[0].get("profilePicUrl").is_some(),
            "{co}"
        );
        let p: Value = serde_json::from_str(&next_text(&mut presence).await).expect("json");
        assert!(p["id"].is_string() && p["presences"].is_object(), "{p}");
    }
    assert_eq!(&states[..3], ["connecting", "open", "close"]);
    assert!(
        no_push_name && lid_only && pairing,
        "optional fields left out over 7 rounds"
    );
    assert!(texts
        .iter()
        .any(|t| t == "<img src=x onerror=\"window.__xss=1\">"));
    let mut unique = texts.clone();
    unique.sort();
    unique.dedup();
    assert!(unique.len() > 3, "texts vary: {texts:?}");

    // no sockets for that instance: nothing delivered
    let v = post(s.addr, "/control/simulate/nobody", "").await;
    assert_eq!(v["delivered"], 0);
}

#[tokio::test]
async fn periodic_simulator() {
    let s = event_server::start(Config {
        simulate: vec!["tick".into()],
        simulate_every: Duration::from_millis(100),
        ..Config::ephemeral()
    })
    .await
    .expect("server starts");
    let mut ws = connect(&s, "tick", "connection.update").await;
    let a: Value = serde_json::from_str(&next_text(&mut ws).await).expect("json");
    let b: Value = serde_json::from_str(&next_text(&mut ws).await).expect("json");
    assert_eq!(a["instance"], "tick");
    assert_ne!(a["state"], b["state"]);
}

#[tokio::test]
async fn dev_token_endpoint() {
    let s = server().await;
    let (status, v) = http(s.addr, "GET", "/dev/token?instance=shop%201", "").await;
    assert_eq!(status, 200);
    assert_eq!(v["instance"], "shop 1");
    let token = v["token"].as_str().expect("token").to_string();
    let (mut ws, _) = connect_async(events_url(&s, "chats.upsert", &token))
        .await
        .expect("the dev token works");
    post(s.addr, "/events/shop%201/chats.upsert", "{}").await;
    assert_eq!(next_msg(&mut ws).await, Message::text("{}"));

    let (_, v) = http(s.addr, "GET", "/dev/token", "").await;
    assert_eq!(v["instance"], "demo");
    let (_, v) = http(s.addr, "GET", "/dev/token?instance=x&exp_secs=60", "").await;
    let token = v["token"].as_str().expect("token");
    assert_eq!(
        jwt::verify(event_server::cli::DEFAULT_SECRET, token, false).map(|c| c.instance_name),
        Ok("x".to_string())
    );
    let payload = token.split('.').nth(1).expect("payload");
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("b64"),
    )
    .expect("json");
    assert!(claims["exp"].as_u64().expect("exp") > jwt::now_secs());
}

#[tokio::test]
async fn cors_headers() {
    let s = server().await;
    let mut st = TcpStream::connect(s.addr).await.expect("connect");
    st.write_all(
        b"OPTIONS /events/demo/messages.upsert HTTP/1.1\r\nHost: x\r\nOrigin: http://other:1\r\n\
          Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type\r\n\
          Connection: close\r\n\r\n",
    )
    .await
    .expect("write");
    let mut buf = String::new();
    st.read_to_string(&mut buf).await.expect("read");
    let lower = buf.to_ascii_lowercase();
    assert!(lower.starts_with("http/1.1 200"), "{buf}");
    assert!(lower.contains("access-control-allow-origin: *"), "{buf}");
    assert!(lower.contains("access-control-allow-methods"), "{buf}");
    assert!(lower.contains("access-control-allow-headers"), "{buf}");
}

#[tokio::test]
async fn static_dir_serves_files_beside_the_endpoints() {
    let dir = std::env::temp_dir().join(format!("event-server-static-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("pkg")).expect("temp dir");
    std::fs::write(dir.join("index.html"), "<!doctype html><title>demo</title>").expect("write");
    std::fs::write(dir.join("pkg").join("a.js"), "export const a = 1;").expect("write");
    let s = event_server::start(Config {
        static_dir: Some(dir.clone()),
        ..Config::ephemeral()
    })
    .await
    .expect("server starts");

    // the directory's index and its files
    let (status, body) = http(s.addr, "GET", "/", "").await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        Value::String("<!doctype html><title>demo</title>".into())
    );
    let (status, body) = http(s.addr, "GET", "/pkg/a.js", "").await;
    assert_eq!(status, 200);
    assert_eq!(body, Value::String("export const a = 1;".into()));
    // a missing file is still the JSON 404
    let (status, body) = http(s.addr, "GET", "/nope.js", "").await;
    assert_eq!(status, 404);
    assert_eq!(body, json!({ "error": "not found" }));
    // the endpoints still win over the files, and the sockets work on the same origin
    let (status, body) = http(s.addr, "GET", "/health", "").await;
    assert_eq!((status, body), (200, json!({ "ok": true })));
    let (mut ws, _) = connect_async(format!("{}/echo", s.ws_url()))
        .await
        .expect("echo connects");
    ws.send(Message::Text("hi".into())).await.expect("send");
    assert_eq!(next_text(&mut ws).await, "hi");

    s.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn flood_sends_count_json_messages_per_go() {
    let s = server().await;
    // extra query parameters (what a client appends: event, token) are ignored
    let url = format!("{}/flood?count=50&size=1000&event=x&token=y", s.ws_url());
    let (mut ws, _) = connect_async(url).await.expect("flood connects");
    for round in 0..2 {
        ws.send(Message::text("go")).await.expect("send go");
        for i in 0..50 {
            let text = next_text(&mut ws).await;
            assert_eq!(text.len(), 1000, "round {round} message {i}");
            let v: Value = serde_json::from_str(&text).expect("flood message is JSON");
            assert_eq!(v["seq"], i);
        }
    }
    // nothing more until the next "go"
    assert_silent(&mut ws, Duration::from_millis(200)).await;
    assert_eq!(event_server::flood_message(7, 0), r#"{"seq":7,"pad":""}"#);
    let (status, _) = http(s.addr, "GET", "/flood?count=x", "").await;
    assert_eq!(status, 400);
    s.shutdown();
}

/// CodeChat's "never expires" (`AUTHENTICATION_JWT_EXPIRES_IN=0`): its tokens carry `exp == iat`
/// and its server ignores expiry. Started so (`--jwt-expires-in 0`), ours accepts such a token
/// after its `exp` has passed; by default it refuses one, as CodeChat does with 3600.
#[tokio::test]
async fn a_codechat_never_expiring_token_is_accepted_when_tokens_never_expire() {
    let never = event_server::start(Config {
        jwt_expires_in: 0,
        ..Config::ephemeral()
    })
    .await
    .expect("server starts");
    let token = never.token("forever").expect("token");
    let payload: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).expect("a payload"))
            .expect("base64url"),
    )
    .expect("JSON");
    assert_eq!(
        payload["exp"], payload["iat"],
        "exp == iat, as CodeChat signs with 0"
    );
    assert_eq!(payload["sub"], "g-t");
    // Let the second pass: `exp` is now in the past.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (_ws, resp) = connect_async(events_url(&never, "messages.upsert", &token))
        .await
        .expect("accepted with expiry ignored");
    assert_eq!(resp.status(), 101);

    let default = server().await;
    let past = jwt::sign(
        "event-socket-dev-secret",
        &json!({ "instanceName": "x", "exp": payload["exp"], "iat": payload["iat"] }),
    )
    .expect("signs");
    assert_eq!(
        refused_status(connect_async(events_url(&default, "messages.upsert", &past)).await),
        401
    );
}

/// `PUT /instance/refreshToken/{instance}` `{"oldToken"}` as CodeChat: 201 and a new token for the
/// instance named in the old one (which may have expired); only the latest token of an instance
/// can be refreshed, and once refreshed it is not the latest any more.
#[tokio::test]
async fn refresh_token_rotates_the_latest_token() {
    let s = server().await;
    let old = s.token("refresh").expect("token");
    let body = json!({ "oldToken": old }).to_string();
    let (status, v) = http(s.addr, "PUT", "/instance/refreshToken/refresh", &body).await;
    assert_eq!(status, 201, "{v}");
    let new = v["token"].as_str().expect("the new token").to_string();
    assert_ne!(new, old);
    let (_ws, resp) = connect_async(events_url(&s, "messages.upsert", &new))
        .await
        .expect("the new token connects");
    assert_eq!(resp.status(), 101);
    // The old one is no longer the latest: refused, as CodeChat refuses it.
    let (status, v) = http(s.addr, "PUT", "/instance/refreshToken/refresh", &body).await;
    assert_eq!(status, 400);
    assert_eq!(v["message"][0], "Invalid \"oldToken\"");
    // An expired latest token can be refreshed.
    let (_, v) = http(s.addr, "GET", "/dev/token?instance=expiring&exp_secs=0", "").await;
    let expired = v["token"].as_str().expect("a token").to_string();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, v) = http(
        s.addr,
        "PUT",
        "/instance/refreshToken/expiring",
        &json!({ "oldToken": expired }).to_string(),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    let (status, _) = http(s.addr, "PUT", "/instance/refreshToken/x", "{}").await;
    assert_eq!(status, 400);
}

/// A refused handshake is a bare 401: no body, the connection closed.
#[tokio::test]
async fn a_refusal_is_a_bare_401() {
    let s = server().await;
    let mut c = TcpStream::connect(s.addr).await.expect("connects");
    let req = format!(
        "GET /ws/events?event=messages.upserts&token=x HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        s.addr
    );
    c.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), c.read_to_end(&mut buf))
        .await
        .expect("the server closes the connection")
        .expect("read");
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("HTTP/1.1 401 Unauthorized\r\n"), "{text}");
    let (head, body) = text.split_once("\r\n\r\n").expect("a blank line");
    assert_eq!(body, "", "no body");
    assert!(
        head.to_ascii_lowercase().contains("connection: close"),
        "{head}"
    );
}
