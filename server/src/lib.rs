//! `event-server`: a reference CodeChat-style event WebSocket server for the event-socket demo
//! and tests. See README.md for the endpoints.

pub mod cli;
pub mod jwt;
pub mod qr;
pub mod sim;
mod state;

pub use cli::{Cli, Config, OnDuplicate};

use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::handler::HandlerWithoutStateExt;
use axum::http::{header, HeaderName, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use futures_util::SinkExt;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::{json, Value};
use state::{Cmd, Gate, Kind, Registration, Shared, Target};
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch, Notify};
use tokio::task::JoinHandle;
use tower::ServiceExt;
use tower_http::cors::CorsLayer;
use tower_http::services::ServeDir;

/// The event names CodeChat accepts; `/ws/events` accepts only these. One list with the client's
/// (whose `connect` errors name the closest one for any other).
pub const EVENTS: &[&str] = &event_socket::events::ACCEPTED;

/// The close code sent to an older socket with `--on-duplicate close-old`.
pub const CLOSE_REPLACED: u16 = 4001;

/// How long a server-initiated close waits for the client's close frame.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// A running server.
pub struct Server {
    /// The bound address (with the real port when started with port 0).
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    listener: JoinHandle<()>,
    simulators: Vec<JoinHandle<()>>,
}

impl Server {
    /// A development token for `instance` signed with this server's secret.
    pub fn token(&self, instance: &str) -> Result<String, jwt::JwtError> {
        self.shared.issue(instance, None)
    }

    /// `http://HOST:PORT`.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `ws://HOST:PORT`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// Stops listening and drops every socket abruptly.
    pub fn shutdown(self) {
        self.listener.abort();
        for s in &self.simulators {
            s.abort();
        }
        self.shared.drop_all(Target::All, || Cmd::Abrupt);
    }
}

/// Binds and starts serving in the background (on the current tokio runtime).
pub async fn start(cfg: Config) -> io::Result<Server> {
    let listener = TcpListener::bind((cfg.host.as_str(), cfg.port)).await?;
    let addr = listener.local_addr()?;
    let (restart_tx, restart_rx) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared::new(&cfg, restart_tx));
    let app = router(Arc::clone(&shared), cfg.static_dir.as_deref());
    let listener = tokio::spawn(run_listener(
        listener,
        addr,
        app,
        Arc::clone(&shared),
        restart_rx,
    ));
    let simulators = cfg
        .simulate
        .iter()
        .map(|instance| {
            let shared = Arc::clone(&shared);
            let instance = instance.clone();
            let every = cfg.simulate_every;
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(every);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                tick.tick().await;
                loop {
                    tick.tick().await;
                    if let Err(e) = shared.simulate(&instance) {
                        eprintln!("event-server: simulator for {instance:?}: {e}");
                    }
                }
            })
        })
        .collect();
    Ok(Server {
        addr,
        shared,
        listener,
        simulators,
    })
}

/// Lets a handler drop its own TCP connection (used by the stall window).
#[derive(Clone)]
struct ConnKill(Arc<Notify>);

/// Accepts connections, serving each with hyper; restarts on request.
async fn run_listener(
    first: TcpListener,
    addr: SocketAddr,
    app: Router,
    shared: Arc<Shared>,
    mut restart_rx: mpsc::UnboundedReceiver<Instant>,
) {
    let mut next = Some(first);
    loop {
        let listener = match next.take() {
            Some(l) => l,
            None => rebind(addr).await,
        };
        // dropping `generation` ends every HTTP connection accepted by this listener
        let (generation, _) = watch::channel(());
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        let _ = stream.set_nodelay(true);
                        tokio::spawn(serve_conn(stream, app.clone(), generation.subscribe()));
                    }
                    Err(e) => {
                        eprintln!("event-server: accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
                Some(until) = restart_rx.recv() => {
                    // stop listening now; let the /control/restart response go out first
                    drop(listener);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    drop(generation);
                    shared.drop_all(Target::All, || Cmd::Abrupt);
                    tokio::time::sleep_until(until.into()).await;
                    break;
                }
            }
        }
    }
}

async fn rebind(addr: SocketAddr) -> TcpListener {
    let mut warned = false;
    loop {
        match TcpListener::bind(addr).await {
            Ok(l) => return l,
            Err(e) => {
                if !warned {
                    eprintln!("event-server: cannot listen again on {addr} yet: {e}; retrying");
                    warned = true;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn serve_conn(stream: TcpStream, app: Router, mut generation: watch::Receiver<()>) {
    let kill = Arc::new(Notify::new());
    let conn_kill = ConnKill(Arc::clone(&kill));
    let svc = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(conn_kill.clone());
        app.clone().oneshot(req)
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), svc)
        .with_upgrades();
    tokio::select! {
        _ = conn => {}
        _ = kill.notified() => {}
        _ = generation.changed() => {}
    }
}

fn router(shared: Arc<Shared>, static_dir: Option<&std::path::Path>) -> Router {
    let app = Router::new()
        .route("/ws/events", get(ws_events))
        .route("/echo", get(ws_echo))
        .route("/flood", get(ws_flood))
        .route("/events/{instance}/{event}", post(post_event))
        .route("/dev/token", get(dev_token))
        .route("/instance/refreshToken/{instance}", put(refresh_token))
        .route("/health", get(health))
        .route("/control/stats", get(stats))
        .route("/control/drop", post(control_drop))
        .route("/control/refuse", post(control_refuse))
        .route("/control/stall", post(control_stall))
        .route("/control/restart", post(control_restart))
        .route("/control/reset", post(control_reset))
        .route("/control/simulate/{instance}", post(control_simulate));
    // `--static DIR`: every other path is a file of DIR (index.html for a directory), else 404
    let app = match static_dir {
        Some(dir) => app.fallback_service(
            ServeDir::new(dir)
                .append_index_html_on_directories(true)
                .not_found_service(not_found.into_service()),
        ),
        None => app.fallback(not_found),
    };
    app.layer(CorsLayer::permissive()).with_state(shared)
}

fn json_error(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(json!({ "error": msg.into() }))).into_response()
}

/// A refused handshake as CodeChat refuses one: a bare `401 Unauthorized`, no body, and the
/// connection closed (CodeChat writes the status line and destroys the socket; hyper adds its
/// `date` and `content-length` headers). Why, for a person with curl: `x-refused`.
fn unauthorized(reason: &str) -> Response {
    let reason = HeaderValue::from_str(reason).unwrap_or(HeaderValue::from_static("refused"));
    (
        StatusCode::UNAUTHORIZED,
        [
            (header::CONNECTION, HeaderValue::from_static("close")),
            (HeaderName::from_static("x-refused"), reason),
        ],
    )
        .into_response()
}

async fn not_found() -> Response {
    json_error(StatusCode::NOT_FOUND, "not found")
}

async fn health() -> Json<Value> {
    Json(json!({ "ok": true }))
}

/// Holds a stalled request until `until`, then drops its TCP connection without a response.
async fn stall(until: Instant, kill: Option<Extension<ConnKill>>) -> Response {
    tokio::time::sleep_until(until.into()).await;
    match kill {
        Some(Extension(ConnKill(n))) => {
            n.notify_one();
            std::future::pending::<Response>().await
        }
        None => json_error(StatusCode::SERVICE_UNAVAILABLE, "stalled"),
    }
}

async fn ws_events(
    State(shared): State<Arc<Shared>>,
    kill: Option<Extension<ConnKill>>,
    query: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    match shared.gate(Kind::Events) {
        Gate::Proceed => {}
        Gate::Refuse => return unauthorized("refusing connections (test window)"),
        Gate::Stall(until) => return stall(until, kill).await,
    }
    let params = query.map(|Query(q)| q).unwrap_or_default();
    let event = params.get("event").map(String::as_str).unwrap_or("");
    if !EVENTS.contains(&event) {
        shared.count_refused();
        return unauthorized(&format!("unknown event {event:?}"));
    }
    let token = params.get("token").map(String::as_str).unwrap_or("");
    let claims = match shared.verify(token) {
        Ok(c) => c,
        Err(e) => {
            shared.count_refused();
            return unauthorized(&e.to_string());
        }
    };
    let ws = match upgrade {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    // register before the 101 goes out, so that a POST right after the handshake is delivered
    let reg = shared.register_event((claims.instance_name, event.to_string()));
    ws.on_upgrade(move |socket| run_socket(socket, reg, false))
}

async fn ws_echo(
    State(shared): State<Arc<Shared>>,
    kill: Option<Extension<ConnKill>>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    match shared.gate(Kind::Echo) {
        Gate::Proceed => {}
        Gate::Refuse => return unauthorized("refusing connections (test window)"),
        Gate::Stall(until) => return stall(until, kill).await,
    }
    let ws = match upgrade {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    let reg = shared.register_echo();
    ws.on_upgrade(move |socket| run_socket(socket, reg, true))
}

/// The largest `count` and `size` `/flood` accepts.
const FLOOD_MAX_COUNT: usize = 10_000_000;
const FLOOD_MAX_SIZE: usize = 16 << 20;

#[derive(Deserialize)]
struct FloodParams {
    count: Option<usize>,
    size: Option<usize>,
}

/// The `i`th flood message: a JSON object of `size` bytes (at least its minimal form),
/// `{"seq":i,"pad":"xxx…"}`.
pub fn flood_message(i: usize, size: usize) -> String {
    let head = format!("{{\"seq\":{i},\"pad\":\"");
    let pad = size.saturating_sub(head.len() + 2);
    let mut s = String::with_capacity(head.len() + pad + 2);
    s.push_str(&head);
    s.extend(std::iter::repeat_n('x', pad));
    s.push_str("\"}");
    s
}

/// `GET /flood?count=N&size=B` (benchmark source, no token; other query parameters are ignored):
/// every text frame `go` the client sends is answered by `N` JSON text messages of about `B` bytes
/// ([`flood_message`]), written as fast as the socket takes them. Anything else the client sends is
/// ignored.
async fn ws_flood(
    State(shared): State<Arc<Shared>>,
    query: Result<Query<FloodParams>, axum::extract::rejection::QueryRejection>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let (count, size) = match query {
        Ok(Query(q)) => (q.count.unwrap_or(1000), q.size.unwrap_or(100)),
        Err(e) => return json_error(StatusCode::BAD_REQUEST, e.body_text()),
    };
    if count > FLOOD_MAX_COUNT || size > FLOOD_MAX_SIZE {
        return json_error(
            StatusCode::BAD_REQUEST,
            format!("count must be <= {FLOOD_MAX_COUNT} and size <= {FLOOD_MAX_SIZE}"),
        );
    }
    let ws = match upgrade {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    ws.on_upgrade(move |mut socket| async move {
        let _open = FloodOpen::count(shared);
        while let Some(Ok(msg)) = socket.recv().await {
            match msg {
                Message::Text(t) if t.as_str() == "go" => {
                    // feed, not send: frames are written in buffer-sized batches, flushed at the end
                    for i in 0..count {
                        let m = Message::Text(flood_message(i, size).into());
                        if socket.feed(m).await.is_err() {
                            return;
                        }
                    }
                    if socket.flush().await.is_err() {
                        return;
                    }
                }
                Message::Close(_) => return,
                _ => {}
            }
        }
    })
}

/// One open `/flood` socket in `flood_open`, for as long as it lives.
struct FloodOpen(Arc<Shared>);

impl FloodOpen {
    fn count(shared: Arc<Shared>) -> Self {
        shared
            .flood_open
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        FloodOpen(shared)
    }
}

impl Drop for FloodOpen {
    fn drop(&mut self) {
        self.0
            .flood_open
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Runs one WebSocket: forwards commands to it, reads (and ignores, or echoes) what it sends.
async fn run_socket(mut socket: WebSocket, mut reg: Registration, echo: bool) {
    loop {
        tokio::select! {
            cmd = reg.rx.recv() => match cmd {
                Some(Cmd::Send(msg)) => {
                    if socket.send(msg).await.is_err() {
                        return;
                    }
                }
                Some(Cmd::Close(code, reason)) => {
                    let frame = CloseFrame { code, reason: reason.into() };
                    if socket.send(Message::Close(Some(frame))).await.is_ok() {
                        // wait (briefly) for the client's close frame
                        let _ = tokio::time::timeout(CLOSE_GRACE, async {
                            while let Some(Ok(m)) = socket.recv().await {
                                if matches!(m, Message::Close(_)) {
                                    break;
                                }
                            }
                        })
                        .await;
                    }
                    return;
                }
                // dropping the socket closes the TCP connection without a close frame
                Some(Cmd::Abrupt) | None => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(msg)) => {
                    if let Message::Close(Some(frame)) = &msg {
                        reg.client_closed(frame.code, frame.reason.as_str());
                    }
                    let reply = match msg {
                        Message::Text(t) if echo => Some(Message::Text(t)),
                        Message::Binary(b) if echo => Some(Message::Binary(b)),
                        // a close frame is answered by the library; keep reading until the end
                        _ => None,
                    };
                    if let Some(reply) = reply {
                        if socket.send(reply).await.is_err() {
                            return;
                        }
                    }
                }
                Some(Err(_)) | None => return,
            },
        }
    }
}

#[derive(Deserialize)]
struct RawParam {
    raw: Option<String>,
}

async fn post_event(
    State(shared): State<Arc<Shared>>,
    Path((instance, event)): Path<(String, String)>,
    Query(q): Query<RawParam>,
    body: Bytes,
) -> Response {
    if !EVENTS.contains(&event.as_str()) {
        return json_error(StatusCode::BAD_REQUEST, format!("unknown event {event:?}"));
    }
    let msg = match q.raw.as_deref() {
        Some("binary") => Message::Binary(body),
        Some("text") => match String::from_utf8(body.to_vec()) {
            Ok(s) => Message::Text(s.into()),
            Err(_) => {
                return json_error(
                    StatusCode::BAD_REQUEST,
                    "raw=text needs a UTF-8 body (a text frame must be UTF-8)",
                )
            }
        },
        Some(other) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                format!("raw must be text or binary, got {other:?}"),
            )
        }
        None => {
            if serde_json::from_slice::<Value>(&body).is_err() {
                return json_error(
                    StatusCode::BAD_REQUEST,
                    "body is not JSON (use ?raw=text to send it anyway)",
                );
            }
            match String::from_utf8(body.to_vec()) {
                Ok(s) => Message::Text(s.into()),
                Err(_) => return json_error(StatusCode::BAD_REQUEST, "body is not UTF-8"),
            }
        }
    };
    let delivered = shared.deliver(&(instance, event), msg);
    Json(json!({ "delivered": delivered })).into_response()
}

#[derive(Deserialize)]
struct TokenParams {
    instance: Option<String>,
    exp_secs: Option<u64>,
}

async fn dev_token(State(shared): State<Arc<Shared>>, Query(q): Query<TokenParams>) -> Response {
    let instance = q
        .instance
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "demo".to_string());
    match shared.issue(&instance, q.exp_secs) {
        Ok(token) => Json(json!({ "instance": instance, "token": token })).into_response(),
        Err(e) => json_error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[derive(Deserialize)]
struct RefreshBody {
    #[serde(rename = "oldToken")]
    old_token: Option<String>,
}

/// `PUT /instance/refreshToken/{instance}` as CodeChat answers it: the instance is the token's own
/// (the path is not compared), the old token may have expired but must be the latest issued for
/// its instance; 201 with the new one, else 400 `Invalid "oldToken"`. (CodeChat 1.3's controller
/// returns nothing, so its 201 has an empty body: see the README.)
async fn refresh_token(
    State(shared): State<Arc<Shared>>,
    body: Result<Json<RefreshBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let old = body
        .ok()
        .and_then(|Json(b)| b.old_token)
        .unwrap_or_default();
    match shared.refresh(&old) {
        Some(token) => (StatusCode::CREATED, Json(json!({ "token": token }))).into_response(),
        None => (
            StatusCode::BAD_REQUEST,
            Json(json!({
                "status": 400,
                "error": "Bad Request",
                "message": ["Invalid \"oldToken\""],
            })),
        )
            .into_response(),
    }
}

async fn stats(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(shared.stats())
}

#[derive(Deserialize)]
struct DropParams {
    mode: Option<String>,
    code: Option<u16>,
    reason: Option<String>,
    target: Option<String>,
}

async fn control_drop(State(shared): State<Arc<Shared>>, Query(q): Query<DropParams>) -> Response {
    let target = match q.target.as_deref().unwrap_or("all") {
        "all" => Target::All,
        "events" => Target::Events,
        "echo" => Target::Echo,
        other => {
            return json_error(
                StatusCode::BAD_REQUEST,
                format!("target must be all, events or echo, got {other:?}"),
            )
        }
    };
    let dropped = match q.mode.as_deref().unwrap_or("close") {
        "abrupt" => shared.drop_all(target, || Cmd::Abrupt),
        "close" => {
            let code = q.code.unwrap_or(1012);
            let reason = q.reason.unwrap_or_default();
            if reason.len() > 123 {
                return json_error(StatusCode::BAD_REQUEST, "reason longer than 123 bytes");
            }
            shared.drop_all(target, || Cmd::Close(code, reason.clone()))
        }
        other => {
            return json_error(
                StatusCode::BAD_REQUEST,
                format!("mode must be abrupt or close, got {other:?}"),
            )
        }
    };
    Json(json!({ "dropped": dropped })).into_response()
}

#[derive(Deserialize)]
struct MsParams {
    ms: Option<u64>,
}

async fn control_refuse(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<MsParams>,
) -> Json<Value> {
    let ms = q.ms.unwrap_or(0);
    shared.refuse_for(Duration::from_millis(ms));
    Json(json!({ "refusing_ms": ms }))
}

async fn control_stall(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<MsParams>,
) -> Json<Value> {
    let ms = q.ms.unwrap_or(0);
    shared.stall_for(Duration::from_millis(ms));
    Json(json!({ "stalling_ms": ms }))
}

#[derive(Deserialize)]
struct RestartParams {
    down_ms: Option<u64>,
}

async fn control_restart(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<RestartParams>,
) -> Response {
    let ms = q.down_ms.unwrap_or(1000);
    if shared.request_restart(Instant::now() + Duration::from_millis(ms)) {
        Json(json!({ "restarting": true, "down_ms": ms })).into_response()
    } else {
        json_error(StatusCode::INTERNAL_SERVER_ERROR, "listener is not running")
    }
}

async fn control_reset(State(shared): State<Arc<Shared>>) -> Json<Value> {
    shared.reset();
    Json(json!({ "reset": true }))
}

async fn control_simulate(
    State(shared): State<Arc<Shared>>,
    Path(instance): Path<String>,
) -> Response {
    match shared.simulate(&instance) {
        Ok(n) => Json(json!({ "delivered": n })).into_response(),
        Err(e) => json_error(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}
