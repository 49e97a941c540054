//! An upstream identity provider's ID token (`accounts::upstream::verify_id_token`, sign-in
//! with another provider) against a JWKS holding the fuzz key: never panics; whatever it accepts
//! verifies under the `rsa` crate's reference RS256, names the expected issuer, audience and
//! nonce, and is unexpired (within the skew). The same bytes as `UPSTREAM_PROVIDERS`
//! (`config::parse_upstreams`) never panic either, and every provider it keeps is well formed.
#![no_main]
use libfuzzer_sys::fuzz_target;
use portcullis::accounts::upstream::{verify_id_token, SKEW};
use portcullis_fuzz::{private_key, public_jwk, rs256_reference_verify, NOW};

pub const IDP: &str = "https://idp.example";
pub const RP: &str = "fuzz-rp";
pub const NONCE: &str = "nonce-0";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let jwks = serde_json::json!({"keys": [public_jwk()]});
    if let Ok(who) = verify_id_token(text, &jwks, IDP, RP, NONCE, NOW) {
        let t = portcullis::crypto::jwt::decode(text).expect("accepted tokens decode");
        assert_eq!(t.header.alg, "RS256");
        let (input, sig) = text.rsplit_once('.').expect("three parts");
        let sig = portcullis::util::b64url_decode(sig).expect("base64url signature");
        assert!(rs256_reference_verify(
            &private_key().to_public_key(),
            input.as_bytes(),
            &sig
        ));
        assert_eq!(t.str_claim("iss"), Some(IDP));
        assert_eq!(t.str_claim("nonce"), Some(NONCE));
        assert!(t.time_claim("exp").ok().flatten().is_some_and(|e| e + SKEW > NOW));
        assert!(!who.sub.is_empty() && who.sub.len() <= 255);
    }
    let (ok, _problems) = portcullis::config::parse_upstreams(text, |_| None);
    for p in ok {
        assert!(!p.id.is_empty() && p.id.len() <= 32);
        assert!(p
            .id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
        if let portcullis::config::UpstreamKind::Oidc { issuer } = &p.kind {
            assert!(portcullis::config::upstream_url_ok(issuer));
        }
    }
});
