//! The edge gateway: requests to protected routes are checked here before they reach the
//! origin. A route (from `GATEWAY_ROUTES`) is a path prefix, optional methods, the scopes it
//! requires and the origin to forward to.
//!
//! Checks: a bearer access token we issued (signature, `typ`, `iss`, `exp`), an accepted `aud`,
//! the route's scopes, and liveness (app epoch, key, grant, revocation) from the app's Durable
//! Object. A liveness answer is remembered in the isolate for `GATEWAY_CACHE_SECONDS`
//! (default 30): that is the staleness bound. A revocation or secret regeneration takes effect
//! at the gateway within that many seconds; introspection and userinfo see it at once.

use crate::http::{Request, Response};
use crate::oauth::error::{Challenge, Error, ErrorCode, Result};
use crate::oauth::mint;
use crate::store::Platform;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Path prefix, matched on segment boundaries (`/api` matches `/api` and `/api/x`, not `/apix`).
    pub prefix: String,
    #[serde(default)]
    pub methods: Vec<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Origin base URL; the request path and query are appended.
    pub origin: String,
}

/// Parses `GATEWAY_ROUTES` (a JSON array); bad entries are an error the operator sees at start.
pub fn parse_routes(json: &str) -> std::result::Result<Vec<Route>, String> {
    let routes: Vec<Route> = serde_json::from_str(json).map_err(|e| format!("GATEWAY_ROUTES: {e}"))?;
    for r in &routes {
        if !r.prefix.starts_with('/') || r.prefix.len() < 2 {
            return Err(format!(
                "GATEWAY_ROUTES: prefix '{}' must start with / and not be /",
                r.prefix
            ));
        }
        if !(r.origin.starts_with("https://") || r.origin.starts_with("http://")) {
            return Err(format!(
                "GATEWAY_ROUTES: origin '{}' must be an http(s) URL",
                r.origin
            ));
        }
    }
    Ok(routes)
}

/// The protected route a path falls under (the longest matching prefix).
pub fn route_for<'a>(routes: &'a [Route], path: &str) -> Option<&'a Route> {
    routes
        .iter()
        .filter(|r| {
            let p = r.prefix.trim_end_matches('/');
            path == p || path.starts_with(&format!("{p}/"))
        })
        .max_by_key(|r| r.prefix.len())
}

fn challenge(code: ErrorCode, msg: &str, scope: Option<&Route>) -> Error {
    let scope = scope.map(|r| r.scopes.join(" ")).filter(|s| !s.is_empty());
    Error::new(code, msg).with_challenge(Challenge::Bearer { scope })
}

/// Headers an end client may not set: the gateway owns them.
fn stripped(name: &str) -> bool {
    matches!(
        name,
        "authorization" | "host" | "cookie" | "content-length" | "cf-connecting-ip"
    ) || name.starts_with("x-auth-")
}

pub async fn handle(p: &impl Platform, issuer: &str, route: &Route, req: &Request) -> Result<Response> {
    if !route.methods.is_empty() && !route.methods.iter().any(|m| m.eq_ignore_ascii_case(&req.method)) {
        return Err(Error::method_not_allowed(&route.methods));
    }
    let Some(token) = req.bearer().filter(|t| !t.is_empty()) else {
        // RFC 6750 §3.1: no credentials, no error code, just the challenge.
        return Err(
            Error::new(ErrorCode::InvalidToken, "an access token is required").with_challenge(
                Challenge::Bearer {
                    scope: Some(route.scopes.join(" ")).filter(|s| !s.is_empty()),
                },
            ),
        );
    };
    let claims = mint::validate(p, issuer, token).ok_or_else(|| {
        challenge(
            ErrorCode::InvalidToken,
            "the access token is invalid or expired",
            Some(route),
        )
    })?;
    let cfg = p.config();
    let aud_ok = claims.aud == issuer
        || cfg.audience.as_deref() == Some(claims.aud.as_str())
        || cfg.resources.contains(&claims.aud);
    if !aud_ok {
        return Err(challenge(
            ErrorCode::InvalidToken,
            "the access token is for another audience",
            Some(route),
        ));
    }
    let granted: Vec<&str> = claims.scope.split(' ').collect();
    if let Some(missing) = route.scopes.iter().find(|s| !granted.contains(&s.as_str())) {
        return Err(challenge(
            ErrorCode::InsufficientScope,
            &format!("this route needs the '{missing}' scope"),
            Some(route),
        ));
    }
    let live = match p.cached_liveness(&claims.jti) {
        Some(a) => a,
        None => {
            let a = mint::is_live(p, &claims).await?;
            let until = p.now_ms() + cfg.gateway_cache_seconds as f64 * 1000.0;
            p.remember_liveness(&claims.jti, a, until.min(claims.exp as f64 * 1000.0));
            a
        }
    };
    if !live {
        return Err(challenge(
            ErrorCode::InvalidToken,
            "the access token was revoked",
            Some(route),
        ));
    }
    let mut out = req.clone();
    out.headers.retain(|(k, _)| !stripped(k));
    out.headers.push(("x-auth-subject".into(), claims.sub.clone()));
    out.headers
        .push(("x-auth-client-id".into(), claims.client_id.clone()));
    out.headers.push(("x-auth-scope".into(), claims.scope.clone()));
    let mut url = format!("{}{}", route.origin.trim_end_matches('/'), req.path);
    if !req.query.is_empty() {
        url.push('?');
        url.push_str(&req.query);
    }
    Ok(p.fetch_origin(out, &url).await?.client(Some(&claims.client_id)))
}

/// RFC 9728 protected-resource metadata for the gateway's routes.
pub fn resource_metadata(p: &impl Platform, issuer: &str) -> serde_json::Value {
    let cfg = p.config();
    let mut scopes: Vec<&str> = cfg
        .gateway_routes
        .iter()
        .flat_map(|r| r.scopes.iter().map(String::as_str))
        .collect();
    scopes.sort_unstable();
    scopes.dedup();
    serde_json::json!({
        "resource": cfg.audience.clone().unwrap_or_else(|| issuer.to_owned()),
        "authorization_servers": [issuer],
        "scopes_supported": scopes,
        "bearer_methods_supported": ["header"],
        "resource_signing_alg_values_supported": ["RS256"],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_parse_and_match_on_segments() {
        let routes = parse_routes(r#"[{"prefix":"/api","scopes":["users:read"],"origin":"http://127.0.0.1:9"},{"prefix":"/api/admin","origin":"http://127.0.0.1:9"}]"#).unwrap();
        assert_eq!(route_for(&routes, "/api/users").unwrap().prefix, "/api");
        assert_eq!(route_for(&routes, "/api").unwrap().prefix, "/api");
        assert_eq!(route_for(&routes, "/api/admin/x").unwrap().prefix, "/api/admin");
        assert!(route_for(&routes, "/apix").is_none());
        assert!(parse_routes(r#"[{"prefix":"api","origin":"http://x"}]"#).is_err());
        assert!(parse_routes(r#"[{"prefix":"/a","origin":"ftp://x"}]"#).is_err());
        assert!(parse_routes("nope").is_err());
    }
}
