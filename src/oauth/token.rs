//! `POST /oauth/token`: parses the body, authenticates the client, checks once that the app
//! may use the grant type (as node-oidc-provider's `token.js` does), then dispatches to
//! `grants/<grant>.rs`.

use crate::error::{Error, ErrorCode, Result};
use crate::http::params::{printable, Params};
use crate::http::{Request, Response};
use crate::model::GrantType;
use crate::oauth::client_auth;
use crate::oauth::grants;
use crate::platform::Platform;

pub use crate::oauth::endpoint::Endpoint;

pub async fn handle(p: &impl Platform, ep: &Endpoint, req: &Request) -> Result<Response> {
    let params = Params::from_body(req)?;
    let grant = match params.get("grant_type") {
        Some(g) => g,
        None if params.contains("response_type") => {
            return Err(Error::invalid_request(
                "grant_type is required (response_type belongs to the authorization endpoint; send grant_type=client_credentials)",
            ))
        }
        None => return Err(Error::invalid_request("missing parameter 'grant_type'")),
    };
    let Some(grant) = GrantType::parse(grant) else {
        return Err(Error::new(
            ErrorCode::UnsupportedGrantType,
            format!("grant_type '{}' is not supported", printable(grant)),
        ));
    };
    if grant == GrantType::JwtBearer {
        // RFC 7523 §2.1: the assertion itself authenticates and client credentials are optional,
        // but credentials that are presented must be valid and name the assertion's issuer.
        let client = match client_auth::presented(req, &params)? {
            None | Some(client_auth::Presented::None { .. }) => None,
            Some(creds) => Some(
                client_auth::authenticate(p, req, creds, &ep.audiences())
                    .await?
                    .app
                    .client_id,
            ),
        };
        return grants::jwt_bearer::handle(p, ep, &params, client.as_deref()).await;
    }
    let creds = client_auth::presented(req, &params)?
        .ok_or_else(|| Error::invalid_client("client authentication is required"))?;
    let client = client_auth::authenticate(p, req, creds, &ep.audiences()).await?;
    if !client.app.allows_grant(grant.as_str()) {
        return Err(Error::unauthorized_client(grant.refusal()));
    }
    if grant == GrantType::Password && !p.config().password_grant {
        return Err(Error::unauthorized_client("the password grant is switched off here"));
    }
    let id = client.app.client_id.clone();
    let resp = match grant {
        GrantType::ClientCredentials => grants::client_credentials::handle(p, ep, &params, client)?,
        GrantType::AuthorizationCode => grants::authorization_code::handle(p, ep, &params, client).await?,
        GrantType::RefreshToken => grants::refresh_token::handle(p, ep, &params, client).await?,
        GrantType::Password => grants::password::handle(p, ep, req, &params, client).await?,
        GrantType::JwtBearer => return Err(Error::server("the jwt-bearer grant is handled above")),
    };
    Ok(resp.client(Some(&id)))
}
