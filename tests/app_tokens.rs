//! App tokens: an app trades a JWT signed with its own RSA key for an access token acting as
//! its bot user, at `POST /application/token` (errors: 401 invalid_token) and through the
//! RFC 7523 jwt-bearer grant (errors: 400 invalid_grant); and `private_key_jwt` client
//! authentication. Assertions are signed here with `jsonwebtoken` (ring), never the server's code.
//!
//! Each rejection test first shows that an otherwise identical assertion is accepted, so the
//! rejection is known to come from the one thing that was changed.

mod common;
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};

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

#[test]
fn application_token_request_shape() {
    let s = s();
    let app = app(s);
    let jwt = test_key(0).sign(&app_claims(&app.id, None));
    // No Authorization header, or another scheme.
    let r = s.request("POST", "/application/token", Req::default());
    r.expect_error(401, "invalid_token");
    assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
    let basic_auth = basic(&app.id, app.secret());
    s.request(
        "POST",
        "/application/token",
        Req {
            headers: &[("authorization", &basic_auth)],
            body: None,
            ..Default::default()
        },
    )
    .expect_error(401, "invalid_token");
    // A body is refused (the JWT goes in the header), and the JWT was not consumed by it.
    let auth = bearer(&jwt);
    s.post_raw(
        "/application/token",
        &[
            ("authorization", &auth),
            ("content-type", "application/x-www-form-urlencoded"),
        ],
        b"assertion=x",
    )
    .expect_error(400, "invalid_request");
    accepted_app(s, &jwt);
    let r = s.get_with("/application/token", &[("authorization", &auth)]);
    r.expect_error(405, "method_not_allowed");
}

// ---------------------------------------------------------------------------------------------
// One test per rejection
// ---------------------------------------------------------------------------------------------

#[test]
fn rejects_alg_none() {
    let s = s();
    let app = app(s);
    assert_accepted(s, || test_key(0).sign(&claims(s, &app)));
    assert_rejected(s, || unsigned_jwt(&claims(s, &app)));
    // `none` with a signature attached, and `None`/`NONE` spellings.
    assert_rejected(s, || {
        let signed = test_key(0).sign(&claims(s, &app));
        let parts: Vec<&str> = signed.split('.').collect();
        format!("{}.{}.{}", b64url(br#"{"alg":"none"}"#), parts[1], parts[2])
    });
    for alg in ["None", "NONE", "", "rs256"] {
        assert_rejected(s, || {
            let signed = test_key(0).sign(&claims(s, &app));
            let parts: Vec<&str> = signed.split('.').collect();
            let h = json!({"alg": alg, "kid": test_key(0).kid});
            format!("{}.{}.{}", b64url(h.to_string().as_bytes()), parts[1], parts[2])
        });
    }
}

#[test]
fn rejects_hs256() {
    let s = s();
    let app = app(s);
    let key = test_key(0);
    assert_accepted(s, || key.sign(&claims(s, &app)));
    // The classic confusion: HMAC keyed with the public key (as PEM, and as the JWK's n).
    let hmac = |secret: &[u8]| {
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&h, &claims(s, &app), &EncodingKey::from_secret(secret)).unwrap()
    };
    let pem = key.public_pem();
    assert_rejected(s, || hmac(pem.as_bytes()));
    assert_rejected(s, || hmac(key.n.as_bytes()));
    // … and keyed with the app's client secret.
    assert_rejected(s, || hmac(app.secret().as_bytes()));
}

#[test]
fn rejects_critical_header_parameters() {
    // RFC 7515 §4.1.11: a `crit` header the verifier does not understand must be refused.
    let s = s();
    let app = app(s);
    let key = test_key(0);
    assert_accepted(s, || key.sign(&claims(s, &app)));
    assert_rejected(s, || {
        // Signed correctly, with a header naming an unknown critical extension.
        use rsa::pkcs1v15::SigningKey;
        use rsa::pkcs8::DecodePrivateKey;
        use rsa::signature::{SignatureEncoding, Signer};
        let h = json!({"alg": "RS256", "kid": key.kid, "crit": ["exp2"], "exp2": 1});
        let input = format!(
            "{}.{}",
            b64url(h.to_string().as_bytes()),
            b64url(claims(s, &app).to_string().as_bytes())
        );
        let sk = SigningKey::<sha2::Sha256>::new(rsa::RsaPrivateKey::from_pkcs8_pem(&key.pem).unwrap());
        format!("{input}.{}", b64url(&sk.sign(input.as_bytes()).to_bytes()))
    });
}

#[test]
fn jwt_bearer_does_not_ignore_presented_client_credentials() {
    // RFC 7523 §2.1 makes client authentication optional for the jwt-bearer grant, but
    // credentials that are presented must still be checked (RFC 6749 §3.2.1, §5.2): a wrong
    // secret is invalid_client, and a client may not obtain a token for another app.
    let s = s();
    let app = app(s);
    let key = test_key(0);
    let other = s.trusted_app(&["public"]);
    let assertion = || key.sign(&claims(s, &app));
    // Its own, correct credentials: fine.
    s.post_form_with(
        "/oauth/token",
        &[("grant_type", JWT_BEARER), ("assertion", &assertion())],
        &[("authorization", &basic(&app.id, app.secret()))],
    )
    .expect(200);
    let mut failures = Vec::new();
    let mut check = |what: &str, r: Resp, ok: &[u16]| {
        if !ok.contains(&r.status) {
            failures.push(format!(
                "{what}: expected {ok:?}, got {} {:.120}",
                r.status,
                r.text()
            ));
        }
    };
    let wrong = "wrong-secret-wrong-secret-wrong-s";
    check(
        "Basic with the app's id and a wrong secret",
        s.post_form_with(
            "/oauth/token",
            &[("grant_type", JWT_BEARER), ("assertion", &assertion())],
            &[("authorization", &basic(&app.id, wrong))],
        ),
        &[401],
    );
    check(
        "client_secret_post with a wrong secret",
        s.post_form(
            "/oauth/token",
            &[
                ("grant_type", JWT_BEARER),
                ("assertion", &assertion()),
                ("client_id", &app.id),
                ("client_secret", wrong),
            ],
        ),
        &[401],
    );
    check(
        "Basic with another client's valid credentials",
        s.post_form_with(
            "/oauth/token",
            &[("grant_type", JWT_BEARER), ("assertion", &assertion())],
            &[("authorization", &basic(&other.id, other.secret()))],
        ),
        &[400, 401],
    );
    check(
        "Basic for an unknown client",
        s.post_form_with(
            "/oauth/token",
            &[("grant_type", JWT_BEARER), ("assertion", &assertion())],
            &[("authorization", &basic(&"u".repeat(32), wrong))],
        ),
        &[401],
    );
    assert!(
        failures.is_empty(),
        "presented client credentials were ignored:\n{}",
        failures.join("\n")
    );
}

#[test]
fn rejects_rs384_and_other_algorithms_with_the_right_key() {
    let s = s();
    let app = app(s);
    let key = test_key(0);
    assert_accepted(s, || key.sign(&claims(s, &app)));
    for alg in [Algorithm::RS384, Algorithm::RS512, Algorithm::PS256] {
        assert_rejected(s, || key.sign_alg(alg, &claims(s, &app), Some(&key.kid)));
    }
}

#[test]
fn rejects_a_bad_signature() {
    let s = s();
    let app = app(s);
    let key = test_key(0);
    assert_accepted(s, || key.sign(&claims(s, &app)));
    // Signed by another key, under the registered kid and without a kid.
    assert_rejected(s, || {
        test_key(2).sign_alg(Algorithm::RS256, &claims(s, &app), Some(&key.kid))
    });
    assert_rejected(s, || {
        test_key(2).sign_alg(Algorithm::RS256, &claims(s, &app), None)
    });
    // A valid signature over other claims.
    assert_rejected(s, || {
        let t = key.sign(&claims(s, &app));
        let parts: Vec<&str> = t.split('.').collect();
        let mut c = claims(s, &app);
        c["exp"] = (now() + 400).into();
        format!("{}.{}.{}", parts[0], b64url(c.to_string().as_bytes()), parts[2])
    });
    // One character of the signature changed.
    assert_rejected(s, || {
        let mut t = key.sign(&claims(s, &app)).into_bytes();
        let i = t.len() - 20;
        t[i] = if t[i] == b'A' { b'B' } else { b'A' };
        String::from_utf8(t).unwrap()
    });
    // An empty signature.
    assert_rejected(s, || {
        let t = key.sign(&claims(s, &app));
        format!("{}.", &t[..t.rfind('.').unwrap()])
    });
    // An app that registered no key at all.
    let keyless = s.create_app(json!({"name": "keyless", "owner": owner("keyless")}));
    assert_rejected(s, || key.sign(&app_claims(&keyless.id, Some(s.issuer()))));
}

#[test]
fn rejects_an_unknown_issuer() {
    let s = s();
    let app = app(s);
    let key = test_key(0);
    assert_accepted(s, || key.sign(&claims(s, &app)));
    let with_iss = |iss: Value| {
        let mut c = claims(s, &app);
        c["iss"] = iss;
        key.sign(&c)
    };
    assert_rejected(s, || with_iss(json!("A".repeat(32))));
    assert_rejected(s, || with_iss(json!(app.id.to_lowercase() + "x")));
    assert_rejected(s, || with_iss(json!("../admin")));
    assert_rejected(s, || with_iss(json!(5)));
    assert_rejected(s, || {
        let mut c = claims(s, &app);
        c.as_object_mut().unwrap().remove("iss");
        key.sign(&c)
    });
}

#[test]
fn rejects_a_disabled_app() {
    let s = s();
    let app = app(s);
    let key = test_key(0);
    assert_accepted(s, || key.sign(&claims(s, &app)));
    s.patch_app(&app.id, json!({"status": "disabled"})).expect(200);
    assert_rejected(s, || key.sign(&claims(s, &app)));
    s.patch_app(&app.id, json!({"status": "active"})).expect(200);
    assert_accepted(s, || key.sign(&claims(s, &app)));
}

#[test]
fn rejects_a_deleted_app() {
    let s = s();
    let app = app(s);
    let key = test_key(0);
    assert_accepted(s, || key.sign(&claims(s, &app)));
    s.admin("DELETE", &format!("/admin/apps/{}", app.id), None)
        .expect(204);
    assert_rejected(s, || key.sign(&claims(s, &app)));
}

#[test]
fn rejects_exp_in_the_past() {
    let s = s();
    let app = app(s);
    let key = test_key(0);
    let with = |iat: i64, exp: i64| {
        let mut c = claims(s, &app);
        c["iat"] = iat.into();
        c["exp"] = exp.into();
        key.sign(&c)
    };
    assert_accepted(s, || with(now() - 100, now() + 30));
    assert_rejected(s, || with(now() - 100, now() - 10));
    assert_rejected(s, || with(now() - 100, now() - 1));
    // Missing or non-numeric exp.
    assert_rejected(s, || {
        let mut c = claims(s, &app);
        c.as_object_mut().unwrap().remove("exp");
        key.sign(&c)
    });
    assert_rejected(s, || {
        let mut c = claims(s, &app);
        c["exp"] = json!(format!("{}", now() + 60));
        key.sign(&c)
    });
}

#[test]
fn rejects_iat_in_the_future() {
    let s = s();
    let app = app(s);
    let key = test_key(0);
    let with_iat = |iat: i64| {
        let mut c = claims(s, &app);
        c["iat"] = iat.into();
        c["exp"] = (iat + 300).into();
        key.sign(&c)
    };
    // Within the 60 s skew is fine.
    assert_accepted(s, || with_iat(now() + 30));
    assert_rejected(s, || with_iat(now() + 120));
    assert_rejected(s, || with_iat(now() + 3600));
}

#[test]
fn rejects_a_lifetime_over_600_seconds() {
    let s = s();
    let app = app(s);
    let key = test_key(0);
    let with = |iat: i64, exp: i64| {
        let mut c = claims(s, &app);
        c["iat"] = iat.into();
        c["exp"] = exp.into();
        key.sign(&c)
    };
    assert_accepted(s, || with(now(), now() + 600));
    assert_rejected(s, || with(now(), now() + 601));
    assert_rejected(s, || with(now(), now() + 86_400 * 365));
    // A backdated iat cannot stretch the window either.
    assert_rejected(s, || with(now() - 500, now() + 200));
}

#[test]
fn rejects_nbf_in_the_future() {
    let s = s();
    let app = app(s);
    let key = test_key(0);
    let with_nbf = |nbf: i64| {
        let mut c = claims(s, &app);
        c["nbf"] = nbf.into();
        key.sign(&c)
    };
    assert_accepted(s, || with_nbf(now() - 5));
    assert_rejected(s, || with_nbf(now() + 120));
    assert_rejected(s, || {
        let mut c = claims(s, &app);
        c["nbf"] = "soon".into();
        key.sign(&c)
    });
}

#[test]
fn rejects_a_wrong_audience() {
    let s = s();
    let app = app(s);
    let key = test_key(0);
    let with_aud = |aud: Value| {
        let mut c = claims(s, &app);
        c["aud"] = aud;
        key.sign(&c)
    };
    assert_accepted(s, || with_aud(json!(s.issuer())));
    assert_rejected(s, || with_aud(json!("https://evil.example")));
    assert_rejected(s, || with_aud(json!(format!("{}/", s.issuer()))));
    assert_rejected(s, || {
        with_aud(json!(["https://evil.example", "https://other.example"]))
    });
    assert_rejected(s, || with_aud(json!([])));
    assert_rejected(s, || with_aud(json!(5)));
    assert_rejected(s, || {
        with_aud(json!(s.issuer().replace("127.0.0.1", "localhost")))
    });
}

#[test]
fn rejects_a_replayed_jti() {
    let s = s();
    let app = app(s);
    let key = test_key(0);
    // The same token twice.
    let jwt = key.sign(&claims(s, &app));
    accepted_app(s, &jwt);
    rejected_app(s, &jwt);
    let jwt = key.sign(&claims(s, &app));
    accepted_grant(s, &jwt);
    rejected_grant(s, &jwt);
    // Another token with the same jti, at either door.
    let c = claims(s, &app);
    accepted_app(s, &key.sign(&c));
    let mut again = c.clone();
    again["exp"] = (c["exp"].as_i64().unwrap() + 1).into();
    rejected_app(s, &key.sign(&again));
    rejected_grant(s, &key.sign(&again));
    // Without a jti, the token itself is used once.
    let t = now();
    let no_jti = key.sign(&json!({"iss": app.id, "iat": t, "exp": t + 60, "aud": s.issuer()}));
    accepted_app(s, &no_jti);
    rejected_app(s, &no_jti);
    rejected_grant(s, &no_jti);
    // jti values are per app: another app may use the same one.
    let other = s.keyed_app(key, json!({}));
    let mut c2 = app_claims(&other.id, Some(s.issuer()));
    c2["jti"] = c["jti"].clone();
    accepted_app(s, &key.sign(&c2));
}

#[test]
fn rejects_malformed_tokens() {
    let s = s();
    let app = app(s);
    let key = test_key(0);
    assert_accepted(s, || key.sign(&claims(s, &app)));
    let good = key.sign(&claims(s, &app));
    let parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    let malformed: Vec<String> = vec![
        format!("{}.{}", parts[0], parts[1]),
        format!("{}.{}.{}.{}", parts[0], parts[1], parts[2], parts[2]),
        "!!!.@@@.###".into(),
        format!("{}=.{}.{}", parts[0], parts[1], parts[2]),
        format!(
            "{}.{}.{}",
            parts[0].replace('_', "/").replace('-', "+") + "+/",
            parts[1],
            parts[2]
        ),
        format!("{}.{}.{}", b64url(b"not json"), parts[1], parts[2]),
        format!("{}.{}.{}", parts[0], b64url(b"[1,2]"), parts[2]),
        format!("{}.{}.{}", parts[0], b64url(b"\"claims\""), parts[2]),
        format!("{}.{}.{}", parts[0], b64url(b"\xff\xfe"), parts[2]),
        ".".into(),
        "..".into(),
        "a".into(),
        format!("{good}."),
    ];
    for m in &malformed {
        rejected_app(s, m);
        rejected_grant(s, m);
    }
    // The original is still unused and valid: none of the above consumed its jti.
    accepted_app(s, &good);
}

#[test]
fn rejects_oversized_tokens() {
    let s = s();
    let app = app(s);
    let key = test_key(0);
    let with_pad = |n: usize| {
        let mut c = claims(s, &app);
        c["pad"] = "x".repeat(n).into();
        key.sign(&c)
    };
    // ~5 KiB is fine; over 8 KiB is refused before anything else.
    assert_accepted(s, || with_pad(3_500));
    let big = with_pad(9_000);
    assert!(big.len() > 8 * 1024);
    rejected_app(s, &big);
    rejected_grant(s, &big);
    let huge = with_pad(40_000);
    rejected_app(s, &huge);
    rejected_grant(s, &huge);
}

#[test]
fn app_tokens_require_iat() {
    // The /application/token contract requires iat (RFC 7523's grant does not).
    let s = s();
    let app = app(s);
    let key = test_key(0);
    let t = now();
    accepted_app(
        s,
        &key.sign(&json!({"iss": app.id, "iat": t, "exp": t + 60, "jti": rand_hex(8)})),
    );
    rejected_app(
        s,
        &key.sign(&json!({"iss": app.id, "exp": t + 60, "jti": rand_hex(8)})),
    );
    accepted_grant(
        s,
        &key.sign(&json!({"iss": app.id, "sub": app.id, "exp": t + 60, "jti": rand_hex(8), "aud": s.issuer()})),
    );
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
    let r = s.admin(
        "POST",
        "/admin/apps",
        Some(&json!({"name": "rotating", "owner": owner("rot"), "key": "generate", "scopes": ["public"]})),
    );
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
    s.request(
        "POST",
        "/oauth/userinfo",
        Req {
            headers: &[("authorization", &auth)],
            body: None,
            ..Default::default()
        },
    )
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
    s.post_form_with(
        "/oauth/revoke",
        &[("token", &token)],
        &[("authorization", &basic(&app.id, app.secret()))],
    )
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
