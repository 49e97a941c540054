//! `aud` of access tokens: the configured audience, or an RFC 8707 `resource` the server
//! is configured to serve.

use crate::error::{Error, ErrorCode, Result};
use crate::platform::Platform;

pub fn audience(p: &impl Platform, issuer: &str, resource: Option<&str>) -> Result<String> {
    let cfg = p.config();
    match resource {
        None => Ok(cfg.audience.clone().unwrap_or_else(|| issuer.to_owned())),
        Some(r) if cfg.resources.iter().any(|x| x == r) || cfg.audience.as_deref() == Some(r) => {
            Ok(r.to_owned())
        }
        Some(_) => Err(Error::new(
            ErrorCode::InvalidTarget,
            "the requested resource is not served here",
        )),
    }
}
