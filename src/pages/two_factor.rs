//! Two-factor authentication pages: `/login/2fa` (the second step of a log-in, for people with
//! a second factor) and `/account/2fa` (turn it on with a QR code and a confirming code, see
//! or replace the recovery codes, turn it off). Every form carries the CSRF token; every page
//! is `no-store` (the enrolment page shows the secret, the confirmation the recovery codes).

use super::{page, Csrf};
use crate::accounts::{self, cookies, two_factor};
use crate::accounts::two_factor::SecondStep;
use crate::error::{Error, ErrorCode, Result};
use crate::http::params::{encode_form, Params};
use crate::http::{Request, Response};
use crate::objects::session::SessionRecord;
use crate::objects::totp::Status;
use crate::platform::Platform;
use crate::rules::totp;
use maud::{html, Markup};

const LOGIN_TITLE: &str = "Two-step verification";
const ACCOUNT_TITLE: &str = "Two-factor authentication";
const ACCOUNT_PATH: &str = "/account/2fa";

/// The posted form, or the page that says why there is none.
fn form_params(req: &Request, title: &'static str) -> Result<Params> {
    if req.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return Err(Error::page(
            ErrorCode::UnsupportedMediaType,
            title,
            "Submit the form from this site.",
        ));
    }
    Params::parse_form(&req.body).map_err(|e| Error::page(ErrorCode::InvalidRequest, title, e.description))
}

fn rate_limited(mut r: Response, e: &Error) -> Response {
    for (k, v) in &e.headers {
        r = r.header(k, v.clone());
    }
    r
}

/// A QR code of `data` as inline SVG: one path of the dark modules (runs of a row drawn as one
/// rectangle) inside a four-module quiet zone; no script, no style, nothing loaded.
pub fn qr_svg(data: &str, label: &str) -> Result<Markup> {
    let code = qrcode::QrCode::with_error_correction_level(data.as_bytes(), qrcode::EcLevel::M)
        .map_err(|_| Error::server("the key URI does not fit a QR code"))?;
    let width = code.width();
    let colors = code.to_colors();
    let mut d = String::new();
    for (y, row) in colors.chunks(width.max(1)).enumerate() {
        let mut x = 0;
        while x < row.len() {
            if row.get(x) == Some(&qrcode::Color::Dark) {
                let run = row.iter().skip(x).take_while(|c| **c == qrcode::Color::Dark).count();
                d.push_str(&format!("M{} {}h{run}v1h-{run}z", x + 4, y + 4));
                x += run;
            } else {
                x += 1;
            }
        }
    }
    let size = width + 8;
    let view = format!("0 0 {size} {size}");
    Ok(html! {
        svg xmlns="http://www.w3.org/2000/svg" viewBox=(view) width="220" height="220"
            role="img" aria-label=(label) shape-rendering="crispEdges" class="qr" {
            rect width=(size) height=(size) fill="#fff" {}
            path d=(d) fill="#000" {}
        }
    })
}

/// Groups a base32 secret in fours for typing (`GEZD GNBV …`).
fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

// ---------------------------------------------------------------------------------------------
// /login/2fa
// ---------------------------------------------------------------------------------------------

/// Where a log-in that needs its second step goes: `/login/2fa`, with the ticket's cookie.
pub fn to_second_step(req: &Request, ticket: &str) -> Response {
    Response::empty(303)
        .header("location", "/login/2fa")
        .header("set-cookie", two_factor::ticket_cookie(req, Some(ticket)))
        .header("cache-control", "no-store")
}

fn code_field(id: &str) -> Markup {
    html! {
        input id=(id) name="code" type="text" inputmode="numeric" autocomplete="one-time-code"
            pattern="[0-9 ]{6,7}" maxlength="7" required aria-describedby=(format!("{id}-help"));
    }
}

fn login_form(csrf: &Csrf, email: &str, error: Option<&str>) -> Markup {
    html! {
        @if let Some(e) = error { p class="error" role="alert" id="err" { (e) } }
        p { "Your password was right. Enter the 6-digit code your authenticator app shows for " strong { (email) } "." }
        form method="post" action="/login/2fa" {
            (csrf.field())
            label for="code" { "Authentication code" }
            (code_field("code"))
            p id="code-help" { "The code changes every 30 seconds." }
            button type="submit" { "Verify" }
        }
        details {
            summary { "Lost your authenticator? Use a recovery code" }
            form method="post" action="/login/2fa" {
                (csrf.field())
                label for="recovery_code" { "Recovery code" }
                input id="recovery_code" name="recovery_code" type="text" autocomplete="off"
                    autocapitalize="none" spellcheck="false" maxlength="40" required;
                button type="submit" { "Use recovery code" }
            }
        }
        p { a href="/login" { "Not you? Log in again" } }
    }
}

fn expired_page(p: &impl Platform, req: &Request, status: u16) -> Response {
    let body = html! {
        p class="error" role="alert" id="err" {
            "This log-in expired or had too many wrong codes. Log in again to get a new chance."
        }
        p { a href="/login" { "Log in" } }
    };
    page(&p.config().brand, status, LOGIN_TITLE, body, None)
        .header("set-cookie", two_factor::ticket_cookie(req, None))
}

/// `GET /login/2fa`: asks for the code of the pending log-in.
pub async fn login_page(p: &impl Platform, req: &Request) -> Result<Response> {
    let csrf = Csrf::for_request(p, req)?;
    match two_factor::pending_of(p, req).await? {
        Some(t) => {
            let body = login_form(&csrf, &t.profile.email, None);
            Ok(page(&p.config().brand, 200, LOGIN_TITLE, body, Some(&csrf)))
        }
        None => Ok(expired_page(p, req, 200)),
    }
}

/// `POST /login/2fa`: checks the code (or a recovery code); right, the session starts.
pub async fn login_submit(p: &impl Platform, req: &Request) -> Result<Response> {
    let f = form_params(req, LOGIN_TITLE)?;
    let csrf = Csrf::for_request(p, req)?;
    if !cookies::csrf_ok(req, f.get("csrf")) {
        let email = two_factor::pending_of(p, req).await?.map(|t| t.profile.email).unwrap_or_default();
        let body = login_form(&csrf, &email, Some("Your form expired. Please try again."));
        return Ok(page(&p.config().brand, 403, LOGIN_TITLE, body, Some(&csrf)));
    }
    let (code, recovery) = match (f.get("code"), f.get("recovery_code")) {
        (Some(c), _) if !c.trim().is_empty() => (c, false),
        (_, Some(r)) if !r.trim().is_empty() => (r, true),
        _ => ("", false),
    };
    match two_factor::second_step(p, req, code, recovery).await {
        Ok(SecondStep::Passed { profile, amr, return_to }) => {
            let amr: Vec<&str> = amr.iter().map(String::as_str).collect();
            let r = super::login::start_and_return(p, req, &profile, &amr, &return_to).await?;
            Ok(r.header("set-cookie", two_factor::ticket_cookie(req, None)))
        }
        Ok(SecondStep::Wrong { tries_left }) => {
            let email = two_factor::pending_of(p, req).await?.map(|t| t.profile.email).unwrap_or_default();
            let msg = format!(
                "That code is wrong. {tries_left} {} left before you have to log in again.",
                if tries_left == 1 { "try" } else { "tries" }
            );
            let body = login_form(&csrf, &email, Some(&msg));
            Ok(page(&p.config().brand, 401, LOGIN_TITLE, body, Some(&csrf)))
        }
        Ok(SecondStep::Expired) => Ok(expired_page(p, req, 401)),
        Err(e) if e.code == ErrorCode::RateLimited => {
            let email = two_factor::pending_of(p, req).await?.map(|t| t.profile.email).unwrap_or_default();
            let body = login_form(&csrf, &email, Some("Too many wrong codes. Wait a minute and try again."));
            Ok(rate_limited(page(&p.config().brand, 429, LOGIN_TITLE, body, Some(&csrf)), &e))
        }
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------------------------------------
// /account/2fa
// ---------------------------------------------------------------------------------------------

/// What the management page shows.
enum View<'a> {
    /// Off, nothing being set up.
    Off,
    /// Being set up: the secret (base32) to scan or type, and a code to confirm.
    Pending { secret: &'a str },
    /// On.
    On { status: &'a Status },
    /// Just made: the recovery codes, shown this once.
    Codes { codes: &'a [String], fresh: bool },
}

fn account_body(p: &impl Platform, s: &SessionRecord, csrf: &Csrf, view: View<'_>, error: Option<&str>) -> Result<Markup> {
    let issuer = super::brand::shown(&p.config().brand).name.to_owned();
    Ok(html! {
        @if let Some(e) = error { p class="error" role="alert" id="err" { (e) } }
        @match view {
            View::Off => {
                p id="state" { "Two-factor authentication is " strong { "off" } " for " (s.email) "." }
                p { "With it on, logging in with your password also asks for a code from an authenticator app on your phone (such as Aegis, Google Authenticator, 1Password or Microsoft Authenticator)." }
                form method="post" action=(ACCOUNT_PATH) {
                    (csrf.field())
                    input type="hidden" name="action" value="start";
                    button type="submit" { "Set up two-factor authentication" }
                }
            }
            View::Pending { secret } => {
                @let bytes = totp::base32_decode(secret).unwrap_or_default();
                @let uri = totp::otpauth_uri(&issuer, &s.email, &bytes);
                p { "1. Scan this QR code with your authenticator app." }
                figure {
                    (qr_svg(&uri, "QR code of the key for your authenticator app")?)
                    figcaption {
                        "Cannot scan it? Enter this key in the app instead (time-based, 6 digits, 30 seconds): "
                        code id="secret" { (grouped(secret)) }
                    }
                }
                form method="post" action=(ACCOUNT_PATH) {
                    (csrf.field())
                    input type="hidden" name="action" value="confirm";
                    label for="code" { "2. Enter the 6-digit code the app shows" }
                    (code_field("code"))
                    p id="code-help" { "Two-factor authentication is on only once a code is right." }
                    button type="submit" { "Turn on" }
                }
                form method="post" action=(ACCOUNT_PATH) {
                    (csrf.field())
                    input type="hidden" name="action" value="start";
                    button type="submit" class="secondary" { "Start over with a new key" }
                }
            }
            View::On { status } => {
                p id="state" {
                    "Two-factor authentication is " strong { "on" } " for " (s.email)
                    @if let Some(at) = status.enrolled_at { " since " (crate::util::rfc3339(at).split('T').next().unwrap_or("")) }
                    "."
                }
                p id="recovery-left" { (status.recovery_left) " of 10 recovery codes left." }
                h2 { "New recovery codes" }
                form method="post" action=(ACCOUNT_PATH) {
                    (csrf.field())
                    input type="hidden" name="action" value="regenerate";
                    label for="regen-code" { "Code from your authenticator app" }
                    (code_field("regen-code"))
                    p id="regen-code-help" { "Your old recovery codes stop working." }
                    button type="submit" { "Make new recovery codes" }
                }
                h2 { "Turn off" }
                form method="post" action=(ACCOUNT_PATH) {
                    (csrf.field())
                    input type="hidden" name="action" value="disable";
                    label for="off-code" { "Code from your authenticator app, or a recovery code" }
                    input id="off-code" name="code" type="text" autocomplete="one-time-code" maxlength="40";
                    label for="off-password" { "Or your password" }
                    input id="off-password" name="password" type="password" autocomplete="current-password";
                    button type="submit" class="secondary" { "Turn off two-factor authentication" }
                }
            }
            View::Codes { codes, fresh } => {
                p role="status" id="state" {
                    @if fresh { "Two-factor authentication is on. " } @else { "New recovery codes made; the old ones no longer work. " }
                }
                p { "Keep these recovery codes somewhere safe, such as a password manager. Each works once instead of a code from your app. " strong { "They are shown only now." } }
                ul id="recovery-codes" { @for c in codes { li { code { (c) } } } }
                p { a href=(ACCOUNT_PATH) { "Done" } }
            }
        }
        p { a href="/account" { "Back to your account" } }
    })
}

fn account_page_with(p: &impl Platform, s: &SessionRecord, csrf: &Csrf, status: u16, view: View<'_>, error: Option<&str>) -> Result<Response> {
    let body = account_body(p, s, csrf, view, error)?;
    Ok(page(&p.config().brand, status, ACCOUNT_TITLE, body, Some(csrf)))
}

/// The signed-in person, or the redirect to log in first.
async fn signed_in(p: &impl Platform, req: &Request) -> Result<std::result::Result<SessionRecord, Response>> {
    Ok(match accounts::current_session(p, req).await? {
        Some(s) => Ok(s),
        None => Err(Response::empty(303)
            .header("location", format!("/login?{}", encode_form(&[("return_to", ACCOUNT_PATH)])))
            .header("cache-control", "no-store")),
    })
}

/// The page for the person's current state (off, being set up, on).
async fn current(p: &impl Platform, s: &SessionRecord, csrf: &Csrf, status: u16, error: Option<&str>) -> Result<Response> {
    let st = two_factor::status(p, &s.user_id).await?;
    if st.enrolled {
        return account_page_with(p, s, csrf, status, View::On { status: &st }, error);
    }
    match two_factor::pending(p, &s.user_id).await? {
        Some(secret) => account_page_with(p, s, csrf, status, View::Pending { secret: &secret }, error),
        None => account_page_with(p, s, csrf, status, View::Off, error),
    }
}

/// `GET /account/2fa`.
pub async fn account_page(p: &impl Platform, req: &Request) -> Result<Response> {
    let s = match signed_in(p, req).await? {
        Ok(s) => s,
        Err(redirect) => return Ok(redirect),
    };
    let csrf = Csrf::for_request(p, req)?;
    current(p, &s, &csrf, 200, None).await
}

/// The page for a refused code: wrong (401), over the limit (429), or set-up expired (400).
async fn refused(p: &impl Platform, s: &SessionRecord, csrf: &Csrf, e: Error) -> Result<Response> {
    match e.code {
        ErrorCode::AccessDenied => current(p, s, csrf, 401, Some("That code is wrong. Check the app and try again.")).await,
        ErrorCode::RateLimited => {
            let r = current(p, s, csrf, 429, Some("Too many wrong codes. Wait a minute and try again.")).await?;
            Ok(rate_limited(r, &e))
        }
        ErrorCode::InvalidRequest => current(p, s, csrf, 400, Some(&format!("{}.", capitalised(&e.description)))).await,
        _ => Err(e),
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// `POST /account/2fa`: `action` = `start`, `confirm` (with `code`), `regenerate` (with
/// `code`), `disable` (with `code` or `password`).
pub async fn account_submit(p: &impl Platform, req: &Request) -> Result<Response> {
    let f = form_params(req, ACCOUNT_TITLE)?;
    let action = f.get("action").unwrap_or("");
    if !matches!(action, "start" | "confirm" | "regenerate" | "disable") {
        return Err(Error::page(ErrorCode::InvalidRequest, ACCOUNT_TITLE, "Unknown action."));
    }
    let s = match signed_in(p, req).await? {
        Ok(s) => s,
        Err(redirect) => return Ok(redirect),
    };
    let csrf = Csrf::for_request(p, req)?;
    if !cookies::csrf_ok(req, f.get("csrf")) {
        return current(p, &s, &csrf, 403, Some("Your form expired. Please try again.")).await;
    }
    // Every action here changes how the person logs in: only with a recent log-in
    // (`rules::recent_login`); else log in again and come back to this page.
    if !accounts::recent_login(p, &s) {
        return Ok(super::to_reauthenticate(&s, ACCOUNT_PATH));
    }
    let code = f.get("code").unwrap_or("").trim();
    match action {
        "start" => match two_factor::begin(p, &s.user_id).await {
            Ok(_) => Ok(Response::empty(303).header("location", ACCOUNT_PATH).header("cache-control", "no-store")),
            Err(e) => refused(p, &s, &csrf, e).await,
        },
        "confirm" => match two_factor::confirm(p, &s.user_id, code).await {
            Ok(codes) => account_page_with(p, &s, &csrf, 200, View::Codes { codes: &codes, fresh: true }, None),
            Err(e) => refused(p, &s, &csrf, e).await,
        },
        "regenerate" => match two_factor::regenerate(p, &s.user_id, code).await {
            Ok(codes) => account_page_with(p, &s, &csrf, 200, View::Codes { codes: &codes, fresh: false }, None),
            Err(e) => refused(p, &s, &csrf, e).await,
        },
        "disable" => {
            let password = f.get("password").unwrap_or("");
            let proved = if !code.is_empty() {
                two_factor::verify(p, &s.user_id, code).await.map(|_| ())
            } else if !password.is_empty() {
                // Under the log-in's own limits (per address and per account).
                match accounts::log_in(p, req, &s.email, password).await {
                    Ok(profile) if profile.id == s.user_id => Ok(()),
                    Ok(_) => Err(Error::new(ErrorCode::AccessDenied, "the password is wrong")),
                    Err(e) => Err(e),
                }
            } else {
                Err(Error::new(ErrorCode::AccessDenied, "give a code or your password"))
            };
            match proved {
                Ok(()) => {
                    two_factor::disable(p, &s.user_id).await?;
                    current(p, &s, &csrf, 200, None).await
                }
                Err(e) if e.code == ErrorCode::AccessDenied => {
                    current(p, &s, &csrf, 401, Some("That code or password is wrong; two-factor authentication is still on.")).await
                }
                Err(e) => refused(p, &s, &csrf, e).await,
            }
        }
        _ => Err(Error::page(ErrorCode::InvalidRequest, ACCOUNT_TITLE, "Unknown action.")),
    }
}
