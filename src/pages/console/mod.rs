//! The operator console at `/admin` (server-rendered, no JavaScript): sign-in and the first
//! owner's set-up (`/admin/console/login`, `/admin/console/setup`), apps (`apps.rs`), people
//! (`people.rs`), audit events (`audit.rs`) and operators (`operators.rs`). Who may do what is
//! `rules::operator_roles`, the same table the `/admin` API uses; sessions and their CSRF tokens
//! are `rules::console_session`, kept by `accounts::operators`.
//!
//! Every page is `no-store` with a CSP of its own stylesheet only; every signed-in form carries
//! the session's CSRF token and every POST checks it (and the role) before anything else. Forms
//! take `application/x-www-form-urlencoded` only (415 otherwise), parsed by the one parser
//! (`http::params`: non-UTF-8, control characters and repeated fields refused). App fields are
//! checked by the admin API's own rules: the form becomes the admin API's input
//! (`admin::apps::AppInput`) and goes through `admin::apps::create_from` / `update_from`.
//!
//! People and audit are the `/admin/users` and `/admin/audit` APIs' own functions
//! (`admin::users::find` / `disable` / `force_reset` / `end_all_sessions` / `remove`,
//! `admin::audit::parse_query` / `find`), with the signed-in operator as the audit actor
//! (`operator:<id>`). Reading needs `ViewPeople` / `ViewAudit`; every people action is a POST
//! with the CSRF token and `ManagePeople` (a read-only operator sees no buttons, and its POST is
//! 403 anyway); deleting a person has a confirmation page. Everything is the tenant's: the
//! tenant-bound platform names every object, so another organisation's person is a 404 here.
//! A filter that is not one (an unknown status or type, a malformed id, time or cursor, an
//! oversized field) shows the page again with what was wrong (400).

pub mod apps;
pub mod audit;
pub mod operators;
pub mod people;

use super::{Csrf, Branded};
use crate::accounts::operators::{self as ops, Session};
use crate::error::{Error, ErrorCode, Result, Shown};
use crate::http::params::Params;
use crate::http::{Request, Response};
use crate::platform::Platform;
use crate::rules::operator_roles::{self, Action};
use maud::{html, Markup, PreEscaped};

pub const BASE: &str = "/admin/console";

/// The console's sections: (label, path, what viewing it needs). A section whose page does not
/// exist has no path and is not shown.
pub const NAV: [(&str, Option<&str>, Action); 4] = [
    ("Apps", Some("/admin/console/apps"), Action::ViewApps),
    ("People", Some("/admin/console/people"), Action::ViewPeople),
    ("Audit", Some("/admin/console/audit"), Action::ViewAudit),
    ("Operators", Some("/admin/console/operators"), Action::ViewOperators),
];

const STYLE: &str = "*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1d2329;background:#f3f4f6}\
a{color:#0b5cad}a:hover{text-decoration:underline}\
header.top{display:flex;align-items:center;gap:1rem;height:48px;padding:0 1.2rem;background:#1f2a37;color:#fff}header.top .brand{font-weight:700;font-size:15px}header.top .product{color:#9fb3c8;font-size:13px}header.top .who{margin-left:auto;display:flex;align-items:center;gap:.8rem;font-size:13px}header.top .who form{margin:0}header.top button{margin:0;background:transparent;border:1px solid #52667a;color:#fff;padding:.25rem .7rem}\
.shell{display:flex;min-height:calc(100vh - 48px)}nav.side{width:200px;flex:none;background:#fff;border-right:1px solid #dde1e6;padding:1rem 0}nav.side a{display:block;padding:.45rem 1.2rem;color:#1d2329;text-decoration:none;border-left:3px solid transparent}nav.side a.on{border-left-color:#0b5cad;background:#eef4fb;font-weight:600;color:#0b5cad}\
main{flex:1;padding:1.2rem 1.8rem;max-width:1200px}h1{font-size:20px;margin:.2rem 0 1rem}h2{font-size:15px;margin:1.6rem 0 .6rem;padding-bottom:.3rem;border-bottom:1px solid #dde1e6}\
.crumbs{font-size:13px;color:#5b6775;margin-bottom:.3rem}.bar{display:flex;align-items:center;gap:.6rem;margin:0 0 1rem;flex-wrap:wrap}.bar .grow{flex:1}\
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #dde1e6}th,td{text-align:left;padding:.45rem .7rem;border-bottom:1px solid #e8ebee;vertical-align:top}th{background:#f8f9fa;font-weight:600;font-size:12px;text-transform:uppercase;letter-spacing:.03em;color:#4a5562}tr:hover td{background:#fafbfc}td code,dd code{font-size:12.5px}\
dl.props{display:grid;grid-template-columns:190px 1fr;gap:0;background:#fff;border:1px solid #dde1e6;margin:0}dl.props dt,dl.props dd{margin:0;padding:.45rem .7rem;border-bottom:1px solid #e8ebee}dl.props dt{color:#4a5562;font-weight:600;background:#f8f9fa}\
.badge{display:inline-block;padding:0 .45rem;border-radius:3px;font-size:12px;font-weight:600;line-height:1.6;background:#e8ebee;color:#33404d}.badge.active{background:#d8f0dd;color:#17622a}.badge.disabled{background:#fbe3c9;color:#8a4b00}.badge.warn{background:#fde2e1;color:#9b1c1c}.badge.info{background:#dfeafb;color:#0b4f99}\
form.filters{display:flex;gap:.5rem;flex-wrap:wrap;align-items:flex-end;background:#fff;border:1px solid #dde1e6;padding:.7rem;margin-bottom:1rem}form.filters label{margin:0;font-size:12px}\
label{display:block;font-weight:600;margin:.8rem 0 .25rem}.hint{font-weight:400;color:#5b6775;font-size:12.5px}\
input[type=text],input[type=email],input[type=password],input[type=url],input[type=tel],input[type=search],select,textarea{width:100%;padding:.4rem .5rem;border:1px solid #a9b2bc;border-radius:3px;font:inherit;background:#fff}textarea{min-height:4.5rem;font-family:ui-monospace,monospace;font-size:12.5px}form.filters input,form.filters select{width:auto;min-width:9rem}\
fieldset{border:1px solid #dde1e6;background:#fff;padding:.4rem 1rem 1rem;margin:0 0 1rem}legend{font-weight:700;padding:0 .3rem}.checks{display:flex;flex-wrap:wrap;gap:.3rem 1.2rem}.checks label{font-weight:400;margin:.3rem 0;display:flex;gap:.35rem;align-items:center}.grid2{display:grid;grid-template-columns:1fr 1fr;gap:0 1.2rem}\
button,.button{display:inline-block;margin:0;padding:.4rem .9rem;border-radius:3px;border:1px solid #0b5cad;background:#0b5cad;color:#fff;font:inherit;font-weight:600;cursor:pointer;text-decoration:none}button.secondary,.button.secondary{background:#fff;color:#0b5cad}button.danger,.button.danger{background:#fff;color:#b42318;border-color:#b42318}.actions{display:flex;gap:.5rem;flex-wrap:wrap;margin:.6rem 0}.actions form{margin:0}\
.notice{background:#e6f4ea;border:1px solid #9fd3ad;padding:.6rem .8rem;margin:0 0 1rem}.error{background:#fdecea;border:1px solid #f3b1aa;color:#8c1d13;padding:.6rem .8rem;margin:0 0 1rem;font-weight:600}.once{background:#fff8e1;border:1px solid #f0c36d;padding:.8rem;margin:0 0 1rem}.once pre{background:#fff;border:1px solid #e0d3a8;padding:.6rem;white-space:pre-wrap;overflow-wrap:anywhere;font-size:12px;max-height:16rem;overflow:auto}\
.muted{color:#5b6775}.pager{margin:.8rem 0}.empty{padding:1.2rem;text-align:center;color:#5b6775;background:#fff;border:1px solid #dde1e6}\
.card{max-width:26rem;margin:4rem auto;background:#fff;border:1px solid #dde1e6;padding:1.5rem 1.8rem}.card h1{margin-top:0}.card button{margin-top:1rem;width:100%}\
.confirm{display:inline-flex;gap:.3rem;align-items:center;margin:0 .3rem 0 0}:focus-visible{outline:3px solid #5b9ee6;outline-offset:1px}";

/// Whether `path` is the console's (the rest of `/admin/` is the JSON API).
pub fn is_console_path(path: &str) -> bool {
    path == "/admin" || path == "/admin/" || path == BASE || path.starts_with("/admin/console/")
}

/// A console page: the top bar (brand, the operator, sign out), the sections the operator may
/// view, and `body`. Every string is escaped by maud; the stylesheet is the one constant, listed
/// in the CSP by its hash.
pub fn page(p: &impl Branded, status: u16, title: &str, s: Option<&Session>, current: &str, body: Markup) -> Response {
    let brand = super::brand::shown(p.brand());
    let html = html! {
        (PreEscaped("<!doctype html>"))
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width,initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) " · " (brand.name) " console" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header class="top" {
                    span class="brand" { (brand.name) }
                    span class="product" { "Operator console" }
                    @if let Some(s) = s {
                        div class="who" {
                            span id="whoami" { (s.account.name) " · " span class="badge info" { (s.account.role.label()) } }
                            form method="post" action="/admin/console/logout" {
                                input type="hidden" name="csrf" value=(s.record.csrf);
                                button type="submit" id="sign-out" { "Sign out" }
                            }
                        }
                    }
                }
                @if let Some(s) = s {
                    div class="shell" {
                        nav class="side" aria-label="Console" {
                            @for (label, path, needs) in NAV {
                                @if let Some(path) = path {
                                    @if operator_roles::allows(s.account.role, needs) {
                                        a href=(path) class=[(label == current).then_some("on")] { (label) }
                                    }
                                }
                            }
                        }
                        main { (body) }
                    }
                } @else {
                    (body)
                }
            }
        }
    }
    .into_string();
    let csp = format!(
        "default-src 'none'; style-src {}; img-src https: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        super::style_source(STYLE)
    );
    Response::new(status, "text/html; charset=utf-8", html)
        .header("content-security-policy", csp)
        .header("cache-control", "no-store")
        .header("referrer-policy", "no-referrer")
}

/// A form body: `application/x-www-form-urlencoded` only, read by the one parser's pieces
/// (`percent_unescape`, `from_pairs`: bad escapes, non-UTF-8 and repeated fields refused). Its
/// one difference from `Params::parse_form`: a console form has text areas (redirect URLs, a
/// PEM), so line breaks are allowed in values (CRLF read as LF); every other control character
/// is still refused, and in names everything.
pub fn form(req: &Request) -> Result<Params> {
    if req.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return Err(Error::new(ErrorCode::UnsupportedMediaType, "send the form as application/x-www-form-urlencoded"));
    }
    let text = |raw: &[u8], lines: bool| -> Result<String> {
        let bytes = crate::http::params::percent_unescape(raw, true).ok_or_else(|| Error::invalid_request("malformed percent-encoding"))?;
        let s = String::from_utf8(bytes).map_err(|_| Error::invalid_request("parameters must be UTF-8"))?.replace("\r\n", "\n");
        if s.chars().any(|c| c.is_control() && !(c == '\t' || (lines && c == '\n'))) {
            return Err(Error::invalid_request("parameters must not contain control characters"));
        }
        Ok(s)
    };
    let mut pairs = Vec::new();
    for part in req.body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let mut kv = part.splitn(2, |b| *b == b'=');
        let k = text(kv.next().unwrap_or_default(), false)?;
        let v = text(kv.next().unwrap_or_default(), true)?;
        pairs.push((k, v));
    }
    Params::from_pairs(pairs)
}

fn method(req: &Request, allowed: &[&str]) -> Result<()> {
    if allowed.contains(&req.method.as_str()) {
        Ok(())
    } else {
        Err(Error::method_not_allowed(&allowed.iter().map(|m| m.to_string()).collect::<Vec<_>>()))
    }
}

fn to_login() -> Response {
    Response::see_other("/admin/console/login").no_store()
}

/// A signed-in POST: the session, its CSRF token and the role's permission for `action`, in
/// that order, before the form is used.
pub fn change(req: &Request, s: &Session, f: &Params, action: Action) -> Result<()> {
    ops::check_change(req, s, f.get("csrf"))?;
    operator_roles::require(s.account.role, action)
}

/// Answers a console request. Errors a person can act on become console pages; a server error
/// goes on to `routes::render` (logged, details hidden).
pub async fn handle(p: &impl Platform, req: &Request, issuer: &str) -> Result<Response> {
    let session = ops::current(p, req).await?;
    match route(p, req, session.as_ref(), issuer).await {
        Ok(r) => Ok(r),
        Err(e) if e.status() >= 500 => Err(e),
        Err(e) => {
            let title = match &e.shown {
                Shown::Page { title } => *title,
                _ => match e.status() {
                    403 => "Not allowed",
                    404 => "Not found",
                    405 => "Method not allowed",
                    409 => "Conflict",
                    413 => "Too large",
                    415 => "Unsupported form",
                    429 => "Too many attempts",
                    _ => "Could not do that",
                },
            };
            let body = html! { p class="error" role="alert" { (e.description) } p { a href="/admin/console/apps" { "Back to the console" } } };
            let mut r = page(p, e.status(), title, session.as_ref(), "", body);
            for (k, v) in &e.headers {
                r = r.header(k, v.clone());
            }
            Ok(r)
        }
    }
}

async fn route(p: &impl Platform, req: &Request, s: Option<&Session>, issuer: &str) -> Result<Response> {
    let path = req.path.as_str();
    let rest = path.strip_prefix("/admin/console").unwrap_or("");
    let parts: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        ["login"] => {
            method(req, &["GET", "POST"])?;
            if req.method == "GET" {
                login_page(p, req, None).await
            } else {
                login_submit(p, req).await
            }
        }
        ["setup"] => {
            method(req, &["POST"])?;
            setup_submit(p, req).await
        }
        ["logout"] => {
            method(req, &["POST"])?;
            let f = form(req)?;
            if let Some(s) = s {
                ops::check_change(req, s, f.get("csrf"))?;
            }
            let clear = ops::end_session(p, req).await?;
            Ok(to_login().header("set-cookie", clear))
        }
        _ => {
            // Everything else needs a live session.
            let Some(s) = s else {
                if req.method == "GET" || req.method == "HEAD" {
                    return Ok(to_login());
                }
                return Err(Error::new(ErrorCode::AccessDenied, "your console session has ended (or was never valid): sign in again"));
            };
            match parts.as_slice() {
                [""] if path != BASE && path != "/admin/console/" => {
                    method(req, &["GET", "HEAD"])?;
                    Ok(Response::see_other("/admin/console/apps").no_store())
                }
                [""] => {
                    method(req, &["GET", "HEAD"])?;
                    Ok(Response::see_other("/admin/console/apps").no_store())
                }
                ["apps", ..] => apps::route(p, req, s, parts.get(1..).unwrap_or_default()).await,
                ["operators", ..] => operators::route(p, req, s, parts.get(1..).unwrap_or_default()).await,
                ["people", ..] => people::route(p, req, s, issuer, parts.get(1..).unwrap_or_default()).await,
                ["audit", ..] => audit::route(p, req, s, parts.get(1..).unwrap_or_default()).await,
                _ => Err(Error::not_found("no such console page")),
            }
        }
    }
}

async fn login_page(p: &impl Platform, req: &Request, error: Option<&str>) -> Result<Response> {
    let csrf = Csrf::for_request(p, req)?;
    let set_up = ops::any(p).await?;
    let body = html! {
        div class="card" {
            @if set_up {
                h1 { "Sign in" }
                p class="muted" { "Operators of this server sign in here." }
                @if let Some(e) = error { p class="error" role="alert" { (e) } }
                form method="post" action="/admin/console/login" {
                    (csrf.field())
                    label for="email" { "Email" }
                    input type="email" id="email" name="email" autocomplete="username" required;
                    label for="password" { "Password" }
                    input type="password" id="password" name="password" autocomplete="current-password" required;
                    button type="submit" id="sign-in" { "Sign in" }
                }
            } @else {
                h1 { "Set up the console" }
                p class="muted" { "No operator has an account yet. Prove you run this server with its admin token (ADMIN_TOKEN, or your organisation's operator token) and choose the first owner's email and password." }
                @if let Some(e) = error { p class="error" role="alert" { (e) } }
                form method="post" action="/admin/console/setup" {
                    (csrf.field())
                    label for="token" { "Admin token" }
                    input type="password" id="token" name="token" autocomplete="off" required;
                    label for="name" { "Your name" }
                    input type="text" id="name" name="name" required maxlength="100";
                    label for="email" { "Email" }
                    input type="email" id="email" name="email" autocomplete="username" required;
                    label for="password" { "Password " span class="hint" { "(8 characters or more, not a common one)" } }
                    input type="password" id="password" name="password" autocomplete="new-password" required;
                    button type="submit" id="set-up" { "Create the owner and sign in" }
                }
            }
        }
    };
    let status = if error.is_some() { 400 } else { 200 };
    let mut r = page(p, status, if set_up { "Sign in" } else { "Set up" }, None, "", body);
    if let Some(set) = csrf.set_cookie.clone() {
        r = r.header("set-cookie", set);
    }
    Ok(r)
}

/// The sign-in and set-up forms are before any session: the CSRF double-submit cookie guards
/// them (`accounts::cookies::csrf_ok`).
fn pre_session_form(req: &Request) -> Result<Params> {
    let f = form(req)?;
    if !crate::accounts::cookies::csrf_ok(req, f.get("csrf")) {
        return Err(Error::new(ErrorCode::AccessDenied, "the form's security token is missing or wrong; reload the page and try again"));
    }
    Ok(f)
}

async fn signed_in(p: &impl Platform, req: &Request, account: &crate::objects::operator::OperatorAccount) -> Result<Response> {
    // A session cookie the browser still held is ended: a sign-in always starts a new one.
    if ops::has_cookie(req) {
        ops::end_session(p, req).await?;
    }
    let set = ops::start_session(p, req, account).await?;
    Ok(Response::see_other("/admin/console/apps").no_store().header("set-cookie", set))
}

async fn login_submit(p: &impl Platform, req: &Request) -> Result<Response> {
    let f = pre_session_form(req)?;
    match ops::sign_in(p, f.get("email").unwrap_or(""), f.get("password").unwrap_or("")).await {
        Ok(account) => signed_in(p, req, &account).await,
        Err(e) if e.code == ErrorCode::AccessDenied => {
            let mut r = login_page(p, req, Some(&e.description)).await?;
            r.status = 401;
            Ok(r)
        }
        Err(e) => Err(e),
    }
}

async fn setup_submit(p: &impl Platform, req: &Request) -> Result<Response> {
    let f = pre_session_form(req)?;
    let made = ops::bootstrap(
        p,
        f.get("token").unwrap_or(""),
        f.get("email").unwrap_or(""),
        f.get("name").unwrap_or(""),
        f.get("password").unwrap_or(""),
    )
    .await;
    match made {
        Ok(account) => signed_in(p, req, &account).await,
        Err(e) if e.status() < 500 && e.code != ErrorCode::AccessDenied || e.description.contains("admin token") => {
            let mut r = login_page(p, req, Some(&e.description)).await?;
            r.status = e.status();
            Ok(r)
        }
        Err(e) => Err(e),
    }
}

/// A unix time as the console shows it (UTC, to the minute).
pub fn when(t: i64) -> String {
    let s = crate::util::rfc3339(t);
    let (date, time) = s.split_once('T').unwrap_or((s.as_str(), ""));
    format!("{date} {}", time.get(..5).unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(ct: &str, body: &[u8]) -> Request {
        Request {
            headers: vec![("content-type".into(), ct.into())],
            body: body.to_vec(),
            ..Default::default()
        }
    }

    #[test]
    fn a_console_form_allows_line_breaks_in_values_only() {
        let f = form(&req("application/x-www-form-urlencoded", b"a=x%0D%0Ay%0Az&b=%09t+u")).unwrap();
        assert_eq!(f.get("a"), Some("x\ny\nz"));
        assert_eq!(f.get("b"), Some("\tt u"));
        for bad in [&b"a=%00"[..], b"a=%0D", b"a=%1B", b"a%0A=x", b"a=%FF", b"a=%G0", b"a=1&a=2", b"a=%7F"] {
            assert_eq!(form(&req("application/x-www-form-urlencoded", bad)).unwrap_err().status(), 400, "{bad:?}");
        }
        for ct in ["application/json", "text/plain", "multipart/form-data"] {
            assert_eq!(form(&req(ct, b"a=b")).unwrap_err().status(), 415, "{ct}");
        }
        assert!(is_console_path("/admin") && is_console_path("/admin/console/apps"));
        assert!(!is_console_path("/admin/apps") && !is_console_path("/admin/consoles"));
    }
}
