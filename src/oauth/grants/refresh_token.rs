//! `grant_type=refresh_token` (RFC 6749 §6): rotation on every use; a rotated-out token coming
//! back revokes the whole grant (RFC 9700 §4.14.2). Scope may narrow, never widen.

use super::{grant_of, granted, new_refresh, person_tokens, presented};
use crate::http::params::Params;
use crate::http::Response;
use crate::oauth::client_auth::Authenticated;
use crate::error::Result;
use crate::rules::scope;
use crate::oauth::endpoint::Endpoint;
use crate::objects::grants;
use crate::platform::Platform;
use crate::util::sha256_hex;

pub async fn handle(
    p: &impl Platform,
    ep: &Endpoint,
    params: &Params,
    client: Authenticated,
) -> Result<Response> {
    let app = client.app;
    const REFUSED: &str = "the refresh token is invalid or expired";
    let token = presented(params, "refresh_token", REFUSED)?;
    let (gid, grant) = grant_of(token, REFUSED)?;
    let scopes = match params.get("scope") {
        Some(s) => Some(scope::parse(s)?).filter(|v| !v.is_empty()),
        None => None,
    };
    let next = new_refresh(p, &gid)?;
    // Rotation and reuse detection happen inside the grant's object: objects/grants.rs `Refresh`,
    // under the epoch the client just authenticated under.
    let cmd = grants::Refresh {
        client_id: app.client_id.clone(),
        epoch: client.epoch,
        refresh_hash: sha256_hex(token),
        new_refresh_hash: sha256_hex(&next),
        refresh_ttl: p.config().refresh_token_ttl as i64,
        scopes,
    };
    let granted = granted(p, &grant, cmd).await.inspect_err(|e| {
        if e.description == grants::REFRESH_REUSED {
            use crate::objects::audit::{Event, EventType, Outcome};
            let id = &app.client_id;
            p.record(Event::new(EventType::RefreshReuse, format!("app:{id}"), Outcome::Refused).app(id.clone()));
        }
    })?;
    person_tokens(p, ep, &app, &granted, next, true).await
}
