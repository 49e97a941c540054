//! Access tokens: RFC 9068 JWTs signed by the server. Minting, and checking one we issued
//! (signature, `typ`, issuer, expiry, then liveness in the app's Durable Object).

use crate::crypto::jwt;
use crate::error::{Error, Result};
use crate::platform::random_token;
use crate::objects::{app, grants};
use crate::platform::Platform;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub client_id: String,
    pub scope: String,
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
    /// The app's epoch at minting; a later epoch (secret regenerated, app disabled or
    /// deleted) makes the token inactive.
    pub ep: u64,
    /// The app key whose assertion obtained this token; removing the key ends the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub akid: Option<String>,
    /// The grant (authorization code or password) the token came from; revoking it ends the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<String>,
    /// Set on tokens that act as an app's bot user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot: Option<bool>,
    /// OpenID Connect: the person claims the `claims` parameter asked for at the userinfo
    /// endpoint beyond the scopes, which the person allowed (`rules::claims_request`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub userinfo: Vec<String>,
}

pub struct Minted {
    pub token: String,
    pub claims: AccessClaims,
    /// Time spent signing, for `Server-Timing`.
    pub sign_ms: f64,
}

pub struct TokenRequest<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub sub: &'a str,
    pub aud: &'a str,
    pub scope: String,
    pub ttl: u64,
    pub epoch: u64,
    pub akid: Option<String>,
    pub gid: Option<String>,
    pub bot: bool,
    pub userinfo: Vec<String>,
}

pub fn mint(p: &impl Platform, t: TokenRequest<'_>) -> Result<Minted> {
    let iat = p.now();
    let claims = AccessClaims {
        iss: t.issuer.to_owned(),
        sub: t.sub.to_owned(),
        aud: t.aud.to_owned(),
        client_id: t.client_id.to_owned(),
        scope: t.scope,
        // `<shard>.<random>`: the shard of the app that holds the token's revocation (issue 17).
        jti: format!("{}.{}", crate::apps::replicas::mint_shard(p)?, random_token(p, 16)?),
        iat,
        exp: iat + t.ttl as i64,
        ep: t.epoch,
        akid: t.akid,
        gid: t.gid,
        bot: t.bot.then_some(true),
        userinfo: t.userinfo,
    };
    let value = serde_json::to_value(&claims).unwrap_or_default();
    let start = p.now_ms();
    let token = p.keys().sign_access_token(&value).map_err(Error::server)?;
    let sign_ms = p.now_ms() - start;
    Ok(Minted {
        token,
        claims,
        sign_ms,
    })
}

/// The claims of a token we issued that is well-formed, correctly signed, ours and unexpired.
/// Says nothing about revocation: see [`is_live`].
pub fn validate(p: &impl Platform, issuer: &str, token: &str) -> Option<AccessClaims> {
    let t = jwt::decode(token).ok()?;
    if t.header.typ.as_deref() != Some("at+jwt") || !p.keys().verify(&t) {
        return None;
    }
    let claims: AccessClaims = serde_json::from_value(serde_json::Value::Object(t.claims)).ok()?;
    (claims.iss == issuer && claims.exp > p.now()).then_some(claims)
}

/// Asks the app's shard the token was minted on (`apps::replicas::check_token`) whether the token is still alive (epoch, key, revocation),
/// then, for a token from a grant, the grant's object (not revoked, not expired).
pub async fn is_live(p: &impl Platform, c: &AccessClaims) -> Result<bool> {
    let cmd = app::CheckToken {
        jti: c.jti.clone(),
        epoch: c.ep,
        kid: c.akid.clone(),
    };
    if !crate::apps::replicas::check_token(p, &c.client_id, cmd).await? {
        return Ok(false);
    }
    match &c.gid {
        None => Ok(true),
        Some(gid) => match grants::object_of_gid(gid) {
            None => Ok(false),
            Some(grant) => {
                let cmd = grants::GrantAlive { client_id: c.client_id.clone(), gid: gid.clone() };
                p.call(&grant, cmd).await
            }
        },
    }
}

/// Validated and live, or `None`.
pub async fn check(p: &impl Platform, issuer: &str, token: &str) -> Result<Option<AccessClaims>> {
    match validate(p, issuer, token) {
        Some(c) if is_live(p, &c).await? => Ok(Some(c)),
        _ => Ok(None),
    }
}
