//! `prompt` and `max_age` of an authentication request (OpenID Connect Core 1.0 §3.1.2.1,
//! §3.1.2.3-6), and what the authorization endpoint does next: ask the person to log in, to
//! choose an account, to consent, or go on and issue a code. With `prompt=none` it never
//! shows a page: the step it would have shown becomes the error that goes back to the client
//! (`login_required`, `consent_required`, `interaction_required`).
//!
//! A fresh log-in made for the request satisfies `prompt=login`, `max_age` and
//! `prompt=select_account` once: the log-in page returns to the request with a marker of when
//! it was sent there ([`fresh`]), so a request that asks for a new log-in cannot loop.

use crate::error::{Error, ErrorCode, Result};

/// The values of `prompt` (a space-separated set; `none` stands alone).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
    pub select_account: bool,
}

/// Parses `prompt`: the four values of Core §3.1.2.1, each at most once; `none` with any other
/// value, an unknown value or a repeated one is `invalid_request` (as node `oidc-provider`).
pub fn parse_prompt(value: Option<&str>) -> Result<Prompt> {
    let mut p = Prompt::default();
    let Some(value) = value else {
        return Ok(p);
    };
    for v in value.split(' ').filter(|v| !v.is_empty()) {
        let slot = match v {
            "none" => &mut p.none,
            "login" => &mut p.login,
            "consent" => &mut p.consent,
            "select_account" => &mut p.select_account,
            _ => return Err(Error::invalid_request("unsupported prompt value requested")),
        };
        if *slot {
            return Err(Error::invalid_request("a prompt value is repeated"));
        }
        *slot = true;
    }
    if p.none && (p.login || p.consent || p.select_account) {
        return Err(Error::invalid_request(
            "prompt none must only be used alone",
        ));
    }
    Ok(p)
}

/// The largest `max_age` taken: JavaScript's largest safe integer, as node `oidc-provider`.
pub const MAX_MAX_AGE: u64 = (1 << 53) - 1;

/// Parses `max_age`: a non-negative integer of seconds, digits only (no sign, fraction,
/// exponent or space), at most [`MAX_MAX_AGE`]; anything else is `invalid_request`.
pub fn parse_max_age(value: Option<&str>) -> Result<Option<u64>> {
    let Some(v) = value else {
        return Ok(None);
    };
    match v.parse::<u64>() {
        Ok(n) if v.bytes().all(|b| b.is_ascii_digit()) && n <= MAX_MAX_AGE => Ok(Some(n)),
        _ => Err(Error::invalid_request(
            "max_age must be a non-negative integer",
        )),
    }
}

/// How long a marker of "sent to log in at T" stays good: a log-in page left open longer sends
/// the person to log in once more. A marker is only a lower bound on the log-in's time, so one
/// written by anyone else can at most let a log-in of the last few minutes count as fresh.
pub const FRESH_WINDOW: i64 = 900;

/// Whether the session's log-in (`auth_time`) was made for this request: after the time the
/// endpoint sent the person to log in (`marker`, seconds), which is at most
/// [`FRESH_WINDOW`] old and not in the future.
pub fn fresh(marker: Option<&str>, auth_time: i64, now: i64) -> bool {
    let Some(t) = marker
        .filter(|m| !m.is_empty() && m.len() <= 12 && m.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|m| m.parse::<i64>().ok())
    else {
        return false;
    };
    t <= now && now - t <= FRESH_WINDOW && auth_time >= t
}

/// What is known of the person at the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signed {
    /// When the session's person logged in.
    pub auth_time: i64,
    /// That log-in was made for this request ([`fresh`]).
    pub fresh: bool,
    /// `id_token_hint` named someone else (`None`: no hint).
    pub hint_mismatch: bool,
}

/// The endpoint's next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Send the person to the log-in page (and back).
    LogIn,
    /// Show who is signed in, with "continue" and "use another account".
    SelectAccount,
    /// Show the consent page.
    Consent,
    /// Issue the code.
    Proceed,
}

/// The step for a request with `prompt` and `max_age`, a session (or none) and whether the
/// person's consent covers the request (`consent_remembered`: remembered and usable for this
/// client). With `prompt=none` any step but [`Step::Proceed`] is the error for it.
///
/// - no session: log in;
/// - a log-in made for this request satisfies `login`, `max_age` and `select_account`; if the
///   hint still names someone else, `login_required` (Core: the hinted person, or an error);
/// - `prompt=login`, or a log-in older than `max_age` seconds (`max_age=0`: always): log in;
/// - the hint names someone else: log in (with `prompt=none`: `login_required`);
/// - `prompt=select_account`: choose;
/// - `prompt=consent`, or consent not remembered: consent.
pub fn next_step(
    prompt: Prompt,
    max_age: Option<u64>,
    session: Option<Signed>,
    consent_remembered: bool,
    now: i64,
) -> Result<Step> {
    let step = match session {
        None => Step::LogIn,
        Some(s) if s.fresh && s.hint_mismatch => {
            return Err(Error::new(
                ErrorCode::LoginRequired,
                "the signed-in person is not the one the request names",
            ))
        }
        Some(s) if !s.fresh && (prompt.login || too_old(max_age, s.auth_time, now)) => Step::LogIn,
        Some(s) if !s.fresh && s.hint_mismatch => Step::LogIn,
        Some(s) if !s.fresh && prompt.select_account => Step::SelectAccount,
        Some(_) if prompt.consent || !consent_remembered => Step::Consent,
        Some(_) => Step::Proceed,
    };
    match silent_error(step, session.is_some_and(|s| s.hint_mismatch)) {
        Some(e) if prompt.none => Err(e),
        _ => Ok(step),
    }
}

/// Whether a log-in at `auth_time` is older than `max_age` seconds at `now`.
fn too_old(max_age: Option<u64>, auth_time: i64, now: i64) -> bool {
    match max_age {
        None => false,
        Some(0) => true,
        Some(m) => now.saturating_sub(auth_time) > i64::try_from(m).unwrap_or(i64::MAX),
    }
}

/// The `prompt=none` answer for a step that would show a page (Core §3.1.2.6).
fn silent_error(step: Step, hint_mismatch: bool) -> Option<Error> {
    let (code, words) = match step {
        Step::Proceed => return None,
        Step::LogIn if hint_mismatch => (
            ErrorCode::LoginRequired,
            "the signed-in person is not the one the request names",
        ),
        Step::LogIn => (ErrorCode::LoginRequired, "the person must log in"),
        Step::Consent => (ErrorCode::ConsentRequired, "the person must consent"),
        Step::SelectAccount => (ErrorCode::InteractionRequired, "the person must choose an account"),
    };
    Some(Error::new(code, words))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(r: Result<Step>) -> &'static str {
        match r {
            Ok(_) => "ok",
            Err(e) => e.code.as_str(),
        }
    }

    #[test]
    fn prompt_values_parse_as_a_set() {
        assert_eq!(parse_prompt(None).unwrap(), Prompt::default());
        let p = parse_prompt(Some("login consent")).unwrap();
        assert!(p.login && p.consent && !p.none && !p.select_account);
        assert!(parse_prompt(Some("none")).unwrap().none);
        assert!(parse_prompt(Some(" select_account ")).unwrap().select_account);
        for bad in ["none login", "login none", "none consent", "none select_account", "login login", "Login", "nonee", "none\tlogin", "x"] {
            let e = parse_prompt(Some(bad)).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidRequest, "{bad:?}");
        }
    }

    #[test]
    fn max_age_is_a_non_negative_integer() {
        assert_eq!(parse_max_age(None).unwrap(), None);
        assert_eq!(parse_max_age(Some("0")).unwrap(), Some(0));
        assert_eq!(parse_max_age(Some("007")).unwrap(), Some(7));
        assert_eq!(parse_max_age(Some("9007199254740991")).unwrap(), Some(MAX_MAX_AGE));
        for bad in ["-1", "+5", "abc", "1.5", "1e3", " 5", "5 ", "", "٣", "9007199254740992", "99999999999999999999999"] {
            assert!(parse_max_age(Some(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_marker_is_fresh_only_when_recent_and_before_the_log_in() {
        assert!(fresh(Some("1000"), 1000, 1005));
        assert!(fresh(Some("1000"), 1003, 1005));
        assert!(!fresh(Some("1000"), 999, 1005), "logged in before the marker");
        assert!(!fresh(Some("1006"), 1006, 1005), "a marker in the future");
        assert!(!fresh(Some("1000"), 2000, 1000 + FRESH_WINDOW + 1), "too old");
        for bad in [None, Some(""), Some("-1"), Some("x"), Some("+1000"), Some("9999999999999")] {
            assert!(!fresh(bad, 1000, 1005), "{bad:?}");
        }
    }

    const NOW: i64 = 10_000;

    fn signed(auth_time: i64) -> Option<Signed> {
        Some(Signed { auth_time, fresh: false, hint_mismatch: false })
    }

    #[test]
    fn steps() {
        let none = Prompt { none: true, ..Prompt::default() };
        let login = Prompt { login: true, ..Prompt::default() };
        let consent = Prompt { consent: true, ..Prompt::default() };
        let select = Prompt { select_account: true, ..Prompt::default() };
        let plain = Prompt::default();
        // No session.
        assert_eq!(next_step(plain, None, None, true, NOW).unwrap(), Step::LogIn);
        assert_eq!(code(next_step(none, None, None, true, NOW)), "login_required");
        // A session with remembered consent.
        assert_eq!(next_step(plain, None, signed(1), true, NOW).unwrap(), Step::Proceed);
        assert_eq!(next_step(none, None, signed(1), true, NOW).unwrap(), Step::Proceed);
        assert_eq!(code(next_step(none, None, signed(1), false, NOW)), "consent_required");
        assert_eq!(next_step(plain, None, signed(1), false, NOW).unwrap(), Step::Consent);
        assert_eq!(next_step(consent, None, signed(1), true, NOW).unwrap(), Step::Consent);
        assert_eq!(next_step(login, None, signed(1), true, NOW).unwrap(), Step::LogIn);
        assert_eq!(next_step(select, None, signed(1), true, NOW).unwrap(), Step::SelectAccount);
        // max_age: older re-authenticates; 0 always does; not older goes on.
        assert_eq!(next_step(plain, Some(60), signed(NOW - 61), true, NOW).unwrap(), Step::LogIn);
        assert_eq!(next_step(plain, Some(60), signed(NOW - 60), true, NOW).unwrap(), Step::Proceed);
        assert_eq!(next_step(plain, Some(0), signed(NOW), true, NOW).unwrap(), Step::LogIn);
        assert_eq!(next_step(plain, Some(MAX_MAX_AGE), signed(i64::MIN), true, NOW).unwrap(), Step::LogIn);
        assert_eq!(next_step(plain, Some(MAX_MAX_AGE), signed(0), true, NOW).unwrap(), Step::Proceed);
        assert_eq!(code(next_step(none, Some(60), signed(NOW - 61), true, NOW)), "login_required");
        // A fresh log-in satisfies login, max_age=0 and select_account: no loop.
        let fresh = Some(Signed { auth_time: NOW, fresh: true, hint_mismatch: false });
        assert_eq!(next_step(login, Some(0), fresh, true, NOW).unwrap(), Step::Proceed);
        assert_eq!(next_step(select, None, fresh, true, NOW).unwrap(), Step::Proceed);
        assert_eq!(next_step(Prompt { login: true, consent: true, ..plain }, None, fresh, true, NOW).unwrap(), Step::Consent);
        // id_token_hint naming someone else.
        let other = Some(Signed { auth_time: 1, fresh: false, hint_mismatch: true });
        assert_eq!(next_step(plain, None, other, true, NOW).unwrap(), Step::LogIn);
        assert_eq!(code(next_step(none, None, other, true, NOW)), "login_required");
        let other_fresh = Some(Signed { auth_time: NOW, fresh: true, hint_mismatch: true });
        assert_eq!(code(next_step(plain, None, other_fresh, true, NOW)), "login_required");
    }
}
