//! OpenID Connect RP-Initiated Logout 1.0 §3: `post_logout_redirect_uris`. What may be
//! registered is what may be registered as a redirect URI (`redirect_uri::validate`, at most
//! 20); a requested one is allowed only when it is byte for byte one the client registered
//! (no loopback port leniency, as node `oidc-provider`): anything else is never redirected to.

use super::redirect_uri;
use crate::error::{Error, ErrorCode, Result};

pub const MAX: usize = 20;

/// The rules for registering `uris`.
pub fn validate(uris: &[String]) -> Result<()> {
    if uris.len() > MAX {
        return Err(Error::invalid_request(format!("at most {MAX} post_logout_redirect_uris")));
    }
    for u in uris {
        redirect_uri::validate(u, false).map_err(|e| {
            Error::new(ErrorCode::InvalidRedirectUri, format!("post_logout_redirect_uris: {}", e.description))
        })?;
    }
    Ok(())
}

/// Whether `requested` is exactly one of `registered`.
pub fn allowed(registered: &[String], requested: &str) -> bool {
    registered.iter().any(|r| r == requested)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_follows_the_redirect_uri_rules() {
        let ok = |u: &str| validate(&[u.to_owned()]).is_ok();
        assert!(ok("https://rp.example/logged-out"));
        assert!(ok("http://127.0.0.1:8080/bye"));
        assert!(ok("com.example.app:/bye"));
        for bad in ["http://rp.example/bye", "https://rp.example/bye#x", "https://u@rp.example/", "/relative", "https://rp.example/a/../b", ""] {
            assert!(!ok(bad), "{bad}");
        }
        assert!(validate(&vec!["https://rp.example/".to_owned(); MAX + 1]).is_err());
    }

    #[test]
    fn a_requested_uri_must_match_exactly() {
        let reg = vec!["https://rp.example/bye".to_owned(), "http://127.0.0.1:8080/bye".to_owned()];
        assert!(allowed(&reg, "https://rp.example/bye"));
        for bad in ["https://rp.example/byE", "https://rp.example/bye/", "https://rp.example/bye?x=1",
            "HTTPS://rp.example/bye", "http://127.0.0.1:8081/bye", "https://rp.example/by", ""] {
            assert!(!allowed(&reg, bad), "{bad}");
        }
    }
}
