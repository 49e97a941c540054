//! `email:<lowercase>` (accounts: unique per email, atomically), `user:<id>` (profile, consents),
//! `session:<sha256>` (log-in sessions), and failed-attempt counters kept in any shard.

use super::{load, save, Reply};
use crate::error::{Error, ErrorCode, Result};
use crate::store::kv::Kv;
use serde::{Deserialize, Serialize};

/// Failed attempts are counted in fixed windows of this many seconds.
pub const WINDOW: i64 = 60;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountRecord {
    pub user_id: String,
    pub email: String,
    pub name: String,
    /// `accounts::password` PHC-style string (argon2id).
    pub password_hash: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub id: String,
    pub email: String,
    pub name: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub expires_at: i64,
}

pub(super) fn create_account(kv: &mut dyn Kv, record: AccountRecord) -> Result<Reply> {
    if kv.get("account")?.is_some() {
        // Internal only: sign-up answers this exactly like a new account.
        return Err(Error::new(
            ErrorCode::LimitReached,
            "an account with this email already exists",
        ));
    }
    save(kv, "account", &record, None)?;
    Ok(Reply::Ok)
}

/// Reserves one log-in attempt against `limit` (429 once the window is full) and returns the
/// account. Check and count are one step, so racing guesses cannot overrun the limit; a
/// successful log-in gives the attempt back (`RateRelease`).
pub(super) fn get_account(kv: &mut dyn Kv, now: i64, limit: u32) -> Result<Reply> {
    reserve(kv, now, FAIL, limit)?;
    Ok(Reply::Account {
        account: load(kv, "account")?,
    })
}

pub(super) fn put_profile(kv: &mut dyn Kv, profile: Profile) -> Result<Reply> {
    save(kv, "profile", &profile, None)?;
    Ok(Reply::Ok)
}

/// The counter of failed (or reserved) attempts: log-ins, registrations.
pub const FAIL: &str = "fail";

fn window_key(now: i64, counter: &str) -> (String, i64) {
    let start = now.saturating_sub(now.rem_euclid(WINDOW));
    (format!("{counter}:{start}"), start.saturating_add(WINDOW))
}

fn count(kv: &dyn Kv, key: &str) -> Result<u32> {
    Ok(kv.get(key)?.and_then(|v| v.parse().ok()).unwrap_or(0))
}

fn limited(now: i64, end: i64) -> Error {
    Error::new(
        ErrorCode::RateLimited,
        "too many attempts; try again later",
    )
    .with_header("retry-after", end.saturating_sub(now).max(1).to_string())
}

/// 429 with `Retry-After` once `limit` attempts were counted in the current window.
pub(super) fn check(kv: &dyn Kv, now: i64, counter: &str, limit: u32) -> Result<()> {
    let (key, end) = window_key(now, counter);
    if count(kv, &key)? >= limit {
        return Err(limited(now, end));
    }
    Ok(())
}

/// Counts one attempt in the current window.
pub(super) fn add(kv: &mut dyn Kv, now: i64, counter: &str) -> Result<()> {
    let (key, end) = window_key(now, counter);
    let n = count(kv, &key)?;
    kv.put(&key, &n.saturating_add(1).to_string(), Some(end))
}

/// Check and count in one step (inside one Durable Object command, so atomic).
pub(super) fn reserve(kv: &mut dyn Kv, now: i64, counter: &str, limit: u32) -> Result<()> {
    check(kv, now, counter, limit)?;
    add(kv, now, counter)
}

/// Gives back an attempt reserved in the current window (a log-in that succeeded).
pub(super) fn release(kv: &mut dyn Kv, now: i64, counter: &str) -> Result<()> {
    let (key, end) = window_key(now, counter);
    match count(kv, &key)? {
        0 => Ok(()),
        n => kv.put(&key, &(n - 1).to_string(), Some(end)),
    }
}
