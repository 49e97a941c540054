//! `/admin/apps`: create, list, read, update, delete apps; regenerate secrets; add and remove
//! keys. The app's Durable Object is written first (authoritative), then the KV copy.

use super::validate::{self, AUTH_METHODS, GRANT_TYPES};
use crate::crypto::{app_keys, keys};
use crate::http::{Request, Response};
use crate::model::{App, AppRecord, BotUser, Status};
use crate::oauth::client_auth::valid_client_id;
use crate::oauth::error::{Error, Result};
use crate::oauth::{redirect_uri, scope};
use crate::store::platform::random_token;
use crate::store::shard::{Command, Reply};
use crate::store::Platform;
use crate::util::sha256_hex;
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
    grant_types: Option<List>,
    scopes: Option<List>,
    default_scopes: Option<List>,
    trusted: Option<bool>,
    token_lifetime: Option<u64>,
    token_endpoint_auth_method: Option<String>,
    status: Option<Status>,
    /// `"generate"`: make an RSA key pair and return the private key once.
    key: Option<String>,
    /// The app's own public key (JWK object or PEM).
    public_key: Option<serde_json::Value>,
}

fn parse_input(req: &Request) -> Result<AppInput> {
    if req.media_type().as_deref() != Some("application/json") {
        return Err(Error::new(
            crate::oauth::error::ErrorCode::UnsupportedMediaType,
            "send application/json",
        ));
    }
    serde_json::from_slice(&req.body)
        .map_err(|e| Error::invalid_request(format!("invalid app JSON: {}", short(&e.to_string()))))
}

fn short(s: &str) -> String {
    s.chars().take(200).collect()
}

/// Applies the input's fields to `app` and checks every rule.
fn apply(p: &impl Platform, app: &mut App, input: AppInput) -> Result<()> {
    macro_rules! set {
        ($f:ident) => {
            if let Some(v) = input.$f {
                app.$f = v;
            }
        };
    }
    set!(name);
    set!(description);
    set!(homepage);
    set!(image_uri);
    set!(admin_email);
    set!(admin_phone);
    set!(trusted);
    set!(token_endpoint_auth_method);
    set!(status);
    if let Some(v) = input.redirect_uris {
        app.redirect_uris = v.into_vec();
    }
    if let Some(v) = input.grant_types {
        app.grant_types = v.into_vec();
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
    if app.status == Status::Deleted {
        return Err(Error::invalid_request(
            "status must be active or disabled (DELETE removes an app)",
        ));
    }
    validate::text("name", &app.name, 100, true)?;
    validate::text("description", &app.description, 1000, false)?;
    validate::web_url("homepage", &app.homepage)?;
    validate::web_url("image_uri", &app.image_uri)?;
    validate::email("admin_email", &app.admin_email, false)?;
    validate::phone(&app.admin_phone)?;
    if app.redirect_uris.len() > 20 {
        return Err(Error::invalid_request("at most 20 redirect_uris"));
    }
    for u in &app.redirect_uris {
        redirect_uri::validate(u, false)?;
    }
    if let Some(bad) = app
        .grant_types
        .iter()
        .find(|g| !GRANT_TYPES.contains(&g.as_str()))
    {
        return Err(Error::invalid_request(format!(
            "unknown grant type '{}'",
            short(bad)
        )));
    }
    if !AUTH_METHODS.contains(&app.token_endpoint_auth_method.as_str()) {
        return Err(Error::invalid_request(format!(
            "token_endpoint_auth_method must be one of {}",
            AUTH_METHODS.join(", ")
        )));
    }
    if app.is_public() && app.allows_grant("client_credentials") {
        return Err(Error::invalid_request(
            "public clients (auth method none) cannot use client_credentials",
        ));
    }
    scope::check_catalogue(&app.scopes, &p.config().scopes)?;
    if let Some(d) = &app.default_scopes {
        if let Some(bad) = d.iter().find(|s| !app.scopes.contains(s)) {
            return Err(Error::invalid_request(format!(
                "default scope '{}' is not among the app's scopes",
                short(bad)
            )));
        }
    }
    if app.token_lifetime.is_some_and(|t| !(60..=86_400).contains(&t)) {
        return Err(Error::invalid_request(
            "token_lifetime must be 60 to 86400 seconds",
        ));
    }
    app.bot_user.name = format!("{} (bot)", app.name);
    Ok(())
}

/// The key an input asks for: generated (private PEM returned once) or supplied.
fn key_from(
    key: Option<&str>,
    public_key: Option<&serde_json::Value>,
) -> Result<Option<(serde_json::Value, Option<String>)>> {
    match (key, public_key) {
        (Some(_), Some(_)) => Err(Error::invalid_request("send either key or public_key, not both")),
        (Some("generate"), None) => {
            let pem = keys::generate_pem().map_err(Error::server)?;
            let jwk = public_jwk_of_pem(&pem)?;
            Ok(Some((jwk, Some(pem))))
        }
        (Some(_), None) => Err(Error::invalid_request("key must be \"generate\"")),
        (None, Some(pk)) => Ok(Some((app_keys::normalise(pk)?, None))),
        (None, None) => Ok(None),
    }
}

fn public_jwk_of_pem(pem: &str) -> Result<serde_json::Value> {
    use rsa::pkcs8::DecodePrivateKey;
    let k = rsa::RsaPrivateKey::from_pkcs8_pem(pem).map_err(|_| Error::server("generated key unreadable"))?;
    let public = k.to_public_key();
    Ok(keys::rsa_public_jwk(&public, &keys::rsa_thumbprint(&public)))
}

fn view(app: &App) -> serde_json::Value {
    serde_json::to_value(app).unwrap_or_default()
}

async fn authoritative(p: &impl Platform, id: &str) -> Result<App> {
    if !valid_client_id(id) {
        return Err(Error::not_found("no such app"));
    }
    match p.shard(&format!("app:{id}"), Command::GetApp).await? {
        Reply::Client { app, .. } if app.status != Status::Deleted => Ok(app),
        _ => Err(Error::not_found("no such app")),
    }
}

fn audit(p: &impl Platform, action: &str, id: &str) {
    p.audit(&serde_json::json!({"audit": action, "actor": "admin", "client_id": id, "at": p.now()}));
}

pub async fn create(p: &impl Platform, req: &Request) -> Result<Response> {
    let mut input = parse_input(req)?;
    let key = key_from(input.key.take().as_deref(), input.public_key.take().as_ref())?;
    let now = p.now();
    let client_id = random_token(p, 24);
    let trusted = input.trusted.unwrap_or(false);
    let owner = input.owner.take().unwrap_or_else(|| "operator".to_owned());
    validate::owner(&owner)?;
    let mut app = App {
        client_id: client_id.clone(),
        name: String::new(),
        description: String::new(),
        homepage: String::new(),
        image_uri: String::new(),
        admin_email: String::new(),
        admin_phone: String::new(),
        owner: owner.clone(),
        redirect_uris: Vec::new(),
        grant_types: Vec::new(),
        scopes: vec!["public".into()],
        default_scopes: None,
        trusted,
        token_lifetime: None,
        token_endpoint_auth_method: "client_secret_basic".into(),
        keys: Vec::new(),
        bot_user: BotUser {
            id: format!("bot_{client_id}"),
            name: String::new(),
        },
        status: Status::Active,
        created_at: now,
        updated_at: now,
    };
    let explicit_grants = input.grant_types.is_some();
    apply(p, &mut app, input)?;
    if !explicit_grants {
        if !app.redirect_uris.is_empty() {
            app.grant_types
                .extend(["authorization_code".into(), "refresh_token".into()]);
        }
        if app.trusted && !app.is_public() {
            app.grant_types.push("client_credentials".into());
        }
    }
    let mut private_key = None;
    if let Some((jwk, pem)) = key {
        app.keys.push(jwk);
        private_key = pem;
    }
    let secret = (!app.is_public()).then(|| random_token(p, 24));
    let owner_shard = format!("owner:{owner}");
    p.shard(
        &owner_shard,
        Command::Reserve {
            app_id: client_id.clone(),
            limit: p.config().max_apps_per_owner,
        },
    )
    .await?;
    let record = AppRecord {
        app: app.clone(),
        secret_hash: secret.as_deref().map(sha256_hex),
        epoch: 0,
    };
    if let Err(e) = p
        .shard(&format!("app:{client_id}"), Command::CreateApp { record })
        .await
    {
        p.shard(
            &owner_shard,
            Command::Release {
                app_id: client_id.clone(),
            },
        )
        .await
        .ok();
        return Err(e);
    }
    p.put_app_meta(&app).await?;
    audit(p, "app.create", &client_id);
    let mut body = view(&app);
    if let Some(s) = secret {
        body["client_secret"] = s.into();
    }
    if let Some(pem) = private_key {
        body["private_key"] = pem.into();
    }
    Ok(Response::json(201, &body)
        .no_store()
        .header("location", format!("/admin/apps/{client_id}")))
}

pub async fn get(p: &impl Platform, id: &str) -> Result<Response> {
    let app = authoritative(p, id).await?;
    Ok(Response::json(200, &view(&app)).no_store())
}

pub async fn list(p: &impl Platform, req: &Request) -> Result<Response> {
    let q = crate::http::params::Params::from_query(req)?;
    let limit = match q.get("limit") {
        None => 100,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=100).contains(l))
            .ok_or_else(|| Error::invalid_request("limit must be 1 to 100"))?,
    };
    let cursor = q.get("cursor");
    if cursor.is_some_and(|c| c.len() > 512) {
        return Err(Error::invalid_request("cursor is too long"));
    }
    let (ids, next) = match q.get("owner") {
        Some(owner) => {
            validate::owner(owner)?;
            let cmd = Command::ListOwned {
                after: cursor.map(str::to_owned),
                limit,
            };
            match p.shard(&format!("owner:{owner}"), cmd).await? {
                Reply::Ids { ids, next } => (ids, next),
                _ => (Vec::new(), None),
            }
        }
        None => p.list_app_ids(cursor, limit).await?,
    };
    let mut apps = Vec::with_capacity(ids.len());
    for id in &ids {
        if let Some(app) = p.app_meta(id).await? {
            apps.push(view(&app));
        }
    }
    Ok(Response::json(200, &serde_json::json!({"apps": apps, "next_cursor": next})).no_store())
}

pub async fn update(p: &impl Platform, id: &str, req: &Request) -> Result<Response> {
    let input = parse_input(req)?;
    if input.key.is_some() || input.public_key.is_some() || input.owner.is_some() {
        return Err(Error::invalid_request(
            "keys change through /keys; owner cannot change",
        ));
    }
    let mut app = authoritative(p, id).await?;
    apply(p, &mut app, input)?;
    let app = match p.shard(&format!("app:{id}"), Command::UpdateApp { app }).await? {
        Reply::Client { app, .. } => app,
        _ => return Err(Error::server("unexpected reply from storage")),
    };
    p.put_app_meta(&app).await?;
    audit(p, "app.update", id);
    Ok(Response::json(200, &view(&app)).no_store())
}

pub async fn delete(p: &impl Platform, id: &str) -> Result<Response> {
    let app = authoritative(p, id).await?;
    p.shard(&format!("app:{id}"), Command::DeleteApp).await?;
    p.delete_app_meta(id).await?;
    p.shard(
        &format!("owner:{}", app.owner),
        Command::Release {
            app_id: id.to_owned(),
        },
    )
    .await?;
    audit(p, "app.delete", id);
    Ok(Response::empty(204))
}

pub async fn regenerate_secret(p: &impl Platform, id: &str) -> Result<Response> {
    let app = authoritative(p, id).await?;
    if app.is_public() {
        return Err(Error::invalid_request("public clients have no secret"));
    }
    let secret = random_token(p, 24);
    p.shard(
        &format!("app:{id}"),
        Command::RotateSecret {
            secret_hash: sha256_hex(&secret),
        },
    )
    .await?;
    audit(p, "app.secret.regenerate", id);
    Ok(Response::json(
        200,
        &serde_json::json!({"client_id": id, "client_secret": secret}),
    )
    .no_store())
}

pub async fn add_key(p: &impl Platform, id: &str, req: &Request) -> Result<Response> {
    let input = parse_input(req)?;
    let (jwk, pem) = key_from(input.key.as_deref(), input.public_key.as_ref())?
        .ok_or_else(|| Error::invalid_request("send public_key (JWK or PEM) or key: \"generate\""))?;
    authoritative(p, id).await?;
    let app = match p
        .shard(&format!("app:{id}"), Command::AddKey { jwk: jwk.clone() })
        .await?
    {
        Reply::Client { app, .. } => app,
        _ => return Err(Error::server("unexpected reply from storage")),
    };
    p.put_app_meta(&app).await?;
    audit(p, "app.key.add", id);
    let mut body = serde_json::json!({"kid": jwk["kid"], "jwk": jwk});
    if let Some(pem) = pem {
        body["private_key"] = pem.into();
    }
    Ok(Response::json(201, &body).no_store())
}

pub async fn remove_key(p: &impl Platform, id: &str, kid: &str) -> Result<Response> {
    authoritative(p, id).await?;
    if kid.is_empty() || kid.len() > 100 {
        return Err(Error::not_found("no such key"));
    }
    let app = match p
        .shard(&format!("app:{id}"), Command::RemoveKey { kid: kid.to_owned() })
        .await?
    {
        Reply::Client { app, .. } => app,
        _ => return Err(Error::server("unexpected reply from storage")),
    };
    p.put_app_meta(&app).await?;
    audit(p, "app.key.remove", id);
    Ok(Response::empty(204))
}
