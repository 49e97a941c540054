//! `grant_type=refresh_token` (RFC 6749 §6): rotation on every use; a rotated-out token coming
//! back revokes the whole grant (RFC 9700 §4.14.2). Scope may narrow, never widen.

use super::{granted, person_tokens, presented};
use crate::http::params::Params;
use crate::http::Response;
use crate::oauth::client_auth::Authenticated;
use crate::error::Result;
use crate::rules::scope;
use crate::oauth::endpoint::Endpoint;
use crate::platform::random_token;
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
    let token = presented(params, "refresh_token", "the refresh token is invalid or expired")?;
    let scopes = match params.get("scope") {
        Some(s) => Some(scope::parse(s)?).filter(|v| !v.is_empty()),
        None => None,
    };
    let next = random_token(p, 32)?;
    // Rotation and reuse detection happen inside the app's object: objects/grants.rs `Refresh`.
    let cmd = grants::Refresh {
        refresh_hash: sha256_hex(token),
        new_refresh_hash: sha256_hex(&next),
        refresh_ttl: p.config().refresh_token_ttl as i64,
        scopes,
    };
    let granted = granted(p, &app, cmd).await?;
    person_tokens(p, ep, &app, &granted, next, true).await
}
