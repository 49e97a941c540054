//! OpenID Connect Back-Channel Logout 1.0: the apps that got an ID token in a log-in session
//! are remembered by its `sid` (`objects::login_apps`, at the code exchange, for apps with a
//! `backchannel_logout_uri`), and when the session ends each gets a logout token (§2.4):
//! `typ: logout+jwt`, signed by the tenant's ID-token key, with `iss`, `aud` (the client id),
//! `iat`, `exp` (short), a random `jti`, `events` holding the back-channel-logout event, `sub`
//! and `sid`, and never a `nonce` (§2.4: a logout token with one is to be rejected). Sending is
//! left to after the response ([`Deferred`], `platform::deferred`).

use crate::error::{Error, Result};
use crate::model::{App, Status};
use crate::objects::grants::Granted;
use crate::objects::login_apps;
use crate::objects::session::SessionRecord;
use crate::platform::{random_token, Deferred, Platform};

/// The event a logout token holds (§2.4).
pub const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// How long a logout token is valid (seconds): it is sent at once (retries included, within
/// seconds), so a short life limits what a stolen one could do.
pub const TTL: i64 = 120;

/// The claims of the logout token for `client_id` about the session (`sub`, `sid`).
pub fn claims(issuer: &str, client_id: &str, sub: &str, sid: &str, iat: i64, jti: &str) -> serde_json::Value {
    serde_json::json!({
        "iss": issuer,
        "aud": client_id,
        "iat": iat,
        "exp": iat + TTL,
        "jti": jti,
        "sub": sub,
        "sid": sid,
        "events": { EVENT: {} },
    })
}

/// At a code exchange that issued an ID token: remembers the app in the session's list when it
/// wants back-channel logout (an app without a `backchannel_logout_uri` costs nothing). Never
/// fails the token response: the code is already spent, so a storage error is only logged.
pub async fn remember(p: &impl Platform, app: &App, granted: &Granted, id_token_issued: bool) {
    let Some(sid) = granted.authn.as_ref().and_then(|a| a.sid.as_deref()) else {
        return;
    };
    if !id_token_issued || app.backchannel_logout_uri.is_none() {
        return;
    }
    let cmd = login_apps::Add {
        client_id: app.client_id.clone(),
        expires_at: p.now() + p.config().session_ttl as i64,
    };
    if let Err(e) = p.call(&login_apps::object(sid), cmd).await {
        p.audit(&serde_json::json!({"event": "backchannel_logout_not_remembered",
            "client_id": app.client_id, "error": e.code.as_str()}));
    }
}

/// The back-channel notifications for a session that has just ended: one logout token per
/// remembered app that is still active and still has a `backchannel_logout_uri`.
pub async fn for_ended_session(p: &impl Platform, issuer: &str, session: &SessionRecord) -> Result<Vec<Deferred>> {
    let Some(sid) = session.sid.as_deref() else {
        return Ok(Vec::new());
    };
    let clients = p.call(&login_apps::object(sid), login_apps::Take {}).await?;
    let mut jobs = Vec::new();
    for client_id in clients {
        let Some(app) = p.app_meta(&client_id).await? else {
            continue;
        };
        let Some(url) = app.backchannel_logout_uri.clone().filter(|_| app.status == Status::Active) else {
            continue;
        };
        let sub = crate::oauth::subject::of(p.config(), &app, &session.user_id);
        let c = claims(issuer, &client_id, &sub, sid, p.now(), &random_token(p, 24)?);
        let logout_token = p.keys().sign_logout_token(crate::oauth::id_token::wanted(&app), &c).map_err(Error::server)?;
        jobs.push(Deferred::BackchannelLogout {
            client_id,
            url,
            logout_token,
            tenant: None,
        });
    }
    Ok(jobs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_logout_token_has_the_claims_of_section_2_4_and_no_nonce() {
        let c = claims("https://i", "c", "user-1", "sid-1", 100, "j");
        assert_eq!(
            c,
            serde_json::json!({"iss": "https://i", "aud": "c", "iat": 100, "exp": 100 + TTL,
                "jti": "j", "sub": "user-1", "sid": "sid-1",
                "events": {"http://schemas.openid.net/event/backchannel-logout": {}}})
        );
        assert!(c.get("nonce").is_none());
    }
}
