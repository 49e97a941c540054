//! `GET`/`POST /oauth/userinfo` and `/oauth/v2/user`: the profile of whoever a bearer token
//! acts as (OpenID Connect Core 1.0 §5.3). The token in the `Authorization` header (RFC 6750
//! §2.1) or, on a POST, as a form-encoded `access_token` body parameter (§2.2); never in the URL,
//! and never two ways at once. What is released about a person follows the granted scopes
//! (`rules::claims`).

use crate::accounts;
use crate::http::params::Params;
use crate::http::{Request, Response};
use crate::error::{Challenge, Error, ErrorCode, Result};
use crate::oauth::mint;
use crate::objects::user::Profile;
use crate::platform::Platform;

fn bearer_error(code: ErrorCode, msg: &str) -> Error {
    Error::new(code, msg).with_challenge(Challenge::Bearer { scope: None })
}

/// The access token of the request: the header's, or a POST's form `access_token`.
fn presented(req: &Request) -> Result<String> {
    let header = req.bearer().filter(|t| !t.is_empty());
    let form = if req.method == "POST"
        && req.media_type().as_deref() == Some("application/x-www-form-urlencoded")
    {
        Params::parse_form(&req.body)?.get("access_token").map(str::to_owned)
    } else {
        None
    };
    match (header, form) {
        (Some(_), Some(_)) => Err(bearer_error(
            ErrorCode::InvalidRequest,
            "send the access token one way only: the Authorization header or the form body",
        )),
        (Some(t), None) => Ok(t.to_owned()),
        (None, Some(t)) if !t.is_empty() => Ok(t),
        _ => Err(bearer_error(ErrorCode::InvalidToken, "an access token is required")),
    }
}

/// Sets the person claims `names` of `profile` on `out` (`sub` is the caller's): at the userinfo
/// endpoint and in ID tokens alike.
pub fn person_claims(out: &mut serde_json::Value, profile: &Profile, names: &[&str]) {
    for claim in names {
        match *claim {
            "name" => crate::util::set(out, "name", profile.name.as_str()),
            "created_at" => crate::util::set(out, "created_at", profile.created_at),
            "email" => crate::util::set(out, "email", profile.email.as_str()),
            // True only once the owner proved the mailbox (verification link, reset by email,
            // confirmed email change).
            "email_verified" => crate::util::set(out, "email_verified", profile.email_verified),
            _ => {}
        }
    }
}

pub async fn handle(p: &impl Platform, issuer: &str, req: &Request) -> Result<Response> {
    let query = Params::from_query(req)?;
    if query.contains("access_token") {
        return Err(bearer_error(
            ErrorCode::InvalidRequest,
            "send the access token in the Authorization header, never in the URL",
        ));
    }
    let token = presented(req)?;
    let token = token.as_str();
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
    } else if let Some(gid) = &claims.gid {
        // The person: the token's `sub`, or for a pairwise app (whose `sub` is not the user id)
        // the person its grant is for.
        let app = p.app_meta(&claims.client_id).await?;
        let person = match app {
            Some(app) if crate::oauth::subject::is_pairwise(p.config(), &app) => {
                let grant = crate::objects::grants::object_of_gid(gid)
                    .ok_or_else(|| Error::invalid_token("the access token is invalid, expired or revoked"))?;
                let cmd = crate::objects::grants::GrantUser { client_id: claims.client_id.clone(), gid: gid.clone() };
                p.call(&grant, cmd)
                    .await?
                    .ok_or_else(|| Error::invalid_token("the access token is invalid, expired or revoked"))?
            }
            _ => claims.sub.clone(),
        };
        let profile = accounts::profile(p, &person)
            .await?
            .ok_or_else(|| Error::invalid_token("the user no longer exists"))?;
        // Claims follow the granted scopes (`rules::claims`), plus those the `claims`
        // parameter asked for by themselves and the person allowed (the token's `userinfo`).
        let granted: Vec<&str> = claims.scope.split(' ').collect();
        let mut names = crate::rules::claims::released(&granted);
        for c in claims.userinfo.iter().filter_map(|c| crate::rules::claims_request::PERSON_CLAIMS.iter().find(|p| *p == c)) {
            if !names.contains(c) {
                names.push(c);
            }
        }
        let mut body = serde_json::json!({"sub": claims.sub});
        person_claims(&mut body, &profile, &names);
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
