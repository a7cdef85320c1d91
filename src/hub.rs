//! The module-wide registry of connections.
//!
//! Connections belong to the module, not to the handle `socket()` returns, so the classic usage
//! that ignores the handle keeps its subscription. Subscriptions with the same URL, event and
//! instance (a JWT's `instanceName`, else the token itself; a token function by identity) share one
//! connection: the CodeChat server keeps one socket per instance and event and silently starves the
//! older of two, so two sockets for one event would be a bug.
//!
//! The hub's borrow is never held while user code can run (creating a connection feeds it only after
//! the borrow ends), so a hook that calls `socket()` is safe.

use std::rc::Rc;

use js_sys::Function;
use wasm_bindgen::prelude::*;

use crate::driver::{Connection, Handler};
use crate::errors;
use crate::host;
use crate::machine::{Input, State};
use crate::options::{PartialOptions, Share, Token};
use crate::subscriber::Subscriber;
use crate::url;
use std::cell::RefCell;

struct Hub {
    defaults: PartialOptions<Function>,
    /// Every live connection; shared ones are found by `share_key`. A handful per page, so a `Vec`
    /// (a hash map would add its hasher to the wasm for nothing).
    conns: Vec<Rc<Connection>>,
    next_sub: u64,
    lifecycle: Option<Lifecycle>,
}

impl Hub {
    const fn new() -> Self {
        Hub {
            defaults: PartialOptions::none(),
            conns: Vec::new(),
            next_sub: 0,
            lifecycle: None,
        }
    }

    /// The live connection for `key` whose token comes from the same source as `token`.
    fn find(&self, key: &str, token: &Token<Function>) -> Option<Rc<Connection>> {
        self.conns
            .iter()
            .find(|c| c.share_key.as_deref() == Some(key) && same_source(&c.opts.token, token))
            .cloned()
    }
}

/// A static token's source is in the key already (see [`share_key`]). A token function may name
/// any instance, so only the same function object is known to name the same one:
/// `configure({ token: fresh })` and then a `socket()` per component shares, where two sockets
/// would make the server starve the first.
fn same_source(a: &Token<Function>, b: &Token<Function>) -> bool {
    match (a, b) {
        (Token::Static(_), Token::Static(_)) => true,
        (Token::Dynamic(f), Token::Dynamic(g)) => f == g,
        _ => false,
    }
}

thread_local! {
    static HUB: RefCell<Hub> = const { RefCell::new(Hub::new()) };
}

/// Runs `f` on the hub; never call user code inside (see the module docs).
fn hub<R>(f: impl FnOnce(&mut Hub) -> R) -> R {
    HUB.with_borrow_mut(f)
}

/// The page's `online`, `offline` and `visibilitychange` listeners: one set for the module, shared by
/// every connection (installed on first use, never per connection).
struct Lifecycle {
    _closures: Vec<Handler>,
}

fn install_lifecycle() -> Lifecycle {
    let mut closures = Vec::new();
    let mut listen = |on: fn(&str, &JsValue), name: &str, input: fn() -> Option<Input<JsValue>>| {
        let c = Handler::new(move |_: JsValue| broadcast(input));
        on(name, c.as_ref());
        closures.push(c);
    };
    listen(host::listen, "online", || Some(Input::Online));
    listen(host::listen, "offline", || Some(Input::Offline));
    listen(host::listen_doc, "visibilitychange", || {
        host::visible().then_some(Input::Visible)
    });
    // Sharing across tabs: a page going into the back/forward cache or away, or being frozen,
    // lets its lock go (a frozen leader relays nothing); coming back, it follows again.
    let mut page = |on: fn(&str, &JsValue), name: &str, hidden: bool| {
        let c = Handler::new(move |_: JsValue| {
            let conns: Vec<Rc<Connection>> = hub(|h| h.conns.clone());
            for c in conns {
                c.page(hidden);
            }
        });
        on(name, c.as_ref());
        closures.push(c);
    };
    page(host::listen, "pagehide", true);
    page(host::listen, "pageshow", false);
    page(host::listen_doc, "freeze", true);
    page(host::listen_doc, "resume", false);
    Lifecycle {
        _closures: closures,
    }
}

/// Feeds every connection what `input` says now (made per connection rather than cloned: the
/// inputs carry no data, and `Input`'s clone would cost the wasm its code for nothing).
fn broadcast(input: fn() -> Option<Input<JsValue>>) {
    let conns: Vec<Rc<Connection>> = hub(|h| h.conns.clone());
    for c in conns {
        if let Some(input) = input() {
            c.feed(input);
        }
    }
}

/// A copy of the `configure()` defaults. Callers apply their options onto it in the order given,
/// so that what a later call sets, `null` included, replaces what an earlier one set: a merge of
/// two `PartialOptions` could not tell "turn this hook off" from "not given".
pub fn defaults() -> PartialOptions<Function> {
    hub(|h| h.defaults.clone())
}

#[cfg(feature = "js")]
/// Makes `merged` (the defaults with a `configure()` call's options applied, see [`defaults`])
/// the defaults for later `socket()` calls; the numbers are checked now.
pub fn configure(merged: PartialOptions<Function>) -> Result<(), JsValue> {
    merged
        .check()
        .map_err(|e| errors::type_error(&e.message()))?;
    if let Some(u) = &merged.url {
        url::resolve(u, host::page_url)
            .map_err(|e| errors::type_error(&format!("option `url`: {}", e.message())))?;
    }
    hub(|h| h.defaults = merged);
    Ok(())
}

/// Creates a subscription with `merged` (the defaults with its options applied, see [`defaults`]):
/// joins a shared connection or starts a new one.
pub fn subscribe(
    event: String,
    callback: Function,
    merged: PartialOptions<Function>,
) -> Result<(Rc<Connection>, Rc<Subscriber>), JsValue> {
    let opts = merged
        .resolve()
        .map_err(|e| errors::type_error(&e.message()))?;
    let base = url::resolve(&opts.url, host::page_url)
        .map_err(|e| errors::type_error(&format!("option `url`: {}", e.message())))?;
    let key =
        (opts.share != Share::Off).then(|| share_key(&base, &opts.params, &event, &opts.token));
    let sub = hub(|h| {
        h.next_sub += 1;
        if h.lifecycle.is_none() {
            h.lifecycle = Some(install_lifecycle());
        }
        Rc::new(Subscriber::new(
            h.next_sub,
            opts.parse,
            callback,
            opts.hooks.clone(),
        ))
    });
    let existing = key.as_ref().and_then(|k| hub(|h| h.find(k, &opts.token)));
    if let Some(conn) = existing {
        // The same instance, maybe through a renewed token: the newest is the likeliest to be
        // accepted when the connection next reconnects.
        if let Token::Static(t) = &opts.token {
            conn.renew_token(t);
        }
        conn.add(sub.clone());
        return Ok((conn, sub));
    }
    let conn = Connection::new(event, base, opts, key);
    conn.add(sub.clone());
    register(&conn);
    conn.start();
    Ok((conn, sub))
}

/// What the server keeps one socket for: the URL, event and parameters, and the instance. For a
/// JWT that is its `instanceName` claim (CodeChat keys sockets by it, not by the token), so that a
/// token renewed after `refresh.token` (a new `iat`, a new `exp`) joins the connection of the old
/// one instead of opening a second socket the server would starve the first for; any other static
/// token stands for itself, and a token function is compared by identity in [`Hub::find`].
fn share_key(
    base: &str,
    params: &[(String, String)],
    event: &str,
    token: &Token<Function>,
) -> String {
    let url = url::with_query(base, event, "", params);
    let (source, id) = match token {
        Token::Static(t) => match host::claim(t, "instanceName") {
            Some(instance) => ("instance", instance),
            None => ("token", t.clone()),
        },
        Token::Dynamic(_) => ("function", String::new()),
    };
    format!("{url}\n{source} {id}")
}

fn register(conn: &Rc<Connection>) {
    conn.set_on_closed(Box::new(forget));
    hub(|h| {
        if !h.conns.iter().any(|c| Rc::ptr_eq(c, conn)) {
            h.conns.push(conn.clone());
        }
    });
}

/// Called by a connection that closed for good. Dropping the hub's `Rc` happens after the borrow
/// ends, so a connection's last owner never drops it while `HUB` is borrowed.
fn forget(conn: &Connection) {
    let removed = hub(|h| {
        let mut removed = Vec::new();
        h.conns.retain(|c| {
            let same = std::ptr::eq(&**c, conn);
            if same {
                removed.push(c.clone());
            }
            !same
        });
        removed
    });
    drop(removed);
}

/// A subscriber's `close()`: the last one closes the connection.
pub fn unsubscribe(conn: &Rc<Connection>, sub: &Subscriber, code: u16, reason: String) {
    if sub.closed.replace(true) {
        return;
    }
    if conn.subscriber_count() <= 1 {
        // Across tabs: a follower says goodbye, a leader lets the lock go to the next tab.
        conn.tab_input(crate::tabs::Input::End);
        conn.feed(Input::Close { code, reason });
        conn.remove(sub.id);
        // Already closed for good (retries exhausted): make sure the hub holds nothing of it.
        forget(conn);
    } else {
        conn.remove(sub.id);
        sub.state(State::Closed);
    }
}

/// A subscriber's `reconnect()`: a fresh attempt now; revives a connection that gave up. If another
/// connection took its key meanwhile, the subscriber joins that one instead (never two sockets for
/// one key), and the caller's handle must follow: the new connection is returned.
pub fn reconnect(conn: &Rc<Connection>, sub: &Rc<Subscriber>) -> Option<Rc<Connection>> {
    if conn.state() == State::Closed {
        let other = conn
            .share_key
            .as_ref()
            .and_then(|k| hub(|h| h.find(k, &conn.opts.token)))
            .filter(|c| !Rc::ptr_eq(c, conn));
        if let Some(other) = other {
            conn.remove(sub.id);
            other.add(sub.clone());
            return Some(other);
        }
        register(conn);
    }
    conn.feed(Input::Reconnect);
    None
}

#[cfg(feature = "js")]
/// Connections the module holds (the leak tests read it).
pub fn connection_count() -> usize {
    hub(|h| h.conns.len())
}
