//! Passkeys (WebAuthn Level 3): the relying party's checks of a registration (§7.1) and of an
//! authentication (§7.2), pure and in the order the specification gives, over the strict
//! readers of this module: `cbor` (the subset of RFC 8949 used), `cose` (the credential public
//! key: ES256, EdDSA, RS256), `auth_data` (authenticator data), `client_data`
//! (`clientDataJSON`).
//!
//! What is not here: the challenge, which is single use and lives in a Durable Object
//! (`objects::passkey`; the caller takes it before calling these and passes its purpose's
//! checks), the signature arithmetic (a closure, `crypto::cose` in the server), and the
//! counter's atomic update (`objects::passkey::Use`, which applies [`counter_ok`] again).
//!
//! Attestation: `none` is what is asked for; a statement of another format is ignored (not
//! verified: no trust anchors are kept), as most relying parties do, but the attestation
//! object and its authenticator data must still parse strictly.

pub mod auth_data;
pub mod cbor;
pub mod client_data;
pub mod cose;

use crate::util::{ct_eq, sha256};
use auth_data::AuthData;
use cbor::{text_key, Value};
use client_data::ClientData;
use cose::CoseKey;

/// Where the ceremony must have happened: the tenant's issuer origin and its host (the RP ID).
#[derive(Debug, Clone, Copy)]
pub struct RelyingParty<'a> {
    pub origin: &'a str,
    pub rp_id: &'a str,
}

/// Why a registration or an authentication was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    ClientData,
    /// `webauthn.create` where `webauthn.get` was due, or the reverse.
    Type,
    /// Another origin (a phishing site, another tenant's host).
    Origin,
    /// The ceremony ran in a frame of another origin.
    CrossOrigin,
    Attestation(&'static str),
    AuthData(auth_data::AuthDataError),
    /// The authenticator data is for another RP ID.
    RpId,
    UserPresence,
    UserVerification,
    /// A registration without a credential, an authentication with one, or a credential id
    /// other than the one the browser reported.
    Credential,
    Signature,
    /// The signature counter did not increase: the authenticator may be cloned.
    Counter,
    /// The credential says it can be synced now and could not before (or the reverse).
    BackupEligibility,
}

impl Refusal {
    pub fn describe(self) -> &'static str {
        match self {
            Refusal::ClientData => "the client data is not readable WebAuthn client data",
            Refusal::Type => "the client data is for another kind of ceremony",
            Refusal::Origin => "the passkey was used on another site",
            Refusal::CrossOrigin => "the passkey was used inside a frame of another site",
            Refusal::Attestation(why) => why,
            Refusal::AuthData(e) => e.describe(),
            Refusal::RpId => "the passkey is for another site (RP ID)",
            Refusal::UserPresence => "the authenticator did not see the person (user presence)",
            Refusal::UserVerification => "the authenticator did not verify the person (PIN or biometric)",
            Refusal::Credential => "the credential does not match what the browser reported",
            Refusal::Signature => "the passkey's signature is not valid",
            Refusal::Counter => "the passkey's signature counter went backwards: the authenticator may have been cloned. Log in with your password and remove this passkey",
            Refusal::BackupEligibility => "the passkey's backup eligibility changed",
        }
    }
}

/// WebAuthn §6.1.1: a counter that is not zero on either side must grow; a counter that stays
/// or goes back means two authenticators hold the key.
pub fn counter_ok(stored: u32, presented: u32) -> bool {
    (stored == 0 && presented == 0) || presented > stored
}

/// RFC 8176 authentication method references of a passkey log-in: proof of possession of a
/// key — `hwk` when the credential cannot leave its authenticator (not backup eligible),
/// `swk` when it may be synced (BE: it lives in software keychains) —, `user` (the
/// authenticator tested the person's presence), and `mfa` when it also verified them (PIN or
/// biometric: a second factor with the key).
pub fn amr(user_verified: bool, backup_eligible: bool) -> Vec<String> {
    let key = if backup_eligible { "swk" } else { "hwk" };
    let mut amr = vec![key.to_owned(), "user".to_owned()];
    if user_verified {
        amr.push("mfa".to_owned());
    }
    amr
}

fn check_client_data(rp: RelyingParty<'_>, cd: &ClientData, kind: &str) -> Result<(), Refusal> {
    if cd.kind != kind {
        return Err(Refusal::Type);
    }
    if cd.origin != rp.origin {
        return Err(Refusal::Origin);
    }
    if cd.cross_origin || cd.top_origin.as_deref().is_some_and(|t| t != rp.origin) {
        return Err(Refusal::CrossOrigin);
    }
    Ok(())
}

fn check_auth_data(rp: RelyingParty<'_>, a: &AuthData, require_uv: bool) -> Result<(), Refusal> {
    if !ct_eq(&a.rp_id_hash, &sha256(rp.rp_id.as_bytes())) {
        return Err(Refusal::RpId);
    }
    if !a.user_present() {
        return Err(Refusal::UserPresence);
    }
    if require_uv && !a.user_verified() {
        return Err(Refusal::UserVerification);
    }
    Ok(())
}

/// A credential that passed registration: what to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub credential_id: Vec<u8>,
    pub public_key_cose: Vec<u8>,
    pub public_key: CoseKey,
    pub sign_count: u32,
    pub user_verified: bool,
    pub backup_eligible: bool,
    pub backed_up: bool,
    pub aaguid: [u8; 16],
    pub fmt: String,
}

/// The attestation object's authenticator data, having checked its format (`none` with an
/// empty statement, or another format whose statement is ignored).
fn attestation(bytes: &[u8]) -> Result<(String, &[u8]), Refusal> {
    let not_one = Refusal::Attestation("the attestation object is not readable");
    let v = cbor::decode(bytes).map_err(|_| not_one)?;
    let map = v.as_map().ok_or(not_one)?;
    let fmt = text_key(map, "fmt")
        .and_then(Value::as_text)
        .filter(|f| !f.is_empty() && f.len() <= 32)
        .ok_or(Refusal::Attestation("the attestation object has no format"))?;
    let stmt = text_key(map, "attStmt")
        .and_then(Value::as_map)
        .ok_or(Refusal::Attestation("the attestation object has no statement"))?;
    if fmt == "none" && !stmt.is_empty() {
        return Err(Refusal::Attestation("a `none` attestation has a statement"));
    }
    let auth = text_key(map, "authData")
        .and_then(Value::as_bytes)
        .ok_or(Refusal::Attestation("the attestation object has no authenticator data"))?;
    Ok((fmt.to_owned(), auth))
}

/// WebAuthn §7.1 steps 5–27 (registration), the challenge already matched. `raw_id` is the
/// credential id the browser reported; user verification is always required.
pub fn verify_registration(
    rp: RelyingParty<'_>,
    cd: &ClientData,
    attestation_object: &[u8],
    raw_id: &[u8],
) -> Result<Registered, Refusal> {
    check_client_data(rp, cd, "webauthn.create")?;
    let (fmt, auth) = attestation(attestation_object)?;
    let a = auth_data::parse(auth).map_err(Refusal::AuthData)?;
    check_auth_data(rp, &a, true)?;
    let Some(att) = &a.attested else {
        return Err(Refusal::Credential);
    };
    if att.credential_id != raw_id {
        return Err(Refusal::Credential);
    }
    Ok(Registered {
        credential_id: att.credential_id.clone(),
        public_key_cose: att.public_key_cose.clone(),
        public_key: att.public_key.clone(),
        sign_count: a.sign_count,
        user_verified: a.user_verified(),
        backup_eligible: a.backup_eligible(),
        backed_up: a.backed_up(),
        aaguid: att.aaguid,
        fmt,
    })
}

/// What an authentication proved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asserted {
    pub sign_count: u32,
    pub user_verified: bool,
    pub backed_up: bool,
}

/// The stored credential an authentication is checked against.
pub struct Stored<'a> {
    pub key: &'a CoseKey,
    pub sign_count: u32,
    pub backup_eligible: bool,
}

/// WebAuthn §7.2 steps 11–24 (authentication), the challenge already matched and the
/// credential found: `verify(key, message, signature)` is the signature check.
pub fn verify_assertion(
    rp: RelyingParty<'_>,
    cd: &ClientData,
    raw_client_data: &[u8],
    authenticator_data: &[u8],
    signature: &[u8],
    stored: Stored<'_>,
    verify: impl FnOnce(&CoseKey, &[u8], &[u8]) -> bool,
) -> Result<Asserted, Refusal> {
    check_client_data(rp, cd, "webauthn.get")?;
    let a = auth_data::parse(authenticator_data).map_err(Refusal::AuthData)?;
    if a.attested.is_some() {
        return Err(Refusal::Credential);
    }
    check_auth_data(rp, &a, true)?;
    let mut signed = authenticator_data.to_vec();
    signed.extend_from_slice(&sha256(raw_client_data));
    if !verify(stored.key, &signed, signature) {
        return Err(Refusal::Signature);
    }
    if a.backup_eligible() != stored.backup_eligible {
        return Err(Refusal::BackupEligibility);
    }
    if !counter_ok(stored.sign_count, a.sign_count) {
        return Err(Refusal::Counter);
    }
    Ok(Asserted {
        sign_count: a.sign_count,
        user_verified: a.user_verified(),
        backed_up: a.backed_up(),
    })
}

#[cfg(test)]
mod tests {
    use super::auth_data::{encode as auth, FLAG_AT, FLAG_BE, FLAG_UP, FLAG_UV};
    use super::cbor::write::encode;
    use super::*;

    const RP: RelyingParty<'static> = RelyingParty {
        origin: "https://as.example",
        rp_id: "as.example",
    };
    const ID: [u8; 20] = [4; 20];

    fn cd(kind: &str, origin: &str) -> ClientData {
        ClientData {
            kind: kind.into(),
            challenge: vec![1; 32],
            origin: origin.into(),
            cross_origin: false,
            top_origin: None,
        }
    }

    fn att_obj(fmt: &str, stmt: Vec<(Value<'static>, Value<'static>)>, auth_data: &[u8]) -> Vec<u8> {
        encode(&Value::Map(vec![
            (Value::Text("fmt"), Value::Text(Box::leak(fmt.to_owned().into_boxed_str()))),
            (Value::Text("attStmt"), Value::Map(stmt)),
            (Value::Text("authData"), Value::Bytes(Box::leak(auth_data.to_vec().into_boxed_slice()))),
        ]))
    }

    fn key() -> Vec<u8> {
        cose::encode(&CoseKey::Ed25519 { x: [9; 32] })
    }

    fn reg_auth(rp_id: &str, flags: u8) -> Vec<u8> {
        auth(&sha256(rp_id.as_bytes()), flags, 0, Some((&[0; 16], &ID, &key())))
    }

    #[test]
    fn a_registration_is_checked_step_by_step() {
        let good = att_obj("none", vec![], &reg_auth("as.example", FLAG_UP | FLAG_UV | FLAG_AT | FLAG_BE));
        let r = verify_registration(RP, &cd("webauthn.create", RP.origin), &good, &ID).unwrap();
        assert_eq!((r.credential_id.as_slice(), r.backup_eligible, r.fmt.as_str()), (&ID[..], true, "none"));
        // A `packed` statement is ignored, not verified.
        let packed = att_obj(
            "packed",
            vec![(Value::Text("alg"), Value::Nint(6)), (Value::Text("sig"), Value::Bytes(b"junk"))],
            &reg_auth("as.example", FLAG_UP | FLAG_UV | FLAG_AT),
        );
        assert!(verify_registration(RP, &cd("webauthn.create", RP.origin), &packed, &ID).is_ok());

        let refusals: Vec<(ClientData, Vec<u8>, &[u8], Refusal)> = vec![
            (cd("webauthn.get", RP.origin), good.clone(), &ID, Refusal::Type),
            (cd("webauthn.create", "https://evil.example"), good.clone(), &ID, Refusal::Origin),
            (cd("webauthn.create", "https://as.example:8443"), good.clone(), &ID, Refusal::Origin),
            (cd("webauthn.create", "http://as.example"), good.clone(), &ID, Refusal::Origin),
            (
                ClientData { cross_origin: true, ..cd("webauthn.create", RP.origin) },
                good.clone(),
                &ID,
                Refusal::CrossOrigin,
            ),
            (
                cd("webauthn.create", RP.origin),
                att_obj("none", vec![], &reg_auth("evil.example", FLAG_UP | FLAG_UV | FLAG_AT)),
                &ID,
                Refusal::RpId,
            ),
            (
                cd("webauthn.create", RP.origin),
                att_obj("none", vec![], &reg_auth("as.example", FLAG_UV | FLAG_AT)),
                &ID,
                Refusal::UserPresence,
            ),
            (
                cd("webauthn.create", RP.origin),
                att_obj("none", vec![], &reg_auth("as.example", FLAG_UP | FLAG_AT)),
                &ID,
                Refusal::UserVerification,
            ),
            (
                cd("webauthn.create", RP.origin),
                att_obj("none", vec![], &auth(&sha256(b"as.example"), FLAG_UP | FLAG_UV, 0, None)),
                &ID,
                Refusal::Credential,
            ),
            (cd("webauthn.create", RP.origin), good.clone(), &[5; 20], Refusal::Credential),
            (
                cd("webauthn.create", RP.origin),
                att_obj("none", vec![(Value::Text("sig"), Value::Bytes(b"x"))], &reg_auth("as.example", FLAG_UP | FLAG_UV | FLAG_AT)),
                &ID,
                Refusal::Attestation("a `none` attestation has a statement"),
            ),
            (cd("webauthn.create", RP.origin), good[..good.len() - 1].to_vec(), &ID, Refusal::Attestation("the attestation object is not readable")),
        ];
        for (c, obj, id, want) in refusals {
            assert_eq!(verify_registration(RP, &c, &obj, id), Err(want), "{c:?}");
        }
    }

    #[test]
    fn an_assertion_is_checked_step_by_step() {
        let k = CoseKey::Ed25519 { x: [9; 32] };
        let stored = |count, be| Stored { key: &k, sign_count: count, backup_eligible: be };
        let data = |flags, count| auth(&sha256(b"as.example"), flags, count, None);
        let ok = |_: &CoseKey, _: &[u8], sig: &[u8]| sig == b"good";
        let get = cd("webauthn.get", RP.origin);
        let run = |c: &ClientData, a: &[u8], sig: &[u8], s: Stored<'_>| verify_assertion(RP, c, b"{}", a, sig, s, ok);
        assert_eq!(
            run(&get, &data(FLAG_UP | FLAG_UV, 5), b"good", stored(4, false)),
            Ok(Asserted { sign_count: 5, user_verified: true, backed_up: false })
        );
        assert!(run(&get, &data(FLAG_UP | FLAG_UV, 0), b"good", stored(0, false)).is_ok());
        let cases = [
            (cd("webauthn.create", RP.origin), data(FLAG_UP | FLAG_UV, 5), &b"good"[..], stored(0, false), Refusal::Type),
            (cd("webauthn.get", "https://as.example.evil"), data(FLAG_UP | FLAG_UV, 5), b"good", stored(0, false), Refusal::Origin),
            (get.clone(), auth(&sha256(b"other.example"), FLAG_UP | FLAG_UV, 5, None), b"good", stored(0, false), Refusal::RpId),
            (get.clone(), data(FLAG_UV, 5), b"good", stored(0, false), Refusal::UserPresence),
            (get.clone(), data(FLAG_UP, 5), b"good", stored(0, false), Refusal::UserVerification),
            (get.clone(), data(FLAG_UP | FLAG_UV, 5), b"bad", stored(0, false), Refusal::Signature),
            (get.clone(), data(FLAG_UP | FLAG_UV, 5), b"good", stored(5, false), Refusal::Counter),
            (get.clone(), data(FLAG_UP | FLAG_UV, 4), b"good", stored(5, false), Refusal::Counter),
            (get.clone(), data(FLAG_UP | FLAG_UV, 0), b"good", stored(5, false), Refusal::Counter),
            (get.clone(), data(FLAG_UP | FLAG_UV | FLAG_BE, 6), b"good", stored(5, false), Refusal::BackupEligibility),
            (get.clone(), reg_auth("as.example", FLAG_UP | FLAG_UV | FLAG_AT), b"good", stored(0, false), Refusal::Credential),
        ];
        for (c, a, sig, s, want) in cases {
            assert_eq!(run(&c, &a, sig, s), Err(want), "{want:?}");
        }
    }

    #[test]
    fn counter_rules_and_amr() {
        for (stored, new, ok) in [(0, 0, true), (0, 1, true), (1, 2, true), (1, 1, false), (2, 1, false), (7, 0, false), (u32::MAX, u32::MAX, false)] {
            assert_eq!(counter_ok(stored, new), ok, "{stored} {new}");
        }
        assert_eq!(amr(true, false), ["hwk", "user", "mfa"]);
        assert_eq!(amr(false, true), ["swk", "user"]);
    }
}
