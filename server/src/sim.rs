//! The simulator: realistic `connection.update`, `qrcode.updated` and `messages.upsert` payloads.

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

    /// The next QR pairing string (Baileys-like) and its count.
    pub fn next_qr_code(&mut self) -> (u64, String) {
        self.qr_count += 1;
        const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let code = format!(
            "2@{},{}=,{}=,{}=",
            self.random_chars(B64, 60),
            self.random_chars(B64, 43),
            self.random_chars(B64, 43),
            self.random_chars(B64, 43),
        );
        (self.qr_count, code)
    }

    /// The next `qrcode.updated`: a pairing string and its QR code as a PNG data URL.
    pub fn qrcode_updated(&mut self) -> Result<Value, String> {
        let (count, code) = self.next_qr_code();
        qrcode_payload(count, &code)
    }

    /// The next `messages.upsert`.
    pub fn messages_upsert(&mut self) -> Value {
        let i = self.tick as usize;
        let text = TEXTS[i % TEXTS.len()];
        let push_name = PUSH_NAMES[i % PUSH_NAMES.len()];
        let is_group = i % 4 == 3;
        let jid = if is_group {
            "120363025246125888@g.us".to_string()
        } else {
            format!("55119{:08}@s.whatsapp.net", self.next_u64() % 100_000_000)
        };
        let key_id = format!("3EB0{}", self.random_chars(b"0123456789ABCDEF", 16));
        json!({
            "keyId": key_id,
            "keyFromMe": i % 5 == 4,
            "pushName": push_name,
            "keyRemoteJid": jid,
            "messageType": "conversation",
            "content": { "text": text },
            "messageTimestamp": now_secs(),
            "instanceId": instance_id(&self.instance),
            "isGroup": is_group,
        })
    }

    /// Advances the rotation (called once per simulation round).
    pub fn advance(&mut self) {
        self.tick = self.tick.wrapping_add(1);
    }
}

/// The `qrcode.updated` payload for a pairing string.
pub fn qrcode_payload(count: u64, code: &str) -> Result<Value, String> {
    Ok(json!({
        "count": count,
        "code": code,
        "base64": qr::png_data_url(code)?,
    }))
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A stable UUID-shaped id for an instance name.
pub fn instance_id(instance: &str) -> String {
    let a = fnv1a(instance.as_bytes());
    let b = fnv1a(format!("{instance}#instance").as_bytes());
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        (b >> 48) & 0xfff,
        b & 0xffff_ffff_ffff
    )
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
        assert_eq!(instance_id("demo").len(), 36);
    }
}
