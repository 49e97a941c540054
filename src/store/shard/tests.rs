use super::*;
use crate::store::kv::MemKv;

fn app_record(public: bool) -> AppRecord {
    let mut app = App::example();
    app.token_endpoint_auth_method = if public { "none" } else { "client_secret_basic" }.into();
    AppRecord {
        app,
        secret_hash: (!public).then(|| "h".repeat(64)),
        epoch: 0,
        registration_hash: None,
    }
}

fn code(challenge: Option<&str>) -> CodeRecord {
    CodeRecord {
        user_id: "u1".into(),
        redirect_uri: "https://a.example/cb".into(),
        redirect_uri_sent: true,
        scopes: vec!["public".into()],
        aud: "aud".into(),
        challenge: challenge.map(str::to_owned),
        method: challenge.map(|_| "plain".to_owned()),
        expires_at: 160,
        used: false,
        gid: None,
    }
}

fn new(gid: &str, rt: &str) -> grants::NewGrant {
    grants::NewGrant {
        gid: gid.into(),
        refresh_hash: rt.into(),
        refresh_ttl: 1000,
        grant_ttl: 5000,
    }
}

fn ok(r: Reply) -> Reply {
    if let Reply::Err { description, .. } = &r {
        panic!("unexpected error: {description}");
    }
    r
}

fn is_err(r: &Reply, code: ErrorCode) -> bool {
    matches!(r, Reply::Err { code: c, .. } if *c == code)
}

fn live(kv: &mut MemKv, now: i64, gid: &str) -> bool {
    let r = apply(
        kv,
        now,
        Command::CheckToken {
            jti: "j".into(),
            epoch: 0,
            kid: None,
            gid: Some(gid.into()),
        },
    );
    matches!(r, Reply::Active { active: true })
}

#[test]
fn reserve_stops_at_the_limit_and_release_frees_a_slot() {
    let mut kv = MemKv::default();
    for i in 0..3 {
        ok(apply(
            &mut kv,
            0,
            Command::Reserve {
                app_id: format!("a{i}"),
                limit: 3,
            },
        ));
    }
    let r = apply(
        &mut kv,
        0,
        Command::Reserve {
            app_id: "a3".into(),
            limit: 3,
        },
    );
    assert!(is_err(&r, ErrorCode::LimitReached));
    apply(&mut kv, 0, Command::Release { app_id: "a1".into() });
    apply(&mut kv, 0, Command::Release { app_id: "a1".into() });
    ok(apply(
        &mut kv,
        0,
        Command::Reserve {
            app_id: "a3".into(),
            limit: 3,
        },
    ));
    assert!(is_err(
        &apply(
            &mut kv,
            0,
            Command::Reserve {
                app_id: "a4".into(),
                limit: 3
            }
        ),
        ErrorCode::LimitReached
    ));
}

#[test]
fn list_owned_pages() {
    let mut kv = MemKv::default();
    for i in 0..5 {
        apply(
            &mut kv,
            0,
            Command::Reserve {
                app_id: format!("a{i}"),
                limit: 10,
            },
        );
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let Reply::Ids { ids, next } = apply(&mut kv, 0, Command::ListOwned { after, limit: 2 }) else {
            panic!()
        };
        assert!(ids.len() <= 2);
        seen.extend(ids);
        if next.is_none() {
            break;
        }
        after = next;
    }
    assert_eq!(seen, vec!["a0", "a1", "a2", "a3", "a4"]);
}

#[test]
fn dev_key_is_stored_once() {
    let mut kv = MemKv::default();
    let Reply::Key { pem } = apply(&mut kv, 0, Command::DevKey { candidate: None }) else {
        panic!()
    };
    assert!(pem.is_none());
    let Reply::Key { pem } = apply(
        &mut kv,
        0,
        Command::DevKey {
            candidate: Some("A".into()),
        },
    ) else {
        panic!()
    };
    assert_eq!(pem.as_deref(), Some("A"));
    let Reply::Key { pem } = apply(
        &mut kv,
        0,
        Command::DevKey {
            candidate: Some("B".into()),
        },
    ) else {
        panic!()
    };
    assert_eq!(pem.as_deref(), Some("A"));
}

#[test]
fn revoked_jti_expires_with_the_token() {
    let mut kv = MemKv::default();
    apply(
        &mut kv,
        100,
        Command::RevokeJti {
            jti: "j".into(),
            exp: 200,
        },
    );
    assert!(kv.get("rev:j").unwrap().is_some());
    apply(
        &mut kv,
        201,
        Command::RevokeJti {
            jti: "k".into(),
            exp: 300,
        },
    );
    assert!(kv.get("rev:j").unwrap().is_none());
}

#[test]
fn code_is_single_use_and_replay_revokes_the_grant() {
    let mut kv = MemKv::default();
    ok(apply(
        &mut kv,
        100,
        Command::CreateApp {
            record: app_record(false),
        },
    ));
    ok(apply(
        &mut kv,
        100,
        Command::IssueCode {
            code_hash: "h1".into(),
            record: code(None),
        },
    ));
    let redeem = |kv: &mut MemKv, gid: &str| {
        apply(
            kv,
            110,
            Command::RedeemCode {
                code_hash: "h1".into(),
                redirect_uri: Some("https://a.example/cb".into()),
                verifier: None,
                new: new(gid, &format!("rt-{gid}")),
            },
        )
    };
    let Reply::Granted { granted } = ok(redeem(&mut kv, "g1")) else {
        panic!()
    };
    assert_eq!(granted.user_id, "u1");
    assert!(live(&mut kv, 110, "g1"));
    assert!(is_err(&redeem(&mut kv, "g2"), ErrorCode::InvalidGrant));
    assert!(!live(&mut kv, 110, "g1"), "replay must revoke the first grant");
    // The refresh token of the revoked grant is dead too.
    let r = apply(
        &mut kv,
        111,
        Command::Refresh {
            refresh_hash: "rt-g1".into(),
            new_refresh_hash: "x".into(),
            refresh_ttl: 100,
            scopes: None,
        },
    );
    assert!(is_err(&r, ErrorCode::InvalidGrant));
}

#[test]
fn code_checks_redirect_uri_pkce_and_expiry() {
    let v = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let mut kv = MemKv::default();
    ok(apply(
        &mut kv,
        100,
        Command::CreateApp {
            record: app_record(true),
        },
    ));
    for (i, (uri, verifier, at)) in [
        (Some("https://a.example/other"), Some(v), 110),
        (Some("https://a.example/cb"), None, 110),
        (Some("https://a.example/cb"), Some("x".repeat(43).as_str()), 110),
        (Some("https://a.example/cb"), Some(v), 200),
        (None, Some(v), 110),
    ]
    .into_iter()
    .enumerate()
    {
        let h = format!("h{i}");
        ok(apply(
            &mut kv,
            100,
            Command::IssueCode {
                code_hash: h.clone(),
                record: code(Some(v)),
            },
        ));
        let r = apply(
            &mut kv,
            at,
            Command::RedeemCode {
                code_hash: h,
                redirect_uri: uri.map(str::to_owned),
                verifier: verifier.map(str::to_owned),
                new: new(&format!("g{i}"), &format!("r{i}")),
            },
        );
        assert!(is_err(&r, ErrorCode::InvalidGrant), "case {i}");
    }
    ok(apply(
        &mut kv,
        100,
        Command::IssueCode {
            code_hash: "good".into(),
            record: code(Some(v)),
        },
    ));
    ok(apply(
        &mut kv,
        110,
        Command::RedeemCode {
            code_hash: "good".into(),
            redirect_uri: Some("https://a.example/cb".into()),
            verifier: Some(v.into()),
            new: new("g", "r"),
        },
    ));
}

#[test]
fn refresh_rotates_and_reuse_kills_the_grant() {
    let mut kv = MemKv::default();
    ok(apply(
        &mut kv,
        100,
        Command::CreateApp {
            record: app_record(false),
        },
    ));
    ok(apply(
        &mut kv,
        100,
        Command::CreateGrant {
            user_id: "u".into(),
            scopes: vec!["public".into()],
            aud: "a".into(),
            new: new("g", "r0"),
        },
    ));
    let refresh = |kv: &mut MemKv, old: &str, new: &str| {
        apply(
            kv,
            120,
            Command::Refresh {
                refresh_hash: old.into(),
                new_refresh_hash: new.into(),
                refresh_ttl: 1000,
                scopes: None,
            },
        )
    };
    let r = apply(
        &mut kv,
        120,
        Command::Refresh {
            refresh_hash: "r0".into(),
            new_refresh_hash: "rx".into(),
            refresh_ttl: 1000,
            scopes: Some(vec!["admin".into()]),
        },
    );
    assert!(is_err(&r, ErrorCode::InvalidScope));
    ok(refresh(&mut kv, "r0", "r1"));
    ok(refresh(&mut kv, "r1", "r2"));
    assert!(live(&mut kv, 120, "g"));
    assert!(is_err(&refresh(&mut kv, "r1", "r3"), ErrorCode::InvalidGrant));
    assert!(!live(&mut kv, 120, "g"));
    assert!(
        is_err(&refresh(&mut kv, "r2", "r4"), ErrorCode::InvalidGrant),
        "the current token dies with the grant"
    );
}

#[test]
fn secret_rotation_ends_grants() {
    let mut kv = MemKv::default();
    ok(apply(
        &mut kv,
        100,
        Command::CreateApp {
            record: app_record(false),
        },
    ));
    ok(apply(
        &mut kv,
        100,
        Command::CreateGrant {
            user_id: "u".into(),
            scopes: vec![],
            aud: "a".into(),
            new: new("g", "r0"),
        },
    ));
    ok(apply(
        &mut kv,
        100,
        Command::RotateSecret {
            secret_hash: "n".repeat(64),
        },
    ));
    let r = apply(
        &mut kv,
        120,
        Command::Refresh {
            refresh_hash: "r0".into(),
            new_refresh_hash: "r1".into(),
            refresh_ttl: 1000,
            scopes: None,
        },
    );
    assert!(is_err(&r, ErrorCode::InvalidGrant));
}

#[test]
fn revoking_a_refresh_token_ends_its_grant() {
    let mut kv = MemKv::default();
    ok(apply(
        &mut kv,
        100,
        Command::CreateApp {
            record: app_record(false),
        },
    ));
    ok(apply(
        &mut kv,
        100,
        Command::CreateGrant {
            user_id: "u".into(),
            scopes: vec![],
            aud: "a".into(),
            new: new("g", "r0"),
        },
    ));
    ok(apply(
        &mut kv,
        100,
        Command::RevokeRefresh {
            refresh_hash: "r0".into(),
        },
    ));
    assert!(!live(&mut kv, 100, "g"));
}

#[test]
fn failed_attempts_block_within_the_window_then_reset() {
    let mut kv = MemKv::default();
    for _ in 0..3 {
        ok(apply(&mut kv, 120, Command::RateReserve { limit: 3 }));
    }
    let r = apply(&mut kv, 125, Command::RateReserve { limit: 3 });
    let Reply::Err {
        code, retry_after, ..
    } = r
    else {
        panic!()
    };
    assert_eq!(code, ErrorCode::RateLimited);
    assert_eq!(retry_after, Some(55));
    ok(apply(&mut kv, 181, Command::RateReserve { limit: 3 }));
}

/// Issue 13 item 5: check-and-count is one command, so however many guesses race, at most
/// `limit` pass the check in a window; a success gives its attempt back.
#[test]
fn reserved_attempts_never_exceed_the_limit_and_success_releases() {
    let mut kv = MemKv::default();
    let passed = (0..30)
        .filter(|_| !matches!(apply(&mut kv, 120, Command::RateReserve { limit: 10 }), Reply::Err { .. }))
        .count();
    assert_eq!(passed, 10);
    ok(apply(&mut kv, 121, Command::RateRelease));
    ok(apply(&mut kv, 121, Command::RateReserve { limit: 10 }));
    assert!(is_err(&apply(&mut kv, 121, Command::RateReserve { limit: 10 }), ErrorCode::RateLimited));
    // GetAccount reserves too.
    let mut kv = MemKv::default();
    for _ in 0..2 {
        assert!(matches!(apply(&mut kv, 0, Command::GetAccount { limit: 2 }), Reply::Account { .. }));
    }
    assert!(is_err(&apply(&mut kv, 0, Command::GetAccount { limit: 2 }), ErrorCode::RateLimited));
}

fn auth(secret: Option<&str>, address: &str) -> Command {
    Command::Authenticate {
        secret_hash: secret.map(str::to_owned),
        rate_limit: 1000,
        address: address.into(),
        failure_limit: 3,
    }
}

/// Issue 13 item 6: a stranger's wrong secrets get the stranger's address a 429; the real
/// client, from another address, keeps working, and its successes are not failures.
#[test]
fn failed_authentication_is_counted_per_address_apart_from_successes() {
    let mut kv = MemKv::default();
    ok(apply(&mut kv, 0, Command::CreateApp { record: app_record(false) }));
    let good = "h".repeat(64);
    for _ in 0..3 {
        assert!(is_err(&apply(&mut kv, 10, auth(Some("wrong"), "203.0.113.9")), ErrorCode::InvalidClient));
    }
    assert!(is_err(&apply(&mut kv, 10, auth(Some(&good), "203.0.113.9")), ErrorCode::RateLimited));
    for _ in 0..20 {
        assert!(matches!(apply(&mut kv, 10, auth(Some(&good), "198.51.100.1")), Reply::Client { .. }));
    }
    assert!(matches!(apply(&mut kv, 70, auth(Some(&good), "203.0.113.9")), Reply::Client { .. }));
}

/// Issue 13 items 7 and 16: a secret is refused for an app that authenticates otherwise, and
/// every failure says the same words.
#[test]
fn switching_to_private_key_jwt_drops_the_secret() {
    let mut kv = MemKv::default();
    ok(apply(&mut kv, 0, Command::CreateApp { record: app_record(false) }));
    let good = "h".repeat(64);
    let mut app = app_record(false).app;
    app.token_endpoint_auth_method = "private_key_jwt".into();
    let Reply::Client { epoch, .. } = ok(apply(&mut kv, 5, Command::UpdateApp { app: app.clone() })) else {
        panic!()
    };
    assert_eq!(epoch, 1, "changing the auth method ends earlier tokens");
    let wrong = apply(&mut kv, 6, auth(Some("wrong"), "a"));
    let stale = apply(&mut kv, 6, auth(Some(&good), "a"));
    for r in [&wrong, &stale] {
        let Reply::Err { code, description, .. } = r else { panic!("{r:?}") };
        assert_eq!((*code, description.as_str()), (ErrorCode::InvalidClient, "client authentication failed"));
    }
    // Back to a secret method: no secret until one is regenerated, and regeneration works.
    app.token_endpoint_auth_method = "client_secret_basic".into();
    ok(apply(&mut kv, 7, Command::UpdateApp { app }));
    assert!(is_err(&apply(&mut kv, 8, auth(Some(&good), "a")), ErrorCode::InvalidClient));
    ok(apply(&mut kv, 8, Command::RotateSecret { secret_hash: "n".repeat(64) }));
    assert!(matches!(apply(&mut kv, 9, auth(Some(&"n".repeat(64)), "b")), Reply::Client { .. }));
}

#[test]
fn one_account_per_email() {
    let mut kv = MemKv::default();
    let rec = AccountRecord {
        user_id: "u".into(),
        email: "a@b.c".into(),
        name: "A".into(),
        password_hash: "x".into(),
        created_at: 0,
    };
    ok(apply(&mut kv, 0, Command::CreateAccount { record: rec.clone() }));
    assert!(matches!(
        apply(&mut kv, 0, Command::CreateAccount { record: rec }),
        Reply::Err { .. }
    ));
}
