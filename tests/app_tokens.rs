//! App tokens: an app trades a JWT signed with its own RSA key for an access token acting as
//! its bot user, at `POST /application/token` (errors: 401 invalid_token) and through the
//! RFC 7523 jwt-bearer grant (errors: 400 invalid_grant); and `private_key_jwt` client
//! authentication. Assertions are signed here with `jsonwebtoken` (ring), never the server's code.
//!
//! The assertion rules (one test per rejection: algorithms, signatures, issuer, time window,
//! audience, replay, malformed and oversized tokens, request shape, presented client
//! credentials) run natively over the in-memory platform in src/routes/tests/assertion.rs.
//! Here: what needs workerd (the happy paths, races, key rotation, bot userinfo, secret
//! regeneration, disabling and deleting).

mod common;
use common::*;
use jsonwebtoken::Algorithm;

fn s() -> &'static Server {
    Server::shared()
}

/// An app with `test_key(0)` registered and two scopes.
fn app(s: &Server) -> App {
    s.keyed_app(test_key(0), json!({"scopes": ["public", "users:read"]}))
}

/// Valid claims for both doors (`aud` = the issuer, which both accept).
fn claims(s: &Server, app: &App) -> Value {
    app_claims(&app.id, Some(s.issuer()))
}

/// Asserts that `/application/token` accepts the JWT; returns the access token.
#[track_caller]
fn accepted_app(s: &Server, jwt: &str) -> String {
    let r = s.app_token(jwt);
    let v = r.expect_json(200);
    r.expect_no_store();
    v["access_token"].as_str().unwrap().to_owned()
}

/// Asserts that the jwt-bearer grant accepts the assertion; returns the access token.
#[track_caller]
fn accepted_grant(s: &Server, jwt: &str) -> String {
    let r = s.jwt_bearer(jwt);
    let v = r.expect_json(200);
    r.expect_no_store();
    v["access_token"].as_str().unwrap().to_owned()
}

/// Both doors accept assertions built by `make` (called once per door: fresh jti each time).
#[track_caller]
fn assert_accepted(s: &Server, make: impl Fn() -> String) {
    accepted_app(s, &make());
    accepted_grant(s, &make());
}

#[track_caller]
fn rejected_app(s: &Server, jwt: &str) {
    let r = s.app_token(jwt);
    let v = r.expect_error(401, "invalid_token");
    assert!(v.get("access_token").is_none());
    let c = r
        .header("www-authenticate")
        .expect("401 without WWW-Authenticate");
    assert!(c.starts_with("Bearer"), "{c}");
    assert!(c.contains(r#"error="invalid_token""#), "{c}");
}

#[track_caller]
fn rejected_grant(s: &Server, jwt: &str) {
    let v = s.jwt_bearer(jwt).expect_error(400, "invalid_grant");
    assert!(v.get("access_token").is_none());
}

/// Both doors refuse assertions built by `make`.
#[track_caller]
fn assert_rejected(s: &Server, make: impl Fn() -> String) {
    rejected_app(s, &make());
    rejected_grant(s, &make());
}

/// Unix seconds of an RFC 3339 UTC timestamp (`2026-11-23T13:11:44Z`).
fn parse_rfc3339(t: &str) -> i64 {
    let b = t.as_bytes();
    assert!(
        t.len() == 20 && b[4] == b'-' && b[10] == b'T' && b[19] == b'Z',
        "not RFC 3339 UTC: {t}"
    );
    let n = |r: std::ops::Range<usize>| t[r].parse::<i64>().unwrap();
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    // Days from civil (Howard Hinnant).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + n(11..13) * 3600 + n(14..16) * 60 + n(17..19)
}

// ---------------------------------------------------------------------------------------------
// Happy paths
// ---------------------------------------------------------------------------------------------

#[test]
fn application_token_happy_path() {
    let s = s();
    let app = app(s);
    let key = test_key(0);
    assert_eq!(
        app.json["keys"][0]["kid"],
        key.kid.as_str(),
        "kid is the RFC 7638 thumbprint"
    );

    let jwt = key.sign(&app_claims(&app.id, None));
    let r = s.app_token(&jwt);
    let v = r.expect_json(200);
    r.expect_no_store();
    assert_eq!(v["token_type"], "Bearer");
    let expires_in = v["expires_in"].as_i64().unwrap();
    assert!(expires_in > 0 && expires_in <= 86_400);
    assert!(v.get("refresh_token").is_none());
    let token = v["access_token"].as_str().unwrap();
    let c = s.verify_access_token(token);
    let bot = format!("bot_{}", app.id);
    assert_eq!(c["sub"], bot.as_str());
    assert_eq!(c["client_id"], app.id.as_str());
    assert_eq!(c["scope"], "public users:read");
    assert_eq!(
        c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(),
        expires_in
    );
    assert_eq!(
        parse_rfc3339(v["expires_at"].as_str().unwrap()),
        c["exp"].as_i64().unwrap(),
        "expires_at must be the token's exp"
    );
    let i = s.introspect(token);
    assert_eq!(i["active"], true);
    assert_eq!(i["sub"], bot.as_str());

    // Also accepted: no kid (every registered key is tried), aud naming the issuer, the
    // endpoint or a list holding one of them, nbf in the past, the longest lifetime (600 s).
    let t = now();
    for c in [
        json!({"iss": app.id, "iat": t, "exp": t + 60, "aud": s.issuer()}),
        json!({"iss": app.id, "iat": t, "exp": t + 60, "aud": s.url("/application/token")}),
        json!({"iss": app.id, "iat": t, "exp": t + 60, "aud": ["https://other.example", s.issuer()]}),
        json!({"iss": app.id, "iat": t, "exp": t + 60, "nbf": t - 10, "jti": rand_hex(8)}),
        json!({"iss": app.id, "iat": t, "exp": t + 600, "jti": rand_hex(8)}),
        json!({"iss": app.id, "iat": t - 30, "exp": t + 60, "jti": rand_hex(8)}),
    ] {
        accepted_app(s, &key.sign(&c));
    }
    accepted_app(
        s,
        &key.sign_alg(Algorithm::RS256, &app_claims(&app.id, None), None),
    );
}

#[test]
fn jwt_bearer_grant_happy_path() {
    let s = s();
    let app = app(s);
    let key = test_key(0);
    let r = s.jwt_bearer(&key.sign(&claims(s, &app)));
    let v = r.expect_json(200);
    r.expect_no_store();
    assert_eq!(v["token_type"], "Bearer");
    assert!(v["expires_in"].as_i64().unwrap() > 0);
    assert_eq!(v["scope"], "public users:read");
    assert!(v.get("refresh_token").is_none());
    let c = s.verify_access_token(v["access_token"].as_str().unwrap());
    assert_eq!(c["sub"], format!("bot_{}", app.id));
    assert_eq!(c["client_id"], app.id.as_str());

    // aud may be the token endpoint URL; the scope may be narrowed; client_id may be named;
    // JSON works too.
    accepted_grant(s, &key.sign(&app_claims(&app.id, Some(&s.url("/oauth/token")))));
    let v = s
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", JWT_BEARER),
                ("assertion", &key.sign(&claims(s, &app))),
                ("scope", "public"),
                ("client_id", &app.id),
            ],
        )
        .expect_json(200);
    assert_eq!(v["scope"], "public");
    assert_eq!(
        s.verify_access_token(v["access_token"].as_str().unwrap())["scope"],
        "public"
    );
    s.post_json(
        "/oauth/token",
        &json!({"grant_type": JWT_BEARER, "assertion": key.sign(&claims(s, &app))}),
    )
    .expect(200);

    // Refusals specific to the grant: no aud (RFC 7523 requires it), a wider scope, another
    // client_id, no assertion.
    rejected_grant(s, &key.sign(&app_claims(&app.id, None)));
    s.post_form(
        "/oauth/token",
        &[
            ("grant_type", JWT_BEARER),
            ("assertion", &key.sign(&claims(s, &app))),
            ("scope", "users:write"),
        ],
    )
    .expect_error(400, "invalid_scope");
    let other = s.trusted_app(&["public"]);
    s.post_form(
        "/oauth/token",
        &[
            ("grant_type", JWT_BEARER),
            ("assertion", &key.sign(&claims(s, &app))),
            ("client_id", &other.id),
        ],
    )
    .expect_error(400, "invalid_grant");
    s.post_form("/oauth/token", &[("grant_type", JWT_BEARER)])
        .expect_error(400, "invalid_request");
}

#[test]
fn private_key_jwt_at_token_introspection_and_revocation() {
    let s = s();
    let key = test_key(1);
    let app = s.keyed_app(
        key,
        json!({"trusted": true, "token_endpoint_auth_method": "private_key_jwt", "scopes": ["public", "users:read"]}),
    );
    let token_url = s.url("/oauth/token");
    let assertion = |aud: &str| key.sign(&client_assertion_claims(&app.id, aud));
    let cc = |a: &str| {
        s.post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", a),
            ],
        )
    };

    // Token endpoint.
    let a = assertion(&token_url);
    let v = cc(&a).expect_json(200);
    let token = v["access_token"].as_str().unwrap().to_owned();
    let c = s.verify_access_token(&token);
    assert_eq!(c["sub"], app.id.as_str());
    assert_eq!(c["client_id"], app.id.as_str());
    // The same assertion again: a replay.
    cc(&a).expect_error(401, "invalid_client");
    // aud = the issuer also names this server.
    cc(&assertion(s.issuer())).expect(200);
    // Refusals: wrong aud, sub ≠ iss, expired, another key, a wrong assertion type, two methods.
    cc(&assertion("https://evil.example/token")).expect_error(401, "invalid_client");
    let mut c2 = client_assertion_claims(&app.id, &token_url);
    c2["sub"] = "someone-else".into();
    cc(&key.sign(&c2)).expect_error(401, "invalid_client");
    let mut c3 = client_assertion_claims(&app.id, &token_url);
    c3["exp"] = (now() - 5).into();
    c3["iat"] = (now() - 60).into();
    cc(&key.sign(&c3)).expect_error(401, "invalid_client");
    cc(&test_key(2).sign_alg(
        Algorithm::RS256,
        &client_assertion_claims(&app.id, &token_url),
        Some(&key.kid),
    ))
    .expect_error(401, "invalid_client");
    s.post_form(
        "/oauth/token",
        &[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", "urn:example:other"),
            ("client_assertion", &assertion(&token_url)),
        ],
    )
    .expect_error(400, "invalid_request");
    s.post_form(
        "/oauth/token",
        &[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", &assertion(&token_url)),
            ("client_id", &app.id),
            ("client_secret", "any-secret-two-methods-is-the-error"),
        ],
    )
    .expect_error(400, "invalid_request");
    // A client_id naming someone else.
    let other = s.trusted_app(&["public"]);
    let r = s.post_form(
        "/oauth/token",
        &[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", &assertion(&token_url)),
            ("client_id", &other.id),
        ],
    );
    assert!(r.status == 400 || r.status == 401, "{}", r.status);

    // Introspection, authenticated by assertion (aud = the introspection endpoint).
    let r = s.post_form(
        "/oauth/introspect",
        &[
            ("token", &token),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", &assertion(&s.url("/oauth/introspect"))),
        ],
    );
    let v = r.expect_json(200);
    assert_eq!(v["active"], true);
    assert_eq!(v["client_id"], app.id.as_str());

    // Revocation, authenticated by assertion.
    s.post_form(
        "/oauth/revoke",
        &[
            ("token", &token),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", &assertion(&s.url("/oauth/revoke"))),
        ],
    )
    .expect(200);
    assert!(!s.is_active(&token));
    // A bad assertion at revocation is refused.
    s.post_form(
        "/oauth/revoke",
        &[
            ("token", "x"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", "a.b.c"),
        ],
    )
    .expect_error(401, "invalid_client");
}

// ---------------------------------------------------------------------------------------------
// Concurrency, keys, userinfo, secret regeneration
// ---------------------------------------------------------------------------------------------

#[test]
fn concurrent_replays_of_one_jti_let_exactly_one_through() {
    let s = s();
    let app = app(s);
    let key = test_key(0);
    // 8 copies of one token and 8 other tokens with the same jti, all at once.
    let c = claims(s, &app);
    let same = key.sign(&c);
    let tokens: Vec<String> = (0..16)
        .map(|i| {
            if i % 2 == 0 {
                same.clone()
            } else {
                let mut ci = c.clone();
                ci["exp"] = (c["exp"].as_i64().unwrap() - i as i64).into();
                key.sign(&ci)
            }
        })
        .collect();
    let statuses = concurrently(16, |i| {
        let r = s.app_token(&tokens[i]);
        if r.status != 200 {
            r.expect_error(401, "invalid_token");
        }
        r.status
    });
    assert_eq!(
        statuses.iter().filter(|st| **st == 200).count(),
        1,
        "exactly one of 16 concurrent uses of one jti may succeed: {statuses:?}"
    );
    // The same race through the grant.
    let c = claims(s, &app);
    let same = key.sign(&c);
    let statuses = concurrently(16, |_| {
        let r = s.jwt_bearer(&same);
        if r.status != 200 {
            r.expect_error(400, "invalid_grant");
        }
        r.status
    });
    assert_eq!(
        statuses.iter().filter(|st| **st == 200).count(),
        1,
        "{statuses:?}"
    );
}

#[test]
fn server_generated_key_rotated_away() {
    let s = s();
    let rotating =
        json!({"name": "rotating", "owner": owner("rot"), "key": "generate", "scopes": ["public"]});
    let r = s.post_app(&rotating);
    let created = r.expect_json(201);
    r.expect_no_store();
    let app = App::from_json(created.clone());
    let pem = app
        .private_key
        .as_deref()
        .expect("generate returns the private key once");
    assert!(pem.contains("BEGIN PRIVATE KEY"), "PKCS#8 PEM expected");
    let k1 = TestKey::from_pem(pem);
    assert_eq!(created["keys"].as_array().unwrap().len(), 1);
    assert_eq!(created["keys"][0]["kid"], k1.kid.as_str());
    for private in ["d", "p", "q", "dp", "dq", "qi"] {
        assert!(created["keys"][0].get(private).is_none());
    }
    // The private key is never shown again.
    let got = s.get_app(&app.id);
    assert!(got.get("private_key").is_none());
    assert_eq!(got["keys"], created["keys"]);

    // The client uses the generated key.
    let t1 = accepted_app(s, &k1.sign(&claims(s, &app)));
    let g1 = accepted_grant(s, &k1.sign(&claims(s, &app)));
    assert!(s.is_active(&t1) && s.is_active(&g1));

    // Rotation: a second key (generated by the server), then the first removed.
    let r = s.admin(
        "POST",
        &format!("/admin/apps/{}/keys", app.id),
        Some(&json!({"key": "generate"})),
    );
    let added = r.expect_json(201);
    r.expect_no_store();
    let k2 = TestKey::from_pem(added["private_key"].as_str().unwrap());
    assert_eq!(added["kid"], k2.kid.as_str());
    assert_ne!(k1.kid, k2.kid);
    // Both work during the overlap.
    accepted_app(s, &k1.sign(&claims(s, &app)));
    let t2 = accepted_app(s, &k2.sign(&claims(s, &app)));

    s.admin("DELETE", &format!("/admin/apps/{}/keys/{}", app.id, k1.kid), None)
        .expect(204);
    assert!(!s.is_active(&t1), "tokens obtained with a removed key must die");
    assert!(!s.is_active(&g1), "tokens obtained with a removed key must die");
    assert!(s.is_active(&t2), "tokens of the remaining key live on");
    assert_rejected(s, || k1.sign(&claims(s, &app)));
    assert_rejected(s, || k1.sign_alg(Algorithm::RS256, &claims(s, &app), None));
    assert_accepted(s, || k2.sign(&claims(s, &app)));
    let keys = s.get_app(&app.id)["keys"].clone();
    assert_eq!(keys.as_array().unwrap().len(), 1);
    assert_eq!(keys[0]["kid"], k2.kid.as_str());

    // Removing it again, or an unknown kid: 404. Adding a key twice: refused.
    s.admin("DELETE", &format!("/admin/apps/{}/keys/{}", app.id, k1.kid), None)
        .expect_error(404, "not_found");
    s.admin("DELETE", &format!("/admin/apps/{}/keys/nope", app.id), None)
        .expect_error(404, "not_found");
    s.admin(
        "POST",
        &format!("/admin/apps/{}/keys", app.id),
        Some(&json!({"public_key": k2.public_jwk()})),
    )
    .expect_error(400, "invalid_request");
    // A key supplied as SPKI PEM gets its thumbprint as kid and works.
    let k3 = test_key(3);
    let v = s
        .admin(
            "POST",
            &format!("/admin/apps/{}/keys", app.id),
            Some(&json!({"public_key": k3.public_pem()})),
        )
        .expect_json(201);
    assert_eq!(v["kid"], k3.kid.as_str());
    assert!(v.get("private_key").is_none());
    accepted_app(s, &k3.sign(&claims(s, &app)));
    // Key routes of unknown apps.
    s.admin(
        "POST",
        &format!("/admin/apps/{}/keys", "q".repeat(32)),
        Some(&json!({"key": "generate"})),
    )
    .expect_error(404, "not_found");
}

#[test]
fn userinfo_for_a_bot_token() {
    let s = s();
    let app = s.keyed_app(test_key(0), json!({"name": "Userinfo Bot App"}));
    let token = accepted_app(s, &test_key(0).sign(&claims(s, &app)));
    let auth = bearer(&token);
    let bot = format!("bot_{}", app.id);
    for path in [
        "/oauth/userinfo",
        "/oauth/v2/user",
        &format!("/oauth/userinfo?client_id={}", app.id),
    ] {
        let r = s.get_with(path, &[("authorization", &auth)]);
        let v = r.expect_json(200);
        r.expect_no_store();
        assert_eq!(v["sub"], bot.as_str(), "{path}");
        assert_eq!(v["bot"], true, "{path}");
        assert_eq!(v["client_id"], app.id.as_str(), "{path}");
        assert!(v["name"].as_str().unwrap().contains("Userinfo Bot App"), "{v}");
    }
    s.with_bearer("POST", "/oauth/userinfo", &token, None)
    .expect(200);
    // The token in the URL is refused, even alongside the header.
    s.get(&format!("/oauth/userinfo?access_token={token}"))
        .expect_error(400, "invalid_request");
    s.get_with(
        &format!("/oauth/userinfo?access_token={token}"),
        &[("authorization", &auth)],
    )
    .expect_error(400, "invalid_request");
    // client_id naming another app.
    let other = s.trusted_app(&["public"]);
    let r = s.get_with(
        &format!("/oauth/userinfo?client_id={}", other.id),
        &[("authorization", &auth)],
    );
    r.expect(403);
    // No token, a bad token, a client_credentials token (acts for no user).
    let r = s.get("/oauth/userinfo");
    r.expect(401);
    assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
    s.get_with("/oauth/userinfo", &[("authorization", "Bearer garbage")])
        .expect_error(401, "invalid_token");
    let cc = s.cc_token(&other);
    s.get_with("/oauth/userinfo", &[("authorization", &bearer(&cc))])
        .expect_error(401, "invalid_token");
    // A revoked bot token.
    s.post_form_basic("/oauth/revoke", &[("token", &token)], &app.id, app.secret())
        .expect(200);
    s.get_with("/oauth/userinfo", &[("authorization", &auth)])
        .expect_error(401, "invalid_token");
}

#[test]
fn regenerated_secret_ends_bot_tokens() {
    let s = s();
    let app = app(s);
    let key = test_key(0);
    let t = accepted_app(s, &key.sign(&claims(s, &app)));
    let g = accepted_grant(s, &key.sign(&claims(s, &app)));
    assert!(s.is_active(&t) && s.is_active(&g));
    s.admin("POST", &format!("/admin/apps/{}/secret", app.id), None)
        .expect(200);
    assert!(!s.is_active(&t));
    assert!(!s.is_active(&g));
    s.get_with("/oauth/userinfo", &[("authorization", &bearer(&t))])
        .expect_error(401, "invalid_token");
    // The key still works: new tokens are live.
    let t2 = accepted_app(s, &key.sign(&claims(s, &app)));
    assert!(s.is_active(&t2));
}

#[test]
fn disabling_and_deleting_end_bot_tokens() {
    let s = s();
    let key = test_key(0);
    let a = app(s);
    let b = app(s);
    let ta = accepted_app(s, &key.sign(&claims(s, &a)));
    let tb = accepted_app(s, &key.sign(&claims(s, &b)));
    s.patch_app(&a.id, json!({"status": "disabled"})).expect(200);
    s.admin("DELETE", &format!("/admin/apps/{}", b.id), None)
        .expect(204);
    assert!(!s.is_active(&ta));
    assert!(!s.is_active(&tb));
    s.patch_app(&a.id, json!({"status": "active"})).expect(200);
    assert!(!s.is_active(&ta), "re-enabling must not revive old tokens");
}
