//! Pairwise subject identifiers (OpenID Connect Core 1.0 §8.1): an app registered with
//! `subject_type: pairwise` knows a person by its sector's subject in every token and answer
//! (ID token, access token, introspection, userinfo, logout token), apps of different sectors
//! cannot correlate, hints are compared with that subject, and registration refuses what the
//! provider cannot do.

use super::oidc::{refresh, userinfo, verify, CB};
use super::support::*;
use crate::config::{Config, Secret};
use crate::platform::memory::MemPlatform;
use serde_json::{json, Value};

fn app(p: &MemPlatform, uris: &[&str], pairwise: bool) -> (String, String) {
    let mut body = json!({"name": "RP", "redirect_uris": uris, "scopes": ["public", "offline_access"]});
    if pairwise {
        crate::util::set(&mut body, "subject_type", "pairwise");
    }
    credentials(&expect_json(&send(p, json_req("POST", "/admin/apps", Some("admin-secret"), &body)), 201))
}

fn url(client_id: &str, redirect: &str, extra: &[(&str, &str)]) -> String {
    let mut pairs = vec![("response_type", "code"), ("client_id", client_id), ("redirect_uri", redirect), ("scope", "openid public offline_access"), ("state", "st")];
    pairs.extend_from_slice(extra);
    format!("/oauth/authorize?{}", form(&pairs))
}

/// A code flow of `rp` for the signed-in `b`, redirecting to `redirect`: the token response.
fn flow(p: &MemPlatform, b: &mut Browser, rp: &(String, String), redirect: &str) -> Value {
    let r = get_at(p, ORIGIN, b, &url(&rp.0, redirect, &[]));
    let r = if r.status == 200 {
        let u = url(&rp.0, redirect, &[]);
        let (_, query) = u.split_once('?').unwrap();
        post_at(p, ORIGIN, b, "/oauth/authorize", &format!("{query}&{}", form(&[("csrf", &csrf_of(&r)), ("decision", "allow")])))
    } else {
        r
    };
    assert_eq!(r.status, 302, "{}", text(&r));
    let code = query_param(r.get_header("location").unwrap(), "code").unwrap();
    let pairs = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", redirect)];
    let h = [("content-type", "application/x-www-form-urlencoded"), ("authorization", &basic(&rp.0, &rp.1))];
    expect_json(&send(p, req("POST", "/oauth/token", &h, form(&pairs))), 200)
}

fn sub_of(p: &MemPlatform, rp: &(String, String), t: &Value) -> String {
    verify(p, ORIGIN, &rp.0, t["id_token"].as_str().unwrap()).1["sub"].as_str().unwrap().to_owned()
}

#[test]
fn each_sector_knows_a_person_by_its_own_stable_subject_everywhere() {
    let p = platform();
    let a = app(&p, &["https://a.example/cb"], true);
    let a2 = app(&p, &["https://a.example/other"], true);
    let b_app = app(&p, &["https://b.example/cb"], true);
    let public = app(&p, &[CB], false);
    let mut ann = signed_in_at(&p, ORIGIN, "ann@example.com");
    let ta = flow(&p, &mut ann, &a, "https://a.example/cb");
    let sub_a = sub_of(&p, &a, &ta);
    let sub_a2 = sub_of(&p, &a2, &flow(&p, &mut ann, &a2, "https://a.example/other"));
    let sub_b = sub_of(&p, &b_app, &flow(&p, &mut ann, &b_app, "https://b.example/cb"));
    let user_id = sub_of(&p, &public, &flow(&p, &mut ann, &public, CB));
    // One sector, one subject; another sector or a public app, another.
    assert_eq!(sub_a, sub_a2);
    assert_ne!(sub_a, sub_b);
    assert!(sub_a != user_id && sub_b != user_id);
    assert_eq!(sub_a.len(), 43);
    // Stable: a second flow and a refresh say the same.
    assert_eq!(sub_of(&p, &a, &flow(&p, &mut ann, &a, "https://a.example/cb")), sub_a);
    let tr = refresh(&p, ORIGIN, &a, ta["refresh_token"].as_str().unwrap());
    assert_eq!(sub_of(&p, &a, &tr), sub_a);
    // The access token, introspection and userinfo say the same subject, and userinfo still
    // finds the person; nothing the app gets holds the user id.
    let access = tr["access_token"].as_str().unwrap();
    let at = crate::crypto::jwt::decode(access).unwrap();
    assert_eq!(at.claims["sub"], sub_a.as_str());
    let info = userinfo(&p, access);
    assert_eq!(info, json!({"sub": sub_a, "name": "Ann", "created_at": info["created_at"]}));
    let h = [("content-type", "application/x-www-form-urlencoded"), ("authorization", &basic(&a.0, &a.1))];
    let intro = expect_json(&send(&p, req("POST", "/oauth/introspect", &h, form(&[("token", access)]))), 200);
    assert_eq!((intro["active"].clone(), intro["sub"].clone()), (json!(true), json!(sub_a)), "{intro}");
    for body in [ta.to_string(), tr.to_string(), info.to_string()] {
        assert!(!body.contains(&user_id), "the user id leaked to a pairwise app");
    }
    for t in [&ta, &tr] {
        let id = crate::crypto::jwt::decode(t["id_token"].as_str().unwrap()).unwrap();
        assert!(!Value::Object(id.claims).to_string().contains(&user_id));
    }
    // Another person: another subject in the same sector.
    let mut bob = signed_in_at(&p, ORIGIN, "bob@example.com");
    assert_ne!(sub_of(&p, &a, &flow(&p, &mut bob, &a, "https://a.example/cb")), sub_a);
}

#[test]
fn a_hint_is_compared_with_the_pairwise_subject() {
    let p = platform();
    let a = app(&p, &["https://a.example/cb"], true);
    let mut ann = signed_in_at(&p, ORIGIN, "ann@example.com");
    let t = flow(&p, &mut ann, &a, "https://a.example/cb");
    let hint = t["id_token"].as_str().unwrap();
    let sub = sub_of(&p, &a, &t);
    // prompt=none with the hint: Ann is the hinted person, a code at once.
    let r = get_at(&p, ORIGIN, &mut ann, &url(&a.0, "https://a.example/cb", &[("prompt", "none"), ("id_token_hint", hint)]));
    assert_eq!(r.status, 302);
    assert!(query_param(r.get_header("location").unwrap(), "code").is_some(), "{:?}", r.get_header("location"));
    // The same with a claims sub naming her pairwise subject; her user id names no one here.
    let ask = |s: &str| format!(r#"{{"id_token":{{"sub":{{"value":"{s}"}}}}}}"#);
    let r = get_at(&p, ORIGIN, &mut ann, &url(&a.0, "https://a.example/cb", &[("prompt", "none"), ("claims", &ask(&sub))]));
    assert!(query_param(r.get_header("location").unwrap(), "code").is_some());
    // Logging out with the hint ends her session without asking (the hint names her).
    let r = get_at(&p, ORIGIN, &mut ann, &format!("/oauth/logout?{}", form(&[("id_token_hint", hint)])));
    assert_eq!(r.status, 200, "{}", text(&r));
    assert!(!text(&r).contains("name=\"logout\""), "no confirmation asked: {}", text(&r));
}

#[test]
fn pairwise_is_registered_only_where_the_provider_can_do_it() {
    let p = platform();
    // Redirect URIs on two hosts: no one sector.
    let body = json!({"name": "RP", "redirect_uris": ["https://a.example/cb", "https://b.example/cb"], "subject_type": "pairwise"});
    expect_error(&send(&p, json_req("POST", "/admin/apps", Some("admin-secret"), &body)), 400, "invalid_client_metadata");
    let r = register(&p, None, &json!({"redirect_uris": ["https://a.example/cb", "https://b.example/cb"], "subject_type": "pairwise"}));
    expect_error(&r, 400, "invalid_client_metadata");
    // RFC 7591 with one host: pairwise, and said so.
    let r = register(&p, None, &json!({"redirect_uris": ["https://a.example/cb"], "subject_type": "pairwise"}));
    assert_eq!(expect_json(&r, 201)["subject_type"], "pairwise");
    // Production without PAIRWISE_SECRET: not offered, not accepted; with it, both.
    let mut cfg = Config::default();
    cfg.issuer = Some(ORIGIN.into());
    cfg.admin_token = Some(Secret("admin-secret".into()));
    let prod = platform_with(cfg.clone());
    let d = expect_json(&send(&prod, req("GET", "/.well-known/openid-configuration", &[], "")), 200);
    assert_eq!(d["subject_types_supported"], json!(["public"]));
    let one = json!({"name": "RP", "redirect_uris": ["https://a.example/cb"], "subject_type": "pairwise"});
    expect_error(&send(&prod, json_req("POST", "/admin/apps", Some("admin-secret"), &one)), 400, "invalid_client_metadata");
    cfg.pairwise_secret = Some(Secret("s3cret".into()));
    let prod = platform_with(cfg);
    let d = expect_json(&send(&prod, req("GET", "/.well-known/openid-configuration", &[], "")), 200);
    assert_eq!(d["subject_types_supported"], json!(["public", "pairwise"]));
    expect_json(&send(&prod, json_req("POST", "/admin/apps", Some("admin-secret"), &one)), 201);
}
