//! Organisations end to end: one `wrangler dev` with `ORG_DOMAIN=localhost` serves the tenants
//! `acme.localhost` and `beta.localhost` (the requests go to 127.0.0.1 with those `Host`
//! headers, as a browser resolving `*.localhost` would send them). An app and its token of
//! one organisation are refused by the other.

mod common;
use common::*;
use serde_json::json;

#[test]
fn an_app_and_its_token_are_refused_by_another_organisation() {
    let s = Server::start_with(&[("ORG_DOMAIN", "localhost")]);
    let admin = bearer(s.admin_token.as_deref().unwrap());
    let acme = format!("acme.localhost:{}", s.port);
    let beta = format!("beta.localhost:{}", s.port);
    // Each organisation's metadata names its own issuer (the Host the worker saw).
    let issuer = |host: &str| {
        s.get_with("/.well-known/oauth-authorization-server", &[("host", host)])
            .expect_json(200)["issuer"]
            .clone()
    };
    assert_eq!(issuer(&acme), json!(format!("http://{acme}")));
    assert_eq!(issuer(&beta), json!(format!("http://{beta}")));
    // An app created in acme.
    let body = json!({"name": "Acme", "scopes": ["public"], "grant_types": ["client_credentials"], "trusted": true}).to_string();
    let r = s.post_raw(
        "/admin/apps",
        &[("host", &acme), ("authorization", &admin), ("content-type", "application/json")],
        body.as_bytes(),
    );
    let app = r.expect_json(201);
    let id = app["client_id"].as_str().unwrap();
    let secret = app["client_secret"].as_str().unwrap();
    let cc = [("grant_type", "client_credentials"), ("client_id", id), ("client_secret", secret)];
    let t = s.post_form_with("/oauth/token", &cc, &[("host", &acme)]).expect_json(200);
    let access = t["access_token"].as_str().unwrap();
    // Unknown at beta.
    s.post_form_with("/oauth/token", &cc, &[("host", &beta)])
        .expect_error(401, "invalid_client");
    // The token is active at acme and not at beta.
    let active = |host: &str| {
        s.post_form_with("/oauth/introspect", &[("token", access)], &[("host", host), ("authorization", &admin)])
            .expect_json(200)["active"]
            .clone()
    };
    assert_eq!(active(&acme), json!(true));
    assert_eq!(active(&beta), json!(false));
    // 127.0.0.1 names no organisation.
    let r = s.get("/.well-known/oauth-authorization-server");
    r.expect_error(404, "not_found");
    let r = s.get("/");
    assert_eq!(r.status, 404);
    assert!(r.text().contains("No organisation at this address"));
}
