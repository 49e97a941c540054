//! OpenID Connect Back-Channel Logout 1.0 §2.2: an app's `backchannel_logout_uri`, where the
//! server POSTs logout tokens. One absolute `https` URL with a host (the redirect-URI rules:
//! no fragment, no user information, read the same by the WHATWG parser); `http` only on a
//! loopback host (`localhost`, `127.0.0.1`, `[::1]`) and only in development (no `ISSUER`
//! set), for local test listeners.

use super::redirect_uri;
use crate::error::{Error, Result};

const LOOPBACK_HOSTS: [&str; 3] = ["127.0.0.1", "[::1]", "localhost"];

pub fn validate(uri: &str, development: bool) -> Result<()> {
    let bad = |why: &str| Error::invalid_request(format!("backchannel_logout_uri {why}"));
    redirect_uri::validate(uri, false).map_err(|e| bad(&format!("is invalid: {}", e.description)))?;
    let https = uri.starts_with("https://");
    let loopback_http = uri
        .strip_prefix("http://")
        .map(|rest| rest.split(['/', '?']).next().unwrap_or(""))
        .map(|authority| {
            let host = if authority.starts_with('[') {
                authority.split_inclusive(']').next().unwrap_or("")
            } else {
                authority.rsplit_once(':').map_or(authority, |(h, _)| h)
            };
            LOOPBACK_HOSTS.contains(&host)
        })
        .unwrap_or(false);
    if https || (loopback_http && development) {
        Ok(())
    } else {
        Err(bad("must be an https URL (http only on a loopback host in development)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_always_loopback_http_in_development_only() {
        assert!(validate("https://rp.example/backchannel", false).is_ok());
        assert!(validate("https://rp.example:8443/bc?x=1", false).is_ok());
        for dev_only in ["http://127.0.0.1:9000/bc", "http://localhost:9000/bc", "http://[::1]:9000/bc"] {
            assert!(validate(dev_only, true).is_ok(), "{dev_only}");
            assert!(validate(dev_only, false).is_err(), "{dev_only}");
        }
        for bad in ["http://rp.example/bc", "com.example.app:/bc", "https://rp.example/bc#f",
            "https://u@rp.example/bc", "http://127.0.0.1.evil.example/bc", "/bc", "", "https:///bc"] {
            assert!(validate(bad, true).is_err(), "{bad}");
        }
    }
}
