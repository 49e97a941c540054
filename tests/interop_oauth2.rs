//! Interop: the Rust `oauth2` crate (crates.io, unmodified) against the worker under
//! `wrangler dev`: client_credentials (both secret methods), and authorization code + PKCE S256
//! + refresh for a confidential web app and a public native app, plus the crate's RFC 7662
//! introspection. The log-in and consent pages are driven over HTTP like
//! a browser (cookie jar, CSRF field, no redirects followed); access tokens are verified against
//! the JWKS by the harness (jsonwebtoken).
//!
//! HTTP: the crate's documented extension point, a closure implementing `SyncHttpClient`, over a
//! ureq 3 agent. (The crate's bundled `ureq` feature uses ureq 2, which turns every 4xx into a
//! transport error, so the crate could never parse an RFC 6749 error response such as
//! `invalid_grant`; its `reqwest` feature would pull an async runtime into the test build.)

mod common;

use common::*;
use oauth2::basic::{BasicClient, BasicErrorResponseType, BasicTokenResponse, BasicTokenType};
use oauth2::url::Url;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    HttpRequest, HttpResponse, IntrospectionUrl, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope,
    TokenIntrospectionResponse, TokenResponse, TokenUrl,
};
use std::sync::OnceLock;
use std::time::Duration;

/// One agent for the crate and the browser: no redirects followed (the crate's documentation
/// asks for that; the browser handles its own), HTTP statuses are answers, not errors.
fn agent() -> &'static ureq::Agent {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    AGENT.get_or_init(|| {
        ureq::Agent::config_builder()
            .max_redirects(0)
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into()
    })
}

/// The crate's HTTP client: `oauth2::HttpRequest` and `ureq` share the `http` 1 types.
fn http(req: HttpRequest) -> Result<HttpResponse, ureq::Error> {
    let mut resp = agent().run(req)?;
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.body_mut().read_to_vec()?;
    let mut out = HttpResponse::new(body);
    *out.status_mut() = status;
    *out.headers_mut() = headers;
    Ok(out)
}

/// The crate's client with the authorization, token and introspection endpoints set.
type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointSet, EndpointNotSet, EndpointSet>;

fn client(s: &Server, id: &str, secret: Option<&str>, redirect: Option<&str>) -> Client {
    let mut c = BasicClient::new(ClientId::new(id.to_owned()))
        .set_auth_uri(AuthUrl::new(s.url("/oauth/authorize")).unwrap())
        .set_token_uri(TokenUrl::new(s.url("/oauth/token")).unwrap())
        .set_introspection_url(IntrospectionUrl::new(s.url("/oauth/introspect")).unwrap());
    if let Some(secret) = secret {
        c = c.set_client_secret(ClientSecret::new(secret.to_owned()));
    }
    if let Some(r) = redirect {
        c = c.set_redirect_uri(RedirectUrl::new(r.to_owned()).unwrap());
    }
    c
}

fn scope_list(scopes: Option<&Vec<Scope>>) -> Vec<String> {
    scopes
        .map(|v| v.iter().map(|s| s.to_string()).collect())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// A browser without JavaScript: cookie jar, forms with their hidden fields.
// ---------------------------------------------------------------------------------------------

struct Browser<'a> {
    s: &'a Server,
    cookies: Vec<(String, String)>,
}

fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The hidden inputs of the page's first form, in order.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let form = &html[html.find("<form").expect("no form in the page")..];
    let form = &form[..form.find("</form>").unwrap()];
    let attr = |tag: &str, name: &str| {
        let key = format!("{name}=\"");
        tag.find(&key).map(|i| {
            let rest = &tag[i + key.len()..];
            html_unescape(&rest[..rest.find('"').unwrap()])
        })
    };
    form.split("<input")
        .skip(1)
        .map(|t| &t[..t.find('>').unwrap()])
        .filter(|t| attr(t, "type").as_deref() == Some("hidden"))
        .map(|t| (attr(t, "name").unwrap(), attr(t, "value").unwrap_or_default()))
        .collect()
}

fn form_action(html: &str) -> String {
    let form = &html[html.find("<form").expect("no form in the page")..];
    let i = form.find("action=\"").unwrap() + "action=\"".len();
    html_unescape(&form[i..i + form[i..].find('"').unwrap()])
}

impl<'a> Browser<'a> {
    fn new(s: &'a Server) -> Self {
        Browser { s, cookies: vec![] }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Sends one request (no redirects followed) and keeps the cookies it sets.
    fn send(&mut self, method: &str, target: &str, form: Option<String>) -> Resp {
        let url = if target.starts_with('/') {
            self.s.url(target)
        } else {
            target.to_owned()
        };
        let mut b = ureq::http::Request::builder().method(method).uri(&url);
        if !self.cookies.is_empty() {
            b = b.header("cookie", self.cookie_header());
        }
        let result = match form {
            Some(body) => agent().run(
                b.header("content-type", "application/x-www-form-urlencoded")
                    .header("origin", &self.s.base)
                    .body(body)
                    .unwrap(),
            ),
            None => agent().run(b.body(()).unwrap()),
        };
        let mut r = result.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let resp = Resp {
            status: r.status().as_u16(),
            headers: r
                .headers()
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                .collect(),
            body: r.body_mut().read_to_vec().unwrap(),
            what: format!("{method} {url}"),
        };
        assert!(
            resp.status < 500,
            "{}: {} {}",
            resp.what,
            resp.status,
            resp.text()
        );
        for (k, v) in &resp.headers {
            if k == "set-cookie" {
                let (name, rest) = v.split_once('=').unwrap();
                let value = rest.split(';').next().unwrap().to_owned();
                self.cookies.retain(|(n, _)| n != name);
                self.cookies.push((name.to_owned(), value));
            }
        }
        resp
    }

    fn get(&mut self, target: &str) -> Resp {
        self.send("GET", target, None)
    }

    fn post(&mut self, path: &str, fields: &[(String, String)]) -> Resp {
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.send("POST", path, Some(form(&pairs)))
    }

    /// Submits the page's form: its hidden fields plus `visible`.
    fn submit(&mut self, page: &Resp, visible: &[(&str, &str)]) -> Resp {
        let html = page.text();
        let mut fields = hidden_fields(&html);
        fields.extend(visible.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        self.post(&form_action(&html), &fields)
    }

    /// Follows an authorization URL through sign-up (if needed) and consent; returns the
    /// callback URL the server redirects to.
    fn authorize(&mut self, url: &str) -> Url {
        let mut r = self.get(url);
        if r.status == 303 {
            let login = r.header("location").unwrap().to_owned();
            assert!(login.starts_with("/login?return_to="), "{login}");
            let page = self.get(&login.replacen("/login", "/signup", 1));
            let email = format!("rust-{}@example.com", rand_hex(6));
            let password = format!("pw-{}", rand_hex(8));
            r = self.submit(
                page.expect(200),
                &[
                    ("name", "Rust Person"),
                    ("email", &email),
                    ("password", &password),
                ],
            );
            // Sign-up answers with the log-in form; log in from it.
            r.expect(200);
            r = self.submit(&r, &[("email", &email), ("password", &password)]);
            r.expect(303);
            let back = r.header("location").unwrap().to_owned();
            r = self.get(&back);
        }
        if r.status == 200 {
            assert!(
                r.text().contains("wants to access your account"),
                "not a consent page: {}",
                r.text()
            );
            let page = r.clone();
            r = self.submit(&page, &[("decision", "allow")]);
        }
        r.expect(302);
        Url::parse(r.header("location").unwrap()).unwrap()
    }
}

fn query(u: &Url, name: &str) -> Option<String> {
    u.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

// ---------------------------------------------------------------------------------------------

/// Runs `c`'s authorization request for `scopes` (PKCE S256) through a fresh browser; returns
/// the callback, whose `state` is checked, and the verifier.
fn authorize(s: &Server, c: &Client, scopes: &[&str]) -> (Url, PkceCodeVerifier) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf) = c
        .authorize_url(CsrfToken::new_random)
        .add_scopes(scopes.iter().map(|sc| Scope::new(sc.to_string())))
        .set_pkce_challenge(challenge)
        .url();
    let callback = Browser::new(s).authorize(url.as_str());
    assert_eq!(query(&callback, "state").as_deref(), Some(csrf.secret().as_str()));
    (callback, verifier)
}

/// Redeems the callback's code with `verifier` (asserting success).
fn redeem(c: &Client, callback: &Url, verifier: PkceCodeVerifier) -> BasicTokenResponse {
    c.exchange_code(AuthorizationCode::new(query(callback, "code").expect("no code in the callback")))
        .set_pkce_verifier(verifier)
        .request(&http)
        .unwrap_or_else(|e| panic!("code exchange: {e:?}"))
}

/// An app of the code flow with one redirect URI (owner `rs-…`) and the fields of `extra`.
fn code_flow_app(s: &Server, redirect: &str, extra: Value) -> App {
    let mut body = json!({"owner": owner("rs"), "redirect_uris": [redirect]});
    if let Value::Object(m) = extra {
        for (k, v) in m {
            body[k] = v;
        }
    }
    s.create_app(body)
}

#[test]
fn client_credentials_with_basic_and_post() {
    let s = Server::shared();
    let app = s.trusted_app(&["public", "users:read"]);

    // client_secret_basic (the crate's default AuthType::BasicAuth).
    let c = client(s, &app.id, Some(app.secret()), None);
    let t = c
        .exchange_client_credentials()
        .add_scope(Scope::new("users:read".into()))
        .request(&http)
        .unwrap_or_else(|e| panic!("client_credentials (basic): {e:?}"));
    assert_eq!(*t.token_type(), BasicTokenType::Bearer);
    assert_eq!(scope_list(t.scopes()), ["users:read"]);
    assert!(t.expires_in().is_some_and(|d| d.as_secs() > 0));
    assert!(t.refresh_token().is_none());
    let claims = s.verify_access_token(t.access_token().secret());
    assert_eq!(claims["client_id"], app.id.as_str());

    // client_secret_post.
    let c = client(s, &app.id, Some(app.secret()), None).set_auth_type(AuthType::RequestBody);
    let t = c
        .exchange_client_credentials()
        .request(&http)
        .unwrap_or_else(|e| panic!("client_credentials (post): {e:?}"));
    s.verify_access_token(t.access_token().secret());

    // Introspection with the crate (the client introspects its own token).
    let info = client(s, &app.id, Some(app.secret()), None)
        .introspect(t.access_token())
        .request(&http)
        .unwrap_or_else(|e| panic!("introspection: {e:?}"));
    assert!(info.active());
    assert_eq!(info.client_id().map(|c| c.as_str()), Some(app.id.as_str()));

    // A wrong secret is a parsed RFC 6749 error, invalid_client.
    let err = client(s, &app.id, Some("wrong-secret"), None)
        .exchange_client_credentials()
        .request(&http)
        .expect_err("a wrong secret must fail");
    match err {
        RequestTokenError::ServerResponse(e) => {
            assert_eq!(*e.error(), BasicErrorResponseType::InvalidClient)
        }
        other => panic!("expected invalid_client, got {other:?}"),
    }
}

#[test]
fn authorization_code_pkce_refresh_confidential_web_app() {
    let s = Server::shared();
    let redirect = "https://rust-web.example/callback";
    let web = json!({"name": "oauth2-rs web app", "scopes": ["public", "users:read"]});
    let app = code_flow_app(s, redirect, web);
    let c = client(s, &app.id, Some(app.secret()), Some(redirect));

    // What the crate leaves to the application: state (checked by `authorize`), and the
    // RFC 9207 issuer.
    let (callback, verifier) = authorize(s, &c, &["public", "users:read"]);
    assert!(callback.as_str().starts_with(redirect), "{callback}");
    assert_eq!(query(&callback, "iss").as_deref(), Some(s.issuer()));
    let code = query(&callback, "code").expect("no code in the callback");

    let t = redeem(&c, &callback, verifier);
    assert_eq!(*t.token_type(), BasicTokenType::Bearer);
    assert_eq!(scope_list(t.scopes()), ["public", "users:read"]);
    let claims = s.verify_access_token(t.access_token().secret());
    assert_eq!(claims["client_id"], app.id.as_str());
    let first_refresh = t.refresh_token().expect("no refresh token").clone();

    // The code is single use: the crate reports invalid_grant.
    let (_, other_verifier) = PkceCodeChallenge::new_random_sha256();
    match c
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(other_verifier)
        .request(&http)
    {
        Err(RequestTokenError::ServerResponse(e)) => {
            assert_eq!(*e.error(), BasicErrorResponseType::InvalidGrant)
        }
        other => panic!("a replayed code must fail with invalid_grant: {other:?}"),
    }
    // (Replaying the code revoked the grant, so start a fresh one for the refresh part.)
    let (callback, verifier) = authorize(s, &c, &["public"]);
    let t = redeem(&c, &callback, verifier);
    // The replay ended the first grant: its refresh token is dead.
    assert!(c.exchange_refresh_token(&first_refresh).request(&http).is_err());
    let refresh = t.refresh_token().expect("no refresh token").clone();

    // Refresh rotates the refresh token.
    let r = c
        .exchange_refresh_token(&refresh)
        .request(&http)
        .unwrap_or_else(|e| panic!("refresh: {e:?}"));
    s.verify_access_token(r.access_token().secret());
    let next = r.refresh_token().expect("rotation returns a new refresh token");
    assert_ne!(next.secret(), refresh.secret());

    // Revoke the new refresh token: the grant ends. (Not with the crate: its revoke_token()
    // refuses a non-https endpoint, as RFC 7009 §2 says clients MUST, with no opt-out, and the
    // development issuer is http.)
    let revoke = [("token", next.secret().as_str()), ("token_type_hint", "refresh_token")];
    s.post_form_basic("/oauth/revoke", &revoke, &app.id, app.secret())
        .expect(200);
    match c.exchange_refresh_token(next).request(&http) {
        Err(RequestTokenError::ServerResponse(e)) => {
            assert_eq!(*e.error(), BasicErrorResponseType::InvalidGrant)
        }
        other => panic!("a revoked refresh token must fail: {other:?}"),
    }
    assert!(!s.is_active(r.access_token().secret()));
}

#[test]
fn authorization_code_pkce_refresh_public_native_app() {
    let s = Server::shared();
    let redirect = "com.example.rustapp:/oauth2redirect";
    let native =
        json!({"name": "oauth2-rs native app", "token_endpoint_auth_method": "none", "scopes": ["public"]});
    let app = code_flow_app(s, redirect, native);
    assert!(app.secret.is_none());
    // No secret: the crate sends client_id in the body (RFC 6749 §4.1.3, public client).
    let c = client(s, &app.id, None, Some(redirect)).set_auth_type(AuthType::RequestBody);

    let (callback, verifier) = authorize(s, &c, &["public"]);
    assert_eq!(callback.scheme(), "com.example.rustapp");
    assert_eq!(query(&callback, "iss").as_deref(), Some(s.issuer()));

    let t = redeem(&c, &callback, verifier);
    s.verify_access_token(t.access_token().secret());
    let r = c
        .exchange_refresh_token(t.refresh_token().expect("no refresh token"))
        .request(&http)
        .unwrap_or_else(|e| panic!("refresh: {e:?}"));
    let claims = s.verify_access_token(r.access_token().secret());
    assert_eq!(claims["client_id"], app.id.as_str());
    assert_eq!(scope_list(r.scopes()), ["public"]);
}
