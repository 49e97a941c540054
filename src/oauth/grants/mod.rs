//! One file per grant type. Each takes the parsed parameters and returns the token response.

pub mod authorization_code;
pub mod client_credentials;
pub mod jwt_bearer;
pub mod password;
pub mod refresh_token;

use super::id_token;
use super::mint::{mint, TokenRequest};
use crate::rules::{claims_request, scope};
use super::endpoint::{bearer_response, Endpoint};
use crate::http::Response;
use crate::model::App;
use crate::error::{Error, Result};
use crate::http::params::Params;
use crate::platform::random_token;
use crate::objects::grants::{self, CodeRecord, GrantObject, Granted, NewGrant};
use crate::objects::{Name, Op};
use crate::platform::Platform;
use crate::util::sha256_hex;

/// A one-time credential the client presents (`code`, `refresh_token`): required, and refused
/// as `invalid_grant` saying `refusal` when longer than any we issue (nothing is looked up).
fn presented<'a>(params: &'a Params, name: &str, refusal: &'static str) -> Result<&'a str> {
    let value = params.require(name)?;
    if value.len() > 256 {
        return Err(Error::invalid_grant(refusal));
    }
    Ok(value)
}

/// The grant a presented code or refresh token names (`<gid>.<secret>`): its id and object, or
/// `invalid_grant` saying `refusal` (a credential of another form is looked up nowhere).
fn grant_of(credential: &str, refusal: &'static str) -> Result<(String, Name<GrantObject>)> {
    grants::object_of(credential).ok_or_else(|| Error::invalid_grant(refusal))
}

/// A new refresh token of grant `gid` (returned; only its hash is kept).
fn new_refresh(p: &impl Platform, gid: &str) -> Result<String> {
    Ok(grants::credential(gid, &random_token(p, 32)?))
}

/// A new grant's identifiers for grant `gid`: its id and the first refresh token (returned;
/// only its hash kept).
fn new_grant(p: &impl Platform, gid: &str) -> Result<(NewGrant, String)> {
    let refresh = new_refresh(p, gid)?;
    let cfg = p.config();
    let new = NewGrant {
        gid: gid.to_owned(),
        refresh_hash: sha256_hex(&refresh),
        refresh_ttl: cfg.refresh_token_ttl as i64,
        grant_ttl: cfg.grant_max_ttl as i64,
    };
    Ok((new, refresh))
}

/// A fresh grant id (16 random bytes, base64url).
fn new_gid(p: &impl Platform) -> Result<String> {
    random_token(p, 16)
}

/// Stores a new authorization code of `app` in the object of the grant it will be redeemed
/// into, and answers the code (`<gid>.<secret>`; only its hash is kept). The grant's object
/// knows nothing of the app's status, so a code is refused here for an app the directory shows
/// disabled (as the app's object did when codes lived there). The directory may lag by up to
/// 60 s; the check that counts is at the exchange, whose client authentication in the app's
/// object refuses a disabled app at once.
pub async fn store_code(p: &impl Platform, app: &App, record: CodeRecord) -> Result<String> {
    if app.status != crate::model::Status::Active {
        return Err(Error::invalid_client("the client is disabled"));
    }
    let client_id = app.client_id.as_str();
    let gid = new_gid(p)?;
    let code = grants::credential(&gid, &random_token(p, 32)?);
    // In the person's index first (their connected apps), so every grant can be revoked
    // from the account page; a code never redeemed leaves a harmless id there.
    let ends = record.expires_at + p.config().grant_max_ttl as i64;
    track_grant(p, client_id, &gid, &record.user_id, &record.scopes, ends).await?;
    let cmd = grants::IssueCode {
        client_id: client_id.to_owned(),
        code_hash: sha256_hex(&code),
        record,
    };
    p.call(&grants::object(&gid), cmd).await?;
    Ok(code)
}

/// Records grant `gid` of `client_id` in the person's index (`user::TrackGrant`) and ends the
/// grants the index pushed out (beyond its bounds), so every live grant stays listed.
pub async fn track_grant(p: &impl Platform, client_id: &str, gid: &str, user_id: &str, scopes: &[String], expires_at: i64) -> Result<()> {
    let cmd = crate::objects::user::TrackGrant {
        client_id: client_id.to_owned(),
        gid: gid.to_owned(),
        scopes: scopes.to_vec(),
        expires_at,
    };
    let evicted = p.call(&crate::objects::user::object(user_id), cmd).await?;
    for (client_id, gid) in evicted {
        if let Some(obj) = grants::object_of_gid(&gid) {
            let cmd = grants::EndGrant { client_id, gid, user_id: user_id.to_owned() };
            p.call(&obj, cmd).await?;
        }
    }
    Ok(())
}

/// Runs a grant-making command in the grant's object (code redemption, refresh, password): the
/// rules that must hold once live there, in `objects/grants.rs`.
async fn granted<O: Op<Kind = GrantObject, Reply = Granted>>(p: &impl Platform, grant: &Name<GrantObject>, op: O) -> Result<Granted> {
    p.call(grant, op).await
}

/// The token response for a grant acting for a person: access token (`sub` = user id), the
/// refresh token when `rules::refresh` says so, and an ID token when `openid` was granted in
/// the code flow (`oauth::id_token`).
/// `rotating`: a refresh, whose new refresh token is always returned (the presented one is
/// retired; narrowing the scope never strands the client).
async fn person_tokens(
    p: &impl Platform,
    ep: &Endpoint,
    app: &App,
    g: &Granted,
    refresh: String,
    rotating: bool,
) -> Result<Response> {
    let ttl = app.token_lifetime.unwrap_or(p.config().access_token_ttl);
    // Every mint, refresh included, stays within what the app may have today: an operator
    // who narrows an app's scopes narrows the tokens of its existing grants too.
    let allowed = scope::allowed_for(app, &p.config().scopes);
    let scopes = scope::within(&g.scopes, &allowed);
    // The claims asked for one by one (`claims`), within what the app may have today too.
    let (userinfo, in_id_token) = match &g.authn {
        Some(a) => (
            claims_request::at_mint(&a.userinfo, &a.consented, &scopes, &allowed),
            claims_request::at_mint(&a.id_token, &a.consented, &scopes, &allowed),
        ),
        None => Default::default(),
    };
    let m = mint(
        p,
        TokenRequest {
            issuer: &ep.issuer,
            client_id: &app.client_id,
            sub: &crate::oauth::subject::of(p.config(), app, &g.user_id),
            aud: &g.aud,
            scope: scope::join(&scopes),
            ttl,
            epoch: g.epoch,
            akid: None,
            gid: Some(g.gid.clone()),
            bot: false,
            userinfo,
        },
    )?;
    let id = id_token::mint(p, &ep.issuer, app, g, &scopes, &in_id_token, &m.token).await?;
    let mut sign_ms = m.sign_ms;
    let mut body = serde_json::json!({
        "token_type": "Bearer",
        "expires_in": ttl,
        "access_token": m.token,
        "scope": m.claims.scope,
    });
    if rotating || crate::rules::refresh::issued(app.allows_grant("refresh_token"), id.is_some(), &scopes) {
        crate::util::set(&mut body, "refresh_token", refresh);
    }
    if let Some((token, ms)) = id {
        crate::util::set(&mut body, "id_token", token);
        sign_ms += ms;
    }
    Ok(bearer_response(body, sign_ms).client(Some(&app.client_id)))
}
