//! `/login`, `/signup`, `/logout` and the home page `/`.

use super::{page, safe_return_to, Csrf};
use crate::accounts::{self, cookies};
use crate::http::params::{encode_form, Params};
use crate::http::{Request, Response};
use crate::error::{Error, ErrorCode, Result};
use crate::platform::Platform;
use maud::{html, Markup};

fn login_form(csrf: &Csrf, return_to: &str, email: &str, error: Option<&str>) -> Markup {
    let signup = format!("/signup?{}", encode_form(&[("return_to", return_to)]));
    html! {
        @if let Some(e) = error { p class="error" role="alert" id="err" { (e) } }
        form method="post" action="/login" {
            (csrf.field())
            input type="hidden" name="return_to" value=(return_to);
            "\n"
            label for="email" { "Email" }
            input id="email" name="email" type="email" autocomplete="username" required value=(email);
            "\n"
            label for="password" { "Password" }
            input id="password" name="password" type="password" autocomplete="current-password" required minlength="8";
            "\n"
            button type="submit" { "Log in" }
        }
        (super::passkeys::login_button())
        p { a href="/forgot" id="forgot" { "Forgot your password?" } }
        p { "No account yet? " a href=(signup) { "Sign up" } }
    }
}

fn signup_form(csrf: &Csrf, return_to: &str, email: &str, name: &str, error: Option<&str>) -> Markup {
    let login = format!("/login?{}", encode_form(&[("return_to", return_to)]));
    html! {
        @if let Some(e) = error { p class="error" role="alert" { (e) } }
        form method="post" action="/signup" {
            (csrf.field())
            input type="hidden" name="return_to" value=(return_to);
            "\n"
            label for="name" { "Display name" }
            input id="name" name="name" type="text" autocomplete="name" required maxlength="100" value=(name);
            "\n"
            label for="email" { "Email" }
            input id="email" name="email" type="email" autocomplete="email" required value=(email);
            "\n"
            label for="password" { "Password (at least 8 characters, not a common one)" }
            input id="password" name="password" type="password" autocomplete="new-password" required minlength="8";
            "\n"
            button type="submit" { "Sign up" }
        }
        p { "Have an account? " a href=(login) { "Log in" } }
    }
}

pub async fn login_page(p: &impl Platform, req: &Request) -> Result<Response> {
    let q = Params::from_query(req)?;
    let csrf = Csrf::for_request(p, req)?;
    // OpenID Connect `login_hint` (from the authorization endpoint): prefills the email,
    // when short and printable (maud escapes it).
    let hint = crate::rules::login_hint::usable(q.get("login_hint")).unwrap_or("");
    let return_to = safe_return_to(q.get("return_to"));
    // Which app is asking, when the log-in is for one of its authorization requests.
    let card = super::app_card::for_return_to(p, &return_to).await;
    // Sent back to log in again before an action that needs a recent log-in
    // (`rules::recent_login`); any way of logging in will do (a passkey, an upstream).
    let reauth = q.get("reauth") == Some("1");
    let body = html! {
        @if reauth {
            p role="status" id="reauth" { "Confirm it's you: log in again to continue. Changes to how you sign in need a recent log-in." }
        }
        @if let Some(c) = card { (c) }
        (login_form(&csrf, &return_to, hint, None))
        // Sign-in with another identity provider: one link per configured provider.
        (super::upstream::buttons(p, &return_to))
    };
    Ok(page(&p.config().brand, 200, "Log in", body, Some(&csrf)))
}

pub fn signup_page(p: &impl Platform, req: &Request) -> Result<Response> {
    let q = Params::from_query(req)?;
    let csrf = Csrf::for_request(p, req)?;
    let body = signup_form(&csrf, &safe_return_to(q.get("return_to")), "", "", None);
    Ok(page(&p.config().brand, 200, "Sign up", body, Some(&csrf)))
}

/// The posted form, or the page that says why there is none.
fn form_params(req: &Request) -> Result<Params> {
    if req.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return Err(Error::page(
            ErrorCode::UnsupportedMediaType,
            "Unsupported form",
            "Submit the form from this site.",
        ));
    }
    Params::parse_form(&req.body)
        .map_err(|e| Error::page(ErrorCode::InvalidRequest, "Bad request", e.description))
}

/// Ends every successful log-in, whatever its method (`amr`, RFC 8176 values): the session
/// starts (`accounts::start_session`) and the browser goes back where it came from
/// (`return_to`, already made safe by `safe_return_to`).
pub async fn finish_login(
    p: &impl Platform,
    req: &Request,
    profile: &crate::objects::user::Profile,
    amr: &[&str],
    return_to: &str,
) -> Result<Response> {
    // A person with a second factor whose log-in did not show two (`mfa`) gets no session
    // yet: a single-use ticket carries them to `/login/2fa` (`pages::two_factor`).
    if let Some(ticket) = accounts::two_factor::pending_login(p, profile, amr, return_to).await? {
        return Ok(super::two_factor::to_second_step(req, &ticket));
    }
    start_and_return(p, req, profile, amr, return_to).await
}

/// The session starts and the browser goes back (the second step, if any, is behind).
pub(super) async fn start_and_return(
    p: &impl Platform,
    req: &Request,
    profile: &crate::objects::user::Profile,
    amr: &[&str],
    return_to: &str,
) -> Result<Response> {
    let token = accounts::start_session(p, req, profile, amr).await?;
    Ok(Response::empty(303)
        .header("location", return_to)
        .header(
            "set-cookie",
            cookies::set(req, &cookies::session_name(req), &token, p.config().session_ttl),
        )
        .header("cache-control", "no-store"))
}

pub async fn login_submit(p: &impl Platform, req: &Request) -> Result<Response> {
    let f = form_params(req)?;
    let csrf = Csrf::for_request(p, req)?;
    let return_to = safe_return_to(f.get("return_to"));
    let email = f.get("email").unwrap_or("");
    // The form again, with the other ways to sign in under it, as on the first visit.
    let again = |error: &str| html! {
        (login_form(&csrf, &return_to, email, Some(error)))
        (super::upstream::buttons(p, &return_to))
    };
    if !cookies::csrf_ok(req, f.get("csrf")) {
        let body = again("Your form expired. Please try again.");
        return Ok(page(&p.config().brand, 403, "Log in", body, Some(&csrf)));
    }
    match accounts::log_in(p, req, email, f.get("password").unwrap_or("")).await {
        Ok(profile) => finish_login(p, req, &profile, &["pwd"], &return_to).await,
        Err(e) if e.code == ErrorCode::RateLimited => {
            let body = again("Too many failed log-ins. Wait a minute and try again.");
            let mut r = page(&p.config().brand, 429, "Log in", body, Some(&csrf));
            for (k, v) in e.headers {
                r = r.header(k, v);
            }
            Ok(r)
        }
        Err(e) if e.code == ErrorCode::AccessDenied => {
            let body = again("The email or password is wrong.");
            Ok(page(&p.config().brand, 401, "Log in", body, Some(&csrf)))
        }
        Err(e) => Err(e),
    }
}

pub async fn signup_submit(p: &impl Platform, issuer: &str, req: &Request) -> Result<Response> {
    let f = form_params(req)?;
    let csrf = Csrf::for_request(p, req)?;
    let return_to = safe_return_to(f.get("return_to"));
    let (email, name) = (f.get("email").unwrap_or(""), f.get("name").unwrap_or(""));
    if !cookies::csrf_ok(req, f.get("csrf")) {
        let body = signup_form(
            &csrf,
            &return_to,
            email,
            name,
            Some("Your form expired. Please try again."),
        );
        return Ok(page(&p.config().brand, 403, "Sign up", body, Some(&csrf)));
    }
    // A new account and an email that already has one get the same page (issue 13 item 16):
    // log in to continue. Sign-up never starts a session, so nothing shows which it was.
    // Issue 18: a new account gets a verification link, an existing one a "you already have
    // an account" email; the page is the same (`accounts::recovery::after_sign_up`). Unverified
    // accounts may log in (their `email_verified` is false until the link is used).
    match accounts::sign_up(p, email, f.get("password").unwrap_or(""), name).await {
        Ok(created) => {
            let mailed = accounts::recovery::after_sign_up(p, issuer, email, created.as_ref()).await;
            if let Err(e) = &mailed {
                if !matches!(e.code, ErrorCode::TemporarilyUnavailable | ErrorCode::RateLimited) {
                    return Err(e.clone());
                }
            }
            let body = html! {
                p role="status" id="signed-up" {
                    "Your account is ready: log in to continue. If this email already had an account, use that account's password."
                }
                @if mailed.is_ok() {
                    p id="mail-sent" { "We sent you an email: open its link to verify your address." }
                } @else {
                    p class="error" role="alert" id="mail-not-sent" { "The verification email could not be sent just now. You can still log in; to verify your email later, use \"Forgot your password?\" (a reset by email also verifies it)." }
                }
                (login_form(&csrf, &return_to, &accounts::normalise_email(email), None))
            };
            Ok(page(&p.config().brand, 200, "Log in", body, Some(&csrf)))
        }
        Err(e) if e.code == ErrorCode::InvalidRequest => {
            let body = signup_form(&csrf, &return_to, email, name, Some(&e.description));
            Ok(page(&p.config().brand, 400, "Sign up", body, Some(&csrf)))
        }
        // The tenant's people quota is full: refused alike for every email.
        Err(e) if e.code == ErrorCode::LimitReached => Err(e.on_page(
            "Sign up",
            "No new accounts can be made here: this service has as many people as its limit \
             allows. If you already have an account, log in; otherwise ask the service's \
             operator.",
        )),
        Err(e) => Err(e),
    }
}

/// `POST /logout`: ends the session (and notifies its apps over the back channel after the
/// response: `pages::logout::ended`).
pub async fn logout(p: &impl Platform, issuer: &str, req: &Request) -> Result<Response> {
    let f = form_params(req)?;
    if !cookies::csrf_ok(req, f.get("csrf")) {
        return Err(Error::page(
            ErrorCode::AccessDenied,
            "Log out",
            "Your form expired. Please try again.",
        ));
    }
    let jobs = super::logout::ended(p, issuer, req).await?;
    Ok(Response::empty(303)
        .header("location", "/login")
        .header("set-cookie", super::logout::clear_session_cookie(req))
        .header("cache-control", "no-store")
        .then(jobs))
}

pub async fn home(p: &impl Platform, req: &Request) -> Result<Response> {
    let csrf = Csrf::for_request(p, req)?;
    let brand = super::brand::shown(&p.config().brand);
    let body = match accounts::current_session(p, req).await? {
        Some(s) => html! {
            p { "Signed in as " strong { (s.name) } " (" (s.email) ")." }
            p { a href="/account" id="account-link" { "Your account" } }
            form method="post" action="/logout" {
                (csrf.field())
                button type="submit" { "Log out" }
            }
        },
        None => html! {
            p { "This is " (brand.name) "'s sign-in service (an OAuth 2 authorization server)." }
            p { a href="/login" { "Log in" } " or " a href="/signup" { "sign up" } "." }
        },
    };
    Ok(page(&p.config().brand, 200, brand.name, body, Some(&csrf)))
}
