//! What the Durable Objects do. Each object (a "shard") is named by what it guards:
//!
//! | shard name          | holds                                                              | module      |
//! |---------------------|--------------------------------------------------------------------|-------------|
//! | `app:<client_id>`   | the [`AppRecord`] (secret hash, status, epoch); used assertion `jti`s; revoked access-token `jti`s; codes, grants and refresh tokens of the app | `app`, `grants` |
//! | `owner:<owner>`     | the ids of the owner's apps (the 1000-app limit is counted here)   | `owner`     |
//! | `email:<lowercase>` | the account of that email (uniqueness) and its failed log-ins      | `accounts`  |
//! | `user:<user id>`    | the user's profile and consents                                    | `accounts`  |
//! | `session:<sha256>`  | one log-in session                                                 | `accounts`  |
//! | `ip:<address>`      | failed log-ins from one client address                             | `accounts`  |
//! | `issuer`            | the development RSA signing key, when no `SIGNING_KEYS` secret is set | `issuer` |
//! | `issuer:ed25519`    | the development Ed25519 key (`ACCESS_TOKEN_ALG=EdDSA`)             | `issuer`    |
//! | `reg:<address>`     | registrations from one client address (rate limit)                 | `accounts`  |
//!
//! `apply` runs one [`Command`] against one shard's [`Kv`] without awaiting anything, so in
//! workerd (synchronous SQLite inside the object) each command is atomic: racing redemptions,
//! replays and counter increments are serialised by the object.

mod accounts;
mod app;
mod grants;
mod owner;

pub use accounts::{AccountRecord, Profile, SessionRecord};
pub use grants::{CodeRecord, Granted, NewGrant};

use super::kv::Kv;
use crate::model::{App, AppRecord};
use crate::error::{Error, ErrorCode, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Command {
    // --- app:<client_id>: the app ---
    CreateApp {
        record: AppRecord,
    },
    GetApp,
    UpdateApp {
        app: App,
    },
    DeleteApp,
    RotateSecret {
        secret_hash: String,
    },
    AddKey {
        jwk: serde_json::Value,
    },
    RemoveKey {
        kid: String,
    },
    /// Client authentication: by secret hash, or (public clients) by id alone. Failures are
    /// counted per client address (`failure_limit` a minute, then 429 for that address
    /// only); successful calls count against `rate_limit` a minute for the client.
    Authenticate {
        secret_hash: Option<String>,
        rate_limit: u32,
        address: String,
        failure_limit: u32,
    },
    /// RFC 7592: the app whose registration access token hashes to `token_hash`.
    CheckRegistration {
        token_hash: String,
    },
    /// Accepts a signed assertion once: the key must still be registered, the `jti` unseen.
    UseAssertion {
        jti: String,
        exp: i64,
        kid: String,
    },
    /// Is an access token minted under `epoch` (with assertion key `kid`, from grant `gid`) alive?
    CheckToken {
        jti: String,
        epoch: u64,
        kid: Option<String>,
        gid: Option<String>,
    },
    RevokeJti {
        jti: String,
        exp: i64,
    },
    // --- app:<client_id>: codes, grants, refresh tokens ---
    IssueCode {
        code_hash: String,
        record: CodeRecord,
    },
    RedeemCode {
        code_hash: String,
        redirect_uri: Option<String>,
        verifier: Option<String>,
        new: grants::NewGrant,
    },
    CreateGrant {
        user_id: String,
        scopes: Vec<String>,
        aud: String,
        new: grants::NewGrant,
    },
    Refresh {
        refresh_hash: String,
        new_refresh_hash: String,
        refresh_ttl: i64,
        /// If given, must be within the grant (checked before rotating).
        scopes: Option<Vec<String>>,
    },
    RevokeRefresh {
        refresh_hash: String,
    },
    // --- owner:<owner> ---
    Reserve {
        app_id: String,
        limit: u32,
    },
    Release {
        app_id: String,
    },
    ListOwned {
        after: Option<String>,
        limit: usize,
    },
    // --- email:<lowercase> ---
    CreateAccount {
        record: AccountRecord,
    },
    /// Reserves a log-in attempt (429 once `limit` are used this minute) and returns the
    /// account, if any. A successful log-in gives the attempt back with `RateRelease`.
    GetAccount {
        limit: u32,
    },
    // --- user:<id> ---
    PutProfile {
        profile: Profile,
    },
    GetProfile,
    GetConsent {
        client_id: String,
    },
    SaveConsent {
        client_id: String,
        scopes: Vec<String>,
    },
    // --- session:<sha256> ---
    CreateSession {
        record: SessionRecord,
    },
    GetSession,
    DeleteSession,
    // --- any shard: attempt counters per minute (email:, ip:, reg:) ---
    /// Checks and counts one attempt in one step: 429 once `limit` are used this minute.
    RateReserve {
        limit: u32,
    },
    /// Gives back one reserved attempt (the log-in it was for succeeded).
    RateRelease,
    // --- issuer ---
    /// Returns the stored development key, storing `candidate` first if there is none.
    DevKey {
        candidate: Option<String>,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "r", rename_all = "snake_case")]
pub enum Reply {
    Ok,
    Client {
        app: App,
        epoch: u64,
    },
    Active {
        active: bool,
    },
    Ids {
        ids: Vec<String>,
        next: Option<String>,
    },
    Key {
        pem: Option<String>,
    },
    Granted {
        granted: Granted,
    },
    Account {
        account: Option<AccountRecord>,
    },
    Profile {
        profile: Option<Profile>,
    },
    Scopes {
        scopes: Vec<String>,
    },
    Session {
        session: Option<SessionRecord>,
    },
    Err {
        code: ErrorCode,
        description: String,
        retry_after: Option<i64>,
    },
}

impl Reply {
    pub fn into_result(self) -> Result<Reply> {
        match self {
            Reply::Err {
                code,
                description,
                retry_after,
            } => {
                let e = Error::new(code, description);
                Err(match retry_after {
                    Some(s) => e.with_header("retry-after", s.to_string()),
                    None => e,
                })
            }
            r => Ok(r),
        }
    }
}

impl From<Error> for Reply {
    fn from(e: Error) -> Self {
        let retry_after = e
            .headers
            .iter()
            .find(|(k, _)| *k == "retry-after")
            .and_then(|(_, v)| v.parse().ok());
        Reply::Err {
            code: e.code,
            description: e.description,
            retry_after,
        }
    }
}

pub fn apply(kv: &mut dyn Kv, now: i64, cmd: Command) -> Reply {
    match run(kv, now, cmd) {
        Ok(r) => r,
        Err(e) => e.into(),
    }
}

/// Reads a JSON value stored under `key`.
fn load<T: serde::de::DeserializeOwned>(kv: &dyn Kv, key: &str) -> Result<Option<T>> {
    match kv.get(key)? {
        None => Ok(None),
        Some(s) => serde_json::from_str(&s)
            .map(Some)
            .map_err(|_| Error::server(format!("stored '{key}' is unreadable"))),
    }
}

fn save<T: Serialize>(kv: &mut dyn Kv, key: &str, value: &T, expires_at: Option<i64>) -> Result<()> {
    let s = serde_json::to_string(value).map_err(|_| Error::server("cannot encode record"))?;
    kv.put(key, &s, expires_at)
}

const DEV_KEY: &str = "dev_key";

fn run(kv: &mut dyn Kv, now: i64, cmd: Command) -> Result<Reply> {
    kv.purge_expired(now)?;
    use Command::*;
    match cmd {
        CreateApp { record } => app::create(kv, record),
        GetApp => app::get(kv),
        UpdateApp { app } => app::update(kv, now, app),
        DeleteApp => app::delete(kv, now),
        RotateSecret { secret_hash } => app::rotate_secret(kv, now, secret_hash),
        AddKey { jwk } => app::add_key(kv, now, jwk),
        RemoveKey { kid } => app::remove_key(kv, now, &kid),
        Authenticate {
            secret_hash,
            rate_limit,
            address,
            failure_limit,
        } => app::authenticate(kv, now, secret_hash, &address, rate_limit, failure_limit),
        CheckRegistration { token_hash } => app::check_registration(kv, &token_hash),
        UseAssertion { jti, exp, kid } => app::use_assertion(kv, jti, exp, &kid),
        CheckToken { jti, epoch, kid, gid } => app::check_token(kv, now, &jti, epoch, kid, gid),
        RevokeJti { jti, exp } => {
            kv.put(&format!("rev:{jti}"), "1", Some(exp))?;
            Ok(Reply::Ok)
        }
        IssueCode { code_hash, record } => grants::issue_code(kv, code_hash, record),
        RedeemCode {
            code_hash,
            redirect_uri,
            verifier,
            new,
        } => grants::redeem_code(kv, now, &code_hash, redirect_uri, verifier, new),
        CreateGrant {
            user_id,
            scopes,
            aud,
            new,
        } => grants::create_grant(kv, now, user_id, scopes, aud, new),
        Refresh {
            refresh_hash,
            new_refresh_hash,
            refresh_ttl,
            scopes,
        } => grants::refresh(kv, now, &refresh_hash, new_refresh_hash, refresh_ttl, scopes),
        RevokeRefresh { refresh_hash } => grants::revoke_refresh(kv, &refresh_hash),
        Reserve { app_id, limit } => owner::reserve(kv, app_id, limit),
        Release { app_id } => owner::release(kv, app_id),
        ListOwned { after, limit } => owner::list(kv, after, limit),
        CreateAccount { record } => accounts::create_account(kv, record),
        GetAccount { limit } => accounts::get_account(kv, now, limit),
        PutProfile { profile } => accounts::put_profile(kv, profile),
        GetProfile => Ok(Reply::Profile {
            profile: load(kv, "profile")?,
        }),
        GetConsent { client_id } => {
            let scopes = load(kv, &format!("consent:{client_id}"))?.unwrap_or_default();
            Ok(Reply::Scopes { scopes })
        }
        SaveConsent { client_id, scopes } => {
            save(kv, &format!("consent:{client_id}"), &scopes, None)?;
            Ok(Reply::Ok)
        }
        CreateSession { record } => {
            let exp = record.expires_at;
            save(kv, "session", &record, Some(exp))?;
            Ok(Reply::Ok)
        }
        GetSession => Ok(Reply::Session {
            session: load::<SessionRecord>(kv, "session")?.filter(|s| s.expires_at > now),
        }),
        DeleteSession => {
            kv.delete("session")?;
            Ok(Reply::Ok)
        }
        RateReserve { limit } => accounts::reserve(kv, now, accounts::FAIL, limit).map(|_| Reply::Ok),
        RateRelease => accounts::release(kv, now, accounts::FAIL).map(|_| Reply::Ok),
        DevKey { candidate } => {
            if let Some(pem) = kv.get(DEV_KEY)? {
                return Ok(Reply::Key { pem: Some(pem) });
            }
            if let Some(pem) = &candidate {
                kv.put(DEV_KEY, pem, None)?;
            }
            Ok(Reply::Key { pem: candidate })
        }
    }
}

#[cfg(test)]
mod tests;
