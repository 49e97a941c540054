//! `grant:<gid>`: one grant per object — its authorization code, the grant itself and its
//! refresh tokens. Codes and refresh tokens are stored only as SHA-256 hashes and carry their
//! grant id in the clear (`<gid>.<secret>`, [`object_of`]), so redemption and refresh go straight
//! to the grant's object and no app object sees them: an app's load spreads over its grants.
//! Everything that must happen once happens here, atomically: code redemption (with its
//! redirect URI and PKCE checks, see [`RedeemCode`]), refresh rotation and reuse detection
//! ([`Refresh`]). The object does not hold the app's epoch: every command that makes or uses a
//! grant is given the epoch the caller just got from the app's object (client authentication),
//! and a grant made under another epoch is refused, so a secret regeneration or a disabled app
//! ends every grant at once. Each object also keeps the client it belongs to (`client`), and
//! answers another client as if it held nothing.

use super::kv::Kv;
use super::protocol::{kind, load, op, save, Name};
use crate::error::{Error, Result};
use crate::rules::pkce;
use serde::{Deserialize, Serialize};

kind!(GrantObject = "grant");

/// The object of a new grant, named by the id its caller drew.
pub fn object(gid: &str) -> Name<GrantObject> {
    Name::of(gid)
}

/// Whether `gid` could be a grant id we made (22 base64url characters today; up to 64 accepted).
fn valid_gid(gid: &str) -> bool {
    (1..=64).contains(&gid.len()) && gid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The credential (code or refresh token) a client gets for grant `gid`: `<gid>.<secret>`.
pub fn credential(gid: &str, secret: &str) -> String {
    format!("{gid}.{secret}")
}

/// The grant a presented code or refresh token belongs to, read from the credential itself:
/// `None` for anything not of the form `<gid>.<secret>` (then nothing is looked up).
pub fn object_of(credential: &str) -> Option<(String, Name<GrantObject>)> {
    let (gid, secret) = credential.split_once('.')?;
    (valid_gid(gid) && !secret.is_empty()).then(|| (gid.to_owned(), object(gid)))
}

/// The object of the grant an access token names (its `gid` claim).
pub fn object_of_gid(gid: &str) -> Option<Name<GrantObject>> {
    valid_gid(gid).then(|| object(gid))
}

/// The key of the client the object's grant belongs to.
const CLIENT: &str = "client";

/// Whether the object belongs to `client_id` (an object that holds nothing belongs to no one).
fn belongs_to(kv: &dyn Kv, client_id: &str) -> Result<bool> {
    Ok(kv.get(CLIENT)?.is_some_and(|c| c == client_id))
}

/// A grant id is drawn at random for each new grant: an object already in use is refused
/// (never reached by chance; a guard against a caller reusing an id).
fn fresh(kv: &dyn Kv) -> Result<()> {
    match kv.get(CLIENT)? {
        Some(_) => Err(Error::server("this grant id is taken")),
        None => Ok(()),
    }
}

/// The object belongs to `client_id` until `expires_at` (as long as anything it holds).
fn claim(kv: &mut dyn Kv, client_id: &str, expires_at: i64) -> Result<()> {
    kv.put(CLIENT, client_id, Some(expires_at))
}

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
    /// How the person logged in (the session's RFC 8176 `amr`); empty: a password log-in
    /// (grants made before it was kept).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
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

fn grant_alive(kv: &dyn Kv, now: i64, gid: &str) -> Result<bool> {
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
    /// Stores a code (its hash) issued by the authorization endpoint for `client_id`, in the
    /// object of the grant it will be redeemed into. The app's status is checked when the code
    /// is redeemed (the client authenticates in the app's object first).
    IssueCode in GrantObject => () {
        pub client_id: String,
        pub code_hash: String,
        pub record: CodeRecord,
    }
    |cmd, kv, _now| {
        let exp = cmd.record.expires_at + USED_CODE_RETENTION;
        fresh(kv)?;
        claim(kv, &cmd.client_id, exp)?;
        save(kv, &code_key(&cmd.code_hash), &cmd.record, Some(exp))
    }
}

/// The refusal of a replayed code (the caller records it as an audit event).
pub const CODE_REPLAYED: &str = "the authorization code was already used; tokens issued from it are revoked";
/// The refusal of a rotated-out refresh token presented again.
pub const REFRESH_REUSED: &str = "the refresh token was already used; the grant is revoked";

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
    /// object so two racing redemptions cannot both pass. The grant is made under `epoch`, the
    /// app's epoch its client just authenticated under; `new.gid` is this object's grant id.
    RedeemCode in GrantObject => Granted {
        pub client_id: String,
        pub epoch: u64,
        pub code_hash: String,
        pub redirect_uri: Option<String>,
        pub verifier: Option<String>,
        pub new: NewGrant,
    }
    |cmd, kv, now| {
        let key = code_key(&cmd.code_hash);
        let unknown = || Error::invalid_grant("the authorization code is invalid or expired");
        if !belongs_to(kv, &cmd.client_id)? {
            // Another client's code (or none): nothing is touched.
            return Err(unknown());
        }
        let Some(mut code) = load::<CodeRecord>(kv, &key)? else {
            return Err(unknown());
        };
        if code.used {
            if let Some(gid) = code.gid.clone() {
                revoke_grant(kv, &gid)?;
            }
            return Err(Error::invalid_grant(CODE_REPLAYED));
        }
        // Single use from here on, whatever happens next.
        let retained = code.expires_at + USED_CODE_RETENTION;
        code.used = true;
        save(kv, &key, &code, Some(retained))?;
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
        let grant_end = now + cmd.new.grant_ttl;
        let mut granted = start_grant(kv, now, cmd.epoch, who, cmd.new)?;
        granted.nonce = code.nonce.clone();
        code.gid = Some(granted.gid.clone());
        save(kv, &key, &code, Some(retained))?;
        claim(kv, &cmd.client_id, retained.max(grant_end))?;
        Ok(granted)
    }
}

op! {
    /// Starts a grant without a code (the password grant), under the app's current `epoch`.
    CreateGrant in GrantObject => Granted {
        pub client_id: String,
        pub epoch: u64,
        pub user_id: String,
        pub scopes: Vec<String>,
        pub aud: String,
        pub new: NewGrant,
    }
    |cmd, kv, now| {
        fresh(kv)?;
        claim(kv, &cmd.client_id, now + cmd.new.grant_ttl)?;
        let who = Grantee { user_id: cmd.user_id, scopes: cmd.scopes, aud: cmd.aud, authn: None };
        start_grant(kv, now, cmd.epoch, who, cmd.new)
    }
}

op! {
    /// Rotates a refresh token (RFC 9700 §4.14.2): the presented one is retired and a new one
    /// takes its place; a retired one coming back ends the whole grant. `scopes`, if given, must
    /// be within the grant (checked before rotating). `epoch` is the app's, as its client just
    /// authenticated: a grant of an older epoch is dead (and marked revoked).
    Refresh in GrantObject => Granted {
        pub client_id: String,
        pub epoch: u64,
        pub refresh_hash: String,
        pub new_refresh_hash: String,
        pub refresh_ttl: i64,
        pub scopes: Option<Vec<String>>,
    }
    |cmd, kv, now| {
        let unknown = || Error::invalid_grant("the refresh token is invalid or expired");
        if !belongs_to(kv, &cmd.client_id)? {
            return Err(unknown());
        }
        let key = refresh_key(&cmd.refresh_hash);
        let Some(mut rt) = load::<RefreshRecord>(kv, &key)? else {
            return Err(unknown());
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
            return Err(Error::invalid_grant(REFRESH_REUSED));
        }
        if grant.epoch != cmd.epoch || grant.expires_at <= now || rt.expires_at <= now {
            if cmd.epoch > grant.epoch {
                // The app's epoch moved on (secret regenerated, app disabled): the grant is over
                // for good. (An older epoch is a caller that raced a change: refused, no more.)
                revoke_grant(kv, &rt.gid)?;
            }
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
    /// RFC 7009 for a refresh token: the whole grant ends. Another client's token: nothing.
    RevokeRefresh in GrantObject => () {
        pub client_id: String,
        pub refresh_hash: String,
    }
    |cmd, kv, _now| {
        if !belongs_to(kv, &cmd.client_id)? {
            return Ok(());
        }
        if let Some(rt) = load::<RefreshRecord>(kv, &refresh_key(&cmd.refresh_hash))? {
            revoke_grant(kv, &rt.gid)?;
        }
        Ok(())
    }
}

op! {
    /// Whether grant `gid` (named by an access token of `client_id`) is still alive: not revoked,
    /// not expired. The app's epoch is checked in the app's object (`app::CheckToken`).
    GrantAlive in GrantObject => bool {
        pub client_id: String,
        pub gid: String,
    }
    |cmd, kv, now| {
        Ok(belongs_to(kv, &cmd.client_id)? && grant_alive(kv, now, &cmd.gid)?)
    }
}

op! {
    /// The person grant `gid` of `client_id` is for, while it is alive: the userinfo endpoint of
    /// a pairwise app, whose tokens' `sub` is not the user id (`oauth::subject`).
    GrantUser in GrantObject => Option<String> {
        pub client_id: String,
        pub gid: String,
    }
    |cmd, kv, now| {
        if !belongs_to(kv, &cmd.client_id)? {
            return Ok(None);
        }
        Ok(load::<GrantRecord>(kv, &grant_key(&cmd.gid))?
            .filter(|g| !g.revoked && g.expires_at > now)
            .map(|g| g.user_id))
    }
}

op! {
    /// Ends grant `gid` of `client_id` for the person `user_id` (the account page's revoke,
    /// account deletion): the grant is revoked, so its refresh tokens are refused and its access
    /// tokens read as inactive (`GrantAlive`), and a code not yet redeemed is spent, so it is
    /// never redeemed. Another client's or another person's grant: nothing. Answers whether
    /// something was ended.
    EndGrant in GrantObject => bool {
        pub client_id: String,
        pub gid: String,
        pub user_id: String,
    }
    |cmd, kv, _now| {
        if !belongs_to(kv, &cmd.client_id)? {
            return Ok(false);
        }
        // At most one code per object.
        let codes: Vec<(String, CodeRecord)> = kv
            .list("code:", None, 4)?
            .into_iter()
            .filter_map(|(k, v)| serde_json::from_str::<CodeRecord>(&v).ok().map(|c| (k, c)))
            .collect();
        let mine = match load::<GrantRecord>(kv, &grant_key(&cmd.gid))? {
            Some(g) => g.user_id == cmd.user_id,
            None => codes.iter().any(|(_, c)| c.user_id == cmd.user_id),
        };
        if !mine {
            return Ok(false);
        }
        revoke_grant(kv, &cmd.gid)?;
        for (k, mut c) in codes {
            if !c.used {
                c.used = true;
                save(kv, &k, &c, Some(c.expires_at + USED_CODE_RETENTION))?;
            }
        }
        Ok(true)
    }
}
