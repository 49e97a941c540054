//! Verifying a JWT an app signed with its own RSA key: the app token (`/application/token`),
//! the RFC 7523 jwt-bearer grant and `private_key_jwt` client authentication all use this.
//! Every rejection names its reason in words; none says which key was tried.

use crate::crypto::{app_keys, jwt};
use crate::model::App;
use crate::oauth::client_auth::valid_client_id;
use crate::store::shard::{Command, Reply};
use crate::store::Platform;
use crate::util::{b64url, sha256};

/// Longest lifetime (`exp - iat`) an assertion may claim.
pub const MAX_LIFETIME: i64 = 600;
/// Clock skew tolerated for `iat` and `nbf`.
pub const SKEW: i64 = 60;

pub struct Rules<'a> {
    /// RFC 7523 requires `aud`; `/application/token` only checks it when present.
    pub require_aud: bool,
    /// `iat` required (the app-token contract) or optional (RFC 7523).
    pub require_iat: bool,
    /// `private_key_jwt`: `sub` must equal `iss`.
    pub require_sub_is_iss: bool,
    pub audiences: &'a [String],
}

#[derive(Debug)]
pub struct Verified {
    pub app: App,
    pub epoch: u64,
    /// The registered key that verified the signature.
    pub kid: String,
}

/// Why an assertion was refused, in words fit for the client.
pub type Rejection = String;

pub async fn verify(p: &impl Platform, token: &str, rules: &Rules<'_>) -> Result<Verified, Rejection> {
    let t = jwt::decode(token).map_err(|e| match e {
        jwt::DecodeError::TooLong => "the assertion is too long".to_owned(),
        jwt::DecodeError::Malformed => {
            "the assertion is not a JWT (three base64url parts with JSON header and claims)".to_owned()
        }
    })?;
    if t.header.alg != "RS256" {
        return Err("the assertion must be signed with RS256".into());
    }
    let iss = t.str_claim("iss").ok_or("the assertion has no 'iss' claim")?;
    if rules.require_sub_is_iss && t.str_claim("sub") != Some(iss) {
        return Err("'sub' must equal 'iss' (the client id)".into());
    }
    let now = p.now();
    let time = |name| {
        t.time_claim(name)
            .map_err(|_| format!("'{name}' must be a number of seconds"))
    };
    let exp = time("exp")?.ok_or("the assertion has no 'exp' claim")?;
    let iat = time("iat")?;
    if rules.require_iat && iat.is_none() {
        return Err("the assertion has no 'iat' claim".into());
    }
    if exp <= now {
        return Err("the assertion has expired".into());
    }
    if iat.is_some_and(|iat| iat > now + SKEW) {
        return Err("'iat' is in the future".into());
    }
    if exp - iat.unwrap_or(now) > MAX_LIFETIME {
        return Err(format!("the assertion lives longer than {MAX_LIFETIME} seconds"));
    }
    if time("nbf")?.is_some_and(|nbf| nbf > now + SKEW) {
        return Err("the assertion is not valid yet ('nbf' is in the future)".into());
    }
    match t.claims.get("aud") {
        None if rules.require_aud => return Err("the assertion has no 'aud' claim".into()),
        None => {}
        Some(aud) => {
            let ok = match aud {
                serde_json::Value::String(s) => rules.audiences.contains(s),
                serde_json::Value::Array(a) => a
                    .iter()
                    .filter_map(|v| v.as_str())
                    .any(|s| rules.audiences.iter().any(|x| x == s)),
                _ => false,
            };
            if !ok {
                return Err("'aud' does not name this server".into());
            }
        }
    }
    if !valid_client_id(iss) {
        return Err("'iss' is not a known app".into());
    }
    let app = p
        .app_meta(iss)
        .await
        .map_err(|e| e.description)?
        .ok_or("'iss' is not a known app")?;
    let kid = app
        .keys
        .iter()
        .filter(|k| {
            t.header.kid.is_none() || k.get("kid").and_then(|v| v.as_str()) == t.header.kid.as_deref()
        })
        .find(|k| app_keys::to_public_key(k).is_some_and(|pk| t.verify_rs256(&pk)))
        .and_then(|k| k.get("kid").and_then(|v| v.as_str()))
        .ok_or("the signature does not verify with any key registered for the app")?
        .to_owned();
    // Without a jti the token itself is the replay identifier: the same bytes are accepted once.
    let jti = match t.claims.get("jti") {
        Some(serde_json::Value::String(j)) if !j.is_empty() && j.len() <= 256 => {
            b64url(&sha256(j.as_bytes()))
        }
        Some(_) => return Err("'jti' must be a string of at most 256 characters".into()),
        None => format!("t.{}", b64url(&sha256(token.as_bytes()))),
    };
    match p
        .shard(
            &format!("app:{iss}"),
            Command::UseAssertion {
                jti,
                exp,
                kid: kid.clone(),
            },
        )
        .await
    {
        Ok(Reply::Client { app, epoch }) => Ok(Verified { app, epoch, kid }),
        Ok(_) => Err("unexpected reply from storage".into()),
        Err(e) => Err(e.description),
    }
}
