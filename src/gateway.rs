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
use crate::error::{Challenge, Error, ErrorCode, Result};
use crate::oauth::mint;
use crate::platform::Platform;
pub use crate::config::{parse_routes, Route};

/// Why a path cannot be taken to a protected route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathRejection {
    /// `;` parameters: origins disagree on what they mean (Tomcat drops them, others keep).
    Parameters,
    /// `%2F`, `%5C`, a backslash or a control character inside a segment.
    EncodedSeparator,
    /// A percent escape that is malformed or decodes to invalid UTF-8.
    BadEncoding,
    /// `..` above the root.
    AboveRoot,
}

impl PathRejection {
    pub fn describe(self) -> &'static str {
        match self {
            PathRejection::Parameters => "';' path parameters are not accepted",
            PathRejection::EncodedSeparator => "encoded slashes, backslashes and control characters are not accepted in a path",
            PathRejection::BadEncoding => "the path has malformed percent-encoding",
            PathRejection::AboveRoot => "the path climbs above the root",
        }
    }
}

/// The one form of a path that routes are matched on and that is forwarded: percent escapes
/// decoded where they are plain characters, `.` and `..` segments resolved, duplicate slashes
/// collapsed. `;` parameters and encoded separators are refused rather than guessed at, so the
/// gateway and the origin cannot read one path two ways.
pub fn canonical_path(raw: &str) -> std::result::Result<String, PathRejection> {
    let mut segments: Vec<String> = Vec::new();
    let trailing = raw.len() > 1 && raw.ends_with('/');
    for seg in raw.split('/') {
        if seg.contains(';') {
            return Err(PathRejection::Parameters);
        }
        let decoded = decode_segment(seg)?;
        match decoded.as_str() {
            "" | "." => {}
            ".." => {
                if segments.pop().is_none() {
                    return Err(PathRejection::AboveRoot);
                }
            }
            _ => segments.push(decoded),
        }
    }
    let mut out = String::with_capacity(raw.len());
    for s in &segments {
        out.push('/');
        out.push_str(&encode_segment(s));
    }
    if out.is_empty() || trailing {
        out.push('/');
    }
    Ok(out)
}

fn decode_segment(seg: &str) -> std::result::Result<String, PathRejection> {
    let out = crate::http::params::percent_unescape(seg.as_bytes(), false).ok_or(PathRejection::BadEncoding)?;
    if out.contains(&b';') {
        return Err(PathRejection::Parameters);
    }
    if out.iter().any(|b| *b == b'/' || *b == b'\\' || b.is_ascii_control()) {
        return Err(PathRejection::EncodedSeparator);
    }
    String::from_utf8(out).map_err(|_| PathRejection::BadEncoding)
}

/// Percent-encodes what RFC 3986 does not allow bare in a segment (and `%` itself).
fn encode_segment(s: &str) -> String {
    crate::http::params::percent_encode_keeping(s, b"-._~!$&'()*+,=:@")
}

/// The protected route a canonical path falls under: the longest prefix that matches on
/// segment boundaries, compared ASCII case-insensitively, so `/api/ADMIN` is under an
/// `/api/admin` route even for an origin that ignores case.
pub fn route_for<'a>(routes: &'a [Route], path: &str) -> Option<&'a Route> {
    routes
        .iter()
        .filter(|r| {
            let p = r.prefix.trim_end_matches('/');
            path.get(..p.len()).is_some_and(|head| head.eq_ignore_ascii_case(p))
                && path
                    .get(p.len()..)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
        .max_by_key(|r| r.prefix.len())
}

fn challenge(code: ErrorCode, msg: &str, scope: Option<&Route>) -> Error {
    let scope = scope.map(|r| r.scopes.join(" ")).filter(|s| !s.is_empty());
    Error::new(code, msg).with_challenge(Challenge::Bearer { scope })
}

/// Headers an end client may not set: the gateway owns them. Names are compared as CGI and
/// WSGI origins read them (case-insensitive, `_` the same as `-`), so `X_Auth_Subject` goes too.
fn stripped(name: &str) -> bool {
    let n = name.to_ascii_lowercase().replace('_', "-");
    matches!(
        n.as_str(),
        "authorization" | "host" | "cookie" | "content-length" | "cf-connecting-ip"
    ) || n.starts_with("x-auth-")
}

/// `path` is the request's canonical path ([`canonical_path`]): what the route was chosen by
/// and exactly what the origin receives.
pub async fn handle(p: &impl Platform, issuer: &str, route: &Route, path: &str, req: &Request) -> Result<Response> {
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
    // GATEWAY_CACHE_SECONDS=0: the app's Durable Object is asked on every request.
    let caching = cfg.gateway_cache_seconds > 0;
    let now_ms = p.now_ms();
    let live = match caching.then(|| p.liveness().get(&claims.jti, now_ms)).flatten() {
        Some(a) => a,
        None => {
            let a = mint::is_live(p, &claims).await?;
            if caching {
                let until = now_ms + cfg.gateway_cache_seconds as f64 * 1000.0;
                let until = until.min(claims.exp as f64 * 1000.0);
                p.liveness().remember(&claims.jti, a, until, now_ms);
            }
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
    // Which tenant the token is of: one deployment's routes serve every organisation, so the
    // origin needs this to tell `acme`'s subjects and scopes from `beta`'s.
    out.headers.push(("x-auth-issuer".into(), issuer.to_owned()));
    let mut url = format!("{}{}", route.origin.trim_end_matches('/'), path);
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
        assert_eq!(route_for(&routes, "/API/Admin/x").unwrap().prefix, "/api/admin");
        assert!(parse_routes(r#"[{"prefix":"api","origin":"http://x"}]"#).is_err());
        assert!(parse_routes(r#"[{"prefix":"/a","origin":"ftp://x"}]"#).is_err());
        assert!(parse_routes("nope").is_err());
    }
}

#[cfg(test)]
mod path_tests {
    use super::*;

    /// Issue 13 item 9: every spelling that reached the origin under `/api`'s weaker check
    /// is either the `/api/admin` path once canonical, or refused.
    #[test]
    fn path_confusion_is_canonicalised_or_refused() {
        let routes = parse_routes(r#"[{"prefix":"/api","scopes":["users:read"],"origin":"http://o"},{"prefix":"/api/admin","scopes":["users:write"],"origin":"http://o"}]"#).unwrap();
        for raw in ["/api//admin/x", "/api/./admin/x", "/api/x/../admin/x", "/api/%61dmin/x", "//api/admin/x", "/api/ADMIN/x", "/api/admin/./x", "/api/%2e/admin/x", "/api/%2E%2E/api/admin/x"] {
            let c = canonical_path(raw).unwrap_or_else(|e| panic!("{raw}: {e:?}"));
            assert_eq!(route_for(&routes, &c).unwrap().prefix, "/api/admin", "{raw} → {c}");
        }
        for (raw, why) in [
            ("/api/admin;a=b/x", PathRejection::Parameters),
            ("/api;/admin/x", PathRejection::Parameters),
            ("/api/admin%3bx", PathRejection::Parameters),
            ("/api/admin%2fx", PathRejection::EncodedSeparator),
            ("/api/admin%2Fx", PathRejection::EncodedSeparator),
            ("/api%5cadmin/x", PathRejection::EncodedSeparator),
            ("/api\\admin", PathRejection::EncodedSeparator),
            ("/api/%00", PathRejection::EncodedSeparator),
            ("/api/%zz", PathRejection::BadEncoding),
            ("/api/%ff", PathRejection::BadEncoding),
            ("/api/%", PathRejection::BadEncoding),
            ("/../api", PathRejection::AboveRoot),
        ] {
            assert_eq!(canonical_path(raw), Err(why), "{raw}");
        }
        assert_eq!(canonical_path("/api/x/").unwrap(), "/api/x/");
        assert_eq!(canonical_path("/").unwrap(), "/");
        assert_eq!(canonical_path("/a%20b/%C3%A9").unwrap(), "/a%20b/%C3%A9");
        assert_eq!(canonical_path("/a b").unwrap(), "/a%20b");
    }

    #[test]
    fn gateway_owned_headers_are_stripped_in_every_spelling() {
        for h in ["X-Auth-Subject", "x_auth_subject", "X_AUTH_SCOPE", "x-auth-", "Authorization", "COOKIE", "cf_connecting_ip"] {
            assert!(stripped(h), "{h}");
        }
        for h in ["x-authx", "accept", "x-request-id"] {
            assert!(!stripped(h), "{h}");
        }
    }

    /// Canonicalising twice changes nothing, and never panics on arbitrary input.
    #[test]
    fn canonical_is_idempotent() {
        let samples = ["/a/b", "/a//b/", "/%41/%7e", "/x/../../y", "/é/ü", "/a/%2e%2e", "/~user/!$&'()*+,=:@"];
        for s in samples {
            if let Ok(c) = canonical_path(s) {
                assert_eq!(canonical_path(&c).as_deref(), Ok(c.as_str()), "{s}");
            }
        }
    }
}
