//! App tokens: an app trades a JWT signed with its own RSA key for an access token that acts
//! as its bot user. Two doors, one rule set (`assertion.rs`):
//! - `POST /application/token` with `Authorization: Bearer <JWT>` (errors: 401 `invalid_token`);
//! - `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` at `/oauth/token` (RFC 7523 §2.1;
//!   `aud` required; errors: 400 `invalid_grant`).
//!
//! A registered public key is what allows an app to use them.

use crate::oauth::endpoint::{bearer_response, Endpoint};
use crate::http::params::Params;
use crate::http::{Request, Response};
use crate::oauth::assertion::{self, Rules, Verified};
use crate::error::{Error, ErrorCode, Result};
use crate::oauth::mint::{mint, Minted, TokenRequest};
use crate::oauth::resource;
use crate::rules::scope;
use crate::platform::Platform;
use crate::util::rfc3339;

fn mint_bot(
    p: &impl Platform,
    ep: &Endpoint,
    v: Verified,
    scope_param: Option<&str>,
) -> Result<(Minted, u64)> {
    // Bot tokens are machine access: only for apps an operator created or approved.
    if !v.app.operator_vetted() {
        return Err(Error::unauthorized_client(
            "this app may not mint bot tokens until an operator approves it",
        ));
    }
    // The bot user's permissions are the app's; a request may narrow them, never widen.
    // Scopes the catalogue dropped (retired) stay on the app but are never granted.
    let allowed = scope::live(&v.app.scopes, &p.config().scopes);
    let scopes = scope::resolve(scope_param, &allowed, &allowed)?;
    let aud = resource::audience(p, &ep.issuer, None)?;
    let ttl = p.config().app_token_ttl;
    let m = mint(
        p,
        TokenRequest {
            issuer: &ep.issuer,
            client_id: &v.app.client_id,
            sub: &v.app.bot_user.id,
            aud: &aud,
            scope: scope::join(&scopes),
            ttl,
            epoch: v.epoch,
            akid: Some(v.kid),
            gid: None,
            bot: true,
            userinfo: Vec::new(),
        },
    )?;
    Ok((m, ttl))
}

/// `POST /application/token`.
pub async fn application_token(p: &impl Platform, ep: &Endpoint, req: &Request) -> Result<Response> {
    let token = req
        .bearer()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Error::invalid_token("send the signed app JWT as 'Authorization: Bearer <JWT>'"))?;
    let rules = Rules {
        require_aud: false,
        require_iat: true,
        require_sub_is_iss: false,
        // The documented app-token claims are iss, iat and exp.
        require_sub: false,
        audiences: &ep.audiences(),
    };
    let v = assertion::verify(p, token, &rules)
        .await
        .map_err(|r| Error::invalid_token(r.describe()))?;
    let id = v.app.client_id.clone();
    let (m, ttl) = mint_bot(p, ep, v, None).map_err(|e| Error::invalid_token(e.description))?;
    let body = serde_json::json!({
        "access_token": m.token,
        "token_type": "Bearer",
        "expires_in": ttl,
        "expires_at": rfc3339(m.claims.exp),
        "scope": m.claims.scope,
    });
    Ok(bearer_response(body, m.sign_ms).client(Some(&id)))
}

/// `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` at the token endpoint.
/// `client`: the client that authenticated alongside the assertion, if any.
pub async fn handle(
    p: &impl Platform,
    ep: &Endpoint,
    params: &Params,
    client: Option<&str>,
) -> Result<Response> {
    let assertion = params.require("assertion")?;
    let rules = Rules {
        require_aud: true,
        require_iat: false,
        require_sub_is_iss: false,
        require_sub: true,
        audiences: &ep.audiences(),
    };
    let v = assertion::verify(p, assertion, &rules)
        .await
        .map_err(|r| Error::assertion(ErrorCode::InvalidGrant, r))?;
    if params
        .get("client_id")
        .or(client)
        .is_some_and(|c| c != v.app.client_id)
    {
        return Err(Error::invalid_grant(
            "client_id does not match the assertion's issuer",
        ));
    }
    let id = v.app.client_id.clone();
    let (m, ttl) = mint_bot(p, ep, v, params.get("scope"))?;
    let body = serde_json::json!({
        "access_token": m.token,
        "token_type": "Bearer",
        "expires_in": ttl,
        "scope": m.claims.scope,
    });
    Ok(bearer_response(body, m.sign_ms).client(Some(&id)))
}
