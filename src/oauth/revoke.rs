//! `POST /oauth/revoke` (RFC 7009). A client revokes its own tokens; unknown or foreign tokens
//! still get 200 so the endpoint reveals nothing. Access tokens are revoked by `jti` until they
//! would have expired.

use crate::http::params::Params;
use crate::http::{Request, Response};
use crate::oauth::client_auth;
use crate::oauth::error::{Error, ErrorCode, Result};
use crate::oauth::mint;
use crate::oauth::token::Endpoint;
use crate::store::shard::Command;
use crate::store::Platform;

pub async fn handle(p: &impl Platform, ep: &Endpoint, req: &Request) -> Result<Response> {
    let params = Params::from_body(req)?;
    let creds = client_auth::presented(req, &params)?
        .ok_or_else(|| Error::invalid_client("client authentication is required"))?;
    let client = client_auth::authenticate(p, creds, &ep.audiences()).await?;
    let token = params.require("token")?;
    match params.get("token_type_hint") {
        None | Some("access_token") | Some("refresh_token") => {}
        Some(_) => {
            return Err(Error::new(
                ErrorCode::UnsupportedTokenType,
                "token_type_hint must be access_token or refresh_token",
            ))
        }
    }
    if let Some(c) = mint::validate(p, &ep.issuer, token) {
        if c.client_id == client.app.client_id {
            p.shard(
                &format!("app:{}", c.client_id),
                Command::RevokeJti {
                    jti: c.jti,
                    exp: c.exp,
                },
            )
            .await?;
        }
    }
    Ok(Response::empty(200)
        .no_store()
        .client(Some(&client.app.client_id)))
}
