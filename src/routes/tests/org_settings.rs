//! What each organisation has of its own, set by the platform operator: signing keys (made on
//! first use, rotated), operators (their tokens work on their organisation's host only),
//! policies (registration, password grant, scope catalogue) and a per-minute request quota.

use super::support::*;
use super::tenancy::{create_org, send_at, PLATFORM};
use crate::config::{Config, Secret};
use crate::http::Response;
use crate::platform::memory::MemPlatform;
use serde_json::{json, Value};

const ACME: &str = "http://acme.localhost:8787";
const BETA: &str = "http://beta.localhost:8787";

fn orgs() -> MemPlatform {
    let mut cfg = Config::default();
    cfg.admin_token = Some(Secret("admin-secret".into()));
    cfg.org_domain = Some("localhost".into());
    let p = platform_with(cfg);
    for label in ["acme", "beta"] {
        expect_json(&create_org(&p, label), 201);
    }
    p
}

fn call(p: &MemPlatform, origin: &str, method: &str, path: &str, token: Option<&str>, body: &Value) -> Response {
    send_at(p, origin, json_req(method, path, token, body))
}

fn platform_op(p: &MemPlatform, method: &str, path: &str, body: &Value) -> Response {
    call(p, PLATFORM, method, path, Some("admin-secret"), body)
}

fn jwks(p: &MemPlatform, origin: &str) -> Value {
    expect_json(&send_at(p, origin, req("GET", "/.well-known/jwks.json", &[], "")), 200)
}

fn kids(p: &MemPlatform, origin: &str) -> Vec<String> {
    jwks(p, origin)["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

fn cc_app(p: &MemPlatform, origin: &str, token: &str) -> (String, String) {
    let body = json!({"name": "M", "scopes": ["public"], "grant_types": ["client_credentials"], "trusted": true});
    credentials(&expect_json(&call(p, origin, "POST", "/admin/apps", Some(token), &body), 201))
}

fn cc(p: &MemPlatform, origin: &str, id: &str, secret: &str) -> Response {
    let h = [("content-type", "application/x-www-form-urlencoded")];
    let body = form(&[("grant_type", "client_credentials"), ("client_id", id), ("client_secret", secret)]);
    send_at(p, origin, req("POST", "/oauth/token", &h, body))
}

fn active(p: &MemPlatform, origin: &str, token: &str) -> Value {
    let h = [("content-type", "application/x-www-form-urlencoded"), ("authorization", "Bearer admin-secret")];
    let r = send_at(p, origin, req("POST", "/oauth/introspect", &h, form(&[("token", token)])));
    expect_json(&r, 200)["active"].clone()
}

fn kid_of(token: &str) -> String {
    let header = token.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(&crate::util::b64url_decode(header).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

#[test]
fn each_organisation_signs_with_its_own_keys_and_rotates_them() {
    let p = orgs();
    let (acme, beta, platform) = (kids(&p, ACME), kids(&p, BETA), kids(&p, PLATFORM));
    assert_eq!((acme.len(), beta.len()), (1, 1));
    assert!(acme != beta && acme != platform && beta != platform);
    // Stable across requests (made once, kept by the organisation's object).
    assert_eq!(kids(&p, ACME), acme);
    let (id, secret) = cc_app(&p, ACME, "admin-secret");
    let old = expect_json(&cc(&p, ACME, &id, &secret), 200)["access_token"].as_str().unwrap().to_owned();
    assert_eq!(kid_of(&old), acme[0]);

    // Rotation: a new signing key, the old one still published and verifying.
    let r = expect_json(&platform_op(&p, "POST", "/admin/orgs/acme/keys", &json!({})), 200);
    let rotated = kids(&p, ACME);
    assert_eq!(rotated.len(), 2);
    assert_eq!(rotated[1], acme[0]);
    assert_eq!(r["signing_kid"], json!(rotated[0]));
    let new = expect_json(&cc(&p, ACME, &id, &secret), 200)["access_token"].as_str().unwrap().to_owned();
    assert_eq!(kid_of(&new), rotated[0]);
    assert_eq!((active(&p, ACME, &old), active(&p, ACME, &new)), (json!(true), json!(true)));
    assert_eq!(kids(&p, BETA), beta, "beta's keys are its own");
    // At most three are kept: after three more rotations the first key is gone, its tokens too.
    for _ in 0..3 {
        expect_json(&platform_op(&p, "POST", "/admin/orgs/acme/keys", &json!({})), 200);
    }
    assert_eq!(kids(&p, ACME).len(), 3);
    assert!(!kids(&p, ACME).contains(&acme[0]));
    assert_eq!(active(&p, ACME, &old), json!(false));
    // The default tenant's keys are the deployment's.
    let r = call(&p, PLATFORM, "POST", "/admin/keys", Some("admin-secret"), &json!({}));
    expect_error(&r, 400, "invalid_request");
    expect_error(&platform_op(&p, "POST", "/admin/orgs/nope/keys", &json!({})), 404, "not_found");
}

#[test]
fn an_organisation_s_operators_act_on_its_host_only() {
    let p = orgs();
    let r = platform_op(&p, "POST", "/admin/orgs/acme/operators", &json!({"name": "Acme IT"}));
    let op = expect_json(&r, 201);
    expect_no_store(&r);
    let token = op["token"].as_str().unwrap().to_owned();
    let id = op["id"].as_str().unwrap().to_owned();
    // Listed without its token or hash.
    let list = expect_json(&platform_op(&p, "GET", "/admin/orgs/acme/operators", &json!({})), 200);
    assert_eq!(list["operators"][0]["name"], "Acme IT");
    assert!(!list.to_string().contains(&token) && !list.to_string().contains("token_sha256"), "{list}");
    // It creates and manages acme's apps, and rotates acme's keys.
    let (app_id, secret) = cc_app(&p, ACME, &token);
    expect_json(&cc(&p, ACME, &app_id, &secret), 200);
    expect_json(&call(&p, ACME, "GET", "/admin/apps", Some(&token), &json!({})), 200);
    expect_json(&call(&p, ACME, "POST", "/admin/keys", Some(&token), &json!({})), 200);
    // Nothing elsewhere: not beta, not the platform's host, not the registry.
    for (origin, path) in [(BETA, "/admin/apps"), (PLATFORM, "/admin/apps"), (PLATFORM, "/admin/orgs")] {
        expect_error(&call(&p, origin, "GET", path, Some(&token), &json!({})), 401, "invalid_token");
    }
    expect_error(&call(&p, BETA, "POST", "/admin/keys", Some(&token), &json!({})), 401, "invalid_token");
    expect_error(&call(&p, ACME, "GET", "/admin/orgs", Some(&token), &json!({})), 404, "not_found");
    // Removed, its token stops working at once.
    let r = platform_op(&p, "DELETE", &format!("/admin/orgs/acme/operators/{id}"), &json!({}));
    assert_eq!(r.status, 204, "{}", text(&r));
    expect_error(&call(&p, ACME, "GET", "/admin/apps", Some(&token), &json!({})), 401, "invalid_token");
    let r = platform_op(&p, "DELETE", &format!("/admin/orgs/acme/operators/{id}"), &json!({}));
    expect_error(&r, 404, "not_found");
    // Bad input.
    expect_error(&platform_op(&p, "POST", "/admin/orgs/acme/operators", &json!({"name": ""})), 400, "invalid_request");
    expect_error(&platform_op(&p, "POST", "/admin/orgs/acme/operators", &json!({"name": "x", "token": "mine"})), 400, "invalid_request");
}

#[test]
fn policies_are_per_organisation() {
    let p = orgs();
    let policies = json!({"policies": {
        "registration_policy": "off",
        "password_grant": false,
        "scopes": ["public", "orders:read"],
        "self_service_scopes": ["public"],
    }});
    let r = expect_json(&platform_op(&p, "PATCH", "/admin/orgs/acme", &policies), 200);
    assert_eq!(r["policies"]["registration_policy"], "off");
    let meta = |origin: &str| {
        expect_json(&send_at(&p, origin, req("GET", "/.well-known/oauth-authorization-server", &[], "")), 200)
    };
    let (acme, beta) = (meta(ACME), meta(BETA));
    assert_eq!(acme["scopes_supported"], json!(["public", "orders:read"]));
    assert!(acme.get("registration_endpoint").is_none());
    assert!(!acme["grant_types_supported"].as_array().unwrap().contains(&json!("password")));
    assert!(beta["registration_endpoint"].is_string());
    assert!(beta["grant_types_supported"].as_array().unwrap().contains(&json!("password")));
    // Registration off at acme, open at beta (development default).
    let meta_body = json!({"client_name": "Dyn", "redirect_uris": ["https://dyn.example/cb"]});
    expect_error(&call(&p, ACME, "POST", "/oauth/register", None, &meta_body), 403, "access_denied");
    expect_json(&call(&p, BETA, "POST", "/oauth/register", None, &meta_body), 201);
    // The catalogue: acme knows orders:read, beta does not.
    let app = |origin: &str| {
        let body = json!({"name": "C", "scopes": ["orders:read"], "grant_types": ["client_credentials"], "trusted": true});
        call(&p, origin, "POST", "/admin/apps", Some("admin-secret"), &body)
    };
    expect_json(&app(ACME), 201);
    expect_error(&app(BETA), 400, "invalid_request");
    // The password grant: off at acme even for an app that opted in.
    let body = json!({"name": "Pw", "grant_types": ["password"], "scopes": ["public"]});
    let pw_app = expect_json(&call(&p, ACME, "POST", "/admin/apps", Some("admin-secret"), &body), 201);
    let (id, secret) = credentials(&pw_app);
    let h = [("content-type", "application/x-www-form-urlencoded")];
    let grant = form(&[("grant_type", "password"), ("client_id", &id), ("client_secret", &secret), ("username", "a@example.com"), ("password", "x")]);
    let r = send_at(&p, ACME, req("POST", "/oauth/token", &h, grant));
    let v = expect_error(&r, 400, "unauthorized_client");
    assert!(v["error_description"].as_str().unwrap().contains("switched off"), "{v}");
    // Incoherent policies are refused.
    for bad in [
        json!({"policies": {"registration_policy": "sometimes"}}),
        json!({"policies": {"scopes": ["a b"]}}),
        json!({"policies": {"scopes": ["a", "a"]}}),
        json!({"policies": {"self_service_scopes": ["nope"]}}),
        json!({"policies": {"scopes": ["a"], "self_service_scopes": ["public"]}}),
        json!({"quotas": {"max_apps": 0}}),
        json!({"quotas": {"max_people": 100000000}}),
        json!({"policies": {"unknown": true}}),
        json!({"status": "active"}),
    ] {
        let r = platform_op(&p, "PATCH", "/admin/orgs/acme", &bad);
        assert_eq!(r.status, 400, "{bad} was accepted: {}", text(&r));
    }
    expect_error(&platform_op(&p, "PATCH", "/admin/orgs/nope", &json!({"name": "N"})), 404, "not_found");
    let r = expect_json(&platform_op(&p, "PATCH", "/admin/orgs/acme", &json!({"name": "Acme Corp"})), 200);
    assert_eq!((&r["name"], &r["policies"]["password_grant"]), (&json!("Acme Corp"), &json!(false)));
}

#[test]
fn an_organisation_s_requests_per_minute_are_counted() {
    let p = orgs();
    let body = json!({"quotas": {"max_requests_per_minute": 3}});
    expect_json(&platform_op(&p, "PATCH", "/admin/orgs/acme", &body), 200);
    let meta = |origin: &str| send_at(&p, origin, req("GET", "/.well-known/oauth-authorization-server", &[], ""));
    let start = now(&p);
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(meta(ACME).status);
    }
    // The window may turn over during the loop (a minute boundary): then more pass.
    if now(&p) / 60 == start / 60 {
        assert_eq!(statuses, vec![200, 200, 200, 429, 429]);
        let r = meta(ACME);
        expect_error(&r, 429, "rate_limited");
        let after: i64 = r.get_header("retry-after").unwrap().parse().unwrap();
        assert!((1..=60).contains(&after));
        let page = send_at(&p, ACME, req("GET", "/login", &[], ""));
        assert_eq!(page.status, 429);
        assert!(text(&page).contains("Too many requests"));
    }
    // beta and the platform are not counted against acme's quota.
    for _ in 0..5 {
        assert_eq!(meta(BETA).status, 200);
        assert_eq!(meta(PLATFORM).status, 200);
    }
}

#[test]
fn a_custom_domain_serves_its_organisation_with_its_own_issuer() {
    let p = orgs();
    const CUSTOM: &str = "http://login.acme.test:8787";
    let meta = |origin: &str| send_at(&p, origin, req("GET", "/.well-known/oauth-authorization-server", &[], ""));
    expect_error(&meta(CUSTOM), 404, "not_found");
    let add = |label: &str, domain: &str| {
        platform_op(&p, "POST", &format!("/admin/orgs/{label}/domains"), &json!({"domain": domain}))
    };
    let r = expect_json(&add("acme", "Login.Acme.test"), 201);
    assert_eq!(r["domains"], json!(["login.acme.test"]));
    assert_eq!(expect_json(&meta(CUSTOM), 200)["issuer"], CUSTOM);
    // acme's app and keys, on either host (each host its own issuer).
    let (id, secret) = cc_app(&p, ACME, "admin-secret");
    let t = expect_json(&cc(&p, CUSTOM, &id, &secret), 200)["access_token"].as_str().unwrap().to_owned();
    assert_eq!(kids(&p, CUSTOM), kids(&p, ACME));
    assert_eq!(active(&p, CUSTOM, &t), json!(true));
    assert_eq!(active(&p, ACME, &t), json!(false), "another issuer");
    // One organisation per domain; the platform's own names are not custom domains.
    expect_error(&add("beta", "login.acme.test"), 409, "limit_reached");
    for bad in ["acme.localhost", "localhost", "127.0.0.1", "x", "a..b", "login.acme.test:443/x"] {
        expect_error(&add("beta", bad), 400, "invalid_request");
    }
    expect_error(&add("nope", "other.test"), 404, "not_found");
    // A stale map entry (KV lags up to 60 s) does not serve a domain the record does not list.
    p.domains.borrow_mut().insert("stale.test".into(), "acme".into());
    expect_error(&meta("http://stale.test"), 404, "not_found");
    // Removed: 404 at once, and free for beta.
    let r = platform_op(&p, "DELETE", "/admin/orgs/acme/domains/login.acme.test", &json!({}));
    assert_eq!(r.status, 204, "{}", text(&r));
    expect_error(&meta(CUSTOM), 404, "not_found");
    expect_json(&add("beta", "login.acme.test"), 201);
    assert_eq!(kids(&p, CUSTOM), kids(&p, BETA));
    // Deleting beta frees its domains.
    assert_eq!(platform_op(&p, "DELETE", "/admin/orgs/beta", &json!({})).status, 204);
    expect_error(&meta(CUSTOM), 404, "not_found");
    expect_json(&add("acme", "login.acme.test"), 201);
    // At most ten.
    for i in 0..9 {
        expect_json(&add("acme", &format!("d{i}.acme.test")), 201);
    }
    expect_error(&add("acme", "d10.acme.test"), 409, "limit_reached");
    // The failed eleventh left no claim behind: beta is gone, but a new org can take it.
    expect_json(&create_org(&p, "gamma"), 201);
    expect_json(&add("gamma", "d10.acme.test"), 201);
}

/// What of `label` is still stored: KV keys, and objects that hold anything (sessions and
/// attempt counters excepted: they expire by themselves).
fn left_of(p: &MemPlatform, label: &str) -> Vec<String> {
    use crate::objects::kv::Kv;
    let prefix = format!("org:{label}:");
    let mut left: Vec<String> = p.kv.borrow().keys().filter(|k| k.starts_with(&prefix)).cloned().collect();
    for (name, kv) in p.shards.borrow().iter() {
        let rest = name.strip_prefix(&prefix);
        let expiring = rest.is_some_and(|r| r.starts_with("session:") || r.starts_with("ip:") || r.starts_with("reg:") || r.starts_with("ticket:") || r.starts_with("mailto:") || r.starts_with("mailfrom:"));
        if rest.is_some() && !expiring && !kv.list("", None, 1).unwrap().is_empty() {
            left.push(name.clone());
        }
    }
    left.sort();
    left
}

#[test]
fn deleting_an_organisation_erases_its_data_and_only_its_own() {
    let p = orgs();
    for origin in [ACME, BETA] {
        cc_app(&p, origin, "admin-secret");
        let meta = json!({"client_name": "Dyn", "redirect_uris": ["https://dyn.example/cb"]});
        expect_json(&call(&p, origin, "POST", "/oauth/register", None, &meta), 201);
        let _ = signed_in_at(&p, origin, "ann@example.com");
    }
    let before = left_of(&p, "acme");
    assert!(before.iter().any(|k| k.contains(":email:")) && before.iter().any(|k| k.contains(":user:")), "{before:?}");
    assert!(before.iter().any(|k| k.contains(":app:")) && before.iter().any(|k| k.contains(":owner:")), "{before:?}");
    let beta_before = left_of(&p, "beta");

    let r = platform_op(&p, "DELETE", "/admin/orgs/acme", &json!({}));
    assert_eq!(r.status, 204, "{}", text(&r));
    assert_eq!(left_of(&p, "acme"), Vec::<String>::new());
    assert_eq!(left_of(&p, "beta"), beta_before, "beta untouched");
    let rec = expect_json(&platform_op(&p, "GET", "/admin/orgs/acme", &json!({})), 200);
    assert_eq!(rec["status"], "deleted");
    assert!(rec["erased_at"].is_i64(), "{rec}");
    // The label stays taken; erasing again is harmless; only a deleted organisation is erased.
    expect_error(&create_org(&p, "acme"), 409, "limit_reached");
    assert_eq!(platform_op(&p, "POST", "/admin/orgs/acme/erase", &json!({})).status, 204);
    expect_error(&platform_op(&p, "POST", "/admin/orgs/beta/erase", &json!({})), 400, "invalid_request");
}

#[test]
fn a_large_organisation_is_erased_in_several_passes() {
    let p = orgs();
    // Each app costs four object calls (read, owner, object, quota release): several passes.
    for i in 0..210 {
        let body = json!({"name": format!("a{i}"), "owner": format!("o{i}"), "scopes": ["public"], "grant_types": ["client_credentials"], "trusted": true});
        expect_json(&call(&p, ACME, "POST", "/admin/apps", Some("admin-secret"), &body), 201);
    }
    let r = platform_op(&p, "DELETE", "/admin/orgs/acme", &json!({}));
    assert_eq!(r.status, 202, "{}", text(&r));
    assert_eq!(json(&r)["done"], json!(false));
    assert!(!left_of(&p, "acme").is_empty());
    // Each pass gets further; a few passes finish.
    let mut passes = 1;
    loop {
        let left = left_of(&p, "acme").len();
        let r = platform_op(&p, "POST", "/admin/orgs/acme/erase", &json!({}));
        passes += 1;
        if r.status == 204 {
            break;
        }
        assert_eq!(r.status, 202, "{}", text(&r));
        assert!(left_of(&p, "acme").len() < left, "a pass made progress");
        assert!(passes < 6, "erasure does not end");
    }
    assert_eq!(left_of(&p, "acme"), Vec::<String>::new());
    assert!(expect_json(&platform_op(&p, "GET", "/admin/orgs/acme", &json!({})), 200)["erased_at"].is_i64());
}

#[test]
fn an_organisation_s_brand_is_set_by_the_operator_and_shown_on_its_pages_only() {
    let p = orgs();
    let brand = json!({"brand": {"name": "Acme <Sign-in>", "color": "#0a7", "logo_url": "https://cdn.acme.test/logo.png"}});
    let r = expect_json(&platform_op(&p, "PATCH", "/admin/orgs/acme", &brand), 200);
    assert_eq!(r["brand"]["color"], "#0a7");
    let page = |origin: &str| {
        let r = send_at(&p, origin, req("GET", "/login", &[], ""));
        assert_eq!(r.status, 200);
        (text(&r), r.get_header("content-security-policy").unwrap_or("").to_owned())
    };
    let (acme, csp) = page(ACME);
    assert!(acme.contains("Acme &lt;Sign-in&gt;") && !acme.contains("<Sign-in>"), "{acme}");
    assert!(acme.contains("https://cdn.acme.test/logo.png"));
    assert_eq!(csp.matches("'sha256-").count(), 2, "the colour's stylesheet is hashed: {csp}");
    let (beta, _) = page(BETA);
    assert!(!beta.contains("Acme") && !beta.contains("cdn.acme.test"));
    assert!(beta.contains("beta Ltd"), "an organisation's pages default to its name");
    for bad in [
        json!({"brand": {"color": "red"}}),
        json!({"brand": {"color": "#12345g"}}),
        json!({"brand": {"logo_url": "http://cdn.acme.test/logo.png"}}),
        json!({"brand": {"logo_url": "https://user:pw@cdn.acme.test/x.png"}}),
        json!({"brand": {"name": ""}}),
        json!({"brand": {"name": "A\u{202E}B"}}),
        json!({"brand": {"font": "Comic Sans"}}),
    ] {
        let r = platform_op(&p, "PATCH", "/admin/orgs/acme", &bad);
        assert_eq!(r.status, 400, "{bad} was accepted: {}", text(&r));
    }
    // A brand of {} is the organisation's name and the default look again.
    expect_json(&platform_op(&p, "PATCH", "/admin/orgs/acme", &json!({"brand": {}})), 200);
    let (acme, _) = page(ACME);
    assert!(acme.contains("acme Ltd") && !acme.contains("cdn.acme.test"));
}

#[test]
fn with_eddsa_access_tokens_an_organisation_still_has_an_rsa_key_for_id_tokens() {
    let mut cfg = Config::default();
    cfg.admin_token = Some(Secret("admin-secret".into()));
    cfg.org_domain = Some("localhost".into());
    cfg.access_token_alg = crate::config::AccessTokenAlg::EdDsa;
    let p = platform_with(cfg);
    expect_json(&create_org(&p, "acme"), 201);
    let kinds = |p: &MemPlatform| -> Vec<String> {
        let mut k: Vec<String> = jwks(p, ACME)["keys"].as_array().unwrap().iter().map(|k| k["alg"].as_str().unwrap().to_owned()).collect();
        k.sort();
        k
    };
    assert_eq!(kinds(&p), vec!["EdDSA", "RS256"]);
    let r = send_at(&p, ACME, req("GET", "/.well-known/openid-configuration", &[], ""));
    let algs = expect_json(&r, 200)["id_token_signing_alg_values_supported"].clone();
    assert!(algs.as_array().unwrap().contains(&json!("RS256")), "{algs}");
    let (id, secret) = cc_app(&p, ACME, "admin-secret");
    let t = expect_json(&cc(&p, ACME, &id, &secret), 200)["access_token"].as_str().unwrap().to_owned();
    let header: Value = serde_json::from_slice(&crate::util::b64url_decode(t.split('.').next().unwrap()).unwrap()).unwrap();
    assert_eq!(header["alg"], "EdDSA");
    // Rotation makes both kinds again.
    expect_json(&platform_op(&p, "POST", "/admin/orgs/acme/keys", &json!({})), 200);
    assert_eq!(kinds(&p), vec!["EdDSA", "EdDSA", "RS256", "RS256"]);
}
