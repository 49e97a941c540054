//! `app:<client_id>`: authorization codes, grants and refresh tokens, in the app's own object.
//! Codes and refresh tokens are stored only as SHA-256 hashes. Everything that must happen
//! once happens here, atomically: code redemption (with its redirect URI and PKCE checks, see
//! [`RedeemCode`]), refresh rotation and reuse detection ([`Refresh`]).

use super::app::{active, AppObject};
use super::kv::Kv;
use super::protocol::{load, op, save};
use crate::error::{Error, Result};
use crate::rules::pkce;
use serde::{Deserialize, Serialize};

/// Used codes are kept this long after they expire, so a replay can still revoke the grant.
const USED_CODE_RETENTION: i64 = 86_400;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodeRecord {
    pub user_id: String,
    pub redirect_uri: String,
    /// Whether the authorization request named `redirect_uri` (then the token request must too).
    pub redirect_uri_sent: bool,
    pub scopes: Vec<String>,
    pub aud: String,
    pub challenge: Option<String>,
    pub method: Option<String>,
    pub expires_at: i64,
    #[serde(default)]
    pub used: bool,
    /// The grant the code was redeemed into; revoked if the code is replayed.
    #[serde(default)]
    pub gid: Option<String>,
    /// OpenID Connect: the authorization request's `nonce`, echoed in the ID token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The log-in behind the code (`auth_time`, `sid`), kept in the grant for ID tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authn: Option<Authn>,
}

/// The OpenID Connect authentication a grant came from: when the person logged in, the
/// session's `sid`, and the claims the request asked for one by one and the person allowed
/// (`rules::claims_request`): at the userinfo endpoint, and in the ID token.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Authn {
    pub auth_time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub userinfo: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub id_token: Vec<String>,
    /// Those of them the person allowed one by one (beyond the scopes granted then): released
    /// whatever scope a refresh narrows to; the others only while a minted scope releases them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consented: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct GrantRecord {
    user_id: String,
    scopes: Vec<String>,
    aud: String,
    epoch: u64,
    expires_at: i64,
    revoked: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    authn: Option<Authn>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RefreshRecord {
    gid: String,
    current: bool,
    expires_at: i64,
}

/// Fresh identifiers the caller made (the shard has no randomness of its own).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewGrant {
    pub gid: String,
    pub refresh_hash: String,
    pub refresh_ttl: i64,
    pub grant_ttl: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Granted {
    pub gid: String,
    pub user_id: String,
    pub scopes: Vec<String>,
    pub aud: String,
    pub epoch: u64,
    /// The log-in behind the grant (code grants only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authn: Option<Authn>,
    /// The authorization request's `nonce`: on a code's redemption only, never on refresh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

fn grant_key(gid: &str) -> String {
    format!("grant:{gid}")
}

pub(super) fn grant_alive(kv: &dyn Kv, now: i64, gid: &str) -> Result<bool> {
    Ok(load::<GrantRecord>(kv, &grant_key(gid))?.is_some_and(|g| !g.revoked && g.expires_at > now))
}

fn revoke_grant(kv: &mut dyn Kv, gid: &str) -> Result<()> {
    if let Some(mut g) = load::<GrantRecord>(kv, &grant_key(gid))? {
        g.revoked = true;
        let exp = g.expires_at;
        save(kv, &grant_key(gid), &g, Some(exp))?;
    }
    Ok(())
}

/// Who a new grant is for, what it holds, and the log-in behind it.
struct Grantee {
    user_id: String,
    scopes: Vec<String>,
    aud: String,
    authn: Option<Authn>,
}

fn start_grant(kv: &mut dyn Kv, now: i64, epoch: u64, who: Grantee, new: NewGrant) -> Result<Granted> {
    let Grantee { user_id, scopes, aud, authn } = who;
    let expires_at = now + new.grant_ttl;
    let g = GrantRecord {
        user_id: user_id.clone(),
        scopes: scopes.clone(),
        aud: aud.clone(),
        epoch,
        expires_at,
        revoked: false,
        authn: authn.clone(),
    };
    save(kv, &grant_key(&new.gid), &g, Some(expires_at))?;
    let rt = RefreshRecord {
        gid: new.gid.clone(),
        current: true,
        expires_at: (now + new.refresh_ttl).min(expires_at),
    };
    save(kv, &refresh_key(&new.refresh_hash), &rt, Some(expires_at))?;
    Ok(Granted {
        gid: new.gid,
        user_id,
        scopes,
        aud,
        epoch,
        authn,
        nonce: None,
    })
}

op! {
    /// Stores a code (its hash) issued by the authorization endpoint for an active app.
    IssueCode in AppObject => () {
        pub code_hash: String,
        pub record: CodeRecord,
    }
    |cmd, kv, _now| {
        active(kv)?;
        let exp = cmd.record.expires_at + USED_CODE_RETENTION;
        save(kv, &code_key(&cmd.code_hash), &cmd.record, Some(exp))
    }
}

fn code_key(code_hash: &str) -> String {
    format!("code:{code_hash}")
}

fn refresh_key(refresh_hash: &str) -> String {
    format!("rt:{refresh_hash}")
}

op! {
    /// Redeems a code once (RFC 6749 §4.1.3, RFC 9700 §4.5): marked used before anything else is
    /// checked; a replay revokes the grant it was redeemed into; then expiry, the redirect URI of
    /// the authorization request, and the PKCE verifier (`oauth::pkce::verify`), here inside the
    /// object so two racing redemptions cannot both pass.
    RedeemCode in AppObject => Granted {
        pub code_hash: String,
        pub redirect_uri: Option<String>,
        pub verifier: Option<String>,
        pub new: NewGrant,
    }
    |cmd, kv, now| {
        let app = active(kv)?;
        let key = code_key(&cmd.code_hash);
        let Some(mut code) = load::<CodeRecord>(kv, &key)? else {
            return Err(Error::invalid_grant(
                "the authorization code is invalid or expired",
            ));
        };
        if code.used {
            if let Some(gid) = code.gid.clone() {
                revoke_grant(kv, &gid)?;
            }
            return Err(Error::invalid_grant(
                "the authorization code was already used; tokens issued from it are revoked",
            ));
        }
        // Single use from here on, whatever happens next.
        code.used = true;
        save(kv, &key, &code, Some(code.expires_at + USED_CODE_RETENTION))?;
        if code.expires_at <= now {
            return Err(Error::invalid_grant("the authorization code has expired"));
        }
        let uri_ok = match cmd.redirect_uri.as_deref() {
            Some(u) => u == code.redirect_uri,
            None => !code.redirect_uri_sent,
        };
        if !uri_ok {
            return Err(Error::invalid_grant(
                "redirect_uri does not match the authorization request",
            ));
        }
        pkce::verify(
            code.challenge.as_deref(),
            code.method.as_deref(),
            cmd.verifier.as_deref(),
        )?;
        let who = Grantee {
            user_id: code.user_id.clone(),
            scopes: code.scopes.clone(),
            aud: code.aud.clone(),
            authn: code.authn.clone(),
        };
        let mut granted = start_grant(kv, now, app.epoch, who, cmd.new)?;
        granted.nonce = code.nonce.clone();
        code.gid = Some(granted.gid.clone());
        save(kv, &key, &code, Some(code.expires_at + USED_CODE_RETENTION))?;
        Ok(granted)
    }
}

op! {
    /// Starts a grant without a code (the password grant).
    CreateGrant in AppObject => Granted {
        pub user_id: String,
        pub scopes: Vec<String>,
        pub aud: String,
        pub new: NewGrant,
    }
    |cmd, kv, now| {
        let app = active(kv)?;
        let who = Grantee { user_id: cmd.user_id, scopes: cmd.scopes, aud: cmd.aud, authn: None };
        start_grant(kv, now, app.epoch, who, cmd.new)
    }
}

op! {
    /// Rotates a refresh token (RFC 9700 §4.14.2): the presented one is retired and a new one
    /// takes its place; a retired one coming back ends the whole grant. `scopes`, if given, must
    /// be within the grant (checked before rotating).
    Refresh in AppObject => Granted {
        pub refresh_hash: String,
        pub new_refresh_hash: String,
        pub refresh_ttl: i64,
        pub scopes: Option<Vec<String>>,
    }
    |cmd, kv, now| {
        let app = active(kv)?;
        let key = refresh_key(&cmd.refresh_hash);
        let Some(mut rt) = load::<RefreshRecord>(kv, &key)? else {
            return Err(Error::invalid_grant("the refresh token is invalid or expired"));
        };
        let gkey = grant_key(&rt.gid);
        let Some(grant) = load::<GrantRecord>(kv, &gkey)? else {
            return Err(Error::invalid_grant("the grant has ended"));
        };
        if grant.revoked {
            return Err(Error::invalid_grant("the grant was revoked"));
        }
        if !rt.current {
            // A rotated-out token came back: someone holds a copy. End the whole grant.
            revoke_grant(kv, &rt.gid)?;
            return Err(Error::invalid_grant(
                "the refresh token was already used; the grant is revoked",
            ));
        }
        if grant.epoch != app.epoch || grant.expires_at <= now || rt.expires_at <= now {
            return Err(Error::invalid_grant(
                "the refresh token has expired or was invalidated",
            ));
        }
        // Narrowing applies to the new access token only; the grant keeps what was consented.
        let scopes = match cmd.scopes {
            Some(n) if n.iter().any(|s| !grant.scopes.contains(s)) => {
                return Err(Error::invalid_scope(
                    "a refresh may narrow the scope, never widen it",
                ))
            }
            Some(n) => n,
            None => grant.scopes.clone(),
        };
        rt.current = false;
        save(kv, &key, &rt, Some(grant.expires_at))?;
        let next = RefreshRecord {
            gid: rt.gid.clone(),
            current: true,
            expires_at: (now + cmd.refresh_ttl).min(grant.expires_at),
        };
        save(kv, &refresh_key(&cmd.new_refresh_hash), &next, Some(grant.expires_at))?;
        Ok(Granted {
            gid: rt.gid,
            user_id: grant.user_id,
            scopes,
            aud: grant.aud,
            epoch: grant.epoch,
            authn: grant.authn,
            nonce: None,
        })
    }
}

op! {
    /// RFC 7009 for a refresh token: the whole grant ends.
    RevokeRefresh in AppObject => () {
        pub refresh_hash: String,
    }
    |cmd, kv, _now| {
        if let Some(rt) = load::<RefreshRecord>(kv, &refresh_key(&cmd.refresh_hash))? {
            revoke_grant(kv, &rt.gid)?;
        }
        Ok(())
    }
}
