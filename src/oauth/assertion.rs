//! Verifying a JWT an app signed with its own RSA key: the app token (`/application/token`),
//! the RFC 7523 jwt-bearer grant and `private_key_jwt` client authentication all use this.
//! Every rejection is an [`AssertionRejection`]; its words are in `error.rs`, and none says
//! which key was tried.

use crate::crypto::{app_keys, jwt};
use crate::error::AssertionRejection as R;
use crate::model::{valid_client_id, App};
use crate::objects::app;
use crate::platform::Platform;
use crate::util::{b64url, sha256};

/// Longest lifetime (`exp - iat`) an assertion may claim.
pub const MAX_LIFETIME: i64 = 600;
/// Clock skew tolerated for `iat` and `nbf`.
pub const SKEW: i64 = 60;

pub struct Rules<'a> {
    /// RFC 7523 requires `aud`; `/application/token` only checks it when present.
    pub require_aud: bool,
    /// `iat` required (the app-token contract) or optional (RFC 7523).
    pub require_iat: bool,
    /// `private_key_jwt`: `sub` must equal `iss`.
    pub require_sub_is_iss: bool,
    /// RFC 7523 §3 item 2: the jwt-bearer grant's assertion MUST carry `sub`.
    pub require_sub: bool,
    pub audiences: &'a [String],
}

#[derive(Debug)]
pub struct Verified {
    pub app: App,
    pub epoch: u64,
    /// The registered key that verified the signature.
    pub kid: String,
}

pub use crate::error::AssertionRejection as Rejection;

/// The time rules, in checked arithmetic: an assertion is live (`exp` after now), issued no
/// later than `SKEW` from now, valid already (`nbf`), and lives at most `MAX_LIFETIME`
/// (`exp - iat`, or `exp - now` without `iat`). A difference that overflows is refused, so
/// `iat = i64::MIN, exp = i64::MAX` cannot pass as "never expires".
pub fn check_times(now: i64, iat: Option<i64>, exp: i64, nbf: Option<i64>) -> Result<(), Rejection> {
    let latest = now.checked_add(SKEW).ok_or(R::ClockOutOfRange)?;
    if exp <= now {
        return Err(R::Expired);
    }
    if iat.is_some_and(|iat| iat > latest) {
        return Err(R::IssuedInFuture);
    }
    let lifetime = exp.checked_sub(iat.unwrap_or(now));
    if lifetime.is_none_or(|l| !(0..=MAX_LIFETIME).contains(&l)) {
        return Err(R::TooLongLived(MAX_LIFETIME));
    }
    if nbf.is_some_and(|nbf| nbf > latest) {
        return Err(R::NotYetValid);
    }
    Ok(())
}

pub async fn verify(p: &impl Platform, token: &str, rules: &Rules<'_>) -> Result<Verified, Rejection> {
    let t = jwt::decode(token).map_err(|e| match e {
        jwt::DecodeError::TooLong => R::TooLong,
        jwt::DecodeError::Malformed => R::NotAJwt,
    })?;
    if t.header.alg != "RS256" {
        return Err(R::NotRs256);
    }
    let iss = t.str_claim("iss").ok_or(R::Missing("iss"))?;
    if rules.require_sub_is_iss && t.str_claim("sub") != Some(iss) {
        return Err(R::SubIsNotIss);
    }
    if rules.require_sub && t.str_claim("sub").is_none_or(str::is_empty) {
        return Err(R::Missing("sub"));
    }
    let now = p.now();
    let time = |name| t.time_claim(name).map_err(|_| R::NotSeconds(name));
    let exp = time("exp")?.ok_or(R::Missing("exp"))?;
    let iat = time("iat")?;
    if rules.require_iat && iat.is_none() {
        return Err(R::Missing("iat"));
    }
    check_times(now, iat, exp, time("nbf")?)?;
    match t.claims.get("aud") {
        None if rules.require_aud => return Err(R::Missing("aud")),
        None => {}
        Some(aud) => {
            let ok = match aud {
                serde_json::Value::String(s) => rules.audiences.contains(s),
                serde_json::Value::Array(a) => a
                    .iter()
                    .filter_map(|v| v.as_str())
                    .any(|s| rules.audiences.iter().any(|x| x == s)),
                _ => false,
            };
            if !ok {
                return Err(R::WrongAudience);
            }
        }
    }
    if !valid_client_id(iss) {
        return Err(R::UnknownIssuer);
    }
    let app = p
        .app_meta(iss)
        .await
        .map_err(|e| R::Refused(e.description))?
        .ok_or(R::UnknownIssuer)?;
    let kid = app
        .keys
        .iter()
        .filter(|k| {
            t.header.kid.is_none() || k.get("kid").and_then(|v| v.as_str()) == t.header.kid.as_deref()
        })
        .find(|k| app_keys::to_public_key(k).is_some_and(|pk| t.verify_rs256(&pk)))
        .and_then(|k| k.get("kid").and_then(|v| v.as_str()))
        .ok_or(R::NoKeyVerifies)?
        .to_owned();
    // Without a jti the token itself is the replay identifier: the same bytes are accepted once.
    let jti = match t.claims.get("jti") {
        Some(serde_json::Value::String(j)) if !j.is_empty() && j.len() <= 256 => {
            b64url(&sha256(j.as_bytes()))
        }
        Some(_) => return Err(R::BadJti),
        None => format!("t.{}", b64url(&sha256(token.as_bytes()))),
    };
    let once = app::UseAssertion { jti, exp, kid: kid.clone() };
    match crate::apps::replicas::use_assertion(p, iss, once).await {
        Ok(app::Client { app, epoch }) => Ok(Verified { app, epoch, kid }),
        Err(e) => Err(R::Refused(e.description)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13 item 3: `iat = -2^63, exp = 2^63 - 1` overflowed `exp - iat` and passed.
    #[test]
    fn extreme_times_are_refused() {
        let now = 1_800_000_000;
        assert!(check_times(now, Some(i64::MIN), i64::MAX, None).is_err());
        assert!(check_times(now, None, i64::MAX, None).is_err());
        assert!(check_times(now, Some(i64::MAX), i64::MAX, None).is_err());
        assert!(check_times(now, Some(now), now + 600, Some(i64::MIN)).is_ok());
        assert!(check_times(now, Some(now), now + 601, None).is_err());
        assert!(check_times(now, Some(now + 61), now + 300, None).is_err());
        assert!(check_times(i64::MAX, None, i64::MAX, None).is_err());
        assert!(check_times(now, Some(now - 10), now + 590, Some(now + 61)).is_err());
    }

    /// Property: whatever the inputs, an accepted assertion expires within `MAX_LIFETIME` (plus
    /// the skew) of now, is not expired, and the check never panics.
    #[test]
    fn accepted_times_always_expire_soon() {
        let edges = [i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX - 1, i64::MAX];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let now = 1_800_000_000i64;
        for i in 0..200_000u64 {
            let pick = |r: u64| -> i64 {
                match r % 4 {
                    0 => edges[(r >> 8) as usize % edges.len()],
                    1 => now + ((r >> 8) % 2000) as i64 - 1000,
                    2 => (r >> 1) as i64,
                    _ => -((r >> 1) as i64),
                }
            };
            let (a, b, c) = (next(), next(), next());
            let iat = (i % 3 != 0).then(|| pick(a));
            let exp = pick(b);
            let nbf = (i % 5 == 0).then(|| pick(c));
            if check_times(now, iat, exp, nbf).is_ok() {
                assert!(exp > now && exp <= now + SKEW + MAX_LIFETIME, "{iat:?} {exp} {nbf:?}");
                assert!(iat.is_none_or(|t| t <= now + SKEW && exp - t <= MAX_LIFETIME));
            }
        }
    }
}
