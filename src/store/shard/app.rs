//! `app:<client_id>`: the authoritative app record, client authentication, assertion replay,
//! and whether a token is still alive.

use super::{load, save, Reply};
use crate::model::{App, AppRecord, Status};
use crate::error::{Error, Result};
use crate::store::kv::Kv;
use crate::util::ct_eq;

const RECORD: &str = "record";
/// Compared against when a client has no secret, so both paths cost the same.
const DUMMY_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

pub(super) fn record(kv: &dyn Kv) -> Result<Option<AppRecord>> {
    load(kv, RECORD)
}

fn store(kv: &mut dyn Kv, rec: &AppRecord) -> Result<()> {
    save(kv, RECORD, rec, None)
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

fn client(rec: &AppRecord) -> Reply {
    Reply::Client {
        app: rec.app.clone(),
        epoch: rec.epoch,
    }
}

pub(super) fn create(kv: &mut dyn Kv, rec: AppRecord) -> Result<Reply> {
    if record(kv)?.is_some() {
        return Err(Error::invalid_request("client_id already exists"));
    }
    store(kv, &rec)?;
    Ok(client(&rec))
}

pub(super) fn get(kv: &dyn Kv) -> Result<Reply> {
    record(kv)?
        .map(|r| client(&r))
        .ok_or_else(|| Error::not_found("no such app"))
}

pub(super) fn update(kv: &mut dyn Kv, now: i64, app: App) -> Result<Reply> {
    let mut rec = live(kv)?;
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

pub(super) fn delete(kv: &mut dyn Kv, now: i64) -> Result<Reply> {
    let mut rec = live(kv)?;
    rec.app.status = Status::Deleted;
    rec.app.keys.clear();
    rec.app.updated_at = now;
    rec.secret_hash = None;
    rec.epoch += 1;
    store(kv, &rec)?;
    Ok(client(&rec))
}

pub(super) fn rotate_secret(kv: &mut dyn Kv, now: i64, secret_hash: String) -> Result<Reply> {
    let mut rec = live(kv)?;
    rec.secret_hash = Some(secret_hash);
    rec.epoch += 1;
    rec.app.updated_at = now;
    store(kv, &rec)?;
    Ok(client(&rec))
}

pub(super) fn add_key(kv: &mut dyn Kv, now: i64, jwk: serde_json::Value) -> Result<Reply> {
    let mut rec = live(kv)?;
    let kid = jwk
        .get("kid")
        .and_then(|k| k.as_str())
        .unwrap_or_default()
        .to_owned();
    if rec.app.key_ids().any(|k| k == kid) {
        return Err(Error::invalid_request("this key is already registered"));
    }
    if rec.app.keys.len() >= 10 {
        return Err(Error::invalid_request("an app holds at most 10 keys"));
    }
    rec.app.keys.push(jwk);
    rec.app.updated_at = now;
    store(kv, &rec)?;
    Ok(client(&rec))
}

pub(super) fn remove_key(kv: &mut dyn Kv, now: i64, kid: &str) -> Result<Reply> {
    let mut rec = live(kv)?;
    let before = rec.app.keys.len();
    rec.app
        .keys
        .retain(|k| k.get("kid").and_then(|v| v.as_str()) != Some(kid));
    if rec.app.keys.len() == before {
        return Err(Error::not_found("no such key"));
    }
    rec.app.updated_at = now;
    store(kv, &rec)?;
    Ok(client(&rec))
}

/// Client authentication in the app's object. A stranger's wrong guesses are counted per
/// client address (`afail:<address>`), apart from the client's own successful calls
/// (`call`): hammering from one address gets that address a 429, never the real client.
/// Every failure answers the same words, whatever the reason (unknown, disabled, wrong
/// secret, a secret for an app that authenticates otherwise).
pub(super) fn authenticate(
    kv: &mut dyn Kv,
    now: i64,
    secret_hash: Option<String>,
    address: &str,
    rate_limit: u32,
    failure_limit: u32,
) -> Result<Reply> {
    use super::accounts as counter;
    let failures = format!("afail:{address}");
    counter::check(kv, now, &failures, failure_limit)?;
    let rec = record(kv)?;
    let stored = rec
        .as_ref()
        .and_then(|r| r.secret_hash.as_deref())
        .unwrap_or(DUMMY_HASH);
    let presented = secret_hash.as_deref().unwrap_or("");
    let secret_ok = ct_eq(stored.as_bytes(), presented.as_bytes());
    let ok = match &rec {
        Some(r) if r.app.status == Status::Active => match &secret_hash {
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
    counter::reserve(kv, now, "call", rate_limit)?;
    Ok(client(&rec))
}

pub(super) fn use_assertion(kv: &mut dyn Kv, jti: String, exp: i64, kid: &str) -> Result<Reply> {
    let rec = active(kv)?;
    if !rec.app.key_ids().any(|k| k == kid) {
        return Err(Error::invalid_client(
            "the signing key is not registered for this app",
        ));
    }
    let key = format!("jti:{jti}");
    if kv.get(&key)?.is_some() {
        return Err(Error::invalid_client(
            "the assertion was already used (jti replay)",
        ));
    }
    kv.put(&key, "1", Some(exp))?;
    Ok(client(&rec))
}

pub(super) fn check_token(
    kv: &dyn Kv,
    now: i64,
    jti: &str,
    epoch: u64,
    kid: Option<String>,
    gid: Option<String>,
) -> Result<Reply> {
    let active = match record(kv)? {
        Some(r) => {
            r.app.status == Status::Active
                && r.epoch == epoch
                && kid.as_deref().is_none_or(|k| r.app.key_ids().any(|x| x == k))
                && kv.get(&format!("rev:{jti}"))?.is_none()
                && match gid {
                    Some(g) => super::grants::grant_alive(kv, now, &g)?,
                    None => true,
                }
        }
        None => false,
    };
    Ok(Reply::Active { active })
}

pub(super) fn check_registration(kv: &dyn Kv, token_hash: &str) -> Result<Reply> {
    let rec = live(kv).map_err(|_| Error::invalid_token("the registration access token is not valid"))?;
    let stored = rec.registration_hash.as_deref().unwrap_or(DUMMY_HASH);
    if ct_eq(stored.as_bytes(), token_hash.as_bytes()) && rec.registration_hash.is_some() {
        Ok(client(&rec))
    } else {
        Err(Error::invalid_token("the registration access token is not valid"))
    }
}
