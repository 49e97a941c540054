//! `grant_type=password` (RFC 6749 §4.3), only for apps an operator allowed to use it, under
//! the same failed-attempt limits as the log-in page.

use super::{granted, new_gid, new_grant, person_tokens};
use crate::accounts;
use crate::http::params::Params;
use crate::http::{Request, Response};
use crate::oauth::client_auth::Authenticated;
use crate::error::{Error, ErrorCode, Result};
use crate::oauth::endpoint::Endpoint;
use crate::oauth::resource;
use crate::rules::scope;
use crate::objects::grants;
use crate::platform::Platform;

pub async fn handle(
    p: &impl Platform,
    ep: &Endpoint,
    req: &Request,
    params: &Params,
    client: Authenticated,
) -> Result<Response> {
    let app = client.app;
    let username = params.require("username")?;
    let password = params.require("password")?;
    let scopes = match params.get("scope") {
        Some(s) if !s.trim().is_empty() => scope::resolve(Some(s), &scope::live(&app.scopes, &p.config().scopes), &[])?,
        _ => scope::person_default(&app)?,
    };
    let aud = resource::audience(p, &ep.issuer, params.get("resource"))?;
    let profile = accounts::log_in(p, req, username, password)
        .await
        .map_err(|e| match e.code {
            ErrorCode::AccessDenied => Error::invalid_grant("the username or password is wrong"),
            _ => e,
        })?;
    // No second step is possible here: people with a second factor use the pages.
    accounts::two_factor::refuse_without_second_step(p, &profile.id).await?;
    let gid = new_gid(p)?;
    let (new, refresh) = new_grant(p, &gid)?;
    let cmd = grants::CreateGrant {
        client_id: app.client_id.clone(),
        epoch: client.epoch,
        user_id: profile.id,
        scopes,
        aud,
        new,
    };
    let granted = granted(p, &grants::object(&gid), cmd).await?;
    person_tokens(p, ep, &app, &granted, refresh, false).await
}
