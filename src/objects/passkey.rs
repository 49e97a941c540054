//! Passkeys (WebAuthn): `passkeys:<user id>` holds one person's credentials, and
//! `webauthn:<sha256 of a challenge>` holds one outstanding challenge until it is taken.
//!
//! A challenge is taken (read and deleted in one command), so however many requests race with
//! the same signed client data, one gets it. A credential's signature counter is checked and
//! raised in one command ([`Use`]), so two log-ins racing with one counter value (a cloned
//! authenticator, or a replayed assertion) cannot both pass.

use super::protocol::{kind, load, op, save, Name};
use crate::error::{Error, ErrorCode};
use serde::{Deserialize, Serialize};

kind!(Passkeys = "passkeys",
    /// The credentials of the person with this user id.
    object);
kind!(Challenge = "webauthn");

/// The object of the challenge whose SHA-256 (hex) is `hash`.
pub fn challenge(hash: &str) -> Name<Challenge> {
    Name::of(hash)
}

/// At most this many passkeys per person.
pub const MAX_PASSKEYS: usize = 20;

fn cred_key(id: &str) -> String {
    format!("cred:{id}")
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasskeyRecord {
    /// The credential id, base64url.
    pub id: String,
    /// The COSE public key as the authenticator encoded it, base64url.
    pub public_key: String,
    /// Its COSE algorithm (-7 ES256, -8 EdDSA, -257 RS256).
    pub alg: i64,
    pub sign_count: u32,
    pub name: String,
    pub created_at: i64,
    #[serde(default)]
    pub last_used_at: Option<i64>,
    pub backup_eligible: bool,
    pub backed_up: bool,
    /// The authenticator model (AAGUID, hex; zeros under `none` attestation).
    #[serde(default)]
    pub aaguid: String,
    #[serde(default)]
    pub transports: Vec<String>,
}

op! {
    /// Adds a credential: refused (409) when the person already has this credential id or
    /// [`MAX_PASSKEYS`] of them.
    Add in Passkeys => () {
        pub record: PasskeyRecord,
    }
    |cmd, kv, _now| {
        let key = cred_key(&cmd.record.id);
        if kv.get(&key)?.is_some() {
            return Err(Error::new(ErrorCode::LimitReached, "this passkey is already registered"));
        }
        if kv.list("cred:", None, MAX_PASSKEYS)?.len() >= MAX_PASSKEYS {
            return Err(Error::new(
                ErrorCode::LimitReached,
                format!("at most {MAX_PASSKEYS} passkeys per account: remove one first"),
            ));
        }
        save(kv, &key, &cmd.record, None)
    }
}

op! {
    /// Every credential of the person, oldest key first (by id order).
    List in Passkeys => Vec<PasskeyRecord> {}
    |_, kv, _now| {
        kv.list("cred:", None, MAX_PASSKEYS + 1)?
            .into_iter()
            .map(|(k, v)| serde_json::from_str(&v).map_err(|_| Error::server(format!("stored '{k}' is unreadable"))))
            .collect()
    }
}

op! {
    Get in Passkeys => Option<PasskeyRecord> {
        pub id: String,
    }
    |cmd, kv, _now| {
        load(kv, &cred_key(&cmd.id))
    }
}

op! {
    /// Removes a credential; `false` when there was none.
    Remove in Passkeys => bool {
        pub id: String,
    }
    |cmd, kv, _now| {
        let key = cred_key(&cmd.id);
        let had = kv.get(&key)?.is_some();
        kv.delete(&key)?;
        Ok(had)
    }
}

op! {
    /// Records a verified use: the counter rule (`rules::webauthn::counter_ok`) is applied
    /// against what is stored now, atomically, and the new counter kept. Refused with
    /// `access_denied` when the counter did not grow (a cloned authenticator, or the same
    /// assertion twice) or the credential was removed meanwhile.
    Use in Passkeys => PasskeyRecord {
        pub id: String,
        pub sign_count: u32,
        pub backed_up: bool,
    }
    |cmd, kv, now| {
        let key = cred_key(&cmd.id);
        let Some(mut record) = load::<PasskeyRecord>(kv, &key)? else {
            return Err(Error::new(ErrorCode::AccessDenied, "this passkey is not registered"));
        };
        if !crate::rules::webauthn::counter_ok(record.sign_count, cmd.sign_count) {
            return Err(Error::new(
                ErrorCode::AccessDenied,
                crate::rules::webauthn::Refusal::Counter.describe(),
            ));
        }
        record.sign_count = cmd.sign_count;
        record.backed_up = cmd.backed_up;
        record.last_used_at = Some(now);
        save(kv, &key, &record, None)?;
        Ok(record)
    }
}

/// What a challenge was issued for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    Register,
    Login,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChallengeRecord {
    pub purpose: Purpose,
    /// Registration: the signed-in person it was issued to.
    #[serde(default)]
    pub user_id: Option<String>,
    /// SHA-256 (hex) of the CSRF cookie of the browser it was issued to.
    pub browser: String,
    pub expires_at: i64,
}

const CHALLENGE: &str = "challenge";

op! {
    /// Keeps a new challenge until `expires_at`; refused if the object already holds one
    /// (challenges are 32 random bytes: it never happens by chance).
    Issue in Challenge => () {
        pub record: ChallengeRecord,
    }
    |cmd, kv, _now| {
        if kv.get(CHALLENGE)?.is_some() {
            return Err(Error::server("challenge already issued"));
        }
        let exp = cmd.record.expires_at;
        save(kv, CHALLENGE, &cmd.record, Some(exp))
    }
}

op! {
    /// The challenge, if it is outstanding and not expired; it is gone afterwards either way.
    Take in Challenge => Option<ChallengeRecord> {}
    |_, kv, now| {
        let found = load::<ChallengeRecord>(kv, CHALLENGE)?;
        kv.delete(CHALLENGE)?;
        Ok(found.filter(|c| c.expires_at > now))
    }
}
