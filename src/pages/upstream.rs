//! Sign-in with another identity provider: the log-in page's buttons, the start and callback
//! routes, and the page where a person confirms linking an upstream identity to the account
//! its verified email already has (`accounts::upstream` holds the protocol).

use super::{login, page, safe_return_to, Csrf};
use crate::accounts::{self, cookies, upstream};
use crate::error::{Error, ErrorCode, Result};
use crate::http::params::{encode_form, Params};
use crate::http::{Request, Response};
use crate::platform::Platform;
use maud::{html, Markup};

/// One "Continue with <name>" link per configured provider, keeping `return_to`.
pub fn buttons(p: &impl Platform, return_to: &str) -> Markup {
    let ups = &p.config().upstreams;
    html! {
        @if !ups.is_empty() {
            ul class="upstreams" aria-label="Other ways to sign in" {
                @for u in ups {
                    li { a class="button" id={ "upstream-" (u.id) } href={ "/login/upstream/" (u.id) "?" (encode_form(&[("return_to", return_to)])) } { "Continue with " (u.name) } }
                }
            }
        }
    }
}

/// `GET /login/upstream/<id>`.
pub async fn start(p: &impl Platform, issuer: &str, req: &Request, id: &str) -> Result<Response> {
    let q = Params::from_query(req)
        .map_err(|e| Error::page(ErrorCode::InvalidRequest, upstream::TITLE, e.description))?;
    upstream::start(p, issuer, req, id, safe_return_to(q.get("return_to"))).await
}

fn confirm_form(csrf: &Csrf, id: &str, name: &str, ticket: &str, email: &str, error: Option<&str>) -> Markup {
    html! {
        @if let Some(e) = error { p class="error" role="alert" id="err" { (e) } }
        p id="confirm-link" {
            "An account with the email " strong { (email) } " already exists here. To sign in to it with "
            (name) " from now on, enter that account's password once."
        }
        form method="post" action={ "/login/upstream/" (id) "/link" } {
            (csrf.field())
            input type="hidden" name="ticket" value=(ticket);
            "\n"
            label for="password" { "Password of " (email) }
            input id="password" name="password" type="password" autocomplete="current-password" required;
            "\n"
            button type="submit" { "Connect and log in" }
        }
        p { a href="/login" { "Cancel" } " (nothing is connected)" }
    }
}

/// `GET /login/upstream/<id>/callback`.
pub async fn callback(p: &impl Platform, issuer: &str, req: &Request, id: &str) -> Result<Response> {
    match upstream::callback(p, issuer, req, id).await? {
        upstream::Outcome::LoggedIn {
            profile,
            amr,
            return_to,
        } => {
            let amr: Vec<&str> = amr.iter().map(String::as_str).collect();
            login::finish_login(p, req, &profile, &amr, &safe_return_to(Some(&return_to))).await
        }
        upstream::Outcome::Confirm { ticket, email, .. } => {
            let csrf = Csrf::for_request(p, req)?;
            let name = upstream::provider(p, id)?.name.clone();
            let body = confirm_form(&csrf, id, &name, &ticket, &email, None);
            Ok(page(
                &p.config().brand,
                200,
                "Connect your account",
                body,
                Some(&csrf),
            ))
        }
    }
}

/// `POST /login/upstream/<id>/link`: the password of the existing account, then the link.
pub async fn link(p: &impl Platform, req: &Request, id: &str) -> Result<Response> {
    let name = upstream::provider(p, id)?.name.clone();
    if req.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return Err(Error::page(
            ErrorCode::UnsupportedMediaType,
            upstream::TITLE,
            "Submit the form from this site.",
        ));
    }
    let f = Params::parse_form(&req.body)
        .map_err(|e| Error::page(ErrorCode::InvalidRequest, upstream::TITLE, e.description))?;
    let ticket = f.get("ticket").unwrap_or("");
    let gone = || {
        Error::page(
            ErrorCode::InvalidRequest,
            upstream::TITLE,
            "This confirmation has expired or was already used (or was started in another browser). Start again from the log-in page.",
        )
    };
    let Some(upstream::PendingConfirm { email, user_id }) = upstream::pending(p, req, id, ticket).await?
    else {
        return Err(gone());
    };
    let csrf = Csrf::for_request(p, req)?;
    let again = |status: u16, msg: &str| {
        let body = confirm_form(&csrf, id, &name, ticket, &email, Some(msg));
        page(
            &p.config().brand,
            status,
            "Connect your account",
            body,
            Some(&csrf),
        )
    };
    if !cookies::csrf_ok(req, f.get("csrf")) {
        return Ok(again(403, "Your form expired. Please try again."));
    }
    match accounts::log_in(p, req, &email, f.get("password").unwrap_or("")).await {
        Ok(profile) if profile.id == user_id => match upstream::confirm(p, ticket, &user_id).await? {
            Some((profile, amr, return_to)) => {
                let amr: Vec<&str> = amr.iter().map(String::as_str).collect();
                login::finish_login(p, req, &profile, &amr, &safe_return_to(Some(&return_to))).await
            }
            None => Err(gone()),
        },
        Ok(_) => Err(gone()),
        Err(e) if e.code == ErrorCode::RateLimited => {
            let mut r = again(429, "Too many failed log-ins. Wait a minute and try again.");
            for (k, v) in e.headers {
                r = r.header(k, v);
            }
            Ok(r)
        }
        Err(e) if e.code == ErrorCode::AccessDenied => Ok(again(401, "The password is wrong.")),
        Err(e) => Err(e),
    }
}
