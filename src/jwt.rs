//! The payload of a JWT, for the share key: plain Rust, tested natively.
//!
//! The CodeChat server keeps one socket per *instance* and event, and the instance is the token's
//! `instanceName` claim, not the token: a token renewed after `refresh.token` (a new `iat`, a new
//! `exp`) names the same instance as the old one. Keyed by the token string, a subscription made
//! with the new token would open a second socket beside one still using the old, and the server
//! would starve the older. The hub reads the claim from the payload this returns (with the
//! browser's `JSON.parse`); the signature is the server's business, never checked here.

#[allow(unused_imports)]
use crate::prelude::*;

/// The JSON text of a JWT's payload (its middle part, base64url without padding), or `None` when
/// `token` is not three dot-separated parts with valid base64url UTF-8 in the middle.
pub fn payload(token: &str) -> Option<String> {
    let mut parts = token.split('.');
    let (Some(_), Some(middle), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    String::from_utf8(base64url(middle.as_bytes())?).ok()
}

/// RFC 4648 §5 without padding, as JWTs write it; `None` for any other byte or a dangling sixth bit.
fn base64url(input: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in input {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // 1 character left over (6 bits) cannot encode a byte.
    (bits < 6).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_payload_of_a_jwt() {
        // {"instanceName":"demo"} and {"instanceName":"démo","exp":1}, as a server signs them.
        assert_eq!(
            payload("eyJhbGciOiJIUzI1NiJ9.eyJpbnN0YW5jZU5hbWUiOiJkZW1vIn0.c2ln").as_deref(),
            Some(r#"{"instanceName":"demo"}"#)
        );
        assert_eq!(
            payload("h.eyJpbnN0YW5jZU5hbWUiOiJkw6ltbyIsImV4cCI6MX0.s").as_deref(),
            Some(r#"{"instanceName":"démo","exp":1}"#)
        );
    }

    #[test]
    fn decodes_every_length_and_both_url_safe_characters() {
        assert_eq!(base64url(b"YQ").as_deref(), Some(&b"a"[..]));
        assert_eq!(base64url(b"YWI").as_deref(), Some(&b"ab"[..]));
        assert_eq!(base64url(b"YWJj").as_deref(), Some(&b"abc"[..]));
        assert_eq!(base64url(b"").as_deref(), Some(&b""[..]));
        assert_eq!(base64url(b"-_8").as_deref(), Some(&[0xfb, 0xff][..]));
    }

    #[test]
    fn anything_else_is_not_a_jwt() {
        for t in [
            "",
            "plain-token",
            "a.b",
            "a.b.c.d",
            "h.eyJhIjoxfQ==.s", // padding is not JWT's base64url
            "h.eyJ+IjoxfQ.s",   // '+' is standard base64, not base64url
            "h.Y.s",            // one character: six bits, no byte
            "h._w.s",           // a lone 0xFF: not UTF-8
        ] {
            assert_eq!(payload(t), None, "{t}");
        }
    }
}
