//! `/admin/operators`: the console's operator accounts of this tenant (`accounts::operators`).
//! Listing needs `ViewOperators`, every change `ManageOperators` (owners; a bearer operator token
//! is an owner), decided by `routes` through `rules::operator_roles`. Creating the first one
//! with `ADMIN_TOKEN` bootstraps the console's owner.

use crate::accounts::operators;
use crate::error::{Error, ErrorCode, Result};
use crate::http::{Request, Response};
use crate::objects::operator::OperatorAccount;
use crate::platform::Platform;
use crate::rules::operator_roles::Role;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewOperator {
    email: String,
    name: String,
    role: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleChange {
    role: String,
}

fn parse<T: serde::de::DeserializeOwned>(req: &Request) -> Result<T> {
    if req.media_type().as_deref() != Some("application/json") {
        return Err(Error::new(ErrorCode::UnsupportedMediaType, "send application/json"));
    }
    serde_json::from_slice(&req.body).map_err(|e| {
        Error::invalid_request(format!(
            "invalid operator JSON: {}",
            e.to_string().chars().take(200).collect::<String>()
        ))
    })
}

fn role(s: &str) -> Result<Role> {
    Role::parse(s).ok_or_else(|| Error::invalid_request("role must be owner, admin or read_only"))
}

fn view(a: &OperatorAccount) -> serde_json::Value {
    serde_json::json!({"id": a.id, "email": a.email, "name": a.name, "role": a.role, "created_at": a.created_at})
}

pub async fn list(p: &impl Platform) -> Result<Response> {
    let list: Vec<_> = operators::list(p).await?.iter().map(view).collect();
    Ok(Response::json(200, &serde_json::json!({"operators": list})).no_store())
}

pub async fn create(p: &impl Platform, actor: &str, req: &Request) -> Result<Response> {
    let input: NewOperator = parse(req)?;
    let role = role(&input.role)?;
    let a = operators::add(p, actor, &input.email, &input.name, role, &input.password).await?;
    Ok(Response::json(201, &view(&a)).no_store().header("location", format!("/admin/operators/{}", a.id)))
}

pub async fn get(p: &impl Platform, id: &str) -> Result<Response> {
    Ok(Response::json(200, &view(&operators::get(p, id).await?)).no_store())
}

pub async fn update(p: &impl Platform, actor: &str, id: &str, req: &Request) -> Result<Response> {
    let input: RoleChange = parse(req)?;
    let a = operators::set_role(p, actor, id, role(&input.role)?).await?;
    Ok(Response::json(200, &view(&a)).no_store())
}

pub async fn remove(p: &impl Platform, actor: &str, id: &str) -> Result<Response> {
    operators::remove(p, actor, id).await?;
    Ok(Response::empty(204))
}
