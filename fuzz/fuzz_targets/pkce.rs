//! `oauth::pkce::{check_challenge, verify}` against an independent RFC 7636 model (SHA-256 and
//! base64url from other crates). Input: a flag byte, then challenge, NUL, verifier, NUL, method.
//! Flag bits: 0 challenge present, 1 verifier present, 2-3 method (none / S256 / plain / the
//! raw third part), 4 public client.
#![no_main]
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use libfuzzer_sys::fuzz_target;
use portcullis::rules::pkce::{check_challenge, verify, well_formed};
use sha2::{Digest, Sha256};

fn model_well_formed(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~'))
}

fn s256(v: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes()))
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut parts = rest.splitn(3, |b| *b == 0);
    let mut next = || std::str::from_utf8(parts.next().unwrap_or_default()).ok();
    let (Some(c), Some(v), Some(raw)) = (next(), next(), next()) else {
        return;
    };
    let challenge = (flags & 1 != 0).then_some(c);
    let verifier = (flags & 2 != 0).then_some(v);
    let method = match (flags >> 2) & 3 {
        0 => None,
        1 => Some("S256"),
        2 => Some("plain"),
        _ => Some(raw),
    };
    let public = flags & 16 != 0;

    assert_eq!(well_formed(v), model_well_formed(v));

    // The authorization request.
    let expected = match (challenge, method) {
        (None, Some(_)) => None,
        (None, None) if public => None,
        (None, None) => Some(None),
        (Some(c), m) => match m.unwrap_or("plain") {
            "S256" if model_well_formed(c) && c.len() == 43 => Some(Some("S256")),
            "plain" if model_well_formed(c) => Some(Some("plain")),
            _ => None,
        },
    };
    assert_eq!(check_challenge(challenge, method, public).ok(), expected);

    // The token request (method as stored: S256, or anything else meaning plain).
    let ok = verify(challenge, method, verifier).is_ok();
    let model = match (challenge, verifier) {
        (None, None) => true,
        (Some(c), Some(v)) if model_well_formed(v) => match method {
            Some("S256") => s256(v) == c,
            _ => v == c,
        },
        _ => false,
    };
    assert_eq!(ok, model, "verify({challenge:?}, {method:?}, {verifier:?})");

    // Round trip: a well-formed verifier always satisfies its own S256 and plain challenges.
    if model_well_formed(v) {
        let c = s256(v);
        assert_eq!(
            check_challenge(Some(&c), Some("S256"), public).ok(),
            Some(Some("S256"))
        );
        assert!(verify(Some(&c), Some("S256"), Some(v)).is_ok());
        assert!(verify(Some(v), Some("plain"), Some(v)).is_ok());
        assert!(verify(None, None, Some(v)).is_err(), "PKCE downgrade accepted");
    }
});
