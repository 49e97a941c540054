//! The operator console's session and CSRF rules (pure: the caller hands in the request's
//! parts). A console session is its own cookie (never the people's log-in session): `HttpOnly`,
//! `SameSite=Strict`, `__Host-` and `Secure` on HTTPS, [`TTL`] seconds from sign-in and never
//! extended. Its object holds a CSRF token of its own (a synchronizer token, not a double-submit
//! cookie): every form of a signed-in page carries it, and every change checks it with
//! [`check_change`].

use crate::error::{Error, ErrorCode, Result};
use crate::util::ct_eq;

/// A console session's lifetime (seconds), from sign-in; not extended by use.
pub const TTL: i64 = 30 * 60;

/// The lifetime in force: [`TTL`], or a shorter one the deployment sets
/// (`CONSOLE_SESSION_SECONDS`, which can only make it stricter; the tests use it to see a
/// session expire without waiting half an hour).
pub fn ttl(configured: Option<u64>) -> i64 {
    match configured {
        Some(s) => i64::try_from(s).unwrap_or(TTL).clamp(1, TTL),
        None => TTL,
    }
}

/// The console's cookie name.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-portcullis_console"
    } else {
        "portcullis_console"
    }
}

/// `Set-Cookie` for the console session (`max_age` 0 deletes it).
pub fn set_cookie(secure: bool, value: &str, max_age: i64) -> String {
    let mut c = format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        cookie_name(secure),
        max_age.max(0)
    );
    if secure {
        c.push_str("; Secure");
    }
    c
}

/// Whether a cookie value could be one of ours (32 random bytes, base64url): anything else is
/// refused before any storage is asked.
pub fn well_formed(token: &str) -> bool {
    token.len() == 43 && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A session is alive strictly before its end.
pub fn alive(expires_at: i64, now: i64) -> bool {
    now < expires_at
}

/// The request parts a change is judged by.
pub struct ChangeRequest<'a> {
    /// The origin the request was sent to (scheme://host[:port]).
    pub origin: &'a str,
    /// Its `Origin` header, if any.
    pub origin_header: Option<&'a str>,
    /// Its `Sec-Fetch-Site` header, if any.
    pub fetch_site: Option<&'a str>,
    /// The CSRF token it carries (form field `csrf`, or the API's `x-csrf-token` header).
    pub presented: Option<&'a str>,
}

fn refused(why: &str) -> Error {
    Error::new(ErrorCode::AccessDenied, why.to_owned())
}

/// A change by a console session: the session's own CSRF token, in constant time, from this
/// origin (`Origin: null`, sent under `no-referrer`, proves nothing and the token decides; a
/// cross-site fetch is refused whatever it carries).
pub fn check_change(session_csrf: &str, r: &ChangeRequest<'_>) -> Result<()> {
    if let Some(o) = r.origin_header.filter(|o| *o != "null") {
        if o != r.origin {
            return Err(refused("this form was sent from another site"));
        }
    }
    if matches!(r.fetch_site, Some("cross-site" | "same-site")) {
        return Err(refused("this form was sent from another site"));
    }
    match r.presented {
        Some(t) if session_csrf.len() >= 32 && ct_eq(t.as_bytes(), session_csrf.as_bytes()) => Ok(()),
        Some(_) => Err(refused("the form's security token is wrong; reload the page and try again")),
        None => Err(refused("the form has no security token; reload the page and try again")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSRF: &str = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";

    fn req<'a>(presented: Option<&'a str>, origin: Option<&'a str>, site: Option<&'a str>) -> ChangeRequest<'a> {
        ChangeRequest { origin: "https://as.example", origin_header: origin, fetch_site: site, presented }
    }

    #[test]
    fn a_change_needs_the_sessions_own_token_from_this_origin() {
        assert!(check_change(CSRF, &req(Some(CSRF), None, None)).is_ok());
        assert!(check_change(CSRF, &req(Some(CSRF), Some("https://as.example"), Some("same-origin"))).is_ok());
        assert!(check_change(CSRF, &req(Some(CSRF), Some("null"), None)).is_ok());
        let bad = [
            req(None, None, None),
            req(Some(""), None, None),
            req(Some("0123456789abcdefghijklmnopqrstuvwxyzABCDEFg"), None, None),
            req(Some("0123456789abcdefghijklmnopqrstuvwxyzABCDEF"), None, None),
            req(Some(CSRF), Some("https://evil.example"), None),
            req(Some(CSRF), Some("http://as.example"), None),
            req(Some(CSRF), None, Some("cross-site")),
            req(Some(CSRF), None, Some("same-site")),
        ];
        for r in bad {
            let e = check_change(CSRF, &r).unwrap_err();
            assert_eq!(e.status(), 403, "{:?}", r.presented);
        }
        // A session whose token is missing or short never accepts one.
        assert!(check_change("", &req(Some(""), None, None)).is_err());
        assert!(check_change("short", &req(Some("short"), None, None)).is_err());
    }

    #[test]
    fn the_lifetime_can_only_be_made_shorter() {
        assert_eq!(ttl(None), TTL);
        assert_eq!(ttl(Some(2)), 2);
        assert_eq!(ttl(Some(0)), 1);
        assert_eq!(ttl(Some(86_400)), TTL);
        assert_eq!(ttl(Some(u64::MAX)), TTL);
    }

    #[test]
    fn sessions_end_at_their_time_and_cookies_are_strict() {
        assert!(alive(100, 99));
        assert!(!alive(100, 100));
        assert!(!alive(100, 101));
        let c = set_cookie(true, "v", TTL);
        assert_eq!(c, "__Host-portcullis_console=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=1800; Secure");
        assert_eq!(set_cookie(false, "", -5), "portcullis_console=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
        assert!(well_formed(CSRF));
        for bad in ["", "x", "0123456789abcdefghijklmnopqrstuvwxyzABCDEF=", "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH", "0123456789abcdefghijklmnopqrstuvwxyzABCDE;"] {
            assert!(!well_formed(bad), "{bad}");
        }
    }
}
