//! A local load test of one app (issue 17): many token requests — code exchanges, refreshes,
//! client credentials — over the in-memory platform, counting the calls each Durable Object
//! gets (`MemPlatform::calls_by_object`). A Durable Object runs one command at a time (about a
//! thousand a second), so the share of the hottest object is what caps an app. Codes and
//! refresh tokens go to their grant's own object (`grant:<gid>`), so the app's object sees
//! only client authentication (and, at the gateway, liveness).
//!
//! `cargo test --lib load -- --nocapture` prints the table.

use super::support::*;
use crate::platform::memory::MemPlatform;
use crate::util::{b64url, sha256};
use serde_json::json;

const CB: &str = "https://load.example/cb";
/// Grants made by code exchange; refreshes of each; client-credentials calls.
const GRANTS: usize = 60;
const REFRESHES: usize = 4;
const MACHINE: usize = 60;

/// Calls per object since the last reset, hottest first, as (name, calls, share).
fn shares(p: &MemPlatform) -> Vec<(String, u64, f64)> {
    let calls = p.calls_by_object.borrow();
    let total: u64 = calls.values().sum();
    let mut v: Vec<(String, u64, f64)> = calls
        .iter()
        .map(|(k, n)| (k.clone(), *n, *n as f64 / total.max(1) as f64))
        .collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

fn print(title: &str, v: &[(String, u64, f64)]) {
    let total: u64 = v.iter().map(|x| x.1).sum();
    let grants = v.iter().filter(|x| x.0.starts_with("grant:")).count();
    println!("{title}: {total} object calls over {} objects ({grants} grant objects)", v.len());
    for (name, n, share) in v.iter().take(5) {
        println!("  {:>6.2}%  {n:>5}  {name}", share * 100.0);
    }
}

#[test]
fn one_apps_token_load_spreads_over_its_grants() {
    let p = platform();
    let app = create_app(
        &p,
        json!({"name": "Popular", "redirect_uris": [CB], "scopes": ["public"], "trusted": true,
               "grant_types": ["authorization_code", "refresh_token", "client_credentials"]}),
    );
    let (id, secret) = credentials(&app);
    let auth = basic(&id, &secret);
    let mut b = signed_in(&p, "load@example.com");
    // The codes, as a browser gets them (consenting the first time).
    let mut codes = Vec::new();
    for i in 0..GRANTS {
        let verifier = format!("{}{i:04}", "v".repeat(43));
        let challenge = b64url(&sha256(verifier.as_bytes()));
        let pairs = [
            ("response_type", "code"),
            ("client_id", id.as_str()),
            ("redirect_uri", CB),
            ("scope", "public"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        let path = format!("/oauth/authorize?{}", form(&pairs));
        let mut r = b.get(&p, &path);
        if r.status == 200 {
            let body = format!("{}&{}", form(&pairs), form(&[("csrf", &csrf_of(&r)), ("decision", "allow")]));
            r = b.post(&p, "/oauth/authorize", &body);
        }
        assert_eq!(r.status, 302, "{}", text(&r));
        let code = query_param(r.get_header("location").unwrap(), "code").unwrap();
        codes.push((code, verifier));
    }
    print("authorization requests", &shares(&p));
    p.calls_by_object.borrow_mut().clear();

    // The token requests: every code exchanged, every grant refreshed, machine tokens between.
    let tok = |pairs: &[(&str, &str)]| expect_json(&token_with(&p, pairs, &[("authorization", &auth)]), 200);
    for (i, (code, verifier)) in codes.iter().enumerate() {
        let t = tok(&[("grant_type", "authorization_code"), ("code", code), ("redirect_uri", CB), ("code_verifier", verifier)]);
        let mut rt = t["refresh_token"].as_str().unwrap().to_owned();
        for _ in 0..REFRESHES {
            let t = tok(&[("grant_type", "refresh_token"), ("refresh_token", &rt)]);
            rt = t["refresh_token"].as_str().unwrap().to_owned();
        }
        if i < MACHINE {
            tok(&[("grant_type", "client_credentials")]);
        }
    }
    let v = shares(&p);
    print("token requests", &v);
    let total: u64 = v.iter().map(|x| x.1).sum();
    let requests = (GRANTS * (1 + REFRESHES) + MACHINE) as u64;
    // One client authentication per request in the app's object, one grant command per code
    // exchange or refresh in the grant's object, nothing else.
    assert_eq!(total, requests + (GRANTS * (1 + REFRESHES)) as u64, "{v:?}");
    let app_object = format!("app:{id}");
    let app_share = v.iter().find(|x| x.0 == app_object).map_or(0.0, |x| x.2);
    // Before grant objects every one of these calls went to `app:<id>` (share 1.0).
    assert!(app_share < 0.6, "the app's object still takes {app_share:.3} of the calls");
    let grants: Vec<_> = v.iter().filter(|x| x.0.starts_with("grant:")).collect();
    assert_eq!(grants.len(), GRANTS, "one object per grant");
    let hottest_grant = grants.iter().map(|x| x.2).fold(0.0, f64::max);
    assert!(hottest_grant <= (1 + REFRESHES) as f64 / total as f64 + 1e-9, "{hottest_grant}");
    assert!(v.iter().all(|x| x.0 == app_object || x.0.starts_with("grant:")), "{v:?}");
}

/// The guarantees kept with grants in objects of their own: a credential names its grant and
/// nothing else is looked up; another client's credential finds nothing; regeneration ends
/// refresh tokens and a person's access tokens at once; revocation of a refresh token ends the
/// grant and its access tokens.
#[test]
fn grant_objects_keep_epoch_client_binding_and_revocation() {
    let p = platform();
    let make = |name: &str| {
        let app = create_app(
            &p,
            json!({"name": name, "redirect_uris": [CB], "scopes": ["public"],
                   "grant_types": ["authorization_code", "refresh_token"]}),
        );
        credentials(&app)
    };
    let (id, secret) = make("First");
    let (other_id, other_secret) = make("Second");
    let mut b = signed_in(&p, "guarantees@example.com");
    let mut grant = |id: &str, secret: &str| {
        let pairs = [("response_type", "code"), ("client_id", id), ("redirect_uri", CB), ("scope", "public")];
        let path = format!("/oauth/authorize?{}", form(&pairs));
        let mut r = b.get(&p, &path);
        if r.status == 200 {
            let body = format!("{}&{}", form(&pairs), form(&[("csrf", &csrf_of(&r)), ("decision", "allow")]));
            r = b.post(&p, "/oauth/authorize", &body);
        }
        let code = query_param(r.get_header("location").unwrap(), "code").unwrap();
        let t = token_with(&p, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", CB)], &[("authorization", &basic(id, secret))]);
        let t = expect_json(&t, 200);
        (code, t["access_token"].as_str().unwrap().to_owned(), t["refresh_token"].as_str().unwrap().to_owned())
    };
    let refresh = |id: &str, secret: &str, rt: &str| {
        token_with(&p, &[("grant_type", "refresh_token"), ("refresh_token", rt)], &[("authorization", &basic(id, secret))])
    };
    let active = |t: &str| {
        let r = post_form(&p, "/oauth/introspect", &[("token", t)], &[("authorization", "Bearer admin-secret")]);
        expect_json(&r, 200)["active"].clone()
    };
    let (code, access, rt) = grant(&id, &secret);
    // Code and refresh token name the same grant, the one the access token names.
    let gid = code.split_once('.').unwrap().0.to_owned();
    assert_eq!(rt.split_once('.').unwrap().0, gid);
    let claims = crate::crypto::jwt::decode(&access).unwrap().claims;
    assert_eq!(claims["gid"], json!(gid));
    assert_eq!(active(&access), json!(true));
    // A credential of another form is refused without looking anywhere but the client's
    // authentication.
    p.calls_by_object.borrow_mut().clear();
    expect_error(&refresh(&id, &secret, &rand_hex(32)), 400, "invalid_grant");
    expect_error(&refresh(&id, &secret, "bad:gid.secret"), 400, "invalid_grant");
    assert!(p.calls_by_object.borrow().keys().all(|k| k.starts_with("app:")), "{:?}", p.calls_by_object.borrow());
    // Another client finds nothing in the grant's object, and changes nothing there.
    expect_error(&refresh(&other_id, &other_secret, &rt), 400, "invalid_grant");
    let r = post_form(&p, "/oauth/revoke", &[("token", &rt)], &[("authorization", &basic(&other_id, &other_secret))]);
    assert_eq!(r.status, 200);
    let rt = expect_json(&refresh(&id, &secret, &rt), 200)["refresh_token"].as_str().unwrap().to_owned();
    // Revoking the refresh token ends the grant and its access tokens.
    let r = post_form(&p, "/oauth/revoke", &[("token", &rt)], &[("authorization", &basic(&id, &secret))]);
    assert_eq!(r.status, 200);
    assert_eq!(active(&access), json!(false));
    expect_error(&refresh(&id, &secret, &rt), 400, "invalid_grant");
    // Regeneration ends the next grant at once, though its object never heard of it.
    let (_, access, rt) = grant(&id, &secret);
    assert_eq!(active(&access), json!(true));
    let r = admin(&p, "POST", &format!("/admin/apps/{id}/secret"), None);
    let secret = expect_json(&r, 200)["client_secret"].as_str().unwrap().to_owned();
    assert_eq!(active(&access), json!(false));
    expect_error(&refresh(&id, &secret, &rt), 400, "invalid_grant");
    // …and for good: the grant was marked revoked when the new epoch met it.
    let gid = rt.split_once('.').unwrap().0;
    let alive = crate::platform::memory::block_on(crate::platform::Objects::call(
        &p,
        &crate::objects::grants::object_of_gid(gid).unwrap(),
        crate::objects::grants::GrantAlive { client_id: id.clone(), gid: gid.to_owned() },
    ));
    assert!(!alive.unwrap());
}

/// A grant's object knows nothing of its app's status: the code is refused before it is stored
/// for an app the directory shows disabled, as when codes lived in the app's object.
#[test]
fn a_disabled_app_gets_no_code() {
    let p = platform();
    let app = create_app(&p, json!({"name": "Off", "redirect_uris": [CB], "scopes": ["public"], "trusted": true}));
    let (id, _) = credentials(&app);
    let mut b = signed_in(&p, "off@example.com");
    let pairs = [("response_type", "code"), ("client_id", id.as_str()), ("redirect_uri", CB), ("scope", "public")];
    let path = format!("/oauth/authorize?{}", form(&pairs));
    let r = b.get(&p, &path);
    let body = format!("{}&{}", form(&pairs), form(&[("csrf", &csrf_of(&r)), ("decision", "allow")]));
    let r = b.post(&p, "/oauth/authorize", &body);
    assert_eq!(r.status, 302, "{}", text(&r));
    assert!(query_param(r.get_header("location").unwrap(), "code").is_some());
    assert_eq!(admin(&p, "PATCH", &format!("/admin/apps/{id}"), Some(&json!({"status": "disabled"}))).status, 200);
    p.calls_by_object.borrow_mut().clear();
    // Consent is remembered: the request goes straight to issuing, which refuses.
    let r = b.get(&p, &path);
    expect_error(&r, 401, "invalid_client");
    assert!(!p.calls_by_object.borrow().keys().any(|k| k.starts_with("grant:")), "nothing stored");
}
