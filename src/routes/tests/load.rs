//! A local load test of one app (issue 17): many token requests — code exchanges, refreshes,
//! client credentials — over the in-memory platform, counting the calls each Durable Object
//! gets (`MemPlatform::calls_by_object`). A Durable Object runs one command at a time (about a
//! thousand a second), so the share of the hottest object is what caps an app. Codes and
//! refresh tokens go to their grant's own object (`grant:<gid>`); client authentication and
//! access-token liveness go to one of the app's `APP_SHARDS` objects (`app:<id>` and its
//! replicas `appshard:<id>:<k>`, `apps::replicas`). The test runs the same load with one shard
//! (as before issue 17's sharding) and with eight, and prints each object's share.
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

/// Drives the token load of one app over a platform with `APP_SHARDS` = `shards`; answers the
/// calls per object of the token requests (hottest first) and the client id.
fn token_load(shards: u32) -> (Vec<(String, u64, f64)>, String) {
    let mut cfg = crate::config::Config::default();
    cfg.admin_token = Some(crate::config::Secret("admin-secret".into()));
    cfg.app_shards = shards;
    let p = platform_with(cfg);
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
    print(&format!("APP_SHARDS={shards}: authorization requests"), &shares(&p));
    p.calls_by_object.borrow_mut().clear();

    // The token requests: every code exchanged, every grant refreshed, machine tokens between,
    // and every machine token introspected (by the operator).
    let tok = |pairs: &[(&str, &str)]| expect_json(&token_with(&p, pairs, &[("authorization", &auth)]), 200);
    for (i, (code, verifier)) in codes.iter().enumerate() {
        let t = tok(&[("grant_type", "authorization_code"), ("code", code), ("redirect_uri", CB), ("code_verifier", verifier)]);
        let mut rt = t["refresh_token"].as_str().unwrap().to_owned();
        for _ in 0..REFRESHES {
            let t = tok(&[("grant_type", "refresh_token"), ("refresh_token", &rt)]);
            rt = t["refresh_token"].as_str().unwrap().to_owned();
        }
        if i < MACHINE {
            let t = tok(&[("grant_type", "client_credentials")]);
            let r = post_form(&p, "/oauth/introspect", &[("token", t["access_token"].as_str().unwrap())], &[("authorization", "Bearer admin-secret")]);
            assert_eq!(expect_json(&r, 200)["active"], json!(true));
        }
    }
    let v = shares(&p);
    print(&format!("APP_SHARDS={shards}: token requests"), &v);
    (v, id)
}

/// Issue 17: before, every client authentication and liveness check of the app went to
/// `app:<id>`; with `APP_SHARDS` = 8 the hottest of the app's objects takes about 1/8 of them.
#[test]
fn one_apps_token_load_spreads_over_its_shards_and_grants() {
    let app_calls = |v: &[(String, u64, f64)], id: &str| -> Vec<(String, u64)> {
        v.iter()
            .filter(|x| x.0 == format!("app:{id}") || x.0.starts_with(&format!("appshard:{id}:")))
            .map(|x| (x.0.clone(), x.1))
            .collect()
    };
    let requests = (GRANTS * (1 + REFRESHES) + 2 * MACHINE) as u64;
    let grant_calls = (GRANTS * (1 + REFRESHES)) as u64;

    // Before: one object per app.
    let (before, id) = token_load(1);
    let total: u64 = before.iter().map(|x| x.1).sum();
    // One app call per request (client authentication; an introspection's liveness check), one
    // grant command per code exchange or refresh.
    assert_eq!(total, requests + grant_calls, "{before:?}");
    let app = app_calls(&before, &id);
    assert_eq!(app.len(), 1, "{app:?}");
    let app_total: u64 = app.iter().map(|x| x.1).sum();
    assert_eq!(app_total, requests, "the app's object took every app call");
    let before_hottest = before[0].2;

    // After: eight.
    let n = crate::objects::app_shard::SHARDS;
    let (after, id) = token_load(n);
    let app = app_calls(&after, &id);
    assert_eq!(app.len(), n as usize, "every shard is used: {app:?}");
    let app_total: u64 = app.iter().map(|x| x.1).sum();
    let total: u64 = after.iter().map(|x| x.1).sum();
    // The same calls, plus at most one re-sync (a stale call, the snapshot, the install, the
    // retry) per replica, each once: replicas start empty.
    let resync = 4 * u64::from(n - 1);
    assert!(app_total >= requests && app_total <= requests + resync, "{app_total}");
    assert_eq!(total - app_total, grant_calls, "grant calls unchanged");
    let hottest_app = app.iter().map(|x| x.1).max().unwrap() as f64 / app_total as f64;
    let hottest = after[0].2;
    println!(
        "hottest object: {:.1}% of all calls before, {:.1}% after; hottest of the app's objects: 100% of the app's calls before, {:.1}% after (1/{n} = {:.1}%)",
        before_hottest * 100.0,
        hottest * 100.0,
        hottest_app * 100.0,
        100.0 / f64::from(n)
    );
    // Random choice per request: 420 app calls over 8 shards, so a few points above 1/8.
    assert!(hottest_app <= 1.0 / f64::from(n) + 0.08, "{app:?}");
    assert!(hottest <= 1.0 / f64::from(n) + 0.08, "{after:?}");
    assert!(before_hottest > 0.5, "{before:?}");
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
    assert!(p.calls_by_object.borrow().keys().all(|k| k.starts_with("app:") || k.starts_with("appshard:")), "{:?}", p.calls_by_object.borrow());
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
