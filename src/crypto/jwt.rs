//! Compact JWS (RFC 7515) encoding and strict decoding. Parsing is ours (size limit, exactly
//! three strict base64url parts, JSON objects); RS256 is [`rs256`] (our RSA kernel, checked
//! against the `rsa` crate), EdDSA is `ed25519-dalek`.

use super::rs256;
use crate::util::{b64url, b64url_decode};
use rsa::RsaPublicKey;
use serde::Deserialize;

/// Longer tokens are refused before any decoding (ours are ~900 bytes; assertions are small).
pub const MAX_JWT_LEN: usize = 8 * 1024;

#[derive(Debug, Clone, Deserialize, Default)]
pub struct Header {
    pub alg: String,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default)]
    pub typ: Option<String>,
    #[serde(default)]
    pub crit: Option<serde_json::Value>,
}

/// A JWS whose signature has not been checked yet.
#[derive(Debug)]
pub struct Untrusted<'a> {
    pub header: Header,
    pub claims: serde_json::Map<String, serde_json::Value>,
    signing_input: &'a str,
    signature: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    TooLong,
    Malformed,
}

pub fn decode(token: &str) -> Result<Untrusted<'_>, DecodeError> {
    if token.len() > MAX_JWT_LEN {
        return Err(DecodeError::TooLong);
    }
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(DecodeError::Malformed);
    };
    let header_bytes = b64url_decode(h).ok_or(DecodeError::Malformed)?;
    let header: Header = serde_json::from_slice(&header_bytes).map_err(|_| DecodeError::Malformed)?;
    let claims_bytes = b64url_decode(c).ok_or(DecodeError::Malformed)?;
    let claims = match serde_json::from_slice(&claims_bytes) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => return Err(DecodeError::Malformed),
    };
    let signature = b64url_decode(s).ok_or(DecodeError::Malformed)?;
    Ok(Untrusted {
        header,
        claims,
        signing_input: token.get(..h.len() + 1 + c.len()).ok_or(DecodeError::Malformed)?,
        signature,
    })
}

impl Untrusted<'_> {
    /// Checks the signature with `check(signing_input, signature)` when the header's `alg` is
    /// exactly `alg`: the algorithm is pinned by the caller (by the key), never by the token.
    pub fn verify_with(&self, alg: &str, check: impl FnOnce(&[u8], &[u8]) -> bool) -> bool {
        if self.header.alg != alg || self.header.crit.is_some() {
            return false;
        }
        check(self.signing_input.as_bytes(), &self.signature)
    }

    /// RS256 with a key not prepared in advance (apps' keys).
    pub fn verify_rs256(&self, key: &RsaPublicKey) -> bool {
        self.verify_with("RS256", |input, sig| rs256::verify(key, input, sig))
    }

    /// RS256 with a prepared key (ours).
    pub fn verify_rs256_prepared(&self, key: &rs256::Verifier) -> bool {
        self.verify_with("RS256", |input, sig| key.verify(input, sig))
    }

    /// EdDSA (Ed25519, RFC 8037), strict verification (canonical encodings, no small-order keys).
    pub fn verify_eddsa(&self, key: &ed25519_dalek::VerifyingKey) -> bool {
        self.verify_with("EdDSA", |input, sig| {
            ed25519_dalek::Signature::from_slice(sig).is_ok_and(|sig| key.verify_strict(input, &sig).is_ok())
        })
    }

    pub fn str_claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(|v| v.as_str())
    }

    /// NumericDate claims must be integers (fractions are accepted and floored).
    pub fn time_claim(&self, name: &str) -> Result<Option<i64>, ()> {
        match self.claims.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .or_else(|| {
                    v.as_f64()
                        .filter(|f| f.is_finite() && f.abs() < 1e15)
                        .map(|f| f as i64)
                })
                .map(Some)
                .ok_or(()),
        }
    }
}

/// Signs `claims` under a pre-encoded header (`b64url(header JSON)`) with `sign(signing_input)`.
pub fn sign_with(
    encoded_header: &str,
    claims: &serde_json::Value,
    sign: impl FnOnce(&[u8]) -> Vec<u8>,
) -> String {
    let payload = b64url(claims.to_string().as_bytes());
    let mut token = String::with_capacity(encoded_header.len() + payload.len() + 350);
    token.push_str(encoded_header);
    token.push('.');
    token.push_str(&payload);
    let sig = sign(token.as_bytes());
    token.push('.');
    token.push_str(&b64url(&sig));
    token
}

/// Signs `claims` with RS256 under a pre-encoded header.
pub fn sign_rs256(encoded_header: &str, claims: &serde_json::Value, key: &rs256::Signer) -> String {
    sign_with(encoded_header, claims, |input| key.sign(input))
}

/// Signs `claims` with EdDSA (Ed25519) under a pre-encoded header.
pub fn sign_eddsa(
    encoded_header: &str,
    claims: &serde_json::Value,
    key: &ed25519_dalek::SigningKey,
) -> String {
    use ed25519_dalek::Signer;
    sign_with(encoded_header, claims, |input| {
        key.sign(input).to_bytes().to_vec()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_refuses_bad_shapes() {
        assert_eq!(decode("a.b").unwrap_err(), DecodeError::Malformed);
        assert_eq!(decode("a.b.c.d").unwrap_err(), DecodeError::Malformed);
        assert_eq!(
            decode(&"a".repeat(MAX_JWT_LEN + 1)).unwrap_err(),
            DecodeError::TooLong
        );
        // header `{"alg":"none"}` with a JSON array as claims
        let h = b64url(br#"{"alg":"none"}"#);
        let c = b64url(b"[1]");
        assert!(decode(&format!("{h}.{c}.")).is_err());
        let c = b64url(br#"{"iss":"x"}"#);
        let t = format!("{h}.{c}.");
        let u = decode(&t).unwrap();
        assert_eq!(u.str_claim("iss"), Some("x"));
    }
}
