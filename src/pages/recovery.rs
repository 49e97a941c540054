//! The pages of email verification, password reset, password change and email change
//! (`accounts::recovery` holds the flows), and the development outbox. Every form carries the
//! CSRF token; the pages that need a signed-in person send others to `/login` and back. A link
//! from an email (`?token=`) first shows a page with a button: opening the link (a mail
//! scanner's prefetch too) changes nothing; only the button's POST uses the ticket.

use super::{page, Csrf};
use crate::accounts::{self, cookies, recovery};
use crate::error::{Error, ErrorCode, Result};
use crate::http::params::{encode_form, Params};
use crate::http::{Request, Response};
use crate::platform::Platform;
use maud::{html, Markup};

fn form_params(req: &Request) -> Result<Params> {
    if req.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return Err(Error::page(
            ErrorCode::UnsupportedMediaType,
            "Unsupported form",
            "Submit the form from this site.",
        ));
    }
    Params::parse_form(&req.body).map_err(|e| Error::page(ErrorCode::InvalidRequest, "Bad request", e.description))
}

fn expired_form(p: &impl Platform, title: &str, csrf: &Csrf) -> Response {
    let body = html! { p class="error" role="alert" { "Your form expired. Please try again." } };
    page(&p.config().brand, 403, title, body, Some(csrf))
}

fn notice(p: &impl Platform, status: u16, title: &str, id: &str, text: &str, more: Markup) -> Response {
    let body = html! { p role="status" id=(id) { (text) } (more) };
    page(&p.config().brand, status, title, body, None)
}

/// A link that is expired, used or never was: what to do next.
fn dead_link(p: &impl Platform, title: &str, again: (&str, &str)) -> Response {
    let body = html! {
        p class="error" role="alert" id="link-dead" { "This link has expired or was already used." }
        p { a href=(again.0) { (again.1) } }
    };
    page(&p.config().brand, 400, title, body, None)
}

/// The page for a mail that could not go out, or a limit reached.
fn mail_error(p: &impl Platform, title: &str, e: Error) -> Result<Response> {
    match e.code {
        ErrorCode::RateLimited => {
            let mut r = notice(p, 429, title, "limited", "Too many emails were asked for. Wait a minute and try again.", html! {});
            for (k, v) in e.headers {
                r = r.header(k, v);
            }
            Ok(r)
        }
        ErrorCode::TemporarilyUnavailable => Ok(notice(
            p,
            503,
            title,
            "not-sent",
            "The email could not be sent. Nothing was changed; try again in a few minutes.",
            html! {},
        )),
        _ => Err(e),
    }
}

fn token_of(req: &Request) -> Result<String> {
    let q = Params::from_query(req)?;
    Ok(q.get("token").unwrap_or("").to_owned())
}

/// A form that posts a link's token back with the CSRF token and a button.
fn confirm_form(csrf: &Csrf, action: &str, token: &str, button: &str) -> Markup {
    html! {
        form method="post" action=(action) {
            (csrf.field())
            input type="hidden" name="token" value=(token);
            button type="submit" { (button) }
        }
    }
}

// ---- /forgot ----------------------------------------------------------------------------

fn forgot_form(csrf: &Csrf, email: &str, error: Option<&str>) -> Markup {
    html! {
        @if let Some(e) = error { p class="error" role="alert" { (e) } }
        p { "Enter the email of your account. We will send it a link to choose a new password." }
        form method="post" action="/forgot" {
            (csrf.field())
            label for="email" { "Email" }
            input id="email" name="email" type="email" autocomplete="username" required value=(email);
            "\n"
            button type="submit" { "Send the link" }
        }
        p { a href="/login" { "Back to log in" } }
    }
}

pub fn forgot_page(p: &impl Platform, req: &Request) -> Result<Response> {
    let csrf = Csrf::for_request(p, req)?;
    Ok(page(&p.config().brand, 200, "Forgot your password?", forgot_form(&csrf, "", None), Some(&csrf)))
}

pub async fn forgot_submit(p: &impl Platform, issuer: &str, req: &Request) -> Result<Response> {
    let f = form_params(req)?;
    let csrf = Csrf::for_request(p, req)?;
    let title = "Forgot your password?";
    if !cookies::csrf_ok(req, f.get("csrf")) {
        return Ok(expired_form(p, title, &csrf));
    }
    let email = f.get("email").unwrap_or("");
    match recovery::forgot(p, issuer, &accounts::address(req), email).await {
        Ok(()) => Ok(notice(
            p,
            200,
            "Check your email",
            "reset-sent",
            "If this email has an account, we sent it a link to choose a new password. The link works once, for a short time.",
            html! { p { a href="/login" { "Back to log in" } } },
        )),
        Err(e) if e.code == ErrorCode::InvalidRequest => {
            Ok(page(&p.config().brand, 400, title, forgot_form(&csrf, email, Some(&e.description)), Some(&csrf)))
        }
        Err(e) => mail_error(p, title, e),
    }
}

// ---- /reset -----------------------------------------------------------------------------

fn reset_form(csrf: &Csrf, token: &str, error: Option<&str>) -> Markup {
    html! {
        @if let Some(e) = error { p class="error" role="alert" { (e) } }
        form method="post" action="/reset" {
            (csrf.field())
            input type="hidden" name="token" value=(token);
            label for="password" { "New password (at least 8 characters, not a common one)" }
            input id="password" name="password" type="password" autocomplete="new-password" required minlength="8" maxlength="256";
            "\n"
            button type="submit" { "Set the new password" }
        }
    }
}

const FORGOT: (&str, &str) = ("/forgot", "Ask for a new link");

pub async fn reset_page(p: &impl Platform, req: &Request) -> Result<Response> {
    let token = token_of(req)?;
    let csrf = Csrf::for_request(p, req)?;
    match recovery::peek(p, &token).await {
        Ok(t) if matches!(t.purpose, crate::objects::ticket::Purpose::Reset { .. }) => {
            Ok(page(&p.config().brand, 200, "Choose a new password", reset_form(&csrf, &token, None), Some(&csrf)))
        }
        Ok(_) | Err(_) => Ok(dead_link(p, "Choose a new password", FORGOT)),
    }
}

pub async fn reset_submit(p: &impl Platform, issuer: &str, req: &Request) -> Result<Response> {
    let f = form_params(req)?;
    let csrf = Csrf::for_request(p, req)?;
    let title = "Choose a new password";
    if !cookies::csrf_ok(req, f.get("csrf")) {
        return Ok(expired_form(p, title, &csrf));
    }
    let token = f.get("token").unwrap_or("");
    match recovery::reset(p, issuer, token, f.get("password").unwrap_or("")).await {
        Ok(jobs) => Ok(notice(
            p,
            200,
            "Password changed",
            "reset-done",
            "Your password is changed, and you are signed out everywhere. Log in with the new password.",
            html! { p { a href="/login" { "Log in" } } },
        )
        .header("set-cookie", super::logout::clear_session_cookie(req))
        .then(jobs)),
        Err(e) if e.code == ErrorCode::InvalidRequest => {
            Ok(page(&p.config().brand, 400, title, reset_form(&csrf, token, Some(&e.description)), Some(&csrf)))
        }
        Err(e) if e.code == ErrorCode::InvalidGrant => Ok(dead_link(p, title, FORGOT)),
        Err(e) => Err(e),
    }
}

// ---- /verify ----------------------------------------------------------------------------

pub fn verify_page(p: &impl Platform, req: &Request) -> Result<Response> {
    let token = token_of(req)?;
    let csrf = Csrf::for_request(p, req)?;
    let body = html! {
        p { "Confirm that this email address is yours." }
        (confirm_form(&csrf, "/verify", &token, "Verify my email"))
    };
    Ok(page(&p.config().brand, 200, "Verify your email", body, Some(&csrf)))
}

pub async fn verify_submit(p: &impl Platform, req: &Request) -> Result<Response> {
    let f = form_params(req)?;
    let csrf = Csrf::for_request(p, req)?;
    let title = "Verify your email";
    if !cookies::csrf_ok(req, f.get("csrf")) {
        return Ok(expired_form(p, title, &csrf));
    }
    match recovery::verify(p, f.get("token").unwrap_or("")).await {
        Ok(a) => Ok(notice(
            p,
            200,
            "Email verified",
            "verified",
            &format!("Thank you: {} is verified.", a.email),
            html! { p { a href="/" { "Continue" } } },
        )),
        Err(e) if e.code == ErrorCode::InvalidGrant => Ok(dead_link(p, title, ("/login", "Log in"))),
        Err(e) => Err(e),
    }
}

// ---- /account/password and /account/email -------------------------------------------------

/// The signed-in session, or a redirect to log in and come back to `here`.
async fn signed_in(p: &impl Platform, req: &Request, here: &str) -> Result<std::result::Result<crate::objects::session::SessionRecord, Response>> {
    Ok(match accounts::current_session(p, req).await? {
        Some(s) => Ok(s),
        None => Err(Response::empty(303)
            .header("location", format!("/login?{}", encode_form(&[("return_to", here)])))
            .header("cache-control", "no-store")),
    })
}

fn password_form(csrf: &Csrf, error: Option<&str>) -> Markup {
    html! {
        @if let Some(e) = error { p class="error" role="alert" { (e) } }
        form method="post" action="/account/password" {
            (csrf.field())
            label for="current" { "Current password" }
            input id="current" name="current_password" type="password" autocomplete="current-password" required;
            "\n"
            label for="password" { "New password (at least 8 characters, not a common one)" }
            input id="password" name="password" type="password" autocomplete="new-password" required minlength="8" maxlength="256";
            "\n"
            button type="submit" { "Change the password" }
        }
        p { "Changing your password signs you out everywhere else." }
        p { a href="/account" { "Back to your account" } }
    }
}

pub async fn password_page(p: &impl Platform, req: &Request) -> Result<Response> {
    if let Err(r) = signed_in(p, req, "/account/password").await? {
        return Ok(r);
    }
    let csrf = Csrf::for_request(p, req)?;
    Ok(page(&p.config().brand, 200, "Change your password", password_form(&csrf, None), Some(&csrf)))
}

pub async fn password_submit(p: &impl Platform, issuer: &str, req: &Request) -> Result<Response> {
    let f = form_params(req)?;
    let csrf = Csrf::for_request(p, req)?;
    let title = "Change your password";
    if !cookies::csrf_ok(req, f.get("csrf")) {
        return Ok(expired_form(p, title, &csrf));
    }
    let s = match signed_in(p, req, "/account/password").await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    let except = accounts::session_hash(req);
    let current = f.get("current_password").unwrap_or("");
    let new = f.get("password").unwrap_or("");
    let show = |status: u16, msg: &str| page(&p.config().brand, status, title, password_form(&csrf, Some(msg)), Some(&csrf));
    match recovery::change_password(p, issuer, &s, except.as_deref(), current, new).await {
        Ok(jobs) => Ok(notice(
            p,
            200,
            "Password changed",
            "password-changed",
            "Your password is changed. You are signed out everywhere else.",
            html! { p { a href="/account" { "Back to your account" } } },
        )
        .then(jobs)),
        Err(e) if e.code == ErrorCode::InvalidRequest => Ok(show(400, &e.description)),
        Err(e) if e.code == ErrorCode::AccessDenied => Ok(show(403, "The current password is wrong.")),
        Err(e) if e.code == ErrorCode::RateLimited => Ok(show(429, "Too many wrong passwords. Wait a minute and try again.")),
        Err(e) => Err(e),
    }
}

fn email_form(csrf: &Csrf, current: &str, email: &str, error: Option<&str>) -> Markup {
    html! {
        @if let Some(e) = error { p class="error" role="alert" { (e) } }
        p { "Your email is " strong { (current) } ". We will send a link to the new address; the change happens when you open it." }
        form method="post" action="/account/email" {
            (csrf.field())
            label for="email" { "New email" }
            input id="email" name="email" type="email" autocomplete="email" required value=(email);
            "\n"
            label for="current" { "Current password" }
            input id="current" name="current_password" type="password" autocomplete="current-password" required;
            "\n"
            button type="submit" { "Send the link" }
        }
        p { a href="/account" { "Back to your account" } }
    }
}

pub async fn email_page(p: &impl Platform, req: &Request) -> Result<Response> {
    let s = match signed_in(p, req, "/account/email").await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    let csrf = Csrf::for_request(p, req)?;
    Ok(page(&p.config().brand, 200, "Change your email", email_form(&csrf, &s.email, "", None), Some(&csrf)))
}

pub async fn email_submit(p: &impl Platform, issuer: &str, req: &Request) -> Result<Response> {
    let f = form_params(req)?;
    let csrf = Csrf::for_request(p, req)?;
    let title = "Change your email";
    if !cookies::csrf_ok(req, f.get("csrf")) {
        return Ok(expired_form(p, title, &csrf));
    }
    let s = match signed_in(p, req, "/account/email").await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    let email = f.get("email").unwrap_or("");
    let show = |status: u16, msg: &str| page(&p.config().brand, status, title, email_form(&csrf, &s.email, email, Some(msg)), Some(&csrf));
    let current = f.get("current_password").unwrap_or("");
    match recovery::request_email_change(p, issuer, &accounts::address(req), &s, current, email).await {
        Ok(new_email) => Ok(notice(
            p,
            200,
            "Check your email",
            "change-sent",
            &format!("We sent a link to {new_email}. Your email changes when you open it."),
            html! { p { a href="/account" { "Back to your account" } } },
        )),
        Err(e) if e.code == ErrorCode::InvalidRequest => Ok(show(400, &e.description)),
        Err(e) if e.code == ErrorCode::AccessDenied => Ok(show(403, "The current password is wrong.")),
        Err(e) => mail_error(p, title, e),
    }
}

pub fn email_confirm_page(p: &impl Platform, req: &Request) -> Result<Response> {
    let token = token_of(req)?;
    let csrf = Csrf::for_request(p, req)?;
    let body = html! {
        p { "Make this the email address of your account." }
        (confirm_form(&csrf, "/account/email/confirm", &token, "Confirm the new email"))
    };
    Ok(page(&p.config().brand, 200, "Confirm your new email", body, Some(&csrf)))
}

pub async fn email_confirm_submit(p: &impl Platform, req: &Request) -> Result<Response> {
    let f = form_params(req)?;
    let csrf = Csrf::for_request(p, req)?;
    let title = "Confirm your new email";
    if !cookies::csrf_ok(req, f.get("csrf")) {
        return Ok(expired_form(p, title, &csrf));
    }
    match recovery::confirm_email_change(p, f.get("token").unwrap_or("")).await {
        Ok(a) => Ok(notice(
            p,
            200,
            "Email changed",
            "email-changed",
            &format!("Your email is now {}. Use it to log in.", a.email),
            html! { p { a href="/account" { "Back to your account" } } },
        )),
        Err(e) if e.code == ErrorCode::InvalidGrant => Ok(dead_link(p, title, ("/account/email", "Ask for a new link"))),
        Err(e) if e.code == ErrorCode::LimitReached => {
            Ok(notice(p, 409, title, "email-taken", "That email has an account now, so nothing changed.", html! {}))
        }
        Err(e) => Err(e),
    }
}

// ---- /dev/outbox (development only) --------------------------------------------------------

/// Whether the outbox is in use: development mode without a mail transport.
pub fn outbox_on(p: &impl Platform) -> bool {
    p.config().dev() && p.config().mail.transport.is_none()
}

async fn outbox_messages(p: &impl Platform, req: &Request) -> Result<Vec<crate::objects::outbox::Kept>> {
    let q = Params::from_query(req)?;
    let to = q.get("to").map(accounts::normalise_email);
    let all = p.call(&crate::objects::outbox::object(), crate::objects::outbox::List {}).await?;
    Ok(all.into_iter().filter(|k| to.as_ref().is_none_or(|t| *t == k.mail.to)).collect())
}

/// `GET /dev/outbox.json[?to=<email>]`: `{"messages": [...]}`, oldest first.
pub async fn outbox_json(p: &impl Platform, req: &Request) -> Result<Response> {
    let list = outbox_messages(p, req).await?;
    let messages: Vec<serde_json::Value> = list
        .iter()
        .map(|k| serde_json::json!({"id": k.mail.id, "from": k.mail.from, "to": k.mail.to, "subject": k.mail.subject, "text": k.mail.text, "sent_at": k.sent_at}))
        .collect();
    Ok(Response::json(200, &serde_json::json!({"messages": messages})).header("cache-control", "no-store"))
}

/// `GET /dev/outbox`: the same messages as a page, newest first.
pub async fn outbox_page(p: &impl Platform, req: &Request) -> Result<Response> {
    let list = outbox_messages(p, req).await?;
    let body = html! {
        p { "Development only: the email this server would have sent (no mail transport is configured). Also as JSON at " a href="/dev/outbox.json" { "/dev/outbox.json" } "." }
        @if list.is_empty() { p id="empty" { "No messages yet." } }
        @for k in list.iter().rev() {
            article class="mail" {
                h2 { (k.mail.subject) }
                p { "To " strong { (k.mail.to) } " · from " (k.mail.from) " · " (crate::util::rfc3339(k.sent_at)) }
                pre { (k.mail.text) }
            }
        }
    };
    Ok(page(&p.config().brand, 200, "Outbox", body, None))
}
