//! `/admin/orgs`: the platform operator's HTTP surface over the registry of organisations
//! (`crate::objects::org`). Served only on the platform's own host (the default tenant) and only
//! with `ORG_DOMAIN` set; `routes` decides that.

use crate::error::{Error, ErrorCode, Result};
use crate::http::params::Params;
use crate::http::{Request, Response};
use crate::objects::org::{self, OrgRecord, OrgStatus, Quotas};
use crate::platform::Platform;
use crate::rules::{fields, tenant};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrgInput {
    label: String,
    name: String,
}

/// The longest display name of an organisation.
const NAME_MAX: usize = 100;

fn parse_input(req: &Request) -> Result<OrgInput> {
    if req.media_type().as_deref() != Some("application/json") {
        return Err(Error::new(ErrorCode::UnsupportedMediaType, "send application/json"));
    }
    serde_json::from_slice(&req.body).map_err(|e| {
        Error::invalid_request(format!(
            "invalid organisation JSON: {}",
            e.to_string().chars().take(200).collect::<String>()
        ))
    })
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

pub async fn create(p: &impl Platform, req: &Request) -> Result<Response> {
    let input = parse_input(req)?;
    check_label(&input.label)?;
    fields::name("name", &input.name, NAME_MAX)?;
    let record = OrgRecord {
        label: input.label.clone(),
        name: input.name.trim().to_owned(),
        status: OrgStatus::Active,
        created_at: p.now(),
        quotas: Quotas {
            max_apps: p.config().max_apps_per_owner,
        },
    };
    // The index first (idempotent), so every recorded organisation is listed.
    p.call(&org::index(), org::IndexAdd { label: input.label.clone() }).await?;
    let record = p.call(&org::object(&input.label), org::Create { record }).await?;
    p.audit(&serde_json::json!({"audit": "org_create", "actor": "admin", "org": record.label, "at": p.now()}));
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

pub async fn set_status(p: &impl Platform, label: &str, action: &str) -> Result<Response> {
    check_label(label)?;
    let o = org::object(label);
    let r = match action {
        "suspend" => p.call(&o, org::Suspend {}).await?,
        "resume" => p.call(&o, org::Resume {}).await?,
        _ => p.call(&o, org::Delete {}).await?,
    };
    p.audit(&serde_json::json!({"audit": format!("org_{action}"), "actor": "admin", "org": r.label, "at": p.now()}));
    if action == "delete" {
        return Ok(Response::empty(204));
    }
    Ok(Response::json(200, &view(&r)).no_store())
}
