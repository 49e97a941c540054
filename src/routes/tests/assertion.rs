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

/// The platform, `app(..)` on it and its key `test_key(0)`: what every rejection test starts from.
struct Fixture {
    p: MemPlatform,
    app: Value,
    key: &'static TestKey,
}

impl Fixture {
    /// A fresh platform with `app(..)` registered.
    fn new() -> Fixture {
        let p = platform();
        let app = app(&p);
        Fixture { p, app, key: test_key(0) }
    }

    /// The platform's clock.
    fn now(&self) -> i64 {
        now(&self.p)
    }

    /// Valid claims for both doors (`aud` = the issuer, which both accept), fresh `jti`.
    fn claims(&self) -> Value {
        app_claims(&self.p, id(&self.app), Some(ORIGIN))
    }

    /// Valid claims with each `(name, value)` set (`Value::Null` removes the claim).
    fn claims_with(&self, set: &[(&str, Value)]) -> Value {
        let mut c = self.claims();
        for (name, value) in set {
            if value.is_null() {
                c.as_object_mut().unwrap().remove(*name);
            } else {
                c[*name] = value.clone();
            }
        }
        c
    }

    /// `claims_with(set)` signed with the app's key (RS256, its kid).
    fn signed(&self, set: &[(&str, Value)]) -> String {
        self.key.sign(&self.claims_with(set))
    }

    /// A validly signed assertion with its JWS part `i` (0 header, 1 claims, 2 signature)
    /// replaced by base64url(`part`).
    fn with_part(&self, i: usize, part: &[u8]) -> String {
        let signed = self.signed(&[]);
        let mut parts: Vec<String> = signed.split('.').map(str::to_owned).collect();
        parts[i] = b64url(part);
        parts.join(".")
    }

    /// Both doors accept valid claims changed by `set` (signed once per door: fresh jti each).
    #[track_caller]
    fn accepted(&self, set: &[(&str, Value)]) {
        assert_accepted(&self.p, || self.signed(set));
    }

    /// Both doors refuse valid claims changed by `set`.
    #[track_caller]
    fn rejected(&self, set: &[(&str, Value)]) {
        assert_rejected(&self.p, || self.signed(set));
    }
}

/// Asserts a 200 token answer with `Cache-Control: no-store`; returns the access token.
#[track_caller]
fn granted(r: &Response) -> String {
    let v = expect_json(r, 200);
    expect_no_store(r);
    v["access_token"].as_str().unwrap().to_owned()
}

/// Asserts that `/application/token` accepts the JWT; returns the access token.
#[track_caller]
fn accepted_app(p: &MemPlatform, jwt: &str) -> String {
    granted(&app_token(p, jwt))
}

/// Asserts that the jwt-bearer grant accepts the assertion; returns the access token.
#[track_caller]
fn accepted_grant(p: &MemPlatform, jwt: &str) -> String {
    granted(&jwt_bearer(p, jwt))
}

/// Both doors accept assertions built by `make` (called once per door: fresh jti each time).
#[track_caller]
fn assert_accepted(p: &MemPlatform, make: impl Fn() -> String) {
    accepted_app(p, &make());
    accepted_grant(p, &make());
}

/// Asserts a 401 invalid_token with a Bearer challenge naming the error, and no token.
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

/// Asserts that `/application/token` refuses the JWT.
#[track_caller]
fn rejected_app(p: &MemPlatform, jwt: &str) {
    expect_invalid_token(&app_token(p, jwt));
}

/// Asserts that the jwt-bearer grant refuses the assertion (400 invalid_grant, no token).
#[track_caller]
fn rejected_grant(p: &MemPlatform, jwt: &str) {
    let v = expect_error(&jwt_bearer(p, jwt), 400, "invalid_grant");
    assert!(v.get("access_token").is_none());
}

/// Both doors refuse the same JWT (`rejected_app`, then `rejected_grant`).
#[track_caller]
fn rejected_both(p: &MemPlatform, jwt: &str) {
    rejected_app(p, jwt);
    rejected_grant(p, jwt);
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
    let fx = Fixture::new();
    let (p, app) = (&fx.p, &fx.app);
    let other = create_app(
        p,
        json!({"name": "trusted", "owner": "t", "trusted": true, "scopes": ["public"]}),
    );
    let assertion = || fx.signed(&[]);
    let grant = |a: &str, extra: &[(&str, &str)], headers: &[(&str, &str)]| {
        let mut pairs = vec![("grant_type", JWT_BEARER), ("assertion", a)];
        pairs.extend_from_slice(extra);
        token_with(p, &pairs, headers)
    };
    // Its own, correct credentials: fine.
    let r = grant(&assertion(), &[], &[("authorization", &basic(id(app), secret(app)))]);
    assert_eq!(r.status, 200, "{}", text(&r));
    let wrong = "wrong-secret-wrong-secret-wrong-s";
    let cases: Vec<(&str, Response, &[u16])> = vec![
        (
            "Basic with the app's id and a wrong secret",
            grant(&assertion(), &[], &[("authorization", &basic(id(app), wrong))]),
            &[401],
        ),
        (
            "client_secret_post with a wrong secret",
            grant(&assertion(), &[("client_id", id(app)), ("client_secret", wrong)], &[]),
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
    let fx = Fixture::new();
    fx.accepted(&[]);
    assert_rejected(&fx.p, || unsigned_jwt(&fx.claims()));
    // `none` with a signature attached, and `None`/`NONE` spellings.
    assert_rejected(&fx.p, || fx.with_part(0, br#"{"alg":"none"}"#));
    for alg in ["None", "NONE", "", "rs256"] {
        let h = json!({"alg": alg, "kid": fx.key.kid});
        assert_rejected(&fx.p, || fx.with_part(0, h.to_string().as_bytes()));
    }
}

#[test]
fn rejects_hs256() {
    let fx = Fixture::new();
    let key = fx.key;
    fx.accepted(&[]);
    // The classic confusion: HMAC keyed with the public key (as PEM, and as the JWK's n).
    let hmac = |secret: &[u8]| {
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&h, &fx.claims(), &EncodingKey::from_secret(secret)).unwrap()
    };
    let pem = key.public_pem();
    assert_rejected(&fx.p, || hmac(pem.as_bytes()));
    assert_rejected(&fx.p, || hmac(key.n.as_bytes()));
    // … and keyed with the app's client secret.
    assert_rejected(&fx.p, || hmac(secret(&fx.app).as_bytes()));
}

#[test]
fn rejects_critical_header_parameters() {
    // RFC 7515 §4.1.11: a `crit` header the verifier does not understand must be refused.
    let fx = Fixture::new();
    let key = fx.key;
    fx.accepted(&[]);
    assert_rejected(&fx.p, || {
        // Signed correctly, with a header naming an unknown critical extension.
        use rsa::pkcs1v15::SigningKey;
        use rsa::pkcs8::DecodePrivateKey;
        use rsa::signature::{SignatureEncoding, Signer};
        let h = json!({"alg": "RS256", "kid": key.kid, "crit": ["exp2"], "exp2": 1});
        let input = format!(
            "{}.{}",
            b64url(h.to_string().as_bytes()),
            b64url(fx.claims().to_string().as_bytes())
        );
        let sk = SigningKey::<sha2::Sha256>::new(rsa::RsaPrivateKey::from_pkcs8_pem(&key.pem).unwrap());
        format!("{input}.{}", b64url(&sk.sign(input.as_bytes()).to_bytes()))
    });
}

#[test]
fn rejects_rs384_and_other_algorithms_with_the_right_key() {
    let fx = Fixture::new();
    fx.accepted(&[]);
    for alg in [Algorithm::RS384, Algorithm::RS512, Algorithm::PS256] {
        assert_rejected(&fx.p, || fx.key.sign_alg(alg, &fx.claims(), Some(&fx.key.kid)));
    }
}

#[test]
fn rejects_a_bad_signature() {
    let fx = Fixture::new();
    let key = fx.key;
    fx.accepted(&[]);
    // Signed by another key, under the registered kid and without a kid.
    assert_rejected(&fx.p, || test_key(2).sign_alg(Algorithm::RS256, &fx.claims(), Some(&key.kid)));
    assert_rejected(&fx.p, || test_key(2).sign_alg(Algorithm::RS256, &fx.claims(), None));
    // A valid signature over other claims.
    assert_rejected(&fx.p, || {
        let other = fx.claims_with(&[("exp", json!(fx.now() + 400))]);
        fx.with_part(1, other.to_string().as_bytes())
    });
    // One character of the signature changed.
    assert_rejected(&fx.p, || {
        let mut t = fx.signed(&[]).into_bytes();
        let i = t.len() - 20;
        t[i] = if t[i] == b'A' { b'B' } else { b'A' };
        String::from_utf8(t).unwrap()
    });
    // An empty signature.
    assert_rejected(&fx.p, || {
        let t = fx.signed(&[]);
        format!("{}.", &t[..t.rfind('.').unwrap()])
    });
    // An app that registered no key at all.
    let keyless = create_app(&fx.p, json!({"name": "keyless", "owner": "keyless"}));
    assert_rejected(&fx.p, || key.sign(&app_claims(&fx.p, id(&keyless), Some(ORIGIN))));
}

#[test]
fn rejects_an_unknown_issuer() {
    let fx = Fixture::new();
    fx.accepted(&[]);
    fx.rejected(&[("iss", json!("A".repeat(32)))]);
    fx.rejected(&[("iss", json!(id(&fx.app).to_lowercase() + "x"))]);
    fx.rejected(&[("iss", json!("../admin"))]);
    fx.rejected(&[("iss", json!(5))]);
    fx.rejected(&[("iss", Value::Null)]);
}

#[test]
fn rejects_a_disabled_app() {
    let fx = Fixture::new();
    let path = format!("/admin/apps/{}", id(&fx.app));
    fx.accepted(&[]);
    assert_eq!(admin(&fx.p, "PATCH", &path, Some(&json!({"status": "disabled"}))).status, 200);
    fx.rejected(&[]);
    assert_eq!(admin(&fx.p, "PATCH", &path, Some(&json!({"status": "active"}))).status, 200);
    fx.accepted(&[]);
}

#[test]
fn rejects_a_deleted_app() {
    let fx = Fixture::new();
    fx.accepted(&[]);
    assert_eq!(admin(&fx.p, "DELETE", &format!("/admin/apps/{}", id(&fx.app)), None).status, 204);
    fx.rejected(&[]);
}

#[test]
fn rejects_exp_in_the_past() {
    let fx = Fixture::new();
    let t = fx.now();
    fx.accepted(&[("iat", json!(t - 100)), ("exp", json!(t + 30))]);
    fx.rejected(&[("iat", json!(t - 100)), ("exp", json!(t - 10))]);
    fx.rejected(&[("iat", json!(t - 100)), ("exp", json!(t - 1))]);
    // Missing or non-numeric exp.
    fx.rejected(&[("exp", Value::Null)]);
    fx.rejected(&[("exp", json!(format!("{}", t + 60)))]);
}

/// The edges of the time window, exactly (the clock stands still here, which a live server's
/// cannot): exp = now is expired; the skew is 60 s.
#[test]
fn time_window_edges_exactly() {
    let fx = Fixture::new();
    let t = fx.now();
    fx.accepted(&[("iat", json!(t - 100)), ("exp", json!(t + 1))]);
    fx.rejected(&[("iat", json!(t - 100)), ("exp", json!(t))]);
    // The 60 s skew, exactly: iat and nbf up to now + 60 pass, now + 61 does not.
    fx.accepted(&[("iat", json!(t + 60)), ("exp", json!(t + 60 + 300))]);
    fx.rejected(&[("iat", json!(t + 61)), ("exp", json!(t + 61 + 300))]);
    fx.accepted(&[("nbf", json!(t + 60))]);
    fx.rejected(&[("nbf", json!(t + 61))]);
}

#[test]
fn rejects_iat_in_the_future() {
    let fx = Fixture::new();
    let t = fx.now();
    // Within the 60 s skew is fine (exp is always iat + 300).
    fx.accepted(&[("iat", json!(t + 30)), ("exp", json!(t + 30 + 300))]);
    fx.rejected(&[("iat", json!(t + 120)), ("exp", json!(t + 120 + 300))]);
    fx.rejected(&[("iat", json!(t + 3600)), ("exp", json!(t + 3600 + 300))]);
}

#[test]
fn rejects_a_lifetime_over_600_seconds() {
    let fx = Fixture::new();
    let t = fx.now();
    fx.accepted(&[("iat", json!(t)), ("exp", json!(t + 600))]);
    fx.rejected(&[("iat", json!(t)), ("exp", json!(t + 601))]);
    fx.rejected(&[("iat", json!(t)), ("exp", json!(t + 86_400 * 365))]);
    // A backdated iat cannot stretch the window either.
    fx.rejected(&[("iat", json!(t - 500)), ("exp", json!(t + 200))]);
}

#[test]
fn rejects_nbf_in_the_future() {
    let fx = Fixture::new();
    let t = fx.now();
    fx.accepted(&[("nbf", json!(t - 5))]);
    fx.rejected(&[("nbf", json!(t + 120))]);
    fx.rejected(&[("nbf", json!("soon"))]);
}

#[test]
fn rejects_a_wrong_audience() {
    let fx = Fixture::new();
    fx.accepted(&[("aud", json!(ORIGIN))]);
    fx.rejected(&[("aud", json!("https://evil.example"))]);
    fx.rejected(&[("aud", json!(format!("{ORIGIN}/")))]);
    fx.rejected(&[("aud", json!(["https://evil.example", "https://other.example"]))]);
    fx.rejected(&[("aud", json!([]))]);
    fx.rejected(&[("aud", json!(5))]);
    fx.rejected(&[("aud", json!(ORIGIN.replace("127.0.0.1", "localhost")))]);
}

#[test]
fn rejects_a_replayed_jti() {
    let fx = Fixture::new();
    let (p, key) = (&fx.p, fx.key);
    // The same token twice.
    let jwt = fx.signed(&[]);
    accepted_app(p, &jwt);
    rejected_app(p, &jwt);
    let jwt = fx.signed(&[]);
    accepted_grant(p, &jwt);
    rejected_grant(p, &jwt);
    // Another token with the same jti, at either door.
    let c = fx.claims();
    accepted_app(p, &key.sign(&c));
    let mut again = c.clone();
    again["exp"] = (c["exp"].as_i64().unwrap() + 1).into();
    rejected_both(p, &key.sign(&again));
    // Without a jti, the token itself is used once.
    let t = fx.now();
    let no_jti = key.sign(&json!({"iss": id(&fx.app), "iat": t, "exp": t + 60, "aud": ORIGIN}));
    accepted_app(p, &no_jti);
    rejected_both(p, &no_jti);
    // jti values are per app: another app may use the same one.
    let other = keyed_app(p, key, json!({}));
    let mut c2 = app_claims(p, id(&other), Some(ORIGIN));
    c2["jti"] = c["jti"].clone();
    accepted_app(p, &key.sign(&c2));
}

#[test]
fn rejects_malformed_tokens() {
    let fx = Fixture::new();
    fx.accepted(&[]);
    let good = fx.signed(&[]);
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
        rejected_both(&fx.p, m);
    }
    // The original is still unused and valid: none of the above consumed its jti.
    accepted_app(&fx.p, &good);
}

#[test]
fn rejects_oversized_tokens() {
    let fx = Fixture::new();
    // ~5 KiB is fine; over 8 KiB is refused before anything else.
    fx.accepted(&[("pad", json!("x".repeat(3_500)))]);
    let big = fx.signed(&[("pad", json!("x".repeat(9_000)))]);
    assert!(big.len() > 8 * 1024);
    rejected_both(&fx.p, &big);
    rejected_both(&fx.p, &fx.signed(&[("pad", json!("x".repeat(40_000)))]));
}

#[test]
fn app_tokens_require_iat() {
    // The /application/token contract requires iat (RFC 7523's grant does not).
    let fx = Fixture::new();
    let (p, key) = (&fx.p, fx.key);
    let (t, i) = (fx.now(), id(&fx.app));
    accepted_app(p, &key.sign(&json!({"iss": i, "iat": t, "exp": t + 60, "jti": rand_hex(8)})));
    rejected_app(p, &key.sign(&json!({"iss": i, "exp": t + 60, "jti": rand_hex(8)})));
    accepted_grant(
        p,
        &key.sign(&json!({"iss": i, "sub": i, "exp": t + 60, "jti": rand_hex(8), "aud": ORIGIN})),
    );
}
