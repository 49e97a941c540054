//! `POST /oauth/introspect` (RFC 7662). Callers authenticate as a confidential client or with
//! the admin token. Anything that is not a live token we issued is `{"active": false}`, and so
//! is a token the caller may not see (RFC 7662 §4, the server decides): a client sees its own
//! tokens and tokens whose `aud` names it; seeing others' needs the operator-set
//! `introspection` permission.

use crate::http::params::Params;
use crate::http::{Request, Response};
use crate::oauth::client_auth;
use crate::error::{Error, Result};
use crate::oauth::mint;
use crate::oauth::endpoint::Endpoint;
use crate::platform::Platform;

pub async fn handle(p: &impl Platform, ep: &Endpoint, req: &Request, admin_ok: bool) -> Result<Response> {
    let params = Params::from_body(req)?;
    let caller = if admin_ok {
        None
    } else {
        let creds = client_auth::presented(req, &params)?
            .ok_or_else(|| Error::invalid_client("authenticate as a client (or with the admin token)"))?;
        let c = client_auth::authenticate(p, req, creds, &ep.audiences()).await?;
        if c.method == "none" {
            return Err(Error::invalid_client("public clients cannot introspect tokens"));
        }
        Some(c.app)
    };
    let token = params.require("token")?;
    let visible = |c: &mint::AccessClaims| match &caller {
        None => true,
        Some(app) => app.introspection || c.client_id == app.client_id || c.aud == app.client_id,
    };
    let body = match mint::check(p, &ep.issuer, token).await?.filter(visible) {
        Some(c) => serde_json::json!({
            "active": true,
            "scope": c.scope,
            "client_id": c.client_id,
            "sub": c.sub,
            "aud": c.aud,
            "iss": c.iss,
            "exp": c.exp,
            "iat": c.iat,
            "jti": c.jti,
            "token_type": "Bearer",
        }),
        None => serde_json::json!({"active": false}),
    };
    Ok(Response::json(200, &body)
        .no_store()
        .client(caller.as_ref().map(|a| a.client_id.as_str())))
}
