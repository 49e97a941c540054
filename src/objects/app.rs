//! `app:<client_id>`: the authoritative app record, client authentication, assertion replay,
//! and whether a token is still alive. The app's codes, grants and refresh tokens live in
//! objects of their own, one per grant (`grants.rs`, `grant:<gid>`); they are ended by this
//! object's epoch all the same, since every grant command is given the epoch its client just
//! authenticated under here and refuses a grant of another.

use super::counter;
use super::kv::Kv;
use super::protocol::{kind, load, op, save};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{App, AppRecord, Status};
use crate::util::ct_eq;
use serde::{Deserialize, Serialize};

kind!(AppObject = "app", object);

/// What most app commands answer: the app as it now is, and its epoch (tokens minted under an
/// older epoch are dead).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Client {
    pub app: App,
    pub epoch: u64,
}

const RECORD: &str = "record";
/// Compared against when a client has no secret, so both paths cost the same.
const DUMMY_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

pub(super) fn record(kv: &dyn Kv) -> Result<Option<AppRecord>> {
    load(kv, RECORD)
}

fn store(kv: &mut dyn Kv, rec: &AppRecord) -> Result<()> {
    save(kv, RECORD, rec, None)
}

/// What a change answers when `expect` is not the revision it would make: another change came
/// first (the caller fences the replicas again and retries, `apps::replicas::change`).
pub const CHANGED_MEANWHILE: &str = "the app changed meanwhile; try again";

/// Every change makes the next revision. `expect` must be that revision (the one the caller
/// fenced the app's replicas at, issue 17), else nothing changes. A change without one comes
/// from a worker older than the replicas (during a gradual deployment, or after a rollback):
/// it would leave every replica serving the old record, so it is refused (fails closed).
fn bump(rec: &mut AppRecord, expect: Option<u64>) -> Result<()> {
    let next = rec.revision.saturating_add(1);
    let Some(expect) = expect else {
        return Err(Error::new(
            ErrorCode::TemporarilyUnavailable,
            "an unfenced change of the app (from an older version of the worker) is refused",
        ));
    };
    if expect != next {
        return Err(Error::new(ErrorCode::TemporarilyUnavailable, CHANGED_MEANWHILE).with_header("retry-after", "1"));
    }
    rec.revision = next;
    Ok(())
}

fn live(kv: &dyn Kv) -> Result<AppRecord> {
    match record(kv)? {
        Some(r) if r.app.status != Status::Deleted => Ok(r),
        _ => Err(Error::not_found("no such app")),
    }
}

/// The record of an active app, or `invalid_client` saying why not.
pub(super) fn active(kv: &dyn Kv) -> Result<AppRecord> {
    match record(kv)? {
        Some(r) if r.app.status == Status::Active => Ok(r),
        Some(r) if r.app.status == Status::Disabled => Err(Error::invalid_client("the client is disabled")),
        _ => Err(Error::invalid_client("unknown client")),
    }
}

/// The client of an active record, or `invalid_client` saying why not (as [`active`]).
pub(super) fn active_client(rec: &AppRecord) -> Result<Client> {
    match rec.app.status {
        Status::Active => Ok(client(rec)),
        Status::Disabled => Err(Error::invalid_client("the client is disabled")),
        _ => Err(Error::invalid_client("unknown client")),
    }
}

/// Changes the record of an app that is not deleted, stamps `updated_at`, stores it and
/// answers the app as it now is.
fn edit(
    kv: &mut dyn Kv,
    now: i64,
    expect: Option<u64>,
    change: impl FnOnce(&mut AppRecord) -> Result<()>,
) -> Result<Client> {
    let mut rec = live(kv)?;
    change(&mut rec)?;
    bump(&mut rec, expect)?;
    rec.app.updated_at = now;
    store(kv, &rec)?;
    Ok(client(&rec))
}

fn client(rec: &AppRecord) -> Client {
    Client {
        app: rec.app.clone(),
        epoch: rec.epoch,
    }
}

op! {
    /// Stores a new app (`invalid_request` if the id is taken).
    Create in AppObject => Client {
        pub record: AppRecord,
    }
    |cmd, kv, _now| {
        if record(kv)?.is_some() {
            return Err(Error::invalid_request("client_id already exists"));
        }
        store(kv, &cmd.record)?;
        Ok(client(&cmd.record))
    }
}

op! {
    /// The app, whatever its status (`not_found` if it never existed).
    Get in AppObject => Client {}
    |_, kv, _now| {
        record(kv)?
            .map(|r| client(&r))
            .ok_or_else(|| Error::not_found("no such app"))
    }
}

op! {
    /// Replaces the app's metadata. A new status or a new authentication method starts a new
    /// epoch, ending every token from before.
    Update in AppObject => Client {
        pub app: App,
        /// The revision this change makes, when the caller fenced the replicas at it.
        #[serde(default)]
        pub expect: Option<u64>,
    }
    |cmd, kv, now| {
        let app = cmd.app;
        let mut rec = live(kv)?;
        bump(&mut rec, cmd.expect)?;
        if app.client_id != rec.app.client_id {
            return Err(Error::invalid_request("client_id cannot change"));
        }
        if app.status != rec.app.status {
            // Disabling (or re-enabling) starts a new epoch: tokens from before stay dead.
            rec.epoch += 1;
        }
        if app.token_endpoint_auth_method != rec.app.token_endpoint_auth_method {
            // A new way to authenticate ends the old one: the secret goes (a secret-based method
            // gets a fresh one by regeneration) and so does every token obtained before.
            if !app.uses_secret() || !rec.app.uses_secret() {
                rec.secret_hash = None;
            }
            rec.epoch += 1;
        }
        rec.app = App {
            keys: rec.app.keys.clone(),
            updated_at: now,
            ..app
        };
        store(kv, &rec)?;
        Ok(client(&rec))
    }
}

op! {
    /// Marks the app deleted: keys and secret gone, every token dead.
    Delete in AppObject => Client {
        #[serde(default)]
        pub expect: Option<u64>,
    }
    |cmd, kv, now| {
        edit(kv, now, cmd.expect, |rec| {
            rec.app.status = Status::Deleted;
            rec.app.keys.clear();
            rec.secret_hash = None;
            rec.epoch += 1;
            Ok(())
        })
    }
}

op! {
    /// A new secret (its hash) and a new epoch: every token of the app ends at once.
    RotateSecret in AppObject => Client {
        pub secret_hash: String,
        #[serde(default)]
        pub expect: Option<u64>,
    }
    |cmd, kv, now| {
        edit(kv, now, cmd.expect, |rec| {
            rec.secret_hash = Some(cmd.secret_hash);
            rec.epoch += 1;
            Ok(())
        })
    }
}

op! {
    /// Registers a public key (JWK) for the app's assertions; at most 10.
    AddKey in AppObject => Client {
        pub jwk: serde_json::Value,
        #[serde(default)]
        pub expect: Option<u64>,
    }
    |cmd, kv, now| {
        edit(kv, now, cmd.expect, |rec| {
            let kid = cmd.jwk.get("kid").and_then(|k| k.as_str()).unwrap_or_default();
            if rec.app.key_ids().any(|k| k == kid) {
                return Err(Error::invalid_request("this key is already registered"));
            }
            if rec.app.keys.len() >= 10 {
                return Err(Error::invalid_request("an app holds at most 10 keys"));
            }
            rec.app.keys.push(cmd.jwk);
            Ok(())
        })
    }
}

op! {
    /// Removes a key: assertions signed with it, and tokens obtained with them, stop working.
    RemoveKey in AppObject => Client {
        pub kid: String,
        #[serde(default)]
        pub expect: Option<u64>,
    }
    |cmd, kv, now| {
        edit(kv, now, cmd.expect, |rec| {
            let before = rec.app.keys.len();
            let kid = cmd.kid.as_str();
            rec.app
                .keys
                .retain(|k| k.get("kid").and_then(|v| v.as_str()) != Some(kid));
            if rec.app.keys.len() == before {
                return Err(Error::not_found("no such key"));
            }
            Ok(())
        })
    }
}

op! {
    /// Client authentication in the app's object: by secret hash, or (public clients) by id
    /// alone. A stranger's wrong guesses are counted per client address (`afail:<address>`,
    /// `failure_limit` a minute, then 429 for that address only), apart from the client's own
    /// successful calls (`call`, `rate_limit` a minute): hammering from one address gets that
    /// address a 429, never the real client. Every failure answers the same words, whatever the
    /// reason (unknown, disabled, wrong secret, a secret for an app that authenticates otherwise).
    Authenticate in AppObject => Client {
        pub secret_hash: Option<String>,
        pub rate_limit: u32,
        pub address: String,
        pub failure_limit: u32,
    }
    |cmd, kv, now| {
        let rec = record(kv)?;
        authenticate(kv, now, rec, &cmd)
    }
}

/// [`Authenticate`] against `rec`, in whichever object holds it (the app's, or a replica of it
/// with its own share of the limits, `app_shard`).
pub(super) fn authenticate(kv: &mut dyn Kv, now: i64, rec: Option<AppRecord>, cmd: &Authenticate) -> Result<Client> {
    {
        let failures = format!("afail:{}", cmd.address);
        counter::check(kv, now, &failures, cmd.failure_limit)?;
        let stored = rec
            .as_ref()
            .and_then(|r| r.secret_hash.as_deref())
            .unwrap_or(DUMMY_HASH);
        let presented = cmd.secret_hash.as_deref().unwrap_or("");
        let secret_ok = ct_eq(stored.as_bytes(), presented.as_bytes());
        let ok = match &rec {
            Some(r) if r.app.status == Status::Active => match &cmd.secret_hash {
                // Only an app that authenticates by secret accepts one (issue 13 item 7).
                Some(_) => r.app.uses_secret() && r.secret_hash.is_some() && secret_ok,
                None => r.app.is_public(),
            },
            _ => false,
        };
        let rec = match rec {
            Some(r) if ok => r,
            _ => {
                counter::add(kv, now, &failures)?;
                return Err(Error::invalid_client("client authentication failed"));
            }
        };
        counter::reserve(kv, now, "call", cmd.rate_limit)?;
        Ok(client(&rec))
    }
}

op! {
    /// The whole record, whatever its status, with its revision: what the app's replicas are
    /// given (`app_shard::Install`). Never leaves the server.
    Snapshot in AppObject => AppRecord {}
    |_, kv, _now| {
        record(kv)?.ok_or_else(|| Error::not_found("no such app"))
    }
}

op! {
    /// A change that changes nothing but the revision (to `expect`): lifts the fences of a
    /// change that was abandoned after they were set (`apps::replicas::change`).
    Touch in AppObject => Client {
        pub expect: u64,
    }
    |cmd, kv, _now| {
        let mut rec = record(kv)?.ok_or_else(|| Error::not_found("no such app"))?;
        bump(&mut rec, Some(cmd.expect))?;
        store(kv, &rec)?;
        Ok(client(&rec))
    }
}

op! {
    /// The key and status half of [`UseAssertion`], for a replica that recorded the `jti` but
    /// holds no fresh record.
    AssertionKey in AppObject => Client {
        pub kid: String,
    }
    |cmd, kv, _now| {
        let rec = active(kv)?;
        assertion_key(&rec, &cmd.kid)?;
        Ok(client(&rec))
    }
}

/// The assertion's key must still be registered for the (active) app.
pub(super) fn assertion_key(rec: &AppRecord, kid: &str) -> Result<()> {
    if rec.app.key_ids().any(|k| k == kid) {
        Ok(())
    } else {
        Err(Error::invalid_client("the signing key is not registered for this app"))
    }
}

/// An assertion's `jti` is accepted once in the object that holds it.
pub(super) fn use_jti(kv: &mut dyn Kv, jti: &str, exp: i64) -> Result<()> {
    let key = format!("jti:{jti}");
    if kv.get(&key)?.is_some() {
        return Err(Error::invalid_client("the assertion was already used (jti replay)"));
    }
    kv.put(&key, "1", Some(exp))
}

op! {
    /// RFC 7592: the app whose registration access token hashes to `token_hash`.
    CheckRegistration in AppObject => Client {
        pub token_hash: String,
    }
    |cmd, kv, _now| {
        let refused = || Error::invalid_token("the registration access token is not valid");
        let rec = live(kv).map_err(|_| refused())?;
        let stored = rec.registration_hash.as_deref().unwrap_or(DUMMY_HASH);
        if ct_eq(stored.as_bytes(), cmd.token_hash.as_bytes()) && rec.registration_hash.is_some() {
            Ok(client(&rec))
        } else {
            Err(refused())
        }
    }
}

op! {
    /// Accepts a signed assertion once: the key must still be registered, the `jti` unseen.
    UseAssertion in AppObject => Client {
        pub jti: String,
        pub exp: i64,
        pub kid: String,
    }
    |cmd, kv, _now| {
        let rec = active(kv)?;
        assertion_key(&rec, &cmd.kid)?;
        use_jti(kv, &cmd.jti, cmd.exp)?;
        Ok(client(&rec))
    }
}

op! {
    /// Is an access token minted under `epoch` (with assertion key `kid`) alive here? A token
    /// from a grant is alive only if its grant is too (`grants::GrantAlive`, in the grant's object).
    CheckToken in AppObject => bool {
        pub jti: String,
        pub epoch: u64,
        pub kid: Option<String>,
    }
    |cmd, kv, _now| {
        Ok(match record(kv)? {
            Some(r) => token_fits(&r, &cmd) && !revoked(kv, &cmd.jti)?,
            None => false,
        })
    }
}

/// Whether a token minted under `cmd.epoch` (with `cmd.kid`) fits the record as it is.
pub(super) fn token_fits(r: &AppRecord, cmd: &CheckToken) -> bool {
    r.app.status == Status::Active
        && r.epoch == cmd.epoch
        && cmd.kid.as_deref().is_none_or(|k| r.app.key_ids().any(|x| x == k))
}

/// Whether the access token `jti` was revoked in this object (RFC 7009).
pub(super) fn revoked(kv: &dyn Kv, jti: &str) -> Result<bool> {
    Ok(kv.get(&revoked_key(jti))?.is_some())
}

pub(super) fn revoked_key(jti: &str) -> String {
    format!("rev:{jti}")
}

op! {
    /// RFC 7009: the access token `jti` is dead until it would have expired anyway.
    RevokeJti in AppObject => () {
        pub jti: String,
        pub exp: i64,
    }
    |cmd, kv, _now| {
        kv.put(&revoked_key(&cmd.jti), "1", Some(cmd.exp))
    }
}
