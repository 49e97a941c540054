//! `/account`: the signed-in person's own account. Profile (display name), links to the
//! security pages (password, email, passkeys, two-step verification), connected apps with
//! revoke, sessions with sign-out (one, or everywhere else), and account deletion. Every form
//! posts back with its CSRF token and answers with a redirect to `/account` and a notice
//! (post/redirect/get), or the page again with what went wrong. A signed-out visitor is sent to
//! log in and comes back here.
//!
//! Deletion asks for the password again (not a typed confirmation): a session left open on a
//! shared computer, or stolen, must not be enough to destroy the account, and the attempt counts
//! against the account's failed log-in limit like a log-in.

use super::{page, Csrf};
use crate::accounts::{self, cookies, manage};
use crate::error::{Error, ErrorCode, Result};
use crate::http::params::Params;
use crate::http::{Request, Response};
use crate::objects::session::{self, SessionRecord};
use crate::objects::user::{self, Connected, SessionEntry};
use crate::oauth::logout_token;
use crate::platform::Platform;
use maud::{html, Markup};

const TITLE: &str = "Your account";

/// What the page says after an action (`?done=`), as fixed words: nothing from the query is
/// shown.
fn notice(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "profile" => "Your display name is saved. Apps and sessions you are already signed in to show the old name until you log in again.",
        "revoked" => "The app's access is revoked: its tokens no longer work, and it must ask you again.",
        "signed-out" => "That session is signed out.",
        "signed-out-others" => "Every other session is signed out.",
        _ => return None,
    })
}

fn login_redirect() -> Response {
    Response::see_other("/login?return_to=%2Faccount").no_store()
}

fn done(what: &str) -> Response {
    Response::see_other(&format!("/account?done={what}")).no_store()
}

/// A unix time as the page shows it (UTC, to the minute).
fn when(t: i64) -> String {
    let s = crate::util::rfc3339(t);
    let (date, time) = s.split_once('T').unwrap_or((s.as_str(), ""));
    format!("{date} {} UTC", time.get(..5).unwrap_or(""))
}

/// RFC 8176 methods as words.
fn method(amr: &str) -> &str {
    match amr {
        "pwd" => "password",
        "otp" => "one-time code",
        "hwk" | "swk" => "passkey",
        "mfa" => "two-step",
        "fed" => "another provider",
        other => other,
    }
}

/// What the page shows of one connected app: the directory's name (the client id when the app
/// is gone).
struct AppRow {
    c: Connected,
    name: String,
    homepage: Option<String>,
}

async fn app_rows(p: &impl Platform, user_id: &str) -> Result<Vec<AppRow>> {
    let mut rows = Vec::new();
    for c in manage::connected_apps(p, user_id).await? {
        let meta = p.app_meta(&c.client_id).await.ok().flatten();
        let (name, homepage) = match meta {
            Some(a) if !a.name.trim().is_empty() => (a.name, Some(a.homepage).filter(|h| h.starts_with("https://"))),
            _ => (format!("{} (removed app)", c.client_id), None),
        };
        rows.push(AppRow { c, name, homepage });
    }
    Ok(rows)
}

fn apps_section(csrf: &Csrf, rows: &[AppRow]) -> Markup {
    html! {
        section aria-labelledby="apps-h" {
            h2 id="apps-h" { "Connected apps" }
            @if rows.is_empty() {
                p id="no-apps" { "No app has access to your account." }
            }
            ul class="rows" {
                @for r in rows {
                    li class="app-row" {
                        strong { (r.name) }
                        @if let Some(h) = &r.homepage { " · " a href=(h) rel="noopener noreferrer" { "website" } }
                        br;
                        span {
                            @if let Some(t) = r.c.since { "Allowed " (when(t)) }
                            @if let Some(t) = r.c.last_at { " · last signed in " (when(t)) }
                        }
                        @if !r.c.scopes.is_empty() {
                            br;
                            span { "Access: " (r.c.scopes.join(", ")) }
                        }
                        form method="post" action="/account/apps/revoke" {
                            (csrf.field())
                            input type="hidden" name="client_id" value=(r.c.client_id);
                            button type="submit" class="secondary" aria-label={ "Revoke " (r.name) } { "Revoke" }
                        }
                    }
                }
            }
        }
    }
}

fn sessions_section(csrf: &Csrf, list: &[SessionEntry], current: Option<&str>) -> Markup {
    let others = list.iter().filter(|s| Some(s.hash.as_str()) != current).count();
    html! {
        section aria-labelledby="sessions-h" {
            h2 id="sessions-h" { "Sessions" }
            ul class="rows" {
                @for s in list.iter().rev() {
                    li class="session-row" {
                        strong { @if s.agent.is_empty() { "Unknown browser" } @else { (s.agent) } }
                        @if Some(s.hash.as_str()) == current { " " em class="current" { "(this browser)" } }
                        br;
                        span {
                            "Signed in " (when(s.started_at))
                            @if !s.amr.is_empty() {
                                " with " (s.amr.iter().map(|m| method(m)).collect::<Vec<_>>().join(" + "))
                            }
                        }
                        @if Some(s.hash.as_str()) != current {
                            form method="post" action="/account/sessions/end" {
                                (csrf.field())
                                input type="hidden" name="session" value=(s.hash);
                                button type="submit" class="secondary" { "Sign out" }
                            }
                        }
                    }
                }
            }
            @if others > 0 {
                form method="post" action="/account/sessions/end-others" {
                    (csrf.field())
                    button type="submit" id="end-others" { "Sign out everywhere else" }
                }
            }
        }
    }
}

/// The whole page for the signed-in person, with a notice or an error (and its status).
async fn render(p: &impl Platform, req: &Request, s: &SessionRecord, status: u16, note: Option<&str>, error: Option<&str>) -> Result<Response> {
    let csrf = Csrf::for_request(p, req)?;
    let profile = accounts::profile(p, &s.user_id).await?;
    let (email, name) = match &profile {
        Some(pr) => (pr.email.as_str(), pr.name.as_str()),
        None => (s.email.as_str(), s.name.as_str()),
    };
    let apps = app_rows(p, &s.user_id).await?;
    let sessions = accounts::sessions(p, &s.user_id).await?;
    let current = accounts::session_hash(req);
    let body = html! {
        @if let Some(n) = note { p role="status" id="notice" { (n) } }
        @if let Some(e) = error { p class="error" role="alert" id="err" { (e) } }
        section aria-labelledby="profile-h" {
            h2 id="profile-h" { "Profile" }
            p { "Email: " strong { (email) } }
            form method="post" action="/account/profile" {
                (csrf.field())
                label for="name" { "Display name" }
                input id="name" name="name" type="text" autocomplete="name" required maxlength="100" value=(name);
                button type="submit" { "Save name" }
            }
            p { small { "Apps and sessions you are already signed in to keep the old name until you log in again." } }
        }
        section aria-labelledby="security-h" {
            h2 id="security-h" { "Security" }
            ul {
                li { a href="/account/password" { "Change password" } }
                li { a href="/account/email" { "Change email" } }
                li { a href="/account/passkeys" { "Passkeys" } }
                li { a href="/account/2fa" { "Two-step verification" } }
            }
        }
        (apps_section(&csrf, &apps))
        (sessions_section(&csrf, &sessions, current.as_deref()))
        section aria-labelledby="delete-h" {
            h2 id="delete-h" { "Delete account" }
            p {
                "This signs you out everywhere, ends every app's access, and removes your account and profile. "
                "It cannot be undone; the email can be used to sign up again."
            }
            form method="post" action="/account/delete" {
                (csrf.field())
                label for="delete-password" { "Your password, to confirm" }
                input id="delete-password" name="password" type="password" autocomplete="current-password" required;
                button type="submit" id="delete" { "Delete my account" }
            }
        }
        form method="post" action="/logout" {
            (csrf.field())
            button type="submit" class="secondary" { "Log out" }
        }
    };
    Ok(page(&p.config().brand, status, TITLE, body, Some(&csrf)))
}

/// `GET /account`.
pub async fn show(p: &impl Platform, req: &Request) -> Result<Response> {
    let Some(s) = accounts::current_session(p, req).await? else {
        return Ok(login_redirect());
    };
    let q = Params::from_query(req).unwrap_or_default();
    render(p, req, &s, 200, notice(q.get("done")), None).await
}

/// The posted form of a signed-in person whose CSRF token matches: the form and the session;
/// `Err(response)` for anything else (wrong content type, unreadable form, stale token, signed
/// out).
async fn posted(p: &impl Platform, req: &Request) -> Result<std::result::Result<(Params, SessionRecord), Response>> {
    if req.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return Err(Error::page(ErrorCode::UnsupportedMediaType, "Unsupported form", "Submit the form from this site."));
    }
    let f = Params::parse_form(&req.body).map_err(|e| Error::page(ErrorCode::InvalidRequest, "Bad request", e.description))?;
    if !cookies::csrf_ok(req, f.get("csrf")) {
        return Err(Error::page(ErrorCode::AccessDenied, TITLE, "Your form expired or came from another site. Open your account page and try again."));
    }
    match accounts::current_session(p, req).await? {
        Some(s) => Ok(Ok((f, s))),
        None => Ok(Err(login_redirect())),
    }
}

/// `POST /account/profile`: the display name.
pub async fn profile(p: &impl Platform, req: &Request) -> Result<Response> {
    let (f, s) = match posted(p, req).await? {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    match manage::rename(p, &s.user_id, f.get("name").unwrap_or("")).await {
        Ok(_) => Ok(done("profile")),
        Err(e) if e.code == ErrorCode::InvalidRequest => render(p, req, &s, 400, None, Some(&e.description)).await,
        Err(e) => Err(e),
    }
}

/// `POST /account/apps/revoke`: ends every grant of the app for this person and forgets the
/// consent. Only the person's own index is read, so no other person's grants can be named.
pub async fn revoke(p: &impl Platform, req: &Request) -> Result<Response> {
    let (f, s) = match posted(p, req).await? {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    let client_id = f.get("client_id").unwrap_or("");
    if !crate::model::valid_client_id(client_id) {
        return render(p, req, &s, 400, None, Some("Choose an app from the list.")).await;
    }
    manage::revoke_app(p, &s.user_id, client_id).await?;
    {
        use crate::objects::audit::{Event, EventType, Outcome};
        p.record(Event::new(EventType::ConsentWithdrawn, format!("person:{}", s.user_id), Outcome::Success)
            .app(client_id)
            .person(s.user_id.clone()));
    }
    Ok(done("revoked").client(Some(client_id)))
}

/// `POST /account/sessions/end`: signs out one of the person's other sessions (one in their own
/// index only), with back-channel logout for its apps.
pub async fn end_one(p: &impl Platform, issuer: &str, req: &Request) -> Result<Response> {
    let (f, s) = match posted(p, req).await? {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    let hash = f.get("session").unwrap_or("");
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return render(p, req, &s, 400, None, Some("Choose a session from the list.")).await;
    }
    if accounts::session_hash(req).as_deref() == Some(hash) {
        return render(p, req, &s, 400, None, Some("To sign out of this browser, use Log out.")).await;
    }
    let which = user::Which::One(hash.to_owned());
    let gone = p.call(&user::object(&s.user_id), user::ForgetSessions { which }).await?;
    let mut jobs = Vec::new();
    for g in gone {
        if let Some(ended) = p.call(&session::object(&g.hash), session::Take {}).await? {
            match logout_token::for_ended_session(p, issuer, &ended).await {
                Ok(j) => jobs.extend(j),
                Err(e) => p.audit(&serde_json::json!({"event": "backchannel_logout_not_prepared", "error": e.code.as_str()})),
            }
        }
    }
    Ok(done("signed-out").then(jobs))
}

/// `POST /account/sessions/end-others`: sign out everywhere else.
pub async fn end_others(p: &impl Platform, issuer: &str, req: &Request) -> Result<Response> {
    let (_, s) = match posted(p, req).await? {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    let current = accounts::session_hash(req);
    let jobs = super::logout::ended_everywhere(p, issuer, &s.user_id, current.as_deref()).await?;
    Ok(done("signed-out-others").then(jobs))
}

/// `POST /account/delete`: with the password, ends every grant and every session (with
/// back-channel logout), then removes the account (`accounts::manage::remove`). Only a person's
/// account can be deleted: an app's bot user has no account record, so no password verifies.
pub async fn delete(p: &impl Platform, issuer: &str, req: &Request) -> Result<Response> {
    let (f, s) = match posted(p, req).await? {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    let pw = f.get("password").unwrap_or("");
    if pw.is_empty() || pw.len() > 1024 {
        return render(p, req, &s, 400, None, Some("Enter your password to delete your account.")).await;
    }
    let profile = match manage::verify_password(p, &s.user_id, pw).await {
        Ok(Some(profile)) => profile,
        Ok(None) => return render(p, req, &s, 401, None, Some("The password is wrong; your account was not deleted.")).await,
        Err(e) if e.code == ErrorCode::RateLimited => {
            return render(p, req, &s, 429, None, Some("Too many wrong passwords. Wait a minute and try again.")).await
        }
        Err(e) => return Err(e),
    };
    manage::end_every_grant(p, &profile.id).await?;
    let current = accounts::session_hash(req);
    let mut jobs = super::logout::ended_everywhere(p, issuer, &profile.id, current.as_deref()).await?;
    manage::remove(p, &profile).await?;
    // This browser's session last: until the account is gone a failure can be tried again from
    // here. Then once more every session, for a log-in that raced the removal.
    jobs.extend(super::logout::ended(p, issuer, req).await?);
    jobs.extend(super::logout::ended_everywhere(p, issuer, &profile.id, None).await?);
    {
        use crate::objects::audit::{Event, EventType, Outcome};
        p.record(Event::new(EventType::AccountDelete, format!("person:{}", profile.id), Outcome::Success).person(profile.id.clone()));
    }
    let body = html! {
        p role="status" id="deleted" { "Your account is deleted. You are signed out everywhere, and no app has access any more." }
        p { a href="/signup" { "Sign up" } }
    };
    Ok(page(&p.config().brand, 200, "Account deleted", body, None)
        .header("set-cookie", super::logout::clear_session_cookie(req))
        .then(jobs))
}
