//! `POST /oauth/revoke` (RFC 7009). A client revokes its own tokens; unknown or foreign tokens
//! still get 200 so the endpoint reveals nothing. Access tokens are revoked by `jti` until they
//! would have expired; revoking a refresh token ends its whole grant.

use crate::http::params::Params;
use crate::http::{Request, Response};
use crate::oauth::client_auth;
use crate::error::{Error, Result};
use crate::oauth::mint;
use crate::oauth::endpoint::Endpoint;
use crate::objects::grants;
use crate::platform::Platform;
use crate::util::sha256_hex;

pub async fn handle(p: &impl Platform, ep: &Endpoint, req: &Request) -> Result<Response> {
    let params = Params::from_body(req)?;
    let creds = client_auth::presented(req, &params)?
        .ok_or_else(|| Error::invalid_client("client authentication is required"))?;
    let client = client_auth::authenticate(p, req, creds, &ep.audiences()).await?;
    let token = params.require("token")?;
    // RFC 7009 §2.1: the hint is only a hint; every token type is searched whatever it says.
    match mint::validate(p, &ep.issuer, token) {
        Some(c) if c.client_id == client.app.client_id => {
            crate::apps::replicas::revoke_jti(p, &client.app.client_id, c.jti, c.exp).await?;
        }
        Some(_) => {}
        // Not an access token of ours: perhaps one of this client's refresh tokens, which
        // ends its grant. Looked up only in the object of the grant it names, which answers
        // nothing to another client.
        None if token.len() <= 256 => {
            if let Some((_, grant)) = grants::object_of(token) {
                let cmd = grants::RevokeRefresh {
                    client_id: client.app.client_id.clone(),
                    refresh_hash: sha256_hex(token),
                };
                p.call(&grant, cmd).await?;
            }
        }
        None => {}
    }
    {
        use crate::objects::audit::{Event, EventType, Outcome};
        let id = &client.app.client_id;
        p.record(Event::new(EventType::TokenRevoke, format!("app:{id}"), Outcome::Success).app(id.clone()));
    }
    Ok(Response::empty(200)
        .no_store()
        .client(Some(&client.app.client_id)))
}
