//! `login_hint` (OpenID Connect Core 1.0 §3.1.2.1): what the client knows of who is logging in,
//! here an email to prefill the log-in page with. Only a hint: it is never trusted, only shown
//! (escaped, as every string on a page), so it is kept only when short and printable.

use crate::error::{Error, Result};

/// At most this many characters (an email is at most 254).
pub const MAX_CHARS: usize = 256;

/// The hint as the log-in page may show it, or `None`.
pub fn usable(hint: Option<&str>) -> Option<&str> {
    hint.filter(|h| !h.is_empty() && h.len() <= MAX_CHARS * 4 && h.chars().count() <= MAX_CHARS && !h.chars().any(char::is_control))
}

/// At the authorization endpoint: the hint, or `invalid_request` (too long, control characters).
pub fn check(hint: Option<&str>) -> Result<Option<String>> {
    match hint {
        None | Some("") => Ok(None),
        Some(h) => usable(Some(h)).map(|h| Some(h.to_owned())).ok_or_else(|| {
            Error::invalid_request(format!(
                "login_hint must be at most {MAX_CHARS} printable characters"
            ))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_are_bounded_and_printable() {
        assert_eq!(check(None).unwrap(), None);
        assert_eq!(check(Some("")).unwrap(), None);
        assert_eq!(check(Some("ann@example.com")).unwrap().as_deref(), Some("ann@example.com"));
        let edge = "é".repeat(MAX_CHARS);
        assert_eq!(check(Some(&edge)).unwrap().as_deref(), Some(edge.as_str()));
        assert!(check(Some(&"a".repeat(MAX_CHARS + 1))).is_err());
        for bad in ["a\tb", "a\nb", "\u{0}", "\u{85}"] {
            assert!(check(Some(bad)).is_err(), "{bad:?}");
            assert_eq!(usable(Some(bad)), None);
        }
        assert_eq!(usable(Some(&"a".repeat(MAX_CHARS + 1))), None);
        assert_eq!(usable(Some("\"><script>")), Some("\"><script>"), "shown escaped, not refused");
    }
}
