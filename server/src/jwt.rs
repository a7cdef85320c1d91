//! Minimal HS256 JSON Web Tokens (sign and verify), as CodeChat uses them: claims
//! `{instanceName, apiName, tokenId}`, subject `g-t`; the claim its socket server reads is
//! `instanceName`, and its refresh endpoint compares `tokenId` with the latest one issued.

use base64::alphabet::URL_SAFE;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

type HmacSha256 = Hmac<Sha256>;

/// Decodes base64url with or without padding.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why a token was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtError {
    Missing,
    Malformed,
    UnsupportedAlg,
    BadSignature,
    MissingInstanceName,
    Expired,
    BadKey,
}

impl fmt::Display for JwtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JwtError::Missing => "no token",
            JwtError::Malformed => "malformed token",
            JwtError::UnsupportedAlg => "token algorithm is not HS256",
            JwtError::BadSignature => "bad token signature",
            JwtError::MissingInstanceName => "token has no string claim instanceName",
            JwtError::Expired => "token expired",
            JwtError::BadKey => "unusable secret",
        })
    }
}

impl std::error::Error for JwtError {}

/// The claims the server uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub instance_name: String,
    /// CodeChat's `tokenId`, if the token has one.
    pub token_id: Option<String>,
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn mac(secret: &str) -> Result<HmacSha256, JwtError> {
    <HmacSha256 as Mac>::new_from_slice(secret.as_bytes()).map_err(|_| JwtError::BadKey)
}

/// Signs arbitrary claims with HS256.
pub fn sign(secret: &str, claims: &Value) -> Result<String, JwtError> {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string().as_bytes());
    let signing_input = format!("{header}.{payload}");
    let mut m = mac(secret)?;
    m.update(signing_input.as_bytes());
    let sig = URL_SAFE_NO_PAD.encode(m.finalize().into_bytes());
    Ok(format!("{signing_input}.{sig}"))
}

/// A token for `instance` as CodeChat signs one: `exp` is `iat + expires_in`, so with
/// `expires_in` 0 it equals `iat` (CodeChat's "never expires": its verifier then ignores `exp`).
pub fn issue(
    secret: &str,
    instance: &str,
    token_id: &str,
    expires_in: u64,
) -> Result<String, JwtError> {
    let iat = now_secs();
    let claims = json!({
        "instanceName": instance,
        "apiName": "whatsapp-api",
        "tokenId": token_id,
        "iat": iat,
        "exp": iat.saturating_add(expires_in),
        "sub": "g-t",
    });
    sign(secret, &claims)
}

/// Verifies an HS256 token and returns its claims. Rejects a past (or present) `exp` unless
/// `ignore_expiration`, as CodeChat's `jsonwebtoken.verify(…, { ignoreExpiration })` does.
pub fn verify(secret: &str, token: &str, ignore_expiration: bool) -> Result<Claims, JwtError> {
    if token.is_empty() {
        return Err(JwtError::Missing);
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    let header: Value = LENIENT
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(JwtError::Malformed)?;
    if header.get("alg").and_then(Value::as_str) != Some("HS256") {
        return Err(JwtError::UnsupportedAlg);
    }
    let sig = LENIENT.decode(s).map_err(|_| JwtError::Malformed)?;
    let mut m = mac(secret)?;
    m.update(h.as_bytes());
    m.update(b".");
    m.update(p.as_bytes());
    m.verify_slice(&sig).map_err(|_| JwtError::BadSignature)?;
    let claims: Value = LENIENT
        .decode(p)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(JwtError::Malformed)?;
    let instance_name = claims
        .get("instanceName")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or(JwtError::MissingInstanceName)?
        .to_string();
    if let Some(exp) = claims.get("exp") {
        let exp = exp.as_f64().ok_or(JwtError::Malformed)?;
        if exp <= now_secs() as f64 && !ignore_expiration {
            return Err(JwtError::Expired);
        }
    }
    let token_id = claims
        .get("tokenId")
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(Claims {
        instance_name,
        token_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        let t = issue("k", "demo", "id1", 60).unwrap();
        let c = verify("k", &t, false).unwrap();
        assert_eq!(c.instance_name, "demo");
        assert_eq!(c.token_id.as_deref(), Some("id1"));
        assert_eq!(verify("other", &t, false), Err(JwtError::BadSignature));
    }

    /// CodeChat's "never expires" (`EXPIRES_IN=0`): `exp == iat`, accepted only when expiry is
    /// ignored, as its server then does.
    #[test]
    fn expires_in_zero_signs_exp_equal_to_iat() {
        let t = issue("k", "demo", "id", 0).unwrap();
        let payload: Value =
            serde_json::from_slice(&LENIENT.decode(t.split('.').nth(1).unwrap()).unwrap()).unwrap();
        assert_eq!(payload["exp"], payload["iat"]);
        assert_eq!(payload["sub"], "g-t");
        assert_eq!(payload["apiName"], "whatsapp-api");
        assert_eq!(verify("k", &t, false), Err(JwtError::Expired));
        assert_eq!(verify("k", &t, true).unwrap().instance_name, "demo");
    }

    #[test]
    fn rejects() {
        assert_eq!(verify("k", "", false), Err(JwtError::Missing));
        assert_eq!(verify("k", "a.b", false), Err(JwtError::Malformed));
        assert_eq!(verify("k", "a.b.c.d", false), Err(JwtError::Malformed));
        assert_eq!(verify("k", "!!.b.c", false), Err(JwtError::Malformed));
        let expired = sign("k", &json!({"instanceName": "x", "exp": 1})).unwrap();
        assert_eq!(verify("k", &expired, false), Err(JwtError::Expired));
        assert!(verify("k", &expired, true).is_ok());
        let no_name = sign("k", &json!({"sub": "x"})).unwrap();
        assert_eq!(
            verify("k", &no_name, false),
            Err(JwtError::MissingInstanceName)
        );
        let num_name = sign("k", &json!({"instanceName": 5})).unwrap();
        assert_eq!(
            verify("k", &num_name, false),
            Err(JwtError::MissingInstanceName)
        );
        // alg "none" is refused
        let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#);
        let p = URL_SAFE_NO_PAD.encode(br#"{"instanceName":"x"}"#);
        assert_eq!(
            verify("k", &format!("{h}.{p}."), false),
            Err(JwtError::UnsupportedAlg)
        );
    }

    #[test]
    fn known_vector() {
        // jwt.io's HS256 example, re-signed with the claim this server needs.
        let t = sign("secret", &json!({"instanceName": "codechat"})).unwrap();
        let parts: Vec<&str> = t.split('.').collect();
        assert_eq!(parts[0], "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9");
        assert_eq!(
            verify("secret", &t, false).unwrap().instance_name,
            "codechat"
        );
    }
}
