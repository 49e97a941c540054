//! Organisations end to end: one `wrangler dev` with `ORG_DOMAIN=localhost` serves the tenants
//! `acme.localhost` and `beta.localhost` (the requests go to 127.0.0.1 with those `Host`
//! headers, as a browser resolving `*.localhost` would send them). An app and its token of
//! one organisation are refused by the other. The platform operator creates both first (on
//! `localhost`, the platform's host), then suspends, resumes and deletes them.

mod common;
use common::*;
use serde_json::json;

#[test]
fn an_app_and_its_token_are_refused_by_another_organisation() {
    let s = Server::start_with(&[("ORG_DOMAIN", "localhost")]);
    let admin = bearer(s.admin_token.as_deref().unwrap());
    let acme = format!("acme.localhost:{}", s.port);
    let beta = format!("beta.localhost:{}", s.port);
    let platform = format!("localhost:{}", s.port);
    let json_h = |host: &str| [("host", host.to_owned()), ("authorization", admin.clone()), ("content-type", "application/json".to_owned())];
    let post_json = |host: &str, path: &str, body: &str| {
        let h = json_h(host);
        let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
        s.post_raw(path, &h, body.as_bytes())
    };
    // Before it is created, acme is no organisation.
    s.get_with("/.well-known/oauth-authorization-server", &[("host", &acme)])
        .expect_error(404, "not_found");
    // The platform operator creates both organisations on the platform's own host.
    for label in ["acme", "beta"] {
        let body = json!({"label": label, "name": format!("{label} Ltd")}).to_string();
        let org = post_json(&platform, "/admin/orgs", &body).expect_json(201);
        assert_eq!(org["status"], "active");
    }
    post_json(&platform, "/admin/orgs", &json!({"label": "acme", "name": "Again"}).to_string())
        .expect_error(409, "limit_reached");
    // The registry does not exist on an organisation's host.
    post_json(&acme, "/admin/orgs", &json!({"label": "evil", "name": "Evil"}).to_string())
        .expect_error(404, "not_found");
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
    // Suspended, acme is refused whole; beta is still served; resumed, acme is served again.
    let org = post_json(&platform, "/admin/orgs/acme/suspend", "").expect_json(200);
    assert_eq!(org["status"], "suspended");
    s.post_form_with("/oauth/token", &cc, &[("host", &acme)])
        .expect_error(403, "access_denied");
    assert_eq!(issuer(&beta), json!(format!("http://{beta}")));
    post_json(&platform, "/admin/orgs/acme/resume", "").expect_json(200);
    assert_eq!(active(&acme), json!(true));
    // Deleted, beta is no organisation any more (the same 404 as an unknown host).
    let h = [("host", platform.as_str()), ("authorization", admin.as_str())];
    let r = s.request("DELETE", "/admin/orgs/beta", Req { headers: &h, body: None, chunked: false });
    assert_eq!(r.status, 204);
    s.get_with("/.well-known/oauth-authorization-server", &[("host", &beta)])
        .expect_error(404, "not_found");
}
