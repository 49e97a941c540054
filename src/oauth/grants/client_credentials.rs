//! `grant_type=client_credentials` (RFC 6749 §4.4): a confidential client acting for itself.
//! No refresh token is issued.

use crate::model::GrantType;
use crate::oauth::endpoint::{bearer_response, Endpoint};
use crate::http::params::Params;
use crate::http::Response;
use crate::oauth::client_auth::Authenticated;
use crate::error::{Error, Result};
use crate::oauth::mint::{mint, TokenRequest};
use crate::oauth::resource;
use crate::rules::scope;
use crate::platform::Platform;

pub fn handle(p: &impl Platform, ep: &Endpoint, params: &Params, client: Authenticated) -> Result<Response> {
    let app = &client.app;
    if client.method == "none" {
        return Err(Error::unauthorized_client(
            "public clients cannot use client_credentials",
        ));
    }
    // Machine tokens only for trusted apps an operator created or approved (the grant itself
    // is checked by the token endpoint).
    if !app.operator_vetted() || !app.trusted {
        return Err(Error::unauthorized_client(GrantType::ClientCredentials.refusal()));
    }
    // Scopes the catalogue dropped (retired) stay on the app but are never granted.
    let allowed = scope::live(&app.scopes, &p.config().scopes);
    let scopes = scope::resolve(params.get("scope"), &allowed, &scope::within(app.default_scopes(), &allowed))?;
    let aud = resource::audience(p, &ep.issuer, params.get("resource"))?;
    let ttl = app.token_lifetime.unwrap_or(p.config().client_credentials_ttl);
    let m = mint(
        p,
        TokenRequest {
            issuer: &ep.issuer,
            client_id: &app.client_id,
            sub: &app.client_id,
            aud: &aud,
            scope: scope::join(&scopes),
            ttl,
            epoch: client.epoch,
            akid: None,
            gid: None,
            bot: false,
            userinfo: Vec::new(),
        },
    )?;
    let body = serde_json::json!({
        "access_token": m.token,
        "token_type": "Bearer",
        "expires_in": ttl,
        "scope": m.claims.scope,
        "created_at": m.claims.iat,
    });
    Ok(bearer_response(body, m.sign_ms))
}
