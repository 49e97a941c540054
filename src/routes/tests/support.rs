//! Helpers of the native tests (the rule tables and the whole flows): requests in, responses
//! out, nothing below `handle`. App assertions are signed with `jsonwebtoken` (ring), an
//! independent JOSE implementation, as the end-to-end tests sign them.

use crate::config::{Config, Secret};
use crate::crypto::keys::{tests::test_pem, SigningKeys};
use crate::http::{Request, Response};
use crate::platform::memory::{block_on, MemPlatform};
use crate::routes::handle;
use crate::util::b64url;
use serde_json::{json, Value};
use std::sync::OnceLock;

pub const ORIGIN: &str = "http://127.0.0.1:8787";
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// A platform with the admin token `admin-secret` and otherwise the default configuration.
pub fn platform() -> MemPlatform {
    let mut cfg = Config::default();
    cfg.admin_token = Some(Secret("admin-secret".into()));
    platform_with(cfg)
}

/// A platform with the given configuration (and the shared test signing key).
pub fn platform_with(cfg: Config) -> MemPlatform {
    MemPlatform::new(cfg, SigningKeys::from_pems(test_pem(), true).unwrap())
}

pub fn req(method: &str, target: &str, headers: &[(&str, &str)], body: impl AsRef<[u8]>) -> Request {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    Request {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.as_ref().to_vec(),
        origin: ORIGIN.into(),
        remote_addr: "192.0.2.1".into(),
    }
}

/// A JSON request, with a bearer token when given.
pub fn json_req(method: &str, target: &str, bearer: Option<&str>, body: &Value) -> Request {
    let auth = bearer.map(|b| format!("Bearer {b}"));
    let mut h: Vec<(&str, &str)> = vec![("content-type", "application/json")];
    if let Some(a) = &auth {
        h.push(("authorization", a));
    }
    req(method, target, &h, body.to_string())
}

/// Sends a request; the audit events it recorded are stored before it returns (the worker
/// stores them after the response).
pub fn send(p: &MemPlatform, r: Request) -> Response {
    let resp = block_on(handle(p, &r));
    block_on(crate::platform::deferred::store_audit(p, resp.audit.clone()));
    resp
}

pub fn json(r: &Response) -> Value {
    serde_json::from_slice(&r.body).unwrap_or(Value::Null)
}

pub fn text(r: &Response) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    crate::http::params::encode_form(pairs)
}

pub fn basic(id: &str, secret: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", form_part(id), form_part(secret)))
    )
}

/// RFC 6749 §2.3.1: client_secret_basic form-encodes id and secret before base64.
fn form_part(s: &str) -> String {
    let f = form(&[("x", s)]);
    f.trim_start_matches("x=").to_owned()
}

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// A form POST (`application/x-www-form-urlencoded`) of `pairs` to `target`, with extra headers.
pub fn post_form(
    p: &MemPlatform,
    target: &str,
    pairs: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> Response {
    let mut h = vec![("content-type", "application/x-www-form-urlencoded")];
    h.extend_from_slice(headers);
    send(p, req("POST", target, &h, form(pairs)))
}

/// A form POST to `/oauth/token`, with extra headers.
pub fn token_with(p: &MemPlatform, pairs: &[(&str, &str)], headers: &[(&str, &str)]) -> Response {
    post_form(p, "/oauth/token", pairs, headers)
}

/// A body-less request with `Authorization: Bearer <token>`.
pub fn with_bearer(p: &MemPlatform, method: &str, target: &str, token: &str) -> Response {
    send(p, req(method, target, &[("authorization", &bearer(token))], ""))
}

/// `POST /oauth/register` with JSON client metadata (and an initial access token when given).
pub fn register(p: &MemPlatform, token: Option<&str>, meta: &Value) -> Response {
    send(p, json_req("POST", "/oauth/register", token, meta))
}

/// The client_credentials grant for `id`/`secret` (client_secret_post), with extra pairs.
pub fn client_credentials(p: &MemPlatform, id: &str, secret: &str, extra: &[(&str, &str)]) -> Response {
    let mut pairs = vec![("grant_type", "client_credentials"), ("client_id", id), ("client_secret", secret)];
    pairs.extend_from_slice(extra);
    token_with(p, &pairs, &[])
}

/// An app's `client_id` and `client_secret`, as `create_app` returned them.
pub fn credentials(app: &Value) -> (String, String) {
    let field = |k: &str| app[k].as_str().unwrap().to_owned();
    (field("client_id"), field("client_secret"))
}

/// A form body POSTed to `/oauth/token`.
pub fn token(p: &MemPlatform, body: &str) -> Response {
    send(
        p,
        req(
            "POST",
            "/oauth/token",
            &[("content-type", "application/x-www-form-urlencoded")],
            body,
        ),
    )
}

/// An admin API request with the admin token (and a JSON body when given).
pub fn admin(p: &MemPlatform, method: &str, path: &str, body: Option<&Value>) -> Response {
    match body {
        Some(b) => send(p, json_req(method, path, Some("admin-secret"), b)),
        None => send(p, req(method, path, &[("authorization", "Bearer admin-secret")], "")),
    }
}

/// Creates an app through the admin API (asserting 201); returns what the server answered.
#[track_caller]
pub fn create_app(p: &MemPlatform, body: Value) -> Value {
    let r = admin(p, "POST", "/admin/apps", Some(&body));
    assert_eq!(r.status, 201, "{}", text(&r));
    json(&r)
}

/// Asserts a JSON error answer (status, `error`, a string `error_description`, JSON content
/// type) as the end-to-end `Resp::expect_error` does; returns the body.
#[track_caller]
pub fn expect_error(r: &Response, status: u16, code: &str) -> Value {
    let v = json(r);
    assert_eq!(r.status, status, "{v}");
    assert_eq!(v["error"], code, "wrong error code in {v}");
    assert!(v["error_description"].is_string(), "error_description missing in {v}");
    assert!(
        r.get_header("content-type").is_some_and(|c| c.starts_with("application/json")),
        "error is not application/json"
    );
    v
}

/// Asserts the status and a JSON body; returns the body.
#[track_caller]
pub fn expect_json(r: &Response, status: u16) -> Value {
    assert_eq!(r.status, status, "{}", text(r));
    let v = json(r);
    assert!(!v.is_null(), "not JSON: {}", text(r));
    v
}

#[track_caller]
pub fn expect_no_store(r: &Response) {
    assert_eq!(r.get_header("cache-control"), Some("no-store"), "{:?}", r.headers);
}

// ---------------------------------------------------------------------------------------------
// Pages: a cookie jar, CSRF fields, redirect parameters
// ---------------------------------------------------------------------------------------------

/// Pulls `name="csrf" value="…"` out of a page.
pub fn csrf_of(r: &Response) -> String {
    let html = text(r);
    let at = html.find(r#"name="csrf" value=""#).expect("csrf field") + r#"name="csrf" value=""#.len();
    html[at..].split('"').next().unwrap().to_owned()
}

pub fn query_param(location: &str, name: &str) -> Option<String> {
    let q = location.split_once('?')?.1;
    let params = crate::http::params::Params::parse_form(q.as_bytes()).ok()?;
    params.get(name).map(str::to_owned)
}

#[derive(Default)]
pub struct Browser {
    pub cookies: Vec<(String, String)>,
}

impl Browser {
    pub fn headers(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
    pub fn take(&mut self, r: &Response) {
        for (k, v) in &r.headers {
            if k == "set-cookie" {
                let (name, rest) = v.split_once('=').unwrap();
                let value = rest.split(';').next().unwrap().to_owned();
                self.cookies.retain(|(n, _)| n != name);
                self.cookies.push((name.to_owned(), value));
            }
        }
    }
    pub fn get(&mut self, p: &MemPlatform, target: &str) -> Response {
        let c = self.headers();
        let r = send(p, req("GET", target, &[("cookie", &c)], ""));
        self.take(&r);
        r
    }
    pub fn post(&mut self, p: &MemPlatform, target: &str, body: &str) -> Response {
        let c = self.headers();
        let h = [
            ("cookie", c.as_str()),
            ("content-type", "application/x-www-form-urlencoded"),
            ("origin", ORIGIN),
        ];
        let r = send(p, req("POST", target, &h, body));
        self.take(&r);
        r
    }
}

/// A browser signed up and logged in as `email` (password `plum-kettle-42`).
pub fn signed_in(p: &MemPlatform, email: &str) -> Browser {
    let mut b = Browser::default();
    let page = b.get(p, "/signup");
    let csrf = csrf_of(&page);
    let r = b.post(
        p,
        "/signup",
        &form(&[
            ("csrf", &csrf),
            ("email", email),
            ("password", "plum-kettle-42"),
            ("name", "Dev"),
        ]),
    );
    assert_eq!(r.status, 200);
    let csrf = csrf_of(&r);
    let r = b.post(
        p,
        "/login",
        &form(&[("csrf", &csrf), ("email", email), ("password", "plum-kettle-42")]),
    );
    assert_eq!(r.status, 303);
    b
}

// ---------------------------------------------------------------------------------------------
// App keys and assertions (jsonwebtoken over ring; keys made with `rsa`)
// ---------------------------------------------------------------------------------------------

pub struct TestKey {
    pub pem: String,
    pub n: String,
    pub e: String,
    pub kid: String,
    encoding: jsonwebtoken::EncodingKey,
}

/// RFC 7638 thumbprint of an RSA key given its base64url `n` and `e`.
pub fn thumbprint(n: &str, e: &str) -> String {
    b64url(&crate::util::sha256(format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#).as_bytes()))
}

impl TestKey {
    fn generate() -> TestKey {
        use rsa::pkcs8::{EncodePrivateKey, LineEnding};
        use rsa::traits::PublicKeyParts;
        let k = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap();
        let pem = k.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
        let n = b64url(&k.n().to_bytes_be());
        let e = b64url(&k.e().to_bytes_be());
        TestKey {
            kid: thumbprint(&n, &e),
            encoding: jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
            pem,
            n,
            e,
        }
    }

    /// The public JWK (no kid: the server derives it).
    pub fn public_jwk(&self) -> Value {
        json!({"kty": "RSA", "n": self.n, "e": self.e})
    }

    /// The public key as an SPKI PEM.
    pub fn public_pem(&self) -> String {
        use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
        rsa::RsaPrivateKey::from_pkcs8_pem(&self.pem)
            .unwrap()
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap()
    }

    /// RS256 JWS of `claims` with this key, `kid` in the header.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_alg(jsonwebtoken::Algorithm::RS256, claims, Some(&self.kid))
    }

    pub fn sign_alg(&self, alg: jsonwebtoken::Algorithm, claims: &Value, kid: Option<&str>) -> String {
        let mut h = jsonwebtoken::Header::new(alg);
        h.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&h, claims, &self.encoding).unwrap()
    }
}

/// Test keys shared by all tests (generating one costs ~0.1–0.5 s).
pub fn test_key(i: usize) -> &'static TestKey {
    static KEYS: [OnceLock<TestKey>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    KEYS[i].get_or_init(TestKey::generate)
}

/// Random hex (test identifiers, jti values).
pub fn rand_hex(n: usize) -> String {
    use rand_core::RngCore;
    let mut b = vec![0u8; n];
    rand_core::OsRng.fill_bytes(&mut b);
    crate::util::hex(&b)
}

/// The platform's clock.
pub fn now(p: &MemPlatform) -> i64 {
    p.clock.get()
}

/// Claims of an app token / jwt-bearer assertion: `iss` = the app, fresh `jti`, 5 minutes;
/// with `aud`, also `sub` (RFC 7523 §3 item 2).
pub fn app_claims(p: &MemPlatform, client_id: &str, aud: Option<&str>) -> Value {
    let t = now(p);
    let mut c = json!({"iss": client_id, "iat": t, "exp": t + 300, "jti": rand_hex(12)});
    if let Some(a) = aud {
        c["aud"] = a.into();
        c["sub"] = client_id.into();
    }
    c
}

/// An unsigned JWS (`alg: none`).
pub fn unsigned_jwt(claims: &Value) -> String {
    format!(
        "{}.{}.",
        b64url(br#"{"alg":"none","typ":"JWT"}"#),
        b64url(claims.to_string().as_bytes())
    )
}

/// `POST /application/token` with the app JWT as bearer, no body.
pub fn app_token(p: &MemPlatform, jwt: &str) -> Response {
    send(p, req("POST", "/application/token", &[("authorization", &bearer(jwt))], ""))
}

/// The jwt-bearer grant at the token endpoint.
pub fn jwt_bearer(p: &MemPlatform, assertion: &str) -> Response {
    token_with(p, &[("grant_type", JWT_BEARER), ("assertion", assertion)], &[])
}

// ---------------------------------------------------------------------------------------------
// Requests at one origin (a tenant's host), and a browser there
// ---------------------------------------------------------------------------------------------

fn at(origin: &str, mut r: Request) -> Request {
    r.origin = origin.into();
    for (k, v) in r.headers.iter_mut() {
        if k == "origin" {
            *v = origin.into();
        }
    }
    r
}

/// `r` as sent to `origin` (its host decides the tenant).
pub fn send_at(p: &MemPlatform, origin: &str, r: Request) -> Response {
    send(p, at(origin, r))
}

/// A GET at `origin` from browser `b` (its cookies sent and kept).
pub fn get_at(p: &MemPlatform, origin: &str, b: &mut Browser, target: &str) -> Response {
    let r = send_at(p, origin, req("GET", target, &[("cookie", &b.headers())], ""));
    b.take(&r);
    r
}

/// A form POST at `origin` from browser `b`, with `Origin` as a browser sends it.
pub fn post_at(p: &MemPlatform, origin: &str, b: &mut Browser, target: &str, body: &str) -> Response {
    let c = b.headers();
    let h = [("cookie", c.as_str()), ("content-type", "application/x-www-form-urlencoded"), ("origin", origin)];
    let r = send_at(p, origin, req("POST", target, &h, body));
    b.take(&r);
    r
}

/// A browser signed up (name Ann) and logged in as `email` at `origin` (password `plum-kettle-42`).
pub fn signed_in_at(p: &MemPlatform, origin: &str, email: &str) -> Browser {
    let mut b = Browser::default();
    let csrf = csrf_of(&get_at(p, origin, &mut b, "/signup"));
    let signup = form(&[("csrf", &csrf), ("email", email), ("password", "plum-kettle-42"), ("name", "Ann")]);
    let r = post_at(p, origin, &mut b, "/signup", &signup);
    assert_eq!(r.status, 200, "{}", text(&r));
    let login = form(&[("csrf", &csrf_of(&r)), ("email", email), ("password", "plum-kettle-42")]);
    let r = post_at(p, origin, &mut b, "/login", &login);
    assert_eq!(r.status, 303, "{}", text(&r));
    b
}
