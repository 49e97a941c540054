//! Organisations (tenancy): two tenants on one platform, and every cross-tenant attempt
//! refused; without `ORG_DOMAIN`, today's names.

use super::support::*;
use crate::config::{Config, Secret};
use crate::http::Response;
use crate::platform::memory::MemPlatform;
use crate::util::{b64url, sha256};
use serde_json::{json, Value};

const ACME: &str = "http://acme.localhost:8787";
const BETA: &str = "http://beta.localhost:8787";

fn tenants() -> MemPlatform {
    let mut cfg = Config::default();
    cfg.admin_token = Some(Secret("admin-secret".into()));
    cfg.org_domain = Some("localhost".into());
    with_orgs(platform_with(cfg))
}

/// The platform's own host, where the registry of organisations is.
pub(super) const PLATFORM: &str = "http://localhost:8787";

/// Creates the organisation `label` through the platform operator's API.
pub(super) fn create_org(p: &MemPlatform, label: &str) -> Response {
    let body = json!({"label": label, "name": format!("{label} Ltd")});
    send_at(p, PLATFORM, json_req("POST", "/admin/orgs", Some("admin-secret"), &body))
}

/// `p` with the organisations acme and beta created.
fn with_orgs(p: MemPlatform) -> MemPlatform {
    for label in ["acme", "beta"] {
        let r = create_org(&p, label);
        assert_eq!(r.status, 201, "{}", text(&r));
    }
    p
}

pub(super) use super::support::send_at;

fn form_at(p: &MemPlatform, origin: &str, target: &str, pairs: &[(&str, &str)]) -> Response {
    let h = [("content-type", "application/x-www-form-urlencoded")];
    send_at(p, origin, req("POST", target, &h, form(pairs)))
}

fn create_app_at(p: &MemPlatform, origin: &str, body: Value) -> Value {
    let r = send_at(p, origin, json_req("POST", "/admin/apps", Some("admin-secret"), &body));
    assert_eq!(r.status, 201, "{}", text(&r));
    json(&r)
}

fn cc_at(p: &MemPlatform, origin: &str, id: &str, secret: &str) -> Response {
    let pairs = [("grant_type", "client_credentials"), ("client_id", id), ("client_secret", secret)];
    form_at(p, origin, "/oauth/token", &pairs)
}

/// A browser at one origin: cookies kept, `Origin` sent on POSTs.
struct At<'a> {
    origin: &'a str,
    b: Browser,
}

impl At<'_> {
    fn get(&mut self, p: &MemPlatform, target: &str) -> Response {
        let c = self.b.headers();
        let r = send_at(p, self.origin, req("GET", target, &[("cookie", &c)], ""));
        self.b.take(&r);
        r
    }
    fn post(&mut self, p: &MemPlatform, target: &str, body: &str) -> Response {
        let c = self.b.headers();
        let h = [
            ("cookie", c.as_str()),
            ("content-type", "application/x-www-form-urlencoded"),
            ("origin", self.origin),
        ];
        let r = send_at(p, self.origin, req("POST", target, &h, body));
        self.b.take(&r);
        r
    }
}

/// Copies acme's app (its KV entry and its object) into beta under the same client id: beta
/// then has an app whose credentials are acme's, so a cross-tenant attempt gets past client
/// authentication and meets beta's own codes and grants.
fn twin_in_beta(p: &MemPlatform, client_id: &str) {
    let meta = p.kv.borrow().get(&format!("org:acme:{client_id}")).cloned().unwrap();
    p.kv.borrow_mut().insert(format!("org:beta:{client_id}"), meta);
    let obj = p.shards.borrow().get(&format!("org:acme:app:{client_id}")).cloned().unwrap();
    p.shards.borrow_mut().insert(format!("org:beta:app:{client_id}"), obj);
}

#[test]
fn an_app_of_one_organisation_is_unknown_in_another() {
    let p = tenants();
    let app = create_app_at(&p, ACME, json!({"name": "Acme", "scopes": ["public"], "grant_types": ["client_credentials"], "trusted": true}));
    let (id, secret) = credentials(&app);
    // Stored under acme's names only.
    assert!(p.kv.borrow().contains_key(&format!("org:acme:{id}")));
    assert!(p.shards.borrow().contains_key(&format!("org:acme:app:{id}")));
    assert!(!p.kv.borrow().contains_key(&id));
    assert!(!p.shards.borrow().keys().any(|k| k.starts_with("app:") || k.starts_with("org:beta:")));
    let ok = cc_at(&p, ACME, &id, &secret);
    expect_json(&ok, 200);
    let refused = cc_at(&p, BETA, &id, &secret);
    expect_error(&refused, 401, "invalid_client");
    // The request log line says whose request it was, and the error code of a refusal.
    assert_eq!((ok.log_tenant.as_deref(), ok.log_error), (Some("acme"), None));
    assert_eq!((refused.log_tenant.as_deref(), refused.log_error), (Some("beta"), Some("invalid_client")));
    let platform_host = send_at(&p, PLATFORM, req("GET", "/nope", &[], ""));
    assert_eq!((platform_host.log_tenant, platform_host.log_error), (None, Some("not_found")));
    // Listings see their own tenant only.
    let list = |origin: &str| {
        let r = send_at(&p, origin, req("GET", "/admin/apps", &[("authorization", "Bearer admin-secret")], ""));
        expect_json(&r, 200)
    };
    assert!(list(ACME).to_string().contains(&id));
    assert!(!list(BETA).to_string().contains(&id));
    assert!(!list("http://localhost:8787").to_string().contains(&id));
    let r = send_at(&p, BETA, req("GET", &format!("/admin/apps/{id}"), &[("authorization", "Bearer admin-secret")], ""));
    assert_eq!(r.status, 404);
    // Audit lines of an organisation name it.
    let r = send_at(&p, ACME, json_req("DELETE", &format!("/admin/apps/{id}"), Some("admin-secret"), &json!({})));
    assert!(r.status < 300, "{}", text(&r));
    let log = p.audit_log.borrow();
    assert!(log.iter().any(|e| e["tenant"] == "acme"), "{log:?}");
    assert!(log.iter().all(|e| e["tenant"] != "beta"));
}

#[test]
fn tokens_of_one_organisation_are_refused_by_another() {
    let p = tenants();
    let app = create_app_at(&p, ACME, json!({"name": "Acme", "scopes": ["public"], "grant_types": ["client_credentials"], "trusted": true}));
    let (id, secret) = credentials(&app);
    twin_in_beta(&p, &id);
    let access = expect_json(&cc_at(&p, ACME, &id, &secret), 200)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let introspect = |origin: &str| {
        let h = [("content-type", "application/x-www-form-urlencoded"), ("authorization", "Bearer admin-secret")];
        let r = send_at(&p, origin, req("POST", "/oauth/introspect", &h, form(&[("token", &access)])));
        expect_json(&r, 200)["active"].clone()
    };
    assert_eq!(introspect(ACME), json!(true));
    assert_eq!(introspect(BETA), json!(false));
    assert_eq!(introspect("http://localhost:8787"), json!(false));
    // Even the twin app's own client authentication sees it inactive at beta.
    let r = form_at(&p, BETA, "/oauth/introspect", &[("token", &access), ("client_id", &id), ("client_secret", &secret)]);
    assert_eq!(expect_json(&r, 200)["active"], json!(false));
}

#[test]
fn codes_refresh_tokens_sessions_and_issuers_are_per_organisation() {
    let p = tenants();
    let app = create_app_at(
        &p,
        ACME,
        json!({"name": "Native", "redirect_uris": ["com.example.app:/cb"], "token_endpoint_auth_method": "none", "scopes": ["public", "users:read"]}),
    );
    let client_id = app["client_id"].as_str().unwrap().to_owned();
    twin_in_beta(&p, &client_id);
    // Sign up and log in at acme.
    let mut b = At { origin: ACME, b: Browser::default() };
    let csrf = csrf_of(&b.get(&p, "/signup"));
    let signup = [("csrf", csrf.as_str()), ("email", "ann@example.com"), ("password", "plum-kettle-42"), ("name", "Ann")];
    let r = b.post(&p, "/signup", &form(&signup));
    assert_eq!(r.status, 200, "{}", text(&r));
    let login = [("csrf", csrf_of(&r)), ("email", "ann@example.com".into()), ("password", "plum-kettle-42".into())];
    let login: Vec<(&str, &str)> = login.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(b.post(&p, "/login", &form(&login)).status, 303);
    assert!(text(&b.get(&p, "/")).contains("Signed in as"));
    // The same cookies at beta: not signed in.
    let mut at_beta = At { origin: BETA, b: Browser { cookies: b.b.cookies.clone() } };
    assert!(!text(&at_beta.get(&p, "/")).contains("Signed in as"));
    // A code from acme.
    let verifier = "A1".repeat(30);
    let challenge = b64url(&sha256(verifier.as_bytes()));
    let authz = format!(
        "/oauth/authorize?{}",
        form(&[
            ("response_type", "code"),
            ("client_id", &client_id),
            ("redirect_uri", "com.example.app:/cb"),
            ("scope", "public"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
    );
    let page = b.get(&p, &authz);
    assert_eq!(page.status, 200, "{}", text(&page));
    let (_, query) = authz.split_once('?').unwrap();
    let body = format!("{query}&{}", form(&[("csrf", &csrf_of(&page)), ("decision", "allow")]));
    let r = b.post(&p, "/oauth/authorize", &body);
    assert_eq!(r.status, 302, "{}", text(&r));
    let loc = r.get_header("location").unwrap().to_owned();
    assert_eq!(query_param(&loc, "iss").as_deref(), Some(ACME));
    let code = query_param(&loc, "code").unwrap();
    let redeem = [
        ("grant_type", "authorization_code"),
        ("client_id", client_id.as_str()),
        ("code", code.as_str()),
        ("redirect_uri", "com.example.app:/cb"),
        ("code_verifier", verifier.as_str()),
    ];
    expect_error(&form_at(&p, BETA, "/oauth/token", &redeem), 400, "invalid_grant");
    let t = expect_json(&form_at(&p, ACME, "/oauth/token", &redeem), 200);
    let access = t["access_token"].as_str().unwrap().to_owned();
    let refresh = t["refresh_token"].as_str().unwrap().to_owned();
    // Userinfo: acme's token at beta is not a token.
    let userinfo = |origin: &str| {
        send_at(&p, origin, req("GET", "/oauth/userinfo", &[("authorization", &bearer(&access))], ""))
    };
    assert_eq!(userinfo(ACME).status, 200);
    assert_eq!(userinfo(BETA).status, 401);
    // Refresh at beta: no such grant there; at acme it still works.
    let refresh_grant = [("grant_type", "refresh_token"), ("client_id", client_id.as_str()), ("refresh_token", refresh.as_str())];
    expect_error(&form_at(&p, BETA, "/oauth/token", &refresh_grant), 400, "invalid_grant");
    expect_json(&form_at(&p, ACME, "/oauth/token", &refresh_grant), 200);
    // Each organisation has its own issuer.
    let issuer = |origin: &str| {
        let r = send_at(&p, origin, req("GET", "/.well-known/oauth-authorization-server", &[], ""));
        expect_json(&r, 200)["issuer"].clone()
    };
    assert_eq!(issuer(ACME), json!(ACME));
    assert_eq!(issuer(BETA), json!(BETA));
    assert_ne!(issuer(ACME), issuer(BETA));
}

#[test]
fn with_an_issuer_an_organisation_s_is_its_host_under_org_domain() {
    let mut cfg = Config::default();
    cfg.issuer = Some("https://auth.example.com".into());
    cfg.org_domain = Some("auth.example.com".into());
    cfg.admin_token = Some(Secret("admin-secret".into()));
    let p = platform_with(cfg);
    let body = json!({"label": "acme", "name": "Acme"});
    let r = send_at(&p, "https://auth.example.com", json_req("POST", "/admin/orgs", Some("admin-secret"), &body));
    assert_eq!(r.status, 201, "{}", text(&r));
    let issuer = |origin: &str| {
        let r = send_at(&p, origin, req("GET", "/.well-known/oauth-authorization-server", &[], ""));
        expect_json(&r, 200)["issuer"].clone()
    };
    assert_eq!(issuer("https://ACME.auth.example.com"), json!("https://acme.auth.example.com"));
    assert_eq!(issuer("https://auth.example.com"), json!("https://auth.example.com"));
}

#[test]
fn a_host_of_no_organisation_is_a_404() {
    let mut cfg = Config::default();
    cfg.org_domain = Some("localhost".into());
    let p = platform_with(cfg);
    for origin in ["http://127.0.0.1:8787", "http://a.b.localhost:8787", "http://evil.test"] {
        // Pages a browser is sent to answer with a page.
        for page in ["/", "/oauth/authorize", "/oauth/logout"] {
            let r = send_at(&p, origin, req("GET", page, &[], ""));
            assert_eq!(r.status, 404);
            assert!(text(&r).contains("No organisation at this address"), "{page}: {}", text(&r));
        }
        let r = send_at(&p, origin, req("GET", "/", &[], ""));
        assert_eq!(r.status, 404);
        assert!(text(&r).contains("No organisation at this address"), "{}", text(&r));
        let r = send_at(&p, origin, req("GET", "/.well-known/oauth-authorization-server", &[], ""));
        expect_error(&r, 404, "not_found");
        expect_error(&form_at(&p, origin, "/oauth/token", &[("grant_type", "client_credentials")]), 404, "not_found");
    }
    assert!(p.shards.borrow().is_empty() && p.kv.borrow().is_empty());
}

#[test]
fn without_org_domain_names_are_as_before() {
    let p = platform();
    let app = create_app(&p, json!({"name": "Plain", "scopes": ["public"]}));
    let (id, _) = credentials(&app);
    assert!(p.shards.borrow().contains_key(&format!("app:{id}")));
    assert!(p.kv.borrow().contains_key(&id));
    assert!(!p.shards.borrow().keys().any(|k| k.starts_with("org:")));
    // Every host is the one tenant.
    let r = send_at(&p, "http://acme.localhost:8787", req("GET", "/.well-known/oauth-authorization-server", &[], ""));
    assert_eq!(expect_json(&r, 200)["issuer"], json!("http://acme.localhost:8787"));
}

#[test]
fn the_gateway_and_revocation_of_another_organisation_ignore_a_token() {
    let mut cfg = Config::default();
    cfg.admin_token = Some(Secret("admin-secret".into()));
    cfg.org_domain = Some("localhost".into());
    cfg.gateway_routes = crate::gateway::parse_routes(
        r#"[{"prefix":"/api","scopes":["public"],"origin":"http://127.0.0.1:9999"}]"#,
    )
    .unwrap();
    let p = with_orgs(platform_with(cfg));
    let app = create_app_at(&p, ACME, json!({"name": "Acme", "scopes": ["public"], "grant_types": ["client_credentials"], "trusted": true}));
    let (id, secret) = credentials(&app);
    twin_in_beta(&p, &id);
    let access = expect_json(&cc_at(&p, ACME, &id, &secret), 200)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let api = |origin: &str| {
        send_at(&p, origin, req("GET", "/api/x", &[("authorization", &bearer(&access))], ""))
    };
    assert_eq!(api(BETA).status, 401);
    assert_eq!(api(ACME).status, 200);
    assert_eq!(p.origin_requests.borrow().len(), 1);
    // Revoked at beta by the twin's own credentials: nothing happens to it at acme.
    let r = form_at(&p, BETA, "/oauth/revoke", &[("token", &access), ("client_id", &id), ("client_secret", &secret)]);
    assert_eq!(r.status, 200, "{}", text(&r));
    p.liveness.clear();
    assert_eq!(api(ACME).status, 200);
}
