//! Shared server state: the socket registry, counters and the refuse/stall windows.

use crate::cli::{Config, OnDuplicate};
use crate::jwt::{self, Claims, JwtError};
use crate::sim::SimState;
use axum::extract::ws::Message;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// A command for one socket's task.
#[derive(Debug)]
pub enum Cmd {
    /// Send this frame.
    Send(Message),
    /// Send a close frame with this code and reason, then end.
    Close(u16, String),
    /// Drop the connection without a close frame.
    Abrupt,
}

/// instance name + event name.
pub type Key = (String, String);

#[derive(Default)]
struct KeyEntry {
    /// The socket that receives events for this key (the newest one).
    current: Option<u64>,
    /// Every open socket for this key, starved older ones included.
    sockets: BTreeMap<u64, mpsc::UnboundedSender<Cmd>>,
}

#[derive(Default)]
struct Counters {
    connects: BTreeMap<String, u64>,
    attempts: u64,
    refused: u64,
    stalled: u64,
    echo_attempts: u64,
    echo_refused: u64,
    echo_stalled: u64,
    echo_connects: u64,
}

#[derive(Default)]
struct Inner {
    /// The `tokenId` of the latest token issued for each instance (the one a refresh accepts).
    latest_token: HashMap<String, String>,
    /// The close frames clients sent, newest last (at most `CLIENT_CLOSES_KEPT`).
    client_closes: VecDeque<Value>,
    keys: HashMap<Key, KeyEntry>,
    echo: BTreeMap<u64, mpsc::UnboundedSender<Cmd>>,
    counters: Counters,
    refuse_until: Option<Instant>,
    stall_until: Option<Instant>,
    sims: HashMap<String, SimState>,
}

/// Which kind of WebSocket endpoint a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Events,
    Echo,
}

/// Which sockets `/control/drop` closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    All,
    Events,
    Echo,
}

/// What to do with a new WebSocket request, given the refuse/stall windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    Proceed,
    Refuse,
    Stall(Instant),
}

/// Where a registered socket lives in the registry.
#[derive(Debug, Clone)]
pub enum Slot {
    Event(Key),
    Echo,
}

/// State shared by all handlers.
pub struct Shared {
    pub secret: String,
    /// Seconds the tokens it issues live; 0: never (`exp == iat`, expiry not checked).
    pub jwt_expires_in: u64,
    pub on_duplicate: OnDuplicate,
    inner: Mutex<Inner>,
    next_id: AtomicU64,
    /// Open `/flood` sockets (the benchmark checks that none outlives its round).
    pub flood_open: AtomicU64,
    restart_tx: mpsc::UnboundedSender<Instant>,
}

/// A registered socket: unregisters itself when dropped (whether the upgrade completed or not).
pub struct Registration {
    shared: Arc<Shared>,
    slot: Slot,
    id: u64,
    pub rx: mpsc::UnboundedReceiver<Cmd>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.shared.unregister(&self.slot, self.id);
    }
}

/// How many client close frames `/control/stats` lists.
const CLIENT_CLOSES_KEPT: usize = 50;

impl Registration {
    /// The client closed this socket with `code` and `reason`: kept for `/control/stats`.
    pub fn client_closed(&self, code: u16, reason: &str) {
        let key = match &self.slot {
            Slot::Event(key) => key_label(key),
            Slot::Echo => "echo".into(),
        };
        let mut g = self.shared.lock();
        if g.client_closes.len() == CLIENT_CLOSES_KEPT {
            g.client_closes.pop_front();
        }
        g.client_closes
            .push_back(json!({ "key": key, "code": code, "reason": reason }));
    }
}

pub fn key_label(key: &Key) -> String {
    format!("{}/{}", key.0, key.1)
}

impl Shared {
    pub fn new(cfg: &Config, restart_tx: mpsc::UnboundedSender<Instant>) -> Self {
        Shared {
            secret: cfg.secret.clone(),
            jwt_expires_in: cfg.jwt_expires_in,
            on_duplicate: cfg.on_duplicate,
            inner: Mutex::new(Inner::default()),
            next_id: AtomicU64::new(1),
            flood_open: AtomicU64::new(0),
            restart_tx,
        }
    }

    /// A token for `instance` living `expires_in` seconds (default: `--jwt-expires-in`), which
    /// becomes the latest of its instance.
    pub fn issue(&self, instance: &str, expires_in: Option<u64>) -> Result<String, JwtError> {
        let id = format!("t{}", self.next_id.fetch_add(1, Ordering::Relaxed));
        let token = jwt::issue(
            &self.secret,
            instance,
            &id,
            expires_in.unwrap_or(self.jwt_expires_in),
        )?;
        self.lock().latest_token.insert(instance.to_string(), id);
        Ok(token)
    }

    /// A socket's token, checked as CodeChat's socket server checks it: the signature, and the
    /// expiry unless tokens never expire (`--jwt-expires-in 0`).
    pub fn verify(&self, token: &str) -> Result<Claims, JwtError> {
        jwt::verify(&self.secret, token, self.jwt_expires_in == 0)
    }

    /// CodeChat's refresh: `old` may have expired, but must be the latest token of its instance;
    /// the new one replaces it.
    pub fn refresh(&self, old: &str) -> Option<String> {
        let claims = jwt::verify(&self.secret, old, true).ok()?;
        let latest = self.lock().latest_token.get(&claims.instance_name).cloned();
        if latest.is_none() || latest != claims.token_id {
            return None;
        }
        self.issue(&claims.instance_name, None).ok()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts a WebSocket request and decides whether the refuse/stall windows apply.
    pub fn gate(&self, kind: Kind) -> Gate {
        let now = Instant::now();
        let mut g = self.lock();
        let refuse = g.refuse_until.is_some_and(|t| t > now);
        let stall = g.stall_until.filter(|t| *t > now);
        let c = &mut g.counters;
        match kind {
            Kind::Events => c.attempts += 1,
            Kind::Echo => c.echo_attempts += 1,
        }
        if refuse {
            match kind {
                Kind::Events => c.refused += 1,
                Kind::Echo => c.echo_refused += 1,
            }
            return Gate::Refuse;
        }
        if let Some(until) = stall {
            match kind {
                Kind::Events => c.stalled += 1,
                Kind::Echo => c.echo_stalled += 1,
            }
            return Gate::Stall(until);
        }
        Gate::Proceed
    }

    /// Counts an /ws/events request refused for a bad token or event.
    pub fn count_refused(&self) {
        self.lock().counters.refused += 1;
    }

    /// Registers a new event socket as the current one for its key.
    pub fn register_event(self: &Arc<Self>, key: Key) -> Registration {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::unbounded_channel();
        {
            let mut g = self.lock();
            *g.counters.connects.entry(key_label(&key)).or_default() += 1;
            let entry = g.keys.entry(key.clone()).or_default();
            if self.on_duplicate == OnDuplicate::CloseOld {
                for (_, old) in std::mem::take(&mut entry.sockets) {
                    let _ = old.send(Cmd::Close(
                        4001,
                        "replaced by a newer connection".to_string(),
                    ));
                }
            }
            entry.sockets.insert(id, tx);
            entry.current = Some(id);
        }
        Registration {
            shared: Arc::clone(self),
            slot: Slot::Event(key),
            id,
            rx,
        }
    }

    /// Registers a new echo socket.
    pub fn register_echo(self: &Arc<Self>) -> Registration {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::unbounded_channel();
        {
            let mut g = self.lock();
            g.counters.echo_connects += 1;
            g.echo.insert(id, tx);
        }
        Registration {
            shared: Arc::clone(self),
            slot: Slot::Echo,
            id,
            rx,
        }
    }

    fn unregister(&self, slot: &Slot, id: u64) {
        let mut g = self.lock();
        match slot {
            Slot::Echo => {
                g.echo.remove(&id);
            }
            Slot::Event(key) => {
                let empty = match g.keys.get_mut(key) {
                    Some(entry) => {
                        entry.sockets.remove(&id);
                        if entry.current == Some(id) {
                            // like the real server, an older starved socket does not take over
                            entry.current = None;
                        }
                        entry.sockets.is_empty()
                    }
                    None => false,
                };
                if empty {
                    g.keys.remove(key);
                }
            }
        }
    }

    /// Sends a frame to the current socket of `key`; returns how many sockets got it (0 or 1).
    pub fn deliver(&self, key: &Key, msg: Message) -> usize {
        let g = self.lock();
        let Some(entry) = g.keys.get(key) else {
            return 0;
        };
        match entry.current.and_then(|id| entry.sockets.get(&id)) {
            Some(tx) if tx.send(Cmd::Send(msg)).is_ok() => 1,
            _ => 0,
        }
    }

    /// Closes every open socket of `target` (each gets `make()`), removing them from the registry
    /// at once. Returns how many.
    pub fn drop_all(&self, target: Target, make: impl Fn() -> Cmd) -> usize {
        let mut g = self.lock();
        let mut n = 0;
        if matches!(target, Target::All | Target::Events) {
            for (_, entry) in g.keys.drain() {
                for (_, tx) in entry.sockets {
                    if tx.send(make()).is_ok() {
                        n += 1;
                    }
                }
            }
        }
        if matches!(target, Target::All | Target::Echo) {
            for (_, tx) in std::mem::take(&mut g.echo) {
                if tx.send(make()).is_ok() {
                    n += 1;
                }
            }
        }
        n
    }

    /// Refuses new WebSocket requests for `d`.
    pub fn refuse_for(&self, d: Duration) {
        self.lock().refuse_until = Some(Instant::now() + d);
    }

    /// Stalls new WebSocket requests for `d`.
    pub fn stall_for(&self, d: Duration) {
        self.lock().stall_until = Some(Instant::now() + d);
    }

    /// Clears the counters and the refuse/stall windows (open sockets stay).
    pub fn reset(&self) {
        let mut g = self.lock();
        g.counters = Counters::default();
        g.refuse_until = None;
        g.stall_until = None;
    }

    /// Asks the listener to restart, coming back at `until`.
    pub fn request_restart(&self, until: Instant) -> bool {
        self.restart_tx.send(until).is_ok()
    }

    /// Emits one simulation round for `instance`; returns how many frames were delivered.
    pub fn simulate(&self, instance: &str) -> Result<usize, String> {
        let (conn, (count, code, pairing), msg, chats, contacts, presence) = {
            let mut g = self.lock();
            let sim = g
                .sims
                .entry(instance.to_string())
                .or_insert_with(|| SimState::new(instance));
            let out = (
                sim.connection_update(),
                sim.next_qr_code(),
                sim.messages_upsert(),
                sim.chats_upsert(),
                sim.contacts_upsert(),
                sim.presence_update(),
            );
            sim.advance();
            out
        };
        // the PNG is made outside the lock
        let qr = crate::sim::qrcode_payload(count, &code, pairing.as_deref())?;
        let mut n = 0;
        for (event, payload) in [
            ("connection.update", conn),
            ("qrcode.updated", qr),
            ("messages.upsert", msg),
            ("chats.upsert", chats),
            ("contacts.upsert", contacts),
            ("presence.update", presence),
        ] {
            n += self.deliver(
                &(instance.to_string(), event.to_string()),
                Message::Text(payload.to_string().into()),
            );
        }
        Ok(n)
    }

    /// The statistics reported by `/control/stats`.
    pub fn stats(&self) -> Value {
        let g = self.lock();
        let mut open = Map::new();
        let mut keys: Vec<_> = g.keys.iter().collect();
        keys.sort_by(|a, b| a.0.cmp(b.0));
        for (key, entry) in keys {
            if !entry.sockets.is_empty() {
                open.insert(key_label(key), json!(entry.sockets.len()));
            }
        }
        let c = &g.counters;
        json!({
            "open": open,
            "connects": c.connects,
            "attempts": c.attempts,
            "refused": c.refused,
            "stalled": c.stalled,
            "echo_open": g.echo.len(),
            "flood_open": self.flood_open.load(Ordering::Relaxed),
            "client_closes": g.client_closes.iter().cloned().collect::<Vec<_>>(),
            "echo_connects": c.echo_connects,
            "echo_attempts": c.echo_attempts,
            "echo_refused": c.echo_refused,
            "echo_stalled": c.echo_stalled,
        })
    }
}
