//! Admin API validation rules: invalid app metadata on create and on update is refused with
//! its error code, and nothing is stored or changed (nor counted against the owner's app
//! limit). Moved from tests/apps.rs, which keeps the lifecycle, the credentials and the races.

use super::support::*;
use crate::config::{Config, Secret};
use crate::platform::memory::MemPlatform;
use crate::util::b64url;
use serde_json::{json, Value};

/// Every app of `owner`, through the paged listing.
fn owned_ids(p: &MemPlatform, owner: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            None => format!("/admin/apps?{}", form(&[("owner", owner), ("limit", "100")])),
            Some(c) => format!("/admin/apps?{}", form(&[("owner", owner), ("limit", "100"), ("cursor", c)])),
        };
        let v = expect_json(&admin(p, "GET", &path, None), 200);
        for a in v["apps"].as_array().unwrap() {
            assert_eq!(a["owner"], owner, "listing by owner returned another owner's app");
            ids.push(a["client_id"].as_str().unwrap().to_owned());
        }
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return ids,
        }
    }
}

fn get_app(p: &MemPlatform, id: &str) -> Value {
    expect_json(&admin(p, "GET", &format!("/admin/apps/{id}"), None), 200)
}

/// Bodies the create endpoint must refuse with 400, with the error code expected.
fn bad_creates(own: &str) -> Vec<(Value, &'static str)> {
    let small_key = {
        // A 1024-bit modulus (too small), as a JWK.
        use rsa::traits::PublicKeyParts;
        let k = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 1024).unwrap();
        json!({"kty": "RSA", "n": b64url(&k.n().to_bytes_be()), "e": b64url(&k.e().to_bytes_be())})
    };
    let mut private_jwk = test_key(0).public_jwk();
    private_jwk["d"] = "AQAB".into();
    let ru = |u: &str| json!({"name": "bad", "owner": own, "redirect_uris": [u]});
    let with = |k: &str, v: Value| {
        let mut b = json!({"name": "bad", "owner": own});
        b[k] = v;
        b
    };
    vec![
        // Redirect URIs.
        (ru("http://app.example/cb"), "invalid_redirect_uri"),
        (ru("https://app.example/cb#frag"), "invalid_redirect_uri"),
        (ru("javascript:alert(1)"), "invalid_redirect_uri"),
        (ru("https://user@app.example/cb"), "invalid_redirect_uri"),
        (ru("https://user:pw@app.example/cb"), "invalid_redirect_uri"),
        (ru("data:text/html,hi"), "invalid_redirect_uri"),
        (ru("/relative/cb"), "invalid_redirect_uri"),
        (ru("https://app.example/a/../cb"), "invalid_redirect_uri"),
        (ru("https://app.example/c b"), "invalid_redirect_uri"),
        (ru(""), "invalid_redirect_uri"),
        (
            json!({"name": "bad", "owner": own, "redirect_uris": ["https://ok.example/cb", "http://evil.example/cb"]}),
            "invalid_redirect_uri",
        ),
        // Scopes and grants.
        (with("scopes", json!(["public", "admin"])), "invalid_request"),
        (with("scopes", json!(["public", ""])), "invalid_request"),
        (with("grant_types", json!(["implicit"])), "invalid_request"),
        (with("grant_types", json!(["client_credentials", "magic"])), "invalid_request"),
        (with("default_scopes", json!(["users:write"])), "invalid_request"),
        // Wrong JSON types.
        (json!({"name": 5, "owner": own}), "invalid_request"),
        (with("trusted", json!("yes")), "invalid_request"),
        (with("scopes", json!(5)), "invalid_request"),
        (with("scopes", json!([1, 2])), "invalid_request"),
        (with("redirect_uris", json!({"a": 1})), "invalid_request"),
        (with("token_lifetime", json!("3600")), "invalid_request"),
        (with("token_lifetime", json!(-1)), "invalid_request"),
        (with("token_lifetime", json!(1.5)), "invalid_request"),
        (json!({"name": "bad", "owner": 7}), "invalid_request"),
        // Unknown fields, including ones that would let a caller choose credentials.
        (with("colour", json!("red")), "invalid_request"),
        (with("client_id", json!("a".repeat(32))), "invalid_request"),
        (with("client_secret", json!("s".repeat(32))), "invalid_request"),
        (with("secret_hash", json!("00")), "invalid_request"),
        (with("epoch", json!(5)), "invalid_request"),
        // Other field rules.
        (json!({"owner": own}), "invalid_request"),
        (json!({"name": "   ", "owner": own}), "invalid_request"),
        (json!({"name": "x".repeat(101), "owner": own}), "invalid_request"),
        (json!({"name": "bad\u{0}name", "owner": own}), "invalid_request"),
        (with("token_lifetime", json!(59)), "invalid_request"),
        (with("token_lifetime", json!(86_401)), "invalid_request"),
        (with("token_endpoint_auth_method", json!("client_secret_jwt")), "invalid_request"),
        (
            json!({"name": "bad", "owner": own, "grant_types": ["client_credentials"], "token_endpoint_auth_method": "none"}),
            "invalid_request",
        ),
        (with("homepage", json!("javascript:alert(1)")), "invalid_request"),
        (with("admin_email", json!("not-an-email")), "invalid_request"),
        (with("status", json!("deleted")), "invalid_request"),
        (with("status", json!("superuser")), "invalid_request"),
        // Keys.
        (with("key", json!("make-one")), "invalid_request"),
        (
            json!({"name": "bad", "owner": own, "key": "generate", "public_key": test_key(0).public_jwk()}),
            "invalid_request",
        ),
        (with("public_key", private_jwk), "invalid_request"),
        (with("public_key", small_key), "invalid_request"),
        (
            with("public_key", json!("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----")),
            "invalid_request",
        ),
        (with("public_key", json!({"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"})), "invalid_request"),
        (with("public_key", json!(42)), "invalid_request"),
    ]
}

/// Every bad creation is refused with its error, and none is stored.
fn refuse_bad_creates(p: &MemPlatform, own: &str) {
    for (body, code) in bad_creates(own) {
        let v = expect_error(&admin(p, "POST", "/admin/apps", Some(&body)), 400, code);
        assert!(v.get("client_id").is_none(), "{body} → {v}");
    }
    for bad_owner in ["bad owner", "", "a/b", "x\u{0}"] {
        let r = admin(p, "POST", "/admin/apps", Some(&json!({"name": "bad", "owner": bad_owner})));
        expect_error(&r, 400, "invalid_request");
    }
    assert!(owned_ids(p, own).is_empty());
}

#[test]
fn invalid_app_metadata_is_refused_and_nothing_is_stored() {
    let p = platform();
    let own = "bad-owner";
    refuse_bad_creates(&p, own);
    create_app(&p, json!({"name": "good", "owner": own}));
    assert_eq!(owned_ids(&p, own).len(), 1);
    // Nothing at all was stored for the refused ones: the one good app is the only app.
    assert_eq!(p.kv.borrow().len(), 1);
}

/// Refused creations take none of the owner's slots (the limit and its race: tests/apps.rs).
#[test]
fn refused_creations_are_not_counted_against_the_app_limit() {
    let mut cfg = Config::default();
    cfg.admin_token = Some(Secret("admin-secret".into()));
    cfg.max_apps_per_owner = 5;
    let p = platform_with(cfg);
    let own = "limit";
    refuse_bad_creates(&p, own);
    for i in 0..5 {
        create_app(&p, json!({"name": format!("limit {i}"), "owner": own}));
    }
    let r = admin(&p, "POST", "/admin/apps", Some(&json!({"name": "sixth", "owner": own})));
    expect_error(&r, 409, "limit_reached");
    assert_eq!(owned_ids(&p, own).len(), 5);
}

#[test]
fn refused_updates_leave_the_app_unchanged() {
    let p = platform();
    let app = create_app(
        &p,
        json!({
            "name": "Stable", "owner": "stable", "trusted": true,
            "scopes": ["public", "users:read"], "redirect_uris": ["https://stable.example/cb"],
        }),
    );
    let id = app["client_id"].as_str().unwrap();
    let path = format!("/admin/apps/{id}");
    let before = get_app(&p, id);
    let mut patches: Vec<(Value, &str)> = bad_creates("x")
        .into_iter()
        .map(|(mut b, code)| {
            b.as_object_mut().unwrap().remove("owner");
            (b, code)
        })
        .filter(|(b, _)| {
            // A PATCH names only what it changes: drop the cases that are bad only by omission.
            b.get("name").is_some_and(|n| n != "bad") || b.as_object().unwrap().len() > 1
        })
        .collect();
    patches.push((json!({"owner": "someone-else"}), "invalid_request"));
    patches.push((json!({"key": "generate"}), "invalid_request"));
    patches.push((json!({"public_key": test_key(1).public_jwk()}), "invalid_request"));
    patches.push((json!({"client_id": "b".repeat(32)}), "invalid_request"));
    patches.push((json!({"name": ""}), "invalid_request"));
    patches.push((json!({"trusted": true, "token_endpoint_auth_method": "none"}), "invalid_request"));
    assert!(patches.len() > 30);
    for (body, code) in &patches {
        expect_error(&admin(&p, "PATCH", &path, Some(body)), 400, code);
        assert_eq!(get_app(&p, id), before, "PATCH {body} changed the app");
    }
    // Not JSON, not an object, wrong content type.
    for (ct, body) in [
        ("application/json", &b"[]"[..]),
        ("application/json", b"{"),
        ("application/json", b"{\"name\":\"\xff\"}"),
        ("text/plain", b"{\"name\":\"x\"}"),
    ] {
        let r = send(
            &p,
            req("PATCH", &path, &[("authorization", "Bearer admin-secret"), ("content-type", ct)], body),
        );
        assert!(r.status == 400 || r.status == 415, "{}", r.status);
    }
    assert_eq!(get_app(&p, id), before);
    // And the credentials still work.
    let r = token_with(
        &p,
        &[("grant_type", "client_credentials")],
        &[("authorization", &basic(id, app["client_secret"].as_str().unwrap()))],
    );
    assert!(expect_json(&r, 200)["access_token"].is_string());
    // PATCH of an unknown app.
    let r = admin(&p, "PATCH", &format!("/admin/apps/{}", "z".repeat(32)), Some(&json!({"name": "x"})));
    expect_error(&r, 404, "not_found");
}

fn listed(p: &MemPlatform, query: &str) -> (Vec<String>, Option<String>) {
    let v = expect_json(&admin(p, "GET", &format!("/admin/apps?{query}"), None), 200);
    let names = v["apps"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap().to_owned()).collect();
    (names, v["next_cursor"].as_str().map(str::to_owned))
}

/// Issue 19: `GET /admin/apps` filters by name (case-insensitive part), owner, status and
/// grant type, with cursor paging through filtered pages; bad filter values are refused.
#[test]
fn the_admin_listing_filters_by_name_owner_status_and_grant_type() {
    let p = platform();
    for i in 0..7 {
        let mut body = json!({"name": format!("Billing {i}"), "owner": if i % 2 == 0 { "team-a" } else { "team-b" }});
        if i == 3 {
            body["trusted"] = json!(true);
        }
        create_app(&p, body);
    }
    let web = create_app(&p, json!({"name": "Web shop", "owner": "team-a", "redirect_uris": ["https://shop.example/cb"]}));
    let id = web["client_id"].as_str().unwrap().to_owned();
    assert_eq!(admin(&p, "PATCH", &format!("/admin/apps/{id}"), Some(&json!({"status": "disabled"}))).status, 200);
    let (all, _) = listed(&p, "name=BILLING");
    assert_eq!(all.len(), 7, "{all:?}");
    let (mut a, _) = listed(&p, "name=billing&owner=team-a");
    a.sort();
    assert_eq!(a, ["Billing 0", "Billing 2", "Billing 4", "Billing 6"]);
    assert_eq!(listed(&p, "status=disabled").0, ["Web shop"]);
    assert_eq!(listed(&p, "status=active&owner=team-a").0.len(), 4);
    assert_eq!(listed(&p, "grant_type=client_credentials").0, ["Billing 3"]);
    assert_eq!(listed(&p, "grant_type=authorization_code").0, ["Web shop"]);
    assert!(listed(&p, "name=nothing-like-it").0.is_empty());
    // Paging through a filtered listing gives every match once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let q = match &cursor {
            Some(c) => form(&[("name", "billing"), ("limit", "2"), ("cursor", c)]),
            None => form(&[("name", "billing"), ("limit", "2")]),
        };
        let (names, next) = listed(&p, &q);
        assert!(names.len() <= 2);
        seen.extend(names);
        cursor = next;
        if cursor.is_none() {
            break;
        }
    }
    seen.sort();
    assert_eq!(seen, (0..7).map(|i| format!("Billing {i}")).collect::<Vec<_>>());
    for bad in ["status=deleted", "status=", "grant_type=magic", "name=", &format!("name={}", "x".repeat(101)), "owner="] {
        expect_error(&admin(&p, "GET", &format!("/admin/apps?{bad}"), None), 400, "invalid_request");
    }
}

/// Issue 19: `GET /admin/apps/{id}/keys` lists the app's public keys (it was 405).
#[test]
fn the_admin_api_lists_an_apps_keys() {
    let p = platform();
    let app = create_app(&p, json!({"name": "Keyed", "key": "generate"}));
    let id = app["client_id"].as_str().unwrap();
    let v = expect_json(&admin(&p, "GET", &format!("/admin/apps/{id}/keys"), None), 200);
    assert_eq!(v["client_id"], id);
    let keys = v["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["kty"], "RSA");
    assert!(keys[0].get("d").is_none(), "never a private part: {v}");
    assert_eq!(keys[0]["kid"], app["keys"][0]["kid"]);
    expect_error(&admin(&p, "GET", "/admin/apps/nope/keys", None), 404, "not_found");
    assert_eq!(send(&p, req("GET", &format!("/admin/apps/{id}/keys"), &[], "")).status, 401);
}

/// Issue 19: a scope the catalogue (`SCOPES`) drops never makes an app uneditable. It stays
/// on the app as `retired_scopes` (reported, never granted) until an operator drops it; an
/// unrelated edit works; adding a scope that is not in the catalogue is still refused.
#[test]
fn a_scope_dropped_from_the_catalogue_is_retired_not_a_validation_error() {
    let mut cfg = crate::config::Config::default();
    cfg.admin_token = Some(crate::config::Secret("admin-secret".into()));
    cfg.scopes = vec!["public".into(), "legacy:read".into()];
    let p = platform_with(cfg.clone());
    let app = create_app(&p, json!({"name": "Old", "trusted": true, "scopes": ["public", "legacy:read"]}));
    let id = app["client_id"].as_str().unwrap().to_owned();
    let secret = app["client_secret"].as_str().unwrap().to_owned();
    // The operator drops the scope from the catalogue (same state, new configuration).
    cfg.scopes = vec!["public".into()];
    let mut p = p;
    p.config = cfg;
    let v = expect_json(&admin(&p, "GET", &format!("/admin/apps/{id}"), None), 200);
    assert_eq!(v["retired_scopes"], json!(["legacy:read"]), "{v}");
    // An unrelated edit works.
    let v = expect_json(&admin(&p, "PATCH", &format!("/admin/apps/{id}"), Some(&json!({"name": "Renamed"}))), 200);
    assert_eq!(v["name"], "Renamed");
    // The retired scope is never granted: not by default, not when asked.
    let t = expect_json(&client_credentials(&p, &id, &secret, &[]), 200);
    assert_eq!(t["scope"], "public", "{t}");
    expect_error(&client_credentials(&p, &id, &secret, &[("scope", "legacy:read")]), 400, "invalid_scope");
    // Adding an unknown scope is refused; dropping the retired one clears the report.
    let r = admin(&p, "PATCH", &format!("/admin/apps/{id}"), Some(&json!({"scopes": ["public", "legacy:read", "made:up"]})));
    expect_error(&r, 400, "invalid_request");
    let v = expect_json(&admin(&p, "PATCH", &format!("/admin/apps/{id}"), Some(&json!({"scopes": ["public"]}))), 200);
    assert!(v.get("retired_scopes").is_none(), "{v}");
    // And it cannot come back while the catalogue lacks it.
    let r = admin(&p, "PATCH", &format!("/admin/apps/{id}"), Some(&json!({"scopes": ["public", "legacy:read"]})));
    expect_error(&r, 400, "invalid_request");
}

#[test]
fn scope_descriptions_come_from_the_configuration_and_bad_entries_are_left_out() {
    let d = crate::config::parse_scope_descriptions(
        r#"{"reports:read": "See your reports", "bad scope": "x", "empty": "", "ctl": "a\u0007b", "num": 3, "long": "LONG"}"#
            .replace("LONG", &"y".repeat(201))
            .as_str(),
    );
    assert_eq!(d, vec![("reports:read".to_owned(), "See your reports".to_owned())]);
    assert!(crate::config::parse_scope_descriptions("[1]").is_empty());
    assert!(crate::config::parse_scope_descriptions("{not json").is_empty());
    let mut cfg = crate::config::Config::default();
    cfg.admin_token = Some(crate::config::Secret("admin-secret".into()));
    cfg.scopes.push("reports:read".into());
    cfg.scope_descriptions = d;
    let p = platform_with(cfg);
    let app = create_app(&p, json!({"name": "Reports", "redirect_uris": ["https://r.example/cb"], "scopes": ["public", "reports:read"]}));
    let id = app["client_id"].as_str().unwrap();
    let mut b = signed_in(&p, "describe@example.com");
    let url = format!("/oauth/authorize?{}", form(&[("response_type", "code"), ("client_id", id), ("redirect_uri", "https://r.example/cb"), ("scope", "public reports:read")]));
    let page = text(&b.get(&p, &url));
    assert!(page.contains("<li>See your reports</li>"), "{page}");
}

#[test]
fn client_ids_never_start_with_a_hyphen_or_underscore() {
    let p = platform();
    for i in 0..200 {
        let app = create_app(&p, serde_json::json!({"name": format!("id {i}"), "scopes": ["public"]}));
        let id = app["client_id"].as_str().unwrap();
        assert!(id.len() == 32 && id.starts_with(|c: char| c.is_ascii_alphanumeric()), "{id}");
    }
}
