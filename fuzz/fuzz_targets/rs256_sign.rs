//! RS256 signing with the server's own RSA kernel (`crypto::rs256::Signer::sign`: CRT, blinding
//! refreshed every 32 signatures, fault check) for the fixed fuzz key and any message: the
//! signature is byte-identical to the `rsa` crate's (PKCS#1 v1.5 is deterministic), verifies
//! with the kernel's and the crate's verifiers, and stops verifying when one bit changes.
//! About 50-100 ms an input under ASan: a target for minutes, not millions of inputs.
#![no_main]
use libfuzzer_sys::fuzz_target;
use portcullis::crypto::rs256;
use std::sync::OnceLock;

struct Keys {
    signer: rs256::Signer,
    verifier: rs256::Verifier,
    public: rsa::RsaPublicKey,
}

fn keys() -> &'static Keys {
    static K: OnceLock<Keys> = OnceLock::new();
    K.get_or_init(|| {
        let private = portcullis_fuzz::private_key();
        let public = private.to_public_key();
        Keys {
            signer: rs256::Signer::new(private),
            verifier: rs256::Verifier::new(&public),
            public,
        }
    })
}

fuzz_target!(|msg: &[u8]| {
    let k = keys();
    let sig = k.signer.sign(msg);
    assert_eq!(
        sig,
        k.signer.sign_reference(msg),
        "signature differs from the rsa crate's"
    );
    assert!(k.verifier.verify(msg, &sig));
    assert!(portcullis_fuzz::rs256_reference_verify(&k.public, msg, &sig));
    let mut bad = sig.clone();
    let bit = msg.len() % (bad.len() * 8);
    bad[bit / 8] ^= 1 << (bit % 8);
    assert!(!k.verifier.verify(msg, &bad), "a corrupted signature verified");
});
