//! The public registration endpoint (`/oauth/register`, also `/oauth/register.php`): a developer
//! registers an app by following a link (GET) or posting a form; a signed-in person confirms
//! with Register or Deny. Invalid input is a page listing each problem, never a redirect.

use super::{page, Csrf};
use crate::config::Brand;
use crate::accounts::{self, cookies};
use crate::rules::fields as validate;
use crate::apps;
use crate::http::params::{encode_form, Params};
use crate::http::{Request, Response};
use crate::oauth::authorize::{mint_code, redirect_with, Authz};
use crate::error::{Error, ErrorCode, Result};
use crate::oauth::resource;
use crate::rules::redirect_uri;
use crate::platform::Platform;
use maud::{html, Markup};

/// The registration parameters, in the order they are echoed back.
const FIELDS: [&str; 9] = [
    "name",
    "description",
    "homepage",
    "image_uri",
    "email",
    "phone",
    "redirect_uri",
    "api",
    "state",
];

struct Registration<'a> {
    params: &'a Params,
    api: &'a str,
}

impl<'a> Registration<'a> {
    fn get(&self, k: &str) -> &'a str {
        self.params.get(k).unwrap_or("")
    }
}

/// Every problem with the parameters, in words.
fn problems(q: &Params) -> Vec<String> {
    let mut out = Vec::new();
    let mut check = |r: Result<()>| {
        if let Err(e) = r {
            out.push(e.description);
        }
    };
    let g = |k| q.get(k).unwrap_or("");
    check(validate::text("name", g("name"), 100, true));
    check(validate::text("description", g("description"), 1000, false));
    check(if g("homepage").is_empty() {
        Err(Error::invalid_request("homepage is required"))
    } else {
        validate::web_url("homepage", g("homepage"))
    });
    check(validate::web_url("image_uri", g("image_uri")));
    check(validate::email("email", g("email"), true));
    check(
        validate::phone(g("phone"))
            .map_err(|_| Error::invalid_request("phone must be digits, spaces and + - ( ) .")),
    );
    check(if g("redirect_uri").is_empty() {
        Err(Error::invalid_request("redirect_uri is required"))
    } else {
        redirect_uri::validate(g("redirect_uri"), true)
    });
    check(match q.get("api") {
        // `api=` names no API (it is not taken for absent here: the value is an enumeration).
        None if q.sent_empty("api") => Err(Error::invalid_request("api must be unifiedapi or systemapi")),
        None | Some("unifiedapi") | Some("systemapi") => Ok(()),
        Some(_) => Err(Error::invalid_request("api must be unifiedapi or systemapi")),
    });
    check(validate::text("state", g("state"), 2000, false));
    out
}

fn problem_page(brand: &Brand, list: &[String]) -> Response {
    page(
        brand,
        400,
        "Registration problems",
        html! {
            p class="error" role="alert" { "The registration request cannot be used:" }
            ul { @for p in list { li { (p) } } }
        },
        None,
    )
}

fn params_of(req: &Request) -> Result<Params> {
    if req.method == "GET" {
        Params::from_query(req)
    } else {
        Params::parse_form(&req.body)
    }
}

fn details(r: &Registration<'_>) -> Markup {
    let rows = [
        ("Name", r.get("name")),
        ("Description", r.get("description")),
        ("Homepage", r.get("homepage")),
        ("Image", r.get("image_uri")),
        ("Admin email", r.get("email")),
        ("Admin phone", r.get("phone")),
        ("Redirect URL", r.get("redirect_uri")),
        ("API", r.api),
    ];
    html! {
        dl {
            @for (label, v) in rows {
                @if !v.is_empty() { dt { (label) } dd { (v) } }
            }
        }
    }
}

/// The one registration page (as VoipNow describes it): the app's details, who registers it —
/// the current session ("Not you?" switches), or the credentials fields of a log-in — the
/// **Grant access** box and the **Register** and **Deny** buttons, in one form. Deny needs no
/// log-in; sign-up is a link away and comes back here.
fn registration_page(
    p: &impl Platform,
    req: &Request,
    q: &Params,
    session: Option<&crate::objects::session::SessionRecord>,
    error: Option<(u16, &str)>,
) -> Result<Response> {
    let r = Registration {
        params: q,
        api: q.get("api").unwrap_or("unifiedapi"),
    };
    let pairs: Vec<(&str, &str)> = FIELDS.iter().filter_map(|k| q.get(k).map(|v| (*k, v))).collect();
    let here = format!("/oauth/register?{}", encode_form(&pairs));
    let back = encode_form(&[("return_to", &here)]);
    let csrf = Csrf::for_request(p, req)?;
    let email = q.get("login_email").unwrap_or("");
    let body = html! {
        @if let Some((_, e)) = error { p class="error" role="alert" id="err" { (e) } }
        (details(&r))
        form method="post" action="/oauth/register/confirm" {
            (csrf.field())
            @for (k, v) in &pairs { input type="hidden" name=(k) value=(v); }
            "\n"
            @if let Some(s) = session {
                p id="signed-in" {
                    "Registering as " strong { (s.name) } " (" (s.email) "). "
                    a href={ "/login?" (back) } id="not-you" { "Not you?" }
                }
            } @else {
                p { "Log in to register this app under your account. Denying needs no log-in." }
                label for="login_email" { "Email" }
                input id="login_email" name="login_email" type="email" autocomplete="username" value=(email);
                "\n"
                label for="login_password" { "Password" }
                input id="login_password" name="login_password" type="password" autocomplete="current-password";
                "\n"
            }
            p {
                input type="checkbox" id="grant_access" name="grant_access" value="yes";
                " "
                label for="grant_access" class="inline" { "Grant access: let this app act for me right away" }
            }
            "\n"
            button type="submit" name="decision" value="register" id="register" { "Register" }
            button type="submit" class="secondary" name="decision" value="deny" id="deny" { "Deny" }
        }
        @if session.is_none() {
            p {
                "No account yet? " a href={ "/signup?" (back) } { "Sign up" }
                " · " a href={ "/login?" (back) } { "Log in another way" }
            }
        }
    };
    let status = error.map_or(200, |(s, _)| s);
    Ok(page(&p.config().brand, status, "Register an app", body, Some(&csrf)))
}

/// `GET` or form-`POST /oauth/register`: validate, then show the registration page.
pub async fn start(p: &impl Platform, req: &Request) -> Result<Response> {
    // Unreadable parameters are one more registration problem, listed on the same page.
    let q = match params_of(req) {
        Ok(q) => q,
        Err(e) => return Ok(problem_page(&p.config().brand, &[e.description])),
    };
    let list = problems(&q);
    if !list.is_empty() {
        return Ok(problem_page(&p.config().brand, &list));
    }
    let session = accounts::current_session(p, req).await?;
    registration_page(p, req, &q, session.as_ref(), None)
}

/// The page again after a log-in on it failed: what the person typed is kept but the password.
fn login_failed(p: &impl Platform, req: &Request, f: &Params, status: u16, message: &str) -> Result<Response> {
    registration_page(p, req, f, None, Some((status, message)))
}

/// `POST /oauth/register/confirm`: Deny (no log-in needed), or Register — as the signed-in
/// person, or after logging in with the page's credentials fields — then redirect with the
/// credentials (and a code, with Grant access).
pub async fn confirm(p: &impl Platform, issuer: &str, req: &Request) -> Result<Response> {
    if req.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return Ok(problem_page(&p.config().brand, &[
            "submit the registration form from this site".into()
        ]));
    }
    let f = match Params::parse_form(&req.body) {
        Ok(f) => f,
        Err(e) => return Ok(problem_page(&p.config().brand, &[e.description])),
    };
    let list = problems(&f);
    if !list.is_empty() {
        return Ok(problem_page(&p.config().brand, &list));
    }
    if !cookies::csrf_ok(req, f.get("csrf")) {
        return Err(Error::page(
            ErrorCode::AccessDenied,
            "Register an app",
            "The form expired or came from another site. Start again.",
        ));
    }
    let uri = f.get("redirect_uri").unwrap_or("");
    let state = f.get("state");
    if f.get("decision") != Some("register") {
        let mut pairs = vec![("error", "access_denied")];
        if let Some(s) = state {
            pairs.push(("state", s));
        }
        return Ok(Response::see_other(&redirect_with(uri, &pairs)));
    }
    // Who registers: the session, or the person logging in with the page's fields (under the
    // log-in limits); a new session then starts, as a log-in on the log-in page would.
    let mut new_cookie = None;
    let session = match accounts::current_session(p, req).await? {
        Some(s) => s,
        None => {
            let email = f.get("login_email").unwrap_or("");
            let password = f.get("login_password").unwrap_or("");
            if email.is_empty() || password.is_empty() {
                return login_failed(p, req, &f, 401, "Log in with your email and password to register this app, or sign up.");
            }
            let profile = match accounts::log_in(p, req, email, password).await {
                Ok(profile) => profile,
                Err(e) if e.code == ErrorCode::AccessDenied => {
                    return login_failed(p, req, &f, 401, "The email or password is wrong.");
                }
                Err(e) if e.code == ErrorCode::RateLimited => {
                    let mut r = login_failed(p, req, &f, 429, "Too many failed log-ins. Wait a minute and try again.")?;
                    for (k, v) in e.headers {
                        r = r.header(k, v);
                    }
                    return Ok(r);
                }
                Err(e) => return Err(e),
            };
            // This page has no second step: a person with a second factor logs in first.
            if accounts::two_factor::status(p, &profile.id).await?.enrolled {
                return login_failed(p, req, &f, 401, "This account uses two-factor authentication: log in first (Log in, above), then register the app.");
            }
            let token = accounts::start_session(p, req, &profile, &["pwd"]).await?;
            let session = p
                .call(&crate::objects::session::object(&crate::util::sha256_hex(&token)), crate::objects::session::Get {})
                .await?
                .ok_or_else(|| Error::server("the new session is gone"))?;
            new_cookie = Some(cookies::set(req, &cookies::session_name(req), &token, p.config().session_ttl));
            session
        }
    };
    let done = register_as(p, issuer, req, &f, &session).await?;
    Ok(match new_cookie {
        Some(c) => done.header("set-cookie", c),
        None => done,
    })
}

/// Creates the app for the session's person and redirects with its credentials.
async fn register_as(
    p: &impl Platform,
    issuer: &str,
    req: &Request,
    f: &Params,
    session: &crate::objects::session::SessionRecord,
) -> Result<Response> {
    let state = f.get("state");
    let uri = f.get("redirect_uri").unwrap_or("");
    accounts::count_registration(p, req).await.map_err(|e| match e.code {
        ErrorCode::RateLimited => e.on_page(
            "Register an app",
            "Too many registrations from your address. Wait a minute and try again.",
        ),
        _ => e,
    })?;
    let mut app = apps::blank_self_service(p, &session.user_id)?;
    app.name = f.get("name").unwrap_or("").to_owned();
    app.description = f.get("description").unwrap_or("").to_owned();
    app.homepage = f.get("homepage").unwrap_or("").to_owned();
    app.image_uri = f.get("image_uri").unwrap_or("").to_owned();
    app.admin_email = f.get("email").unwrap_or("").to_owned();
    app.admin_phone = f.get("phone").unwrap_or("").to_owned();
    app.api = f.get("api").unwrap_or("unifiedapi").to_owned();
    app.redirect_uris = vec![uri.to_owned()];
    apps::default_grants(&mut app);
    let created = match apps::create(p, app, &format!("user:{}", session.user_id), false).await {
        Ok(c) => c,
        Err(e) if e.code == ErrorCode::LimitReached => {
            let message = format!("You cannot register more apps: {}.", e.description);
            return Err(e.on_page("Register an app", message));
        }
        Err(e) => return Err(e),
    };
    let secret = created.secret.unwrap_or_default();
    let mut pairs: Vec<(&str, &str)> = FIELDS.iter().filter_map(|k| f.get(k).map(|v| (*k, v))).collect();
    pairs.push(("client_id", &created.app.client_id));
    pairs.push(("client_secret", &secret));
    let code;
    if f.get("grant_access") == Some("yes") {
        let a = Authz {
            redirect_uri: uri.to_owned(),
            redirect_uri_sent: true,
            scopes: created.app.default_scopes().to_vec(),
            state: state.map(str::to_owned),
            challenge: None,
            method: None,
            aud: resource::audience(p, issuer, None)?,
            nonce: None,
            interaction: Default::default(),
            claims: Default::default(),
            acr_essential: Vec::new(),
            pushed: None,
            app: created.app.clone(),
        };
        code = mint_code(p, &a, session).await?;
        pairs.push(("code", &code));
    }
    Ok(Response::see_other(&redirect_with(uri, &pairs)).client(Some(&created.app.client_id)))
}
