//! HTTP to the server: one agent (rustls, no redirects followed, timeouts), URLs built from
//! path segments (each percent-encoded), answers turned into JSON or an [`Error`].

use crate::error::{Error, Result};
use serde_json::Value;
use std::time::Duration;

/// An answer larger than this is not an admin API answer.
const MAX_BODY: u64 = 16 * 1024 * 1024;

pub struct Client {
    agent: ureq::Agent,
    pub server: String,
    token: Option<String>,
}

/// What a request sends.
pub enum Body<'a> {
    None,
    Json(&'a Value),
    /// A bearer token other than the admin token (the app assertion of `token`).
    Bearer(&'a str),
    /// Bytes of a content type (an import's NDJSON batch).
    Raw(&'a str, &'a [u8]),
}

const HINT_LOGIN: &str =
    "the admin token is wrong or revoked: run `portcullis login` again (or check PORTCULLIS_TOKEN)";

impl Client {
    pub fn new(server: String, token: Option<String>) -> Client {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // The admin API never redirects; a redirect is an answer to show, not to follow
            // (with the token) somewhere else.
            .max_redirects(0)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(Some(Duration::from_secs(60)))
            .user_agent(concat!("portcullis-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Client { agent, server, token }
    }

    /// `server` + the segments (percent-encoded) + the query pairs whose value is set.
    pub fn url(&self, segments: &[&str], query: &[(&str, Option<String>)]) -> Result<String> {
        let mut url = url::Url::parse(&self.server)
            .map_err(|e| Error::usage(format!("bad server URL {}: {e}", self.server)))?;
        {
            let mut path = url
                .path_segments_mut()
                .map_err(|_| Error::usage(format!("bad server URL {}", self.server)))?;
            path.pop_if_empty();
            for s in segments {
                path.push(s);
            }
        }
        let set: Vec<_> = query
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
            .collect();
        if !set.is_empty() {
            let mut q = url.query_pairs_mut();
            for (k, v) in set {
                q.append_pair(k, v);
            }
        }
        Ok(url.into())
    }

    /// An admin API call: the admin token is required.
    pub fn admin(
        &self,
        method: &str,
        segments: &[&str],
        query: &[(&str, Option<String>)],
        body: Body<'_>,
    ) -> Result<Option<Value>> {
        let token = self.token.as_deref().ok_or_else(|| {
            Error::usage(format!(
                "no admin token for {}: run `portcullis login --server {}` or set PORTCULLIS_TOKEN",
                self.server, self.server
            ))
        })?;
        let url = self.url(segments, query)?;
        self.call(method, &url, Some(token), body, Some(HINT_LOGIN))
    }

    /// Any call; `Ok(None)` for an answer without a body (204).
    pub fn call(
        &self,
        method: &str,
        url: &str,
        token: Option<&str>,
        body: Body<'_>,
        hint_401: Option<&'static str>,
    ) -> Result<Option<Value>> {
        let bearer = match body {
            Body::Bearer(b) => Some(b),
            _ => token,
        };
        let auth = bearer.map(|t| format!("Bearer {t}"));
        let (json, content_type) = match body {
            Body::Json(v) => (Some(serde_json::to_vec(v).unwrap_or_default()), "application/json"),
            Body::Raw(t, b) => (Some(b.to_vec()), t),
            _ => (None, "application/json"),
        };
        macro_rules! with_auth {
            ($b:expr) => {{
                let b = $b.header("accept", "application/json");
                match &auth {
                    Some(a) => b.header("authorization", a),
                    None => b,
                }
            }};
        }
        let sent = match (method, json) {
            ("GET", _) => with_auth!(self.agent.get(url)).call(),
            ("DELETE", _) => with_auth!(self.agent.delete(url)).call(),
            (m, Some(j)) => {
                let b = match m {
                    "PATCH" => self.agent.patch(url),
                    "PUT" => self.agent.put(url),
                    _ => self.agent.post(url),
                };
                with_auth!(b)
                    .header("content-type", content_type)
                    .send(&j[..])
            }
            (_, None) => with_auth!(self.agent.post(url)).send_empty(),
        };
        let mut resp = sent.map_err(|e| network(&self.server, e))?;
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_string()
            .map_err(|e| network(&self.server, e))?;
        if (200..300).contains(&status) {
            if text.trim().is_empty() {
                return Ok(None);
            }
            return serde_json::from_str(&text).map(Some).map_err(|e| {
                Error::Network(format!(
                    "{} answered {status} with something that is not JSON ({e}); is this a Portcullis server?",
                    self.server
                ))
            });
        }
        Err(refused(
            status,
            &text,
            resp.headers().get("location").and_then(|l| l.to_str().ok()),
            hint_401,
        ))
    }
}

/// A non-2xx answer as an error: the RFC 6749 `error`/`error_description` when the body has them.
pub fn refused(status: u16, body: &str, location: Option<&str>, hint_401: Option<&'static str>) -> Error {
    let v: Option<Value> = serde_json::from_str(body).ok();
    let field = |k: &str| {
        v.as_ref()
            .and_then(|v| v.get(k))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let mut description = field("error_description");
    if description.is_none() && (300..400).contains(&status) {
        description = Some(format!("redirected to {}", location.unwrap_or("?")));
    }
    let hint = match status {
        401 => hint_401,
        404 if v.is_none() => Some("is the server URL right? It should be the Portcullis issuer URL"),
        _ => None,
    };
    Error::Refused {
        status,
        code: field("error"),
        description,
        body: if v.is_some() {
            String::new()
        } else {
            body.to_owned()
        },
        hint,
    }
}

/// A transport failure, named.
fn network(server: &str, e: ureq::Error) -> Error {
    let why = match &e {
        ureq::Error::ConnectionFailed => "connection refused or failed".to_owned(),
        ureq::Error::HostNotFound => "host not found (DNS)".to_owned(),
        ureq::Error::Timeout(_) => format!("timed out ({e})"),
        ureq::Error::Io(io) => format!("{io}"),
        other => other.to_string(),
    };
    Error::Network(format!("cannot reach {server}: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_encoded_and_empty_query_values_left_out() {
        let c = Client::new("https://a.example/base".into(), None);
        assert_eq!(
            c.url(
                &["admin", "apps", "a/b c"],
                &[("name", Some("x&y".into())), ("owner", None)]
            )
            .unwrap(),
            "https://a.example/base/admin/apps/a%2Fb%20c?name=x%26y"
        );
        let c = Client::new("http://127.0.0.1:8787".into(), None);
        assert_eq!(
            c.url(&["admin", "apps"], &[]).unwrap(),
            "http://127.0.0.1:8787/admin/apps"
        );
    }

    #[test]
    fn refusals_show_the_rfc6749_error() {
        let e = refused(
            401,
            r#"{"error":"invalid_token","error_description":"a valid admin token is required"}"#,
            None,
            Some(HINT_LOGIN),
        );
        assert_eq!(e.exit_code(), 2);
        let s = e.to_string();
        assert!(
            s.contains("401 invalid_token")
                && s.contains("a valid admin token is required")
                && s.contains("login"),
            "{s}"
        );
        let s = refused(502, "<html>bad gateway</html>", None, None).to_string();
        assert!(s.contains("502") && s.contains("bad gateway"), "{s}");
        let s = refused(302, "", Some("https://elsewhere"), None).to_string();
        assert!(s.contains("redirected to https://elsewhere"), "{s}");
    }

    #[test]
    fn no_token_is_a_usage_error_before_any_request() {
        let c = Client::new("http://127.0.0.1:9".into(), None);
        let e = c.admin("GET", &["admin", "apps"], &[], Body::None).unwrap_err();
        assert_eq!(e.exit_code(), 1);
        assert!(e.to_string().contains("portcullis login"));
    }

    #[test]
    fn a_closed_port_is_a_network_error() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let c = Client::new(format!("http://127.0.0.1:{port}"), Some("t".into()));
        let e = c.admin("GET", &["admin", "apps"], &[], Body::None).unwrap_err();
        assert_eq!(e.exit_code(), 3, "{e}");
        assert!(e.to_string().contains("cannot reach"), "{e}");
    }
}
