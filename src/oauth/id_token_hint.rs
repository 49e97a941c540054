//! `id_token_hint` (OpenID Connect Core 1.0 §3.1.2.1): an ID token this issuer gave the client
//! before, naming the person the client expects. It must be ours: `typ: JWT` (an access token,
//! `at+jwt`, is not an ID token), signed by one of this tenant's keys, `iss` this issuer, `aud`
//! naming the client, with a `sub`. It may have expired (Core: the hint need not be current).
//! Anything else is `invalid_request`; the words never say which key was tried.

use crate::crypto::jwt;
use crate::crypto::keys::SigningKeys;
use crate::error::{Error, Result};

/// The `sub` of a hint issued by `issuer` (signed by `keys`) to `client_id`.
pub fn subject(keys: &SigningKeys, issuer: &str, client_id: &str, hint: &str) -> Result<String> {
    let bad = |why: &str| Error::invalid_request(format!("id_token_hint {why}"));
    let t = jwt::decode(hint).map_err(|_| bad("is not a JWT"))?;
    if t.header.typ.as_deref() != Some("JWT") {
        return Err(bad("is not an ID token"));
    }
    if t.str_claim("iss") != Some(issuer) || !keys.verify(&t) {
        return Err(bad("was not issued here"));
    }
    let for_client = match t.claims.get("aud") {
        Some(serde_json::Value::String(a)) => a == client_id,
        Some(serde_json::Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(client_id)),
        _ => false,
    };
    if !for_client {
        return Err(bad("was issued to another client"));
    }
    match t.str_claim("sub") {
        Some(sub) if !sub.is_empty() && sub.len() <= 256 => Ok(sub.to_owned()),
        _ => Err(bad("has no subject")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keys::SigningKeys;
    use serde_json::json;

    fn keys() -> SigningKeys {
        SigningKeys::from_pems(crate::crypto::keys::tests::test_pem(), true).unwrap()
    }

    #[test]
    fn only_our_id_tokens_for_the_client_name_a_subject() {
        let k = keys();
        let claims = json!({"iss": "https://i", "sub": "u1", "aud": "c", "exp": 1, "iat": 0});
        let ok = k.sign_id_token(&claims).unwrap();
        assert_eq!(subject(&k, "https://i", "c", &ok).unwrap(), "u1", "expired is fine");
        let arr = k.sign_id_token(&json!({"iss": "https://i", "sub": "u1", "aud": ["x", "c"]})).unwrap();
        assert_eq!(subject(&k, "https://i", "c", &arr).unwrap(), "u1");
        let why = |t: &str, iss: &str, client: &str| subject(&k, iss, client, t).unwrap_err().description;
        assert!(why(&ok, "https://other", "c").contains("not issued here"));
        assert!(why(&ok, "https://i", "d").contains("another client"));
        let at = k.sign_access_token(&claims).unwrap();
        assert!(why(&at, "https://i", "c").contains("not an ID token"));
        // Another key (another tenant's) or a changed signature.
        let other = SigningKeys::from_pems(&crate::crypto::keys::generate_pem().unwrap(), true).unwrap();
        let foreign = other.sign_id_token(&claims).unwrap();
        assert!(why(&foreign, "https://i", "c").contains("not issued here"));
        let (head, sig) = ok.rsplit_once('.').unwrap();
        let flipped = format!("{head}.{}{}", if sig.starts_with('A') { "B" } else { "A" }, &sig[1..]);
        assert!(why(&flipped, "https://i", "c").contains("not issued here"));
        for junk in ["", "x", "a.b.c", "....", &"a".repeat(10_000)] {
            assert!(why(junk, "https://i", "c").contains("not a JWT"), "{junk:?}");
        }
        let no_sub = k.sign_id_token(&json!({"iss": "https://i", "aud": "c"})).unwrap();
        assert!(why(&no_sub, "https://i", "c").contains("no subject"));
    }
}
