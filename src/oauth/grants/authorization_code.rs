//! `grant_type=authorization_code` (RFC 6749 §4.1.3, PKCE RFC 7636 §4.5). Redemption, the
//! redirect-URI and PKCE checks and replay revocation all happen atomically in the object of the
//! grant the code names (`<gid>.<secret>`; `objects/grants.rs`, `RedeemCode`).

use super::{grant_of, granted, new_grant, person_tokens, presented};
use crate::http::params::Params;
use crate::http::Response;
use crate::oauth::client_auth::Authenticated;
use crate::error::Result;
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
    const REFUSED: &str = "the authorization code is invalid or expired";
    let code = presented(params, "code", REFUSED)?;
    let (gid, grant) = grant_of(code, REFUSED)?;
    let (new, refresh) = new_grant(p, &gid)?;
    // Single use, redirect URI and PKCE are checked inside the grant's object: objects/grants.rs
    // `RedeemCode`, under the epoch the client just authenticated under.
    let cmd = grants::RedeemCode {
        client_id: app.client_id.clone(),
        epoch: client.epoch,
        code_hash: sha256_hex(code),
        redirect_uri: params.get("redirect_uri").map(str::to_owned),
        verifier: params.get("code_verifier").map(str::to_owned),
        new,
    };
    let granted = granted(p, &grant, cmd).await.inspect_err(|e| {
        if e.description == grants::CODE_REPLAYED {
            use crate::objects::audit::{Event, EventType, Outcome};
            let id = &app.client_id;
            p.record(Event::new(EventType::CodeReplay, format!("app:{id}"), Outcome::Refused).app(id.clone()));
        }
    })?;
    let resp = person_tokens(p, ep, &app, &granted, refresh, false).await?;
    // Back-Channel Logout: the session's `sid` remembers the app that got an ID token.
    // (An ID token is issued exactly when `openid` is among the scopes minted: `id_token::mint`.)
    let minted = crate::rules::scope::within(&granted.scopes, &crate::rules::scope::allowed_for(&app, &p.config().scopes));
    let id_token_issued = minted.iter().any(|s| s == "openid");
    crate::oauth::logout_token::remember(p, &app, &granted, id_token_issued).await;
    Ok(resp)
}
