//! `POST /oauth/token`: parses the body, authenticates the client, dispatches on `grant_type`.

use crate::http::params::{printable, Params};
use crate::http::{Request, Response};
use crate::oauth::client_auth;
use crate::error::{Error, ErrorCode, Result};
use crate::oauth::grants;
use crate::platform::Platform;

pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Where a request arrived: the issuer and the URL of the endpoint (both valid as `aud`).
pub struct Endpoint {
    pub issuer: String,
    pub url: String,
}

impl Endpoint {
    pub fn audiences(&self) -> Vec<String> {
        vec![
            self.issuer.clone(),
            self.url.clone(),
            format!("{}/oauth/token", self.issuer),
        ]
    }
}

/// A token response: JSON, `no-store`, and the signing time as `Server-Timing`.
pub fn bearer_response(body: serde_json::Value, sign_ms: f64) -> Response {
    Response::json(200, &body)
        .no_store()
        .header("server-timing", format!("sign;dur={sign_ms:.2}"))
}

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
    if grant == JWT_BEARER {
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
    if !matches!(
        grant,
        "client_credentials" | "authorization_code" | "refresh_token" | "password"
    ) {
        return Err(Error::new(
            ErrorCode::UnsupportedGrantType,
            format!("grant_type '{}' is not supported", printable(grant)),
        ));
    }
    let creds = client_auth::presented(req, &params)?
        .ok_or_else(|| Error::invalid_client("client authentication is required"))?;
    let client = client_auth::authenticate(p, req, creds, &ep.audiences()).await?;
    let id = client.app.client_id.clone();
    let resp = match grant {
        "client_credentials" => grants::client_credentials::handle(p, ep, &params, client)?,
        "authorization_code" => grants::authorization_code::handle(p, ep, &params, client).await?,
        "refresh_token" => grants::refresh_token::handle(p, ep, &params, client).await?,
        _ => grants::password::handle(p, ep, req, &params, client).await?,
    };
    Ok(resp.client(Some(&id)))
}
