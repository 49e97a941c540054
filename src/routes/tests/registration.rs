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

/// Invalid metadata: invalid_redirect_uri or invalid_client_metadata naming the field.
#[test]
fn invalid_metadata_names_the_field() {
    assert_named(vec![
        (json!({"redirect_uris": ["http://evil.example/cb"]}), "invalid_redirect_uri", "https"),
        (json!({"redirect_uris": ["javascript:alert(1)"]}), "invalid_redirect_uri", "javascript"),
        (
            json!({"redirect_uris": ["https://good.example@evil.example/cb"]}),
            "invalid_redirect_uri",
            "user information",
        ),
        (json!({"redirect_uris": ["https://a.example/cb#x"]}), "invalid_redirect_uri", "fragment"),
        (json!({"redirect_uris": []}), "invalid_redirect_uri", "redirect_uris"),
        (json!({}), "invalid_redirect_uri", "redirect_uris"),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "scope": "root"}),
            "invalid_client_metadata",
            "scope",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "grant_types": ["client_credentials"]}),
            "invalid_client_metadata",
            "grant_types",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "grant_types": ["password"]}),
            "invalid_client_metadata",
            "grant_types",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "response_types": ["token"]}),
            "invalid_client_metadata",
            "response_types",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "private_key_jwt"}),
            "invalid_client_metadata",
            "jwks",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "magic"}),
            "invalid_client_metadata",
            "token_endpoint_auth_method",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "jwks_uri": "https://a.example/jwks"}),
            "invalid_client_metadata",
            "jwks_uri",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "client_uri": "javascript:x"}),
            "invalid_client_metadata",
            "homepage",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "jwks": {"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]}, "token_endpoint_auth_method": "private_key_jwt"}),
            "invalid_client_metadata",
            "jwks",
        ),
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
        (json!({"redirect_uris": ["https://a.example/cb"], "client_name": 7}), c, "client_name"),
        (json!({"redirect_uris": ["https://a.example/cb"], "contacts": "dev@a.example"}), c, "contacts"),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "grant_types": "authorization_code"}),
            c,
            "grant_types",
        ),
    ]);
}
