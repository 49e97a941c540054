//! The second factor (TOTP, RFC 6238) of a person: enrolment confirmed by a code, recovery
//! codes, and the second step of a log-in. The rules are `rules::totp` and
//! `rules::recovery_code`; what must hold under races (a code used once, the wrong-code limit,
//! a ticket used once) runs inside `objects::totp` and `objects::login_ticket`.
//!
//! `amr` (RFC 8176) of a log-in that passed the second step: `["pwd", "otp", "mfa"]` with an
//! authenticator's code; `["pwd", "mfa"]` with a recovery code — two factors were shown, but a
//! recovery code is not an RFC 4226/6238 one-time password, so `otp` is not claimed.

use super::cookies;
use crate::error::{Error, ErrorCode, Result};
use crate::http::Request;
use crate::objects::login_ticket::{self, TicketRecord};
use crate::objects::totp::{self, Method, Status};
use crate::objects::user::Profile;
use crate::objects::counter;
use crate::platform::{random_token, Platform};
use crate::rules::{recovery_code, totp as rule};
use crate::util::sha256_hex;

/// The `amr` of a log-in whose second step was passed with `method`, after `first` (the
/// first factor's methods, `["pwd"]`).
pub fn amr_after(first: &[String], method: Method) -> Vec<String> {
    let mut amr: Vec<String> = first.to_vec();
    let add = match method {
        Method::Totp => &["otp", "mfa"][..],
        Method::Recovery => &["mfa"][..],
    };
    for a in add {
        if !amr.iter().any(|m| m == a) {
            amr.push((*a).to_owned());
        }
    }
    amr
}

pub async fn status(p: &impl Platform, user_id: &str) -> Result<Status> {
    p.call(&totp::object(user_id), totp::GetStatus {}).await
}

/// Starts enrolling a new secret (20 random bytes) for the person; answers it in base32.
pub async fn begin(p: &impl Platform, user_id: &str) -> Result<String> {
    let mut secret = [0u8; rule::SECRET_BYTES];
    p.fill_random(&mut secret)?;
    let secret = rule::base32_encode(&secret);
    let cmd = totp::Begin {
        secret: secret.clone(),
        expires_at: p.now().saturating_add(totp::PENDING_TTL),
    };
    p.call(&totp::object(user_id), cmd).await?;
    Ok(secret)
}

/// The secret being enrolled (base32), while it lasts.
pub async fn pending(p: &impl Platform, user_id: &str) -> Result<Option<String>> {
    p.call(&totp::object(user_id), totp::GetPending {}).await
}

/// Ten new recovery codes: as shown once, and their hashes as stored.
fn new_recovery_codes(p: &impl Platform) -> Result<(Vec<String>, Vec<String>)> {
    let mut shown = Vec::with_capacity(recovery_code::COUNT);
    let mut hashes = Vec::with_capacity(recovery_code::COUNT);
    while shown.len() < recovery_code::COUNT {
        let mut bytes = [0u8; recovery_code::RANDOM_BYTES];
        p.fill_random(&mut bytes)?;
        let code = recovery_code::from_random(&bytes);
        let Some(h) = recovery_code::hash(&code) else {
            return Err(Error::server("a new recovery code does not read back"));
        };
        if !hashes.contains(&h) {
            shown.push(code);
            hashes.push(h);
        }
    }
    Ok((shown, hashes))
}

/// Confirms the enrolment with a code of the pending secret; answers the recovery codes,
/// to be shown this once.
pub async fn confirm(p: &impl Platform, user_id: &str, code: &str) -> Result<Vec<String>> {
    let (shown, hashes) = new_recovery_codes(p)?;
    let cmd = totp::Confirm {
        code: code.to_owned(),
        recovery: hashes,
        limit: p.config().login_limit_account,
    };
    p.call(&totp::object(user_id), cmd).await?;
    note(p, crate::objects::audit::EventType::TwoFactorEnable, user_id);
    Ok(shown)
}

/// Records a change of the person's second factor (by the person) as an audit event.
fn note(p: &impl Platform, kind: crate::objects::audit::EventType, user_id: &str) {
    use crate::objects::audit::{Event, Outcome};
    p.record(Event::new(kind, format!("person:{user_id}"), Outcome::Success).person(user_id));
}

/// New recovery codes (the old ones stop working), after a current authenticator code.
pub async fn regenerate(p: &impl Platform, user_id: &str, code: &str) -> Result<Vec<String>> {
    let (shown, hashes) = new_recovery_codes(p)?;
    let cmd = totp::Regenerate {
        code: code.to_owned(),
        recovery: hashes,
        limit: p.config().login_limit_account,
    };
    p.call(&totp::object(user_id), cmd).await?;
    note(p, crate::objects::audit::EventType::TwoFactorRecoveryRegenerate, user_id);
    Ok(shown)
}

/// Checks a current code (authenticator or recovery) under the wrong-code limit.
pub async fn verify(p: &impl Platform, user_id: &str, code: &str) -> Result<Method> {
    let cmd = totp::Verify {
        code: code.to_owned(),
        limit: p.config().login_limit_account,
        recovery: true,
    };
    p.call(&totp::object(user_id), cmd).await
}

/// Turns the factor off (the caller checked a code or the password).
pub async fn disable(p: &impl Platform, user_id: &str) -> Result<()> {
    p.call(&totp::object(user_id), totp::Disable {}).await?;
    note(p, crate::objects::audit::EventType::TwoFactorDisable, user_id);
    Ok(())
}

/// The password grant cannot ask for a second factor: people who have one use the
/// authorization endpoint's pages.
pub async fn refuse_without_second_step(p: &impl Platform, user_id: &str) -> Result<()> {
    if status(p, user_id).await?.enrolled {
        return Err(Error::invalid_grant(
            "this account has two-factor authentication: sign in through the authorization endpoint",
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The second step of a log-in
// ---------------------------------------------------------------------------------------------

/// The cookie that carries a pending log-in's ticket to `/login/2fa`.
pub fn ticket_cookie_name(req: &Request) -> String {
    if req.origin.starts_with("https://") {
        "__Host-portcullis_login2fa"
    } else {
        "portcullis_login2fa"
    }
    .to_owned()
}

/// `Set-Cookie` for the ticket (`None`: deletes it).
pub fn ticket_cookie(req: &Request, ticket: Option<&str>) -> String {
    match ticket {
        Some(t) => cookies::set(req, &ticket_cookie_name(req), t, login_ticket::TTL as u64),
        None => cookies::set(req, &ticket_cookie_name(req), "", 0),
    }
}

/// The ticket's object, when the request carries a ticket of the right shape.
fn ticket_object(req: &Request) -> Option<crate::objects::Name<login_ticket::LoginTicket>> {
    let t = cookies::get(req, &ticket_cookie_name(req))?;
    let shaped = t.len() == 43 && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    shaped.then(|| login_ticket::object(&sha256_hex(t)))
}

/// Whether a log-in by `amr` still needs the second step from a person who has a second
/// factor: unless it showed two factors already (`mfa`: a passkey with user verification).
pub fn needs_second_step(amr: &[&str]) -> bool {
    !amr.contains(&"mfa")
}

/// At the end of a first factor (`amr`, e.g. `["pwd"]`): if the person has a second factor and
/// the log-in [needs it](needs_second_step), a pending log-in (its ticket, for the cookie)
/// instead of a session; `None` otherwise (no extra object call for a log-in that has `mfa`).
pub async fn pending_login(
    p: &impl Platform,
    profile: &Profile,
    amr: &[&str],
    return_to: &str,
) -> Result<Option<String>> {
    if !needs_second_step(amr) || !status(p, &profile.id).await?.enrolled {
        return Ok(None);
    }
    let ticket = random_token(p, 32)?;
    let record = TicketRecord {
        profile: profile.clone(),
        amr: amr.iter().map(|m| (*m).to_owned()).collect(),
        return_to: return_to.to_owned(),
        expires_at: p.now().saturating_add(login_ticket::TTL),
        tries: 0,
    };
    p.call(&login_ticket::object(&sha256_hex(&ticket)), login_ticket::Create { record })
        .await?;
    Ok(Some(ticket))
}

/// The pending log-in the request's ticket names, while it lasts.
pub async fn pending_of(p: &impl Platform, req: &Request) -> Result<Option<TicketRecord>> {
    match ticket_object(req) {
        Some(name) => p.call(&name, login_ticket::Peek {}).await,
        None => Ok(None),
    }
}

/// What a code given at `/login/2fa` did.
#[derive(Debug)]
pub enum SecondStep {
    /// Right: the log-in is complete (the ticket is used up). `amr` says what was used.
    Passed { profile: Profile, amr: Vec<String>, return_to: String },
    /// Wrong; this many more tries are left on the ticket.
    Wrong { tries_left: u32 },
    /// No live ticket (expired, used, too many tries, or none): log in again.
    Expired,
}

/// Checks a second-step code for the request's pending log-in: one try of the ticket, then the
/// code under the per-address and per-person wrong-code limits (as passwords: reserved before
/// the check, given back when right; 429 `rate_limited` with `Retry-After` over either), then
/// the ticket is used up — once, even if two right codes race.
pub async fn second_step(p: &impl Platform, req: &Request, code: &str, recovery: bool) -> Result<SecondStep> {
    let Some(name) = ticket_object(req) else {
        return Ok(SecondStep::Expired);
    };
    let Some(ticket) = p.call(&name, login_ticket::Try {}).await? else {
        return Ok(SecondStep::Expired);
    };
    // A first factor passed before an operator's forced reset does not complete.
    let started = ticket.expires_at.saturating_sub(login_ticket::TTL);
    let cmd = crate::objects::people::StartedBeforeReset { started };
    if p.call(&crate::objects::user::object(&ticket.profile.id), cmd).await? {
        p.call(&name, login_ticket::Take {}).await?;
        return Ok(SecondStep::Expired);
    }
    let cfg = p.config();
    let ip = counter::login_address(&super::address(req));
    p.call(&ip, counter::Reserve { limit: cfg.login_limit_address })
        .await
        .inspect_err(|e| super::note_limited(p, e, Some(&ticket.profile.id), "address"))?;
    let cmd = totp::Verify {
        code: code.to_owned(),
        limit: cfg.login_limit_account,
        recovery,
    };
    let method = match p.call(&totp::object(&ticket.profile.id), cmd).await {
        Ok(m) => m,
        Err(e) if e.code == ErrorCode::RateLimited => {
            super::note_limited(p, &e, Some(&ticket.profile.id), "second factor");
            return Err(e);
        }
        Err(e) if e.code == ErrorCode::AccessDenied => {
            let tries_left = login_ticket::MAX_TRIES.saturating_sub(ticket.tries);
            if tries_left == 0 {
                p.call(&name, login_ticket::Take {}).await?;
                return Ok(SecondStep::Expired);
            }
            return Ok(SecondStep::Wrong { tries_left });
        }
        Err(e) => return Err(e),
    };
    p.call(&ip, counter::Release {}).await?;
    let Some(ticket) = p.call(&name, login_ticket::Take {}).await? else {
        return Ok(SecondStep::Expired);
    };
    Ok(SecondStep::Passed {
        amr: amr_after(&ticket.amr, method),
        profile: ticket.profile,
        return_to: ticket.return_to,
    })
}

/// Ends the request's pending log-in (the person chose to start over).
pub async fn abandon(p: &impl Platform, req: &Request) -> Result<()> {
    if let Some(name) = ticket_object(req) {
        p.call(&name, login_ticket::Take {}).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_log_in_without_mfa_needs_the_second_step() {
        assert!(needs_second_step(&["pwd"]));
        assert!(needs_second_step(&["hwk", "user"]));
        assert!(needs_second_step(&[]));
        assert!(!needs_second_step(&["hwk", "user", "mfa"]));
        assert!(!needs_second_step(&["swk", "user", "mfa"]));
    }

    #[test]
    fn amr_names_what_was_used() {
        let pwd = vec!["pwd".to_owned()];
        assert_eq!(amr_after(&pwd, Method::Totp), ["pwd", "otp", "mfa"]);
        assert_eq!(amr_after(&pwd, Method::Recovery), ["pwd", "mfa"]);
        // Nothing twice.
        let both = vec!["pwd".to_owned(), "mfa".to_owned()];
        assert_eq!(amr_after(&both, Method::Totp), ["pwd", "mfa", "otp"]);
    }
}
