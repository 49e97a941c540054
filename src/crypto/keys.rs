//! The issuer's signing keys: parsed and prepared once per isolate, with the JWKS document and
//! each key's encoded JWS header made up front so issuing a token is one signature and one
//! base64. RSA keys sign RS256 through [`rs256`] (our constant-time kernel); Ed25519 keys sign
//! EdDSA. `ACCESS_TOKEN_ALG` picks which kind signs; every key is published and verifies.

use super::jwt::{self, Untrusted};
use super::rs256;
use crate::config::AccessTokenAlg;
use crate::util::{b64url, sha256};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};

/// Why signing keys could not be made or read. Config errors: they reach the operator's log as
/// a 5xx ([`crate::error::Error::server`]), never a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyProblem {
    /// RSA keys must have at least 2048 bits.
    TooShort,
    /// PEM block `n` (1-based) is neither a PKCS#8 RSA nor an Ed25519 private key.
    NotPkcs8(usize),
    Unterminated,
    NoKey,
    /// No key of the kind that signs this algorithm.
    NoKeyFor(AccessTokenAlg),
    /// Key generation or encoding failed (the generator's own words).
    Generate(String),
}

impl std::fmt::Display for KeyProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyProblem::TooShort => write!(f, "signing keys must be at least 2048 bits"),
            KeyProblem::NotPkcs8(n) => {
                write!(f, "signing key {n} is not a PKCS#8 RSA or Ed25519 private key")
            }
            KeyProblem::Unterminated => write!(f, "unterminated PEM block"),
            KeyProblem::NoKey => write!(f, "no PKCS#8 private key found"),
            KeyProblem::NoKeyFor(alg) => write!(
                f,
                "no {} key for ACCESS_TOKEN_ALG={}",
                match alg {
                    AccessTokenAlg::Rs256 => "RSA",
                    AccessTokenAlg::EdDsa => "Ed25519",
                },
                alg.as_str()
            ),
            KeyProblem::Generate(e) => write!(f, "cannot make a key: {e}"),
        }
    }
}

impl From<KeyProblem> for crate::error::Error {
    fn from(k: KeyProblem) -> Self {
        crate::error::Error::server(k.to_string())
    }
}

fn generation(e: impl std::fmt::Display) -> KeyProblem {
    KeyProblem::Generate(e.to_string())
}

// One per key, kept for the isolate's lifetime: the size difference does not matter.
#[allow(clippy::large_enum_variant)]
enum Kind {
    Rsa {
        signer: rs256::Signer,
        verifier: rs256::Verifier,
        public: RsaPublicKey,
    },
    Ed25519 {
        signing: ed25519_dalek::SigningKey,
        verifying: ed25519_dalek::VerifyingKey,
    },
}

pub struct SigningKey {
    pub kid: String,
    kind: Kind,
    /// `{"alg":…,"kid":…,"typ":"at+jwt"}` (jwt-compact adds `alg`)
    at_header: jwt::SigningHeader,
    /// `{"alg":…,"kid":…,"typ":"JWT"}`: OpenID Connect ID tokens.
    id_header: jwt::SigningHeader,
}

impl SigningKey {
    fn alg(&self) -> AccessTokenAlg {
        match self.kind {
            Kind::Rsa { .. } => AccessTokenAlg::Rs256,
            Kind::Ed25519 { .. } => AccessTokenAlg::EdDsa,
        }
    }

    fn jwk(&self) -> serde_json::Value {
        match &self.kind {
            Kind::Rsa { public, .. } => rsa_public_jwk(public, &self.kid),
            Kind::Ed25519 { verifying, .. } => serde_json::json!({
                "kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": self.kid,
                "x": b64url(verifying.as_bytes()),
            }),
        }
    }

    fn verify(&self, token: &Untrusted<'_>) -> bool {
        match &self.kind {
            Kind::Rsa { verifier, .. } => token.verify_rs256_prepared(verifier),
            Kind::Ed25519 { verifying, .. } => token.verify_eddsa(verifying),
        }
    }
}

pub struct SigningKeys {
    /// The key that signs.
    current: SigningKey,
    /// The others, in the order given (verification only).
    others: Vec<SigningKey>,
    jwks_json: String,
    /// True when the key was made by the server itself (no `SIGNING_KEYS` secret).
    pub development: bool,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        let kids: Vec<&str> = self.all().map(|k| k.kid.as_str()).collect();
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

/// RFC 7638 thumbprint of an Ed25519 public key (RFC 8037 §2: members `crv`, `kty`, `x`).
pub fn ed25519_thumbprint(key: &ed25519_dalek::VerifyingKey) -> String {
    let x = b64url(key.as_bytes());
    b64url(&sha256(
        format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#).as_bytes(),
    ))
}

pub fn rsa_public_jwk(key: &RsaPublicKey, kid: &str) -> serde_json::Value {
    serde_json::json!({
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
        "n": b64url(&key.n().to_bytes_be()), "e": b64url(&key.e().to_bytes_be()),
    })
}

/// A fresh RSA-2048 private key as PKCS#8 PEM.
pub fn generate_pem() -> Result<String, KeyProblem> {
    let key = RsaPrivateKey::new(&mut rand_core::OsRng, 2048).map_err(generation)?;
    key.to_pkcs8_pem(LineEnding::LF)
        .map(|p| p.to_string())
        .map_err(generation)
}

/// A fresh Ed25519 private key as PKCS#8 PEM (the seed straight from `getrandom`).
pub fn generate_ed25519_pem() -> Result<String, KeyProblem> {
    use ed25519_dalek::pkcs8::EncodePrivateKey as _;
    let mut seed = zeroize::Zeroizing::new([0u8; 32]);
    getrandom::getrandom(seed.as_mut()).map_err(generation)?;
    ed25519_dalek::SigningKey::from_bytes(&seed)
        .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .map(|p| p.to_string())
        .map_err(generation)
}

/// A fresh private key of the kind that signs `alg`, as PKCS#8 PEM.
pub fn generate_pem_for(alg: AccessTokenAlg) -> Result<String, KeyProblem> {
    match alg {
        AccessTokenAlg::Rs256 => generate_pem(),
        AccessTokenAlg::EdDsa => generate_ed25519_pem(),
    }
}

fn parse_key(block: &str, index: usize) -> Result<SigningKey, KeyProblem> {
    let (kind, kid) = if let Ok(private) = RsaPrivateKey::from_pkcs8_pem(block) {
        if private.size() < 256 {
            return Err(KeyProblem::TooShort);
        }
        let public = private.to_public_key();
        let kid = rsa_thumbprint(&public);
        let kind = Kind::Rsa {
            signer: rs256::Signer::new(&private),
            verifier: rs256::Verifier::new(&public),
            public,
        };
        (kind, kid)
    } else if let Ok(signing) = {
        use ed25519_dalek::pkcs8::DecodePrivateKey as _;
        ed25519_dalek::SigningKey::from_pkcs8_pem(block)
    } {
        let verifying = signing.verifying_key();
        let kid = ed25519_thumbprint(&verifying);
        (Kind::Ed25519 { signing, verifying }, kid)
    } else {
        return Err(KeyProblem::NotPkcs8(index + 1));
    };
    Ok(SigningKey {
        at_header: jwt::signing_header(&kid, "at+jwt"),
        id_header: jwt::signing_header(&kid, "JWT"),
        kid,
        kind,
    })
}

impl SigningKeys {
    /// Parses one or more PKCS#8 PEM blocks; the first RSA key signs (RS256), all are published.
    pub fn from_pems(text: &str, development: bool) -> Result<Self, KeyProblem> {
        Self::from_pems_for(text, AccessTokenAlg::Rs256, development)
    }

    /// Parses one or more PKCS#8 PEM blocks (RSA or Ed25519); the first key of the kind that
    /// signs `alg` signs, all are published and verify.
    pub fn from_pems_for(
        text: &str,
        alg: AccessTokenAlg,
        development: bool,
    ) -> Result<Self, KeyProblem> {
        const BEGIN: &str = "-----BEGIN PRIVATE KEY-----";
        const END: &str = "-----END PRIVATE KEY-----";
        let mut keys = Vec::new();
        let mut rest = text;
        while let Some((_, after)) = rest.split_once(BEGIN) {
            let (body, next) = after.split_once(END).ok_or(KeyProblem::Unterminated)?;
            // Secrets set through a dashboard sometimes carry literal "\n".
            let block = format!("{BEGIN}{body}{END}").replace("\\n", "\n");
            keys.push(parse_key(&block, keys.len())?);
            rest = next;
        }
        if keys.is_empty() {
            return Err(KeyProblem::NoKey);
        }
        let Some(current) = keys.iter().position(|k| k.alg() == alg) else {
            return Err(KeyProblem::NoKeyFor(alg));
        };
        let current = keys.remove(current);
        let jwks: Vec<_> = std::iter::once(&current).chain(&keys).map(SigningKey::jwk).collect();
        let jwks_json = serde_json::json!({ "keys": jwks }).to_string();
        Ok(SigningKeys {
            current,
            others: keys,
            jwks_json,
            development,
        })
    }

    /// The signing key first, then the others.
    fn all(&self) -> impl Iterator<Item = &SigningKey> {
        std::iter::once(&self.current).chain(&self.others)
    }

    pub fn jwks_json(&self) -> &str {
        &self.jwks_json
    }

    /// Every key's `kid`, the signing one first.
    pub fn kids(&self) -> Vec<String> {
        self.all().map(|k| k.kid.clone()).collect()
    }

    pub fn current_kid(&self) -> &str {
        &self.current.kid
    }

    /// The `alg` of the access tokens we sign.
    pub fn alg(&self) -> AccessTokenAlg {
        self.current.alg()
    }

    /// Signs an RFC 9068 access token (`typ: at+jwt`) with the current key. Fails only if
    /// `claims` is not a JSON object.
    pub fn sign_access_token(&self, claims: &serde_json::Value) -> Result<String, String> {
        let k = &self.current;
        match &k.kind {
            Kind::Rsa { signer, .. } => jwt::sign_rs256(&k.at_header, claims, signer),
            Kind::Ed25519 { signing, .. } => jwt::sign_eddsa(&k.at_header, claims, signing),
        }
    }

    /// The key that signs ID tokens: the first RSA key, the signing key first (RS256 is what
    /// every OpenID Connect client must accept, and what one that registered no
    /// `id_token_signed_response_alg` expects); the Ed25519 signing key only when there is no
    /// RSA key at all. With `want` (the app's `id_token_signed_response_alg`), the first key of
    /// that algorithm if there is one. Keys are in their order of preference: the signing key,
    /// then the others as given (`SIGNING_KEYS` in its order; an organisation's newest first, so
    /// a rotation makes the new key of each algorithm the one that signs).
    fn id_token_key_for(&self, want: Option<AccessTokenAlg>) -> &SigningKey {
        want.and_then(|w| self.all().find(|k| k.alg() == w))
            .or_else(|| self.all().find(|k| k.alg() == AccessTokenAlg::Rs256))
            .unwrap_or(&self.current)
    }

    fn id_token_key(&self) -> &SigningKey {
        self.id_token_key_for(None)
    }

    /// The `alg` of the ID tokens we sign (see [`SigningKeys::sign_id_token`]).
    pub fn id_token_alg(&self) -> AccessTokenAlg {
        self.id_token_key().alg()
    }

    /// The `alg` of the ID tokens we sign for an app that asked for `want`.
    pub fn id_token_alg_for(&self, want: Option<AccessTokenAlg>) -> AccessTokenAlg {
        self.id_token_key_for(want).alg()
    }

    /// Every algorithm ID tokens can be signed with here (the default first): what discovery
    /// states and an app's `id_token_signed_response_alg` may name.
    pub fn id_token_algs(&self) -> Vec<AccessTokenAlg> {
        let mut v = vec![self.id_token_alg()];
        for k in self.all() {
            if !v.contains(&k.alg()) {
                v.push(k.alg());
            }
        }
        v
    }

    /// Signs an ID token with the key for `want` (see [`SigningKeys::id_token_alg_for`]).
    pub fn sign_id_token_as(&self, want: Option<AccessTokenAlg>, claims: &serde_json::Value) -> Result<String, String> {
        let k = self.id_token_key_for(want);
        match &k.kind {
            Kind::Rsa { signer, .. } => jwt::sign_rs256(&k.id_header, claims, signer),
            Kind::Ed25519 { signing, .. } => jwt::sign_eddsa(&k.id_header, claims, signing),
        }
    }

    /// Signs an OpenID Connect ID token (`typ: JWT`, never `at+jwt`: it is not an access token
    /// and [`crate::oauth::mint::validate`] refuses it as one). Fails only if `claims` is not a
    /// JSON object.
    pub fn sign_id_token(&self, claims: &serde_json::Value) -> Result<String, String> {
        self.sign_id_token_as(None, claims)
    }

    /// Signs an OpenID Connect Back-Channel Logout token (`typ: logout+jwt`, §2.4) with the ID
    /// token key for the app's `want`: what the app verifies ID tokens with. Fails only if `claims` is not an object.
    pub fn sign_logout_token(&self, want: Option<AccessTokenAlg>, claims: &serde_json::Value) -> Result<String, String> {
        let k = self.id_token_key_for(want);
        let header = jwt::signing_header(&k.kid, "logout+jwt");
        match &k.kind {
            Kind::Rsa { signer, .. } => jwt::sign_rs256(&header, claims, signer),
            Kind::Ed25519 { signing, .. } => jwt::sign_eddsa(&header, claims, signing),
        }
    }

    /// Verifies a token signed by any of our keys (chosen by `kid`; all tried if absent). Each
    /// key accepts only its own `alg`.
    pub fn verify(&self, token: &Untrusted<'_>) -> bool {
        match &token.header.kid {
            Some(kid) => self
                .all()
                .find(|k| &k.kid == kid)
                .is_some_and(|k| k.verify(token)),
            None => self.all().any(|k| k.verify(token)),
        }
    }

    /// Development self-check: signs `n` messages with the current RSA key through the kernel
    /// and through the `rsa` crate and says whether every pair is byte-identical (`None` for
    /// an Ed25519 key, or when the kernel does not take the key).
    pub fn matches_reference(&self, n: usize) -> Option<bool> {
        let Kind::Rsa { signer, .. } = &self.current.kind else {
            return None;
        };
        signer.is_fast().then(|| {
            (0..n).all(|i| {
                let msg = format!("self-check {i}");
                signer.sign(msg.as_bytes()) == signer.sign_reference(msg.as_bytes())
            })
        })
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
        let t = keys.sign_access_token(&serde_json::json!({"sub": "x"})).unwrap();
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

    /// RFC 8037 Appendix A.1 private key as PKCS#8 PEM.
    fn rfc8037_pem() -> String {
        use ed25519_dalek::pkcs8::EncodePrivateKey as _;
        let d = crate::util::b64url_decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A").unwrap();
        ed25519_dalek::SigningKey::from_bytes(&d.try_into().unwrap())
            .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .unwrap()
            .to_string()
    }

    #[test]
    fn ed25519_key_matches_rfc8037_vectors() {
        let keys = SigningKeys::from_pems_for(&rfc8037_pem(), AccessTokenAlg::EdDsa, false).unwrap();
        // A.3: thumbprint of the public key.
        assert_eq!(keys.current_kid(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
        let jwks: serde_json::Value = serde_json::from_str(keys.jwks_json()).unwrap();
        let jwk = &jwks["keys"][0];
        assert_eq!(jwk["kty"], "OKP");
        assert_eq!(jwk["crv"], "Ed25519");
        assert_eq!(jwk["alg"], "EdDSA");
        assert_eq!(jwk["x"], "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
        assert!(jwk.get("d").is_none());
        // A.4: the signature over a fixed input.
        let Kind::Ed25519 { signing, .. } = &keys.current.kind else {
            panic!()
        };
        let input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
        use ed25519_dalek::Signer as _;
        assert_eq!(
            b64url(&signing.sign(input.as_bytes()).to_bytes()),
            "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
        );
    }

    #[test]
    fn eddsa_tokens_sign_verify_and_pin_the_algorithm() {
        let both = format!("{}\n{}", test_pem(), generate_ed25519_pem().unwrap());
        let ed = SigningKeys::from_pems_for(&both, AccessTokenAlg::EdDsa, false).unwrap();
        let rs = SigningKeys::from_pems_for(&both, AccessTokenAlg::Rs256, false).unwrap();
        assert_eq!(ed.alg(), AccessTokenAlg::EdDsa);
        assert_eq!(rs.alg(), AccessTokenAlg::Rs256);
        // Both keys are published either way, the signing one first.
        let jwks: serde_json::Value = serde_json::from_str(ed.jwks_json()).unwrap();
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
        assert_eq!(jwks["keys"][0]["kid"], ed.current_kid());
        assert_eq!(jwks["keys"][1]["kid"], rs.current_kid());

        let t = ed.sign_access_token(&serde_json::json!({"sub": "x"})).unwrap();
        let decoded = jwt::decode(&t).unwrap();
        assert_eq!(decoded.header.alg, "EdDSA");
        assert_eq!(decoded.header.typ.as_deref(), Some("at+jwt"));
        assert!(ed.verify(&decoded));
        // Tokens of either key verify under either configuration (rotation in both directions).
        assert!(rs.verify(&decoded));
        let r = rs.sign_access_token(&serde_json::json!({"sub": "x"})).unwrap();
        assert!(ed.verify(&jwt::decode(&r).unwrap()));

        // Tampered claims fail; so does an EdDSA signature presented as RS256 under the same kid.
        let parts: Vec<&str> = t.split('.').collect();
        let forged = format!("{}.{}.{}", parts[0], b64url(br#"{"sub":"y"}"#), parts[2]);
        assert!(!ed.verify(&jwt::decode(&forged).unwrap()));
        let h = b64url(format!(r#"{{"alg":"RS256","kid":"{}"}}"#, ed.current_kid()).as_bytes());
        let swapped = format!("{h}.{}.{}", parts[1], parts[2]);
        assert!(!ed.verify(&jwt::decode(&swapped).unwrap()));

        // A key set without a key for the configured algorithm is refused.
        assert!(SigningKeys::from_pems_for(test_pem(), AccessTokenAlg::EdDsa, true).is_err());
        assert!(SigningKeys::from_pems_for(&rfc8037_pem(), AccessTokenAlg::Rs256, true).is_err());
    }

    #[test]
    fn rs256_tokens_match_the_reference_signer() {
        let keys = SigningKeys::from_pems(test_pem(), true).unwrap();
        assert_eq!(keys.matches_reference(3), Some(true));
        let t = keys.sign_access_token(&serde_json::json!({"sub": "x"})).unwrap();
        // An independent verifier (jsonwebtoken, ring) accepts it.
        let private = RsaPrivateKey::from_pkcs8_pem(test_pem()).unwrap();
        let public = private.to_public_key();
        let key = jsonwebtoken::DecodingKey::from_rsa_raw_components(
            &public.n().to_bytes_be(),
            &public.e().to_bytes_be(),
        );
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        v.required_spec_claims.clear();
        v.validate_exp = false;
        assert!(jsonwebtoken::decode::<serde_json::Value>(&t, &key, &v).is_ok());
    }

    /// A fixed RSA-2048 key (test only) and the RFC 8037 Ed25519 key: the tokens they sign
    /// are pinned below, so a change in how tokens are encoded or signed shows up here.
    const FIXED_RSA_PEM: &str = include_str!("testdata/rsa2048-test-only.pem");

    fn fixed_claims() -> serde_json::Value {
        serde_json::json!({
            "iss": "https://auth.example", "sub": "user-1", "aud": "https://api.example",
            "client_id": "app-1", "scope": "read write", "jti": "AAAAAAAAAAAAAAAAAAAAAA",
            "iat": 1700000000, "exp": 1700003600, "ep": 0,
        })
    }

    const PINNED_RS256: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6Il9Wd2FtMk03WmdKUkJDNk42a3RMdEIwWDExenlXc2ZHVnhoaDNzWE1jN00iLCJ0eXAiOiJhdCtqd3QifQ.eyJhdWQiOiJodHRwczovL2FwaS5leGFtcGxlIiwiY2xpZW50X2lkIjoiYXBwLTEiLCJlcCI6MCwiZXhwIjoxNzAwMDAzNjAwLCJpYXQiOjE3MDAwMDAwMDAsImlzcyI6Imh0dHBzOi8vYXV0aC5leGFtcGxlIiwianRpIjoiQUFBQUFBQUFBQUFBQUFBQUFBQUFBQSIsInNjb3BlIjoicmVhZCB3cml0ZSIsInN1YiI6InVzZXItMSJ9.HXzVOQWYbE76q-OkT0oiOXdboYHRIJcQBaG7Iq_MsAanWtR7m5He1-7a9rF0Q-0C-zuCAdRL_Q4O60wSML4tkV4NNcM5cVMTUyK4N0N7POiO2e3lj4VEQE0_BSSUPCv4UdJBF5RUtpN2ufPVQ13GIQLYn8eCKPb82-fk1ZOAC0_ETaBWCs3xqHZ8F0-TU0AD5giw76FticOAI5pSOBeteT5E3EFNHy-nkSTcKZm0o_18jGI3cW1ISV5ykNprryNIP8zC_EELST2BGwg7QDFUI91EivV8rijBzUfa46WNBKSPHu-CvrVjzW-qp4Xy1TfnQ2By5d98ObIQZXruDCX0Xg";
    const PINNED_EDDSA: &str = "eyJhbGciOiJFZERTQSIsImtpZCI6ImtQcktfcW14VldhWVZBOXd3QkY2SXVvM3ZWeno3VHhIQ1R3WEJ5Z3JTNGsiLCJ0eXAiOiJhdCtqd3QifQ.eyJhdWQiOiJodHRwczovL2FwaS5leGFtcGxlIiwiY2xpZW50X2lkIjoiYXBwLTEiLCJlcCI6MCwiZXhwIjoxNzAwMDAzNjAwLCJpYXQiOjE3MDAwMDAwMDAsImlzcyI6Imh0dHBzOi8vYXV0aC5leGFtcGxlIiwianRpIjoiQUFBQUFBQUFBQUFBQUFBQUFBQUFBQSIsInNjb3BlIjoicmVhZCB3cml0ZSIsInN1YiI6InVzZXItMSJ9.rZxczevl-cNt3wEjHaVqfF7g6VHFKuoRvgU3k8iXDO9dzsR68DFU8SjL4653uxyug3op0bkoLUhUZZSc94mYDw";

    #[test]
    fn tokens_are_byte_identical_to_the_pinned_ones_and_to_the_rsa_reference() {
        let rs = SigningKeys::from_pems(FIXED_RSA_PEM, false).unwrap();
        let ed = SigningKeys::from_pems_for(&rfc8037_pem(), AccessTokenAlg::EdDsa, false).unwrap();
        let t_rs = rs.sign_access_token(&fixed_claims()).unwrap();
        let t_ed = ed.sign_access_token(&fixed_claims()).unwrap();
        println!("RS256 {t_rs}\nEdDSA {t_ed}");
        assert_eq!(t_rs, PINNED_RS256);
        assert_eq!(t_ed, PINNED_EDDSA);
        // The same token assembled by hand and signed by the `rsa` crate's PKCS#1 v1.5.
        let private = RsaPrivateKey::from_pkcs8_pem(FIXED_RSA_PEM).unwrap();
        let header = format!(r#"{{"alg":"RS256","kid":"{}","typ":"at+jwt"}}"#, rs.current_kid());
        let input = format!("{}.{}", b64url(header.as_bytes()), b64url(fixed_claims().to_string().as_bytes()));
        let sig = private
            .sign(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &sha256(input.as_bytes()))
            .unwrap();
        assert_eq!(t_rs, format!("{input}.{}", b64url(&sig)));
    }

    #[test]
    fn id_tokens_are_typ_jwt_and_prefer_the_rsa_key() {
        let both = format!("{}\n{}", generate_ed25519_pem().unwrap(), test_pem());
        let ed = SigningKeys::from_pems_for(&both, AccessTokenAlg::EdDsa, false).unwrap();
        let t = ed.sign_id_token(&serde_json::json!({"sub": "x"})).unwrap();
        let d = jwt::decode(&t).unwrap();
        assert_eq!(d.header.typ.as_deref(), Some("JWT"));
        assert_eq!(d.header.alg, "RS256");
        assert_eq!(ed.id_token_alg(), AccessTokenAlg::Rs256);
        assert!(ed.verify(&d));
        // Only an Ed25519 key: it signs the ID tokens too.
        let only = SigningKeys::from_pems_for(&rfc8037_pem(), AccessTokenAlg::EdDsa, false).unwrap();
        let t = only.sign_id_token(&serde_json::json!({"sub": "x"})).unwrap();
        let d = jwt::decode(&t).unwrap();
        assert_eq!((d.header.alg.as_str(), only.id_token_alg()), ("EdDSA", AccessTokenAlg::EdDsa));
        assert_eq!(d.header.kid.as_deref(), Some(only.current_kid()));
        // Access tokens keep their own header.
        let t = only.sign_access_token(&serde_json::json!({"sub": "x"})).unwrap();
        let a = jwt::decode(&t).unwrap();
        assert_eq!(a.header.typ.as_deref(), Some("at+jwt"));
    }

    /// Per-token cost natively: `cargo test --release --lib per_token_cost -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn per_token_cost() {
        use std::time::Instant;
        let rs = SigningKeys::from_pems(FIXED_RSA_PEM, false).unwrap();
        let ed = SigningKeys::from_pems_for(&rfc8037_pem(), AccessTokenAlg::EdDsa, false).unwrap();
        let claims = fixed_claims();
        for (name, keys, n) in [("RS256", &rs, 2000u32), ("EdDSA", &ed, 20000)] {
            let t = keys.sign_access_token(&claims).unwrap();
            let start = Instant::now();
            for _ in 0..n {
                std::hint::black_box(keys.sign_access_token(std::hint::black_box(&claims)).unwrap());
            }
            let sign = start.elapsed().as_secs_f64() * 1e6 / f64::from(n);
            let start = Instant::now();
            for _ in 0..n {
                let d = jwt::decode(std::hint::black_box(&t)).unwrap();
                assert!(keys.verify(&d));
            }
            let verify = start.elapsed().as_secs_f64() * 1e6 / f64::from(n);
            let start = Instant::now();
            for _ in 0..n * 10 {
                std::hint::black_box(jwt::decode(std::hint::black_box(&t)).unwrap());
            }
            let decode = start.elapsed().as_secs_f64() * 1e6 / f64::from(n * 10);
            println!("{name}: sign {sign:.2} us, decode+verify {verify:.2} us, decode only {decode:.2} us");
        }
    }
}
