//! RFC 7591 registration rules (moved from tests/registration.rs, which keeps the round trip).

use super::support::{expect_error, platform, req, send};
use serde_json::{json, Value};

fn register(p: &crate::platform::memory::MemPlatform, body: &[u8]) -> crate::http::Response {
    send(p, req("POST", "/oauth/register", &[("content-type", "application/json")], body))
}

#[track_caller]
fn assert_named(cases: Vec<(Value, &str, &str)>) {
    let mut unnamed = Vec::new();
    for (body, code, field) in cases {
        // One platform per case: the registration rate limit counts every attempt.
        let p = platform();
        let e = expect_error(&register(&p, body.to_string().as_bytes()), 400, code);
        let d = e["error_description"].as_str().unwrap();
        if !d.contains(field) {
            unnamed.push(format!("{body}: the description should name '{field}': {d}"));
        }
    }
    assert!(
        unnamed.is_empty(),
        "error descriptions that do not name the field:\n{}",
        unnamed.join("\n")
    );
}

/// Client metadata with one valid redirect URI (`https://a.example/cb`) and the fields of `extra`.
fn with_uri(extra: Value) -> Value {
    let mut body = json!({"redirect_uris": ["https://a.example/cb"]});
    if let Value::Object(m) = extra {
        for (k, v) in m {
            body[k] = v;
        }
    }
    body
}

/// Invalid metadata: invalid_redirect_uri or invalid_client_metadata naming the field.
#[test]
fn invalid_metadata_names_the_field() {
    let (uri, meta) = ("invalid_redirect_uri", "invalid_client_metadata");
    let bad_jwks = json!({"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]});
    assert_named(vec![
        (json!({"redirect_uris": ["http://evil.example/cb"]}), uri, "https"),
        (json!({"redirect_uris": ["javascript:alert(1)"]}), uri, "javascript"),
        (json!({"redirect_uris": ["https://good.example@evil.example/cb"]}), uri, "user information"),
        (json!({"redirect_uris": ["https://a.example/cb#x"]}), uri, "fragment"),
        (json!({"redirect_uris": []}), uri, "redirect_uris"),
        (json!({}), uri, "redirect_uris"),
        (with_uri(json!({"scope": "root"})), meta, "scope"),
        (with_uri(json!({"grant_types": ["client_credentials"]})), meta, "grant_types"),
        (with_uri(json!({"grant_types": ["password"]})), meta, "grant_types"),
        (with_uri(json!({"response_types": ["token"]})), meta, "response_types"),
        (with_uri(json!({"token_endpoint_auth_method": "private_key_jwt"})), meta, "jwks"),
        (with_uri(json!({"token_endpoint_auth_method": "magic"})), meta, "token_endpoint_auth_method"),
        (with_uri(json!({"jwks_uri": "https://a.example/jwks"})), meta, "jwks_uri"),
        (with_uri(json!({"client_uri": "javascript:x"})), meta, "homepage"),
        (with_uri(json!({"jwks": bad_jwks, "token_endpoint_auth_method": "private_key_jwt"})), meta, "jwks"),
    ]);
}

#[test]
fn a_body_that_is_not_json_is_invalid_client_metadata() {
    let p = platform();
    expect_error(&register(&p, b"{not json"), 400, "invalid_client_metadata");
}

/// A field of the wrong JSON type is invalid_client_metadata, and the description names the
/// field (issue 6: "naming the field").
#[test]
fn wrong_json_types_name_the_field() {
    let c = "invalid_client_metadata";
    assert_named(vec![
        (json!({"redirect_uris": "https://a.example/cb"}), c, "redirect_uris"),
        (with_uri(json!({"client_name": 7})), c, "client_name"),
        (with_uri(json!({"contacts": "dev@a.example"})), c, "contacts"),
        (with_uri(json!({"grant_types": "authorization_code"})), c, "grant_types"),
    ]);
}
