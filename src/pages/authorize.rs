//! The pages of the authorization endpoint (`GET`/`POST /oauth/authorize`): the log-in
//! redirect, the consent page and the person's decision. The protocol rules they apply
//! (request validation, codes, consent records) are `oauth::authorize`.

use super::{consent, Csrf};
use crate::accounts::{self, cookies};
use crate::error::{Error, ErrorCode, Result};
use crate::http::params::{encode_form, Params};
use crate::http::{Request, Response};
use crate::oauth::authorize::{consented, issue_code, validate, Authz, CANNOT};
use crate::objects::session::SessionRecord;
use crate::objects::user;
use crate::platform::Platform;

/// Parameters of the authorization request carried through the consent form.
const CARRIED: [&str; 9] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "resource",
    "nonce",
];

fn login_redirect(req: &Request) -> Response {
    let here = if req.query.is_empty() {
        req.path.clone()
    } else {
        format!("{}?{}", req.path, req.query)
    };
    Response::empty(303)
        .header(
            "location",
            format!("/login?{}", encode_form(&[("return_to", &here)])),
        )
        .no_store()
}

fn consent_page(p: &impl Platform, req: &Request, q: &Params, a: &Authz, s: &SessionRecord) -> Result<Response> {
    let hidden: Vec<(&str, &str)> = CARRIED.iter().filter_map(|k| q.get(k).map(|v| (*k, v))).collect();
    Ok(consent::render(&p.config().brand, &a.app, &a.scopes, &hidden, s, &Csrf::for_request(p, req)?))
}

/// `GET /oauth/authorize`.
pub async fn get(p: &impl Platform, issuer: &str, req: &Request) -> Result<Response> {
    let q = Params::from_query(req).map_err(|e| Error::page(ErrorCode::InvalidRequest, CANNOT, e.description))?;
    let a = validate(p, issuer, &q).await?;
    let Some(session) = accounts::current_session(p, req).await? else {
        return Ok(login_redirect(req));
    };
    // RFC 8252 §8.6: a public client's redirect can be claimed by any app on the device
    // (any loopback port), so remembered consent never issues its codes silently.
    if !a.app.is_public() && consented(p, &session.user_id, &a).await? {
        return issue_code(p, issuer, &a, &session).await;
    }
    consent_page(p, req, &q, &a, &session)
}

/// `POST /oauth/authorize`: the consent form's Allow or Deny.
pub async fn decide(p: &impl Platform, issuer: &str, req: &Request) -> Result<Response> {
    if req.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return Err(Error::page(
            ErrorCode::UnsupportedMediaType,
            CANNOT,
            "Submit the consent form from this site.",
        ));
    }
    let f = Params::parse_form(&req.body).map_err(|e| Error::page(ErrorCode::InvalidRequest, CANNOT, e.description))?;
    let a = validate(p, issuer, &f).await?;
    if !cookies::csrf_ok(req, f.get("csrf")) {
        return Err(Error::page(
            ErrorCode::AccessDenied,
            CANNOT,
            "The form expired or came from another site. Start again from the application.",
        ));
    }
    let Some(session) = accounts::current_session(p, req).await? else {
        return Err(Error::page(
            ErrorCode::LoginRequired,
            CANNOT,
            "You are no longer signed in. Start again from the application.",
        ));
    };
    match f.get("decision") {
        Some("allow") => {
            let cmd = user::SaveConsent {
                client_id: a.app.client_id.clone(),
                scopes: a.scopes.clone(),
            };
            p.call(&user::object(&session.user_id), cmd).await?;
            issue_code(p, issuer, &a, &session).await
        }
        Some("deny") => Err(Error::new(ErrorCode::AccessDenied, "the person denied access")
            .redirected(&a.redirect_uri, a.state.as_deref(), issuer)),
        _ => Err(Error::page(ErrorCode::InvalidRequest, CANNOT, "Choose Allow or Deny.")),
    }
}
