//! Compact JWS (RFC 7515) through `jwt-compact`: its [`UntrustedToken`] splits a token into
//! exactly three parts, decodes them (strict base64url: no padding, no `+`/`/`, canonical
//! trailing bits, as strict as [`b64url_decode`]) and reads the header; its
//! [`AlgorithmExt::token`] encodes. The algorithms are ours, as implementations of its
//! [`Algorithm`] trait: [`Rs256`] signs through our RSA kernel ([`rs256`]) and verifies as
//! before, [`EdDsa`] is `ed25519-dalek` with strict verification.
//!
//! Kept by hand, because `jwt-compact` does not do them or does them differently: the size
//! limit before any parsing; refusing any `crit` header (its `Header` has no such member: it
//! is read from the raw header JSON); the claims as a raw JSON object with our own NumericDate
//! reading (its `Claims` reads `exp`/`nbf`/`iat` as chrono dates, with another range); and
//! the algorithm pinned by the caller's key, never by the token.

use super::rs256;
use crate::util::b64url_decode;
use jwt_compact::{Algorithm, AlgorithmExt, AlgorithmSignature, Claims, UntrustedToken};
use rsa::RsaPublicKey;
use serde::Deserialize;
use std::borrow::Cow;
use std::num::NonZeroUsize;

/// Longer tokens are refused before any decoding (ours are ~900 bytes; assertions are small).
pub const MAX_JWT_LEN: usize = 8 * 1024;

#[derive(Debug, Clone, Default)]
pub struct Header {
    pub alg: String,
    pub kid: Option<String>,
    pub typ: Option<String>,
    pub crit: Option<serde_json::Value>,
}

/// The header members `jwt-compact`'s [`jwt_compact::Header`] does not know, read from the raw
/// header JSON (its `other_fields`). `"crit": null` reads as absent, as before.
#[derive(Debug, Clone, Deserialize)]
struct Extensions {
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

/// A claim that should be a NumericDate (seconds) is something else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotSeconds;

/// A JWS whose signature has not been checked yet.
#[derive(Debug)]
pub struct Untrusted<'a> {
    pub header: Header,
    pub claims: serde_json::Map<String, serde_json::Value>,
    signing_input: &'a str,
    token: UntrustedToken<'a, Extensions>,
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
    let parsed = UntrustedToken::<Extensions>::try_from(token).map_err(|_| DecodeError::Malformed)?;
    // Three parts, each valid base64url (checked just above); the claims are read here as a raw
    // JSON object, not through `jwt-compact`'s typed `Claims`.
    let mut parts = token.split('.');
    let (Some(h), Some(c)) = (parts.next(), parts.next()) else {
        return Err(DecodeError::Malformed);
    };
    let claims = match b64url_decode(c).map(|bytes| serde_json::from_slice(&bytes)) {
        Some(Ok(serde_json::Value::Object(m))) => m,
        _ => return Err(DecodeError::Malformed),
    };
    let header = Header {
        alg: parsed.algorithm().to_owned(),
        kid: parsed.header().key_id.clone(),
        typ: parsed.header().token_type.clone(),
        crit: parsed.header().other_fields.crit.clone(),
    };
    Ok(Untrusted {
        header,
        claims,
        signing_input: token.get(..h.len() + 1 + c.len()).ok_or(DecodeError::Malformed)?,
        token: parsed,
    })
}

impl Untrusted<'_> {
    /// Checks the signature with `check(signing_input, signature)` when the header's `alg` is
    /// exactly `alg`: the algorithm is pinned by the caller (by the key), never by the token.
    pub fn verify_with(&self, alg: &str, check: impl FnOnce(&[u8], &[u8]) -> bool) -> bool {
        if self.header.alg != alg || self.header.crit.is_some() {
            return false;
        }
        check(self.signing_input.as_bytes(), self.token.signature_bytes())
    }

    /// Verifies with `alg` and `key` the way `jwt-compact`'s validator does (name, signature
    /// length, signature parsing, then [`Algorithm::verify_signature`]) but without its typed
    /// claims, and refusing `crit`.
    pub fn verify_alg<A: Algorithm>(&self, alg: &A, key: &A::VerifyingKey) -> bool {
        self.verify_with(&alg.name(), |input, sig| {
            if A::Signature::LENGTH.is_some_and(|len| len.get() != sig.len()) {
                return false;
            }
            A::Signature::try_from_slice(sig).is_ok_and(|sig| alg.verify_signature(&sig, key, input))
        })
    }

    /// RS256 with a key not prepared in advance (apps' keys).
    pub fn verify_rs256(&self, key: &RsaPublicKey) -> bool {
        self.verify_alg(&Rs256, &rs256::Verifier::new(key))
    }

    /// RS256 with a prepared key (ours).
    pub fn verify_rs256_prepared(&self, key: &rs256::Verifier) -> bool {
        self.verify_alg(&Rs256, key)
    }

    /// EdDSA (Ed25519, RFC 8037), strict verification (canonical encodings, no small-order keys).
    pub fn verify_eddsa(&self, key: &ed25519_dalek::VerifyingKey) -> bool {
        self.verify_alg(&EdDsa, key)
    }

    pub fn str_claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(|v| v.as_str())
    }

    /// NumericDate claims must be integers (fractions are accepted and floored).
    pub fn time_claim(&self, name: &str) -> Result<Option<i64>, NotSeconds> {
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
                .ok_or(NotSeconds),
        }
    }
}

/// RS256 (RSASSA-PKCS1-v1_5 with SHA-256) as a `jwt-compact` algorithm: signs through our RSA
/// kernel ([`rs256::Signer`], falling back to the `rsa` crate), verifies with
/// [`rs256::Verifier`] (encode-and-compare).
#[derive(Debug, Clone, Copy, Default)]
pub struct Rs256;

/// An RS256 signature: as many bytes as the modulus (checked by the verifier).
#[derive(Debug, Clone)]
pub struct Rs256Signature(Vec<u8>);

impl AlgorithmSignature for Rs256Signature {
    fn try_from_slice(slice: &[u8]) -> anyhow::Result<Self> {
        Ok(Rs256Signature(slice.to_vec()))
    }

    fn as_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.0)
    }
}

impl Algorithm for Rs256 {
    type SigningKey = rs256::Signer;
    type VerifyingKey = rs256::Verifier;
    type Signature = Rs256Signature;

    fn name(&self) -> Cow<'static, str> {
        Cow::Borrowed("RS256")
    }

    fn sign(&self, key: &rs256::Signer, message: &[u8]) -> Rs256Signature {
        Rs256Signature(key.sign(message))
    }

    fn verify_signature(&self, sig: &Rs256Signature, key: &rs256::Verifier, message: &[u8]) -> bool {
        key.verify(message, &sig.0)
    }
}

/// EdDSA over Ed25519 (RFC 8037) as a `jwt-compact` algorithm, through `ed25519-dalek`, with
/// strict verification (`verify_strict`).
#[derive(Debug, Clone, Copy, Default)]
pub struct EdDsa;

/// An Ed25519 signature (64 bytes).
#[derive(Debug, Clone)]
pub struct EdDsaSignature(ed25519_dalek::Signature);

impl AlgorithmSignature for EdDsaSignature {
    const LENGTH: Option<NonZeroUsize> = NonZeroUsize::new(ed25519_dalek::SIGNATURE_LENGTH);

    fn try_from_slice(slice: &[u8]) -> anyhow::Result<Self> {
        ed25519_dalek::Signature::from_slice(slice)
            .map(EdDsaSignature)
            .map_err(|_| anyhow::anyhow!("not an Ed25519 signature"))
    }

    fn as_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Owned(self.0.to_bytes().to_vec())
    }
}

impl Algorithm for EdDsa {
    type SigningKey = ed25519_dalek::SigningKey;
    type VerifyingKey = ed25519_dalek::VerifyingKey;
    type Signature = EdDsaSignature;

    fn name(&self) -> Cow<'static, str> {
        Cow::Borrowed("EdDSA")
    }

    fn sign(&self, key: &ed25519_dalek::SigningKey, message: &[u8]) -> EdDsaSignature {
        use ed25519_dalek::Signer;
        EdDsaSignature(key.sign(message))
    }

    fn verify_signature(
        &self,
        sig: &EdDsaSignature,
        key: &ed25519_dalek::VerifyingKey,
        message: &[u8],
    ) -> bool {
        key.verify_strict(message, &sig.0).is_ok()
    }
}

/// The header of the tokens we sign, without `alg` (the algorithm adds it).
pub type SigningHeader = jwt_compact::Header;

/// `{"alg":…,"kid":kid,"typ":typ}` (`jwt-compact` writes `alg` first, then `kid`, then `typ`).
pub fn signing_header(kid: &str, typ: &str) -> SigningHeader {
    jwt_compact::Header::empty().with_key_id(kid).with_token_type(typ)
}

/// Signs `claims` (a JSON object, written as is) under `header` with `alg`.
pub fn sign<A: Algorithm>(
    alg: &A,
    header: &SigningHeader,
    claims: &serde_json::Value,
    key: &A::SigningKey,
) -> Result<String, String> {
    alg.token(header, &Claims::new(claims), key)
        .map_err(|e| format!("cannot encode a JWT: {e}"))
}

/// Signs `claims` with RS256.
pub fn sign_rs256(
    header: &SigningHeader,
    claims: &serde_json::Value,
    key: &rs256::Signer,
) -> Result<String, String> {
    sign(&Rs256, header, claims, key)
}

/// Signs `claims` with EdDSA (Ed25519).
pub fn sign_eddsa(
    header: &SigningHeader,
    claims: &serde_json::Value,
    key: &ed25519_dalek::SigningKey,
) -> Result<String, String> {
    sign(&EdDsa, header, claims, key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::b64url;

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

    fn ed_key() -> ed25519_dalek::SigningKey {
        ed25519_dalek::SigningKey::from_bytes(&[7u8; 32])
    }

    /// `header.claims.signature` with the three parts given raw (already encoded).
    fn eddsa_signed(h: &str, c: &str) -> String {
        use ed25519_dalek::Signer;
        let input = format!("{h}.{c}");
        let sig = ed_key().sign(input.as_bytes()).to_bytes();
        format!("{input}.{}", b64url(&sig))
    }

    #[test]
    fn base64_is_as_strict_as_ours_in_every_part() {
        let h = b64url(br#"{"alg":"EdDSA"}"#);
        let c = b64url(br#"{"sub":"x"}"#);
        let good = eddsa_signed(&h, &c);
        let d = decode(&good).unwrap();
        assert!(d.verify_eddsa(&ed_key().verifying_key()));
        let s = good.rsplit('.').next().unwrap().to_owned();
        // Each broken encoding, refused by util::b64url_decode, is refused in each position.
        let (a1, a2) = (b64url(&[1]), b64url(&[1, 2]));
        assert_eq!((a1.as_str(), a2.as_str()), ("AQ", "AQI"));
        for bad in [
            format!("{a1}=="), // padding
            format!("{a2}="),
            "AR".to_owned(),  // non-zero trailing bits (canonical is "AQ")
            "AQJ".to_owned(), // (canonical is "AQI")
            "A".to_owned(),   // impossible length
            "+/8".to_owned(), // standard alphabet
            "AQ I".to_owned(),
            "AQ\n".to_owned(),
            "%41Q".to_owned(),
        ] {
            assert!(crate::util::b64url_decode(&bad).is_none(), "{bad}");
            for t in [
                format!("{bad}.{c}.{s}"),
                format!("{h}.{bad}.{s}"),
                format!("{h}.{c}.{bad}"),
            ] {
                assert_eq!(decode(&t).unwrap_err(), DecodeError::Malformed, "{t}");
            }
            // Appended to the signature (which shifts the blocks), decodes exactly when ours does.
            let sig = format!("{s}{bad}");
            let t = format!("{h}.{c}.{sig}");
            assert_eq!(
                decode(&t).is_ok(),
                crate::util::b64url_decode(&sig).is_some(),
                "{t}"
            );
        }
    }

    #[test]
    fn crit_is_refused_even_when_correctly_signed() {
        let key = ed_key().verifying_key();
        let c = b64url(br#"{"sub":"x"}"#);
        for (header, ok) in [
            (r#"{"alg":"EdDSA"}"#, true),
            // `null` reads as absent, as it did before jwt-compact.
            (r#"{"alg":"EdDSA","crit":null}"#, true),
            (r#"{"alg":"EdDSA","crit":["exp2"],"exp2":1}"#, false),
            (r#"{"alg":"EdDSA","crit":[]}"#, false),
            (r#"{"alg":"EdDSA","crit":"b64"}"#, false),
        ] {
            let t = eddsa_signed(&b64url(header.as_bytes()), &c);
            let d = decode(&t).unwrap();
            assert_eq!(d.header.crit.is_some(), !ok, "{header}");
            assert_eq!(d.verify_eddsa(&key), ok, "{header}");
        }
    }

    #[test]
    fn the_algorithm_is_pinned_by_the_key() {
        use rsa::pkcs8::DecodePrivateKey;
        let private =
            rsa::RsaPrivateKey::from_pkcs8_pem(include_str!("testdata/rsa2048-test-only.pem")).unwrap();
        let signer = rs256::Signer::new(&private);
        let public = private.to_public_key();
        let c = b64url(br#"{"sub":"x"}"#);
        let rs_signed = |alg: &str| {
            let input = format!("{}.{c}", b64url(format!(r#"{{"alg":"{alg}"}}"#).as_bytes()));
            let sig = signer.sign(input.as_bytes());
            format!("{input}.{}", b64url(&sig))
        };
        assert!(decode(&rs_signed("RS256")).unwrap().verify_rs256(&public));
        assert!(decode(&rs_signed("RS256"))
            .unwrap()
            .verify_rs256_prepared(&rs256::Verifier::new(&public)));
        // The same RS256 signature under another name, or no signature at all, never verifies.
        for alg in ["none", "HS256", "RS384", "PS256", "rs256", "EdDSA"] {
            let t = rs_signed(alg);
            let d = decode(&t).unwrap();
            assert!(!d.verify_rs256(&public), "{alg}");
            assert!(!d.verify_eddsa(&ed_key().verifying_key()), "{alg}");
        }
        let none = format!("{}.{c}.", b64url(br#"{"alg":"none"}"#));
        assert!(!decode(&none).unwrap().verify_rs256(&public));
        // An EdDSA token is not RS256, and an RS256 one not EdDSA.
        let ed = eddsa_signed(&b64url(br#"{"alg":"EdDSA"}"#), &c);
        assert!(!decode(&ed).unwrap().verify_rs256(&public));
        assert!(decode(&ed).unwrap().verify_eddsa(&ed_key().verifying_key()));
        // A truncated or lengthened Ed25519 signature fails the length check, not a panic.
        let (input, sig) = ed.rsplit_once('.').unwrap();
        let sig = crate::util::b64url_decode(sig).unwrap();
        for bytes in [&sig[..63], &[&sig[..], &[0]].concat()] {
            let t = format!("{input}.{}", b64url(bytes));
            assert!(!decode(&t).unwrap().verify_eddsa(&ed_key().verifying_key()));
        }
    }

    #[test]
    fn claims_stay_raw_with_our_numeric_dates() {
        let claims = br#"{"exp":1700000000.9,"nbf":"1","iat":1e20,"big":9007199254740993,"n":-1.5}"#;
        let t = eddsa_signed(&b64url(br#"{"alg":"EdDSA"}"#), &b64url(claims));
        let d = decode(&t).unwrap();
        assert_eq!(d.time_claim("exp"), Ok(Some(1_700_000_000)));
        assert_eq!(d.time_claim("nbf"), Err(NotSeconds));
        assert_eq!(d.time_claim("iat"), Err(NotSeconds));
        assert_eq!(d.time_claim("big"), Ok(Some(9_007_199_254_740_993)));
        assert_eq!(d.time_claim("n"), Ok(Some(-1)));
        assert_eq!(d.time_claim("absent"), Ok(None));
        // Claims jwt-compact would read as dates (outside chrono's range) still decode and verify.
        let t = eddsa_signed(
            &b64url(br#"{"alg":"EdDSA"}"#),
            &b64url(br#"{"exp":99999999999999}"#),
        );
        let d = decode(&t).unwrap();
        assert_eq!(d.time_claim("exp"), Ok(Some(99_999_999_999_999)));
        assert!(d.verify_eddsa(&ed_key().verifying_key()));
    }

    /// Besides what was refused before (no or non-string `alg`, non-string `kid`/`typ`,
    /// duplicate members), jwt-compact refuses a header that is a JSON array, a `cty` other
    /// than JSON and malformed `jku`/`x5u`/`x5t`/`x5t#S256` members, which we used to ignore.
    #[test]
    fn headers_jwt_compact_cannot_read_are_malformed() {
        let c = b64url(br#"{"sub":"x"}"#);
        for header in [
            r#"{"kid":"k"}"#,
            r#"{"alg":1}"#,
            r#"{"alg":"EdDSA","kid":1}"#,
            r#"["EdDSA"]"#,
            r#"{"alg":"EdDSA","cty":"JWT"}"#,
            r#"{"alg":"EdDSA","x5t":"!"}"#,
            r#"{"alg":"EdDSA","alg":"EdDSA"}"#,
        ] {
            let t = eddsa_signed(&b64url(header.as_bytes()), &c);
            assert_eq!(decode(&t).unwrap_err(), DecodeError::Malformed, "{header}");
        }
        let t = eddsa_signed(
            &b64url(br#"{"alg":"EdDSA","kid":"k","typ":"at+jwt","x":[1]}"#),
            &c,
        );
        let d = decode(&t).unwrap();
        assert_eq!(
            (d.header.kid.as_deref(), d.header.typ.as_deref()),
            (Some("k"), Some("at+jwt"))
        );
    }

    #[test]
    fn the_length_limit_comes_before_parsing() {
        let c = b64url(format!(r#"{{"pad":"{}"}}"#, "x".repeat(MAX_JWT_LEN)).as_bytes());
        let t = eddsa_signed(&b64url(br#"{"alg":"EdDSA"}"#), &c);
        assert_eq!(decode(&t).unwrap_err(), DecodeError::TooLong);
        assert_eq!(
            decode(&".".repeat(MAX_JWT_LEN + 1)).unwrap_err(),
            DecodeError::TooLong
        );
    }
}
