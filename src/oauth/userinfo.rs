//! `GET /oauth/userinfo` and `GET /oauth/v2/user`: the profile of whoever a bearer token acts as.
//! Tokens only in the `Authorization` header (RFC 6750 §2.1), never in the URL.

use crate::accounts;
use crate::http::params::Params;
use crate::http::{Request, Response};
use crate::error::{Challenge, Error, ErrorCode, Result};
use crate::oauth::mint;
use crate::platform::Platform;

pub async fn handle(p: &impl Platform, issuer: &str, req: &Request) -> Result<Response> {
    let query = Params::from_query(req)?;
    if query.contains("access_token") {
        return Err(Error::new(
            ErrorCode::InvalidRequest,
            "send the access token in the Authorization header, never in the URL",
        )
        .with_challenge(Challenge::Bearer { scope: None }));
    }
    let Some(token) = req.bearer().filter(|t| !t.is_empty()) else {
        return Err(Error::new(ErrorCode::InvalidToken, "an access token is required")
            .with_challenge(Challenge::Bearer { scope: None }));
    };
    let claims = mint::check(p, issuer, token)
        .await?
        .ok_or_else(|| Error::invalid_token("the access token is invalid, expired or revoked"))?;
    if query.get("client_id").is_some_and(|c| c != claims.client_id) {
        return Err(Error::new(
            ErrorCode::InsufficientScope,
            "the token was not issued to this client_id",
        )
        .with_challenge(Challenge::Bearer { scope: None }));
    }
    let body = if claims.bot == Some(true) {
        let app = p
            .app_meta(&claims.client_id)
            .await?
            .ok_or_else(|| Error::invalid_token("the app no longer exists"))?;
        serde_json::json!({"sub": claims.sub, "name": app.bot_user.name, "bot": true, "client_id": claims.client_id})
    } else if claims.gid.is_some() {
        let profile = accounts::profile(p, &claims.sub)
            .await?
            .ok_or_else(|| Error::invalid_token("the user no longer exists"))?;
        // Claims follow the granted scopes: the name with `public` (or `profile`), the email
        // only with `email` or `users:read_by_email`; `sub` always.
        let granted: Vec<&str> = claims.scope.split(' ').collect();
        let has = |s: &str| granted.contains(&s);
        let mut body = serde_json::json!({"sub": profile.id});
        if has("public") || has("profile") {
            crate::util::set(&mut body, "name", profile.name);
            crate::util::set(&mut body, "created_at", profile.created_at);
        }
        if has("email") || has("users:read_by_email") {
            crate::util::set(&mut body, "email", profile.email);
        }
        body
    } else {
        return Err(Error::invalid_token(
            "this token acts for a client, not for a user",
        ));
    };
    Ok(Response::json(200, &body)
        .no_store()
        .client(Some(&claims.client_id)))
}
