//! OpenID Connect ID tokens (Core 1.0 §2, §3.1.3.6-7, §12.2): the claims of one, and `at_hash`.
//! Issued by the token endpoint when `openid` was granted in the code flow (and on refresh of
//! such a grant), signed by the tenant's keys (`SigningKeys::sign_id_token`, `typ: JWT`).

use crate::config::AccessTokenAlg;
use crate::error::{Error, Result};
use crate::model::App;
use crate::objects::grants::Granted;
use crate::platform::Platform;
use crate::util::b64url;
use sha2::Digest;

/// `at_hash` (Core §3.1.3.6): the left half of the hash of the access token's ASCII octets,
/// base64url. The hash is the one of the ID token's `alg`: SHA-256 for RS256, SHA-512 for
/// EdDSA over Ed25519 (as node `oidc-provider` does).
pub fn at_hash(alg: AccessTokenAlg, access_token: &str) -> String {
    match alg {
        AccessTokenAlg::Rs256 => {
            let h = sha2::Sha256::digest(access_token.as_bytes());
            b64url(h.get(..16).unwrap_or_default())
        }
        AccessTokenAlg::EdDsa => {
            let h = sha2::Sha512::digest(access_token.as_bytes());
            b64url(h.get(..32).unwrap_or_default())
        }
    }
}

/// The algorithm an app registered for its ID tokens (`id_token_signed_response_alg`, checked
/// against the keys when it was registered: `rules::oidc_client`). Were the keys to lose that
/// algorithm later, ID tokens fall back to the default (RS256), which the client then refuses
/// rather than trusting a token it did not ask for.
pub fn wanted(app: &App) -> Option<AccessTokenAlg> {
    match app.id_token_signed_response_alg.as_deref() {
        Some("RS256") => Some(AccessTokenAlg::Rs256),
        Some("EdDSA") => Some(AccessTokenAlg::EdDsa),
        _ => None,
    }
}

/// What an ID token says about a grant.
pub struct IdToken<'a> {
    pub issuer: &'a str,
    /// The subject the app knows the person by (`oauth::subject`).
    pub sub: &'a str,
    pub client_id: &'a str,
    pub grant: &'a Granted,
    pub access_token: &'a str,
    pub alg: AccessTokenAlg,
    pub iat: i64,
    pub ttl: u64,
}

/// The claims: `iss`, `sub` (the person's user id, stable), `aud` and `azp` (the client),
/// `exp`, `iat`, `auth_time` (the log-in, kept across refreshes), `nonce` (exactly as asked,
/// code redemption only), `at_hash`, `sid`, `amr`, `acr` (`rules::acr`). `None` when the grant
/// has no log-in behind it (not from a code): there is no authentication to speak of. The
/// person claims the `claims` parameter asked for in the ID token are added by [`mint`].
pub fn claims(t: &IdToken<'_>) -> Option<serde_json::Value> {
    let authn = t.grant.authn.as_ref()?;
    let mut c = serde_json::json!({
        "iss": t.issuer,
        "sub": t.sub,
        "aud": t.client_id,
        "azp": t.client_id,
        "exp": t.iat + t.ttl as i64,
        "iat": t.iat,
        "auth_time": authn.auth_time,
        "at_hash": at_hash(t.alg, t.access_token),
        "amr": if authn.amr.is_empty() { vec!["pwd".to_owned()] } else { authn.amr.clone() },
        "acr": crate::rules::acr::of(&authn.amr),
    });
    if let Some(sid) = &authn.sid {
        crate::util::set(&mut c, "sid", sid.as_str());
    }
    if let Some(nonce) = &t.grant.nonce {
        crate::util::set(&mut c, "nonce", nonce.as_str());
    }
    Some(c)
}

/// The signed ID token for a grant whose minted scopes (`scopes`) hold `openid`, and the time
/// spent signing; `None` otherwise. When the `claims` parameter asked for person claims in the
/// ID token (`asked`: those the person allowed and the app may still have), the person's
/// profile is read for them.
pub async fn mint(
    p: &impl Platform,
    issuer: &str,
    app: &App,
    grant: &Granted,
    scopes: &[String],
    asked: &[String],
    access_token: &str,
) -> Result<Option<(String, f64)>> {
    let client_id = app.client_id.as_str();
    if !scopes.iter().any(|s| s == "openid") {
        return Ok(None);
    }
    let sub = crate::oauth::subject::of(p.config(), app, &grant.user_id);
    let t = IdToken {
        issuer,
        sub: &sub,
        client_id,
        grant,
        access_token,
        alg: p.keys().id_token_alg_for(wanted(app)),
        iat: p.now(),
        ttl: p.config().id_token_ttl,
    };
    let Some(mut c) = claims(&t) else {
        return Ok(None);
    };
    if !asked.is_empty() {
        let asked: Vec<&str> = asked.iter().map(String::as_str).collect();
        let profile = crate::accounts::profile(p, &grant.user_id)
            .await?
            .ok_or_else(|| Error::invalid_grant("the person no longer exists"))?;
        crate::oauth::userinfo::person_claims(&mut c, &profile, &asked);
    }
    let start = p.now_ms();
    let token = p.keys().sign_id_token_as(wanted(app), &c).map_err(Error::server)?;
    Ok(Some((token, p.now_ms() - start)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::grants::Authn;

    #[test]
    fn at_hash_matches_the_core_example() {
        // OpenID Connect Core 1.0 Appendix A.3 (RS256): access token and its at_hash.
        let access = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";
        assert_eq!(at_hash(AccessTokenAlg::Rs256, access), "77QmUPtjPfzWtF2AnpK9RQ");
        assert_eq!(at_hash(AccessTokenAlg::EdDsa, access).len(), 43);
    }

    fn grant(authn: Option<Authn>, nonce: Option<&str>) -> Granted {
        Granted {
            gid: "g".into(),
            user_id: "user-1".into(),
            scopes: vec!["openid".into()],
            aud: "https://api".into(),
            epoch: 0,
            authn,
            nonce: nonce.map(str::to_owned),
        }
    }

    #[test]
    fn claims_of_a_code_grant_and_of_none() {
        let authn = Authn { auth_time: 90, sid: Some("sid-1".into()), ..Default::default() };
        let g = grant(Some(authn), Some("n<&>"));
        let t = IdToken {
            issuer: "https://i",
            sub: "user-1",
            client_id: "c",
            grant: &g,
            access_token: "at",
            alg: AccessTokenAlg::Rs256,
            iat: 100,
            ttl: 3600,
        };
        let c = claims(&t).unwrap();
        assert_eq!(
            c,
            serde_json::json!({"iss": "https://i", "sub": "user-1", "aud": "c", "azp": "c",
                "exp": 3700, "iat": 100, "auth_time": 90, "at_hash": at_hash(AccessTokenAlg::Rs256, "at"),
                "amr": ["pwd"], "acr": crate::rules::acr::PASSWORD, "sid": "sid-1", "nonce": "n<&>"})
        );
        // No nonce asked: none in the token; no log-in behind the grant: no ID token.
        let g = grant(Some(Authn { auth_time: 90, ..Default::default() }), None);
        let c = claims(&IdToken { grant: &g, ..t }).unwrap();
        assert!(c.get("nonce").is_none() && c.get("sid").is_none());
        let g = grant(None, None);
        assert!(claims(&IdToken { grant: &g, issuer: "https://i", sub: "user-1", client_id: "c", access_token: "at", alg: AccessTokenAlg::Rs256, iat: 1, ttl: 1 }).is_none());
    }
}
