//! The issuer's signing keys: parsed once per isolate, with the JWKS document and each key's
//! encoded JWS header prepared up front so issuing a token is one signature and one base64.

use super::jwt::{self, Untrusted};
use crate::util::{b64url, sha256};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};

pub struct SigningKey {
    pub kid: String,
    private: RsaPrivateKey,
    public: RsaPublicKey,
    /// `b64url({"alg":"RS256","typ":"at+jwt","kid":…})`
    at_header: String,
}

pub struct SigningKeys {
    keys: Vec<SigningKey>,
    jwks_json: String,
    /// True when the key was made by the server itself (no `SIGNING_KEYS` secret).
    pub development: bool,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        let kids: Vec<&str> = self.keys.iter().map(|k| k.kid.as_str()).collect();
        f.debug_struct("SigningKeys").field("kids", &kids).finish()
    }
}

/// RFC 7638 thumbprint of an RSA public key: the `kid` of every key we publish or register.
pub fn rsa_thumbprint(key: &RsaPublicKey) -> String {
    let n = b64url(&key.n().to_bytes_be());
    let e = b64url(&key.e().to_bytes_be());
    b64url(&sha256(
        format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#).as_bytes(),
    ))
}

pub fn rsa_public_jwk(key: &RsaPublicKey, kid: &str) -> serde_json::Value {
    serde_json::json!({
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
        "n": b64url(&key.n().to_bytes_be()), "e": b64url(&key.e().to_bytes_be()),
    })
}

/// A fresh RSA-2048 private key as PKCS#8 PEM.
pub fn generate_pem() -> Result<String, String> {
    let key = RsaPrivateKey::new(&mut rand_core::OsRng, 2048).map_err(|e| e.to_string())?;
    key.to_pkcs8_pem(LineEnding::LF)
        .map(|p| p.to_string())
        .map_err(|e| e.to_string())
}

impl SigningKeys {
    /// Parses one or more PKCS#8 PEM blocks; the first signs, all are published.
    pub fn from_pems(text: &str, development: bool) -> Result<Self, String> {
        const BEGIN: &str = "-----BEGIN PRIVATE KEY-----";
        const END: &str = "-----END PRIVATE KEY-----";
        let mut keys = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find(BEGIN) {
            let after = &rest[start..];
            let end = after.find(END).ok_or("unterminated PEM block")? + END.len();
            // Secrets set through a dashboard sometimes carry literal "\n".
            let block = after[..end].replace("\\n", "\n");
            let private = RsaPrivateKey::from_pkcs8_pem(&block)
                .map_err(|_| format!("signing key {} is not a PKCS#8 RSA key", keys.len() + 1))?;
            if private.size() < 256 {
                return Err("signing keys must be at least 2048 bits".into());
            }
            let public = private.to_public_key();
            let kid = rsa_thumbprint(&public);
            let header = serde_json::json!({"alg": "RS256", "typ": "at+jwt", "kid": kid});
            let at_header = b64url(header.to_string().as_bytes());
            keys.push(SigningKey {
                kid,
                private,
                public,
                at_header,
            });
            rest = &after[end..];
        }
        if keys.is_empty() {
            return Err("no PKCS#8 private key found".into());
        }
        let jwks: Vec<_> = keys.iter().map(|k| rsa_public_jwk(&k.public, &k.kid)).collect();
        let jwks_json = serde_json::json!({ "keys": jwks }).to_string();
        Ok(SigningKeys {
            keys,
            jwks_json,
            development,
        })
    }

    pub fn jwks_json(&self) -> &str {
        &self.jwks_json
    }

    pub fn current_kid(&self) -> &str {
        &self.keys[0].kid
    }

    /// Signs an RFC 9068 access token (`typ: at+jwt`) with the current key.
    pub fn sign_access_token(&self, claims: &serde_json::Value) -> String {
        let k = &self.keys[0];
        jwt::sign_rs256(&k.at_header, claims, &k.private)
    }

    /// Verifies a token signed by any of our keys (chosen by `kid`; all tried if absent).
    pub fn verify(&self, token: &Untrusted<'_>) -> bool {
        match &token.header.kid {
            Some(kid) => self
                .keys
                .iter()
                .find(|k| &k.kid == kid)
                .is_some_and(|k| token.verify_rs256(&k.public)),
            None => self.keys.iter().any(|k| token.verify_rs256(&k.public)),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::OnceLock;

    /// One generated key per test process (generation costs ~100 ms natively).
    pub fn test_pem() -> &'static str {
        static PEM: OnceLock<String> = OnceLock::new();
        PEM.get_or_init(|| generate_pem().unwrap())
    }

    #[test]
    fn signed_token_verifies_and_tampering_fails() {
        let keys = SigningKeys::from_pems(test_pem(), true).unwrap();
        let t = keys.sign_access_token(&serde_json::json!({"sub": "x"}));
        assert!(keys.verify(&jwt::decode(&t).unwrap()));
        let mut parts: Vec<&str> = t.split('.').collect();
        let other = b64url(br#"{"sub":"y"}"#);
        parts[1] = &other;
        let forged = parts.join(".");
        assert!(!keys.verify(&jwt::decode(&forged).unwrap()));
    }

    #[test]
    fn several_pems_publish_every_key_and_sign_with_the_first() {
        let two = format!("{}\n{}", test_pem(), generate_pem().unwrap());
        let keys = SigningKeys::from_pems(&two, false).unwrap();
        let jwks: serde_json::Value = serde_json::from_str(keys.jwks_json()).unwrap();
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
        assert_eq!(jwks["keys"][0]["kid"], keys.current_kid());
        assert!(SigningKeys::from_pems("nothing", false).is_err());
    }

    #[test]
    fn thumbprint_matches_rfc7638_example() {
        // RFC 7638 §3.1 example key.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let key = RsaPublicKey::new(
            rsa::BigUint::from_bytes_be(&crate::util::b64url_decode(n).unwrap()),
            rsa::BigUint::from(65537u32),
        )
        .unwrap();
        assert_eq!(
            rsa_thumbprint(&key),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }
}
