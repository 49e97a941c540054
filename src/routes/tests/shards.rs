//! One app over several objects (issue 17, `apps::replicas`): the guarantees kept while the
//! app's load is spread over `app:<id>` and its replicas `appshard:<id>:<k>` — exact limits,
//! regeneration and revocation on every shard at once, fences that are never lifted by an old
//! record, hostile `jti`s and handles.

use super::support::*;
use crate::config::{Config, Secret};
use crate::objects::{app, app_shard};
use crate::platform::memory::{block_on, MemPlatform};
use crate::platform::Objects;
use serde_json::json;

fn sharded(rate: u32, failures: u32) -> MemPlatform {
    let mut cfg = Config::default();
    cfg.admin_token = Some(Secret("admin-secret".into()));
    cfg.token_rate_limit = rate;
    cfg.auth_failure_limit = failures;
    cfg.app_shards = app_shard::SHARDS;
    platform_with(cfg)
}

fn machine(p: &MemPlatform) -> (String, String) {
    let app = create_app(
        p,
        json!({"name": "Machine", "scopes": ["public"], "trusted": true, "grant_types": ["client_credentials"]}),
    );
    credentials(&app)
}

fn from(p: &MemPlatform, address: &str, id: &str, secret: &str) -> crate::http::Response {
    let body = form(&[
        ("grant_type", "client_credentials"),
        ("client_id", id),
        ("client_secret", secret),
    ]);
    let mut r = req(
        "POST",
        "/oauth/token",
        &[("content-type", "application/x-www-form-urlencoded")],
        body,
    );
    r.remote_addr = address.into();
    send(p, r)
}

fn app_objects(p: &MemPlatform, id: &str) -> usize {
    p.calls_by_object
        .borrow()
        .keys()
        .filter(|k| **k == format!("app:{id}") || k.starts_with(&format!("appshard:{id}:")))
        .count()
}

/// `TOKEN_RATE_LIMIT` = 20 over 8 shards: exactly 20 tokens a minute, then 429 with
/// `Retry-After`, although each shard holds a share of 2 or 3.
#[test]
fn the_rate_limit_is_exact_over_the_shards() {
    let p = sharded(20, 10);
    let (id, secret) = machine(&p);
    for i in 0..20 {
        let r = client_credentials(&p, &id, &secret, &[]);
        assert_eq!(r.status, 200, "request {i}: {}", text(&r));
    }
    assert_eq!(app_objects(&p, &id), 8, "the load went to every shard");
    for _ in 0..5 {
        let r = expect_error(&client_credentials(&p, &id, &secret, &[]), 429, "rate_limited");
        assert!(r.is_object());
    }
    let r = client_credentials(&p, &id, &secret, &[]);
    assert!(r.get_header("retry-after").is_some());
    // The next window opens every share again.
    p.advance(61);
    assert_eq!(client_credentials(&p, &id, &secret, &[]).status, 200);
}

/// `AUTH_FAILURE_LIMIT` = 10 over 8 shards: a stranger's address gets exactly 10 wrong guesses
/// a minute in all, then 429 (even with the right secret, as before); the client at another
/// address is not affected.
#[test]
fn the_failure_limit_is_exact_over_the_shards() {
    let p = sharded(1000, 10);
    let (id, secret) = machine(&p);
    for _ in 0..10 {
        expect_error(&from(&p, "198.51.100.7", &id, "wrong"), 401, "invalid_client");
    }
    expect_error(&from(&p, "198.51.100.7", &id, "wrong"), 429, "rate_limited");
    expect_error(&from(&p, "198.51.100.7", &id, &secret), 429, "rate_limited");
    assert_eq!(from(&p, "203.0.113.9", &id, &secret).status, 200);
}

/// Regeneration, disabling and deletion reach every shard before they are acknowledged: the
/// old secret is refused on all eight from the next request on, and so are the tokens.
#[test]
fn a_change_reaches_every_shard_at_once() {
    let p = sharded(100_000, 1000);
    let (id, secret) = machine(&p);
    let mut tokens = Vec::new();
    for _ in 0..40 {
        let t = expect_json(&client_credentials(&p, &id, &secret, &[]), 200);
        tokens.push(t["access_token"].as_str().unwrap().to_owned());
    }
    assert!(app_objects(&p, &id) > 1);
    let active = |t: &str| {
        let r = post_form(
            &p,
            "/oauth/introspect",
            &[("token", t)],
            &[("authorization", "Bearer admin-secret")],
        );
        expect_json(&r, 200)["active"].clone()
    };
    let shards: std::collections::BTreeSet<String> = tokens
        .iter()
        .map(|t| {
            crate::crypto::jwt::decode(t).unwrap().claims["jti"]
                .as_str()
                .unwrap()
                .split_once('.')
                .unwrap()
                .0
                .to_owned()
        })
        .collect();
    assert!(shards.len() > 1, "tokens minted on several shards: {shards:?}");
    // Revocation of one token, on its shard, is immediate; the others live.
    let r = post_form(
        &p,
        "/oauth/revoke",
        &[("token", &tokens[0])],
        &[("authorization", &basic(&id, &secret))],
    );
    assert_eq!(r.status, 200);
    assert_eq!(active(&tokens[0]), json!(false));
    assert!(tokens[1..].iter().all(|t| active(t) == json!(true)));
    // Regeneration: the old secret and every token are dead on every shard.
    let r = admin(&p, "POST", &format!("/admin/apps/{id}/secret"), None);
    let new_secret = expect_json(&r, 200)["client_secret"].as_str().unwrap().to_owned();
    for _ in 0..40 {
        expect_error(&client_credentials(&p, &id, &secret, &[]), 401, "invalid_client");
    }
    assert!(tokens.iter().all(|t| active(t) == json!(false)));
    let t = expect_json(&client_credentials(&p, &id, &new_secret, &[]), 200);
    assert_eq!(active(t["access_token"].as_str().unwrap()), json!(true));
    // Disabling, then deleting: refused everywhere.
    assert_eq!(
        admin(
            &p,
            "PATCH",
            &format!("/admin/apps/{id}"),
            Some(&json!({"status": "disabled"}))
        )
        .status,
        200
    );
    for _ in 0..24 {
        expect_error(
            &client_credentials(&p, &id, &new_secret, &[]),
            401,
            "invalid_client",
        );
    }
    assert_eq!(active(t["access_token"].as_str().unwrap()), json!(false));
}

/// A replica holding an old copy behind a fence never serves it: a writer that fenced and
/// died leaves the replica stale, and its requests are answered by the app's object. An old
/// record installed late (a re-sync racing a change) does not lift a fence.
#[test]
fn a_fence_is_never_lifted_by_an_older_record() {
    let p = sharded(100_000, 1000);
    let (id, secret) = machine(&p);
    let call = |name: &crate::objects::Name<app_shard::AppShardObject>, op| block_on(p.call(name, op));
    let old = block_on(p.call(&app::object(&id), app::Snapshot {})).unwrap();
    let r1 = app_shard::object(&id, 1).unwrap();
    assert!(
        call(&r1, app_shard::Install { record: old.clone() }).unwrap(),
        "fresh once installed"
    );
    // The secret changes; replica 1 is then given the old copy again, as a late re-sync would.
    let r = admin(&p, "POST", &format!("/admin/apps/{id}/secret"), None);
    let new_secret = expect_json(&r, 200)["client_secret"].as_str().unwrap().to_owned();
    let installed = block_on(p.call(&r1, app_shard::Install { record: old.clone() })).unwrap();
    assert!(installed, "the newer copy stays");
    let auth = |secret: &str| app::Authenticate {
        secret_hash: Some(crate::util::sha256_hex(secret)),
        rate_limit: 10,
        address: "a".into(),
        failure_limit: 10,
    };
    let e = block_on(p.call(&r1, app_shard::Authenticate { auth: auth(&secret) })).unwrap_err();
    assert_eq!(
        e.code.as_str(),
        "invalid_client",
        "the old secret is refused on the replica"
    );
    // A fence for a change that never came (a writer that died after fencing at the next
    // revision): the replica answers stale, never from its copy.
    block_on(p.call(
        &r1,
        app_shard::Fence {
            revision: old.revision + 2,
        },
    ))
    .unwrap();
    assert!(block_on(p.call(
        &r1,
        app_shard::Authenticate {
            auth: auth(&new_secret)
        }
    ))
    .unwrap()
    .is_none());
    let stale_copy = app_shard::Install { record: old };
    assert!(!block_on(p.call(&r1, stale_copy)).unwrap());
    // The app still answers through every shard (the stale one passes to the app's object).
    for _ in 0..24 {
        assert_eq!(client_credentials(&p, &id, &new_secret, &[]).status, 200);
        expect_error(&client_credentials(&p, &id, &secret, &[]), 401, "invalid_client");
    }
    // The next change lifts it.
    assert_eq!(
        admin(
            &p,
            "PATCH",
            &format!("/admin/apps/{id}"),
            Some(&json!({"name": "Renamed"}))
        )
        .status,
        200
    );
    assert!(block_on(p.call(
        &r1,
        app_shard::Authenticate {
            auth: auth(&new_secret)
        }
    ))
    .unwrap()
    .is_some());
}

/// Hostile shard names: a `jti` naming a shard out of range is an inactive token (never a
/// lookup, never a panic); a code or refresh token naming a grant object that does not exist,
/// or no valid object at all, is `invalid_grant`.
#[test]
fn hostile_shards_are_refused_cleanly() {
    let p = sharded(100_000, 10);
    let app = create_app(
        &p,
        json!({"name": "Hostile", "redirect_uris": ["https://h.example/cb"], "scopes": ["public"], "trusted": true,
        "grant_types": ["authorization_code", "refresh_token", "client_credentials"]}),
    );
    let (id, secret) = credentials(&app);
    let t = expect_json(&client_credentials(&p, &id, &secret, &[]), 200);
    let mut claims = crate::crypto::jwt::decode(t["access_token"].as_str().unwrap())
        .unwrap()
        .claims;
    for jti in [
        "8.abc",
        "9.abc",
        "99.abc",
        "a.abc",
        ".abc",
        "7.",
        "-1.x",
        "\u{e9}.x",
        "\u{0663}.x",
    ] {
        claims.insert("jti".into(), json!(jti));
        let forged = crate::platform::Platform::keys(&p)
            .sign_access_token(&serde_json::Value::Object(claims.clone()))
            .unwrap();
        let r = post_form(
            &p,
            "/oauth/introspect",
            &[("token", &forged)],
            &[("authorization", "Bearer admin-secret")],
        );
        assert_eq!(expect_json(&r, 200)["active"], json!(false), "{jti:?}");
        let r = post_form(
            &p,
            "/oauth/revoke",
            &[("token", &forged)],
            &[("authorization", &basic(&id, &secret))],
        );
        assert_eq!(r.status, 200, "{jti:?}");
    }
    let auth = basic(&id, &secret);
    let long = "A".repeat(65);
    for handle in [
        "9.x",
        "zzzzzzzzzzzzzzzzzzzzzz.secret",
        "../grant.x",
        "%00.x",
        ".x",
        "x.",
        "",
        long.as_str(),
        "\u{e9}\u{e9}.x",
        "a b.c",
    ] {
        let r = token_with(
            &p,
            &[("grant_type", "refresh_token"), ("refresh_token", handle)],
            &[("authorization", &auth)],
        );
        if handle.is_empty() {
            assert_eq!(r.status, 400, "{}", text(&r));
            continue;
        }
        expect_error(&r, 400, "invalid_grant");
        let r = token_with(
            &p,
            &[
                ("grant_type", "authorization_code"),
                ("code", handle),
                ("redirect_uri", "https://h.example/cb"),
            ],
            &[("authorization", &auth)],
        );
        expect_error(&r, 400, "invalid_grant");
    }
}

/// A writer that died between fencing the replicas and applying its change (its request
/// cancelled) leaves every replica stale. Within `FENCE_LAPSE_SECONDS` the app's object answers
/// for them (with its own share of the limit only); past it, the next caller lifts the fence
/// with an empty change, and the app has its whole limit on every shard again.
#[test]
fn a_fence_left_by_a_dead_writer_lapses() {
    let p = sharded(16, 10);
    let (id, secret) = machine(&p);
    let next = block_on(p.call(&app::object(&id), app::Snapshot {})).unwrap().revision + 1;
    for k in 1..app_shard::SHARDS {
        let replica = app_shard::object(&id, k).unwrap();
        block_on(p.call(&replica, app_shard::Fence { revision: next })).unwrap();
    }
    // Stuck: the shards pass their work to the app's object, whose share (2 of 16) runs out.
    let ok = (0..16).filter(|_| client_credentials(&p, &id, &secret, &[]).status == 200).count();
    assert!(ok < 16, "a fresh fence is respected: {ok} of 16 passed");
    // Past the lapse (and into the next window), the fence is lifted: all 16 pass.
    p.advance(61);
    for i in 0..16 {
        let r = client_credentials(&p, &id, &secret, &[]);
        assert_eq!(r.status, 200, "request {i} after the lapse: {}", text(&r));
    }
    let after = block_on(p.call(&app::object(&id), app::Snapshot {})).unwrap().revision;
    assert_eq!(after, next, "the lapse committed the fenced revision as an empty change");
    // The secret is unchanged (an empty change) and the replicas serve it.
    assert_eq!(client_credentials(&p, &id, &secret, &[]).status, 429, "the limit is whole again, and exact");
}
