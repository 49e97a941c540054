//! `crypto::jwt::decode` + `Untrusted::verify_rs256` with a fixed key, and `SigningKeys::verify`
//! (choice by `kid`). Never panics; agrees exactly with the `rsa` crate's RS256 verification
//! (a differential check of the server's own RSA code); a token that verifies is exactly what
//! the key signs (RSASSA-PKCS1-v1_5 is deterministic), with `alg` RS256 and no `crit`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use portcullis::crypto::jwt;
use portcullis::crypto::keys::SigningKeys;
use std::sync::OnceLock;

struct Keys {
    signing: SigningKeys,
    public: rsa::RsaPublicKey,
    private: rsa::RsaPrivateKey,
}

fn keys() -> &'static Keys {
    static K: OnceLock<Keys> = OnceLock::new();
    K.get_or_init(|| {
        let private = portcullis_fuzz::private_key().clone();
        Keys {
            signing: portcullis_fuzz::signing_keys(),
            public: private.to_public_key(),
            private,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let k = keys();
    let Ok(t) = jwt::decode(token) else {
        return;
    };
    assert!(token.len() <= jwt::MAX_JWT_LEN);
    let _ = t.str_claim("iss");
    for name in ["exp", "iat", "nbf"] {
        if let Ok(Some(v)) = t.time_claim(name) {
            let _ = v.checked_add(1);
        }
    }
    let direct = t.verify_rs256(&k.public);
    let by_kid = k.signing.verify(&t);
    if by_kid {
        assert!(direct, "SigningKeys::verify accepted what verify_rs256 refuses");
    }
    let mut parts = token.split('.');
    let (h, c, s) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let input = format!("{h}.{c}");
    let sig = portcullis::util::b64url_decode(s).expect("decoded once already");
    // Differential: the server's RS256 check agrees with the `rsa` crate's.
    let pinned = t.header.alg == "RS256" && t.header.crit.is_none();
    let reference = pinned && portcullis_fuzz::rs256_reference_verify(&k.public, input.as_bytes(), &sig);
    assert_eq!(direct, reference, "verify_rs256 and the rsa crate disagree");
    if direct {
        // PKCS#1 v1.5 is deterministic: the only valid signature is the key's own.
        let expected = portcullis_fuzz::rs256_reference_sign(&k.private, input.as_bytes());
        assert_eq!(sig, expected, "a signature other than the key's own verified");
        if t.header
            .kid
            .as_deref()
            .is_none_or(|kid| kid == portcullis_fuzz::kid())
        {
            assert!(by_kid, "SigningKeys::verify refused a good token");
        }
    }
});
