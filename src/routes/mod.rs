//! Path + method → endpoint. CORS, security headers and admin authorisation are decided here,
//! once, for every route.

use crate::http::{self, Request, Response};
use crate::admin::{apps, operators, orgs, users};
use crate::objects::audit::{Event, EventType, Outcome};
use crate::gateway;
use crate::error::{Challenge, Error, ErrorCode, Result, Shown};
use crate::oauth::token::Endpoint;
use crate::oauth::{authorize, discovery, grants, introspect, register, revoke, token, userinfo};
use crate::pages::{self, login};
use crate::platform::tenant::Scoped;
use crate::platform::{AppStore, Audit, DomainMap, Platform};
use crate::model::Tenant;
use crate::rules::{operator_roles, tenant};
use crate::tenancy;

/// Routes a browser on another origin may call (no credentials: `*` is safe). Never the
/// authorization endpoint or HTML pages; registration only in its JSON (RFC 7591) form.
fn cors_allowed(req: &Request) -> bool {
    let path = req.path.as_str();
    if path == "/oauth/register" {
        return req.method == "OPTIONS"
            || (req.method == "POST" && req.media_type().as_deref() == Some("application/json"));
    }
    matches!(
        path,
        "/.well-known/oauth-authorization-server"
            | "/.well-known/openid-configuration"
            | "/.well-known/jwks.json"
            | "/.well-known/oauth-protected-resource"
            | "/oauth/token"
            | "/oauth/v2/access_token"
            | "/oauth/revoke"
            | "/oauth/userinfo"
            | "/oauth/v2/user"
    )
}

/// Answers one request: resolves its tenant from the host it was sent to, then runs the whole
/// request over the platform bound to that tenant ([`Scoped`]), so nothing below can name
/// another tenant's state. A host that names no tenant gets a 404; an organisation is served
/// with its own configuration and keys, when it is admitted ([`tenancy::admit`]).
pub async fn handle(p: &(impl Platform + AppStore + DomainMap), req: &Request) -> Response {
    let host = tenant::host_of(&req.origin);
    let org_domain = p.config().org_domain.as_deref();
    match tenant::resolve(org_domain, host) {
        Some(Tenant::Org(label)) => match tenancy::admit(p, &label).await {
            Ok(state) => {
                let resp = handle_in(&Scoped::org(p, label.clone(), state), req).await;
                for_tenant(resp, &label)
            }
            Err(e) => render(p, shown_as(req, e)),
        },
        Some(Tenant::Default) => handle_in(&Scoped::default_tenant(p), req).await,
        None => match org_domain.and_then(|d| tenant::custom_domain(d, host)) {
            Some(domain) => match on_custom_domain(p, &domain).await {
                Ok((label, state)) => {
                    let issuer = p.config().issuer_at_domain(&domain, &req.origin);
                    let resp = handle_in(&Scoped::org_at(p, label.clone(), state, issuer), req).await;
                    for_tenant(resp, &label)
                }
                Err(e) => render(p, shown_as(req, e)),
            },
            None => render(p, shown_as(req, tenancy::no_tenant())),
        },
    }
}

/// Names the organisation on the response's log line and on the work it leaves for after it
/// is sent, so what that work logs says whose it was (it runs outside its tenant's platform).
fn for_tenant(mut resp: Response, label: &str) -> Response {
    for job in &mut resp.after {
        job.set_tenant(label);
    }
    resp.log_tenant = Some(label.to_owned());
    resp
}

/// The organisation a custom domain serves: KV's map names it, its own record must list the
/// domain (a removed domain stops at once, whatever KV still says).
async fn on_custom_domain(
    p: &(impl Platform + DomainMap),
    domain: &str,
) -> Result<(String, std::rc::Rc<crate::platform::tenant::TenantState>)> {
    let label = p.domain_org(domain).await?.ok_or_else(tenancy::no_tenant)?;
    let state = tenancy::admit(p, &label).await?;
    if !state.domains.iter().any(|d| d == domain) {
        return Err(tenancy::no_tenant());
    }
    Ok((label, state))
}

/// An answer to a host that is not served, as a page for a person or JSON for a client.
fn shown_as(req: &Request, e: Error) -> Error {
    let path = req.path.as_str();
    let api = path.starts_with("/.well-known/")
        || path.starts_with("/admin")
        || path.starts_with("/application/")
        || (path.starts_with("/oauth/")
            && !matches!(path, "/oauth/authorize" | "/oauth/v2/authorize" | "/oauth/logout" | "/oauth/v2/logout")
            && !((path == "/oauth/register" || path == "/oauth/register.php")
                && req.media_type().as_deref() != Some("application/json")));
    if !api || !matches!(e.shown, Shown::Page { .. }) {
        return e;
    }
    let description = match e.code {
        ErrorCode::NotFound => "no organisation at this address".to_owned(),
        _ => e.description.clone(),
    };
    Error {
        shown: Shown::Json,
        description,
        ..e
    }
}

async fn handle_in<P: Platform + AppStore + DomainMap>(p: &Scoped<'_, P>, req: &Request) -> Response {
    let mut resp = if req.body.len() > http::MAX_BODY {
        render(
            p,
            Error::new(
                ErrorCode::PayloadTooLarge,
                format!("bodies are limited to {} bytes", http::MAX_BODY),
            ),
        )
    } else {
        match route(p, req).await {
            Ok(r) => r,
            Err(e) => render(p, e),
        }
    };
    if cors_allowed(req) {
        resp = resp
            .header("access-control-allow-origin", "*")
            .header("access-control-expose-headers", "www-authenticate");
    }
    resp.audit.extend(crate::admin::audit::jobs(p, p.tenant(), req, p.take_events()));
    secure(resp)
}

/// The one place an error becomes a response, however it is shown ([`Shown`]): RFC 6749 JSON
/// with its challenge and headers, a page for a person (in the brand of `log`'s tenant), or an
/// error redirect to the client's registered redirect URI. 5xx details are logged and hidden;
/// security headers are added.
pub fn render(log: &(impl Audit + pages::Branded), e: Error) -> Response {
    let e = public_error(log, e);
    let mut resp = match &e.shown {
        Shown::Json => Response::from_error(&e),
        Shown::Page { title } => {
            let mut r = pages::error_page(log.brand(), e.status(), title, &e.description);
            for (k, v) in &e.headers {
                r = r.header(k, v.clone());
            }
            r
        }
        Shown::Redirect { uri, state, issuer } => {
            authorize::error_redirect(issuer, uri, state.as_deref(), &e)
        }
    };
    resp.log_error = Some(e.code.as_str());
    secure(resp)
}

/// What a client may see of an error: 5xx details (storage keys, internal states) are logged
/// and replaced by a fixed text; every other error is the client's own and shown as it is.
fn public_error(p: &impl Audit, e: Error) -> Error {
    if e.status() < 500 || e.code == ErrorCode::TemporarilyUnavailable {
        return e;
    }
    p.audit(&serde_json::json!({"error": e.code.as_str(), "detail": e.description}));
    Error {
        description: "internal error; it has been logged".into(),
        ..e
    }
}

/// Headers every response carries. A response that already has `x-content-type-options` chose
/// its security headers itself and is left as it is: an origin's response through the gateway
/// (its origin decides whether it may be framed), or an error [`render`] already finished.
fn secure(resp: Response) -> Response {
    if resp.get_header("x-content-type-options").is_some() {
        return resp;
    }
    resp.header("x-content-type-options", "nosniff")
        .header("referrer-policy", "no-referrer")
        .header("x-frame-options", "DENY")
}
/// Checks `Authorization: Bearer <operator token>` in constant time: `ADMIN_TOKEN` in every
/// tenant, an organisation's operator token on its own host. 503 when there are no operators.
fn admin_authorised(p: &impl Platform, req: &Request) -> Result<()> {
    let cfg = p.config();
    if cfg.admin_token.is_none() && cfg.operator_token_hashes.is_empty() {
        return Err(Error::unavailable(
            "the admin API is off: set the ADMIN_TOKEN secret",
        ));
    }
    if cfg.is_operator_token(req.bearer().unwrap_or("")) {
        Ok(())
    } else {
        Err(
            Error::new(ErrorCode::InvalidToken, "a valid admin token is required")
                .with_challenge(Challenge::Bearer { scope: None }),
        )
    }
}

fn method(req: &Request, allowed: &[&str]) -> Result<()> {
    if allowed.contains(&req.method.as_str()) {
        Ok(())
    } else {
        Err(Error::method_not_allowed(
            &allowed.iter().map(|m| m.to_string()).collect::<Vec<_>>(),
        ))
    }
}

async fn route<P: Platform + AppStore + DomainMap>(p: &Scoped<'_, P>, req: &Request) -> Result<Response> {
    if let Some(e) = &p.config().gateway_error {
        return Err(Error::unavailable(format!("misconfigured: {e}")));
    }
    let issuer = p.issuer(&req.origin);
    let path = req.path.as_str();
    if req.method == "OPTIONS" && cors_allowed(req) {
        return Ok(Response::empty(204)
            .header("access-control-allow-methods", "GET, POST, OPTIONS")
            .header("access-control-allow-headers", "authorization, content-type")
            .header("access-control-max-age", "86400"));
    }
    let ep = |suffix: &str| Endpoint {
        issuer: issuer.clone(),
        url: format!("{issuer}{suffix}"),
    };
    match path {
        "/.well-known/oauth-authorization-server" => {
            method(req, &["GET", "HEAD"])?;
            // Made once per configuration and issuer (`crate::prepared`), then served as bytes.
            let doc = p.config().prepared.get_or("oauth-authorization-server", &issuer, || {
                discovery::metadata(p.config(), &issuer).to_string()
            });
            Ok(Response::json_text(200, doc.as_bytes()).header("cache-control", "public, max-age=300"))
        }
        "/.well-known/openid-configuration" => {
            method(req, &["GET", "HEAD"])?;
            // The keys are part of the configuration's version (a tenant's new keys come with a
            // new `Config`; the deployment's are the isolate's), so they may be prepared with it.
            let doc = p.config().prepared.get_or("openid-configuration", &issuer, || {
                crate::oauth::openid_configuration::document(p.config(), p.keys(), &issuer).to_string()
            });
            Ok(Response::json_text(200, doc.as_bytes()).header("cache-control", "public, max-age=300"))
        }
        "/.well-known/jwks.json" => {
            method(req, &["GET", "HEAD"])?;
            Ok(Response::json_text(200, p.keys().jwks_json()).header("cache-control", "public, max-age=300"))
        }
        "/oauth/token" | "/oauth/v2/access_token" => {
            method(req, &["POST"])?;
            token::handle(p, &ep(path), req).await
        }
        "/application/token" => {
            method(req, &["POST"])?;
            if !req.body.is_empty() {
                return Err(Error::invalid_request(
                    "/application/token takes no body; send the JWT in the Authorization header",
                ));
            }
            grants::jwt_bearer::application_token(p, &ep(path), req).await
        }
        "/oauth/authorize" | "/oauth/v2/authorize" => {
            method(req, &["GET", "POST"])?;
            if req.method == "GET" {
                pages::authorize::get(p, &issuer, req).await
            } else {
                pages::authorize::decide(p, &issuer, req).await
            }
        }
        "/login" => {
            method(req, &["GET", "POST"])?;
            if req.method == "GET" {
                login::login_page(p, req).await
            } else {
                login::login_submit(p, req).await
            }
        }
        // Sign-in with another identity provider: start, callback, link confirmation.
        _ if path.starts_with("/login/upstream/") => {
            let rest = path.strip_prefix("/login/upstream/").unwrap_or_default();
            match rest.split_once('/') {
                None => {
                    method(req, &["GET"])?;
                    pages::upstream::start(p, &issuer, req, rest).await
                }
                Some((id, "callback")) => {
                    method(req, &["GET"])?;
                    pages::upstream::callback(p, &issuer, req, id).await
                }
                Some((id, "link")) => {
                    method(req, &["POST"])?;
                    pages::upstream::link(p, req, id).await
                }
                Some(_) => Err(Error::not_found("no such page")),
            }
        }
        "/login/passkey/options" => {
            method(req, &["POST"])?;
            pages::passkeys::login_options(p, &issuer, req).await
        }
        "/login/passkey" => {
            method(req, &["POST"])?;
            pages::passkeys::login(p, &issuer, req).await
        }
        "/account/passkeys" => {
            method(req, &["GET", "POST"])?;
            if req.method == "GET" {
                pages::passkeys::list(p, req).await
            } else {
                pages::passkeys::register(p, &issuer, req).await
            }
        }
        "/account/passkeys/options" => {
            method(req, &["POST"])?;
            pages::passkeys::registration_options(p, &issuer, req).await
        }
        "/account/passkeys/remove" => {
            method(req, &["POST"])?;
            pages::passkeys::remove(p, req).await
        }
        pages::passkeys::SCRIPT_PATH => {
            method(req, &["GET", "HEAD"])?;
            Ok(pages::passkeys::script_file())
        }
        "/login/2fa" => {
            method(req, &["GET", "POST"])?;
            if req.method == "GET" {
                pages::two_factor::login_page(p, req).await
            } else {
                pages::two_factor::login_submit(p, req).await
            }
        }
        "/account/2fa" => {
            method(req, &["GET", "POST"])?;
            if req.method == "GET" {
                pages::two_factor::account_page(p, req).await
            } else {
                pages::two_factor::account_submit(p, req).await
            }
        }
        "/signup" => {
            method(req, &["GET", "POST"])?;
            if req.method == "GET" {
                login::signup_page(p, req)
            } else {
                login::signup_submit(p, &issuer, req).await
            }
        }
        "/forgot" | "/reset" | "/verify" | "/account/password" | "/account/email" | "/account/email/confirm" => {
            method(req, &["GET", "POST"])?;
            use pages::recovery as r;
            match (path, req.method == "GET") {
                ("/forgot", true) => r::forgot_page(p, req),
                ("/forgot", false) => r::forgot_submit(p, &issuer, req).await,
                ("/reset", true) => r::reset_page(p, req).await,
                ("/reset", false) => r::reset_submit(p, &issuer, req).await,
                ("/verify", true) => r::verify_page(p, req),
                ("/verify", false) => r::verify_submit(p, req).await,
                ("/account/password", true) => r::password_page(p, req).await,
                ("/account/password", false) => r::password_submit(p, &issuer, req).await,
                ("/account/email", true) => r::email_page(p, req).await,
                ("/account/email", false) => r::email_submit(p, &issuer, req).await,
                (_, true) => r::email_confirm_page(p, req),
                (_, false) => r::email_confirm_submit(p, req).await,
            }
        }
        // Development only, and only while mail goes to the outbox (no transport configured).
        "/dev/outbox" | "/dev/outbox.json" if pages::recovery::outbox_on(p) => {
            method(req, &["GET"])?;
            if path == "/dev/outbox" {
                pages::recovery::outbox_page(p, req).await
            } else {
                pages::recovery::outbox_json(p, req).await
            }
        }
        "/logout" => {
            method(req, &["POST"])?;
            login::logout(p, &issuer, req).await
        }
        "/oauth/logout" | "/oauth/v2/logout" => {
            method(req, &["GET", "POST"])?;
            pages::logout::end_session(p, &issuer, req).await
        }
        "/" => {
            method(req, &["GET", "HEAD"])?;
            login::home(p, req).await
        }
        "/account" => {
            method(req, &["GET", "HEAD"])?;
            pages::account::show(p, req).await
        }
        "/account/profile" => {
            method(req, &["POST"])?;
            pages::account::profile(p, req).await
        }
        "/account/apps/revoke" => {
            method(req, &["POST"])?;
            pages::account::revoke(p, req).await
        }
        "/account/sessions/end" => {
            method(req, &["POST"])?;
            pages::account::end_one(p, &issuer, req).await
        }
        "/account/sessions/end-others" => {
            method(req, &["POST"])?;
            pages::account::end_others(p, &issuer, req).await
        }
        "/account/delete" => {
            method(req, &["POST"])?;
            pages::account::delete(p, &issuer, req).await
        }
        "/oauth/register" | "/oauth/register.php" => {
            method(req, &["GET", "POST"])?;
            if req.method == "POST" && req.media_type().as_deref() == Some("application/json") {
                register::register(p, &issuer, req).await
            } else {
                pages::register::start(p, req).await
            }
        }
        "/oauth/register/confirm" => {
            method(req, &["POST"])?;
            pages::register::confirm(p, &issuer, req).await
        }
        _ if path.starts_with("/oauth/register/") => {
            method(req, &["GET", "PUT", "DELETE"])?;
            let id = path.strip_prefix("/oauth/register/").unwrap_or_default();
            register::manage(p, &issuer, id, req).await
        }
        "/apps" => {
            method(req, &["GET", "POST"])?;
            let operator = req.bearer().is_some() && admin_authorised(p, req).is_ok();
            if req.method == "GET" {
                pages::apps::list(p, req, operator).await
            } else {
                pages::apps::add(p, req, operator).await
            }
        }
        _ if path.starts_with("/apps/") => {
            let rest = path.strip_prefix("/apps/").unwrap_or_default();
            let Some((id, action @ ("regenerate" | "remove"))) = rest.split_once('/') else {
                return Err(Error::not_found("no such page"));
            };
            method(req, &["POST"])?;
            let operator = req.bearer().is_some() && admin_authorised(p, req).is_ok();
            pages::apps::act(p, req, operator, id, action).await
        }
        "/oauth/par" | "/oauth/v2/par" => {
            method(req, &["POST"])?;
            crate::oauth::par::handle(p, &ep(path), req).await
        }
        "/oauth/introspect" => {
            method(req, &["POST"])?;
            let admin = req.bearer().is_some() && admin_authorised(p, req).is_ok();
            introspect::handle(p, &ep(path), req, admin).await
        }
        "/oauth/revoke" => {
            method(req, &["POST"])?;
            revoke::handle(p, &ep(path), req).await
        }
        "/oauth/userinfo" | "/oauth/v2/user" => {
            method(req, &["GET", "POST"])?;
            userinfo::handle(p, &issuer, req).await
        }
        // Development only: proves a panic answers as a JSON 500 (src/worker/entry.mjs).
        "/__bench/panic" if p.config().dev() => {
            #[allow(clippy::panic)]
            {
                panic!("deliberate panic (development route)")
            }
        }
        "/__bench/sign" if p.config().dev() => {
            method(req, &["GET"])?;
            Ok(bench_sign(p, req))
        }
        "/.well-known/oauth-protected-resource" => {
            method(req, &["GET", "HEAD"])?;
            Ok(Response::json(200, &gateway::resource_metadata(p, &issuer))
                .header("cache-control", "public, max-age=300"))
        }
        // The registry of organisations: only the platform operator's, only on its own host.
        _ if path == "/admin/orgs" || path.starts_with("/admin/orgs/") => {
            if *p.tenant() != Tenant::Default {
                return Err(Error::not_found("no such admin endpoint"));
            }
            // Single-tenant: as every other unknown admin path, authorised first, then a 404.
            admin_authorised(p, req)?;
            if p.config().org_domain.is_none() {
                return Err(Error::not_found(
                    "no organisations: this deployment is single-tenant (set ORG_DOMAIN)",
                ));
            }
            // The registry is the deployment's (this is the default tenant's own host).
            let resp = admin_orgs(p.deployment(), req).await;
            if let Some(e) = crate::admin::audit::org_event(req, &resp) {
                p.record(e);
            }
            resp
        }
        // The operator console (HTML, its own session cookie): `pages::console`.
        _ if pages::console::is_console_path(path) => pages::console::handle(p, req, &issuer).await,
        _ if path.starts_with("/admin/") => {
            // A bearer operator token (an owner) or a console session, and its role allows
            // the request (`rules::operator_roles`, the console's table too).
            let who = crate::accounts::operators::api_principal(p, req).await?;
            let action = operator_roles::api_action(&req.method, path.trim_start_matches("/admin/"));
            operator_roles::require(who.role, action)?;
            admin(p, req, &who.actor).await
        }
        _ if p.config().gateway_routes.is_empty() => Err(Error::not_found("no such endpoint")),
        _ => {
            // One canonical path decides the route and is what the origin receives.
            let canonical = gateway::canonical_path(path)
                .map_err(|why| Error::invalid_request(why.describe()))?;
            match gateway::route_for(&p.config().gateway_routes, &canonical) {
                Some(route) => gateway::handle(p, &issuer, route, &canonical, req).await,
                None => Err(Error::not_found("no such endpoint")),
            }
        }
    }
}

async fn admin<P: Platform + AppStore>(p: &Scoped<'_, P>, req: &Request, actor: &str) -> Result<Response> {
    let parts: Vec<&str> = req.path.trim_start_matches("/admin/").split('/').collect();
    match parts.as_slice() {
        // An organisation's operators rotate its signing keys on its own host; the default
        // tenant's keys are the deployment's (`SIGNING_KEYS`).
        ["keys"] => {
            method(req, &["POST"])?;
            match p.tenant() {
                // The registry object is the deployment's; the label is this tenant's own.
                Tenant::Org(label) => {
                    let r = orgs::rotate_keys(p.deployment(), label, "operator").await?;
                    p.record(Event::new(EventType::OrgKeysRotate, "operator", Outcome::Success).org(label.clone()));
                    Ok(r)
                }
                Tenant::Default => Err(Error::invalid_request(
                    "this deployment's signing keys are the SIGNING_KEYS secret; rotate them there",
                )),
            }
        }
        ["apps"] | ["apps", ""] => {
            method(req, &["GET", "POST"])?;
            if req.method == "POST" {
                apps::create(p, req).await
            } else {
                apps::list(p, req).await
            }
        }
        ["apps", id] => {
            method(req, &["GET", "PATCH", "DELETE"])?;
            match req.method.as_str() {
                "GET" => apps::get(p, id).await,
                "PATCH" => apps::update(p, id, req).await,
                _ => apps::delete(p, id).await,
            }
        }
        ["apps", id, "secret"] => {
            method(req, &["POST"])?;
            apps::regenerate_secret(p, id).await
        }
        ["apps", id, "keys"] => {
            method(req, &["GET", "POST"])?;
            if req.method == "GET" {
                apps::keys(p, id).await
            } else {
                apps::add_key(p, id, req).await
            }
        }
        ["apps", id, "keys", kid] => {
            method(req, &["DELETE"])?;
            apps::remove_key(p, id, kid).await
        }
        ["export"] => {
            method(req, &["GET"])?;
            crate::admin::backup::export(p, req, actor).await
        }
        ["import"] => {
            method(req, &["POST"])?;
            crate::admin::backup::import(p, req, actor).await
        }
        ["audit"] => {
            method(req, &["GET"])?;
            crate::admin::audit::list(p, req).await
        }
        ["users"] | ["users", ""] => {
            method(req, &["GET"])?;
            users::list(p, req).await
        }
        ["users", id] => {
            method(req, &["GET", "DELETE"])?;
            if req.method == "GET" {
                users::get(p, id).await
            } else {
                users::delete(p, &p.issuer(&req.origin), &users::actor_of(actor), id).await
            }
        }
        ["users", id, action @ ("disable" | "enable" | "reset-password" | "end-sessions")] => {
            method(req, &["POST"])?;
            if !req.body.is_empty() {
                return Err(Error::invalid_request("this action takes no body"));
            }
            let issuer = p.issuer(&req.origin);
            let actor = users::actor_of(actor);
            match *action {
                "disable" => users::set_disabled(p, &issuer, &actor, id, true).await,
                "enable" => users::set_disabled(p, &issuer, &actor, id, false).await,
                "reset-password" => users::reset_password(p, &issuer, &actor, id).await,
                _ => users::end_sessions(p, &issuer, &actor, id).await,
            }
        }
        ["operators"] | ["operators", ""] => {
            method(req, &["GET", "POST"])?;
            if req.method == "POST" {
                operators::create(p, actor, req).await
            } else {
                operators::list(p).await
            }
        }
        ["operators", id] => {
            method(req, &["GET", "PATCH", "DELETE"])?;
            match req.method.as_str() {
                "GET" => operators::get(p, id).await,
                "PATCH" => operators::update(p, actor, id, req).await,
                _ => operators::remove(p, actor, id).await,
            }
        }
        _ => Err(Error::not_found("no such admin endpoint")),
    }
}

async fn admin_orgs(p: &(impl Platform + AppStore + DomainMap), req: &Request) -> Result<Response> {
    let parts: Vec<&str> = req.path.trim_start_matches("/admin/").split('/').collect();
    match parts.as_slice() {
        ["orgs"] | ["orgs", ""] => {
            method(req, &["GET", "POST"])?;
            if req.method == "POST" {
                orgs::create(p, req).await
            } else {
                orgs::list(p, req).await
            }
        }
        ["orgs", label] => {
            method(req, &["GET", "PATCH", "DELETE"])?;
            match req.method.as_str() {
                "GET" => orgs::get(p, label).await,
                "PATCH" => orgs::update(p, label, req).await,
                _ => orgs::set_status(p, label, "delete").await,
            }
        }
        ["orgs", label, "keys"] => {
            method(req, &["POST"])?;
            orgs::rotate_keys(p, label, "admin").await
        }
        ["orgs", label, "operators"] => {
            method(req, &["GET", "POST"])?;
            if req.method == "POST" {
                orgs::add_operator(p, label, req).await
            } else {
                orgs::list_operators(p, label).await
            }
        }
        ["orgs", label, "erase"] => {
            method(req, &["POST"])?;
            orgs::erase(p, label).await
        }
        ["orgs", label, "domains"] => {
            method(req, &["POST"])?;
            orgs::add_domain(p, label, req).await
        }
        ["orgs", label, "domains", host] => {
            method(req, &["DELETE"])?;
            orgs::remove_domain(p, label, host).await
        }
        ["orgs", label, "operators", id] => {
            method(req, &["DELETE"])?;
            orgs::remove_operator(p, label, id).await
        }
        ["orgs", label, action @ ("suspend" | "resume")] => {
            method(req, &["POST"])?;
            orgs::set_status(p, label, action).await
        }
        _ => Err(Error::not_found("no such admin endpoint")),
    }
}

/// Development only: signs `n` access tokens in one request and reports the time per
/// signature and per verification measured inside the worker (the benchmark reads this).
/// `check=k` also compares k RS256 signatures with the `rsa` crate's (byte-identical).
fn bench_sign(p: &impl Platform, req: &Request) -> Response {
    let q = crate::http::params::Params::from_query(req).ok();
    let arg = |name: &str| {
        q.as_ref()
            .and_then(|q| q.get(name).and_then(|v| v.parse::<u32>().ok()))
    };
    let n = arg("n").unwrap_or(100).clamp(1, 2000);
    let check = arg("check").unwrap_or(0).min(50);
    let claims = serde_json::json!({"iss": "bench", "sub": "bench", "jti": "x", "iat": 0, "exp": 1});
    let start = p.now_ms();
    let mut last = String::new();
    for _ in 0..n {
        last = p.keys().sign_access_token(&claims).unwrap_or_default();
    }
    let sign_total = p.now_ms() - start;
    let start = p.now_ms();
    let decoded = crate::crypto::jwt::decode(&last);
    let mut ok = decoded.is_ok();
    if let Ok(t) = &decoded {
        for _ in 0..n {
            ok &= p.keys().verify(t);
        }
    }
    let verify_total = p.now_ms() - start;
    let matches_reference = (check > 0)
        .then(|| p.keys().matches_reference(check as usize))
        .flatten();
    Response::json(
        200,
        &serde_json::json!({
            "n": n, "alg": p.keys().alg().as_str(), "verified": ok,
            "sign_ms_total": sign_total, "sign_ms_each": sign_total / n as f64,
            "verify_ms_total": verify_total, "verify_ms_each": verify_total / n as f64,
            "matches_reference": matches_reference,
        }),
    )
}

#[cfg(test)]
mod tests;
