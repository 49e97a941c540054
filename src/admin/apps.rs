//! `/admin/apps`: the operator's HTTP surface over the app registry (`crate::apps`).

use crate::apps;
use crate::crypto::{app_keys, keys};
use crate::http::params::Params;
use crate::http::{Request, Response};
use crate::model::{App, Status};
use crate::error::{Error, ErrorCode, Result};
use crate::platform::Platform;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(untagged)]
enum List {
    One(String),
    Many(Vec<String>),
}

impl List {
    fn into_vec(self) -> Vec<String> {
        match self {
            List::One(s) => s.split_whitespace().map(str::to_owned).collect(),
            List::Many(v) => v,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AppInput {
    name: Option<String>,
    description: Option<String>,
    homepage: Option<String>,
    image_uri: Option<String>,
    admin_email: Option<String>,
    admin_phone: Option<String>,
    owner: Option<String>,
    redirect_uris: Option<List>,
    post_logout_redirect_uris: Option<List>,
    /// `""` or `null` removes it.
    #[serde(default, deserialize_with = "nullable")]
    backchannel_logout_uri: Option<Option<String>>,
    backchannel_logout_session_required: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    id_token_signed_response_alg: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    subject_type: Option<Option<String>>,
    default_max_age: Option<u64>,
    require_auth_time: Option<bool>,
    require_pushed_authorization_requests: Option<bool>,
    grant_types: Option<List>,
    scopes: Option<List>,
    default_scopes: Option<List>,
    trusted: Option<bool>,
    approved: Option<bool>,
    introspection: Option<bool>,
    token_lifetime: Option<u64>,
    token_endpoint_auth_method: Option<String>,
    status: Option<Status>,
    /// `"generate"`: make an RSA key pair and return the private key once.
    key: Option<String>,
    /// The app's own public key (JWK object or PEM).
    public_key: Option<serde_json::Value>,
}

/// A field that may be `null` (Some(None)) as well as absent (None).
fn nullable<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

const ACTOR: &str = "admin";

fn parse_input(req: &Request) -> Result<AppInput> {
    if req.media_type().as_deref() != Some("application/json") {
        return Err(Error::new(
            ErrorCode::UnsupportedMediaType,
            "send application/json",
        ));
    }
    serde_json::from_slice(&req.body).map_err(|e| {
        Error::invalid_request(format!(
            "invalid app JSON: {}",
            e.to_string().chars().take(200).collect::<String>()
        ))
    })
}

/// Copies the fields the input sets onto `app` (rules are checked by the registry).
fn apply(app: &mut App, input: AppInput) {
    macro_rules! set {
        ($($f:ident),*) => { $(if let Some(v) = input.$f { app.$f = v; })* };
    }
    set!(
        name,
        description,
        homepage,
        image_uri,
        admin_email,
        admin_phone,
        trusted,
        approved,
        introspection,
        token_endpoint_auth_method,
        status,
        backchannel_logout_session_required,
        require_auth_time,
        require_pushed_authorization_requests
    );
    if let Some(v) = input.id_token_signed_response_alg {
        app.id_token_signed_response_alg = v.filter(|a| !a.is_empty());
    }
    if let Some(v) = input.subject_type {
        app.subject_type = v.filter(|t| !t.is_empty());
    }
    if let Some(v) = input.default_max_age {
        app.default_max_age = Some(v);
    }
    if let Some(v) = input.post_logout_redirect_uris {
        app.post_logout_redirect_uris = v.into_vec();
    }
    if let Some(v) = input.backchannel_logout_uri {
        app.backchannel_logout_uri = v.filter(|u| !u.is_empty());
    }
    if let Some(v) = input.redirect_uris {
        app.redirect_uris = v.into_vec();
    }
    match input.grant_types {
        Some(v) => app.grant_types = v.into_vec(),
        // Untrusting an app takes client_credentials away with it.
        None if input.trusted == Some(false) => app.grant_types.retain(|g| g != "client_credentials"),
        None => {}
    }
    if let Some(v) = input.scopes {
        app.scopes = v.into_vec();
    }
    if let Some(v) = input.default_scopes {
        app.default_scopes = Some(v.into_vec());
    }
    if input.token_lifetime.is_some() {
        app.token_lifetime = input.token_lifetime;
    }
}

/// The key an input asks for: generated (private PEM returned once) or supplied.
fn key_from(
    key: Option<&str>,
    public_key: Option<&serde_json::Value>,
) -> Result<Option<(serde_json::Value, Option<String>)>> {
    match (key, public_key) {
        (Some(_), Some(_)) => Err(Error::invalid_request("send either key or public_key, not both")),
        (Some("generate"), None) => {
            use rsa::pkcs8::DecodePrivateKey;
            let pem = keys::generate_pem()?;
            let private = rsa::RsaPrivateKey::from_pkcs8_pem(&pem)
                .map_err(|_| Error::server("generated key unreadable"))?;
            let public = private.to_public_key();
            Ok(Some((
                keys::rsa_public_jwk(&public, &keys::rsa_thumbprint(&public)),
                Some(pem),
            )))
        }
        (Some(_), None) => Err(Error::invalid_request("key must be \"generate\"")),
        (None, Some(pk)) => Ok(Some((app_keys::normalise(pk)?, None))),
        (None, None) => Ok(None),
    }
}

/// The app as the admin API shows it, with `retired_scopes`: those of its scopes the
/// catalogue no longer has (never granted; drop them with a PATCH of `scopes`).
pub fn view(p: &impl Platform, app: &App) -> serde_json::Value {
    let mut v = serde_json::to_value(app).unwrap_or_default();
    let retired = crate::rules::scope::retired(&app.scopes, &p.config().scopes);
    if !retired.is_empty() {
        crate::util::set(&mut v, "retired_scopes", retired);
    }
    v
}

/// What creating an app made: the app, and what is shown once (its secret, a generated key).
pub struct Made {
    pub app: App,
    pub secret: Option<String>,
    pub private_key: Option<String>,
}

/// Creates an app from the admin API's input (the console's form arrives as one too), with
/// every rule the admin API applies.
pub async fn create_from(p: &impl Platform, mut input: AppInput, actor: &str) -> Result<Made> {
    let (key, public_key) = (input.key.take(), input.public_key.take());
    let owner = input.owner.take().unwrap_or_else(|| "operator".to_owned());
    let mut app = apps::blank(p, &owner)?;
    let explicit_grants = input.grant_types.is_some();
    apply(&mut app, input);
    if !explicit_grants {
        apps::default_grants(&mut app);
    }
    // Every other field is checked before a key generation is spent on the request.
    apps::check(p, &mut app)?;
    let key = key_from(key.as_deref(), public_key.as_ref())?;
    let mut private_key = None;
    if let Some((jwk, pem)) = key {
        app.keys.push(jwk);
        private_key = pem;
    }
    let created = apps::create(p, app, actor, false).await?;
    Ok(Made { app: created.app, secret: created.secret, private_key })
}

pub async fn create(p: &impl Platform, req: &Request) -> Result<Response> {
    let made = create_from(p, parse_input(req)?, ACTOR).await?;
    let mut body = view(p, &made.app);
    if let Some(s) = made.secret {
        crate::util::set(&mut body, "client_secret", s);
    }
    if let Some(pem) = made.private_key {
        crate::util::set(&mut body, "private_key", pem);
    }
    let location = format!("/admin/apps/{}", made.app.client_id);
    Ok(Response::json(201, &body).no_store().header("location", location))
}

pub async fn get(p: &impl Platform, id: &str) -> Result<Response> {
    let app = apps::authoritative(p, id).await?;
    Ok(Response::json(200, &view(p, &app)).no_store())
}

/// `GET /admin/apps`: one page of apps, filtered by `owner`, `name`, `status` and `grant_type`
/// (`apps::Filter`); a filtered page may hold fewer than `limit` apps and still have a
/// `next_cursor` (the listing stops after scanning `apps::SCAN_MAX` apps per request).
pub async fn list(p: &impl Platform, req: &Request) -> Result<Response> {
    let q = Params::from_query(req)?;
    let limit = super::page_limit(&q)?;
    let cursor = q.get("cursor");
    if cursor.is_some_and(|c| c.len() > 512) {
        return Err(Error::invalid_request("cursor is too long"));
    }
    for key in ["owner", "name", "status", "grant_type"] {
        if q.sent_empty(key) {
            return Err(Error::invalid_request(format!("{key} must not be empty")));
        }
    }
    let filter = apps::Filter::parse(q.get("name"), q.get("status"), q.get("grant_type"))?;
    let (apps, next) = apps::list(p, q.get("owner"), &filter, cursor, limit).await?;
    let apps: Vec<_> = apps.iter().map(|a| view(p, a)).collect();
    Ok(Response::json(200, &serde_json::json!({"apps": apps, "next_cursor": next})).no_store())
}

/// `GET /admin/apps/{id}/keys`: the app's public keys (JWKs, by `kid`), from its object.
pub async fn keys(p: &impl Platform, id: &str) -> Result<Response> {
    let app = apps::authoritative(p, id).await?;
    Ok(Response::json(200, &serde_json::json!({"client_id": app.client_id, "keys": app.keys})).no_store())
}

/// Changes an app from the admin API's input, with every rule the admin API applies.
pub async fn update_from(p: &impl Platform, id: &str, input: AppInput, actor: &str) -> Result<App> {
    if input.key.is_some() || input.public_key.is_some() || input.owner.is_some() {
        return Err(Error::invalid_request(
            "keys change through /keys; owner cannot change",
        ));
    }
    let mut app = apps::authoritative(p, id).await?;
    let held = app.scopes.clone();
    apply(&mut app, input);
    if app.status == Status::Deleted {
        return Err(Error::invalid_request(
            "status must be active or disabled (DELETE removes an app)",
        ));
    }
    apps::update(p, app, &held, actor).await
}

pub async fn update(p: &impl Platform, id: &str, req: &Request) -> Result<Response> {
    let app = update_from(p, id, parse_input(req)?, ACTOR).await?;
    Ok(Response::json(200, &view(p, &app)).no_store())
}

pub async fn delete(p: &impl Platform, id: &str) -> Result<Response> {
    apps::delete(p, id, ACTOR).await?;
    Ok(Response::empty(204))
}

pub async fn regenerate_secret(p: &impl Platform, id: &str) -> Result<Response> {
    let secret = apps::regenerate_secret(p, id, ACTOR).await?;
    Ok(Response::json(
        200,
        &serde_json::json!({"client_id": id, "client_secret": secret}),
    )
    .no_store())
}

/// Adds a key from the admin API's input (`key: "generate"` or `public_key`): the JWK, and the
/// private PEM when one was generated (shown once).
pub async fn add_key_from(p: &impl Platform, id: &str, input: AppInput, actor: &str) -> Result<(serde_json::Value, Option<String>)> {
    // 404 before spending a key generation on an app that does not exist.
    apps::authoritative(p, id).await?;
    let (jwk, pem) = key_from(input.key.as_deref(), input.public_key.as_ref())?
        .ok_or_else(|| Error::invalid_request("send public_key (JWK or PEM) or key: \"generate\""))?;
    apps::add_key(p, id, jwk.clone(), actor).await?;
    Ok((jwk, pem))
}

pub async fn add_key(p: &impl Platform, id: &str, req: &Request) -> Result<Response> {
    let (jwk, pem) = add_key_from(p, id, parse_input(req)?, ACTOR).await?;
    let mut body = serde_json::json!({"kid": jwk.get("kid"), "jwk": jwk});
    if let Some(pem) = pem {
        crate::util::set(&mut body, "private_key", pem);
    }
    Ok(Response::json(201, &body).no_store())
}

pub async fn remove_key(p: &impl Platform, id: &str, kid: &str) -> Result<Response> {
    apps::remove_key(p, id, kid, ACTOR).await?;
    Ok(Response::empty(204))
}
