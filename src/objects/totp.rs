//! `totp:<user id>`: one person's second factor — the TOTP secret (kept as it is: verifying a
//! code needs it, so it cannot be a hash), the last time step accepted (no code is accepted
//! twice), the SHA-256 hashes of their unused recovery codes, a secret being enrolled, and the
//! person's wrong-code counter. Every check runs inside one command, so racing requests with
//! one code cannot both pass, and the counter cannot be overrun.

use super::counter;
use super::kv::Kv;
use super::protocol::{kind, load, op, save};
use crate::error::{Error, ErrorCode, Result};
use crate::rules::{recovery_code, totp};
use crate::util::ct_eq;
use serde::{Deserialize, Serialize};

kind!(Totp = "totp",
    /// The second factor of the person with this user id.
    object);

const ENROLLED: &str = "totp";
const PENDING: &str = "pending";
const RECOVERY: &str = "recovery";
/// Wrong codes counted per minute.
const FAIL: &str = "fail";

/// The enrolled factor. The secret is base32 (as shown to the person); never logged.
#[derive(Clone, Serialize, Deserialize)]
struct Enrolled {
    secret: String,
    enrolled_at: i64,
    #[serde(default)]
    last_step: Option<i64>,
}

#[derive(Clone, Serialize, Deserialize)]
struct Pending {
    secret: String,
    expires_at: i64,
}

/// What a person's second factor is, for their pages (never the secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub enrolled: bool,
    pub enrolled_at: Option<i64>,
    pub recovery_left: u32,
}

/// How a second step was passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Method {
    /// A code of the authenticator (RFC 6238).
    Totp,
    /// One of the recovery codes (now used up).
    Recovery,
}

fn wrong() -> Error {
    Error::new(ErrorCode::AccessDenied, "the code is wrong")
}

fn secret_bytes(b32: &str) -> Result<Vec<u8>> {
    totp::base32_decode(b32).ok_or_else(|| Error::server("a stored TOTP secret is unreadable"))
}

/// Checks a TOTP code against `e` and, when it matches, keeps its step as the last one.
fn check_totp(kv: &mut dyn Kv, mut e: Enrolled, code: &str, now: i64) -> Result<bool> {
    let secret = secret_bytes(&e.secret)?;
    match totp::verify(&secret, code, now, e.last_step) {
        Some(step) => {
            e.last_step = Some(step);
            save(kv, ENROLLED, &e, None)?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Uses up the recovery code `code` if it is one of the unused ones. Every stored hash is
/// compared (constant time each), whichever matches.
fn use_recovery(kv: &mut dyn Kv, code: &str) -> Result<bool> {
    let Some(h) = recovery_code::hash(code) else {
        return Ok(false);
    };
    let mut hashes: Vec<String> = load(kv, RECOVERY)?.unwrap_or_default();
    let mut found = None;
    for (i, stored) in hashes.iter().enumerate() {
        if ct_eq(stored.as_bytes(), h.as_bytes()) && found.is_none() {
            found = Some(i);
        }
    }
    match found {
        Some(i) => {
            hashes.remove(i);
            save(kv, RECOVERY, &hashes, None)?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Recovery hashes as given by the caller: exactly [`recovery_code::COUNT`] SHA-256 hex values.
fn valid_hashes(hashes: &[String]) -> Result<()> {
    let ok = hashes.len() == recovery_code::COUNT
        && hashes
            .iter()
            .all(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()));
    if ok {
        Ok(())
    } else {
        Err(Error::server("recovery codes must be ten SHA-256 hashes"))
    }
}

op! {
    /// Whether the person has a second factor, and how many recovery codes are left.
    GetStatus in Totp => Status {}
    |_, kv, _now| {
        let e: Option<Enrolled> = load(kv, ENROLLED)?;
        let left = load::<Vec<String>>(kv, RECOVERY)?.map_or(0, |h| h.len());
        Ok(Status {
            enrolled: e.is_some(),
            enrolled_at: e.map(|e| e.enrolled_at),
            recovery_left: u32::try_from(left).unwrap_or(u32::MAX),
        })
    }
}

op! {
    /// Starts enrolling `secret` (base32); it is kept, unconfirmed, until `expires_at`. Refused
    /// while a factor is enrolled (disable it first); a second start replaces the first.
    Begin in Totp => () {
        pub secret: String,
        pub expires_at: i64,
    }
    |cmd, kv, _now| {
        if kv.get(ENROLLED)?.is_some() {
            return Err(Error::new(ErrorCode::InvalidRequest, "two-factor authentication is already on"));
        }
        secret_bytes(&cmd.secret)?;
        let p = Pending { secret: cmd.secret, expires_at: cmd.expires_at };
        save(kv, PENDING, &p, Some(cmd.expires_at))
    }
}

op! {
    /// The secret being enrolled, while it lasts (to show its QR code again).
    GetPending in Totp => Option<String> {}
    |_, kv, now| {
        Ok(load::<Pending>(kv, PENDING)?.filter(|p| p.expires_at > now).map(|p| p.secret))
    }
}

op! {
    /// Confirms the enrolment with a code of the pending secret: counted against `limit` wrong
    /// codes a minute; on success the factor is on, its step used, and `recovery` (hashes)
    /// are the person's recovery codes. `invalid_request` when nothing is being enrolled (it
    /// expired), `access_denied` for a wrong code.
    Confirm in Totp => () {
        pub code: String,
        pub recovery: Vec<String>,
        pub limit: u32,
    }
    |cmd, kv, now| {
        valid_hashes(&cmd.recovery)?;
        counter::reserve(kv, now, FAIL, cmd.limit)?;
        if kv.get(ENROLLED)?.is_some() {
            return Err(Error::new(ErrorCode::InvalidRequest, "two-factor authentication is already on"));
        }
        let Some(p) = load::<Pending>(kv, PENDING)?.filter(|p| p.expires_at > now) else {
            return Err(Error::new(ErrorCode::InvalidRequest, "the set-up expired; start again"));
        };
        let secret = secret_bytes(&p.secret)?;
        let Some(step) = totp::verify(&secret, &cmd.code, now, None) else {
            return Err(wrong());
        };
        let e = Enrolled { secret: p.secret, enrolled_at: now, last_step: Some(step) };
        save(kv, ENROLLED, &e, None)?;
        save(kv, RECOVERY, &cmd.recovery, None)?;
        kv.delete(PENDING)?;
        counter::release(kv, now, FAIL)
    }
}

op! {
    /// Checks a second-step code: a TOTP code (its step then used), or, with `recovery`, one of
    /// the unused recovery codes (then used up). Counted against `limit` wrong codes a minute
    /// (429 with `Retry-After` once over it, before the code is even looked at); a right code
    /// gives its attempt back. `access_denied` for a wrong code or when no factor is enrolled.
    Verify in Totp => Method {
        pub code: String,
        pub limit: u32,
        pub recovery: bool,
    }
    |cmd, kv, now| {
        counter::reserve(kv, now, FAIL, cmd.limit)?;
        let Some(e) = load::<Enrolled>(kv, ENROLLED)? else {
            return Err(wrong());
        };
        let method = if totp::normalise_code(&cmd.code).is_some() {
            check_totp(kv, e, &cmd.code, now)?.then_some(Method::Totp)
        } else if cmd.recovery {
            use_recovery(kv, &cmd.code)?.then_some(Method::Recovery)
        } else {
            None
        };
        let method = method.ok_or_else(wrong)?;
        counter::release(kv, now, FAIL)?;
        Ok(method)
    }
}

op! {
    /// Replaces the recovery codes with `recovery` (hashes) after a current TOTP code (not a
    /// recovery code: a person who lost the authenticator disables and enrols again).
    Regenerate in Totp => () {
        pub code: String,
        pub recovery: Vec<String>,
        pub limit: u32,
    }
    |cmd, kv, now| {
        valid_hashes(&cmd.recovery)?;
        counter::reserve(kv, now, FAIL, cmd.limit)?;
        let Some(e) = load::<Enrolled>(kv, ENROLLED)? else {
            return Err(Error::new(ErrorCode::InvalidRequest, "two-factor authentication is off"));
        };
        if !check_totp(kv, e, &cmd.code, now)? {
            return Err(wrong());
        }
        save(kv, RECOVERY, &cmd.recovery, None)?;
        counter::release(kv, now, FAIL)
    }
}

op! {
    /// Turns the second factor off: the secret, the pending one and the recovery codes go. The
    /// caller checked a current code or the password first.
    Disable in Totp => () {}
    |_, kv, _now| {
        kv.delete(ENROLLED)?;
        kv.delete(PENDING)?;
        kv.delete(RECOVERY)
    }
}

/// Seconds a started enrolment waits for its confirming code.
pub const PENDING_TTL: i64 = 600;
