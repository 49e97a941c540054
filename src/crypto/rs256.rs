//! RS256 (RSASSA-PKCS1-v1_5 with SHA-256, RFC 8017 §8.2) over [`rsa_kernel`], with the `rsa`
//! crate as the reference and the fallback for key shapes the kernel does not take.
//!
//! PKCS#1 v1.5 signatures are deterministic, so the kernel's output is byte-identical to the
//! reference's for the same key and message (tested below, natively, and in workerd by
//! `/__bench/sign?check=1`).

use super::rsa_kernel;
use jwt_compact::alg::{Rsa, RsaSignature};
use jwt_compact::{Algorithm, AlgorithmSignature};
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha256};

/// DER of `DigestInfo` for SHA-256 up to the digest (RFC 8017 §9.2, note 1).
const SHA256_PREFIX: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00,
    0x04, 0x20,
];

/// `EM = 0x00 || 0x01 || PS (0xff…) || 0x00 || DigestInfo(SHA-256(msg))`, `k` bytes.
fn encode(msg: &[u8], k: usize) -> Option<Vec<u8>> {
    let t = SHA256_PREFIX.len() + 32;
    if k < t + 11 {
        return None;
    }
    let mut em = Vec::with_capacity(k);
    em.extend_from_slice(&[0, 1]);
    em.resize(k - t - 1, 0xff);
    em.push(0);
    em.extend_from_slice(&SHA256_PREFIX);
    em.extend_from_slice(&Sha256::digest(msg));
    Some(em)
}

/// A private key prepared once (per isolate) for signing.
pub struct Signer {
    reference: RsaPrivateKey,
    fast: Option<rsa_kernel::PrivateKey>,
}

impl Signer {
    pub fn new(key: &RsaPrivateKey) -> Signer {
        Signer {
            reference: key.clone(),
            fast: prepare(key),
        }
    }

    /// The RS256 signature of `msg`: the kernel's (blinded, fault-checked), or the reference
    /// implementation's (also blinded) if the kernel does not take this key or declines.
    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        if let Some(fast) = &self.fast {
            if let Some(sig) = encode(msg, fast.public().size()).and_then(|em| fast.sign_raw(&em)) {
                return sig;
            }
        }
        self.sign_reference(msg)
    }

    /// The reference signature: `jwt-compact`'s RS256 over the `rsa` crate (blinded). Used
    /// for comparison in tests and the workerd self-check, and as the fallback.
    pub fn sign_reference(&self, msg: &[u8]) -> Vec<u8> {
        Rsa::rs256().sign(&self.reference, msg).as_bytes().into_owned()
    }

    /// Whether signing uses the kernel (false: the reference implementation).
    pub fn is_fast(&self) -> bool {
        self.fast.is_some()
    }
}

fn prepare(key: &RsaPrivateKey) -> Option<rsa_kernel::PrivateKey> {
    let [p, q] = key.primes() else {
        return None; // multi-prime keys: reference implementation
    };
    let qinv = key.crt_coefficient()?;
    rsa_kernel::PrivateKey::new(&rsa_kernel::PrivateParts {
        n: &key.n().to_bytes_be(),
        e: &key.e().to_bytes_be(),
        p: &p.to_bytes_be(),
        q: &q.to_bytes_be(),
        dp: &key.dp()?.to_bytes_be(),
        dq: &key.dq()?.to_bytes_be(),
        qinv: &qinv.to_bytes_be(),
    })
}

/// A public key prepared for verification.
pub struct Verifier {
    reference: RsaPublicKey,
    fast: Option<rsa_kernel::PublicKey>,
}

impl Verifier {
    pub fn new(key: &RsaPublicKey) -> Verifier {
        Verifier {
            fast: rsa_kernel::PublicKey::new(&key.n().to_bytes_be(), &key.e().to_bytes_be()),
            reference: key.clone(),
        }
    }

    /// Whether `sig` is an RS256 signature of `msg` (encode-and-compare, RFC 8017 §8.2.2).
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        match &self.fast {
            Some(fast) => match (fast.public_op(sig), encode(msg, fast.size())) {
                (Some(em), Some(want)) => em == want,
                _ => false,
            },
            None => verify_reference(&self.reference, msg, sig),
        }
    }
}

fn verify_reference(key: &RsaPublicKey, msg: &[u8], sig: &[u8]) -> bool {
    let Ok(sig) = RsaSignature::try_from_slice(sig) else {
        return false;
    };
    Rsa::rs256().verify_signature(&sig, key, msg)
}

/// One-off verification with a key not prepared in advance (apps' keys).
pub fn verify(key: &RsaPublicKey, msg: &[u8], sig: &[u8]) -> bool {
    Verifier::new(key).verify(msg, sig)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs8::DecodePrivateKey;

    #[test]
    fn signatures_are_byte_identical_to_the_reference_and_verify_both_ways() {
        let mut keys = vec![RsaPrivateKey::from_pkcs8_pem(crate::crypto::keys::tests::test_pem()).unwrap()];
        for bits in [2048, 3072] {
            keys.push(RsaPrivateKey::new(&mut rand_core::OsRng, bits).unwrap());
        }
        for key in &keys {
            let signer = Signer::new(key);
            assert!(signer.is_fast());
            let verifier = Verifier::new(&key.to_public_key());
            for msg in [
                &b""[..],
                b"a",
                b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0",
                &[7u8; 1000],
            ] {
                let sig = signer.sign(msg);
                assert_eq!(sig, signer.sign_reference(msg));
                assert!(verifier.verify(msg, &sig));
                assert!(verify_reference(&key.to_public_key(), msg, &sig));
                let mut bad = sig.clone();
                bad[10] ^= 1;
                assert!(!verifier.verify(msg, &bad));
                assert!(!verifier.verify(b"other", &sig));
                assert!(!verifier.verify(msg, &sig[1..]));
            }
        }
    }

    #[test]
    fn encoding_matches_rfc8017() {
        let em = encode(b"abc", 256).unwrap();
        assert_eq!(&em[..2], &[0, 1]);
        assert!(em[2..256 - 52].iter().all(|&b| b == 0xff));
        assert_eq!(em[256 - 52], 0);
        assert!(encode(b"abc", 61).is_none());
    }
}
