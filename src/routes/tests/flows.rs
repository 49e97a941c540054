//! Whole flows through the router over the in-memory platform: the same code paths as
//! workerd, minus the I/O.

use super::support::*;
use crate::config::{Config, Secret};
use crate::platform::memory::block_on;
use crate::util::{b64url, sha256};
use serde_json::Value;

/// The consent form's body: the authorization request's own parameters, the CSRF token and the
/// person's `decision`.
fn consent_form(authz: &str, csrf: &str, decision: &str) -> String {
    let (_, query) = authz.split_once('?').unwrap();
    format!("{query}&{}", form(&[("csrf", csrf), ("decision", decision)]))
}

#[test]
fn authorization_code_with_pkce_refresh_and_userinfo() {
    let p = platform();
    let app = create_app(
        &p,
        serde_json::json!({"name": "Native", "redirect_uris": ["com.example.app:/cb"], "token_endpoint_auth_method": "none", "scopes": ["public", "users:read"]}),
    );
    let client_id = app["client_id"].as_str().unwrap().to_owned();
    assert!(app.get("client_secret").is_none());
    let verifier = "A1".repeat(30);
    let challenge = b64url(&sha256(verifier.as_bytes()));
    let authz = format!(
        "/oauth/authorize?{}",
        form(&[
            ("response_type", "code"),
            ("client_id", &client_id),
            ("redirect_uri", "com.example.app:/cb"),
            ("scope", "public users:read"),
            ("state", "st<>&"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
    );
    let mut b = Browser { cookies: vec![] };
    // Not signed in → log-in page, then sign up.
    let r = b.get(&p, &authz);
    assert_eq!(r.status, 303);
    let login = r.get_header("location").unwrap().to_owned();
    assert!(login.starts_with("/login?return_to="));
    let page = b.get(&p, &login);
    let csrf = csrf_of(&page);
    // Both forms carry the request to return to and the password.
    let back = |csrf: &str, email: &str, more: &[(&str, &str)]| {
        let mut pairs = vec![("csrf", csrf), ("return_to", &authz), ("email", email)];
        pairs.push(("password", "hunter2hunter2"));
        pairs.extend_from_slice(more);
        form(&pairs)
    };
    let r = b.post(&p, "/signup", &back(&csrf, "Ann@Example.com", &[("name", "Ann <b>")]));
    // Sign-up answers with the log-in form (never a session: issue 13 item 16).
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.get_header("set-cookie").is_none_or(|c| !c.contains("portcullis_session=")));
    let r = b.post(&p, "/login", &back(&csrf_of(&r), "ann@example.com", &[]));
    assert_eq!(r.status, 303, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.get_header("location").unwrap(), authz);
    // Consent page names the app and escapes the person's name.
    let page = b.get(&p, &authz);
    assert_eq!(page.status, 200);
    let html = String::from_utf8_lossy(&page.body).into_owned();
    assert!(html.contains("Native") && html.contains("Ann &lt;b&gt;") && !html.contains("Ann <b>"));
    assert!(page
        .get_header("content-security-policy")
        .unwrap()
        .contains("frame-ancestors 'none'"));
    let csrf = csrf_of(&page);
    let body = consent_form(&authz, &csrf, "allow");
    // A forged CSRF token is refused.
    let forged = body.replace(&csrf, "x".repeat(43).as_str());
    assert_eq!(b.post(&p, "/oauth/authorize", &forged).status, 403);
    let r = b.post(&p, "/oauth/authorize", &body);
    assert_eq!(r.status, 302);
    let loc = r.get_header("location").unwrap().to_owned();
    assert!(loc.starts_with("com.example.app:/cb?code="));
    assert_eq!(query_param(&loc, "state").as_deref(), Some("st<>&"));
    assert_eq!(query_param(&loc, "iss").as_deref(), Some(ORIGIN));
    let code = query_param(&loc, "code").unwrap();
    // The code redeemed with a verifier (a form body for `token`).
    let redeem_with = |code: &str, verifier: &str| {
        form(&[
            ("grant_type", "authorization_code"),
            ("client_id", &client_id),
            ("code", code),
            ("redirect_uri", "com.example.app:/cb"),
            ("code_verifier", verifier),
        ])
    };
    // Wrong verifier burns the code.
    let bad = token(&p, &redeem_with(&code, &"B2".repeat(30)));
    assert_eq!(json(&bad)["error"], "invalid_grant");
    // A public client (this one) sees the consent page every time (RFC 8252 §8.6): remembered
    // consent never issues its codes silently.
    let page = b.get(&p, &authz);
    assert_eq!(page.status, 200);
    let r = b.post(&p, "/oauth/authorize", &consent_form(&authz, &csrf_of(&page), "allow"));
    assert_eq!(r.status, 302);
    let code = query_param(r.get_header("location").unwrap(), "code").unwrap();
    let redeem = redeem_with(&code, &verifier);
    let r = token(&p, &redeem);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let t = json(&r);
    assert_eq!(t["scope"], "public users:read");
    assert_eq!(r.get_header("cache-control"), Some("no-store"));
    let access = t["access_token"].as_str().unwrap().to_owned();
    let refresh = t["refresh_token"].as_str().unwrap().to_owned();
    // Userinfo with the header; refused in the query; 403 for another client_id.
    let r = with_bearer(&p, "GET", "/oauth/userinfo", &access);
    assert_eq!(r.status, 200);
    // Claims follow the granted scopes (public users:read): the name, never the email.
    assert_eq!(json(&r)["name"], "Ann <b>");
    assert!(json(&r).get("email").is_none(), "{}", json(&r));
    let r = with_bearer(&p, "GET", &format!("/oauth/v2/user?client_id={}", "x".repeat(32)), &access);
    assert_eq!(r.status, 403);
    let r = send(&p, req("GET", &format!("/oauth/userinfo?access_token={access}"), &[], ""));
    assert_eq!(r.status, 400);
    // Refresh rotates; narrowing works, widening does not.
    let refresh_grant = |token: &str, extra: &[(&str, &str)]| {
        let mut pairs =
            vec![("grant_type", "refresh_token"), ("client_id", &client_id), ("refresh_token", token)];
        pairs.extend_from_slice(extra);
        token_with(&p, &pairs, &[])
    };
    let r = refresh_grant(&refresh, &[("scope", "public")]);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let t2 = json(&r);
    assert_eq!(t2["scope"], "public");
    let refresh2 = t2["refresh_token"].as_str().unwrap().to_owned();
    // Replaying the code revokes every token from it.
    assert_eq!(json(&token(&p, &redeem))["error"], "invalid_grant");
    let r = with_bearer(&p, "GET", "/oauth/userinfo", &access);
    assert_eq!(r.status, 401);
    let r = refresh_grant(&refresh2, &[]);
    assert_eq!(json(&r)["error"], "invalid_grant");
}

#[test]
fn authorization_errors_never_redirect_to_unregistered_uris() {
    let p = platform();
    let app = create_app(
        &p,
        serde_json::json!({"name": "Web", "redirect_uris": ["https://web.example/cb"]}),
    );
    let id = app["client_id"].as_str().unwrap();
    let mut b = Browser { cookies: vec![] };
    for q in [
        form(&[
            ("response_type", "code"),
            ("client_id", id),
            ("redirect_uri", "https://evil.example/cb"),
        ]),
        form(&[
            ("response_type", "code"),
            ("client_id", &"u".repeat(32)),
            ("redirect_uri", "https://web.example/cb"),
        ]),
        format!(
            "{}&client_id={id}",
            form(&[("response_type", "code"), ("client_id", id)])
        ),
    ] {
        let r = b.get(&p, &format!("/oauth/authorize?{q}"));
        assert_eq!(r.status, 400, "{q}");
        assert!(r.get_header("location").is_none());
    }
    let r = b.get(
        &p,
        &format!(
            "/oauth/authorize?{}",
            form(&[("response_type", "token"), ("client_id", id), ("state", "s")])
        ),
    );
    assert_eq!(r.status, 302);
    let loc = r.get_header("location").unwrap();
    assert!(loc.starts_with("https://web.example/cb?error=unsupported_response_type"));
    assert_eq!(query_param(loc, "state").as_deref(), Some("s"));
}

#[test]
fn password_grant_only_when_allowed_and_rate_limited() {
    let p = platform();
    let allowed = create_app(
        &p,
        serde_json::json!({"name": "Pw", "grant_types": ["password", "refresh_token"], "scopes": ["public"]}),
    );
    let other = create_app(
        &p,
        serde_json::json!({"name": "NoPw", "grant_types": ["authorization_code"], "redirect_uris": ["https://x.example/cb"]}),
    );
    block_on(crate::accounts::sign_up(
        &p,
        "bob@example.com",
        "correct horse",
        "Bob",
    ))
    .unwrap();
    let pw = |app: &Value, password: &str| {
        token(
            &p,
            &form(&[
                ("grant_type", "password"),
                ("client_id", app["client_id"].as_str().unwrap()),
                ("client_secret", app["client_secret"].as_str().unwrap()),
                ("username", "BOB@example.com"),
                ("password", password),
            ]),
        )
    };
    let r = pw(&allowed, "correct horse");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(json(&r)["scope"], "public");
    assert!(json(&r)["refresh_token"].is_string());
    assert_eq!(json(&pw(&other, "correct horse"))["error"], "unauthorized_client");
    for _ in 0..10 {
        assert_eq!(json(&pw(&allowed, "wrong password"))["error"], "invalid_grant");
    }
    let r = pw(&allowed, "correct horse");
    assert_eq!(r.status, 429);
    assert!(r.get_header("retry-after").is_some());
}

#[test]
fn sign_up_is_unique_per_email_case_insensitively() {
    let p = platform();
    block_on(crate::accounts::sign_up(
        &p,
        "Eve@Example.com",
        "plum-kettle-42",
        "Eve",
    ))
    .unwrap();
    // The second sign-up creates nothing (and its caller answers it like a new account).
    assert_eq!(
        block_on(crate::accounts::sign_up(
            &p,
            " eve@example.COM ",
            "password456",
            "Eve 2"
        ))
        .unwrap(),
        None
    );
    // Look-alike forms are one address: fullwidth letters fold to ASCII under NFKC.
    assert_eq!(
        block_on(crate::accounts::sign_up(&p, "ｅｖｅ@example.com", "password456", "Eve 3")).unwrap(),
        None
    );
    // Invisible and bidi control characters are refused outright.
    for bad in ["e\u{200b}ve@example.com", "eve\u{202e}@example.com", "\u{feff}eve@example.com"] {
        assert!(block_on(crate::accounts::sign_up(&p, bad, "password456", "Eve")).is_err(), "{bad:?}");
    }
    assert!(block_on(crate::accounts::sign_up(&p, "x@example.com", "password456", "Ev\u{202e}e")).is_err());
    assert!(block_on(crate::accounts::sign_up(&p, "short@example.com", "short", "S")).is_err());
}

#[test]
fn rfc7591_and_7592_round_trip() {
    let p = platform();
    let meta = serde_json::json!({
        "redirect_uris": ["https://client.example/cb"], "client_name": "Dyn", "grant_types": ["authorization_code", "refresh_token"],
        "scope": "public", "contacts": ["dev@client.example"], "unknown_field": 1
    });
    let r = register(&p, None, &meta);
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let reg = json(&r);
    let id = reg["client_id"].as_str().unwrap().to_owned();
    assert_eq!(reg["client_secret"].as_str().unwrap().len(), 32);
    assert_eq!(reg["client_secret_expires_at"], 0);
    let rat = reg["registration_access_token"].as_str().unwrap().to_owned();
    let uri = reg["registration_client_uri"]
        .as_str()
        .unwrap()
        .trim_start_matches(ORIGIN)
        .to_owned();
    let r = with_bearer(&p, "GET", &uri, &rat);
    assert_eq!(r.status, 200);
    assert_eq!(json(&r)["client_name"], "Dyn");
    assert_eq!(with_bearer(&p, "GET", &uri, "wrong").status, 401);
    let mut upd = meta.clone();
    upd["client_id"] = id.clone().into();
    upd["client_name"] = "Renamed".into();
    let r = send(&p, json_req("PUT", &uri, Some(&rat), &upd));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(json(&r)["client_name"], "Renamed");
    // Invalid metadata names the field; bad redirect URIs have their own code.
    let metadata = "invalid_client_metadata";
    for (meta, error) in [
        (serde_json::json!({"redirect_uris": ["http://evil.example/cb"]}), "invalid_redirect_uri"),
        (serde_json::json!({"redirect_uris": ["https://a.example/cb"], "scope": "root"}), metadata),
        (serde_json::json!({"redirect_uris": "https://a.example/cb"}), metadata),
        (serde_json::json!({"grant_types": ["client_credentials"]}), metadata),
    ] {
        assert_eq!(json(&register(&p, None, &meta))["error"], error, "{meta}");
    }
    // Delete: the app is gone and its registration token with it.
    assert_eq!(with_bearer(&p, "DELETE", &uri, &rat).status, 204);
    assert_eq!(with_bearer(&p, "GET", &uri, &rat).status, 401);
}

#[test]
fn registration_policy_token_and_off() {
    let mut cfg = Config::default();
    cfg.registration_policy = "token".into();
    cfg.initial_access_token = Some(Secret("iat-123".into()));
    cfg.public_client_registration = false;
    let p = platform_with(cfg);
    let meta = serde_json::json!({"redirect_uris": ["https://client.example/cb"]});
    assert_eq!(register(&p, None, &meta).status, 401);
    assert_eq!(register(&p, Some("iat-124"), &meta).status, 401);
    assert_eq!(register(&p, Some("iat-123"), &meta).status, 201);
    let public =
        serde_json::json!({"redirect_uris": ["com.example.app:/cb"], "token_endpoint_auth_method": "none"});
    let r = register(&p, Some("iat-123"), &public);
    assert_eq!(json(&r)["error"], "invalid_client_metadata");
    let mut cfg = Config::default();
    cfg.registration_policy = "off".into();
    let p = platform_with(cfg);
    assert_eq!(register(&p, None, &meta).status, 403);
    let r = send(&p, req("GET", "/.well-known/oauth-authorization-server", &[], ""));
    assert!(json(&r).get("registration_endpoint").is_none());
}

#[test]
fn interactive_registration_register_deny_and_grant_access() {
    let p = platform();
    // Problems are listed, no redirect.
    let r = send(
        &p,
        req(
            "GET",
            "/oauth/register?name=&redirect_uri=http%3A%2F%2Fx.example%2Fcb",
            &[],
            "",
        ),
    );
    assert_eq!(r.status, 400);
    assert!(r.get_header("location").is_none());
    let html = String::from_utf8_lossy(&r.body).into_owned();
    assert!(
        html.contains("name is required") && html.contains("homepage is required") && html.contains("https")
    );
    let fields = [
        ("name", "My <App>"),
        ("homepage", "https://dev.example"),
        ("email", "dev@dev.example"),
        ("redirect_uri", "https://dev.example/cb"),
        ("state", "s1"),
    ];
    let start = format!("/oauth/register?{}", form(&fields));
    // An empty api= is not taken for the default: the API is an enumeration.
    let r = send(&p, req("GET", &format!("{start}&api="), &[], ""));
    assert_eq!(r.status, 400);
    assert!(String::from_utf8_lossy(&r.body).contains("api must be unifiedapi or systemapi"));
    let anon = send(&p, req("GET", &start, &[], ""));
    assert!(String::from_utf8_lossy(&anon.body).contains("Log in"));
    let mut b = signed_in(&p, "dev@dev.example");
    let page = b.get(&p, &start);
    assert_eq!(page.status, 200);
    assert!(String::from_utf8_lossy(&page.body).contains("My &lt;App&gt;"));
    let csrf = csrf_of(&page);
    let mut confirm: Vec<(&str, &str)> = fields.to_vec();
    confirm.push(("csrf", &csrf));
    confirm.push(("decision", "deny"));
    let r = b.post(&p, "/oauth/register/confirm", &form(&confirm));
    assert_eq!(r.status, 303);
    assert_eq!(
        r.get_header("location").unwrap(),
        "https://dev.example/cb?error=access_denied&state=s1"
    );
    confirm.pop();
    confirm.push(("decision", "register"));
    confirm.push(("grant_access", "yes"));
    let r = b.post(&p, "/oauth/register/confirm", &form(&confirm));
    assert_eq!(r.status, 303);
    assert_eq!(r.get_header("referrer-policy"), Some("no-referrer"));
    assert_eq!(r.get_header("cache-control"), Some("no-store"));
    let loc = r.get_header("location").unwrap().to_owned();
    assert!(loc.starts_with("https://dev.example/cb?name=My"));
    let id = query_param(&loc, "client_id").unwrap();
    let secret = query_param(&loc, "client_secret").unwrap();
    let code = query_param(&loc, "code").unwrap();
    assert_eq!(query_param(&loc, "state").as_deref(), Some("s1"));
    let r = token(
        &p,
        &form(&[
            ("grant_type", "authorization_code"),
            ("client_id", &id),
            ("client_secret", &secret),
            ("code", &code),
            ("redirect_uri", "https://dev.example/cb"),
        ]),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
}

#[test]
fn apps_page_add_regenerate_remove() {
    let p = platform();
    let mut b = signed_in(&p, "owner@dev.example");
    let other = signed_in(&p, "other@dev.example");
    let page = b.get(&p, "/apps");
    assert_eq!(page.status, 200);
    let csrf = csrf_of(&page);
    let add = [("csrf", csrf.as_str()), ("name", "Mine"), ("redirect_uri", "https://mine.example/cb")];
    let r = b.post(&p, "/apps", &form(&[&add[..], &[("trusted", "yes")]].concat()));
    // Issue 13 item 2: only operators make apps trusted.
    assert_eq!(r.status, 400);
    assert!(String::from_utf8_lossy(&r.body).contains("only operators"));
    assert!(!String::from_utf8_lossy(&b.get(&p, "/apps").body).contains("name=\"trusted\""));
    let r = b.post(&p, "/apps", &form(&add));
    assert_eq!(r.status, 200);
    let html = String::from_utf8_lossy(&r.body).into_owned();
    let grab = |id: &str| {
        let at = html.find(&format!(r#"<code id="{id}">"#)).unwrap() + id.len() + 12;
        html[at..].split('<').next().unwrap().to_owned()
    };
    let (id, secret) = (grab("app-id"), grab("app-secret"));
    assert_eq!((id.len(), secret.len()), (32, 32));
    let cc = |s: &str| client_credentials(&p, &id, s, &[]);
    // A person's app is self-service: no machine grant until an operator approves it, and
    // the page says so.
    assert!(html.contains("wait for an operator"));
    assert_eq!(json(&cc(&secret))["error"], "unauthorized_client");
    let patch = |body: Value| admin(&p, "PATCH", &format!("/admin/apps/{id}"), Some(&body));
    assert_eq!(patch(serde_json::json!({"trusted": true})).status, 400, "trusted needs approval first");
    assert_eq!(patch(serde_json::json!({"approved": true, "trusted": true})).status, 200);
    let t = json(&cc(&secret))["access_token"].as_str().unwrap().to_owned();
    // Someone else cannot touch it; the owner must confirm.
    let mut other = other;
    let ocsrf = csrf_of(&other.get(&p, "/apps"));
    assert_eq!(
        other
            .post(
                &p,
                &format!("/apps/{id}/regenerate"),
                &form(&[("csrf", &ocsrf), ("confirm", "yes")])
            )
            .status,
        404
    );
    let r = b.post(&p, &format!("/apps/{id}/regenerate"), &form(&[("csrf", &csrf)]));
    assert!(String::from_utf8_lossy(&r.body).contains("Please confirm"));
    assert_eq!(cc(&secret).status, 200, "nothing changed before confirmation");
    let r = b.post(
        &p,
        &format!("/apps/{id}/regenerate"),
        &form(&[("csrf", &csrf), ("confirm", "yes")]),
    );
    assert!(String::from_utf8_lossy(&r.body).contains("app-secret"));
    assert_eq!(cc(&secret).status, 401);
    let r = post_form(&p, "/oauth/introspect", &[("token", &t)], &[("authorization", "Bearer admin-secret")]);
    assert_eq!(json(&r)["active"], false);
    let r = b.post(
        &p,
        &format!("/apps/{id}/remove"),
        &form(&[("csrf", &csrf), ("confirm", "yes")]),
    );
    assert_eq!(r.status, 303);
    assert!(!String::from_utf8_lossy(&b.get(&p, "/apps").body).contains(&id));
}

#[test]
fn gateway_checks_tokens_scopes_and_liveness_before_the_origin() {
    let mut cfg = Config::default();
    cfg.admin_token = Some(Secret("admin-secret".into()));
    cfg.gateway_routes = crate::gateway::parse_routes(
        r#"[{"prefix":"/api/users","methods":["GET"],"scopes":["users:read"],"origin":"http://127.0.0.1:9999"},{"prefix":"/api/write","scopes":["users:write"],"origin":"http://127.0.0.1:9999/base/"}]"#,
    )
    .unwrap();
    let p = platform_with(cfg);
    let app = create_app(
        &p,
        serde_json::json!({"name": "M2M", "trusted": true, "scopes": ["users:read", "users:write"]}),
    );
    let (id, secret) = credentials(&app);
    let (id, secret) = (id.as_str(), secret.as_str());
    let tok = |scope: &str| {
        let r = client_credentials(&p, id, secret, &[("scope", scope)]);
        json(&r)["access_token"].as_str().unwrap().to_owned()
    };
    let read = tok("users:read");
    // No token: 401 with a bare Bearer challenge naming the scope; origin never contacted.
    let r = send(&p, req("GET", "/api/users/1", &[], ""));
    assert_eq!(r.status, 401);
    assert!(r
        .get_header("www-authenticate")
        .unwrap()
        .contains("scope=\"users:read\""));
    // Wrong scope: 403 insufficient_scope.
    let r = with_bearer(&p, "POST", "/api/write/x", &read);
    assert_eq!(r.status, 403);
    assert!(r
        .get_header("www-authenticate")
        .unwrap()
        .contains("insufficient_scope"));
    // Forged token: 401 invalid_token.
    let forged = format!("{}x", &read[..read.len() - 1]);
    assert_eq!(with_bearer(&p, "GET", "/api/users/1", &forged).status, 401);
    assert_eq!(with_bearer(&p, "POST", "/api/users/1", &read).status, 405);
    assert!(p.origin_requests.borrow().is_empty());
    // Good token: forwarded with identity headers; client-sent ones stripped.
    let r = send(
        &p,
        req(
            "GET",
            "/api/users/1?q=2",
            &[
                ("authorization", &format!("Bearer {read}")),
                ("x-auth-subject", "admin"),
            ],
            "",
        ),
    );
    assert_eq!(r.status, 200);
    {
        let sent = p.origin_requests.borrow();
        let (url, fwd) = &sent[0];
        assert_eq!(url, "http://127.0.0.1:9999/api/users/1?q=2");
        assert!(fwd.header("authorization").is_none());
        let subjects: Vec<_> = fwd
            .headers
            .iter()
            .filter(|(k, _)| k == "x-auth-subject")
            .collect();
        assert_eq!(subjects.len(), 1);
        assert_eq!(subjects[0].1, id);
        assert_eq!(fwd.header("x-auth-scope"), Some("users:read"));
    }
    // Revocation reaches the gateway once the cached answer is older than the bound.
    let r = post_form(
        &p,
        "/oauth/revoke",
        &[("client_id", id), ("client_secret", secret), ("token", &read)],
        &[],
    );
    assert_eq!(r.status, 200);
    assert_eq!(with_bearer(&p, "GET", "/api/users/1", &read).status, 200);
    p.advance(31);
    assert_eq!(with_bearer(&p, "GET", "/api/users/1", &read).status, 401);
    let r = send(&p, req("GET", "/.well-known/oauth-protected-resource", &[], ""));
    assert_eq!(
        json(&r)["scopes_supported"],
        serde_json::json!(["users:read", "users:write"])
    );
}

#[test]
fn token_endpoint_and_registration_are_rate_limited() {
    let mut cfg = Config::default();
    cfg.admin_token = Some(Secret("admin-secret".into()));
    cfg.token_rate_limit = 3;
    cfg.registration_rate_limit = 2;
    let p = platform_with(cfg);
    let app = create_app(&p, serde_json::json!({"name": "Busy", "trusted": true}));
    let body = form(&[
        ("grant_type", "client_credentials"),
        ("client_id", app["client_id"].as_str().unwrap()),
        ("client_secret", app["client_secret"].as_str().unwrap()),
    ]);
    for _ in 0..3 {
        assert_eq!(token(&p, &body).status, 200);
    }
    let r = token(&p, &body);
    assert_eq!(r.status, 429);
    assert_eq!(json(&r)["error"], "rate_limited");
    assert!(r.get_header("retry-after").is_some());
    p.advance(60);
    assert_eq!(token(&p, &body).status, 200);
    let meta = serde_json::json!({"redirect_uris": ["https://client.example/cb"]});
    for status in [201, 201, 429] {
        assert_eq!(register(&p, None, &meta).status, status);
    }
}

/// Issue 13 (code review): when the platform's generator fails, nothing is minted from
/// predictable bytes: the request fails (a 500 with a fixed text, the detail only in the log).
#[test]
fn broken_randomness_fails_closed_and_5xx_hide_details() {
    let p = platform();
    let app = create_app(
        &p,
        serde_json::json!({"name": "M2M", "trusted": true, "scopes": ["public"]}),
    );
    let (id, secret) = credentials(&app);
    let cc = || client_credentials(&p, &id, &secret, &[]);
    p.broken_random.set(true);
    let r = cc();
    assert_eq!(r.status, 500);
    assert_eq!(json(&r)["error_description"], "internal error; it has been logged");
    assert!(json(&r).get("access_token").is_none());
    assert_eq!(r.get_header("x-content-type-options"), Some("nosniff"));
    assert!(p
        .audit_log
        .borrow()
        .iter()
        .any(|e| e["detail"] == "randomness unavailable"));
    p.broken_random.set(false);
    let r = cc();
    assert_eq!(r.status, 200);
}

/// Issue 13 item 12: a client sees its own tokens; another client's only with the operator's
/// `introspection` permission (RFC 7662 §4).
#[test]
fn introspection_is_limited_to_the_tokens_client_or_permitted_apps() {
    let p = platform();
    let make = || {
        credentials(&create_app(&p, serde_json::json!({"name": "M", "trusted": true, "scopes": ["public"]})))
    };
    let ((a, a_secret), (b, b_secret)) = (make(), make());
    let r = client_credentials(&p, &a, &a_secret, &[]);
    let t = json(&r)["access_token"].as_str().unwrap().to_owned();
    let ask = |id: &str, secret: &str| {
        let pairs = [("token", t.as_str()), ("client_id", id), ("client_secret", secret)];
        json(&post_form(&p, "/oauth/introspect", &pairs, &[]))
    };
    assert_eq!(ask(&a, &a_secret)["active"], true);
    assert_eq!(ask(&b, &b_secret), serde_json::json!({"active": false}));
    let permit = serde_json::json!({"introspection": true});
    let r = admin(&p, "PATCH", &format!("/admin/apps/{b}"), Some(&permit));
    assert_eq!(r.status, 200);
    assert_eq!(ask(&b, &b_secret)["client_id"], a.as_str());
}
