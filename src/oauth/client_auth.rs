//! Client authentication at the token, introspection and revocation endpoints:
//! `client_secret_basic`, `client_secret_post`, `private_key_jwt` and `none` (public clients).
//! Exactly one method per request (RFC 6749 §2.3); failures are 401 `invalid_client`, with a
//! `Basic` challenge when Basic was tried.

use crate::http::params::{percent_decode, Params};
use crate::http::Request;
use crate::model::{valid_client_id, App};
use crate::oauth::assertion::{self, Rules};
use crate::error::{Challenge, Error, ErrorCode, Result};
use crate::objects::app;
use crate::platform::Platform;
use crate::util::sha256_hex;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// What every failed client authentication says, whatever the reason.
const FAILED: &str = "client authentication failed";

pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presented {
    Basic { id: String, secret: String },
    Post { id: String, secret: String },
    Jwt { assertion: String, id: Option<String> },
    None { id: String },
}

#[derive(Debug)]
pub struct Authenticated {
    pub app: App,
    pub epoch: u64,
    pub method: &'static str,
}


/// Reads which credentials a request presents. `Ok(None)`: none at all.
pub fn presented(req: &Request, params: &Params) -> Result<Option<Presented>> {
    // Split on the first space, never at a byte offset: a header may hold any characters.
    let basic = match req.header("authorization").and_then(|h| h.split_once(' ')) {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("basic") => Some(parse_basic(rest)?),
        _ => None,
    };
    let post_secret = params.get("client_secret");
    let assertion = params.get("client_assertion");
    let methods = basic.is_some() as u8 + post_secret.is_some() as u8 + assertion.is_some() as u8;
    if methods > 1 {
        return Err(Error::invalid_request(
            "use exactly one client authentication method",
        ));
    }
    if let Some((id, secret)) = basic {
        if params.get("client_id").is_some_and(|p| p != id) {
            return Err(Error::invalid_request(
                "client_id does not match the Basic credentials",
            ));
        }
        return Ok(Some(Presented::Basic { id, secret }));
    }
    if let Some(secret) = post_secret {
        let id = params.require("client_id")?;
        return Ok(Some(Presented::Post {
            id: id.to_owned(),
            secret: secret.to_owned(),
        }));
    }
    if let Some(a) = assertion {
        if params.get("client_assertion_type") != Some(ASSERTION_TYPE) {
            return Err(Error::invalid_request(format!(
                "client_assertion_type must be {ASSERTION_TYPE}"
            )));
        }
        return Ok(Some(Presented::Jwt {
            assertion: a.to_owned(),
            id: params.get("client_id").map(str::to_owned),
        }));
    }
    Ok(params
        .get("client_id")
        .map(|id| Presented::None { id: id.to_owned() }))
}

/// RFC 6749 §2.3.1: id and secret are form-urlencoded before Base64.
fn parse_basic(b64: &str) -> Result<(String, String)> {
    let bad = || Error::invalid_client("malformed HTTP Basic credentials").with_challenge(Challenge::Basic);
    let raw = STANDARD.decode(b64.trim()).map_err(|_| bad())?;
    let mut halves = raw.splitn(2, |b| *b == b':');
    let (Some(id), Some(secret)) = (halves.next(), halves.next()) else {
        return Err(bad());
    };
    let id = percent_decode(id).map_err(|_| bad())?;
    let secret = percent_decode(secret).map_err(|_| bad())?;
    Ok((id, secret))
}

/// Authenticates the presented credentials against the app's Durable Object (authoritative:
/// a regenerated secret or a disabled app fails at once). `audiences` are the `aud` values a
/// client assertion may carry (the issuer and the endpoint URL).
pub async fn authenticate(
    p: &impl Platform,
    req: &Request,
    creds: Presented,
    audiences: &[String],
) -> Result<Authenticated> {
    let (id, secret, method, challenge) = match creds {
        Presented::Basic { id, secret } => (id, Some(secret), "client_secret_basic", Some(Challenge::Basic)),
        Presented::Post { id, secret } => (id, Some(secret), "client_secret_post", None),
        Presented::None { id } => (id, None, "none", None),
        Presented::Jwt { assertion, id } => {
            let rules = Rules {
                require_aud: true,
                require_iat: false,
                require_sub_is_iss: true,
                require_sub: true,
                audiences,
            };
            let v = assertion::verify(p, &assertion, &rules)
                .await
                .map_err(|r| Error::assertion(ErrorCode::InvalidClient, r))?;
            if id.is_some_and(|id| id != v.app.client_id) {
                return Err(Error::invalid_client(
                    "client_id does not match the client assertion",
                ));
            }
            return Ok(Authenticated {
                app: v.app,
                epoch: v.epoch,
                method: "private_key_jwt",
            });
        }
    };
    let fail = |msg: &str| {
        let e = Error::invalid_client(msg.to_owned());
        match &challenge {
            Some(c) => e.with_challenge(c.clone()),
            None => e,
        }
    };
    // An unknown client and a wrong secret answer alike (issue 13 item 16).
    if !valid_client_id(&id) {
        return Err(fail(FAILED));
    }
    // Secrets we issue are 32 characters; hashing first keeps the comparison length-independent.
    let secret_hash = secret.as_deref().map(sha256_hex);
    if p.app_meta(&id).await?.is_none() {
        return Err(fail(FAILED));
    }
    // On one of the app's shards, with its share of the limits (issue 17).
    match crate::apps::replicas::authenticate(p, &id, secret_hash, crate::accounts::address(req)).await {
        Ok(app::Client { app, epoch }) => Ok(Authenticated { app, epoch, method }),
        Err(e) if e.code == crate::error::ErrorCode::InvalidClient => Err(fail(&e.description)),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(auth: Option<&str>) -> Request {
        Request {
            headers: auth
                .map(|a| vec![("authorization".into(), a.into())])
                .unwrap_or_default(),
            ..Default::default()
        }
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let b = STANDARD.encode("my%20id:s%3Acret");
        let p = presented(&req(Some(&format!("Basic {b}"))), &Params::default()).unwrap();
        assert_eq!(
            p,
            Some(Presented::Basic {
                id: "my id".into(),
                secret: "s:cret".into()
            })
        );
    }

    #[test]
    fn two_methods_are_refused() {
        let b = STANDARD.encode("a:b");
        let params = Params::parse_form(b"client_id=a&client_secret=b").unwrap();
        let e = presented(&req(Some(&format!("Basic {b}"))), &params).unwrap_err();
        assert_eq!(e.code.as_str(), "invalid_request");
    }

    /// Issue 13 item 1: one non-ASCII character after the scheme once sliced a `str` inside a
    /// character and panicked. Every such header is now a plain protocol error or ignored.
    #[test]
    fn non_ascii_authorization_never_panics() {
        for h in ["Basic\u{e9}AAAA", "Basic\u{e9}", "\u{e9}\u{e9}\u{e9}", "Basi\u{e9} AAAA", "Basic \u{e9}\u{e9}", "B\u{10000}", "Basic  ", " ", "Basic"] {
            let r = presented(&req(Some(h)), &Params::default());
            if let Err(e) = r {
                assert_eq!(e.code.as_str(), "invalid_client", "{h:?}");
            }
        }
        let e = presented(&req(Some("Basic \u{e9}AAAA")), &Params::default()).unwrap_err();
        assert_eq!(e.status(), 401);
    }

    #[test]
    fn malformed_basic_is_invalid_client_with_challenge() {
        let e = presented(&req(Some("Basic !!!")), &Params::default()).unwrap_err();
        assert_eq!(e.status(), 401);
        assert!(e.www_authenticate().unwrap().starts_with("Basic"));
    }
}
