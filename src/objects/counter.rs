//! Attempt counters in fixed one-minute windows, and the `counter` kind of object that holds
//! nothing else: `ip:<address>` (log-in attempts from one address) and `reg:<address>`
//! (registrations from one address). Other objects keep counters of their own with the same
//! functions (an account's failed log-ins, an app's calls and failed authentications).

use super::kv::Kv;
use super::protocol::{kind, op, Name};
use crate::error::{Error, ErrorCode, Result};

/// Attempts are counted in fixed windows of this many seconds.
pub const WINDOW: i64 = 60;

/// The counter of failed (or reserved) attempts: log-ins, registrations.
pub const FAIL: &str = "fail";

kind!(Counter = "ip");

/// Log-in attempts from one client address.
pub fn login_address(address: &str) -> Name<Counter> {
    Name::of(address)
}

/// Registrations (sign-ups, RFC 7591) from one client address.
pub fn registration_address(address: &str) -> Name<Counter> {
    Name::raw(format!("reg:{address}"))
}

/// Emails asked for (password reset, verification) from one client address.
pub fn mail_address(address: &str) -> Name<Counter> {
    Name::raw(format!("mailfrom:{address}"))
}

/// Emails sent to one (normalised) email address, whoever asked.
pub fn mail_recipient(email: &str) -> Name<Counter> {
    Name::raw(format!("mailto:{email}"))
}

fn window_key(now: i64, counter: &str) -> (String, i64) {
    let start = now.saturating_sub(now.rem_euclid(WINDOW));
    (format!("{counter}:{start}"), start.saturating_add(WINDOW))
}

fn count(kv: &dyn Kv, key: &str) -> Result<u32> {
    Ok(kv.get(key)?.and_then(|v| v.parse().ok()).unwrap_or(0))
}

fn limited(now: i64, end: i64) -> Error {
    Error::new(ErrorCode::RateLimited, "too many attempts; try again later")
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

op! {
    /// Checks and counts one attempt in one step: 429 once `limit` are used this minute.
    Reserve in Counter => () {
        pub limit: u32,
    }
    |cmd, kv, now| {
        reserve(kv, now, FAIL, cmd.limit)
    }
}

op! {
    /// Gives back one reserved attempt (the log-in it was for succeeded).
    Release in Counter => () {}
    |_, kv, now| {
        release(kv, now, FAIL)
    }
}
