//! Helpers for the browser tests: talk to the real `event-server` (started by `cargo xtask test`,
//! address in `EVENT_SERVER` at compile time), wait for conditions, collect callback calls.
#![allow(dead_code)]

use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

pub const SERVER: &str = match option_env!("EVENT_SERVER") {
    Some(s) => s,
    None => "127.0.0.1:18084",
};

pub fn http_url(path: &str) -> String {
    format!("http://{SERVER}{path}")
}

pub fn events_url() -> String {
    format!("ws://{SERVER}/ws/events")
}

pub fn echo_url() -> String {
    format!("ws://{SERVER}/echo")
}

/// `fetch` through JS: GET when `body` is None, POST otherwise; returns the parsed JSON.
pub async fn http(method: &str, path: &str, body: Option<&str>) -> JsValue {
    let f = Function::new_with_args(
        "url, method, body",
        "return fetch(url, body === undefined ? { method } : { method, body, headers: { 'content-type': 'application/json' } }).then(r => r.text()).then(t => { try { return JSON.parse(t) } catch (_) { return t } })",
    );
    let body = body.map(JsValue::from_str).unwrap_or(JsValue::UNDEFINED);
    let p = f
        .call3(
            &JsValue::NULL,
            &http_url(path).into(),
            &method.into(),
            &body,
        )
        .expect("fetch call");
    JsFuture::from(p.unchecked_into::<js_sys::Promise>())
        .await
        .expect("fetch to the event server")
}

pub async fn post(path: &str, body: &str) -> JsValue {
    http("POST", path, Some(body)).await
}

pub async fn control(path: &str) -> JsValue {
    http("POST", path, Some("{}")).await
}

pub async fn token(instance: &str) -> String {
    let v = http("GET", &format!("/dev/token?instance={instance}"), None).await;
    get(&v, "token").as_string().expect("token in /dev/token")
}

pub async fn stats() -> JsValue {
    http("GET", "/control/stats", None).await
}

/// Open sockets the server holds for `instance/event`.
pub async fn open_count(instance: &str, event: &str) -> f64 {
    let s = stats().await;
    get(&get(&s, "open"), &format!("{instance}/{event}"))
        .as_f64()
        .unwrap_or(0.0)
}

/// Polls the server until it holds `want` open sockets for `instance/event` (it sees a close some
/// time after the client makes it); panics after 5 s with the count it saw.
pub async fn wait_open_count(instance: &str, event: &str, want: f64) {
    let mut seen = f64::NAN;
    for _ in 0..250 {
        seen = open_count(instance, event).await;
        if seen == want {
            return;
        }
        sleep(20).await;
    }
    panic!("the server holds {seen} open sockets for {instance}/{event}, not {want}, after 5 s");
}

pub async fn connects(instance: &str, event: &str) -> f64 {
    let s = stats().await;
    get(&get(&s, "connects"), &format!("{instance}/{event}"))
        .as_f64()
        .unwrap_or(0.0)
}

pub async fn deliver(instance: &str, event: &str, json: &str) -> f64 {
    let r = post(&format!("/events/{instance}/{event}"), json).await;
    get(&r, "delivered").as_f64().unwrap_or(0.0)
}

pub fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

pub async fn sleep(ms: u32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        web_sys_timeout(&resolve, ms);
    });
    let _ = JsFuture::from(p).await;
}

fn web_sys_timeout(f: &Function, ms: u32) {
    let set = Function::new_with_args("f, ms", "setTimeout(f, ms)");
    let _ = set.call2(&JsValue::NULL, f, &ms.into());
}

/// Polls `cond` every 20 ms; panics with `what` after `ms`.
pub async fn wait_for(what: &str, ms: u32, mut cond: impl FnMut() -> bool) {
    let mut waited = 0;
    while !cond() {
        if waited >= ms {
            panic!("timed out after {ms} ms waiting for: {what}");
        }
        sleep(20).await;
        waited += 20;
    }
}

/// A JS function that records its arguments: `calls()` lists them as arrays.
pub struct Recorder {
    pub log: Array,
    pub func: Function,
}

impl Recorder {
    pub fn new() -> Self {
        let log = Array::new();
        let func = Function::new_with_args("...args", "this.push(args)").bind0(&log);
        Recorder { log, func }
    }

    /// A recorder whose function throws after recording.
    pub fn throwing() -> Self {
        let log = Array::new();
        let func = Function::new_with_args("...args", "this.push(args); throw new Error('boom')")
            .bind0(&log);
        Recorder { log, func }
    }

    pub fn len(&self) -> u32 {
        self.log.length()
    }

    /// The first argument of call `i`.
    pub fn arg(&self, i: u32) -> JsValue {
        Array::from(&self.log.get(i)).get(0)
    }

    pub fn arg2(&self, i: u32) -> JsValue {
        Array::from(&self.log.get(i)).get(1)
    }

    pub fn last(&self) -> JsValue {
        self.arg(self.len().saturating_sub(1))
    }

    pub fn strings(&self) -> Vec<String> {
        (0..self.len())
            .map(|i| self.arg(i).as_string().unwrap_or_default())
            .collect()
    }

    /// The `kind` of each error recorded (for `onError`).
    pub fn kinds(&self) -> Vec<String> {
        (0..self.len())
            .map(|i| get(&self.arg(i), "kind").as_string().unwrap_or_default())
            .collect()
    }
}

/// Builds an options object from `(key, value)` pairs.
pub fn opts(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &(*k).into(), v).expect("set option");
    }
    o.into()
}

pub fn f(v: &Recorder) -> JsValue {
    v.func.clone().into()
}

pub fn js(code: &str) -> JsValue {
    js_sys::eval(code).expect("eval")
}

thread_local! {
    static BUSY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Held by a test for its whole run. wasm-bindgen-test runs async tests concurrently, but these
/// tests drop, stall and restart the one shared server, so they take turns.
pub struct Serial;

impl Drop for Serial {
    fn drop(&mut self) {
        BUSY.with(|b| b.set(false));
    }
}

/// Waits for the previous test to finish. A test that panics never drops its `Serial` (a panic in
/// wasm is a trap: nothing unwinds), so a panic hook, chained in front of the test runner's own,
/// gives the turn back: one failure stays one failure instead of stalling every test after it.
pub async fn serial() -> Serial {
    static RELEASE_ON_PANIC: std::sync::Once = std::sync::Once::new();
    RELEASE_ON_PANIC.call_once(|| {
        let runner = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            BUSY.with(|b| b.set(false));
            runner(info);
        }));
    });
    while BUSY.with(|b| b.get()) {
        sleep(10).await;
    }
    BUSY.with(|b| b.set(true));
    Serial
}

/// Waits for a subscription's state; on timeout the panic says where it was stuck.
pub async fn wait_state(sub: &event_socket::Subscription, want: &str, ms: u32) {
    let mut waited = 0;
    while sub.state() != want {
        if waited >= ms {
            panic!(
                "timed out after {ms} ms waiting for state {want}: state {:?}, retries {}, {:?}",
                sub.state(),
                sub.retries(),
                sub.url()
            );
        }
        sleep(20).await;
        waited += 20;
    }
}

/// Setup for tests that use a very long retry interval (to prove that something else triggered
/// the retry): a first attempt lost to a loaded machine would otherwise wait a minute, so nudge it.
pub async fn open_eventually(sub: &event_socket::Subscription) {
    for _ in 0..10 {
        let mut waited = 0;
        while sub.state() != "open" && waited < 1000 {
            sleep(20).await;
            waited += 20;
        }
        if sub.state() == "open" {
            return;
        }
        sub.reconnect();
    }
    wait_state(sub, "open", 1).await;
}
