//! Serving an organisation: whether its host is served (its registry object's [`org::Admit`],
//! one call per request), and the state an isolate serves it with: the deployment's
//! configuration with the organisation's policies, quotas, brand and operators laid over it
//! ([`config_for`]), and its own signing keys, made on first use ([`org::OfferKey`]) and
//! rotated by its operators ([`rotate_keys`]).

use crate::config::{AccessTokenAlg, Brand, Config, TenantQuotas};
use crate::crypto::keys::{self, KeyProblem, SigningKeys};
use crate::error::{Error, ErrorCode, Result};
use crate::objects::org::{self, OrgRecord, OrgStatus, Snapshot};
use crate::objects::erase::{any, Erase};
use crate::objects::{app, issuer, owner, quota, user, account, Kind, Name};
use crate::platform::tenant::{Scoped, TenantState};
use crate::platform::{AppStore, Directory, Objects, Platform};
use std::rc::Rc;

/// The answer to a host that names no organisation (also an unknown or deleted one).
pub fn no_tenant() -> Error {
    Error::page(
        ErrorCode::NotFound,
        "No organisation at this address",
        "No organisation is served at this address. Check the address you were given.",
    )
}

/// Admits one request to the organisation `label` and answers the state to serve it with:
/// 404 when there is no such organisation (or it was deleted), 403 when it is suspended, 429
/// when its requests for this minute are used up.
pub async fn admit(p: &impl Platform, label: &str) -> Result<Rc<TenantState>> {
    let held = p.tenants().get(label);
    let known = held.as_ref().map(|s| s.version);
    let a = p.call(&org::object(label), org::Admit { known }).await?;
    match a.status {
        Some(OrgStatus::Active) => {}
        Some(OrgStatus::Suspended) => {
            return Err(Error::page(
                ErrorCode::AccessDenied,
                "Organisation suspended",
                "this organisation is suspended",
            ))
        }
        _ => return Err(no_tenant()),
    }
    if let Some(after) = a.retry_after {
        return Err(Error::page(
            ErrorCode::RateLimited,
            "Too many requests",
            "this organisation's requests for this minute are used up; try again shortly",
        )
        .with_header("retry-after", after.to_string()));
    }
    match (a.snapshot, held) {
        (Some(snapshot), _) => state(p, label, snapshot).await,
        (None, Some(held)) => Ok(held),
        (None, None) => Err(Error::server("the organisation object sent no state")),
    }
}

/// A new key set entry (PKCS#8 PEM blocks): a key of the kind that signs `alg`, and with EdDSA
/// an RSA key beside it, since ID tokens are RS256 (OpenID Connect's mandatory algorithm).
fn fresh_keys(alg: AccessTokenAlg) -> Result<String> {
    let mut pem = keys::generate_pem_for(alg)?;
    if alg != AccessTokenAlg::Rs256 {
        pem.push('\n');
        pem.push_str(&keys::generate_pem()?);
    }
    Ok(pem)
}

/// Parses a snapshot into the state an isolate serves with (keys made first if there are
/// none) and keeps it for the next request.
async fn state(p: &impl Platform, label: &str, mut snapshot: Snapshot) -> Result<Rc<TenantState>> {
    let alg = p.config().access_token_alg;
    if snapshot.keys.is_empty() {
        snapshot = p.call(&org::object(label), org::OfferKey { pem: fresh_keys(alg)? }).await?;
    }
    let keys = match SigningKeys::from_pems_for(&snapshot.keys.join("\n"), alg, false) {
        // ACCESS_TOKEN_ALG changed since the keys were made: a key of the new kind signs, the
        // old ones still verify.
        Err(KeyProblem::NoKeyFor(_)) => {
            let cmd = org::RotateKey { pem: fresh_keys(alg)?, if_version: Some(snapshot.record.version) };
            snapshot = p.call(&org::object(label), cmd).await?;
            SigningKeys::from_pems_for(&snapshot.keys.join("\n"), alg, false)?
        }
        other => other?,
    };
    let state = Rc::new(TenantState {
        version: snapshot.record.version,
        config: config_for(p.config(), &snapshot.record, &snapshot.operator_hashes),
        keys,
        domains: snapshot.record.domains.clone(),
    });
    p.tenants().put(label, state.clone());
    Ok(state)
}

/// The organisation's configuration: the deployment's, with what its record sets laid over.
/// The deployment's `INITIAL_ACCESS_TOKEN` is not an organisation's; its operators' tokens are
/// (`operator_token_hashes`). `ADMIN_TOKEN`, the platform operator's, works everywhere. The
/// gateway's routes are the deployment's and serve every tenant; the origin tells tenants
/// apart by `x-auth-issuer` (docs/DESIGN.md, Gateway).
pub fn config_for(base: &Config, r: &OrgRecord, operator_hashes: &[String]) -> Config {
    let mut c = base.clone();
    let pol = &r.policies;
    if let Some(v) = &pol.scopes {
        c.scopes = v.clone();
    }
    if let Some(v) = &pol.self_service_scopes {
        c.self_service_scopes = v.clone();
    }
    if let Some(v) = &pol.registration_policy {
        c.registration_policy = v.clone();
    }
    if let Some(v) = pol.public_client_registration {
        c.public_client_registration = v;
    }
    if let Some(v) = pol.password_grant {
        c.password_grant = v;
    }
    c.quotas = TenantQuotas {
        max_apps: r.quotas.max_apps,
        max_people: r.quotas.max_people,
        max_requests_per_minute: r.quotas.max_requests_per_minute,
    };
    c.brand = Brand {
        name: r.brand.name.clone().unwrap_or_else(|| r.name.clone()),
        color: r.brand.color.clone(),
        logo_url: r.brand.logo_url.clone(),
        terms_url: r.brand.terms_url.clone(),
        privacy_url: r.brand.privacy_url.clone(),
        support_email: r.brand.support_email.clone(),
    };
    c.initial_access_token = None;
    c.operator_token_hashes = operator_hashes.to_vec();
    c.pairwise_context = r.label.clone();
    c
}

/// Makes a new signing key for the organisation `label`; the previous ones keep verifying
/// (up to [`org::KEYS_KEPT`]). Answers the kids of the key set, the signing one first.
pub async fn rotate_keys(p: &impl Platform, label: &str) -> Result<Vec<String>> {
    let alg = p.config().access_token_alg;
    let cmd = org::RotateKey { pem: fresh_keys(alg)?, if_version: None };
    let snapshot = p.call(&org::object(label), cmd).await?;
    let keys = SigningKeys::from_pems_for(&snapshot.keys.join("\n"), alg, false)?;
    Ok(keys.kids())
}

async fn wipe<K: Kind>(p: &impl Platform, name: &Name<K>, calls: &mut u32, objects: &mut u32) -> Result<()> {
    p.call(&any(name), Erase {}).await?;
    *calls += 1;
    *objects += 1;
    Ok(())
}

/// One app: its owner's object (the owner named by the app's own object), its object, its
/// directory entry.
async fn erase_app(p: &impl Platform, id: &str, calls: &mut u32, objects: &mut u32) -> Result<()> {
    let found = p.call(&app::object(id), app::Get {}).await;
    *calls += 1;
    match found {
        Ok(c) => wipe(p, &owner::object(&c.app.owner), calls, objects).await?,
        Err(e) if e.code == ErrorCode::NotFound => {}
        Err(e) => return Err(e),
    }
    for replica in crate::apps::replicas::replica_names(id) {
        wipe(p, &replica, calls, objects).await?;
    }
    wipe(p, &app::object(id), calls, objects).await?;
    p.delete_app_meta(id).await
}

/// Object calls one erasure pass may make (a Worker request has a budget of subrequests).
pub const ERASE_BUDGET: u32 = 400;

/// How far an erasure pass got.
pub struct Erased {
    /// Objects erased in this pass.
    pub objects: u32,
    /// Nothing of the organisation is left but what expires by itself.
    pub done: bool,
}

/// Erases a deleted organisation's data, under its own names (the platform bound to it, so
/// nothing of another tenant can be reached): each app's object (its record, secrets' hashes,
/// codes, grants, refresh tokens) and owner object and directory entry (the quota object lists
/// every app, then one sweep of the directory finds any it did not count); each person's account
/// and profile (found in the tenant's quota object, which counts every person); then the quota
/// and development key objects. At most [`ERASE_BUDGET`] object calls per pass; call again
/// until `done`. Sessions and attempt counters are left to expire (at most `SESSION_TTL`), and so
/// are emailed links (`ticket:`, at most `MAIL_TOKEN_TTL`) and mail counters: they name only
/// people whose profile is gone, on a host that answers 404. The development outbox is wiped.
pub async fn erase<P: Platform + AppStore>(deployment: &P, label: &str) -> Result<Erased> {
    let p = Scoped::erasing(deployment, label.to_owned());
    let mut calls: u32 = 0;
    let mut objects: u32 = 0;
    // Apps: the quota object lists every app (consistent, unlike a KV listing); each app's
    // owner comes from its own object. The list shrinks as apps are released.
    while calls < ERASE_BUDGET {
        let page_cmd = quota::Members { resource: quota::Resource::Apps, after: None, limit: 50 };
        let page = p.call(&quota::object(), page_cmd).await?;
        calls += 1;
        if page.members.is_empty() {
            break;
        }
        for (id, _) in page.members {
            if calls >= ERASE_BUDGET {
                break;
            }
            erase_app(&p, &id, &mut calls, &mut objects).await?;
            let release = quota::Release { resource: quota::Resource::Apps, member: id };
            p.call(&quota::object(), release).await?;
            calls += 1;
        }
    }
    // Then one sweep of the directory by cursor, for apps the quota never counted (made before
    // it counted every app). KV listings may lag: an entry already erased is erased again.
    let mut cursor: Option<String> = None;
    while calls < ERASE_BUDGET {
        let (ids, next) = p.list_app_ids(cursor.as_deref(), 50).await?;
        for id in ids {
            if calls >= ERASE_BUDGET {
                break;
            }
            erase_app(&p, &id, &mut calls, &mut objects).await?;
        }
        match next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    // People: the quota object lists every one with their email.
    while calls < ERASE_BUDGET {
        let page_cmd = quota::Members { resource: quota::Resource::People, after: None, limit: 50 };
        let page = p.call(&quota::object(), page_cmd).await?;
        calls += 1;
        if page.members.is_empty() {
            break;
        }
        for (user_id, email) in page.members {
            if calls >= ERASE_BUDGET {
                break;
            }
            wipe(&p, &user::object(&user_id), &mut calls, &mut objects).await?;
            // Their passkeys (public keys and counters: no secret, but theirs).
            wipe(&p, &crate::objects::passkey::object(&user_id), &mut calls, &mut objects).await?;
            // The second factor's secret goes with the person (it is not a hash).
            wipe(&p, &crate::objects::totp::object(&user_id), &mut calls, &mut objects).await?;
            if !email.is_empty() {
                wipe(&p, &account::object(&email), &mut calls, &mut objects).await?;
            }
            let release = quota::Release { resource: quota::Resource::People, member: user_id };
            p.call(&quota::object(), release).await?;
            calls += 1;
        }
    }
    if calls >= ERASE_BUDGET {
        return Ok(Erased { objects, done: false });
    }
    // Audit events (people's ids and addresses among them): every day object the days index
    // lists, oldest first, forgotten from the index as they go (a pass out of budget resumes
    // where it stopped), then the index itself.
    {
        use crate::objects::audit;
        let list = audit::Days { from: 0, to: i64::MAX, limit: 4000 };
        let mut days = p.call(&audit::days_object(), list).await?;
        calls += 1;
        days.sort_unstable();
        let newest = days.last().copied();
        let mut wiped = None;
        for d in &days {
            if calls.saturating_add(2) >= ERASE_BUDGET {
                break;
            }
            wipe(&p, &audit::day_object(*d), &mut calls, &mut objects).await?;
            wiped = Some(*d);
        }
        if wiped != newest {
            if let (Some(n), Some(w)) = (newest, wiped) {
                p.call(&audit::days_object(), audit::NoteDay { day: n, oldest: w.saturating_add(1) }).await?;
            }
            return Ok(Erased { objects, done: false });
        }
        wipe(&p, &audit::days_object(), &mut calls, &mut objects).await?;
    }
    wipe(&p, &quota::object(), &mut calls, &mut objects).await?;
    wipe(&p, &issuer::rsa(), &mut calls, &mut objects).await?;
    wipe(&p, &issuer::ed25519(), &mut calls, &mut objects).await?;
    wipe(&p, &crate::objects::outbox::object(), &mut calls, &mut objects).await?;
    deployment.call(&org::object(label), org::MarkErased {}).await?;
    Ok(Erased { objects, done: true })
}
