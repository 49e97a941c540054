//! The registry of organisations: the platform operator's API on the platform's host, and a
//! request to an organisation's host served only while it exists and is active.

use super::support::*;
use super::tenancy::{create_org, send_at, PLATFORM};
use crate::config::{Config, Secret};
use crate::http::Response;
use crate::platform::memory::MemPlatform;
use serde_json::json;

const ACME: &str = "http://acme.localhost:8787";

fn orgs() -> MemPlatform {
    let mut cfg = Config::default();
    cfg.admin_token = Some(Secret("admin-secret".into()));
    cfg.org_domain = Some("localhost".into());
    cfg.max_apps_per_owner = 7;
    platform_with(cfg)
}

fn op(p: &MemPlatform, origin: &str, method: &str, path: &str) -> Response {
    send_at(p, origin, json_req(method, path, Some("admin-secret"), &json!({})))
}

fn metadata(p: &MemPlatform, origin: &str) -> Response {
    send_at(p, origin, req("GET", "/.well-known/oauth-authorization-server", &[], ""))
}

#[test]
fn the_operator_creates_lists_gets_suspends_resumes_and_deletes_organisations() {
    let p = orgs();
    let r = create_org(&p, "acme");
    let acme = expect_json(&r, 201);
    assert_eq!(acme["label"], "acme");
    assert_eq!(acme["name"], "acme Ltd");
    assert_eq!(acme["status"], "active");
    // No quotas unless set (null: no limit); the deployment's policies and brand.
    assert_eq!(acme["quotas"], json!({"max_apps": null, "max_people": null, "max_requests_per_minute": null}));
    assert_eq!((&acme["policies"], &acme["brand"]), (&json!({}), &json!({})));
    assert!(acme["created_at"].as_i64().unwrap() > 0);
    expect_no_store(&r);
    expect_json(&create_org(&p, "beta"), 201);

    let list = expect_json(&op(&p, PLATFORM, "GET", "/admin/orgs"), 200);
    let labels: Vec<_> = list["orgs"].as_array().unwrap().iter().map(|o| o["label"].clone()).collect();
    assert_eq!(labels, vec![json!("acme"), json!("beta")]);
    let page = expect_json(&op(&p, PLATFORM, "GET", "/admin/orgs?limit=1"), 200);
    assert_eq!(page["orgs"].as_array().unwrap().len(), 1);
    assert_eq!(page["next_cursor"], "acme");
    let rest = expect_json(&op(&p, PLATFORM, "GET", "/admin/orgs?limit=1&cursor=acme"), 200);
    assert_eq!(rest["orgs"][0]["label"], "beta");
    assert_eq!(rest["next_cursor"], json!(null));

    assert_eq!(expect_json(&op(&p, PLATFORM, "GET", "/admin/orgs/acme"), 200), acme);
    expect_error(&op(&p, PLATFORM, "GET", "/admin/orgs/nope"), 404, "not_found");

    let s = expect_json(&op(&p, PLATFORM, "POST", "/admin/orgs/acme/suspend"), 200);
    assert_eq!(s["status"], "suspended");
    let r = expect_json(&op(&p, PLATFORM, "POST", "/admin/orgs/acme/resume"), 200);
    assert_eq!(r["status"], "active");
    let d = op(&p, PLATFORM, "DELETE", "/admin/orgs/acme");
    assert_eq!(d.status, 204, "{}", text(&d));
    assert_eq!(expect_json(&op(&p, PLATFORM, "GET", "/admin/orgs/acme"), 200)["status"], "deleted");
    // A deleted organisation is not suspended, resumed or deleted again, and its label stays taken.
    for (m, path) in [("POST", "/admin/orgs/acme/suspend"), ("POST", "/admin/orgs/acme/resume"), ("DELETE", "/admin/orgs/acme")] {
        expect_error(&op(&p, PLATFORM, m, path), 404, "not_found");
    }
    expect_error(&create_org(&p, "acme"), 409, "limit_reached");
    expect_error(&op(&p, PLATFORM, "POST", "/admin/orgs/nope/suspend"), 404, "not_found");
    expect_error(&op(&p, PLATFORM, "PUT", "/admin/orgs/beta"), 405, "method_not_allowed");
    expect_error(&op(&p, PLATFORM, "POST", "/admin/orgs/beta/explode"), 404, "not_found");
}

#[test]
fn a_taken_label_is_refused() {
    let p = orgs();
    expect_json(&create_org(&p, "acme"), 201);
    let v = expect_error(&create_org(&p, "acme"), 409, "limit_reached");
    assert!(v["error_description"].as_str().unwrap().contains("taken"), "{v}");
}

#[test]
fn bad_labels_and_names_are_refused() {
    let p = orgs();
    let long = "a".repeat(64);
    for label in ["", "-acme", "acme-", "Acme", "ac_me", "ac me", "a.b", "xn--bcher-kva", "bücher", long.as_str(), "acme\u{0}"] {
        let body = json!({"label": label, "name": "Acme"});
        let r = send_at(&p, PLATFORM, json_req("POST", "/admin/orgs", Some("admin-secret"), &body));
        expect_error(&r, 400, "invalid_request");
    }
    for name in ["", "   ", "Ac\u{202E}me", &"n".repeat(101)] {
        let body = json!({"label": "acme", "name": name});
        let r = send_at(&p, PLATFORM, json_req("POST", "/admin/orgs", Some("admin-secret"), &body));
        expect_error(&r, 400, "invalid_request");
    }
    for (m, path) in [("GET", "/admin/orgs/Acme"), ("POST", "/admin/orgs/-x/suspend"), ("DELETE", "/admin/orgs/a_b"), ("GET", "/admin/orgs?cursor=..%2F")] {
        expect_error(&op(&p, PLATFORM, m, path), 400, "invalid_request");
    }
    assert_eq!(expect_json(&op(&p, PLATFORM, "GET", "/admin/orgs"), 200)["orgs"], json!([]));
}

#[test]
fn hostile_input_on_the_org_routes_is_refused() {
    let p = orgs();
    let auth = [("authorization", "Bearer admin-secret"), ("content-type", "application/json")];
    let post = |headers: &[(&str, &str)], body: &[u8]| send_at(&p, PLATFORM, req("POST", "/admin/orgs", headers, body));
    expect_error(&post(&auth, b"{\"label\": \"acme\""), 400, "invalid_request");
    expect_error(&post(&auth, b"[]"), 400, "invalid_request");
    expect_error(&post(&auth, b"{\"label\":\"acme\",\"name\":\"A\",\"extra\":1}"), 400, "invalid_request");
    expect_error(&post(&auth, b"{\"label\":\"acme\",\"name\":\"\xff\xfe\"}"), 400, "invalid_request");
    expect_error(&post(&auth, b"{\"label\":1,\"name\":\"A\"}"), 400, "invalid_request");
    let form = [("authorization", "Bearer admin-secret"), ("content-type", "application/x-www-form-urlencoded")];
    expect_error(&post(&form, b"label=acme&name=Acme"), 415, "invalid_request");
    expect_error(&post(&auth[..1], b"{\"label\":\"acme\",\"name\":\"A\"}"), 415, "invalid_request");
    let big = format!("{{\"label\":\"acme\",\"name\":\"{}\"}}", "a".repeat(crate::http::MAX_BODY));
    expect_error(&post(&auth, big.as_bytes()), 413, "invalid_request");
    assert_eq!(expect_json(&op(&p, PLATFORM, "GET", "/admin/orgs"), 200)["orgs"], json!([]));
}

#[test]
fn the_org_api_needs_the_admin_token_and_the_platform_s_host() {
    let p = orgs();
    let body = json!({"label": "acme", "name": "Acme"});
    for token in [None, Some("wrong")] {
        let r = send_at(&p, PLATFORM, json_req("POST", "/admin/orgs", token, &body));
        expect_error(&r, 401, "invalid_token");
        expect_error(&send_at(&p, PLATFORM, json_req("GET", "/admin/orgs", token, &json!({}))), 401, "invalid_token");
    }
    expect_json(&create_org(&p, "acme"), 201);
    // On an organisation's own host the registry does not exist, token or not.
    for path in ["/admin/orgs", "/admin/orgs/acme", "/admin/orgs/acme/suspend"] {
        expect_error(&op(&p, ACME, "GET", path), 404, "not_found");
        expect_error(&send_at(&p, ACME, req("GET", path, &[], "")), 404, "not_found");
    }
    expect_error(&send_at(&p, ACME, json_req("POST", "/admin/orgs", Some("admin-secret"), &json!({"label": "evil", "name": "E"}))), 404, "not_found");
    expect_error(&metadata(&p, "http://evil.localhost:8787"), 404, "not_found");
    // Single-tenant: no registry at all.
    let single = platform();
    expect_error(&send(&single, json_req("POST", "/admin/orgs", Some("admin-secret"), &body)), 404, "not_found");
    expect_error(&send(&single, json_req("GET", "/admin/orgs", Some("admin-secret"), &json!({}))), 404, "not_found");
    // … and, as every admin path there, the admin token is asked for first.
    expect_error(&send(&single, json_req("GET", "/admin/orgs", None, &json!({}))), 401, "invalid_token");
}

#[test]
fn only_an_existing_active_organisation_is_served() {
    let p = orgs();
    // Unknown: the same 404 as a host of no tenant, a page for a person.
    expect_error(&metadata(&p, ACME), 404, "not_found");
    let page = send_at(&p, ACME, req("GET", "/login", &[], ""));
    assert_eq!(page.status, 404);
    assert!(text(&page).contains("No organisation at this address"));

    expect_json(&create_org(&p, "acme"), 201);
    assert_eq!(expect_json(&metadata(&p, ACME), 200)["issuer"], ACME);

    expect_json(&op(&p, PLATFORM, "POST", "/admin/orgs/acme/suspend"), 200);
    let v = expect_error(&metadata(&p, ACME), 403, "access_denied");
    assert_eq!(v["error_description"], "this organisation is suspended");
    let page = send_at(&p, ACME, req("GET", "/login", &[], ""));
    assert_eq!(page.status, 403);
    assert!(text(&page).contains("this organisation is suspended"));
    // Nothing of a suspended organisation is reachable, its operator's API included.
    expect_error(&op(&p, ACME, "GET", "/admin/apps"), 403, "access_denied");

    expect_json(&op(&p, PLATFORM, "POST", "/admin/orgs/acme/resume"), 200);
    assert_eq!(expect_json(&metadata(&p, ACME), 200)["issuer"], ACME);

    assert_eq!(op(&p, PLATFORM, "DELETE", "/admin/orgs/acme").status, 204);
    let v = expect_error(&metadata(&p, ACME), 404, "not_found");
    assert_eq!(v["error_description"], "no organisation at this address");
    // The platform's own host is served whatever the registry holds.
    assert_eq!(expect_json(&metadata(&p, PLATFORM), 200)["issuer"], PLATFORM);
}
