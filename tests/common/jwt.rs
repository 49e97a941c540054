//! JOSE, independent of the server: the published JWKS, access-token verification, test keys
//! and the assertions signed with them (jsonwebtoken over ring; keys made with `rsa`).

use super::*;

impl Server {
    #[track_caller]
    pub fn jwks(&self) -> Value {
        self.get("/.well-known/jwks.json").expect_json(200)
    }

    /// Verifies an access token with an independent JOSE library against the published JWKS:
    /// RS256, `typ: at+jwt`, a known `kid`, `iss` and `aud` = the issuer, RFC 9068 claims.
    /// Returns the claims.
    #[track_caller]
    pub fn verify_access_token(&self, token: &str) -> Value {
        verify_with_jwks(&self.jwks(), token, self.issuer())
    }
}

#[track_caller]
pub fn verify_with_jwks(jwks: &Value, token: &str, issuer: &str) -> Value {
    let header = jsonwebtoken::decode_header(token)
        .unwrap_or_else(|e| panic!("access token header unreadable ({e}): {token}"));
    assert_eq!(header.alg, Algorithm::RS256, "access tokens are RS256");
    assert_eq!(
        header.typ.as_deref(),
        Some("at+jwt"),
        "RFC 9068: typ must be at+jwt"
    );
    let kid = header.kid.expect("access token header has no kid");
    let jwk = jwks["keys"]
        .as_array()
        .expect("JWKS without keys")
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .unwrap_or_else(|| panic!("kid {kid} is not in the JWKS {jwks}"));
    let key =
        DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap()).unwrap();
    let mut v = Validation::new(Algorithm::RS256);
    v.set_issuer(&[issuer]);
    v.set_audience(&[issuer]);
    v.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    v.leeway = 5;
    let data = jsonwebtoken::decode::<Value>(token, &key, &v)
        .unwrap_or_else(|e| panic!("access token does not verify against the JWKS: {e}"));
    let c = data.claims;
    for claim in ["client_id", "jti"] {
        assert!(
            c[claim].as_str().is_some_and(|s| !s.is_empty()),
            "RFC 9068 claim {claim} missing: {c}"
        );
    }
    assert!(c["iat"].as_i64().is_some() && c["exp"].as_i64() > c["iat"].as_i64());
    c
}

// App keys and assertions (independent JOSE: jsonwebtoken over ring; keys made with `rsa`)
// ---------------------------------------------------------------------------------------------

pub struct TestKey {
    pub pem: String,
    pub n: String,
    pub e: String,
    pub kid: String,
    encoding: EncodingKey,
}

/// RFC 7638 thumbprint of an RSA key given its base64url `n` and `e`.
pub fn thumbprint(n: &str, e: &str) -> String {
    use sha2::Digest;
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    b64url(&sha2::Sha256::digest(canonical.as_bytes()))
}

impl TestKey {
    /// A fresh RSA-2048 key.
    pub fn generate() -> TestKey {
        use rsa::pkcs8::{EncodePrivateKey, LineEnding};
        let k = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap();
        let pem = k.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
        Self::from_pem(&pem)
    }

    /// From a PKCS#8 PEM private key (as the admin API's `"key": "generate"` returns).
    #[track_caller]
    pub fn from_pem(pem: &str) -> TestKey {
        use rsa::pkcs8::DecodePrivateKey;
        use rsa::traits::PublicKeyParts;
        let k = rsa::RsaPrivateKey::from_pkcs8_pem(pem).expect("not a PKCS#8 RSA private key");
        let n = b64url(&k.n().to_bytes_be());
        let e = b64url(&k.e().to_bytes_be());
        TestKey {
            kid: thumbprint(&n, &e),
            encoding: EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
            pem: pem.to_owned(),
            n,
            e,
        }
    }

    /// The public JWK (no kid: the server derives it).
    pub fn public_jwk(&self) -> Value {
        json!({"kty": "RSA", "n": self.n, "e": self.e})
    }

    /// The public key as an SPKI PEM.
    pub fn public_pem(&self) -> String {
        use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
        rsa::RsaPrivateKey::from_pkcs8_pem(&self.pem)
            .unwrap()
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap()
    }

    /// RS256 JWS of `claims` with this key, `kid` in the header.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_alg(Algorithm::RS256, claims, Some(&self.kid))
    }

    pub fn sign_alg(&self, alg: Algorithm, claims: &Value, kid: Option<&str>) -> String {
        let mut h = Header::new(alg);
        h.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&h, claims, &self.encoding).unwrap()
    }
}

/// Test keys shared by all tests of a binary (generating one costs ~0.1–0.5 s). A public key
/// may be registered by many apps; replay protection is per app.
pub fn test_key(i: usize) -> &'static TestKey {
    static KEYS: [OnceLock<TestKey>; 4] =
        [OnceLock::new(), OnceLock::new(), OnceLock::new(), OnceLock::new()];
    KEYS[i].get_or_init(TestKey::generate)
}

/// Claims of an app token / jwt-bearer assertion: `iss` = the app, fresh `jti`, 5 minutes.
pub fn app_claims(client_id: &str, aud: Option<&str>) -> Value {
    let t = now();
    let mut c = json!({
        "iss": client_id,
        "iat": t,
        "exp": t + 300,
        "jti": rand_hex(12),
    });
    if let Some(a) = aud {
        // The jwt-bearer grant (which needs `aud`) also needs `sub` (RFC 7523 §3 item 2).
        c["aud"] = a.into();
        c["sub"] = client_id.into();
    }
    c
}

/// Claims of a private_key_jwt client assertion (RFC 7523 §3).
pub fn client_assertion_claims(client_id: &str, aud: &str) -> Value {
    let t = now();
    json!({
        "iss": client_id,
        "sub": client_id,
        "aud": aud,
        "iat": t,
        "exp": t + 120,
        "jti": rand_hex(12),
    })
}

/// An unsigned JWS (`alg: none`).
pub fn unsigned_jwt(claims: &Value) -> String {
    format!(
        "{}.{}.",
        b64url(br#"{"alg":"none","typ":"JWT"}"#),
        b64url(claims.to_string().as_bytes())
    )
}
