//! Issue 19 ("a deploy that cannot start half-configured"): with `ENVIRONMENT=production`
//! (wrangler.toml's default) the worker refuses every request, saying why, until `ISSUER`,
//! `SIGNING_KEYS` and `ADMIN_TOKEN` are set, and never makes a development key; configured,
//! it serves, and the development-only routes do not exist. The bundle under test is the one
//! `wrangler deploy` ships (build/).

mod common;
use common::*;

const TEST_KEY_PEM: &str = include_str!("../src/crypto/testdata/rsa2048-test-only.pem");

/// The key as one line (`--var` takes one line; the server reads literal `\n` as newlines).
fn test_key() -> String {
    TEST_KEY_PEM.trim().replace('\n', "\\n")
}

fn get(s: &Server, path: &str) -> (u16, String) {
    raw_http(s, format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n").as_bytes(), b"")
}

#[test]
fn production_without_its_settings_refuses_every_request_and_says_why() {
    let s = Server::start_with(&[("ENVIRONMENT", "production"), ("ADMIN_TOKEN", "")]);
    let post = b"POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n";
    let answers = [
        get(&s, "/.well-known/openid-configuration"),
        get(&s, "/login"),
        get(&s, "/__bench/empty"),
        raw_http(&s, post, b"grant_type=client_credentials"),
    ];
    for (status, body) in &answers {
        assert_eq!(*status, 503, "{body}");
        let v: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("JSON: {body}"));
        assert_eq!(v["error"], "temporarily_unavailable", "{v}");
        let d = v["error_description"].as_str().unwrap();
        for setting in ["ISSUER", "SIGNING_KEYS", "ADMIN_TOKEN"] {
            assert!(d.contains(setting), "{setting} not named: {d}");
        }
    }
    let log = s.log();
    assert!(log.contains("\"not_configured\""), "the log says why: {log}");
    assert!(!log.contains("development signing key in use"), "no development key in production: {log}");
}

#[test]
fn production_with_its_settings_serves_without_development_routes() {
    let s = Server::start_with(&[
        ("ENVIRONMENT", "production"),
        ("ISSUER", "https://auth.example.test"),
        ("SIGNING_KEYS", &test_key()),
    ]);
    let (status, body) = get(&s, "/.well-known/openid-configuration");
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["issuer"], "https://auth.example.test");
    for path in ["/__bench/empty", "/__bench/panic", "/__bench/sign", "/dev/outbox", "/dev/outbox.json"] {
        let (status, body) = get(&s, path);
        assert_eq!(status, 404, "{path} must not exist in production: {body}");
    }
    let r = s.get("/.well-known/jwks.json");
    r.expect(200);
    assert!(r.header("x-portcullis-calls").is_none(), "development-only header in production");
    assert!(!s.log().contains("development signing key in use"));
}

#[test]
fn an_unknown_environment_is_taken_for_production_and_reported() {
    let s = Server::start_with(&[("ENVIRONMENT", "staging"), ("ISSUER", "https://auth.example.test"), ("SIGNING_KEYS", &test_key())]);
    let (status, body) = get(&s, "/.well-known/jwks.json");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("ENVIRONMENT must be production or development"), "{body}");
}
