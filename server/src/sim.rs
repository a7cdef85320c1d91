//! The simulator: payloads in the shapes CodeChat's server sends (read from its source): numbers
//! where its database has numbers, fields left out where it leaves them out, arrays for the list
//! events. Each round: `connection.update`, `qrcode.updated` (with `paringCode`, sic, when pairing
//! by phone), `messages.upsert` (sometimes without `pushName`, sometimes a chat known only by its
//! LID: `keyLid` and no `keyRemoteJid`), `chats.upsert` and `contacts.upsert` (one-row arrays)
//! and `presence.update`.

use crate::jwt::now_secs;
use crate::qr;
use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};

/// The texts `messages.upsert` cycles through. One of them is HTML, so that a demo can show it
/// renders text rather than markup.
pub const TEXTS: &[&str] = &[
    "Olá! Tudo bem? 👋",
    "Can we move the meeting to 3pm?",
    "<img src=x onerror=\"window.__xss=1\">",
    "Pedido #4521 confirmado ✅",
    "Line one\nline two with \"quotes\" & <angle brackets>",
    "ok",
];

const PUSH_NAMES: &[&str] = &[
    "Maria Silva",
    "João Pereira",
    "Ana",
    "Carlos (work)",
    "🐱 Kat",
];

/// Per-instance simulator state.
#[derive(Debug, Clone)]
pub struct SimState {
    instance: String,
    tick: u64,
    qr_count: u64,
    rng: u64,
    /// The last database id given to a message, chat or contact row.
    row_id: u64,
}

impl SimState {
    pub fn new(instance: &str) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9E37_79B9_7F4A_7C15);
        SimState {
            instance: instance.to_string(),
            tick: 0,
            qr_count: 0,
            rng: (nanos ^ fnv1a(instance.as_bytes())) | 1,
            row_id: 0,
        }
    }

    fn next_u64(&mut self) -> u64 {
        // xorshift64*
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn random_chars(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| {
                let i = (self.next_u64() % alphabet.len() as u64) as usize;
                char::from(alphabet[i])
            })
            .collect()
    }

    /// The next `connection.update` (state cycles connecting -> open -> close).
    pub fn connection_update(&mut self) -> Value {
        let (state, reason) = match self.tick % 3 {
            0 => ("connecting", 200),
            1 => ("open", 200),
            _ => ("close", 428),
        };
        json!({
            "instance": self.instance,
            "state": state,
            "statusReason": reason,
        })
    }

    /// The next QR pairing string (Baileys-like), its count, and every third round a pairing code
    /// (as when the instance pairs by phone number).
    pub fn next_qr_code(&mut self) -> (u64, String, Option<String>) {
        self.qr_count += 1;
        const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let code = format!(
            "2@{},{}=,{}=,{}=",
            self.random_chars(B64, 60),
            self.random_chars(B64, 43),
            self.random_chars(B64, 43),
            self.random_chars(B64, 43),
        );
        let pairing = self
            .qr_count
            .is_multiple_of(3)
            .then(|| self.random_chars(b"ABCDEFGHJKLMNPQRSTVWXYZ0123456789", 8));
        (self.qr_count, code, pairing)
    }

    /// The next `qrcode.updated`: a pairing string and its QR code as a PNG data URL.
    pub fn qrcode_updated(&mut self) -> Result<Value, String> {
        let (count, code, pairing) = self.next_qr_code();
        qrcode_payload(count, &code, pairing.as_deref())
    }

    fn next_row_id(&mut self) -> u64 {
        self.row_id += 1;
        self.row_id
    }

    /// The chat of round `i`: a phone number, or a group every fourth round.
    fn jid(&mut self, i: usize) -> String {
        if i % 4 == 3 {
            "120363025246125888@g.us".to_string()
        } else {
            format!("55119{:08}@s.whatsapp.net", self.next_u64() % 100_000_000)
        }
    }

    /// The next `messages.upsert`, as CodeChat builds it for a message received.
    pub fn messages_upsert(&mut self) -> Value {
        let i = self.tick as usize;
        let text = TEXTS[i % TEXTS.len()];
        let jid = self.jid(i);
        let is_group = jid.ends_with("@g.us");
        let key_id = format!("3EB0{}", self.random_chars(b"0123456789ABCDEF", 16));
        let device = ["android", "ios", "web", "desktop", "unknown"][i % 5];
        let mut m = json!({
            "id": self.next_row_id(),
            "keyId": key_id,
            "keyFromMe": i % 5 == 4,
            "messageType": "conversation",
            "content": { "text": text },
            "messageTimestamp": now_secs(),
            "instanceId": instance_id(&self.instance),
            "device": device,
            "isGroup": is_group,
            "info": { "type": "notify" },
        });
        let obj = m.as_object_mut().expect("a JSON object");
        // Some senders have no push name; some chats WhatsApp knows only by their LID.
        if i % 6 != 5 {
            obj.insert("pushName".into(), json!(PUSH_NAMES[i % PUSH_NAMES.len()]));
        }
        if i % 7 == 6 {
            obj.insert(
                "keyLid".into(),
                json!(format!("{}@lid", self.next_u64() % 10u64.pow(15))),
            );
        } else {
            obj.insert("keyRemoteJid".into(), json!(jid));
        }
        if is_group {
            obj.insert(
                "keyParticipant".into(),
                json!(format!(
                    "55119{:08}@s.whatsapp.net",
                    self.next_u64() % 100_000_000
                )),
            );
        }
        m
    }

    /// The next `chats.upsert`: an array of one saved chat row, as CodeChat sends it.
    pub fn chats_upsert(&mut self) -> Value {
        let i = self.tick as usize;
        let jid = self.jid(i);
        let now = iso_now();
        json!([{
            "id": self.next_row_id(),
            "remoteJid": jid,
            "content": { "unreadCount": i % 3, "conversationTimestamp": now_secs() },
            "createdAt": now,
            "updatedAt": now,
            "instanceId": instance_id(&self.instance),
        }])
    }

    /// The next `contacts.upsert`: an array of one saved contact row.
    pub fn contacts_upsert(&mut self) -> Value {
        let i = self.tick as usize;
        let jid = format!("55119{:08}@s.whatsapp.net", self.next_u64() % 100_000_000);
        let now = iso_now();
        json!([{
            "id": self.next_row_id(),
            "remoteJid": jid,
            "pushName": PUSH_NAMES[i % PUSH_NAMES.len()],
            "profilePicUrl": null,
            "createdAt": now,
            "updatedAt": now,
            "instanceId": instance_id(&self.instance),
        }])
    }

    /// The next `presence.update` (WhatsApp's own shape, which CodeChat passes through).
    pub fn presence_update(&mut self) -> Value {
        let i = self.tick as usize;
        let jid = format!("55119{:08}@s.whatsapp.net", self.next_u64() % 100_000_000);
        let presence = [
            "available",
            "composing",
            "paused",
            "recording",
            "unavailable",
        ][i % 5];
        json!({ "id": jid, "presences": { jid.clone(): { "lastKnownPresence": presence } } })
    }

    /// Advances the rotation (called once per simulation round).
    pub fn advance(&mut self) {
        self.tick = self.tick.wrapping_add(1);
    }
}

/// The `qrcode.updated` payload for a pairing string; `paringCode` (sic, CodeChat's spelling)
/// only when pairing by phone.
pub fn qrcode_payload(count: u64, code: &str, pairing: Option<&str>) -> Result<Value, String> {
    let mut q = json!({
        "count": count,
        "code": code,
        "base64": qr::png_data_url(code)?,
    });
    if let (Some(p), Some(obj)) = (pairing, q.as_object_mut()) {
        obj.insert("paringCode".into(), json!(p));
    }
    Ok(q)
}

/// Now as an ISO 8601 date (how a database date reaches the socket through `JSON.stringify`).
fn iso_now() -> String {
    let secs = now_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// (year, month, day) of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A stable database id (an integer, as CodeChat's `Instance.id`) for an instance name.
pub fn instance_id(instance: &str) -> u64 {
    fnv1a(instance.as_bytes()) % 100_000 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let mut s = SimState::new("demo");
        let states: Vec<String> = (0..3)
            .map(|_| {
                let v = s.connection_update();
                s.advance();
                v["state"].as_str().unwrap_or_default().to_string()
            })
            .collect();
        assert_eq!(states, ["connecting", "open", "close"]);
        let q = s.qrcode_updated().unwrap();
        assert_eq!(q["count"], 1);
        assert!(q["code"].as_str().unwrap().starts_with("2@"));
        assert!(q["base64"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,iVBOR"));
        let texts: Vec<Value> = (0..TEXTS.len())
            .map(|_| {
                let m = s.messages_upsert();
                s.advance();
                m["content"]["text"].clone()
            })
            .collect();
        assert!(texts
            .iter()
            .any(|t| t.as_str().unwrap_or("").contains("onerror")));
        let m = s.messages_upsert();
        assert_eq!(m["messageType"], "conversation");
        assert!(m["instanceId"].is_u64() && m["id"].is_u64());
        assert_eq!(m["info"]["type"], "notify");
        assert!(s.chats_upsert().is_array() && s.contacts_upsert().is_array());
        assert!(s.presence_update()["presences"].is_object());
    }

    /// Over a few rounds: a message without pushName, one with keyLid instead of keyRemoteJid,
    /// and a QR with a pairing code.
    #[test]
    fn the_optional_fields_are_sometimes_missing() {
        let mut s = SimState::new("demo");
        let (mut no_name, mut lid_only, mut pairing) = (false, false, false);
        for _ in 0..42 {
            let m = s.messages_upsert();
            no_name |= m.get("pushName").is_none();
            lid_only |= m.get("keyRemoteJid").is_none() && m["keyLid"].is_string();
            pairing |= s.qrcode_updated().unwrap().get("paringCode").is_some();
            s.advance();
        }
        assert!(no_name && lid_only && pairing);
    }

    #[test]
    fn iso_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(20_513), (2026, 3, 1));
        assert_eq!(civil_from_days(20_511), (2026, 2, 27));
        assert!(iso_now().ends_with(".000Z"));
    }
}
