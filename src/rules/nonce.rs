//! The `nonce` of an authentication request (OpenID Connect Core 1.0 §3.1.2.1): echoed exactly
//! in the ID token, so it is kept only when it is short and printable. Empty is as absent.

use crate::error::{Error, Result};

/// At most this many characters (node `oidc-provider` sets no limit; ID tokens must stay small).
pub const MAX_CHARS: usize = 512;

/// The nonce to carry into the code, or `invalid_request`: too long, or a control character.
pub fn check(nonce: Option<&str>) -> Result<Option<String>> {
    let Some(n) = nonce.filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    if n.len() > MAX_CHARS * 4 || n.chars().count() > MAX_CHARS {
        return Err(Error::invalid_request(format!(
            "nonce is too long (at most {MAX_CHARS} characters)"
        )));
    }
    if n.chars().any(char::is_control) {
        return Err(Error::invalid_request("nonce contains control characters"));
    }
    Ok(Some(n.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_bounded_and_printable() {
        assert_eq!(check(None).unwrap(), None);
        assert_eq!(check(Some("")).unwrap(), None);
        assert_eq!(check(Some("n-0S6_WzA2Mj")).unwrap().as_deref(), Some("n-0S6_WzA2Mj"));
        let edge = "é".repeat(MAX_CHARS);
        assert_eq!(check(Some(&edge)).unwrap().as_deref(), Some(edge.as_str()));
        assert!(check(Some(&"a".repeat(MAX_CHARS + 1))).is_err());
        for bad in ["a\nb", "a\rb", "a\tb", "\u{0}", "x\u{7f}", "\u{85}"] {
            assert!(check(Some(bad)).is_err(), "{bad:?} accepted");
        }
        // Spaces and any printable text are echoed exactly.
        assert_eq!(check(Some(" a b ")).unwrap().as_deref(), Some(" a b "));
    }
}
