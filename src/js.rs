//! The wasm-bindgen exports: `configure`, `socket` and the `Subscription` handle. Thin: arguments are
//! checked and turned into plain options here, everything else happens in `hub` and `driver`.

use std::rc::Rc;

use js_sys::{Function, Object};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::driver::Connection;
use crate::errors::type_error;
use crate::host::{self, kind, Kind};
use crate::hub;
use crate::options::{BinaryType, HeartbeatSpec, ParseMode, PartialOptions, Share, Token};
use crate::subscriber::Subscriber;
use std::cell::RefCell;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** The state of a subscription. */
export type SocketState = "connecting" | "open" | "reconnecting" | "closed";
export type SocketRole = "leader" | "follower" | "page";

/** `error.kind` of every error reported through `onError`. */
export type ErrorKind =
  | "parse" | "callback" | "connect" | "timeout" | "queue-full" | "token" | "retries-exhausted" | "unsent";

/** The errors given to `onError`. */
export interface EventSocketError extends Error {
  kind: ErrorKind;
  /** For `"parse"`: the frame that was not JSON (text, or a binary frame with `parse: "json"`). */
  raw?: string | ArrayBuffer | Blob;
  /** For `"callback"`, `"token"`, `"parse"`: what was thrown. */
  cause?: unknown;
}

/** A JSON value as `JSON.parse` returns it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** A JSON object, e.g. what CodeChat passes through from WhatsApp (fields vary by version). */
export type JsonObject = { [key: string]: Json };

export interface Heartbeat {
  /** ms between heartbeat messages. */
  interval: number;
  /** ms to wait for any inbound message after a heartbeat; default `interval`. */
  timeout?: number;
  /** Text to send; default `"ping"`. */
  message?: string;
}

export interface CloseInfo { willReconnect: boolean; delay: number | null }
export interface ReconnectInfo { attempt: number; delay: number }

export interface SocketOptions {
  url?: string;
  token?: string | (() => string | Promise<string>);
  params?: Record<string, string | number | boolean>;
  reconnectInterval?: number;
  maxReconnectInterval?: number;
  backoffFactor?: number;
  jitter?: number;
  maxRetries?: number;
  minUptime?: number;
  connectTimeout?: number;
  heartbeat?: Heartbeat | null;
  queueLimit?: number;
  /** `"json"` (default): the callback gets each text frame parsed; `"text"`: text and binary
   * frames as they came. */
  parse?: "json" | "text";
  binaryType?: "arraybuffer" | "blob";
  /** `true` (default): one socket per url, event and instance across this origin's tabs;
   * `"page"`: within this page only; `false`: a socket of its own. */
  share?: boolean | "page";
  shouldReconnect?: (event: CloseEvent) => boolean;
  onOpen?: (event: Event) => void;
  onClose?: (event: CloseEvent, info: CloseInfo) => void;
  onError?: (error: EventSocketError) => void;
  onReconnect?: (info: ReconnectInfo) => void;
  onStateChange?: (state: SocketState) => void;
  debug?: boolean;
}

/** The 13 events CodeChat sends over its sockets. */
export type SentEvent =
  | "qrcode.updated" | "connection.update" | "messages.upsert" | "messages.update" | "send.message"
  | "chats.upsert" | "chats.update" | "contacts.upsert" | "presence.update"
  | "groups.upsert" | "groups.update" | "group-participants.update" | "call.upsert";
/** The 22 event names CodeChat accepts (case-sensitive). The nine that are not a `SentEvent` are
 * accepted and never sent over a socket (webhooks only, if anywhere): a subscription to one of
 * them waits forever. */
export type CodeChatEvent =
  | SentEvent
  | "messages.set" | "contacts.set" | "contacts.update" | "chats.set" | "chats.delete"
  | "status.instance" | "refresh.token" | "labels.association" | "labels.edit";
/** An event name: CodeChat's complete in an editor, any other server's name is accepted too. */
export type EventName = CodeChatEvent | (string & {});

/** `connection.update`: the WhatsApp connection of the instance. */
export interface ConnectionUpdate {
  instance: string;
  state: "open" | "connecting" | "close";
  /** The disconnect's status code, else 200. */
  statusReason: number;
}
/** `qrcode.updated`. `paringCode` (sic: the server's spelling) comes when pairing by phone
 * number; versions of the server differ in what else they send, so every field is optional. */
export interface QrcodeUpdated { count?: number; code?: string; base64?: string; paringCode?: string }
export type Device = "ios" | "android" | "web" | "unknown" | "desktop";
/** `messages.upsert`: a message received, or sent through the API (`device: "web"`, no `info`). */
export interface MessagesUpsert {
  /** The database row's id, when the server saves messages. */
  id?: number;
  keyId: string;
  keyFromMe: boolean;
  /** Missing for chats WhatsApp knows only by LID: see `keyLid`. */
  keyRemoteJid?: string;
  keyLid?: string;
  keyParticipant?: string;
  keyParticipantLid?: string;
  pushName?: string | null;
  messageType: string;
  /** The message itself; a text message is `{ text }`, media may carry `mediaUrl`. */
  content: { text?: string; mediaUrl?: string; [key: string]: Json | undefined };
  /** Seconds since the epoch. */
  messageTimestamp: number;
  instanceId: number;
  device: Device;
  isGroup?: boolean;
  info?: { type: "notify" | "append" };
  externalAttributes?: Json;
}
/** `send.message`: a message sent through the API (also sent as `messages.upsert`). */
export type SendMessage = Omit<MessagesUpsert, "info" | "keyLid" | "keyParticipantLid" | "device"> & { device: "web" };
/** `messages.update`: one status change, with the message's WhatsApp key spread in. */
export interface MessagesUpdate {
  remoteJid?: string;
  fromMe?: boolean;
  /** The message's `keyId` (not its database id). */
  id?: string;
  participant?: string;
  status?: "ERROR" | "PENDING" | "SERVER_ACK" | "DELIVERY_ACK" | "READ" | "PLAYED";
  /** ISO date. */
  dateTime: string;
  instanceId: number;
}
/** A row of `chats.upsert` (the frame is an array). Dates are ISO strings. */
export interface Chat { id: number; remoteJid: string; content: JsonObject | null; createdAt: string | null; updatedAt: string | null; instanceId: number }
/** A row of `chats.update` (the frame is an array). */
export interface ChatUpdate { remoteJid: string; instanceId: number; content: JsonObject }
/** A row of `contacts.upsert` (the frame is an array; WhatsApp's contact updates come as this event too). */
export interface Contact { id: number; remoteJid: string; pushName: string | null; profilePicUrl: string | null; createdAt: string | null; updatedAt: string | null; instanceId: number }
export type Presence = "unavailable" | "available" | "composing" | "recording" | "paused";
/** `presence.update` (WhatsApp's own shape, passed through). */
export interface PresenceUpdate { id: string; presences: { [participant: string]: { lastKnownPresence: Presence; lastSeen?: number } } }
/** A group of `groups.upsert` / `groups.update` (WhatsApp's own shape, passed through; updates
 * carry only what changed). */
export interface Group { id: string; subject?: string; owner?: string; creation?: number; desc?: string; participants?: Json[]; [key: string]: Json | undefined }
/** `group-participants.update` (WhatsApp's own shape, passed through). */
export interface GroupParticipantsUpdate { id: string; author?: string; authorPn?: string; participants: Json[]; action: "add" | "remove" | "promote" | "demote" | (string & {}) }
/** `call.upsert`: one call event (WhatsApp's own shape, passed through). */
export interface CallUpsert {
  chatId: string; from: string; id: string; /** ISO date. */ date: string; offline: boolean;
  status: "offer" | "ringing" | "timeout" | "reject" | "accept" | "terminate" | (string & {});
  isVideo?: boolean; isGroup?: boolean; groupJid?: string; callerPn?: string; latencyMs?: number;
}

/** What each event CodeChat sends carries (the frame's JSON). */
export interface EventPayloads {
  "qrcode.updated": QrcodeUpdated;
  "connection.update": ConnectionUpdate;
  "messages.upsert": MessagesUpsert;
  "messages.update": MessagesUpdate;
  "send.message": SendMessage;
  "chats.upsert": Chat[];
  "chats.update": ChatUpdate[];
  "contacts.upsert": Contact[];
  "presence.update": PresenceUpdate;
  "groups.upsert": Group[];
  "groups.update": Group[];
  "group-participants.update": GroupParticipantsUpdate;
  "call.upsert": CallUpsert;
}
/** What the callback gets with `parse: "json"` (the default): the event's payload type for the
 * events above, any JSON for other names. */
export type Payload<E extends string> = E extends keyof EventPayloads ? EventPayloads[E] : Json;

/** Sets defaults for later `socket()` calls (applied over earlier `configure()` calls option by option; `null` turns a hook off). */
export function configure(options: SocketOptions): void;

/** Subscribes `callback(data, event)` to `eventName`; `data` is the parsed JSON (typed for
 * CodeChat's events). A frame that is not JSON (text that does not parse, or a binary frame) goes
 * to `onError` (kind `"parse"`, the frame as `raw`), never to the callback. Throws `TypeError` on
 * bad arguments. */
export function socket<E extends EventName>(
  eventName: E,
  callback: (data: Payload<E>, event: MessageEvent) => void,
  options?: SocketOptions & { parse?: "json" },
): Subscription;
/** With `parse: "text"`: `data` is each frame as it came, a string for text, an `ArrayBuffer` (or
 * a `Blob` with `binaryType: "blob"`) for binary. */
export function socket(
  eventName: EventName,
  callback: (data: string | ArrayBuffer | Blob, event: MessageEvent) => void,
  options: SocketOptions & { parse: "text" },
): Subscription;
"#;

/// Runs once when the module is instantiated: a panic (a bug: nothing input can reach panics)
/// then shows its Rust message and location in the console instead of `unreachable`.
#[wasm_bindgen(start)]
fn start() {
    console_error_panic_hook::set_once();
}

/// Sets defaults for later `socket()` calls (applied over earlier `configure()` calls option by
/// option; `null` turns a hook off).
#[wasm_bindgen(skip_typescript)]
pub fn configure(options: &JsValue) -> Result<(), JsValue> {
    hub::configure(read_options(options, hub::defaults())?)
}

/// Subscribes `callback(data, event)` to `eventName`; see the README for the options.
#[wasm_bindgen(skip_typescript)]
pub fn socket(
    event_name: &JsValue,
    callback: &JsValue,
    options: &JsValue,
) -> Result<Subscription, JsValue> {
    let event = match event_name.as_string() {
        Some(e) if !e.is_empty() => e,
        Some(_) => return Err(type_error("eventName must not be empty")),
        None => {
            return Err(type_error(
                "eventName must be a string, e.g. \"messages.upsert\"",
            ))
        }
    };
    if kind(callback) != Kind::Function {
        return Err(type_error(
            "callback must be a function (data, event) => {}",
        ));
    }
    let callback: Function = callback.clone().unchecked_into();
    let merged = read_options(options, hub::defaults())?;
    let (conn, sub) = hub::subscribe(event, callback, merged)?;
    Ok(Subscription {
        conn: RefCell::new(conn),
        sub,
    })
}

/// A handle on one subscription. Dropping it does not stop the subscription; `close()` does.
#[wasm_bindgen]
pub struct Subscription {
    conn: RefCell<Rc<Connection>>,
    sub: Rc<Subscriber>,
}

#[wasm_bindgen]
impl Subscription {
    /// `"connecting" | "open" | "reconnecting" | "closed"`.
    // Getters return `JsValue`, not `String`: the glue then takes the value as it is instead of
    // copying it out of wasm memory and freeing it there (less glue, same string).
    #[wasm_bindgen(getter, unchecked_return_type = "SocketState")]
    pub fn state(&self) -> JsValue {
        if self.sub.closed.get() {
            "closed".into()
        } else {
            self.conn.borrow().state().as_str().into()
        }
    }

    /// Consecutive failed attempts.
    #[wasm_bindgen(getter)]
    pub fn retries(&self) -> u32 {
        self.conn.borrow().retries()
    }

    /// `"leader"`: this tab holds the socket; `"follower"`: another tab of this origin does and
    /// relays it; `"page"`: not shared across tabs (`share: "page"` or `false`, or the browser
    /// cannot).
    #[wasm_bindgen(getter, unchecked_return_type = "SocketRole")]
    pub fn role(&self) -> JsValue {
        self.conn.borrow().role().as_str().into()
    }

    /// Tabs sharing the socket, this one included (1 when not shared across tabs).
    #[wasm_bindgen(getter)]
    pub fn tabs(&self) -> u32 {
        self.conn.borrow().tab_count()
    }

    /// The event this subscription receives (the `event=` query parameter).
    #[wasm_bindgen(getter, js_name = eventName, unchecked_return_type = "string")]
    pub fn event_name(&self) -> JsValue {
        self.conn.borrow().event.as_str().into()
    }

    /// The connection URL with the token redacted.
    #[wasm_bindgen(getter, unchecked_return_type = "string")]
    pub fn url(&self) -> JsValue {
        self.conn.borrow().display_url().into()
    }

    /// Sends `data` (object -> JSON text, string -> text, ArrayBuffer/TypedArray/Blob -> binary).
    /// Returns false when it was not accepted (closed, or the queue is full).
    pub fn send(
        &self,
        #[wasm_bindgen(
            unchecked_param_type = "string | object | ArrayBuffer | ArrayBufferView | Blob"
        )]
        data: &JsValue,
    ) -> Result<bool, JsValue> {
        let msg = outgoing(data)?;
        if self.sub.closed.get() {
            return Ok(false);
        }
        let conn = self.conn.borrow().clone();
        Ok(conn.send(msg))
    }

    /// Closes for good: never reconnects. Safe to call twice.
    // Both arguments are taken as they come and checked here: wasm-bindgen's `Option<u16>` would
    // wrap 70000 round to 4464 (a valid code) and turn "4000" or NaN into 0 without a word.
    pub fn close(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "number | null")] code: &JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "string | null")] reason: &JsValue,
    ) -> Result<(), JsValue> {
        let code = match kind(code) {
            Kind::Undefined | Kind::Null => 1000,
            Kind::Number => {
                let c = code.as_f64().unwrap_or(f64::NAN);
                let valid =
                    (c == 1000.0 || (3000.0..=4999.0).contains(&c)) && c == (c as u16) as f64;
                if !valid {
                    return Err(type_error(&format!(
                        "close code must be 1000 or a whole number in 3000..=4999, got {}",
                        crate::options::num(c)
                    )));
                }
                c as u16
            }
            _ => return Err(type_error("close code must be a number")),
        };
        let reason = match kind(reason) {
            Kind::Undefined | Kind::Null => String::new(),
            Kind::String => reason.as_string().unwrap_or_default(),
            _ => return Err(type_error("close reason must be a string")),
        };
        if reason.len() > 123 {
            return Err(type_error(
                "close reason must be at most 123 bytes of UTF-8",
            ));
        }
        let conn = self.conn.borrow().clone();
        hub::unsubscribe(&conn, &self.sub, code, reason);
        Ok(())
    }

    /// A fresh attempt now, with the backoff reset. Does nothing after `close()`.
    pub fn reconnect(&self) {
        if !self.sub.closed.get() {
            let conn = self.conn.borrow().clone();
            if let Some(joined) = hub::reconnect(&conn, &self.sub) {
                *self.conn.borrow_mut() = joined;
            }
        }
    }
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = JSON, js_name = stringify, catch)]
    fn json_stringify(value: &JsValue) -> Result<JsValue, JsValue>;
}

fn outgoing(data: &JsValue) -> Result<JsValue, JsValue> {
    match kind(data) {
        Kind::String | Kind::Binary => return Ok(data.clone()),
        Kind::Undefined | Kind::Function | Kind::Other => {
            return Err(type_error(
                "send(data): data must be a string, an object (sent as JSON), an ArrayBuffer, a TypedArray or a Blob",
            ))
        }
        _ => {}
    }
    match json_stringify(data) {
        Ok(text) if kind(&text) == Kind::String => Ok(text),
        Ok(_) => Err(type_error("send(data): data cannot be turned into JSON")),
        Err(e) => Err(type_error(&format!(
            "send(data): JSON.stringify failed: {}",
            host::read(&e, "message")
                .and_then(|(_, m)| m.as_string())
                .unwrap_or_default()
        ))),
    }
}

/// Which option a key names: matched as a number, not by comparing the name 22 times again.
#[derive(Clone, Copy)]
enum Opt {
    Url,
    Token,
    Params,
    ReconnectInterval,
    MaxReconnectInterval,
    BackoffFactor,
    Jitter,
    MaxRetries,
    MinUptime,
    ConnectTimeout,
    Heartbeat,
    QueueLimit,
    Parse,
    BinaryType,
    Share,
    ShouldReconnect,
    OnOpen,
    OnClose,
    OnError,
    OnReconnect,
    OnStateChange,
    Debug,
}

/// The option names, in the order the unknown-option message lists them.
const KNOWN: &[(&str, Opt)] = &[
    ("url", Opt::Url),
    ("token", Opt::Token),
    ("params", Opt::Params),
    ("reconnectInterval", Opt::ReconnectInterval),
    ("maxReconnectInterval", Opt::MaxReconnectInterval),
    ("backoffFactor", Opt::BackoffFactor),
    ("jitter", Opt::Jitter),
    ("maxRetries", Opt::MaxRetries),
    ("minUptime", Opt::MinUptime),
    ("connectTimeout", Opt::ConnectTimeout),
    ("heartbeat", Opt::Heartbeat),
    ("queueLimit", Opt::QueueLimit),
    ("parse", Opt::Parse),
    ("binaryType", Opt::BinaryType),
    ("share", Opt::Share),
    ("shouldReconnect", Opt::ShouldReconnect),
    ("onOpen", Opt::OnOpen),
    ("onClose", Opt::OnClose),
    ("onError", Opt::OnError),
    ("onReconnect", Opt::OnReconnect),
    ("onStateChange", Opt::OnStateChange),
    ("debug", Opt::Debug),
];

/// The option names, comma-separated, for the unknown-option message.
fn known_options() -> String {
    let mut out = String::new();
    for (i, (name, _)) in KNOWN.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(name);
    }
    out
}

/// Reads the JS options object onto `o` (the defaults), checking every type: what is given
/// replaces the default, `null` included (a hook or the heartbeat turned off).
///
/// Only the object's own enumerable properties count (what `{ ...options }` would copy), each read
/// once: the loop goes over the keys that are there, not over the 22 names, and fills one struct,
/// so the code for a field is one line and one `?` (a struct literal of 22 fallible reads
/// compiled to 5 KB of wasm, most of it dropping the fields read before a failing one).
fn read_options(
    v: &JsValue,
    mut o: PartialOptions<Function>,
) -> Result<PartialOptions<Function>, JsValue> {
    match kind(v) {
        Kind::Undefined | Kind::Null => return Ok(o),
        Kind::Object | Kind::Instance => {}
        _ => return Err(type_error("options must be an object")),
    }
    for key in own_keys(v) {
        let Some(&(name, opt)) = KNOWN.iter().find(|(k, _)| *k == key) else {
            return Err(type_error(&format!(
                "unknown option `{key}` (known: {})",
                known_options()
            )));
        };
        let Some((kind, value)) = host::read(v, name) else {
            return Err(type_error(&format!("option `{name}` could not be read")));
        };
        if kind == Kind::Undefined {
            continue;
        }
        set(&mut o, opt, Field { name, kind, value })?;
    }
    Ok(o)
}

/// Stores one option, checked. A function of its own so that a failing check returns without
/// dropping the half-filled options at each of 22 exits; numbers and hooks each go through one
/// check and one store (a slot picked by the option), not one copy per option.
#[inline(never)]
fn set(o: &mut PartialOptions<Function>, opt: Opt, f: Field) -> Result<(), JsValue> {
    if let Some(slot) = number_slot(o, opt) {
        *slot = Some(f.number()?);
        return Ok(());
    }
    if let Some(slot) = function_slot(o, opt) {
        *slot = f.function()?;
        return Ok(());
    }
    match opt {
        Opt::Url => o.url = Some(f.string()?),
        Opt::Token => o.token = Some(f.token()?),
        Opt::Params => o.params = Some(f.params()?),
        Opt::Heartbeat => o.heartbeat = Some(f.heartbeat()?),
        Opt::Parse => {
            o.parse = Some(match f.string()?.as_str() {
                "json" => ParseMode::Json,
                "text" => ParseMode::Text,
                _ => return Err(f.wrong("must be \"json\" or \"text\"")),
            })
        }
        Opt::BinaryType => {
            o.binary_type = Some(match f.string()?.as_str() {
                "arraybuffer" => BinaryType::ArrayBuffer,
                "blob" => BinaryType::Blob,
                _ => return Err(f.wrong("must be \"arraybuffer\" or \"blob\"")),
            })
        }
        Opt::Share => {
            o.share = Some(match (f.kind, f.value.as_bool()) {
                (Kind::Bool, Some(true)) => Share::Tabs,
                (Kind::Bool, Some(false)) => Share::Off,
                (Kind::String, _) if f.string()? == "page" => Share::Page,
                _ => return Err(f.bad("must be true, false or \"page\"")),
            })
        }
        Opt::Debug => o.debug = Some(f.boolean()?),
        // Stored above; listed so that a new option cannot be forgotten here.
        Opt::ReconnectInterval
        | Opt::MaxReconnectInterval
        | Opt::BackoffFactor
        | Opt::Jitter
        | Opt::MaxRetries
        | Opt::MinUptime
        | Opt::ConnectTimeout
        | Opt::QueueLimit
        | Opt::ShouldReconnect
        | Opt::OnOpen
        | Opt::OnClose
        | Opt::OnError
        | Opt::OnReconnect
        | Opt::OnStateChange => {}
    }
    Ok(())
}

/// Where a numeric option goes.
fn number_slot(o: &mut PartialOptions<Function>, opt: Opt) -> Option<&mut Option<f64>> {
    Some(match opt {
        Opt::ReconnectInterval => &mut o.reconnect_interval,
        Opt::MaxReconnectInterval => &mut o.max_reconnect_interval,
        Opt::BackoffFactor => &mut o.backoff_factor,
        Opt::Jitter => &mut o.jitter,
        Opt::MaxRetries => &mut o.max_retries,
        Opt::MinUptime => &mut o.min_uptime,
        Opt::ConnectTimeout => &mut o.connect_timeout,
        Opt::QueueLimit => &mut o.queue_limit,
        _ => return None,
    })
}

/// Where a function option (a hook or `shouldReconnect`) goes.
fn function_slot(o: &mut PartialOptions<Function>, opt: Opt) -> Option<&mut Option<Function>> {
    Some(match opt {
        Opt::ShouldReconnect => &mut o.should_reconnect,
        Opt::OnOpen => &mut o.hooks.on_open,
        Opt::OnClose => &mut o.hooks.on_close,
        Opt::OnError => &mut o.hooks.on_error,
        Opt::OnReconnect => &mut o.hooks.on_reconnect,
        Opt::OnStateChange => &mut o.hooks.on_state_change,
        _ => return None,
    })
}

/// `Object.keys(o)`.
fn own_keys(o: &JsValue) -> Vec<String> {
    let keys = Object::keys(o.unchecked_ref::<Object>());
    (0..keys.length())
        .map(|i| keys.get(i).as_string().unwrap_or_default())
        .collect()
}

/// One option as given: its name, what it is, its value (never `undefined`).
struct Field {
    name: &'static str,
    kind: Kind,
    value: JsValue,
}

impl Field {
    /// A `TypeError` naming the option: "option `name` must be …".
    fn bad(&self, must: &str) -> JsValue {
        type_error(&format!("option `{}` {must}", self.name))
    }

    /// [`bad`](Self::bad), quoting the string that was given.
    fn wrong(&self, must: &str) -> JsValue {
        let got = self.value.as_string().unwrap_or_default();
        self.bad(&format!("{must}, got \"{got}\""))
    }

    fn string(&self) -> Result<String, JsValue> {
        match self.value.as_string() {
            Some(s) if self.kind == Kind::String => Ok(s),
            _ => Err(self.bad("must be a string")),
        }
    }

    fn number(&self) -> Result<f64, JsValue> {
        match self.value.as_f64() {
            Some(n) if self.kind == Kind::Number => Ok(n),
            _ => Err(self.bad("must be a number")),
        }
    }

    fn boolean(&self) -> Result<bool, JsValue> {
        match self.value.as_bool() {
            Some(b) if self.kind == Kind::Bool => Ok(b),
            _ => Err(self.bad("must be true or false")),
        }
    }

    /// A function, or `None` for `null` (no hook).
    fn function(&self) -> Result<Option<Function>, JsValue> {
        match self.kind {
            Kind::Null => Ok(None),
            Kind::Function => Ok(Some(self.value.clone().unchecked_into())),
            _ => Err(self.bad("must be a function")),
        }
    }

    fn token(&self) -> Result<Token<Function>, JsValue> {
        match self.kind {
            Kind::String => Ok(Token::Static(self.string()?)),
            Kind::Function => Ok(Token::Dynamic(self.value.clone().unchecked_into())),
            _ => {
                Err(self
                    .bad("must be a string or a function returning a string or a Promise of one"))
            }
        }
    }

    fn params(&self) -> Result<Vec<(String, String)>, JsValue> {
        match self.kind {
            Kind::Object => {}
            // Its entries are not own properties: reading it would send nothing, silently.
            Kind::Instance => {
                return Err(self.bad(
                    "must be a plain object of strings: a URLSearchParams or Map is not read \
                     (pass Object.fromEntries(it))",
                ))
            }
            _ => return Err(self.bad("must be an object of strings")),
        }
        let mut out = Vec::new();
        for k in own_keys(&self.value) {
            let s = match host::read(&self.value, &k) {
                Some((Kind::String, s)) => s.as_string(),
                // `String(n)`, as the classic client's URL would carry it (`0.1234`, `1e+21`).
                Some((Kind::Number, n)) => n.as_f64().map(crate::options::num),
                Some((Kind::Bool, b)) => b.as_bool().map(|b| b.to_string()),
                _ => None,
            };
            let Some(s) = s else {
                return Err(type_error(&format!(
                    "option `params`: value of `{k}` must be a string"
                )));
            };
            out.push((k, s));
        }
        Ok(out)
    }

    /// `null` or `false`: off (`None`), overriding a configured heartbeat.
    fn heartbeat(&self) -> Result<Option<HeartbeatSpec>, JsValue> {
        match self.kind {
            Kind::Null => return Ok(None),
            Kind::Bool if self.value.as_bool() == Some(false) => return Ok(None),
            Kind::Object | Kind::Instance => {}
            _ => return Err(self.bad("must be null or { interval, timeout, message }")),
        }
        let part = |key: &str, want: Kind| match host::read(&self.value, key) {
            Some((Kind::Undefined, _)) => Ok(None),
            Some((kind, v)) if kind == want => Ok(Some(v)),
            _ => Err(type_error(&format!(
                "option `heartbeat`: {key}{}",
                if want == Kind::Number {
                    " must be a number"
                } else {
                    " must be a string"
                }
            ))),
        };
        let interval = part("interval", Kind::Number)?
            .and_then(|v| v.as_f64())
            .ok_or_else(|| type_error("option `heartbeat`: interval is required"))?;
        let timeout = part("timeout", Kind::Number)?
            .and_then(|v| v.as_f64())
            .unwrap_or(interval);
        let message = part("message", Kind::String)?
            .and_then(|v| v.as_string())
            .unwrap_or_else(|| "ping".into());
        Ok(Some(HeartbeatSpec {
            interval,
            timeout,
            message,
        }))
    }
}

/// Tests only (feature `panic-probe`, never in pkg/): indexes an empty list, the kind of bug a
/// panic is, so that a test can see what the console shows for one.
#[cfg(feature = "panic-probe")]
#[wasm_bindgen(js_name = panicProbe, skip_typescript)]
pub fn panic_probe(index: u32) -> u32 {
    let empty: Vec<u32> = Vec::new();
    empty[index as usize]
}

/// What the module holds: closures the browser may call, connections, live allocations and the
/// bytes in them, and the wasm memory's size (which only grows, in 64 KiB pages). The leak tests
/// and the benchmark read it.
#[wasm_bindgen(
    js_name = debugStats,
    unchecked_return_type = "{ closures: number; connections: number; allocations: number; heapBytes: number; memory: number }"
)]
pub fn debug_stats() -> JsValue {
    let (allocations, heap_bytes) = crate::alloc_count::live();
    host::stats(
        crate::driver::live_closures() as u32,
        hub::connection_count() as u32,
        allocations as u32,
        heap_bytes as u32,
        &wasm_bindgen::memory(),
    )
}
