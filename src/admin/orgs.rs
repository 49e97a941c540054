//! `/admin/orgs`: the platform operator's HTTP surface over the registry of organisations
//! (`crate::objects::org`). Served only on the platform's own host (the default tenant) and only
//! with `ORG_DOMAIN` set; `routes` decides that.

use crate::error::{Error, ErrorCode, Result};
use crate::http::params::Params;
use crate::http::{Request, Response};
use crate::objects::org::{self, Branding, Operator, OrgRecord, OrgStatus, Policies, Quotas};
use crate::platform::{random_token, AppStore, DomainMap};
use crate::util::sha256_hex;
use crate::platform::Platform;
use crate::rules::{brand, fields, scope, tenant};
use serde::Deserialize;

/// What `POST /admin/orgs` (label and name required) and `PATCH /admin/orgs/{label}` (no
/// label) take; in a `PATCH` each section given replaces that section as a whole.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrgInput {
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    brand: Option<Branding>,
    #[serde(default)]
    quotas: Option<Quotas>,
    #[serde(default)]
    policies: Option<Policies>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DomainInput {
    domain: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OperatorInput {
    name: String,
}

/// The longest display name of an organisation.
const NAME_MAX: usize = 100;
/// The most scopes an organisation's catalogue holds.
const SCOPES_MAX: usize = 200;
/// The largest quota that can be set (apps, people, requests per minute).
const QUOTA_MAX: u32 = 10_000_000;

fn parse_json<T: serde::de::DeserializeOwned>(req: &Request, what: &str) -> Result<T> {
    if req.media_type().as_deref() != Some("application/json") {
        return Err(Error::new(ErrorCode::UnsupportedMediaType, "send application/json"));
    }
    serde_json::from_slice(&req.body).map_err(|e| {
        Error::invalid_request(format!(
            "invalid {what} JSON: {}",
            e.to_string().chars().take(200).collect::<String>()
        ))
    })
}

fn check_quotas(q: &Quotas) -> Result<()> {
    for (field, v) in [
        ("max_apps", q.max_apps),
        ("max_people", q.max_people),
        ("max_requests_per_minute", q.max_requests_per_minute),
    ] {
        if v.is_some_and(|v| v == 0 || v > QUOTA_MAX) {
            return Err(Error::invalid_request(format!(
                "quotas.{field} must be 1 to {QUOTA_MAX} (leave it out for no limit)"
            )));
        }
    }
    Ok(())
}

/// A scope list of a policy: RFC 6749 scope tokens, no duplicates, at most [`SCOPES_MAX`].
fn check_scope_list(field: &str, list: &[String]) -> Result<()> {
    if list.len() > SCOPES_MAX {
        return Err(Error::invalid_request(format!("policies.{field} holds at most {SCOPES_MAX} scopes")));
    }
    for s in list {
        let parsed = scope::parse(s).map_err(|_| Error::invalid_request(format!("policies.{field}: '{s}' is not a scope token")))?;
        if parsed.len() != 1 || parsed.first() != Some(s) {
            return Err(Error::invalid_request(format!("policies.{field}: '{s}' is not one scope token")));
        }
    }
    if list.iter().enumerate().any(|(i, s)| list.iter().skip(i + 1).any(|t| t == s)) {
        return Err(Error::invalid_request(format!("policies.{field} lists a scope twice")));
    }
    Ok(())
}

/// The brand's name, colour (`#rgb`/`#rrggbb`), logo, terms and privacy links (`https:`) and
/// support email, each checked as the
/// pages check them again when rendering.
fn check_brand(b: &Branding) -> Result<()> {
    if let Some(n) = &b.name {
        brand::name(n)?;
    }
    if let Some(c) = &b.color {
        brand::color(c)?;
    }
    if let Some(u) = &b.logo_url {
        brand::logo_url(u)?;
    }
    if let Some(u) = &b.terms_url {
        brand::link_url("brand.terms_url", u)?;
    }
    if let Some(u) = &b.privacy_url {
        brand::link_url("brand.privacy_url", u)?;
    }
    if let Some(e) = &b.support_email {
        brand::support_email(e)?;
    }
    Ok(())
}

/// Policies must be coherent with the catalogue they end up with (`base` when not set).
fn check_policies(pol: &Policies, base: &[String]) -> Result<()> {
    if let Some(p) = &pol.registration_policy {
        if !matches!(p.as_str(), "open" | "token" | "off") {
            return Err(Error::invalid_request("policies.registration_policy must be open, token or off"));
        }
    }
    if let Some(list) = &pol.scopes {
        check_scope_list("scopes", list)?;
    }
    let catalogue = pol.scopes.as_deref().unwrap_or(base);
    if let Some(list) = &pol.self_service_scopes {
        check_scope_list("self_service_scopes", list)?;
        scope::check_catalogue(list, catalogue)
            .map_err(|e| Error::invalid_request(format!("policies.self_service_scopes: {}", e.description)))?;
    }
    Ok(())
}

fn check_label(label: &str) -> Result<()> {
    if tenant::is_label(label) {
        Ok(())
    } else {
        Err(Error::invalid_request(
            "label must be one DNS label: 1-63 of a-z, 0-9 and '-', not starting or ending with '-', not 'xn--'",
        ))
    }
}

fn view(r: &OrgRecord) -> serde_json::Value {
    serde_json::to_value(r).unwrap_or_default()
}

/// Parses and checks an organisation's fields; names and brand names come back trimmed.
fn org_input(p: &impl Platform, req: &Request) -> Result<OrgInput> {
    let mut input: OrgInput = parse_json(req, "organisation")?;
    if let Some(n) = &input.name {
        fields::name("name", n, NAME_MAX)?;
        input.name = Some(n.trim().to_owned());
    }
    if let Some(q) = &input.quotas {
        check_quotas(q)?;
    }
    if let Some(pol) = &input.policies {
        check_policies(pol, &p.config().scopes)?;
    }
    if let Some(b) = &mut input.brand {
        check_brand(b)?;
        b.name = b.name.as_ref().map(|n| n.trim().to_owned());
    }
    Ok(input)
}

pub async fn create(p: &impl Platform, req: &Request) -> Result<Response> {
    let input = org_input(p, req)?;
    let (Some(label), Some(name)) = (input.label, input.name) else {
        return Err(Error::invalid_request("an organisation needs a label and a name"));
    };
    check_label(&label)?;
    let record = OrgRecord {
        label: label.clone(),
        name,
        status: OrgStatus::Active,
        created_at: p.now(),
        quotas: input.quotas.unwrap_or_default(),
        policies: input.policies.unwrap_or_default(),
        brand: input.brand.unwrap_or_default(),
        domains: Vec::new(),
        erased_at: None,
        version: 0,
    };
    // The index first (idempotent), so every recorded organisation is listed.
    p.call(&org::index(), org::IndexAdd { label: label.clone() }).await?;
    let record = p.call(&org::object(&label), org::Create { record }).await?;
    Ok(Response::json(201, &view(&record)).no_store())
}

/// The organisation's record, deleted ones included; 404 when there is none.
async fn record(p: &impl Platform, label: &str) -> Result<OrgRecord> {
    check_label(label)?;
    p.call(&org::object(label), org::Get {})
        .await?
        .ok_or_else(|| Error::not_found("no such organisation"))
}

pub async fn get(p: &impl Platform, label: &str) -> Result<Response> {
    Ok(Response::json(200, &view(&record(p, label).await?)).no_store())
}

pub async fn list(p: &impl Platform, req: &Request) -> Result<Response> {
    let q = Params::from_query(req)?;
    let limit = super::page_limit(&q)?;
    let cursor = q.get("cursor");
    if let Some(c) = cursor {
        check_label(c).map_err(|_| Error::invalid_request("cursor is not one of ours"))?;
    }
    let page = p
        .call(&org::index(), org::IndexList { after: cursor.map(str::to_owned), limit })
        .await?;
    let mut orgs = Vec::with_capacity(page.labels.len());
    for label in &page.labels {
        // A label indexed by a creation that then failed has no record: not an organisation.
        if let Some(r) = p.call(&org::object(label), org::Get {}).await? {
            orgs.push(view(&r));
        }
    }
    Ok(Response::json(200, &serde_json::json!({"orgs": orgs, "next_cursor": page.next})).no_store())
}

/// Checks a `PATCH /admin/orgs/{label}` body without applying it (a backup's dry run).
pub fn check_update(p: &impl Platform, req: &Request) -> Result<()> {
    org_input(p, req).map(|_| ())
}

/// `PATCH /admin/orgs/{label}`: the name, quotas, policies and brand (each section as a whole).
pub async fn update(p: &impl Platform, label: &str, req: &Request) -> Result<Response> {
    check_label(label)?;
    let change = org_input(p, req)?;
    if change.label.is_some() {
        return Err(Error::invalid_request("an organisation's label cannot change"));
    }
    let cmd = org::Update {
        name: change.name,
        quotas: change.quotas,
        policies: change.policies,
        brand: change.brand,
    };
    let r = p.call(&org::object(label), cmd).await?;
    Ok(Response::json(200, &view(&r)).no_store())
}

/// `POST /admin/orgs/{label}/keys` (or `/admin/keys` on the organisation's own host): a new
/// signing key for the organisation; tokens signed by the previous ones keep verifying.
pub async fn rotate_keys(p: &impl Platform, label: &str, _actor: &str) -> Result<Response> {
    check_label(label)?;
    let kids = crate::tenancy::rotate_keys(p, label).await?;
    Ok(Response::json(200, &serde_json::json!({"signing_kid": kids.first(), "kids": kids})).no_store())
}

/// `POST /admin/orgs/{label}/operators`: a new operator of the organisation. Its token is
/// shown once, here; only its SHA-256 is kept.
pub async fn add_operator(p: &impl Platform, label: &str, req: &Request) -> Result<Response> {
    check_label(label)?;
    let input: OperatorInput = parse_json(req, "operator")?;
    fields::name("name", &input.name, NAME_MAX)?;
    let token = random_token(p, 32)?;
    let operator = Operator {
        id: random_token(p, 12)?,
        name: input.name.trim().to_owned(),
        created_at: p.now(),
        token_sha256: sha256_hex(&token),
    };
    let view = serde_json::json!({"id": operator.id, "name": operator.name, "created_at": operator.created_at, "token": token});
    p.call(&org::object(label), org::AddOperator { operator }).await?;
    Ok(Response::json(201, &view).no_store())
}

pub async fn list_operators(p: &impl Platform, label: &str) -> Result<Response> {
    check_label(label)?;
    let operators = p.call(&org::object(label), org::ListOperators {}).await?;
    Ok(Response::json(200, &serde_json::json!({"operators": operators})).no_store())
}

pub async fn remove_operator(p: &impl Platform, label: &str, id: &str) -> Result<Response> {
    check_label(label)?;
    if id.is_empty() || id.len() > 64 {
        return Err(Error::not_found("no such operator"));
    }
    p.call(&org::object(label), org::RemoveOperator { id: id.to_owned() }).await?;
    Ok(Response::empty(204))
}

fn check_domain(p: &impl Platform, host: &str) -> Result<String> {
    let org_domain = p.config().org_domain.as_deref().unwrap_or_default();
    tenant::custom_domain(org_domain, host).ok_or_else(|| {
        Error::invalid_request(
            "domain must be a host name of two or more DNS labels (a-z, 0-9, '-'; no punycode, no IP address, no port), outside ORG_DOMAIN",
        )
    })
}

/// `POST /admin/orgs/{label}/domains`: `{"domain": "login.acme.com"}` serves the organisation at
/// that host too (point its DNS, or a Cloudflare for SaaS custom hostname, at this worker).
/// Claimed atomically: one organisation per domain.
pub async fn add_domain(p: &(impl Platform + DomainMap), label: &str, req: &Request) -> Result<Response> {
    check_label(label)?;
    let input: DomainInput = parse_json(req, "domain")?;
    let host = check_domain(p, &input.domain)?;
    p.call(&org::domain(&host), org::Claim { label: label.to_owned() }).await?;
    let record = match p.call(&org::object(label), org::AddDomain { host: host.clone() }).await {
        Ok(r) => r,
        Err(e) => {
            p.call(&org::domain(&host), org::Release { label: label.to_owned() }).await?;
            return Err(e);
        }
    };
    p.put_domain(&host, label).await?;
    Ok(Response::json(201, &view(&record)).no_store())
}

/// `DELETE /admin/orgs/{label}/domains/{host}`: the host stops serving the organisation at once
/// (its record no longer lists it) and is free for another.
pub async fn remove_domain(p: &(impl Platform + DomainMap), label: &str, host: &str) -> Result<Response> {
    check_label(label)?;
    let host = check_domain(p, host).map_err(|_| Error::not_found("no such domain for this organisation"))?;
    p.call(&org::object(label), org::RemoveDomain { host: host.clone() }).await?;
    release_domain(p, label, &host).await?;
    Ok(Response::empty(204))
}

async fn release_domain(p: &(impl Platform + DomainMap), label: &str, host: &str) -> Result<()> {
    if p.domain_org(host).await?.as_deref() == Some(label) {
        p.delete_domain(host).await?;
    }
    p.call(&org::domain(host), org::Release { label: label.to_owned() }).await
}

pub async fn set_status(p: &(impl Platform + AppStore + DomainMap), label: &str, action: &str) -> Result<Response> {
    check_label(label)?;
    let o = org::object(label);
    let r = match action {
        "suspend" => p.call(&o, org::Suspend {}).await?,
        "resume" => p.call(&o, org::Resume {}).await?,
        _ => p.call(&o, org::Delete {}).await?,
    };
    if action == "delete" {
        // A deleted organisation's domains are free again at once.
        for host in &r.domains {
            release_domain(p, label, host).await?;
        }
    }
    if action == "delete" {
        // Its data goes now; a large organisation's in several passes (202 until done).
        return erase(p, label).await;
    }
    Ok(Response::json(200, &view(&r)).no_store())
}

/// `POST /admin/orgs/{label}/erase`: one more pass of erasing a deleted organisation's data.
/// 204 when nothing is left; 202 with `{"done": false}` when another pass is needed.
pub async fn erase(p: &(impl Platform + AppStore), label: &str) -> Result<Response> {
    check_label(label)?;
    let r = record(p, label).await?;
    if r.status != OrgStatus::Deleted {
        return Err(Error::invalid_request("only a deleted organisation's data is erased"));
    }
    let pass = crate::tenancy::erase(p, label).await?;
    if pass.done {
        return Ok(Response::empty(204));
    }
    let body = serde_json::json!({"done": false, "objects_erased": pass.objects, "next": format!("POST /admin/orgs/{label}/erase")});
    Ok(Response::json(202, &body).no_store())
}
