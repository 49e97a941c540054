//! App assertion rules at both doors: `POST /application/token` (errors: 401 invalid_token with
//! a Bearer challenge) and the RFC 7523 jwt-bearer grant (errors: 400 invalid_grant). Moved from
//! tests/app_tokens.rs, which keeps the happy paths, the races and the key rotation.
//!
//! Each rejection test first shows that an otherwise identical assertion is accepted, so the
//! rejection is known to come from the one thing that was changed.

use super::support::*;
use crate::http::Response;
use crate::platform::memory::MemPlatform;
use crate::util::b64url;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

/// An app with `test_key(0)` registered and two scopes.
fn app(p: &MemPlatform) -> Value {
    keyed_app(p, test_key(0), json!({"scopes": ["public", "users:read"]}))
}

fn keyed_app(p: &MemPlatform, key: &TestKey, extra: Value) -> Value {
    let mut body = json!({
        "name": format!("keyed {}", rand_hex(3)),
        "owner": format!("k-{}", rand_hex(6)),
        "public_key": key.public_jwk(),
    });
    if let Value::Object(m) = extra {
        for (k, v) in m {
            body[k] = v;
        }
    }
    create_app(p, body)
}

fn id(app: &Value) -> &str {
    app["client_id"].as_str().unwrap()
}

fn secret(app: &Value) -> &str {
    app["client_secret"].as_str().unwrap()
}

/// Valid claims for both doors (`aud` = the issuer, which both accept).
fn claims(p: &MemPlatform, app: &Value) -> Value {
    app_claims(p, id(app), Some(ORIGIN))
}

/// Asserts that `/application/token` accepts the JWT; returns the access token.
#[track_caller]
fn accepted_app(p: &MemPlatform, jwt: &str) -> String {
    let r = app_token(p, jwt);
    let v = expect_json(&r, 200);
    expect_no_store(&r);
    v["access_token"].as_str().unwrap().to_owned()
}

/// Asserts that the jwt-bearer grant accepts the assertion; returns the access token.
#[track_caller]
fn accepted_grant(p: &MemPlatform, jwt: &str) -> String {
    let r = jwt_bearer(p, jwt);
    let v = expect_json(&r, 200);
    expect_no_store(&r);
    v["access_token"].as_str().unwrap().to_owned()
}

/// Both doors accept assertions built by `make` (called once per door: fresh jti each time).
#[track_caller]
fn assert_accepted(p: &MemPlatform, make: impl Fn() -> String) {
    accepted_app(p, &make());
    accepted_grant(p, &make());
}

#[track_caller]
fn expect_invalid_token(r: &Response) {
    let v = expect_error(r, 401, "invalid_token");
    assert!(v.get("access_token").is_none());
    let c = r
        .get_header("www-authenticate")
        .expect("401 without WWW-Authenticate");
    assert!(c.starts_with("Bearer"), "{c}");
    assert!(c.contains(r#"error="invalid_token""#), "{c}");
}

#[track_caller]
fn rejected_app(p: &MemPlatform, jwt: &str) {
    expect_invalid_token(&app_token(p, jwt));
}

#[track_caller]
fn rejected_grant(p: &MemPlatform, jwt: &str) {
    let v = expect_error(&jwt_bearer(p, jwt), 400, "invalid_grant");
    assert!(v.get("access_token").is_none());
}

/// Both doors refuse assertions built by `make`.
#[track_caller]
fn assert_rejected(p: &MemPlatform, make: impl Fn() -> String) {
    rejected_app(p, &make());
    rejected_grant(p, &make());
}

// ---------------------------------------------------------------------------------------------
// The request
// ---------------------------------------------------------------------------------------------

#[test]
fn application_token_request_shape() {
    let p = platform();
    let app = app(&p);
    let jwt = test_key(0).sign(&app_claims(&p, id(&app), None));
    // No Authorization header, or another scheme.
    let r = send(&p, req("POST", "/application/token", &[], ""));
    expect_invalid_token(&r);
    let basic_auth = basic(id(&app), secret(&app));
    let r = send(&p, req("POST", "/application/token", &[("authorization", &basic_auth)], ""));
    expect_error(&r, 401, "invalid_token");
    // A body is refused (the JWT goes in the header), and the JWT was not consumed by it.
    let auth = bearer(&jwt);
    let r = send(
        &p,
        req(
            "POST",
            "/application/token",
            &[
                ("authorization", &auth),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            "assertion=x",
        ),
    );
    expect_error(&r, 400, "invalid_request");
    accepted_app(&p, &jwt);
    let r = send(&p, req("GET", "/application/token", &[("authorization", &auth)], ""));
    expect_error(&r, 405, "method_not_allowed");
}

#[test]
fn jwt_bearer_does_not_ignore_presented_client_credentials() {
    // RFC 7523 §2.1 makes client authentication optional for the jwt-bearer grant, but
    // credentials that are presented must still be checked (RFC 6749 §3.2.1, §5.2): a wrong
    // secret is invalid_client, and a client may not obtain a token for another app.
    let p = platform();
    let app = app(&p);
    let key = test_key(0);
    let other = create_app(
        &p,
        json!({"name": "trusted", "owner": "t", "trusted": true, "scopes": ["public"]}),
    );
    let assertion = || key.sign(&claims(&p, &app));
    let grant = |a: &str, extra: &[(&str, &str)], headers: &[(&str, &str)]| {
        let mut pairs = vec![("grant_type", JWT_BEARER), ("assertion", a)];
        pairs.extend_from_slice(extra);
        token_with(&p, &pairs, headers)
    };
    // Its own, correct credentials: fine.
    let r = grant(&assertion(), &[], &[("authorization", &basic(id(&app), secret(&app)))]);
    assert_eq!(r.status, 200, "{}", text(&r));
    let wrong = "wrong-secret-wrong-secret-wrong-s";
    let cases: Vec<(&str, Response, &[u16])> = vec![
        (
            "Basic with the app's id and a wrong secret",
            grant(&assertion(), &[], &[("authorization", &basic(id(&app), wrong))]),
            &[401],
        ),
        (
            "client_secret_post with a wrong secret",
            grant(&assertion(), &[("client_id", id(&app)), ("client_secret", wrong)], &[]),
            &[401],
        ),
        (
            "Basic with another client's valid credentials",
            grant(&assertion(), &[], &[("authorization", &basic(id(&other), secret(&other)))]),
            &[400, 401],
        ),
        (
            "Basic for an unknown client",
            grant(&assertion(), &[], &[("authorization", &basic(&"u".repeat(32), wrong))]),
            &[401],
        ),
    ];
    let failures: Vec<String> = cases
        .into_iter()
        .filter(|(_, r, ok)| !ok.contains(&r.status))
        .map(|(what, r, ok)| format!("{what}: expected {ok:?}, got {} {:.120}", r.status, text(&r)))
        .collect();
    assert!(
        failures.is_empty(),
        "presented client credentials were ignored:\n{}",
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// One test per rejection
// ---------------------------------------------------------------------------------------------

#[test]
fn rejects_alg_none() {
    let p = platform();
    let app = app(&p);
    assert_accepted(&p, || test_key(0).sign(&claims(&p, &app)));
    assert_rejected(&p, || unsigned_jwt(&claims(&p, &app)));
    // `none` with a signature attached, and `None`/`NONE` spellings.
    assert_rejected(&p, || {
        let signed = test_key(0).sign(&claims(&p, &app));
        let parts: Vec<&str> = signed.split('.').collect();
        format!("{}.{}.{}", b64url(br#"{"alg":"none"}"#), parts[1], parts[2])
    });
    for alg in ["None", "NONE", "", "rs256"] {
        assert_rejected(&p, || {
            let signed = test_key(0).sign(&claims(&p, &app));
            let parts: Vec<&str> = signed.split('.').collect();
            let h = json!({"alg": alg, "kid": test_key(0).kid});
            format!("{}.{}.{}", b64url(h.to_string().as_bytes()), parts[1], parts[2])
        });
    }
}

#[test]
fn rejects_hs256() {
    let p = platform();
    let app = app(&p);
    let key = test_key(0);
    assert_accepted(&p, || key.sign(&claims(&p, &app)));
    // The classic confusion: HMAC keyed with the public key (as PEM, and as the JWK's n).
    let hmac = |secret: &[u8]| {
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&h, &claims(&p, &app), &EncodingKey::from_secret(secret)).unwrap()
    };
    let pem = key.public_pem();
    assert_rejected(&p, || hmac(pem.as_bytes()));
    assert_rejected(&p, || hmac(key.n.as_bytes()));
    // … and keyed with the app's client secret.
    assert_rejected(&p, || hmac(secret(&app).as_bytes()));
}

#[test]
fn rejects_critical_header_parameters() {
    // RFC 7515 §4.1.11: a `crit` header the verifier does not understand must be refused.
    let p = platform();
    let app = app(&p);
    let key = test_key(0);
    assert_accepted(&p, || key.sign(&claims(&p, &app)));
    assert_rejected(&p, || {
        // Signed correctly, with a header naming an unknown critical extension.
        use rsa::pkcs1v15::SigningKey;
        use rsa::pkcs8::DecodePrivateKey;
        use rsa::signature::{SignatureEncoding, Signer};
        let h = json!({"alg": "RS256", "kid": key.kid, "crit": ["exp2"], "exp2": 1});
        let input = format!(
            "{}.{}",
            b64url(h.to_string().as_bytes()),
            b64url(claims(&p, &app).to_string().as_bytes())
        );
        let sk = SigningKey::<sha2::Sha256>::new(rsa::RsaPrivateKey::from_pkcs8_pem(&key.pem).unwrap());
        format!("{input}.{}", b64url(&sk.sign(input.as_bytes()).to_bytes()))
    });
}

#[test]
fn rejects_rs384_and_other_algorithms_with_the_right_key() {
    let p = platform();
    let app = app(&p);
    let key = test_key(0);
    assert_accepted(&p, || key.sign(&claims(&p, &app)));
    for alg in [Algorithm::RS384, Algorithm::RS512, Algorithm::PS256] {
        assert_rejected(&p, || key.sign_alg(alg, &claims(&p, &app), Some(&key.kid)));
    }
}

#[test]
fn rejects_a_bad_signature() {
    let p = platform();
    let app = app(&p);
    let key = test_key(0);
    assert_accepted(&p, || key.sign(&claims(&p, &app)));
    // Signed by another key, under the registered kid and without a kid.
    assert_rejected(&p, || {
        test_key(2).sign_alg(Algorithm::RS256, &claims(&p, &app), Some(&key.kid))
    });
    assert_rejected(&p, || test_key(2).sign_alg(Algorithm::RS256, &claims(&p, &app), None));
    // A valid signature over other claims.
    assert_rejected(&p, || {
        let t = key.sign(&claims(&p, &app));
        let parts: Vec<&str> = t.split('.').collect();
        let mut c = claims(&p, &app);
        c["exp"] = (now(&p) + 400).into();
        format!("{}.{}.{}", parts[0], b64url(c.to_string().as_bytes()), parts[2])
    });
    // One character of the signature changed.
    assert_rejected(&p, || {
        let mut t = key.sign(&claims(&p, &app)).into_bytes();
        let i = t.len() - 20;
        t[i] = if t[i] == b'A' { b'B' } else { b'A' };
        String::from_utf8(t).unwrap()
    });
    // An empty signature.
    assert_rejected(&p, || {
        let t = key.sign(&claims(&p, &app));
        format!("{}.", &t[..t.rfind('.').unwrap()])
    });
    // An app that registered no key at all.
    let keyless = create_app(&p, json!({"name": "keyless", "owner": "keyless"}));
    assert_rejected(&p, || key.sign(&app_claims(&p, id(&keyless), Some(ORIGIN))));
}

#[test]
fn rejects_an_unknown_issuer() {
    let p = platform();
    let app = app(&p);
    let key = test_key(0);
    assert_accepted(&p, || key.sign(&claims(&p, &app)));
    let with_iss = |iss: Value| {
        let mut c = claims(&p, &app);
        c["iss"] = iss;
        key.sign(&c)
    };
    assert_rejected(&p, || with_iss(json!("A".repeat(32))));
    assert_rejected(&p, || with_iss(json!(id(&app).to_lowercase() + "x")));
    assert_rejected(&p, || with_iss(json!("../admin")));
    assert_rejected(&p, || with_iss(json!(5)));
    assert_rejected(&p, || {
        let mut c = claims(&p, &app);
        c.as_object_mut().unwrap().remove("iss");
        key.sign(&c)
    });
}

#[test]
fn rejects_a_disabled_app() {
    let p = platform();
    let app = app(&p);
    let key = test_key(0);
    let path = format!("/admin/apps/{}", id(&app));
    assert_accepted(&p, || key.sign(&claims(&p, &app)));
    assert_eq!(admin(&p, "PATCH", &path, Some(&json!({"status": "disabled"}))).status, 200);
    assert_rejected(&p, || key.sign(&claims(&p, &app)));
    assert_eq!(admin(&p, "PATCH", &path, Some(&json!({"status": "active"}))).status, 200);
    assert_accepted(&p, || key.sign(&claims(&p, &app)));
}

#[test]
fn rejects_a_deleted_app() {
    let p = platform();
    let app = app(&p);
    let key = test_key(0);
    assert_accepted(&p, || key.sign(&claims(&p, &app)));
    assert_eq!(admin(&p, "DELETE", &format!("/admin/apps/{}", id(&app)), None).status, 204);
    assert_rejected(&p, || key.sign(&claims(&p, &app)));
}

#[test]
fn rejects_exp_in_the_past() {
    let p = platform();
    let app = app(&p);
    let key = test_key(0);
    let t = now(&p);
    let with = |iat: i64, exp: i64| {
        let mut c = claims(&p, &app);
        c["iat"] = iat.into();
        c["exp"] = exp.into();
        key.sign(&c)
    };
    assert_accepted(&p, || with(t - 100, t + 30));
    assert_rejected(&p, || with(t - 100, t - 10));
    assert_rejected(&p, || with(t - 100, t - 1));
    // Missing or non-numeric exp.
    assert_rejected(&p, || {
        let mut c = claims(&p, &app);
        c.as_object_mut().unwrap().remove("exp");
        key.sign(&c)
    });
    assert_rejected(&p, || {
        let mut c = claims(&p, &app);
        c["exp"] = json!(format!("{}", t + 60));
        key.sign(&c)
    });
}

/// The edges of the time window, exactly (the clock stands still here, which a live server's
/// cannot): exp = now is expired; the skew is 60 s.
#[test]
fn time_window_edges_exactly() {
    let p = platform();
    let app = app(&p);
    let key = test_key(0);
    let t = now(&p);
    let with_exp = |exp: i64| {
        let mut c = claims(&p, &app);
        c["iat"] = (t - 100).into();
        c["exp"] = exp.into();
        key.sign(&c)
    };
    assert_accepted(&p, || with_exp(t + 1));
    assert_rejected(&p, || with_exp(t));
    // The 60 s skew, exactly: iat and nbf up to now + 60 pass, now + 61 does not.
    let with = |name: &str, v: i64| {
        let mut c = claims(&p, &app);
        c[name] = v.into();
        if name == "iat" {
            c["exp"] = (v + 300).into();
        }
        key.sign(&c)
    };
    for name in ["iat", "nbf"] {
        assert_accepted(&p, || with(name, t + 60));
        assert_rejected(&p, || with(name, t + 61));
    }
}

#[test]
fn rejects_iat_in_the_future() {
    let p = platform();
    let app = app(&p);
    let key = test_key(0);
    let t = now(&p);
    let with_iat = |iat: i64| {
        let mut c = claims(&p, &app);
        c["iat"] = iat.into();
        c["exp"] = (iat + 300).into();
        key.sign(&c)
    };
    // Within the 60 s skew is fine.
    assert_accepted(&p, || with_iat(t + 30));
    assert_rejected(&p, || with_iat(t + 120));
    assert_rejected(&p, || with_iat(t + 3600));
}

#[test]
fn rejects_a_lifetime_over_600_seconds() {
    let p = platform();
    let app = app(&p);
    let key = test_key(0);
    let t = now(&p);
    let with = |iat: i64, exp: i64| {
        let mut c = claims(&p, &app);
        c["iat"] = iat.into();
        c["exp"] = exp.into();
        key.sign(&c)
    };
    assert_accepted(&p, || with(t, t + 600));
    assert_rejected(&p, || with(t, t + 601));
    assert_rejected(&p, || with(t, t + 86_400 * 365));
    // A backdated iat cannot stretch the window either.
    assert_rejected(&p, || with(t - 500, t + 200));
}

#[test]
fn rejects_nbf_in_the_future() {
    let p = platform();
    let app = app(&p);
    let key = test_key(0);
    let t = now(&p);
    let with_nbf = |nbf: i64| {
        let mut c = claims(&p, &app);
        c["nbf"] = nbf.into();
        key.sign(&c)
    };
    assert_accepted(&p, || with_nbf(t - 5));
    assert_rejected(&p, || with_nbf(t + 120));
    assert_rejected(&p, || {
        let mut c = claims(&p, &app);
        c["nbf"] = "soon".into();
        key.sign(&c)
    });
}

#[test]
fn rejects_a_wrong_audience() {
    let p = platform();
    let app = app(&p);
    let key = test_key(0);
    let with_aud = |aud: Value| {
        let mut c = claims(&p, &app);
        c["aud"] = aud;
        key.sign(&c)
    };
    assert_accepted(&p, || with_aud(json!(ORIGIN)));
    assert_rejected(&p, || with_aud(json!("https://evil.example")));
    assert_rejected(&p, || with_aud(json!(format!("{ORIGIN}/"))));
    assert_rejected(&p, || {
        with_aud(json!(["https://evil.example", "https://other.example"]))
    });
    assert_rejected(&p, || with_aud(json!([])));
    assert_rejected(&p, || with_aud(json!(5)));
    assert_rejected(&p, || with_aud(json!(ORIGIN.replace("127.0.0.1", "localhost"))));
}

#[test]
fn rejects_a_replayed_jti() {
    let p = platform();
    let app = app(&p);
    let key = test_key(0);
    // The same token twice.
    let jwt = key.sign(&claims(&p, &app));
    accepted_app(&p, &jwt);
    rejected_app(&p, &jwt);
    let jwt = key.sign(&claims(&p, &app));
    accepted_grant(&p, &jwt);
    rejected_grant(&p, &jwt);
    // Another token with the same jti, at either door.
    let c = claims(&p, &app);
    accepted_app(&p, &key.sign(&c));
    let mut again = c.clone();
    again["exp"] = (c["exp"].as_i64().unwrap() + 1).into();
    rejected_app(&p, &key.sign(&again));
    rejected_grant(&p, &key.sign(&again));
    // Without a jti, the token itself is used once.
    let t = now(&p);
    let no_jti = key.sign(&json!({"iss": id(&app), "iat": t, "exp": t + 60, "aud": ORIGIN}));
    accepted_app(&p, &no_jti);
    rejected_app(&p, &no_jti);
    rejected_grant(&p, &no_jti);
    // jti values are per app: another app may use the same one.
    let other = keyed_app(&p, key, json!({}));
    let mut c2 = app_claims(&p, id(&other), Some(ORIGIN));
    c2["jti"] = c["jti"].clone();
    accepted_app(&p, &key.sign(&c2));
}

#[test]
fn rejects_malformed_tokens() {
    let p = platform();
    let app = app(&p);
    let key = test_key(0);
    assert_accepted(&p, || key.sign(&claims(&p, &app)));
    let good = key.sign(&claims(&p, &app));
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
        rejected_app(&p, m);
        rejected_grant(&p, m);
    }
    // The original is still unused and valid: none of the above consumed its jti.
    accepted_app(&p, &good);
}

#[test]
fn rejects_oversized_tokens() {
    let p = platform();
    let app = app(&p);
    let key = test_key(0);
    let with_pad = |n: usize| {
        let mut c = claims(&p, &app);
        c["pad"] = "x".repeat(n).into();
        key.sign(&c)
    };
    // ~5 KiB is fine; over 8 KiB is refused before anything else.
    assert_accepted(&p, || with_pad(3_500));
    let big = with_pad(9_000);
    assert!(big.len() > 8 * 1024);
    rejected_app(&p, &big);
    rejected_grant(&p, &big);
    let huge = with_pad(40_000);
    rejected_app(&p, &huge);
    rejected_grant(&p, &huge);
}

#[test]
fn app_tokens_require_iat() {
    // The /application/token contract requires iat (RFC 7523's grant does not).
    let p = platform();
    let app = app(&p);
    let key = test_key(0);
    let (t, i) = (now(&p), id(&app));
    accepted_app(&p, &key.sign(&json!({"iss": i, "iat": t, "exp": t + 60, "jti": rand_hex(8)})));
    rejected_app(&p, &key.sign(&json!({"iss": i, "exp": t + 60, "jti": rand_hex(8)})));
    accepted_grant(
        &p,
        &key.sign(&json!({"iss": i, "sub": i, "exp": t + 60, "jti": rand_hex(8), "aud": ORIGIN})),
    );
}
