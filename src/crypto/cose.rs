//! Signature checks of passkeys (WebAuthn assertions), one per COSE algorithm accepted:
//! ES256 (`p256`, the DER signature WebAuthn specifies), EdDSA (`ed25519-dalek`, strict:
//! small-order and non-canonical points refused) and RS256 (our kernel, `rs256`).
//! A key that is not a valid key of its type verifies nothing.

use p256::ecdsa::signature::Verifier as _;

/// ES256: `x`, `y` the affine coordinates of the P-256 public key; `sig` ASN.1 DER
/// (WebAuthn §6.5.6: not the raw 64-byte form of JOSE).
pub fn verify_es256(x: &[u8; 32], y: &[u8; 32], msg: &[u8], sig: &[u8]) -> bool {
    let point = p256::EncodedPoint::from_affine_coordinates(x.into(), y.into(), false);
    let Ok(key) = p256::ecdsa::VerifyingKey::from_encoded_point(&point) else {
        return false;
    };
    let Ok(sig) = p256::ecdsa::Signature::from_der(sig) else {
        return false;
    };
    key.verify(msg, &sig).is_ok()
}

/// EdDSA over Ed25519 (RFC 8032), 64-byte signature.
pub fn verify_ed25519(x: &[u8; 32], msg: &[u8], sig: &[u8]) -> bool {
    let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(x) else {
        return false;
    };
    let Ok(sig) = ed25519_dalek::Signature::from_slice(sig) else {
        return false;
    };
    key.verify_strict(msg, &sig).is_ok()
}

/// RS256 (RSASSA-PKCS1-v1_5 with SHA-256) through the RSA kernel.
pub fn verify_rs256(n: &[u8], e: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    let key = rsa::RsaPublicKey::new(
        rsa::BigUint::from_bytes_be(n),
        rsa::BigUint::from_bytes_be(e),
    );
    match key {
        Ok(key) => super::rs256::verify(&key, msg, sig),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_algorithm_verifies_its_own_signatures_only() {
        use p256::ecdsa::signature::Signer as _;
        let msg = b"authenticator data || client data hash";

        let ec = p256::ecdsa::SigningKey::from_slice(&[0x11; 32]).unwrap();
        let point = ec.verifying_key().to_encoded_point(false);
        let (x, y): ([u8; 32], [u8; 32]) = (point.x().unwrap()[..].try_into().unwrap(), point.y().unwrap()[..].try_into().unwrap());
        let sig: p256::ecdsa::Signature = ec.sign(msg);
        let der = sig.to_der();
        assert!(verify_es256(&x, &y, msg, der.as_bytes()));
        assert!(!verify_es256(&x, &y, b"other", der.as_bytes()));
        assert!(!verify_es256(&x, &y, msg, &sig.to_bytes()), "the raw form is not DER");
        assert!(!verify_es256(&[0; 32], &[0; 32], msg, der.as_bytes()), "not a point");
        let mut y2 = y;
        y2[31] ^= 1;
        assert!(!verify_es256(&x, &y2, msg, der.as_bytes()), "off the curve");

        let ed = ed25519_dalek::SigningKey::from_bytes(&[0x22; 32]);
        let x = ed.verifying_key().to_bytes();
        let sig = ed25519_dalek::Signer::sign(&ed, msg).to_bytes();
        assert!(verify_ed25519(&x, msg, &sig));
        assert!(!verify_ed25519(&x, msg, &sig[..63]));
        let mut bad = sig;
        bad[0] ^= 1;
        assert!(!verify_ed25519(&x, msg, &bad));
        // The identity point (small order) is refused.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(!verify_ed25519(&identity, msg, &[0; 64]));

        use rsa::pkcs8::DecodePrivateKey;
        use rsa::traits::PublicKeyParts;
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(crate::crypto::keys::tests::test_pem()).unwrap();
        let sig = crate::crypto::rs256::Signer::new(&key).sign(msg);
        let (n, e) = (key.n().to_bytes_be(), key.e().to_bytes_be());
        assert!(verify_rs256(&n, &e, msg, &sig));
        assert!(!verify_rs256(&n, &e, b"other", &sig));
        assert!(!verify_rs256(&n, &[3], msg, &sig));
        assert!(!verify_rs256(&n, &e, msg, &sig[1..]));
    }
}
