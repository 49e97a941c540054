//! OpenID Connect RP-Initiated Logout 1.0: the `end_session_endpoint` (`/oauth/logout`, GET
//! and POST form) and its rules. The request is checked whole before anything changes:
//!
//! - `id_token_hint`, when given, must be an ID token this tenant signed (its keys, `typ:
//!   JWT`, `iss` = this issuer; expiry is not required, §2). A hint of another tenant, a foreign
//!   issuer, a bad signature or a malformed token gets an error page and changes nothing.
//! - The client is `client_id`, or the hint's audience; with both they must agree (§2).
//! - `post_logout_redirect_uri` needs a client and must be exactly one it registered
//!   (`rules::post_logout_redirect_uri`); anything else is never redirected to: an error page.
//! - `state` (at most 2000 bytes, as at the authorization endpoint) is echoed on the redirect;
//!   `ui_locales` is accepted (the pages have one language).
//!
//! The page flow (confirmation, ending the session, where the browser goes) is in
//! `pages::logout`.

use crate::crypto::jwt;
use crate::error::{Error, ErrorCode, Result};
use crate::http::params::Params;
use crate::model::{App, Status};
use crate::platform::Platform;
use crate::rules::post_logout_redirect_uri;

pub const MAX_STATE: usize = 2000;

/// A checked end-session request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndSession {
    /// The hint's `sub`, when a valid hint was given.
    pub hinted_sub: Option<String>,
    /// The app named, for what its subjects are (`oauth::subject`).
    pub app: Option<App>,
    /// The client, when one was named (by `client_id` or the hint).
    pub client_id: Option<String>,
    /// Where to send the browser afterwards: registered by the client (exact match).
    pub redirect: Option<String>,
    pub state: Option<String>,
}

impl EndSession {
    /// Whether the signed-in person `user_id` is the one the hint names (`sub`), as the app
    /// knows them (its subject: the user id, or its pairwise subject).
    pub fn is_hinted(&self, cfg: &crate::config::Config, user_id: &str, sub: &str) -> bool {
        match &self.app {
            Some(app) => crate::oauth::subject::of(cfg, app, user_id) == sub,
            None => user_id == sub,
        }
    }
}

fn refuse(msg: impl Into<String>) -> Error {
    Error::page(ErrorCode::InvalidRequest, "Sign out", msg)
}

/// The parameters of a GET (query) or a POST (form); anything else is a page saying why.
pub fn params(req: &crate::http::Request) -> Result<Params> {
    let parsed = if req.method == "POST" {
        if req.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
            return Err(Error::page(
                ErrorCode::UnsupportedMediaType,
                "Sign out",
                "Send the sign-out request as a form (application/x-www-form-urlencoded).",
            ));
        }
        Params::parse_form(&req.body)
    } else {
        Params::from_query(req)
    };
    parsed.map_err(|e| refuse(format!("The sign-out request is malformed: {}.", e.description)))
}

/// The hint's subject and audiences, when it is an ID token this tenant issued at `issuer`.
pub fn verify_hint(p: &impl Platform, issuer: &str, hint: &str) -> Result<(String, Vec<String>)> {
    let bad = || refuse("The id_token_hint is not an ID token issued here.");
    let t = jwt::decode(hint).map_err(|_| bad())?;
    // Our ID tokens are `typ: JWT`; an access token (`at+jwt`) or a logout token is no hint.
    if t.header.typ.as_deref() != Some("JWT") || !p.keys().verify(&t) {
        return Err(bad());
    }
    if t.str_claim("iss") != Some(issuer) {
        return Err(bad());
    }
    let sub = t.str_claim("sub").filter(|s| !s.is_empty()).ok_or_else(bad)?.to_owned();
    let aud = match t.claims.get("aud") {
        Some(serde_json::Value::String(a)) => vec![a.clone()],
        Some(serde_json::Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        _ => Vec::new(),
    };
    if aud.is_empty() {
        return Err(bad());
    }
    Ok((sub, aud))
}

/// The client the request names: `client_id`, else the hint's single audience (or `azp`-like
/// first audience when there are several); both given, `client_id` must be an audience.
fn client_named(client_id: Option<&str>, aud: Option<&[String]>) -> Result<Option<String>> {
    match (client_id, aud) {
        (Some(c), Some(aud)) if !aud.iter().any(|a| a == c) => {
            Err(refuse("The client_id is not the client the id_token_hint was issued to."))
        }
        (Some(c), _) => Ok(Some(c.to_owned())),
        (None, Some(aud)) => Ok(aud.first().cloned()),
        (None, None) => Ok(None),
    }
}

/// Checks the whole request (see the module's rules); nothing is changed here.
pub async fn check(p: &impl Platform, issuer: &str, q: &Params) -> Result<EndSession> {
    let state = q.get("state");
    if state.is_some_and(|s| s.len() > MAX_STATE) {
        return Err(refuse(format!("The state is too long (at most {MAX_STATE} bytes).")));
    }
    if q.get("ui_locales").is_some_and(|l| l.len() > 200) {
        return Err(refuse("The ui_locales parameter is too long."));
    }
    let hint = q.get("id_token_hint").map(|h| verify_hint(p, issuer, h)).transpose()?;
    let client_id = client_named(q.get("client_id"), hint.as_ref().map(|(_, aud)| aud.as_slice()))?;
    let app: Option<App> = match &client_id {
        Some(c) if c.len() <= 64 => p.app_meta(c).await?.filter(|a| a.status == Status::Active),
        _ => None,
    };
    if client_id.is_some() && app.is_none() {
        return Err(refuse("The client_id names no active client here."));
    }
    let redirect = match q.get("post_logout_redirect_uri") {
        None => None,
        Some(uri) => {
            let Some(app) = &app else {
                return Err(refuse(
                    "A post_logout_redirect_uri needs the client: send client_id or id_token_hint.",
                ));
            };
            if !post_logout_redirect_uri::allowed(&app.post_logout_redirect_uris, uri) {
                return Err(refuse(
                    "The post_logout_redirect_uri is not one the client registered.",
                ));
            }
            Some(uri.to_owned())
        }
    };
    Ok(EndSession {
        hinted_sub: hint.map(|(sub, _)| sub),
        app,
        client_id,
        redirect,
        state: state.map(str::to_owned),
    })
}

/// The post-logout redirect with `state` (§3), as a 303 so a POST is followed with a GET.
pub fn redirect_to(uri: &str, state: Option<&str>) -> String {
    match state {
        None => uri.to_owned(),
        Some(s) => {
            let sep = if uri.contains('?') { '&' } else { '?' };
            format!("{uri}{sep}{}", crate::http::params::encode_form(&[("state", s)]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_is_client_id_or_the_hints_audience_and_they_agree() {
        let aud = vec!["c1".to_owned()];
        assert_eq!(client_named(Some("c1"), Some(&aud)).unwrap(), Some("c1".into()));
        assert_eq!(client_named(None, Some(&aud)).unwrap(), Some("c1".into()));
        assert_eq!(client_named(Some("c2"), None).unwrap(), Some("c2".into()));
        assert!(client_named(Some("c2"), Some(&aud)).is_err());
        assert_eq!(client_named(None, None).unwrap(), None);
    }

    #[test]
    fn state_is_appended_encoded() {
        assert_eq!(redirect_to("https://rp/bye", None), "https://rp/bye");
        assert_eq!(redirect_to("https://rp/bye", Some("a b&c")), "https://rp/bye?state=a%20b%26c");
        assert_eq!(redirect_to("https://rp/bye?x=1", Some("s")), "https://rp/bye?x=1&state=s");
    }
}
