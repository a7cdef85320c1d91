//! A Leptos (client-side rendered) dashboard over event-socket's Rust API, the way a Leptos app
//! uses the crate: `default-features = false` (no JavaScript exports), typed CodeChat payloads from
//! `event_socket::payloads`, a token fetched before every attempt (`token_async`), and sockets
//! owned by the component that shows them, so that unmounting it closes them.
//!
//! Served from the event server's origin (`event-server --static dist`, or `trunk serve` with the
//! proxies of Trunk.toml), so the socket URL and `/dev/token` are page-relative.

use event_socket::payloads::{ConnectionState, ConnectionUpdate, MessagesUpsert};
use event_socket::{Socket, SocketError, State};
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The event socket, on the page's origin.
const EVENTS_URL: &str = "/ws/events";
/// The instance the reference server simulates (`--simulate demo`).
const INSTANCE: &str = "demo";
/// Messages kept on the page.
const MAX_MESSAGES: usize = 50;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

/// A fresh development token from the event server's `/dev/token`. A CodeChat app would ask its
/// own backend here (or renew with `PUT /instance/refreshToken/{instance}`); an `Err` is reported
/// as a `SocketError::Token` and the attempt is retried with backoff.
async fn dev_token() -> Result<String, String> {
    let window = web_sys::window().ok_or("no window")?;
    let url = format!("/dev/token?instance={INSTANCE}");
    let res = JsFuture::from(window.fetch_with_str(&url))
        .await
        .map_err(|e| describe(&url, &e))?;
    let res: web_sys::Response = res
        .dyn_into()
        .map_err(|_| format!("GET {url}: not a Response"))?;
    if !res.ok() {
        return Err(format!("GET {url}: HTTP {}", res.status()));
    }
    let body = res.json().map_err(|e| describe(&url, &e))?;
    let body = JsFuture::from(body).await.map_err(|e| describe(&url, &e))?;
    js_sys::Reflect::get(&body, &JsValue::from_str("token"))
        .ok()
        .and_then(|t| t.as_string())
        .ok_or_else(|| format!("GET {url}: no token in the answer"))
}

fn describe(url: &str, e: &JsValue) -> String {
    let message = e
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .unwrap_or_else(|| format!("{e:?}"));
    format!("GET {url}: {message}")
}

#[component]
fn App() -> impl IntoView {
    let (mounted, set_mounted) = signal(true);
    view! {
        <header>
            <h1>"event-socket + Leptos"</h1>
            <button id="toggle" on:click=move |_| set_mounted.update(|m| *m = !*m)>
                {move || if mounted.get() { "Unmount the dashboard" } else { "Mount the dashboard" }}
            </button>
        </header>
        <Show
            when=move || mounted.get()
            fallback=|| view! { <p id="unmounted">"Unmounted: its sockets are closed."</p> }
        >
            <Dashboard />
        </Show>
    }
}

/// One socket per event, as CodeChat serves them. The sockets are stored in this component's
/// owner, so Leptos drops them, which closes them, when the component unmounts; after the drop
/// none of their callbacks runs, so none touches this component's disposed signals.
#[component]
fn Dashboard() -> impl IntoView {
    let (conn_state, set_conn_state) = signal(State::Connecting);
    let (msg_state, set_msg_state) = signal(State::Connecting);
    let (instance, set_instance) = signal(None::<ConnectionUpdate>);
    let (messages, set_messages) = signal(Vec::<MessagesUpsert>::new());
    let (error, set_error) = signal(None::<String>);
    let report = move |e: SocketError| set_error.set(Some(e.to_string()));

    let sockets = [
        Socket::builder(EVENTS_URL, "connection.update")
            .token_async(dev_token)
            .on_state_change(move |s| set_conn_state.set(s))
            .on_json(move |m: Result<ConnectionUpdate, SocketError>| match m {
                Ok(update) => set_instance.set(Some(update)),
                Err(e) => report(e),
            })
            .on_error(report)
            .connect(),
        Socket::builder(EVENTS_URL, "messages.upsert")
            .token_async(dev_token)
            .on_state_change(move |s| set_msg_state.set(s))
            .on_json(move |m: Result<MessagesUpsert, SocketError>| match m {
                Ok(message) => set_messages.update(|list| {
                    list.insert(0, message);
                    list.truncate(MAX_MESSAGES);
                }),
                Err(e) => report(e),
            })
            .on_error(report)
            .connect(),
    ];
    let sockets: Vec<Socket> = sockets
        .into_iter()
        .filter_map(|s| s.map_err(report).ok())
        .collect();
    // Dropped with the component's owner: unmounting closes both sockets.
    StoredValue::new_local(sockets);

    view! {
        <section class="row" data-event="connection.update">
            <code>"connection.update"</code>
            <Badge state=conn_state />
            <span id="instance-state">
                {move || match instance.get() {
                    None => "no update yet".to_string(),
                    Some(u) => format!("{}: {}", u.instance, connection_label(u.state)),
                }}
            </span>
        </section>
        <section class="row" data-event="messages.upsert">
            <code>"messages.upsert"</code>
            <Badge state=msg_state />
            <span id="message-count">{move || format!("{} messages", messages.with(Vec::len))}</span>
        </section>
        <p class="error" id="error" hidden=move || error.with(Option::is_none)>
            {move || error.get().unwrap_or_default()}
        </p>
        <ol id="messages">
            <For
                each=move || messages.get()
                key=|m| m.key_id.clone()
                children=move |m: MessagesUpsert| {
                    view! {
                        <li>
                            <span class="sender">{m.sender().to_string()}</span>
                            <span class="text">{m.content.text.clone().unwrap_or_default()}</span>
                        </li>
                    }
                }
            />
        </ol>
    }
}

/// A socket's state as a badge (`data-state` is what the page test and the stylesheet read).
#[component]
fn Badge(state: ReadSignal<State>) -> impl IntoView {
    view! {
        <span class="badge" data-state=move || state.get().as_str()>
            {move || state.get().as_str()}
        </span>
    }
}

fn connection_label(state: ConnectionState) -> &'static str {
    match state {
        ConnectionState::Open => "open",
        ConnectionState::Connecting => "connecting",
        ConnectionState::Close => "close",
    }
}
