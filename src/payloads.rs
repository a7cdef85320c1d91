//! Typed payloads of the events CodeChat sends, for [`crate::rust_api::SocketBuilder::on_json`]:
//! the shapes its server builds (read from its source), with `Option` wherever it leaves a field
//! out. What the server passes through from WhatsApp is decoded only where it is useful (a message's
//! text, a chat's JID); for the rest, decode into your own types with `on_json`, or read the value
//! with `js_sys` through `on_message`.
//!
//! ```
//! use event_socket::payloads::{ConnectionState, ConnectionUpdate};
//!
//! # fn show(u: ConnectionUpdate) -> String {
//! match u.state {
//!     ConnectionState::Open => format!("{} is connected", u.instance),
//!     other => format!("{} is {:?} ({})", u.instance, other, u.status_reason),
//! }
//! # }
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

/// `connection.update`: the WhatsApp connection of the instance.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionUpdate {
    /// The instance's name.
    pub instance: String,
    /// Where the connection is.
    pub state: ConnectionState,
    /// The disconnect's status code, else 200.
    pub status_reason: u16,
}

/// `connection.update`'s `state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectionState {
    /// Connected to WhatsApp.
    Open,
    /// Connecting (after a close, CodeChat reconnects unless the close was a 401).
    Connecting,
    /// Closed.
    Close,
}

/// `qrcode.updated`. Versions of the server differ in what they send, so every field is optional.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QrcodeUpdated {
    /// How many QR codes this pairing has shown, from 1.
    pub count: Option<u32>,
    /// The pairing string the QR code encodes.
    pub code: Option<String>,
    /// The QR code as a `data:image/png;base64,…` URL.
    pub base64: Option<String>,
    /// The pairing code, when pairing by phone number (`paringCode`: the server's spelling).
    #[serde(rename = "paringCode")]
    pub pairing_code: Option<String>,
}

/// Where a message was sent from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    /// An iPhone.
    Ios,
    /// An Android phone.
    Android,
    /// WhatsApp Web, or the API itself.
    Web,
    /// Not known.
    Unknown,
    /// WhatsApp Desktop.
    Desktop,
}

/// `messages.upsert`: a message received, or sent through the API (`device` web, no `info`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessagesUpsert {
    /// The database row's id, when the server saves messages.
    pub id: Option<u64>,
    /// WhatsApp's id of the message.
    pub key_id: String,
    /// Whether the instance sent it.
    pub key_from_me: bool,
    /// The chat; missing for chats WhatsApp knows only by LID (see `key_lid`).
    pub key_remote_jid: Option<String>,
    /// The chat's LID.
    pub key_lid: Option<String>,
    /// In a group: who sent it.
    pub key_participant: Option<String>,
    /// In a group: the sender's LID.
    pub key_participant_lid: Option<String>,
    /// The sender's name in WhatsApp; may be missing or null.
    pub push_name: Option<String>,
    /// `conversation`, `extendedTextMessage`, `imageMessage`, …
    pub message_type: String,
    /// The message itself: `{ text }` for a text message.
    pub content: MessageContent,
    /// Seconds since the epoch.
    pub message_timestamp: u64,
    /// The instance's database id.
    pub instance_id: u64,
    /// Where it was sent from.
    pub device: Device,
    /// Whether the chat is a group.
    pub is_group: Option<bool>,
    /// For a message received: `notify` (new) or `append` (history).
    pub info: Option<MessageInfo>,
}

impl MessagesUpsert {
    /// Who sent it, for display: the push name when WhatsApp has one, else the chat (by LID when
    /// it has no JID).
    pub fn sender(&self) -> &str {
        self.push_name
            .as_deref()
            .or(self.key_remote_jid.as_deref())
            .or(self.key_lid.as_deref())
            .unwrap_or("?")
    }
}

/// A message's content: its text when it is a text message, media's URL when the server stores
/// media; the rest of what WhatsApp sent is not decoded here.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageContent {
    /// A text message's text.
    pub text: Option<String>,
    /// Where stored media can be fetched.
    pub media_url: Option<String>,
}

/// `messages.upsert`'s `info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct MessageInfo {
    /// How the message came.
    #[serde(rename = "type")]
    pub kind: UpsertKind,
}

/// A new message, or one from history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UpsertKind {
    /// New.
    Notify,
    /// From history.
    Append,
}

/// A row of `chats.upsert` (whose frame is an array: `Vec<Chat>`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Chat {
    /// The database id.
    pub id: u64,
    /// The chat.
    pub remote_jid: String,
    /// ISO date.
    pub created_at: Option<String>,
    /// ISO date.
    pub updated_at: Option<String>,
    /// The instance's database id.
    pub instance_id: u64,
}

/// A row of `contacts.upsert` (whose frame is an array: `Vec<Contact>`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    /// The database id.
    pub id: u64,
    /// The contact.
    pub remote_jid: String,
    /// Its name, if known.
    pub push_name: Option<String>,
    /// Its picture's URL, if it has one.
    pub profile_pic_url: Option<String>,
    /// ISO date.
    pub created_at: Option<String>,
    /// ISO date.
    pub updated_at: Option<String>,
    /// The instance's database id.
    pub instance_id: u64,
}

/// `presence.update`: who in a chat is online, typing, recording.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PresenceUpdate {
    /// The chat.
    pub id: String,
    /// By participant.
    pub presences: BTreeMap<String, PresenceData>,
}

/// One participant's presence.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceData {
    /// `available`, `unavailable`, `composing`, `recording` or `paused`.
    pub last_known_presence: String,
    /// Seconds since the epoch, when known.
    pub last_seen: Option<u64>,
}

// Natively: serde_json is a native dev-dependency.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn decodes_what_the_server_sends_with_fields_left_out() {
        let m: MessagesUpsert = serde_json::from_str(
            r#"{"id":7,"keyId":"3EB0","keyFromMe":false,"keyLid":"123@lid","messageType":"conversation",
                "content":{"text":"oi","extra":{"a":1}},"messageTimestamp":1765000000,"instanceId":42,
                "device":"android","isGroup":false,"info":{"type":"notify"}}"#,
        )
        .unwrap();
        assert_eq!((m.id, m.instance_id), (Some(7), 42));
        assert_eq!(m.push_name, None);
        assert_eq!(m.key_remote_jid, None);
        assert_eq!(m.sender(), "123@lid");
        assert_eq!(m.content.text.as_deref(), Some("oi"));
        assert_eq!(m.info.map(|i| i.kind), Some(UpsertKind::Notify));

        let q: QrcodeUpdated =
            serde_json::from_str(r#"{"code":"2@x","base64":"data:,","paringCode":"ABCD1234"}"#)
                .unwrap();
        assert_eq!(q.pairing_code.as_deref(), Some("ABCD1234"));
        assert_eq!(q.count, None);

        let c: ConnectionUpdate =
            serde_json::from_str(r#"{"instance":"demo","state":"close","statusReason":428}"#)
                .unwrap();
        assert_eq!(c.state, ConnectionState::Close);

        let chats: Vec<Chat> = serde_json::from_str(
            r#"[{"id":1,"remoteJid":"5511@s.whatsapp.net","content":{"unreadCount":2},
                 "createdAt":"2026-12-07T10:00:00.000Z","updatedAt":null,"instanceId":42}]"#,
        )
        .unwrap();
        assert_eq!(chats[0].remote_jid, "5511@s.whatsapp.net");
        let p: PresenceUpdate = serde_json::from_str(
            r#"{"id":"x@s.whatsapp.net","presences":{"x@s.whatsapp.net":{"lastKnownPresence":"composing"}}}"#,
        )
        .unwrap();
        assert_eq!(
            p.presences["x@s.whatsapp.net"].last_known_presence,
            "composing"
        );
    }
}
