//! Foundation: discovery metadata, the JWKS, tokens verifiable by an independent verifier,
//! the development key surviving a restart, and the HTTP layer's handling of malformed requests.
//! Every request goes through the harness, which fails the test on any 5xx.

mod common;
use common::*;

fn s() -> &'static Server {
    Server::shared()
}

#[test]
fn metadata_is_valid_and_its_endpoints_answer() {
    let s = s();
    let r = s.get("/.well-known/oauth-authorization-server");
    let m = r.expect_json(200);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    let iss = s.issuer();
    assert_eq!(m["issuer"], iss, "issuer is the origin in development");
    assert!(!iss.ends_with('/'));
    assert_eq!(m["token_endpoint"], format!("{iss}/oauth/token"));
    assert_eq!(m["jwks_uri"], format!("{iss}/.well-known/jwks.json"));
    for field in [
        "token_endpoint",
        "jwks_uri",
        "introspection_endpoint",
        "revocation_endpoint",
        "userinfo_endpoint",
    ] {
        let u = m[field]
            .as_str()
            .unwrap_or_else(|| panic!("{field} missing in {m}"));
        assert!(u.starts_with(iss), "{field} {u} is not under the issuer");
    }
    let list = |f: &str| -> Vec<String> {
        m[f].as_array()
            .unwrap_or_else(|| panic!("{f} is not a list in {m}"))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    let grants = list("grant_types_supported");
    assert!(grants.contains(&"client_credentials".to_owned()));
    assert!(grants.contains(&JWT_BEARER.to_owned()));
    let methods = list("token_endpoint_auth_methods_supported");
    for m in ["client_secret_basic", "client_secret_post", "private_key_jwt"] {
        assert!(methods.contains(&m.to_owned()), "{m} not advertised");
    }
    assert!(list("token_endpoint_auth_signing_alg_values_supported").contains(&"RS256".into()));
    let scopes = list("scopes_supported");
    assert!(scopes.contains(&"public".to_owned()));

    // Every advertised endpoint exists (answers something other than 404/405).
    let path = |f: &str| m[f].as_str().unwrap()[iss.len()..].to_owned();
    s.get(&path("jwks_uri")).expect(200);
    s.post_form(&path("token_endpoint"), &[])
        .expect_error(400, "invalid_request");
    s.post_form(&path("introspection_endpoint"), &[("token", "x")])
        .expect_error(401, "invalid_client");
    s.post_form(&path("revocation_endpoint"), &[("token", "x")])
        .expect_error(401, "invalid_client");
    let r = s.get(&path("userinfo_endpoint"));
    r.expect_error(401, "invalid_token");
    assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
}

#[test]
fn jwks_is_valid_and_kids_are_rfc7638_thumbprints() {
    let s = s();
    let r = s.get("/.well-known/jwks.json");
    let jwks = r.expect_json(200);
    assert!(r.header("content-type").unwrap().starts_with("application/json"));
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    let keys = jwks["keys"].as_array().expect("keys must be a list");
    assert!(!keys.is_empty());
    for k in keys {
        assert_eq!(k["kty"], "RSA", "{k}");
        assert_eq!(k["alg"], "RS256", "{k}");
        assert_eq!(k["use"], "sig", "{k}");
        for private in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
            assert!(k.get(private).is_none(), "JWKS leaks '{private}': {k}");
        }
        let n = k["n"].as_str().unwrap();
        let e = k["e"].as_str().unwrap();
        let modulus = b64url_decode(n);
        assert!(modulus.len() >= 256, "RSA key below 2048 bits");
        assert_ne!(modulus[0], 0, "n must not have leading zero bytes");
        assert_eq!(e, "AQAB");
        assert_eq!(k["kid"], thumbprint(n, e), "kid is not the RFC 7638 thumbprint");
    }
    // HEAD is allowed too.
    s.request("HEAD", "/.well-known/jwks.json", Req::default())
        .expect(200);
}

#[test]
fn server_signed_tokens_verify_with_an_independent_verifier() {
    let s = s();
    let app = s.trusted_app(&["public", "users:read"]);
    let r = s.cc_basic(&app.id, app.secret(), None);
    let v = r.expect_json(200);
    let token = v["access_token"].as_str().unwrap();
    let c = s.verify_access_token(token);
    assert_eq!(c["sub"], app.id.as_str());
    assert_eq!(c["client_id"], app.id.as_str());
    assert_eq!(c["scope"], "public users:read");
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 7200);
    assert!(
        (c["iat"].as_i64().unwrap() - now()).abs() <= 120,
        "iat is seconds since the epoch, issued during this test"
    );

    // The same token with its claims altered no longer verifies, neither independently nor
    // at the server.
    let parts: Vec<&str> = token.split('.').collect();
    let mut forged_claims = c.clone();
    forged_claims["scope"] = "public users:read users:write".into();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64url(forged_claims.to_string().as_bytes()),
        parts[2]
    );
    let key = &s.jwks()["keys"][0];
    let dk = jsonwebtoken::DecodingKey::from_rsa_components(
        key["n"].as_str().unwrap(),
        key["e"].as_str().unwrap(),
    )
    .unwrap();
    let mut val = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    val.validate_aud = false;
    assert!(jsonwebtoken::decode::<Value>(&forged, &dk, &val).is_err());
    assert!(s.is_active(token));
    assert!(!s.is_active(&forged));
    // A token signed by some other key with the server's kid is not accepted either.
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    h.typ = Some("at+jwt".into());
    h.kid = Some(key["kid"].as_str().unwrap().to_owned());
    let other = jsonwebtoken::encode(
        &h,
        &c,
        &jsonwebtoken::EncodingKey::from_rsa_pem(test_key(0).pem.as_bytes()).unwrap(),
    )
    .unwrap();
    assert!(!s.is_active(&other));
}

#[test]
fn development_key_and_state_survive_a_restart() {
    let mut s = Server::start();
    let before = s.jwks();
    let kid = before["keys"][0]["kid"].as_str().unwrap().to_owned();
    let app = s.trusted_app(&["public"]);
    let token = s.cc_token(&app);
    let revoked = s.cc_token(&app);
    s.post_form_basic("/oauth/revoke", &[("token", &revoked)], &app.id, app.secret())
        .expect(200);
    assert!(s.is_active(&token));
    assert!(!s.is_active(&revoked));
    // An app assertion used once before the restart.
    let keyed = s.keyed_app(test_key(0), json!({}));
    let assertion = test_key(0).sign(&app_claims(&keyed.id, None));
    s.app_token(&assertion).expect(200);

    s.restart();

    let after = s.jwks();
    assert_eq!(after, before, "the JWKS changed across a restart");
    // The old token still verifies and is still live (the state was persisted) …
    s.verify_access_token(&token);
    assert!(s.is_active(&token));
    // … revocations and used assertions are remembered …
    assert!(
        !s.is_active(&revoked),
        "a revoked token came back to life after a restart"
    );
    s.app_token(&assertion).expect_error(401, "invalid_token");
    // … and new tokens are signed by the same key.
    let fresh = s.cc_token(&app);
    let h = jsonwebtoken::decode_header(&fresh).unwrap();
    assert_eq!(h.kid.as_deref(), Some(kid.as_str()));
    s.verify_access_token(&fresh);
}

#[test]
fn configured_issuer_is_used_everywhere() {
    let issuer = "https://auth.example.test";
    let s = Server::start_with(&[("ISSUER", issuer)]);
    let m = s.get("/.well-known/oauth-authorization-server").expect_json(200);
    assert_eq!(m["issuer"], issuer);
    assert_eq!(m["token_endpoint"], format!("{issuer}/oauth/token"));
    let app = s.trusted_app(&["public"]);
    let token = s.cc_token(&app);
    let c = verify_with_jwks(&s.jwks(), &token, issuer);
    assert_eq!(c["iss"], issuer);
    assert!(s.is_active(&token));
    // Assertions name the configured issuer (or its token endpoint), not the origin reached.
    let keyed = s.keyed_app(test_key(0), json!({}));
    for aud in [issuer.to_owned(), format!("{issuer}/oauth/token")] {
        s.jwt_bearer(&test_key(0).sign(&app_claims(&keyed.id, Some(&aud))))
            .expect(200);
    }
    s.jwt_bearer(&test_key(0).sign(&app_claims(&keyed.id, Some(s.issuer()))))
        .expect_error(400, "invalid_grant");
    // Development-only routes are off.
    s.get("/__bench/sign?n=1").expect_error(404, "not_found");
}

#[test]
fn unknown_routes_are_404_json() {
    let s = s();
    for path in [
        "/nope",
        "/oauth",
        "/oauth/tokens",
        "/.well-known/",
        "/oauth/token/x",
        "/.well-known/jwks.json/x",
    ] {
        let v = s.get(path).expect_error(404, "not_found");
        assert!(v["error_description"].is_string());
    }
    // Unknown admin routes too (with a valid admin token).
    s.admin("GET", "/admin/nothing", None)
        .expect_error(404, "not_found");
    s.admin("GET", "/admin/apps/x/y/z/w", None)
        .expect_error(404, "not_found");
    s.post_form("/nope", &[("a", "b")]).expect_error(404, "not_found");
}

#[test]
fn wrong_methods_are_405_with_allow() {
    let s = s();
    let cases: [(&str, &str, &str); 7] = [
        ("GET", "/oauth/token", "POST"),
        ("PUT", "/oauth/token", "POST"),
        ("DELETE", "/.well-known/jwks.json", "GET"),
        ("POST", "/.well-known/oauth-authorization-server", "GET"),
        ("GET", "/oauth/introspect", "POST"),
        ("GET", "/oauth/revoke", "POST"),
        ("GET", "/application/token", "POST"),
    ];
    for (method, path, must_allow) in cases {
        let body = if method == "PUT" || method == "POST" {
            Some(&b""[..])
        } else {
            None
        };
        let r = s.request(
            method,
            path,
            Req {
                headers: &[],
                body,
                ..Default::default()
            },
        );
        r.expect_error(405, "method_not_allowed");
        let allow = r
            .header("allow")
            .unwrap_or_else(|| panic!("{method} {path}: 405 without Allow"));
        assert!(
            allow.split(',').any(|m| m.trim() == must_allow),
            "{method} {path}: Allow: {allow}"
        );
        assert!(
            !allow.split(',').any(|m| m.trim() == method),
            "{method} {path}: Allow lists the refused method: {allow}"
        );
    }
    let r = s.admin("PUT", "/admin/apps", Some(&json!({})));
    r.expect_error(405, "method_not_allowed");
    assert!(r.header("allow").unwrap().contains("POST"));
}

#[test]
fn bodies_over_64_kib_are_413() {
    let s = s();
    // 70 KiB of form parameters, with a content length.
    let big = format!("grant_type=client_credentials&pad={}", "a".repeat(70 * 1024));
    s.post_token_raw("application/x-www-form-urlencoded", big.as_bytes())
        .expect_error(413, "invalid_request");
    // 1 MiB of JSON at the admin API.
    let huge = format!(r#"{{"name":"{}"}}"#, "x".repeat(1 << 20));
    let auth = bearer(s.admin_token.as_deref().unwrap());
    s.post_raw(
        "/admin/apps",
        &[("content-type", "application/json"), ("authorization", &auth)],
        huge.as_bytes(),
    )
    .expect(413);
    // Just over the limit, at the introspection endpoint.
    let over = vec![b'a'; 64 * 1024 + 1];
    s.post_raw(
        "/oauth/introspect",
        &[("content-type", "application/x-www-form-urlencoded")],
        &over,
    )
    .expect(413);
    // Without a Content-Length (chunked), 70 KiB and 1 MiB: refused once read.
    for size in [70 * 1024, 1 << 20] {
        let body = format!("grant_type=client_credentials&pad={}", "b".repeat(size));
        s.request(
            "POST",
            "/oauth/token",
            Req {
                headers: &[("content-type", "application/x-www-form-urlencoded")],
                body: Some(body.as_bytes()),
                chunked: true,
            },
        )
        .expect_error(413, "invalid_request");
    }
    // A chunked body under the limit is read normally.
    s.request(
        "POST",
        "/oauth/token",
        Req {
            headers: &[("content-type", "application/x-www-form-urlencoded")],
            body: Some(b"grant_type=nope"),
            chunked: true,
        },
    )
    .expect_error(400, "unsupported_grant_type");
    // Exactly at the limit is not refused for its size.
    let at = format!("grant_type=client_credentials&pad={}", "a".repeat(64 * 1024 - 34));
    assert_eq!(at.len(), 64 * 1024);
    let r = s.post_token_raw("application/x-www-form-urlencoded", at.as_bytes());
    assert_ne!(r.status, 413, "a body of exactly 64 KiB must be read");
    r.expect_error(401, "invalid_client");
}

#[test]
fn unsupported_content_types_are_415() {
    let s = s();
    for ct in ["text/plain", "multipart/form-data; boundary=x", "application/xml"] {
        s.post_token_raw(ct, b"grant_type=client_credentials")
            .expect(415);
    }
    s.post_raw("/oauth/introspect", &[("content-type", "text/plain")], b"token=x")
        .expect(415);
    // The admin API takes JSON only.
    let auth = bearer(s.admin_token.as_deref().unwrap());
    s.post_raw(
        "/admin/apps",
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("authorization", &auth),
        ],
        b"name=x",
    )
    .expect(415);
    // Parameters on the content type are fine.
    s.post_token_raw("application/x-www-form-urlencoded; charset=UTF-8", b"grant_type=nope")
        .expect_error(400, "unsupported_grant_type");
}

#[test]
fn duplicated_parameters_are_invalid_request() {
    let s = s();
    let app = s.trusted_app(&["public"]);
    let auth = basic(&app.id, app.secret());
    let h = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("authorization", auth.as_str()),
    ];
    for body in [
        "grant_type=client_credentials&grant_type=client_credentials",
        "grant_type=client_credentials&scope=public&scope=public",
        "grant_type=client_credentials&scope=&scope=public",
    ] {
        s.post_raw("/oauth/token", &h, body.as_bytes())
            .expect_error(400, "invalid_request");
    }
    // client_secret_post with two client_ids: never authenticates either.
    let other = s.trusted_app(&["public"]);
    let body = form(&[
        ("grant_type", "client_credentials"),
        ("client_id", &other.id),
        ("client_id", &app.id),
        ("client_secret", app.secret()),
    ]);
    s.post_token_raw("application/x-www-form-urlencoded", body.as_bytes())
        .expect_error(400, "invalid_request");
}

#[test]
fn duplicated_json_members_are_invalid_request() {
    // The same rule as for forms (RFC 6749 §3.1): a JSON body naming a parameter twice is
    // ambiguous and must be refused, not silently resolved to one of the values.
    let s = s();
    let a = s.trusted_app(&["public"]);
    let b = s.trusted_app(&["public"]);
    let body = format!(
        r#"{{"grant_type":"client_credentials","client_id":"{}","client_id":"{}","client_secret":"{}"}}"#,
        b.id,
        a.id,
        a.secret()
    );
    s.post_token_raw("application/json", body.as_bytes())
        .expect_error(400, "invalid_request");
}

#[test]
fn non_utf8_bodies_are_invalid_request() {
    let s = s();
    let form_h = [("content-type", "application/x-www-form-urlencoded")];
    // Raw bytes that are not UTF-8, percent-encoded ones, and overlong encodings.
    for body in [
        &b"grant_type=client_credentials&scope=\xff\xfe"[..],
        b"grant_type=client_\xc3\x28credentials",
        b"grant_type=client_credentials&scope=%ff",
        b"grant_type=client_credentials&scope=%c0%af",
        b"grant_type=%e2%82",
        b"\xff=1&grant_type=client_credentials",
    ] {
        s.post_raw("/oauth/token", &form_h, body)
            .expect_error(400, "invalid_request");
    }
    // Bad percent escapes.
    for body in ["grant_type=%", "grant_type=%4", "grant_type=%zz"] {
        s.post_raw("/oauth/token", &form_h, body.as_bytes())
            .expect_error(400, "invalid_request");
    }
    // JSON with invalid UTF-8 inside a string.
    s.post_token_raw("application/json", b"{\"grant_type\":\"client_\xff\"}")
        .expect_error(400, "invalid_request");
    // Non-UTF-8 at the admin API.
    let auth = bearer(s.admin_token.as_deref().unwrap());
    s.post_raw(
        "/admin/apps",
        &[("content-type", "application/json"), ("authorization", &auth)],
        b"{\"name\":\"\xff\xfe\"}",
    )
    .expect_error(400, "invalid_request");
}

#[test]
fn json_bodies_must_be_objects_of_strings() {
    let s = s();
    let h = [("content-type", "application/json")];
    for body in [
        r#"["grant_type","client_credentials"]"#,
        r#""grant_type=client_credentials""#,
        "42",
        "null",
        "",
        "{",
        r#"{"grant_type":{"x":"client_credentials"}}"#,
        &"[".repeat(5000),
    ] {
        s.post_raw("/oauth/token", &h, body.as_bytes())
            .expect_error(400, "invalid_request");
    }
    // Same at the admin API.
    let auth = bearer(s.admin_token.as_deref().unwrap());
    for body in ["[]", r#"[{"name":"x"}]"#, "\"x\"", "{"] {
        s.post_raw(
            "/admin/apps",
            &[("content-type", "application/json"), ("authorization", &auth)],
            body.as_bytes(),
        )
        .expect_error(400, "invalid_request");
    }
}

#[test]
fn control_characters_in_parameters_are_refused() {
    let s = s();
    let app = s.trusted_app(&["public"]);
    let form_h = [("content-type", "application/x-www-form-urlencoded")];
    for (k, v) in [
        ("scope", "public\0"),
        ("scope", "pub\r\nlic"),
        ("grant_type", "client_credentials\n"),
        ("client_id", "a\u{0}b"),
        ("client_secret", "\r\n"),
        ("x\r\ny", "1"),
    ] {
        let mut pairs = vec![
            ("grant_type", "client_credentials"),
            ("client_id", app.id.as_str()),
            ("client_secret", app.secret()),
        ];
        match pairs.iter_mut().find(|(n, _)| *n == k) {
            Some(p) => p.1 = v,
            None => pairs.push((k, v)),
        }
        s.post_raw("/oauth/token", &form_h, form(&pairs).as_bytes())
            .expect_error(400, "invalid_request");
    }
    // In JSON, escapes decode to the same control characters.
    for body in [
        json!({"grant_type": "client_credentials", "client_id": app.id, "client_secret": app.secret(), "scope": "public\u{0}"}),
        json!({"grant_type": "client_credentials\r\nX: 1", "client_id": app.id, "client_secret": app.secret()}),
    ] {
        s.post_json("/oauth/token", &body)
            .expect_error(400, "invalid_request");
    }
    // A raw NUL byte in the form body.
    s.post_raw(
        "/oauth/token",
        &form_h,
        format!("grant_type=client_credentials\0&client_id={}", app.id).as_bytes(),
    )
    .expect_error(400, "invalid_request");
    // The error description never echoes control characters back.
    let r = s.post_form("/oauth/token", &[("grant_type", "evil\r\nSet-Cookie: x=1")]);
    let v = r.json();
    assert!(!v["error_description"].as_str().unwrap().contains(['\r', '\n']));
}

#[test]
fn grant_type_errors() {
    let s = s();
    s.post_form("/oauth/token", &[("client_id", "x")])
        .expect_error(400, "invalid_request");
    // An empty grant_type counts as missing.
    s.post_form("/oauth/token", &[("grant_type", "")])
        .expect_error(400, "invalid_request");
    // `response_type=client_credentials` is a common mistake: the error says what to send.
    let v = s
        .post_form("/oauth/token", &[("response_type", "client_credentials")])
        .expect_error(400, "invalid_request");
    assert!(
        v["error_description"].as_str().unwrap().contains("grant_type"),
        "{v}"
    );
    for g in [
        "implicit",
        "token",
        "authorization_code_x",
        "CLIENT_CREDENTIALS",
        "urn:example:custom",
    ] {
        s.post_form("/oauth/token", &[("grant_type", g)])
            .expect_error(400, "unsupported_grant_type");
    }
    // The same through JSON.
    s.post_json("/oauth/token", &json!({"grant_type": "nope"}))
        .expect_error(400, "unsupported_grant_type");
    s.post_json("/oauth/token", &json!({}))
        .expect_error(400, "invalid_request");
    // No body at all.
    s.request("POST", "/oauth/token", Req::default())
        .expect_error(400, "invalid_request");
}

#[test]
fn cors_and_security_headers() {
    let s = s();
    let r = s.request(
        "OPTIONS",
        "/oauth/token",
        Req {
            headers: &[
                ("origin", "https://example.com"),
                ("access-control-request-method", "POST"),
            ],
            body: None,
            ..Default::default()
        },
    );
    assert!(r.status == 204 || r.status == 200, "preflight: {}", r.status);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert!(r.header("access-control-allow-methods").unwrap().contains("POST"));
    // The admin API is not open to other origins.
    let r = s.admin("GET", "/admin/apps?limit=1", None);
    r.expect(200);
    assert_eq!(r.header("access-control-allow-origin"), None);
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    // Error responses also carry the security headers and are not cached.
    let r = s.get("/nope");
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    r.expect_no_store();
}

/// A sweep of hostile inputs over every endpoint: each must get a 4xx JSON error
/// (the harness fails on any 5xx).
#[test]
fn hostile_requests_never_cause_server_errors() {
    let s = s();
    let app = s.trusted_app(&["public"]);
    let long = "A".repeat(10_000);
    let auths: Vec<String> = vec![
        "Basic".into(),
        "Basic ".into(),
        "Basic !!!".into(),
        format!("Basic {}", b64url(b"no-colon")),
        format!("Basic {}", base64_std(b"\xff\xfe:\xff")),
        format!("Basic {}", base64_std(format!("{}:", app.id).as_bytes())),
        format!("Basic {}", base64_std(format!(":{}", app.secret()).as_bytes())),
        format!("Basic {}", base64_std(format!("{long}:{long}").as_bytes())),
        format!("Basic {}", base64_std(b"%zz:%")),
        "Bearer".into(),
        "Bearer ".into(),
        "Bearer a.b.c".into(),
        format!("Bearer {long}"),
        format!("Bearer {}.{}.", b64url(b"{}"), b64url(b"{}")),
        "Digest x".into(),
    ];
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        (
            "application/x-www-form-urlencoded",
            b"grant_type=client_credentials".to_vec(),
        ),
        (
            "application/x-www-form-urlencoded",
            b"token=abc&token_type_hint=x".to_vec(),
        ),
        (
            "application/x-www-form-urlencoded",
            format!("grant_type={JWT_BEARER}&assertion=a.b.c").into_bytes(),
        ),
        ("application/x-www-form-urlencoded", b"&&&===&=".to_vec()),
        (
            "application/json",
            br#"{"token":"x","client_id":5,"client_secret":true}"#.to_vec(),
        ),
        ("application/json", br#"{"token":null}"#.to_vec()),
    ];
    let paths = [
        "/oauth/token",
        "/oauth/introspect",
        "/oauth/revoke",
        "/oauth/userinfo",
    ];
    for path in paths {
        for a in &auths {
            for (ct, body) in &bodies {
                let r = s.post_raw(path, &[("content-type", ct), ("authorization", a)], body);
                assert!(
                    (400..500).contains(&r.status),
                    "{path} with {a:.40} and {ct}: {} {}",
                    r.status,
                    r.text()
                );
                r.json();
            }
        }
    }
    let r = s.get_with("/oauth/userinfo?access_token=x&client_id=%ff", &[]);
    assert!((400..500).contains(&r.status));
    for a in &auths {
        let r = s.request(
            "POST",
            "/application/token",
            Req {
                headers: &[("authorization", a)],
                body: None,
                ..Default::default()
            },
        );
        assert!((400..500).contains(&r.status), "{a:.40}: {}", r.status);
        r.json();
        for path in ["/admin/apps", "/admin/apps/x", "/admin/apps/../apps"] {
            let r = s.get_with(path, &[("authorization", a)]);
            assert!((400..500).contains(&r.status), "{path} {a:.40}: {}", r.status);
        }
    }
    // Odd app ids at the admin API.
    // `/admin/apps/..` is `/admin/` once the URL is resolved: the operator console's address,
    // which answers with its sign-in (no app, no server error).
    let r = s.admin("GET", "/admin/apps/..", None);
    assert!(matches!(r.status, 303 | 404), "/admin/apps/..: {}", r.status);
    for id in ["x", "%00", "%ff", &"a".repeat(300), "app%3Aother", "a%2Fb"] {
        s.admin("GET", &format!("/admin/apps/{id}"), None)
            .expect_error(404, "not_found");
        s.admin("DELETE", &format!("/admin/apps/{id}"), None)
            .expect_error(404, "not_found");
        s.admin("POST", &format!("/admin/apps/{id}/secret"), None)
            .expect_error(404, "not_found");
    }
}

fn base64_std(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// A bug that panics in Rust still answers as a protocol error: a JSON 500 (never a hang or a
/// stack trace), and the next request is served by a fresh wasm instance. The panic comes from
/// a development-only route; the harness's own client refuses 5xx, so a plain agent is used.
#[test]
fn a_panic_answers_json_500_and_the_server_recovers() {
    let s = Server::shared();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let started = std::time::Instant::now();
    let mut r = agent
        .get(&s.url("/__bench/panic"))
        .call()
        .expect("an answer, not a hang");
    assert_eq!(r.status().as_u16(), 500);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "answered promptly"
    );
    assert!(r
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let v: serde_json::Value = serde_json::from_slice(&r.body_mut().read_to_vec().unwrap()).unwrap();
    assert_eq!(v["error"], "server_error");
    assert!(!v.to_string().contains("router.rs"), "no internals leak: {v}");
    s.get("/.well-known/jwks.json").expect(200);
    // wrangler relays the worker's console output asynchronously.
    let logged = (0..50).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        s.log().contains("deliberate panic")
    });
    assert!(logged, "the panic is logged");
}

/// Issue 19 ("logs that explain failures"): every response carries a request id, and the
/// request's log line names it beside the error code and the authenticated client.
#[test]
fn every_response_has_a_request_id_its_log_line_names_with_error_and_client() {
    let s = s();
    let app = s.trusted_app(&["public"]);
    let r = s.cc_basic(&app.id, "w".repeat(32).as_str(), None);
    r.expect(401);
    let id = r.header("x-request-id").expect("x-request-id").to_owned();
    assert!(id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    let ok = s.cc_basic(&app.id, app.secret(), None);
    ok.expect(200);
    let ok_id = ok.header("x-request-id").expect("x-request-id").to_owned();
    assert_ne!(id, ok_id, "each request has its own id");
    let find = |id: &str| -> serde_json::Value {
        for _ in 0..50 {
            if let Some(l) = s.log().lines().find(|l| l.contains(&format!("\"request_id\":\"{id}\""))) {
                return serde_json::from_str(l).expect("a JSON log line");
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("no log line names request {id}");
    };
    let failed = find(&id);
    assert_eq!(failed["error"], "invalid_client", "{failed}");
    assert_eq!(failed["status"], 401);
    assert_eq!(failed["path"], "/oauth/token");
    assert!(failed["ms"].is_u64());
    let served = find(&ok_id);
    assert_eq!(served["client_id"], app.id.as_str(), "{served}");
    assert!(served.get("error").is_none(), "{served}");
}
