//! Authorization endpoint and token endpoint rule tables of the code flow: error pages versus
//! error redirects, deny, and the code grant's refusals (wrong verifier, downgrade, wrong
//! redirect URI, another client's code, wrong secret). Moved from tests/code_flow.rs, which
//! keeps the whole flows, the races and what needs workerd.

use super::support::*;
use crate::http::Response;
use crate::platform::memory::MemPlatform;
use crate::util::{b64url, sha256};
use serde_json::{json, Value};

/// A PKCE pair: a 64-character verifier and its S256 challenge.
fn pkce() -> (String, String) {
    let verifier = rand_hex(32);
    let challenge = b64url(&sha256(verifier.as_bytes()));
    (verifier, challenge)
}

fn authorize_path(pairs: &[(&str, &str)]) -> String {
    format!("/oauth/authorize?{}", form(pairs))
}

/// Asserts the headers every HTML page must carry.
#[track_caller]
fn assert_page_headers(r: &Response) {
    let ct = r.get_header("content-type").unwrap_or("");
    assert!(ct.starts_with("text/html"), "not HTML: {ct}");
    let csp = r.get_header("content-security-policy").expect("no Content-Security-Policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(r.get_header("x-frame-options"), Some("DENY"));
    assert_eq!(r.get_header("referrer-policy"), Some("no-referrer"));
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The hidden inputs of the page's form whose action is `action`.
#[track_caller]
fn form_fields(r: &Response, action: &str) -> Vec<(String, String)> {
    let html = text(r);
    let attr = |tag: &str, name: &str| -> Option<String> {
        let marker = format!(" {name}=\"");
        let at = tag.find(&marker)? + marker.len();
        Some(unescape(tag[at..].split('"').next()?))
    };
    let mut rest = html.as_str();
    while let Some(start) = rest.find("<form") {
        let after = &rest[start..];
        let end = after.find("</form>").unwrap_or(after.len());
        let f = &after[..end];
        let open = &f[..f.find('>').unwrap_or(f.len())];
        if attr(open, "action").as_deref() == Some(action) {
            let mut fields = Vec::new();
            let mut inner = f;
            while let Some(i) = inner.find("<input") {
                let tag_end = inner[i..].find('>').map_or(inner.len(), |e| i + e);
                let tag = &inner[i..tag_end];
                if attr(tag, "type").as_deref() == Some("hidden") {
                    if let Some(name) = attr(tag, "name") {
                        fields.push((name, attr(tag, "value").unwrap_or_default()));
                    }
                }
                inner = &inner[tag_end..];
            }
            return fields;
        }
        rest = &after[end..];
    }
    panic!("no form posting to {action}:\n{html}")
}

/// Consent page → Allow or Deny (its hidden fields plus the decision).
#[track_caller]
fn decide(p: &MemPlatform, b: &mut Browser, consent: &Response, decision: &str) -> Response {
    assert_eq!(consent.status, 200, "{}", text(consent));
    assert!(text(consent).contains("wants to access your account"), "not a consent page: {}", text(consent));
    let mut fields = form_fields(consent, "/oauth/authorize");
    fields.retain(|(k, _)| k != "decision");
    fields.push(("decision".into(), decision.into()));
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    b.post(p, "/oauth/authorize", &form(&pairs))
}

/// Runs an authorization request (consenting when asked) and returns the code of the final
/// redirect, checking `iss` and `state`.
#[track_caller]
fn code_for(p: &MemPlatform, b: &mut Browser, path: &str) -> String {
    let r = b.get(p, path);
    let r = if r.status == 200 { decide(p, b, &r, "allow") } else { r };
    assert_eq!(r.status, 302, "{}", text(&r));
    let loc = r.get_header("location").unwrap().to_owned();
    assert_eq!(query_param(&loc, "iss").as_deref(), Some(ORIGIN), "{loc}");
    if let Some(state) = query_param(path, "state") {
        assert_eq!(query_param(&loc, "state"), Some(state), "{loc}");
    }
    query_param(&loc, "code").unwrap_or_else(|| panic!("no code in {loc}"))
}

/// An app of the code flow, as the admin API makes it.
struct Client {
    app: Value,
    redirect_uri: String,
    public: bool,
}

impl Client {
    /// A confidential web client (`https://…/cb`, client_secret_basic).
    fn web(p: &MemPlatform, scopes: &[&str]) -> Client {
        let uri = format!("https://web-{}.example/cb", rand_hex(3));
        let app = create_app(
            p,
            json!({"name": format!("Web app {}", rand_hex(3)), "owner": "web", "homepage": "https://web.example/",
                   "redirect_uris": [uri], "scopes": scopes}),
        );
        Client { app, redirect_uri: uri, public: false }
    }

    /// A public native client with a private-use scheme redirect.
    fn native(p: &MemPlatform, scopes: &[&str]) -> Client {
        let uri = "com.example.app:/cb".to_owned();
        let app = create_app(
            p,
            json!({"name": format!("Native app {}", rand_hex(3)), "owner": "native", "redirect_uris": [uri],
                   "token_endpoint_auth_method": "none", "scopes": scopes}),
        );
        assert!(app.get("client_secret").is_none(), "a public client got a secret");
        Client { app, redirect_uri: uri, public: true }
    }

    fn id(&self) -> &str {
        self.app["client_id"].as_str().unwrap()
    }

    fn secret(&self) -> &str {
        self.app["client_secret"].as_str().unwrap()
    }

    /// The authorization request path (`code`, S256 challenge when given, a random state).
    fn authorize_path(&self, scope: &str, challenge: Option<&str>) -> String {
        let state = format!("st-{}", rand_hex(4));
        let mut pairs = vec![
            ("response_type", "code"),
            ("client_id", self.id()),
            ("redirect_uri", self.redirect_uri.as_str()),
            ("scope", scope),
            ("state", state.as_str()),
        ];
        if let Some(c) = challenge {
            pairs.push(("code_challenge", c));
            pairs.push(("code_challenge_method", "S256"));
        }
        authorize_path(&pairs)
    }

    /// A token request with this client's authentication (secret via Basic, or `client_id`).
    fn token(&self, p: &MemPlatform, pairs: &[(&str, &str)]) -> Response {
        if self.public {
            let mut v = pairs.to_vec();
            v.push(("client_id", self.id()));
            token_with(p, &v, &[])
        } else {
            token_with(p, pairs, &[("authorization", &basic(self.id(), self.secret()))])
        }
    }

    fn redeem(&self, p: &MemPlatform, code: &str, verifier: Option<&str>) -> Response {
        let mut pairs = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.redirect_uri.as_str()),
        ];
        if let Some(v) = verifier {
            pairs.push(("code_verifier", v));
        }
        self.token(p, &pairs)
    }

    /// A fresh code for `b`'s person (PKCE S256), and its verifier.
    fn code(&self, p: &MemPlatform, b: &mut Browser, scope: &str) -> (String, String) {
        let (verifier, challenge) = pkce();
        let code = code_for(p, b, &self.authorize_path(scope, Some(&challenge)));
        (code, verifier)
    }
}

/// The authorization request path of `c` with `response_type`, `extra` pairs and state `st-1`.
fn request_with_state(c: &Client, response_type: &str, extra: &[(&str, &str)]) -> String {
    let mut pairs = vec![
        ("response_type", response_type),
        ("client_id", c.id()),
        ("redirect_uri", c.redirect_uri.as_str()),
    ];
    pairs.extend_from_slice(extra);
    pairs.push(("state", "st-1"));
    authorize_path(&pairs)
}

#[test]
fn authorization_errors_pages_and_redirects() {
    let p = platform();
    let web = Client::web(&p, &["public"]);
    let native = Client::native(&p, &["public"]);
    // Signed in, so that nothing is skipped for want of a session.
    let mut b = signed_in(&p, "errors@people.example");
    let (_, challenge) = pkce();

    // Unknown client or unregistered redirect URI: an HTML page, never a redirect.
    for (what, q) in [
        (
            "unknown client",
            vec![
                ("response_type", "code".to_string()),
                ("client_id", "u".repeat(32)),
                ("redirect_uri", web.redirect_uri.clone()),
            ],
        ),
        (
            "malformed client",
            vec![("response_type", "code".to_string()), ("client_id", "nope".into())],
        ),
        (
            "unregistered redirect_uri",
            vec![
                ("response_type", "code".to_string()),
                ("client_id", web.id().into()),
                ("redirect_uri", "https://evil.example/cb".into()),
            ],
        ),
        (
            "unregistered redirect_uri with a bad response_type",
            vec![
                ("response_type", "token".to_string()),
                ("client_id", web.id().into()),
                ("redirect_uri", format!("{}/x", web.redirect_uri)),
                ("state", "s".into()),
            ],
        ),
        (
            "redirect_uri of another client",
            vec![
                ("response_type", "code".to_string()),
                ("client_id", native.id().into()),
                ("redirect_uri", web.redirect_uri.clone()),
                ("code_challenge", challenge.clone()),
            ],
        ),
    ] {
        let pairs: Vec<(&str, &str)> = q.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = b.get(&p, &authorize_path(&pairs));
        assert_eq!(r.status, 400, "{what}: {}", text(&r));
        assert!(r.get_header("location").is_none(), "{what}: must not redirect");
        assert_page_headers(&r);
        assert!(text(&r).contains("role=\"alert\""), "{what}: no error message");
    }

    // Other errors go back to the registered URI with error, error_description, state, iss.
    let mut redirect_error = |c: &Client, response_type: &str, extra: &[(&str, &str)], expected: &str| {
        let r = b.get(&p, &request_with_state(c, response_type, extra));
        assert_eq!(r.status, 302, "{expected}: {}", text(&r));
        let loc = r.get_header("location").unwrap().to_owned();
        assert!(loc.starts_with(&c.redirect_uri), "{loc}");
        assert_eq!(query_param(&loc, "error").as_deref(), Some(expected), "{loc}");
        assert!(query_param(&loc, "error_description").is_some_and(|d| !d.is_empty()), "{loc}");
        assert_eq!(query_param(&loc, "state").as_deref(), Some("st-1"), "{loc}");
        assert_eq!(query_param(&loc, "iss").as_deref(), Some(ORIGIN), "{loc}");
        assert!(query_param(&loc, "code").is_none());
    };
    redirect_error(&web, "token", &[], "unsupported_response_type");
    // A public client must send a code_challenge.
    redirect_error(&native, "code", &[], "invalid_request");
    redirect_error(&web, "code", &[("scope", "users:write")], "invalid_scope");
    let s512 = [("code_challenge", challenge.as_str()), ("code_challenge_method", "S512")];
    redirect_error(&web, "code", &s512, "invalid_request");

    // Deny → access_denied with state and iss; no consent is remembered.
    let path = request_with_state(&web, "code", &[]);
    let consent = b.get(&p, &path);
    let r = decide(&p, &mut b, &consent, "deny");
    assert_eq!(r.status, 302, "{}", text(&r));
    let loc = r.get_header("location").unwrap();
    assert!(loc.starts_with(&format!("{}?error=access_denied", web.redirect_uri)), "{loc}");
    assert_eq!(query_param(loc, "state").as_deref(), Some("st-1"));
    assert_eq!(query_param(loc, "iss").as_deref(), Some(ORIGIN));
    assert_eq!(b.get(&p, &path).status, 200);
}

#[test]
fn token_errors_wrong_verifier_downgrade_wrong_redirect_uri() {
    let p = platform();
    let web = Client::web(&p, &["public"]);
    let native = Client::native(&p, &["public"]);
    let other = Client::web(&p, &["public"]);
    let mut b = signed_in(&p, "pkce@people.example");

    // Wrong verifier: invalid_grant, and the code is spent.
    let (code, verifier) = native.code(&p, &mut b, "public");
    let (wrong, _) = pkce();
    let e = expect_error(&native.redeem(&p, &code, Some(&wrong)), 400, "invalid_grant");
    assert!(e["error_description"].as_str().unwrap().contains("code_verifier"), "{e}");
    expect_error(&native.redeem(&p, &code, Some(&verifier)), 400, "invalid_grant");
    // A malformed verifier (too short) likewise.
    let (code, _) = native.code(&p, &mut b, "public");
    expect_error(&native.redeem(&p, &code, Some("abc")), 400, "invalid_grant");

    // Downgrade: a verifier for a code issued without a challenge.
    let path = web.authorize_path("public", None);
    let code = code_for(&p, &mut b, &path);
    let (v, _) = pkce();
    expect_error(&web.redeem(&p, &code, Some(&v)), 400, "invalid_grant");
    // The same flow without a verifier works (confidential client, no PKCE).
    let code = code_for(&p, &mut b, &path);
    expect_json(&web.redeem(&p, &code, None), 200);

    // Wrong redirect_uri.
    let (code, verifier) = web.code(&p, &mut b, "public");
    let r = web.token(
        &p,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &format!("{}x", web.redirect_uri)),
            ("code_verifier", &verifier),
        ],
    );
    expect_error(&r, 400, "invalid_grant");
    // Missing redirect_uri when the request named one.
    let (code, verifier) = web.code(&p, &mut b, "public");
    let r = web.token(
        &p,
        &[("grant_type", "authorization_code"), ("code", &code), ("code_verifier", &verifier)],
    );
    expect_error(&r, 400, "invalid_grant");

    // A code is bound to its client.
    let (code, verifier) = web.code(&p, &mut b, "public");
    expect_error(&other.redeem(&p, &code, Some(&verifier)), 400, "invalid_grant");
    // An unknown code, and a wrong secret (client authentication comes first).
    expect_error(&web.redeem(&p, &rand_hex(16), None), 400, "invalid_grant");
    let (code, verifier) = web.code(&p, &mut b, "public");
    let r = token_with(
        &p,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &web.redirect_uri),
            ("code_verifier", &verifier),
        ],
        &[("authorization", &basic(web.id(), "wrong-secret-wrong-secret-wrong-s"))],
    );
    expect_error(&r, 401, "invalid_client");
    // …which did not spend the code.
    expect_json(&web.redeem(&p, &code, Some(&verifier)), 200);
}
