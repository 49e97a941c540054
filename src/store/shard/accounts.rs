//! `email:<lowercase>` (accounts: unique per email, atomically), `user:<id>` (profile, consents),
//! `session:<sha256>` (log-in sessions), and failed-attempt counters kept in any shard.

use super::{load, save, Reply};
use crate::oauth::error::{Error, ErrorCode, Result};
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
        return Err(Error::new(
            ErrorCode::InvalidRequest,
            "an account with this email already exists",
        ));
    }
    save(kv, "account", &record, None)?;
    Ok(Reply::Ok)
}

pub(super) fn get_account(kv: &dyn Kv, now: i64, limit: u32) -> Result<Reply> {
    rate_status(kv, now, limit)?;
    Ok(Reply::Account {
        account: load(kv, "account")?,
    })
}

pub(super) fn put_profile(kv: &mut dyn Kv, profile: Profile) -> Result<Reply> {
    save(kv, "profile", &profile, None)?;
    Ok(Reply::Ok)
}

fn window_key(now: i64) -> (String, i64) {
    let start = now - now.rem_euclid(WINDOW);
    (format!("fail:{start}"), start + WINDOW)
}

/// `slow_down` (429 with `Retry-After`) once `limit` failures happened in the current window.
pub(super) fn rate_status(kv: &dyn Kv, now: i64, limit: u32) -> Result<()> {
    let (key, end) = window_key(now);
    let n: u32 = kv.get(&key)?.and_then(|v| v.parse().ok()).unwrap_or(0);
    if n >= limit {
        return Err(Error::new(
            ErrorCode::RateLimited,
            "too many failed attempts; try again later",
        )
        .with_header("retry-after", (end - now).max(1).to_string()));
    }
    Ok(())
}

pub(super) fn rate_fail(kv: &mut dyn Kv, now: i64) -> Result<()> {
    let (key, end) = window_key(now);
    let n: u32 = kv.get(&key)?.and_then(|v| v.parse().ok()).unwrap_or(0);
    kv.put(&key, &(n + 1).to_string(), Some(end))
}
