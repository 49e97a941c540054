//! Passkeys (WebAuthn): the strict readers of `rules::webauthn` (CBOR, COSE keys,
//! authenticator data, client data) and the two ceremonies, on any bytes. The first byte picks
//! what the rest is:
//!
//! - 0: CBOR — what decodes re-encodes (canonically) to something that decodes to the same
//!   value; `decode` and `decode_prefix` agree.
//! - 1: a COSE key — what parses re-encodes to the same key.
//! - 2: authenticator data — BS only with BE; the stored COSE bytes parse to the same key; data
//!   without extensions re-encodes byte for byte.
//! - 3: client data JSON — the challenge is 16 to 64 bytes.
//! - 4: an attestation object for the registration ceremony (fixed good client data) — what is
//!   accepted is for this RP ID, with user presence and verification, and the credential id the
//!   browser reported.
//! - 5: authenticator data for the authentication ceremony, signed here with a fixed Ed25519 key
//!   (so the fuzzer reaches past the signature): accepted exactly when an independent model of
//!   the rules says so (parses, no attested credential, RP ID hash, UP, UV, backup eligibility
//!   unchanged, counter above 7), and never with a signature over other bytes.
#![no_main]
use ed25519_dalek::Signer;
use libfuzzer_sys::fuzz_target;
use portcullis::rules::webauthn::cbor::{self, write};
use portcullis::rules::webauthn::client_data::ClientData;
use portcullis::rules::webauthn::{auth_data, client_data, cose, verify_assertion, verify_registration, RelyingParty, Stored};
use sha2::{Digest, Sha256};

const RP: RelyingParty<'static> = RelyingParty { origin: "https://as.example", rp_id: "as.example" };

fn cd(kind: &str) -> (Vec<u8>, ClientData) {
    let raw = format!(r#"{{"type":"{kind}","challenge":"AAAAAAAAAAAAAAAAAAAAAA","origin":"https://as.example"}}"#).into_bytes();
    let parsed = client_data::parse(&raw).expect("fixed client data parses");
    (raw, parsed)
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 6 {
        0 => {
            let whole = cbor::decode(rest);
            if let Ok((v, tail)) = cbor::decode_prefix(rest) {
                assert_eq!(whole.is_ok(), tail.is_empty());
                let again = write::encode(&v);
                assert_eq!(cbor::decode(&again).as_ref(), Ok(&v), "re-encoding changed the value");
            } else {
                assert!(whole.is_err());
            }
        }
        1 => {
            if let Ok(k) = cose::parse(rest) {
                assert_eq!(cose::parse(&cose::encode(&k)), Ok(k));
            }
        }
        2 => {
            if let Ok(a) = auth_data::parse(rest) {
                assert!(a.flags & auth_data::FLAG_BS == 0 || a.backup_eligible());
                assert_eq!(a.attested.is_some(), a.flags & auth_data::FLAG_AT != 0);
                if let Some(att) = &a.attested {
                    assert_eq!(cose::parse(&att.public_key_cose).as_ref(), Ok(&att.public_key));
                    assert!((16..=1023).contains(&att.credential_id.len()));
                }
                if a.flags & auth_data::FLAG_ED == 0 {
                    let att = a.attested.as_ref().map(|t| (&t.aaguid, t.credential_id.as_slice(), t.public_key_cose.as_slice()));
                    assert_eq!(auth_data::encode(&a.rp_id_hash, a.flags, a.sign_count, att), rest);
                }
            }
        }
        3 => {
            if let Some(c) = client_data::parse(rest) {
                assert!((16..=64).contains(&c.challenge.len()));
                assert!(rest.len() <= client_data::MAX_LEN);
            }
        }
        4 => {
            let (_, c) = cd("webauthn.create");
            let id = [7u8; 16];
            if let Ok(r) = verify_registration(RP, &c, rest, &id) {
                assert_eq!(r.credential_id, id);
                assert!(r.user_verified);
            }
        }
        _ => {
            let key = ed25519_dalek::SigningKey::from_bytes(&[0x42; 32]);
            let stored_key = cose::CoseKey::Ed25519 { x: key.verifying_key().to_bytes() };
            let (raw, c) = cd("webauthn.get");
            let mut signed = rest.to_vec();
            signed.extend_from_slice(&Sha256::digest(&raw));
            let sig = key.sign(&signed).to_bytes();
            let verify = |k: &cose::CoseKey, msg: &[u8], s: &[u8]| match k {
                cose::CoseKey::Ed25519 { x } => portcullis::crypto::cose::verify_ed25519(x, msg, s),
                _ => false,
            };
            let stored = || Stored { key: &stored_key, sign_count: 7, backup_eligible: false };
            let got = verify_assertion(RP, &c, &raw, rest, &sig, stored(), verify);
            let rp_hash: [u8; 32] = Sha256::digest(b"as.example").into();
            let model = auth_data::parse(rest).is_ok_and(|a| {
                a.attested.is_none()
                    && a.rp_id_hash == rp_hash
                    && a.user_present()
                    && a.user_verified()
                    && !a.backup_eligible()
                    && a.sign_count > 7
            });
            assert_eq!(got.is_ok(), model, "{got:?}");
            if let Ok(a) = got {
                assert_eq!(Some(a.sign_count), auth_data::parse(rest).ok().map(|d| d.sign_count));
            }
            // The same signature over other bytes never verifies.
            let mut other = rest.to_vec();
            other.push(0);
            assert!(verify_assertion(RP, &c, &raw, &other, &sig, stored(), verify).is_err());
        }
    }
});
