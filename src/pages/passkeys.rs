//! Passkeys for people: `/account/passkeys` (the list, "Add a passkey", remove), the JSON
//! endpoints the page's script calls (`/account/passkeys/options`, `/account/passkeys`,
//! `/login/passkey/options`, `/login/passkey`) and the script itself (`/assets/passkeys.js`).
//!
//! Every JSON endpoint takes `application/json` only (so a cross-site form cannot post it and a
//! cross-site script needs a preflight, which gets no CORS answer) and the page's CSRF token in
//! `csrf`, checked against the cookie with the `Origin` header as for forms. The script is the
//! only JavaScript of the pages; a page that includes it gets `script-src 'self'` and
//! `connect-src 'self'` in its CSP ([`super::page`]), every other page none.

use super::{page, safe_return_to, Csrf};
use crate::accounts::{self, cookies, passkeys};
use crate::error::{Error, ErrorCode, Result};
use crate::http::params::Params;
use crate::http::{Request, Response};
use crate::objects::session::SessionRecord;
use crate::platform::Platform;
use maud::{html, Markup};
use serde_json::{json, Value};

/// Where the script is served; a page whose HTML holds [`SCRIPT_TAG`] may run it.
pub const SCRIPT_PATH: &str = "/assets/passkeys.js";
/// The tag as maud renders `script src=(SCRIPT_PATH) defer {}`. Text that maud escapes can
/// never contain it (`<` becomes `&lt;`), so only a template can put it on a page.
pub const SCRIPT_TAG: &str = r#"<script src="/assets/passkeys.js" defer></script>"#;
const SCRIPT: &str = include_str!("passkeys.js");

fn script() -> Markup {
    html! { script src=(SCRIPT_PATH) defer {} }
}

/// `GET /assets/passkeys.js`.
pub fn script_file() -> Response {
    Response::new(200, "text/javascript; charset=utf-8", SCRIPT).header("cache-control", "public, max-age=300")
}

/// The log-in page's passkey button: hidden until the script finds WebAuthn in the browser,
/// so without JavaScript the page is the password form alone.
pub fn login_button() -> Markup {
    html! {
        div id="passkey-login" hidden {
            button type="button" class="secondary" { "Sign in with a passkey" }
        }
        (script())
    }
}

fn date(t: i64) -> String {
    crate::util::rfc3339(t).chars().take(10).collect()
}

fn list_page(csrf: &Csrf, keys: &[crate::objects::passkey::PasskeyRecord], notice: Option<&str>) -> Markup {
    html! {
        @if let Some(n) = notice { p role="status" id="notice" { (n) } }
        p { "A passkey lets you sign in with your device's screen lock or a security key instead of your password." }
        @if keys.is_empty() {
            p id="no-passkeys" { "You have no passkeys yet." }
        } @else {
            ul id="passkeys" {
                @for k in keys {
                    li {
                        strong { (k.name) }
                        @if k.backup_eligible { " (synced)" }
                        br;
                        "Added " (date(k.created_at)) " · "
                        @match k.last_used_at { Some(t) => { "last used " (date(t)) }, None => { "never used" } }
                        form method="post" action="/account/passkeys/remove" class="inline" {
                            (csrf.field())
                            input type="hidden" name="id" value=(k.id);
                            " "
                            button type="submit" class="secondary" aria-label=(format!("Remove passkey {}", k.name)) { "Remove" }
                        }
                    }
                }
            }
        }
        h2 { "Add a passkey" }
        noscript { p { "Adding a passkey needs JavaScript." } }
        form id="passkey-add" hidden {
            (csrf.field())
            label for="passkey-name" { "Name of the new passkey (optional)" }
            input id="passkey-name" name="name" type="text" maxlength="60" placeholder="e.g. Laptop";
            "\n"
            button type="submit" { "Add a passkey" }
        }
        p { a href="/account" { "Back to your account" } }
        (script())
    }
}

const LIST_PATH: &str = "/account/passkeys";

fn to_login() -> Response {
    Response::see_other("/login?return_to=%2Faccount%2Fpasskeys")
}

/// `GET /account/passkeys`.
pub async fn list(p: &impl Platform, req: &Request) -> Result<Response> {
    let Some(s) = accounts::current_session(p, req).await? else {
        return Ok(to_login());
    };
    let csrf = Csrf::for_request(p, req)?;
    let q = Params::from_query(req)?;
    let notice = if q.get("added").is_some() {
        Some("Passkey added. You can now sign in with it.")
    } else if q.get("removed").is_some() {
        Some("Passkey removed.")
    } else {
        None
    };
    let keys = passkeys::list(p, &s.user_id).await?;
    Ok(page(&p.config().brand, 200, "Passkeys", list_page(&csrf, &keys, notice), Some(&csrf)))
}

/// `POST /account/passkeys/remove` (a form: `csrf`, `id`).
pub async fn remove(p: &impl Platform, req: &Request) -> Result<Response> {
    let Some(s) = accounts::current_session(p, req).await? else {
        return Ok(to_login());
    };
    if req.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return Err(Error::page(ErrorCode::UnsupportedMediaType, "Unsupported form", "Submit the form from this site."));
    }
    let f = Params::parse_form(&req.body).map_err(|e| Error::page(ErrorCode::InvalidRequest, "Bad request", e.description))?;
    if !cookies::csrf_ok(req, f.get("csrf")) {
        return Err(Error::page(ErrorCode::AccessDenied, "Passkeys", "Your form expired. Please try again."));
    }
    if !accounts::recent_login(p, &s) {
        return Ok(super::to_reauthenticate(&s, LIST_PATH));
    }
    if !passkeys::remove(p, &s.user_id, f.get("id").unwrap_or("")).await? {
        return Err(Error::page(ErrorCode::NotFound, "Passkeys", "You have no such passkey: it may have been removed already."));
    }
    Ok(Response::see_other("/account/passkeys?removed=1"))
}

/// The JSON body of a script's request, its CSRF token checked.
fn json_body(req: &Request) -> Result<Value> {
    if req.media_type().as_deref() != Some("application/json") {
        return Err(Error::new(ErrorCode::UnsupportedMediaType, "send application/json"));
    }
    let v: Value = serde_json::from_slice(&req.body).map_err(|_| Error::invalid_request("the body is not JSON"))?;
    if !v.is_object() {
        return Err(Error::invalid_request("the body is not a JSON object"));
    }
    if !cookies::csrf_ok(req, v.get("csrf").and_then(Value::as_str)) {
        return Err(Error::new(ErrorCode::AccessDenied, "this page expired: reload it and try again"));
    }
    Ok(v)
}

async fn session_for_json(p: &impl Platform, req: &Request) -> Result<SessionRecord> {
    accounts::current_session(p, req)
        .await?
        .ok_or_else(|| Error::new(ErrorCode::AccessDenied, "log in first"))
}

/// Adding a passkey needs a recent log-in (`rules::recent_login`): else 403 `login_required`
/// with where to confirm it is still the person (`redirect_to`, back to this page after), which
/// the script follows.
fn stale(s: &SessionRecord) -> Response {
    let v = json!({
        "error": "login_required",
        "error_description": "confirm it's you: log in again to add a passkey",
        "redirect_to": super::reauthenticate_location(s, LIST_PATH),
    });
    json_answer(403, &v)
}

fn json_answer(status: u16, v: &Value) -> Response {
    Response::json(status, v).no_store()
}

/// `POST /account/passkeys/options`: creation options for the signed-in person.
pub async fn registration_options(p: &impl Platform, issuer: &str, req: &Request) -> Result<Response> {
    json_body(req)?;
    let s = session_for_json(p, req).await?;
    if !accounts::recent_login(p, &s) {
        return Ok(stale(&s));
    }
    let name = super::brand::shown(&p.config().brand).name.to_owned();
    let options = passkeys::registration_options(p, issuer, req, &s, &name).await?;
    Ok(json_answer(200, &options))
}

/// `POST /account/passkeys`: the new credential; 201 with what was kept.
pub async fn register(p: &impl Platform, issuer: &str, req: &Request) -> Result<Response> {
    let v = json_body(req)?;
    let s = session_for_json(p, req).await?;
    if !accounts::recent_login(p, &s) {
        return Ok(stale(&s));
    }
    let credential = passkeys::Credential::from_json(v.get("credential").unwrap_or(&Value::Null))?;
    let name = v.get("name").and_then(Value::as_str);
    let k = passkeys::register(p, issuer, req, &s, &credential, name).await?;
    Ok(json_answer(201, &json!({"id": k.id, "name": k.name, "created_at": k.created_at})))
}

/// `POST /login/passkey/options`: request options for a log-in with a passkey.
pub async fn login_options(p: &impl Platform, issuer: &str, req: &Request) -> Result<Response> {
    json_body(req)?;
    Ok(json_answer(200, &passkeys::login_options(p, issuer, req).await?))
}

/// `POST /login/passkey`: the assertion; on success the session starts (its cookie set) and
/// the answer says where to go, as the password form's redirect would (a script's `fetch`
/// cannot follow a 303 to a page, so the script navigates).
pub async fn login(p: &impl Platform, issuer: &str, req: &Request) -> Result<Response> {
    let v = json_body(req)?;
    let credential = passkeys::Credential::from_json(v.get("credential").unwrap_or(&Value::Null))?;
    let return_to = safe_return_to(v.get("return_to").and_then(Value::as_str));
    let done = passkeys::log_in(p, issuer, req, &credential).await?;
    // Where every log-in ends (as `login::finish_login` does for the forms), with the
    // passkey's RFC 8176 methods (`rules::webauthn::amr`) kept in the session and ID tokens.
    let amr: Vec<&str> = done.amr.iter().map(String::as_str).collect();
    // A passkey without user verification is one factor: a person with TOTP then goes on to
    // `/login/2fa` (with user verification, `mfa`, they do not: `two_factor::needs_second_step`).
    if let Some(ticket) = accounts::two_factor::pending_login(p, &done.profile, &amr, &return_to).await? {
        return Ok(json_answer(200, &json!({"redirect_to": "/login/2fa"}))
            .header("set-cookie", accounts::two_factor::ticket_cookie(req, Some(&ticket))));
    }
    let token = accounts::start_session(p, req, &done.profile, &amr).await?;
    Ok(json_answer(200, &json!({"redirect_to": return_to})).header(
        "set-cookie",
        cookies::set(req, &cookies::session_name(req), &token, p.config().session_ttl),
    ))
}
