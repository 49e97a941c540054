//! The pages of RP-initiated logout (`/oauth/logout`, rules in `oauth::end_session`): a valid
//! `id_token_hint` naming the person signed in ends the session at once; otherwise the person
//! confirms on a page ("Sign out of <brand>?") whose CSRF-protected form posts back here. Ending
//! a session deletes it and clears its cookie (it ends everywhere in that browser), and leaves
//! the back-channel notifications of its apps to after the response ([`ended`]). The browser
//! then goes to the registered `post_logout_redirect_uri` (with `state`), or sees "You are
//! signed out".

use super::{page, Csrf};
use crate::accounts::{self, cookies};
use crate::error::{Error, ErrorCode, Result};
use crate::http::params::Params;
use crate::http::{Request, Response};
use crate::oauth::end_session::{self, EndSession};
use crate::oauth::logout_token;
use crate::platform::{Deferred, Platform};
use maud::html;

/// Ends the request's session: deleted, and the back-channel logout tokens for the apps that
/// got an ID token in it, to be sent after the response. A failure to make the notifications
/// is logged and does not undo the sign-out.
pub async fn ended(p: &impl Platform, issuer: &str, req: &Request) -> Result<Vec<Deferred>> {
    let Some(session) = accounts::end_session(p, req).await? else {
        return Ok(Vec::new());
    };
    {
        use crate::objects::audit::{Event, EventType, Outcome};
        let who = format!("person:{}", session.user_id);
        p.record(Event::new(EventType::SessionEnd, who, Outcome::Success).person(session.user_id.clone()).detail("this browser"));
    }
    Ok(logout_token::for_ended_session(p, issuer, &session)
        .await
        .unwrap_or_else(|e| {
            p.audit(&serde_json::json!({"event": "backchannel_logout_not_prepared", "error": e.code.as_str()}));
            Vec::new()
        }))
}

/// Ends every session of `user_id` but the one of hash `except` (sign-out everywhere, a
/// password reset, account deletion), and answers the back-channel logout notifications of
/// their apps, to be sent after the response (as [`ended`]).
pub async fn ended_everywhere(p: &impl Platform, issuer: &str, user_id: &str, except: Option<&str>) -> Result<Vec<Deferred>> {
    let mut jobs = Vec::new();
    let ended = accounts::end_sessions(p, user_id, except).await?;
    if !ended.is_empty() {
        // Who ended them is the event that asked (a reset, a deletion, an operator).
        use crate::objects::audit::{Event, EventType, Outcome};
        let e = Event::new(EventType::SessionEnd, "system", Outcome::Success).person(user_id).detail(format!("{} sessions", ended.len()));
        p.record(e);
    }
    for session in ended {
        match logout_token::for_ended_session(p, issuer, &session).await {
            Ok(j) => jobs.extend(j),
            Err(e) => p.audit(&serde_json::json!({"event": "backchannel_logout_not_prepared", "error": e.code.as_str()})),
        }
    }
    Ok(jobs)
}

/// The `Set-Cookie` that clears the session cookie.
pub fn clear_session_cookie(req: &Request) -> String {
    cookies::set(req, &cookies::session_name(req), "", 0)
}

/// `GET`/`POST /oauth/logout`.
pub async fn end_session(p: &impl Platform, issuer: &str, req: &Request) -> Result<Response> {
    let q = end_session::params(req)?;
    // The confirmation form's two buttons; anything else is not ours.
    if q.get("logout").is_some_and(|v| v != "yes" && v != "no") {
        return Err(Error::page(ErrorCode::InvalidRequest, "Sign out", "logout must be yes or no."));
    }
    let r = end_session::check(p, issuer, &q).await?;
    // The confirmation form of this page posts back with its CSRF token.
    if req.method == "POST" && q.contains("csrf") {
        if !cookies::csrf_ok(req, q.get("csrf")) {
            return Err(Error::page(
                ErrorCode::AccessDenied,
                "Sign out",
                "Your form expired. Please try again.",
            ));
        }
        if q.get("logout") == Some("no") {
            return Ok(finished(p, req, &r, false));
        }
        let jobs = ended(p, issuer, req).await?;
        return Ok(finished(p, req, &r, true).then(jobs));
    }
    let session = accounts::current_session(p, req).await?;
    match (&session, &r.hinted_sub) {
        // Nothing to end here: the browser is signed out already.
        (None, _) => Ok(finished(p, req, &r, true)),
        (Some(s), Some(sub)) if r.is_hinted(p.config(), &s.user_id, sub) => {
            let jobs = ended(p, issuer, req).await?;
            Ok(finished(p, req, &r, true).then(jobs))
        }
        (Some(_), _) => confirmation(p, req, &q),
    }
}

/// "Sign out of <brand>?": the request's parameters carried in the form, which posts back.
fn confirmation(p: &impl Platform, req: &Request, q: &Params) -> Result<Response> {
    let csrf = Csrf::for_request(p, req)?;
    let brand = super::brand::shown(&p.config().brand);
    let title = format!("Sign out of {}?", brand.name);
    let carried = ["id_token_hint", "client_id", "post_logout_redirect_uri", "state", "ui_locales"];
    let action = if req.path == "/oauth/v2/logout" { "/oauth/v2/logout" } else { "/oauth/logout" };
    let body = html! {
        p { "You will be signed out of " (brand.name) " in this browser." }
        form method="post" action=(action) {
            (csrf.field())
            @for name in carried {
                @if let Some(v) = q.get(name) {
                    input type="hidden" name=(name) value=(v);
                }
            }
            button type="submit" name="logout" value="yes" id="sign-out" { "Sign out" }
            button type="submit" name="logout" value="no" class="secondary" { "Stay signed in" }
        }
    };
    Ok(page(&p.config().brand, 200, &title, body, Some(&csrf)))
}

/// Where the browser goes once the request is done: the registered post-logout redirect (with
/// `state`), or a page. `signed_out`: the session cookie is cleared.
fn finished(p: &impl Platform, req: &Request, r: &EndSession, signed_out: bool) -> Response {
    let resp = match &r.redirect {
        Some(uri) => Response::see_other(&end_session::redirect_to(uri, r.state.as_deref())),
        None if signed_out => page(
            &p.config().brand,
            200,
            "You are signed out",
            html! { p role="status" id="signed-out" { "You are signed out." } p { a href="/login" { "Log in" } } },
            None,
        ),
        None => page(
            &p.config().brand,
            200,
            "You are still signed in",
            html! { p role="status" { "You are still signed in." } p { a href="/" { "Continue" } } },
            None,
        ),
    };
    if signed_out {
        resp.header("set-cookie", clear_session_cookie(req))
    } else {
        resp
    }
}
