//! Dynamic client registration: RFC 7591 (`POST /oauth/register` with JSON) and RFC 7592
//! (`GET`/`PUT`/`DELETE` on the `registration_client_uri` with the registration access token).
//! Policy (`REGISTRATION_POLICY`): open, initial access token required, or off.

use crate::apps;
use crate::crypto::app_keys;
use crate::http::{Request, Response};
use crate::model::App;
use crate::error::{Challenge, Error, ErrorCode, Result};
use crate::model::JWT_BEARER;
use crate::rules::{redirect_uri, scope};
use crate::objects::app;
use crate::platform::Platform;
use crate::util::{ct_eq, sha256, sha256_hex};
use serde::de::DeserializeOwned;

/// Grant types a client may give itself; the others need an operator.
const SELF_SERVICE_GRANTS: [&str; 3] = ["authorization_code", "refresh_token", JWT_BEARER];

#[derive(Default)]
struct Metadata {
    redirect_uris: Option<Vec<String>>,
    post_logout_redirect_uris: Option<Vec<String>>,
    backchannel_logout_uri: Option<String>,
    backchannel_logout_session_required: Option<bool>,
    id_token_signed_response_alg: Option<String>,
    subject_type: Option<String>,
    default_max_age: Option<u64>,
    require_auth_time: Option<bool>,
    require_pushed_authorization_requests: Option<bool>,
    client_name: Option<String>,
    client_uri: Option<String>,
    logo_uri: Option<String>,
    contacts: Option<Vec<String>>,
    grant_types: Option<Vec<String>>,
    response_types: Option<Vec<String>>,
    token_endpoint_auth_method: Option<String>,
    jwks: Option<serde_json::Value>,
    jwks_uri: Option<String>,
    scope: Option<String>,
    client_id: Option<String>,
}

fn bad_metadata(msg: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidClientMetadata, msg)
}

fn parse(req: &Request) -> Result<Metadata> {
    if req.media_type().as_deref() != Some("application/json") {
        return Err(Error::new(
            ErrorCode::UnsupportedMediaType,
            "send client metadata as application/json",
        ));
    }
    let v: serde_json::Value =
        serde_json::from_slice(&req.body).map_err(|_| bad_metadata("client metadata is not valid JSON"))?;
    let serde_json::Value::Object(m) = v else {
        return Err(bad_metadata("client metadata must be a JSON object"));
    };
    // Field by field, so a wrong type names the field. Unknown fields are ignored (RFC 7591 §2).
    fn field<T: DeserializeOwned>(
        m: &serde_json::Map<String, serde_json::Value>,
        name: &str,
        what: &str,
    ) -> Result<Option<T>> {
        match m.get(name) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(v) => serde_json::from_value(v.clone())
                .map(Some)
                .map_err(|_| bad_metadata(format!("{name} must be {what}"))),
        }
    }
    const STRINGS: &str = "an array of strings";
    const STRING: &str = "a string";
    Ok(Metadata {
        redirect_uris: field(&m, "redirect_uris", STRINGS)?,
        post_logout_redirect_uris: field(&m, "post_logout_redirect_uris", STRINGS)?,
        backchannel_logout_uri: field(&m, "backchannel_logout_uri", STRING)?,
        backchannel_logout_session_required: field(&m, "backchannel_logout_session_required", "a boolean")?,
        id_token_signed_response_alg: field(&m, "id_token_signed_response_alg", STRING)?,
        subject_type: field(&m, "subject_type", STRING)?,
        default_max_age: field(&m, "default_max_age", "a number of seconds")?,
        require_auth_time: field(&m, "require_auth_time", "a boolean")?,
        require_pushed_authorization_requests: field(&m, "require_pushed_authorization_requests", "a boolean")?,
        client_name: field(&m, "client_name", STRING)?,
        client_uri: field(&m, "client_uri", STRING)?,
        logo_uri: field(&m, "logo_uri", STRING)?,
        contacts: field(&m, "contacts", STRINGS)?,
        grant_types: field(&m, "grant_types", STRINGS)?,
        response_types: field(&m, "response_types", STRINGS)?,
        token_endpoint_auth_method: field(&m, "token_endpoint_auth_method", STRING)?,
        jwks: field(&m, "jwks", "a JWK set object")?,
        jwks_uri: field(&m, "jwks_uri", STRING)?,
        scope: field(&m, "scope", "a space-separated string")?,
        client_id: field(&m, "client_id", STRING)?,
    })
}

/// Applies RFC 7591 metadata to `app`, mapping each field's errors to the right code.
fn apply(p: &impl Platform, app: &mut App, m: Metadata) -> Result<()> {
    if m.jwks_uri.is_some() {
        return Err(bad_metadata("jwks_uri is not supported; send the keys in jwks"));
    }
    app.name = m.client_name.unwrap_or_else(|| "Unnamed app".into());
    app.homepage = m.client_uri.unwrap_or_default();
    app.image_uri = m.logo_uri.unwrap_or_default();
    app.admin_email = m
        .contacts
        .unwrap_or_default()
        .into_iter()
        .next()
        .unwrap_or_default();
    app.token_endpoint_auth_method = m
        .token_endpoint_auth_method
        .unwrap_or_else(|| "client_secret_basic".into());
    if app.is_public() && !p.config().public_client_registration {
        return Err(bad_metadata(
            "registration of public clients (token_endpoint_auth_method none) is switched off",
        ));
    }
    app.grant_types = m.grant_types.unwrap_or_else(|| vec!["authorization_code".into()]);
    if let Some(g) = app
        .grant_types
        .iter()
        .find(|g| !SELF_SERVICE_GRANTS.contains(&g.as_str()))
    {
        return Err(bad_metadata(format!(
            "grant_types: '{}' cannot be registered dynamically",
            g.chars().take(80).collect::<String>()
        )));
    }
    let response_types = m.response_types.unwrap_or_else(|| vec!["code".into()]);
    let wants_code = app.allows_grant("authorization_code");
    if response_types.iter().any(|r| r != "code")
        || (wants_code != response_types.iter().any(|r| r == "code"))
    {
        return Err(bad_metadata(
            "response_types must be [\"code\"] exactly when grant_types has authorization_code",
        ));
    }
    app.redirect_uris = m.redirect_uris.unwrap_or_default();
    if wants_code && app.redirect_uris.is_empty() {
        return Err(Error::new(
            ErrorCode::InvalidRedirectUri,
            "redirect_uris is required for authorization_code",
        ));
    }
    for u in &app.redirect_uris {
        redirect_uri::validate(u, false)?;
    }
    // OpenID Connect RP-Initiated and Back-Channel Logout metadata (checked by `apps::check`).
    app.post_logout_redirect_uris = m.post_logout_redirect_uris.unwrap_or_default();
    app.backchannel_logout_uri = m.backchannel_logout_uri.filter(|u| !u.is_empty());
    app.backchannel_logout_session_required = m.backchannel_logout_session_required.unwrap_or(false);
    // OpenID Connect client metadata (checked by `apps::check`: `rules::oidc_client`).
    app.id_token_signed_response_alg = m.id_token_signed_response_alg.filter(|a| !a.is_empty());
    app.subject_type = m.subject_type.filter(|t| !t.is_empty());
    app.default_max_age = m.default_max_age;
    app.require_auth_time = m.require_auth_time.unwrap_or(false);
    app.require_pushed_authorization_requests = m.require_pushed_authorization_requests.unwrap_or(false);
    let before = app.scopes.clone();
    app.scopes = match m.scope {
        Some(s) => scope::parse(&s).map_err(|e| bad_metadata(format!("scope: {}", e.description)))?,
        None if before.is_empty() => p.config().self_service_scopes.clone(),
        None => before.clone(),
    };
    // A client may keep what an operator granted it, never widen it by itself.
    let allowed = &p.config().self_service_scopes;
    if let Some(bad) = app.scopes.iter().find(|s| !allowed.contains(s) && !before.contains(s)) {
        return Err(bad_metadata(format!(
            "scope: '{}' needs an operator's approval (self-service apps may ask for: {})",
            bad.chars().take(80).collect::<String>(),
            allowed.join(" ")
        )));
    }
    scope::check_catalogue_keeping(&app.scopes, &p.config().scopes, &before)
        .map_err(|e| bad_metadata(format!("scope: {}", e.description)))?;
    app.keys = match m.jwks {
        None => Vec::new(),
        Some(jwks) => {
            let keys = jwks
                .get("keys")
                .and_then(|k| k.as_array())
                .ok_or_else(|| bad_metadata("jwks must be {\"keys\": [...]}"))?;
            if keys.len() > 10 {
                return Err(bad_metadata("jwks: at most 10 keys"));
            }
            keys.iter()
                .map(|k| app_keys::normalise(k).map_err(|e| bad_metadata(format!("jwks: {}", e.description))))
                .collect::<Result<_>>()?
        }
    };
    if app.token_endpoint_auth_method == "private_key_jwt" && app.keys.is_empty() {
        return Err(bad_metadata(
            "private_key_jwt needs jwks with at least one RSA key",
        ));
    }
    apps::check_keeping(p, app, &before).map_err(|e| match e.code {
        ErrorCode::InvalidRedirectUri => e,
        _ => bad_metadata(e.description),
    })
}

/// The registered metadata as RFC 7591 §3.2.1 returns it.
fn metadata_view(issuer: &str, app: &App) -> serde_json::Value {
    let mut v = serde_json::json!({
        "client_id": app.client_id,
        "client_id_issued_at": app.created_at,
        "client_name": app.name,
        "redirect_uris": app.redirect_uris,
        "grant_types": app.grant_types,
        "response_types": if app.allows_grant("authorization_code") { vec!["code"] } else { vec![] },
        "token_endpoint_auth_method": app.token_endpoint_auth_method,
        "scope": scope::join(&app.scopes),
        "registration_client_uri": format!("{issuer}/oauth/register/{}", app.client_id),
    });
    if !app.homepage.is_empty() {
        crate::util::set(&mut v, "client_uri", app.homepage.clone());
    }
    if !app.image_uri.is_empty() {
        crate::util::set(&mut v, "logo_uri", app.image_uri.clone());
    }
    if !app.admin_email.is_empty() {
        crate::util::set(&mut v, "contacts", serde_json::json!([app.admin_email]));
    }
    if !app.post_logout_redirect_uris.is_empty() {
        crate::util::set(&mut v, "post_logout_redirect_uris", serde_json::json!(app.post_logout_redirect_uris));
    }
    crate::util::set(&mut v, "id_token_signed_response_alg", app.id_token_signed_response_alg.as_deref().unwrap_or("RS256"));
    crate::util::set(&mut v, "subject_type", app.subject_type.as_deref().unwrap_or("public"));
    if let Some(a) = app.default_max_age {
        crate::util::set(&mut v, "default_max_age", a);
    }
    if app.require_auth_time {
        crate::util::set(&mut v, "require_auth_time", true);
    }
    if app.require_pushed_authorization_requests {
        crate::util::set(&mut v, "require_pushed_authorization_requests", true);
    }
    if let Some(u) = &app.backchannel_logout_uri {
        crate::util::set(&mut v, "backchannel_logout_uri", u.clone());
        crate::util::set(&mut v, "backchannel_logout_session_required", app.backchannel_logout_session_required);
    }
    if !app.keys.is_empty() {
        crate::util::set(&mut v, "jwks", serde_json::json!({"keys": app.keys}));
    }
    if !app.is_public() {
        crate::util::set(&mut v, "client_secret_expires_at", 0);
    }
    v
}

fn bearer_error(msg: &str) -> Error {
    Error::new(ErrorCode::InvalidToken, msg).with_challenge(Challenge::Bearer { scope: None })
}

fn token_matches(given: &str, expected: &Option<crate::config::Secret>) -> bool {
    expected
        .as_ref()
        .is_some_and(|e| ct_eq(&sha256(given.as_bytes()), &sha256(e.0.as_bytes())))
}

/// `POST /oauth/register` (JSON).
pub async fn register(p: &impl Platform, issuer: &str, req: &Request) -> Result<Response> {
    let cfg = p.config();
    let owner = match cfg.registration_policy.as_str() {
        "off" => {
            return Err(Error::new(
                ErrorCode::AccessDenied,
                "dynamic client registration is switched off",
            ))
        }
        "token" => {
            let given = req
                .bearer()
                .ok_or_else(|| bearer_error("an initial access token is required"))?;
            if !token_matches(given, &cfg.initial_access_token) && !cfg.is_operator_token(given) {
                return Err(bearer_error("the initial access token is not valid"));
            }
            "dcr:operator".to_owned()
        }
        // Open registration: each client address holds at most the per-owner limit.
        _ => format!(
            "dcr:{}",
            if req.remote_addr.is_empty() {
                "local"
            } else {
                &req.remote_addr
            }
        ),
    };
    crate::accounts::count_registration(p, req).await?;
    let m = parse(req)?;
    let mut app = apps::blank_self_service(p, &owner.chars().take(128).collect::<String>())?;
    apply(p, &mut app, m)?;
    let created = apps::create(p, app, "registration", true).await?;
    let mut body = metadata_view(issuer, &created.app);
    if let Some(s) = created.secret {
        crate::util::set(&mut body, "client_secret", s);
    }
    if let Some(t) = created.registration_token {
        crate::util::set(&mut body, "registration_access_token", t);
    }
    Ok(Response::json(201, &body)
        .no_store()
        .client(Some(&created.app.client_id)))
}

/// The app a registration access token manages (401 for any mismatch, as RFC 7592 §2 asks).
async fn managed(p: &impl Platform, id: &str, req: &Request) -> Result<App> {
    let token = req
        .bearer()
        .ok_or_else(|| bearer_error("the registration access token is required"))?;
    if !crate::model::valid_client_id(id) || token.len() > 256 {
        return Err(bearer_error("the registration access token is not valid"));
    }
    match p
        .call(
            &app::object(id),
            app::CheckRegistration {
                token_hash: sha256_hex(token),
            },
        )
        .await
    {
        Ok(app::Client { app, .. }) => Ok(app),
        Err(e) if e.status() >= 500 => Err(e),
        Err(_) => Err(bearer_error("the registration access token is not valid")),
    }
}

/// `GET`/`PUT`/`DELETE /oauth/register/{client_id}` (RFC 7592).
pub async fn manage(p: &impl Platform, issuer: &str, id: &str, req: &Request) -> Result<Response> {
    let app = managed(p, id, req).await?;
    match req.method.as_str() {
        "GET" => Ok(Response::json(200, &metadata_view(issuer, &app)).no_store()),
        "PUT" => {
            let m = parse(req)?;
            if m.client_id.as_deref() != Some(id) {
                return Err(Error::invalid_request(
                    "the body's client_id must match the client being updated",
                ));
            }
            let mut next = app.clone();
            apply(p, &mut next, m)?;
            let wanted = next.keys.clone();
            let mut app = apps::update(p, next, &app.scopes, "registration").await?;
            // Keys change one by one in the app's object, so racing edits cannot lose one.
            let kid = |k: &serde_json::Value| {
                k.get("kid")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            let (old, new): (Vec<String>, Vec<String>) = (
                app.keys.iter().map(kid).collect(),
                wanted.iter().map(kid).collect(),
            );
            for k in wanted.iter().filter(|k| !old.contains(&kid(k))) {
                app = apps::add_key(p, id, k.clone(), "registration").await?;
            }
            for k in old.iter().filter(|k| !new.contains(k)) {
                app = apps::remove_key(p, id, k, "registration").await?;
            }
            Ok(Response::json(200, &metadata_view(issuer, &app)).no_store())
        }
        _ => {
            apps::delete(p, id, "registration").await?;
            Ok(Response::empty(204))
        }
    }
}
