//! The app registry: creating, reading, updating, removing apps and regenerating secrets.
//! Shared by the admin API, RFC 7591 registration, the registration page and `/apps`.
//! Order of writes: the tenant's quota (`MAX_APPS` or the organisation's, atomic, always counted),
//! the owner's counter (the 1000-app limit, atomic), the app's Durable Object (authoritative),
//! then the KV copy that the hot path reads. A step that fails gives back what the steps before
//! it counted. Removal releases the counted places first, then the object, then the KV copy.


use crate::rules::fields::{self as validate, AUTH_METHODS};
use crate::model::{App, AppRecord, Status};
use crate::model::valid_client_id;
use crate::error::{Error, Result};
use crate::rules::{redirect_uri, scope};
use crate::platform::random_token;
use crate::objects::{app as object, owner, quota};
use crate::platform::Platform;
use crate::util::sha256_hex;

pub mod replicas;

/// A new app with defaults, owned by `owner`; the caller fills in fields and calls [`create`].
pub fn blank(p: &impl Platform, owner: &str) -> Result<App> {
    Ok(App::new(new_client_id(p)?, owner, p.now()))
}

/// A new client id: 24 random bytes as base64url (32 characters) that start with a letter or
/// digit, never `-` or `_` — a command line (the `portcullis` CLI, curl, shells) reads a leading
/// `-` as an option. Redrawn when it does (1 in 32), so it stays uniformly random among such ids.
pub fn new_client_id(p: &impl Platform) -> Result<String> {
    for _ in 0..16 {
        let id = random_token(p, 24)?;
        if id.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Ok(id);
        }
    }
    Err(Error::server("the random generator keeps giving unusable client ids"))
}

/// A new self-service app (RFC 7591, the registration page, a person on `/apps`): holds the
/// `SELF_SERVICE_SCOPES` and nothing an operator must grant ([`check`] keeps it that way).
pub fn blank_self_service(p: &impl Platform, owner: &str) -> Result<App> {
    let mut app = blank(p, owner)?;
    app.self_service = true;
    app.scopes = p.config().self_service_scopes.clone();
    Ok(app)
}

/// Grant types implied when none are given: the code flow with refresh for apps with a
/// redirect URI (client_credentials follows `trusted`, see [`check`]).
pub fn default_grants(app: &mut App) {
    if !app.redirect_uris.is_empty() {
        app.grant_types
            .extend(["authorization_code".into(), "refresh_token".into()]);
    }
}

fn short(s: &str) -> String {
    s.chars().take(100).collect()
}

/// Every rule an app's metadata must satisfy.
/// Checks a new app's fields; see [`check_keeping`].
pub fn check(p: &impl Platform, app: &mut App) -> Result<()> {
    check_keeping(p, app, &[])
}

/// Checks an app's fields; `held`: the scopes it had before this edit, which may stay although
/// the catalogue (or the self-service list) dropped them (`scope::check_catalogue_keeping`).
pub fn check_keeping(p: &impl Platform, app: &mut App, held: &[String]) -> Result<()> {
    if app.status == Status::Deleted {
        return Err(Error::invalid_request(
            "status must be active or disabled (DELETE removes an app)",
        ));
    }
    validate::owner(&app.owner)?;
    validate::name("name", &app.name, 100)?;
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
    crate::rules::post_logout_redirect_uri::validate(&app.post_logout_redirect_uris)?;
    let algs: Vec<&str> = p.keys().id_token_algs().iter().map(|a| a.as_str()).collect();
    crate::rules::oidc_client::validate(app, &algs, p.config().pairwise_key().is_some())?;
    if let Some(u) = &app.backchannel_logout_uri {
        crate::rules::backchannel_logout_uri::validate(u, p.config().dev())?;
    }
    if let Some(bad) = app
        .grant_types
        .iter()
        .find(|g| crate::model::GrantType::parse(g).is_none())
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
    // `trusted` is the switch for client_credentials: a trusted confidential app has the
    // grant; an untrusted or public one may not list it.
    if app.trusted && !app.is_public() && !app.allows_grant("client_credentials") {
        app.grant_types.push("client_credentials".into());
    }
    if app.allows_grant("client_credentials") && (!app.trusted || app.is_public()) {
        return Err(Error::invalid_request(
            "client_credentials is for trusted confidential apps: set trusted: true and a secret-based auth method",
        ));
    }
    if app.is_public() && app.trusted {
        return Err(Error::invalid_request(
            "public clients (auth method none) cannot be trusted",
        ));
    }
    if !app.operator_vetted() {
        if app.trusted {
            return Err(Error::invalid_request(
                "a self-service app must be approved by an operator (approved: true) before it can be trusted",
            ));
        }
        let allowed = &p.config().self_service_scopes;
        if let Some(bad) = app.scopes.iter().find(|s| !allowed.contains(s) && !held.contains(s)) {
            return Err(Error::invalid_scope(format!(
                "scope '{}' needs an operator's approval (self-service apps may have: {})",
                short(bad),
                allowed.join(" ")
            )));
        }
    }
    scope::check_catalogue_keeping(&app.scopes, &p.config().scopes, held)?;
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

/// What a creation returns once: the secret and registration access token are never shown again.
pub struct Created {
    pub app: App,
    pub secret: Option<String>,
    pub registration_token: Option<String>,
}

/// Records what `actor` did to app `id` (`objects::audit`): `admin` is an operator, `user:<id>`
/// a person (the registration page, `/apps`), `registration` RFC 7591/7592. A creation by
/// anyone but an operator is a registration (`app.register`, `detail` says which path).
pub fn audit(p: &impl Platform, actor: &str, action: &str, id: &str) {
    use crate::objects::audit::{Event, EventType as T, Outcome};
    let person = actor.strip_prefix("user:");
    // Anyone but a person and RFC 7591 is an operator: `admin` (the admin API's bearer token) or
    // a console operator's account id.
    let operator = person.is_none() && actor != "registration";
    let who = match (actor, person) {
        (_, Some(u)) => format!("person:{u}"),
        ("admin", None) => "operator".to_owned(),
        ("registration", None) => "anonymous".to_owned(),
        (other, None) => format!("operator:{other}"),
    };
    let kind = match action {
        "app.create" if operator => T::AppCreate,
        "app.create" => T::AppRegister,
        "app.update" => T::AppUpdate,
        "app.delete" => T::AppDelete,
        "app.secret.regenerate" => T::AppSecretRegenerate,
        "app.key.add" => T::AppKeyAdd,
        _ => T::AppKeyRemove,
    };
    let mut e = Event::new(kind, who, Outcome::Success).app(id);
    if let Some(u) = person {
        e = e.person(u);
    }
    if actor == "registration" {
        e = e.detail("rfc7591");
    } else if kind == T::AppRegister {
        e = e.detail("page");
    }
    p.record(e);
}

/// Counts the app against the tenant's app quota (`limit_reached` when full). Counted with no
/// limit too, so a limit set later counts the apps that exist.
async fn reserve_in_quota(p: &impl Platform, id: &str) -> Result<()> {
    let cmd = quota::Reserve {
        resource: quota::Resource::Apps,
        member: id.to_owned(),
        limit: p.config().quotas.max_apps.unwrap_or(u32::MAX),
        note: String::new(),
    };
    p.call(&quota::object(), cmd).await
}

/// Gives the app's place in the tenant's quota back. Asked whether or not a limit is set now
/// (an app counted under an earlier limit still frees its place); an uncounted app changes
/// nothing.
async fn release_from_quota(p: &impl Platform, id: &str) -> Result<()> {
    let cmd = quota::Release {
        resource: quota::Resource::Apps,
        member: id.to_owned(),
    };
    p.call(&quota::object(), cmd).await
}

/// Creates a checked app. `actor` names who did it in the audit log.
pub async fn create(
    p: &impl Platform,
    mut app: App,
    actor: &str,
    registration_token: bool,
) -> Result<Created> {
    check(p, &mut app)?;
    let id = app.client_id.clone();
    let secret = app.uses_secret().then(|| random_token(p, 24)).transpose()?;
    let registration_token = registration_token.then(|| random_token(p, 32)).transpose()?;
    reserve_in_quota(p, &id).await?;
    let owner_object = owner::object(&app.owner);
    let limit = p.config().max_apps_per_owner;
    let reserved = p
        .call(
            &owner_object,
            owner::Reserve {
                app_id: id.clone(),
                limit,
            },
        )
        .await;
    if let Err(e) = reserved {
        release_from_quota(p, &id).await.ok();
        return Err(e);
    }
    let record = AppRecord {
        app: app.clone(),
        secret_hash: secret.as_deref().map(sha256_hex),
        epoch: 0,
        registration_hash: registration_token.as_deref().map(sha256_hex),
        revision: 0,
    };
    if let Err(e) = p.call(&object::object(&id), object::Create { record }).await {
        p.call(&owner_object, owner::Release { app_id: id.clone() })
            .await
            .ok();
        release_from_quota(p, &id).await.ok();
        return Err(e);
    }
    p.put_app_meta(&app).await?;
    audit(p, actor, "app.create", &id);
    Ok(Created {
        app,
        secret,
        registration_token,
    })
}

/// Restores a checked app from a backup (`admin::backup`) as it was: its client id, secret and
/// registration token hashes, epoch. The same writes as [`create`], in its order, each given
/// back if a later one fails; the caller checked it with [`check`] and that the id is free.
pub async fn restore(p: &impl Platform, record: AppRecord) -> Result<()> {
    let id = record.app.client_id.clone();
    reserve_in_quota(p, &id).await?;
    let owner_object = owner::object(&record.app.owner);
    let reserved = p
        .call(&owner_object, owner::Reserve { app_id: id.clone(), limit: p.config().max_apps_per_owner })
        .await;
    if let Err(e) = reserved {
        release_from_quota(p, &id).await.ok();
        return Err(e);
    }
    let app = record.app.clone();
    if let Err(e) = p.call(&object::object(&id), object::Create { record }).await {
        p.call(&owner_object, owner::Release { app_id: id.clone() }).await.ok();
        release_from_quota(p, &id).await.ok();
        return Err(e);
    }
    p.put_app_meta(&app).await
}

/// The app as its Durable Object has it (not KV's possibly stale copy); deleted apps are 404.
pub async fn authoritative(p: &impl Platform, id: &str) -> Result<App> {
    if !valid_client_id(id) {
        return Err(Error::not_found("no such app"));
    }
    match p.call(&object::object(id), object::Get {}).await?.app {
        app if app.status != Status::Deleted => Ok(app),
        _ => Err(Error::not_found("no such app")),
    }
}

/// Stores checked metadata (keys, secret and epoch are not touched here).
/// Stores an edited app; `held`: its scopes before the edit (see [`check_keeping`]).
pub async fn update(p: &impl Platform, mut app: App, held: &[String], actor: &str) -> Result<App> {
    check_keeping(p, &mut app, held)?;
    let id = app.client_id.clone();
    let app = replicas::change(p, &id, |expect| object::Update { app: app.clone(), expect }).await?.app;
    p.put_app_meta(&app).await?;
    audit(p, actor, "app.update", &id);
    Ok(app)
}

/// Removes an app: its tokens die at once (new epoch), its slots under the owner and in the
/// tenant's quota are freed. The slots go first: both releases are idempotent, so a delete that
/// fails half-way is retried whole (the app is still found), whereas slots released after the
/// object was gone could never be given back.
pub async fn delete(p: &impl Platform, id: &str, actor: &str) -> Result<()> {
    let app = authoritative(p, id).await?;
    p.call(
        &owner::object(&app.owner),
        owner::Release {
            app_id: id.to_owned(),
        },
    )
    .await?;
    release_from_quota(p, id).await?;
    replicas::change(p, id, |expect| object::Delete { expect }).await?;
    p.delete_app_meta(id).await?;
    audit(p, actor, "app.delete", id);
    Ok(())
}

/// A new secret; every access and refresh token of the app dies at once.
pub async fn regenerate_secret(p: &impl Platform, id: &str, actor: &str) -> Result<String> {
    let app = authoritative(p, id).await?;
    if !app.uses_secret() {
        return Err(Error::invalid_request(
            "this client has no secret (its auth method is none or private_key_jwt)",
        ));
    }
    let secret = random_token(p, 24)?;
    let secret_hash = sha256_hex(&secret);
    replicas::change(p, id, |expect| object::RotateSecret { secret_hash: secret_hash.clone(), expect }).await?;
    audit(p, actor, "app.secret.regenerate", id);
    Ok(secret)
}

/// Key changes go through the app's object so racing edits cannot lose a key.
pub async fn add_key(p: &impl Platform, id: &str, jwk: serde_json::Value, actor: &str) -> Result<App> {
    authoritative(p, id).await?;
    let app = replicas::change(p, id, |expect| object::AddKey { jwk: jwk.clone(), expect }).await?.app;
    p.put_app_meta(&app).await?;
    audit(p, actor, "app.key.add", id);
    Ok(app)
}

pub async fn remove_key(p: &impl Platform, id: &str, kid: &str, actor: &str) -> Result<App> {
    authoritative(p, id).await?;
    if kid.is_empty() || kid.len() > 100 {
        return Err(Error::not_found("no such key"));
    }
    let app = replicas::change(p, id, |expect| object::RemoveKey { kid: kid.to_owned(), expect }).await?.app;
    p.put_app_meta(&app).await?;
    audit(p, actor, "app.key.remove", id);
    Ok(app)
}

/// One page of apps: an owner's (from the owner's object, exact) or everyone's (KV listing).
/// What a listing keeps: apps whose name holds `name` (case-insensitively), of `status`, that
/// may use `grant_type`. Empty: every app.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Filter {
    name: Option<String>,
    status: Option<Status>,
    grant_type: Option<crate::model::GrantType>,
}

impl Filter {
    pub fn parse(name: Option<&str>, status: Option<&str>, grant_type: Option<&str>) -> Result<Filter> {
        if name.is_some_and(|n| n.chars().count() > 100) {
            return Err(Error::invalid_request("name must be at most 100 characters"));
        }
        let status = match status {
            None => None,
            Some("active") => Some(Status::Active),
            Some("disabled") => Some(Status::Disabled),
            Some(_) => return Err(Error::invalid_request("status must be active or disabled")),
        };
        let grant_type = match grant_type {
            None => None,
            Some(g) => Some(crate::model::GrantType::parse(g).ok_or_else(|| Error::invalid_request("grant_type is not a grant type this server knows"))?),
        };
        Ok(Filter { name: name.map(str::to_lowercase), status, grant_type })
    }

    fn is_empty(&self) -> bool {
        *self == Filter::default()
    }

    pub fn keeps(&self, app: &App) -> bool {
        self.name.as_ref().is_none_or(|n| app.name.to_lowercase().contains(n.as_str()))
            && self.status.is_none_or(|s| app.status == s)
            && self.grant_type.is_none_or(|g| app.grant_types.iter().any(|t| t == g.as_str()))
    }
}

/// Apps a filtered listing looks at per request, at most: a filter that matches rarely
/// answers a short page with a cursor rather than reading the whole directory at once.
pub const SCAN_MAX: usize = 1000;

/// One page of apps (of `owner`, or all), kept by `filter`. Pages of ids are read no larger
/// than what is still wanted, so every id read is either answered or passed over, and the
/// cursor goes on after the last one read.
pub async fn list(
    p: &impl Platform,
    owner: Option<&str>,
    filter: &Filter,
    cursor: Option<&str>,
    limit: usize,
) -> Result<(Vec<App>, Option<String>)> {
    if let Some(owner) = owner {
        validate::owner(owner)?;
    }
    let mut apps = Vec::with_capacity(limit);
    let mut next = cursor.map(str::to_owned);
    let mut scanned = 0;
    loop {
        let want = limit.saturating_sub(apps.len()).max(1);
        let (ids, after) = match owner {
            Some(owner) => {
                let cmd = owner::List { after: next.clone(), limit: want };
                let page = p.call(&owner::object(owner), cmd).await?;
                (page.ids, page.next)
            }
            None => p.list_app_ids(next.as_deref(), want).await?,
        };
        scanned += ids.len();
        for id in &ids {
            if let Some(app) = p.app_meta(id).await? {
                if filter.keeps(&app) {
                    apps.push(app);
                }
            }
        }
        next = after;
        if filter.is_empty() || apps.len() >= limit || next.is_none() || scanned >= SCAN_MAX || ids.is_empty() {
            return Ok((apps, next));
        }
    }
}
