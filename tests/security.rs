//! Issue 13 end to end against `wrangler dev`: each hole an outside review found, attacked the
//! way it was found (raw HTTP, races, a stranger's requests), with the fix's answer asserted.
//! Items are numbered as in the issue.

#[path = "browser/mod.rs"]
mod browser;
mod common;

use browser::*;
use common::*;
use std::sync::OnceLock;
use std::time::Duration;

fn s() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| Server::start_with(&roomy_vars()))
}

/// A plain agent that hands back 5xx answers (the harness's own client fails on them).
fn plain_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

// ---------------------------------------------------------------------------------------------
// 1. No panic on any header byte; a panic ends only its own request
// ---------------------------------------------------------------------------------------------

#[test]
fn item1_non_ascii_authorization_bytes_are_protocol_errors_not_500() {
    let s = s();
    let mut heads: Vec<Vec<u8>> = Vec::new();
    for value in [&b"Basic\xe9AAAA"[..], b"Basic \xe9\xe9", b"\xff\xfe", b"Basic\x80", b"Bearer \xe9x", b"B\xc3\xa9sic abc"] {
        for path in ["/oauth/token", "/oauth/introspect", "/oauth/revoke", "/application/token", "/oauth/userinfo"] {
            let mut h = format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nAuthorization: ").into_bytes();
            h.extend_from_slice(value);
            h.extend_from_slice(b"\r\n");
            heads.push(h);
        }
    }
    for h in &heads {
        let (status, body) = raw_http(s, h, b"grant_type=client_credentials&token=x");
        assert!(
            (400..500).contains(&status),
            "{:?} → {status} {body}",
            String::from_utf8_lossy(h)
        );
    }
    // The exact input of the report answers 401 invalid_client at the token endpoint.
    let mut h = b"POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nAuthorization: Basic\xe9AAAA\r\n".to_vec();
    let (status, body) = raw_http(s, &h, b"grant_type=client_credentials");
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("invalid_client"), "{body}");
    // Other headers too: any byte in a cookie, content type or made-up header.
    h = b"POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\xe9\r\nCookie: portcullis_session=\xe9\xff\r\nX-\xe9: \xe9\r\n".to_vec();
    let (status, _) = raw_http(s, &h, b"grant_type=client_credentials");
    assert!((400..500).contains(&status), "{status}");
    // The only panics in the log are the deliberate ones of the development route (another
    // test here provokes them on purpose).
    let log = s.log();
    let panics: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("panicked at") && !l.contains("src/routes/mod.rs"))
        .collect();
    assert!(panics.is_empty(), "the worker panicked: {panics:?}");
}

/// Before the fix, one panic failed every request in flight in the isolate. Now it ends only
/// its own request: racing panics (a development-only route) and token requests, every token
/// request still succeeds.
#[test]
fn item1_a_panic_fails_only_its_own_request() {
    let s = s();
    let app = s.trusted_app(&["public"]);
    let agent = plain_agent();
    let auth = basic(&app.id, app.secret());
    let results = concurrently(24, |i| {
        if i % 2 == 0 {
            let r = agent.get(&s.url("/__bench/panic")).call().expect("an answer");
            (true, r.status().as_u16())
        } else {
            let r = agent
                .post(&s.url("/oauth/token"))
                .header("authorization", &auth)
                .header("content-type", "application/x-www-form-urlencoded")
                .send("grant_type=client_credentials")
                .expect("an answer");
            (false, r.status().as_u16())
        }
    });
    for (panicked, status) in &results {
        if *panicked {
            assert_eq!(*status, 500);
        } else {
            assert_eq!(*status, 200, "a token request failed beside a panic: {results:?}");
        }
    }
    s.get("/.well-known/jwks.json").expect(200);
}

// ---------------------------------------------------------------------------------------------
// 2. Self-service apps: the self-service scope set, no machine grant until approved
// ---------------------------------------------------------------------------------------------

#[test]
fn item2_open_registration_cannot_mint_privileged_bot_tokens() {
    let s = s();
    let key = test_key(0);
    let meta = |scope: &str| {
        json!({
            "client_name": "self-made bot",
            "grant_types": [JWT_BEARER],
            "response_types": [],
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks": {"keys": [key.public_jwk()]},
            "scope": scope,
        })
    };
    // The attack as reported: any catalogue scope, its own keys, the jwt-bearer grant.
    let r = s.post_json("/oauth/register", &meta("users:write"));
    r.expect_error(400, "invalid_client_metadata");
    // Within the self-service set it registers, but mints nothing until an operator approves;
    // operator-only fields in the metadata are ignored.
    let mut body = meta("public");
    for k in ["approved", "trusted", "introspection", "self_service"] {
        body[k] = json!(k != "self_service");
    }
    let reg = s.post_json("/oauth/register", &body).expect_json(201);
    let id = reg["client_id"].as_str().unwrap();
    let stored = s.get_app(id);
    for (k, v) in [("approved", false), ("trusted", false), ("introspection", false), ("self_service", true)] {
        assert_eq!(stored[k], v, "{k} in {stored}");
    }
    let at = s.app_token(&key.sign(&app_claims(id, None)));
    at.expect_error(401, "invalid_token");
    assert!(at.text().contains("operator"), "{}", at.text());
    let aud = format!("{}/oauth/token", s.issuer());
    s.jwt_bearer(&key.sign(&app_claims(id, Some(&aud))))
        .expect_error(400, "unauthorized_client");
    // The client cannot widen its scopes by RFC 7592 either.
    let rat = reg["registration_access_token"].as_str().unwrap();
    let mut put = reg.clone();
    put["scope"] = "public users:write".into();
    for k in ["registration_access_token", "registration_client_uri", "client_id_issued_at", "client_secret_expires_at"] {
        put.as_object_mut().unwrap().remove(k);
    }
    let path = format!("/oauth/register/{id}");
    s.request(
        "PUT",
        &path,
        Req {
            headers: &[("authorization", &bearer(rat)), ("content-type", "application/json")],
            body: Some(put.to_string().as_bytes()),
            ..Default::default()
        },
    )
    .expect_error(400, "invalid_client_metadata");
    // An operator approves (and may widen): now it works.
    s.patch_app(id, json!({"approved": true, "scopes": ["public", "users:read"]}))
        .expect(200);
    let t = s.app_token(&key.sign(&app_claims(id, None))).expect_json(200);
    assert_eq!(t["scope"], "public users:read");
}

#[test]
fn item2_a_signed_up_person_cannot_make_a_trusted_app() {
    let s = s();
    let (b, _) = Browser::signed_up(s, "trust");
    let page = b.get("/apps");
    page.expect(200);
    assert!(!page.text().contains("name=\"trusted\""), "the box is offered to a person");
    let r = b.submit(
        &page,
        "/apps",
        &[("name", "Sneaky"), ("redirect_uri", "https://sneaky.example/cb"), ("trusted", "yes")],
    );
    r.expect(400);
    assert!(r.text().contains("only operators"), "{}", r.text());
    // Without the box: created, but client_credentials is refused.
    let r = b.submit(&page, "/apps", &[("name", "Honest"), ("redirect_uri", "https://honest.example/cb")]);
    r.expect(200);
    let html = r.text();
    let grab = |id: &str| {
        let at = html.find(&format!(r#"<code id="{id}">"#)).unwrap() + id.len() + 12;
        html[at..].split('<').next().unwrap().to_owned()
    };
    let (id, secret) = (grab("app-id"), grab("app-secret"));
    s.cc_basic(&id, &secret, None).expect_error(400, "unauthorized_client");
    let app = s.get_app(&id);
    assert_eq!((app["self_service"].as_bool(), app["trusted"].as_bool()), (Some(true), Some(false)));
}

// ---------------------------------------------------------------------------------------------
// 3. Assertion lifetime in checked arithmetic
// ---------------------------------------------------------------------------------------------

#[test]
fn item3_an_assertion_that_never_expires_is_refused() {
    let s = s();
    let key = test_key(1);
    let app = s.keyed_app(key, json!({}));
    let forever = |aud: Option<&str>| {
        let mut c = app_claims(&app.id, aud);
        c["iat"] = json!(i64::MIN);
        c["exp"] = json!(i64::MAX);
        key.sign(&c)
    };
    let r = s.app_token(&forever(None));
    r.expect_error(401, "invalid_token");
    let aud = format!("{}/oauth/token", s.issuer());
    s.jwt_bearer(&forever(Some(&aud))).expect_error(400, "invalid_grant");
    // A normal one still works.
    s.app_token(&key.sign(&app_claims(&app.id, None))).expect(200);
}

// ---------------------------------------------------------------------------------------------
// 4 and 5. Identifiers normalised once; limits check-and-count atomically
// ---------------------------------------------------------------------------------------------

#[test]
fn item4_padding_and_look_alikes_share_one_account_limit() {
    let s = s();
    // The limits count in fixed one-minute windows: every attempt must land in one.
    at_start_of_a_window(Duration::from_secs(20));
    let (_, p) = Browser::signed_up(s, "pad");
    let b = Browser::new(s);
    let upper = p.email.to_uppercase();
    let fullwidth: String = p
        .email
        .chars()
        .map(|c| if c.is_ascii_lowercase() { char::from_u32(c as u32 - 0x61 + 0xFF41).unwrap() } else { c })
        .collect();
    let spellings = [
        format!("  {}  ", p.email),
        format!("{}{}", p.email, " ".repeat(300)),
        upper,
        fullwidth,
        format!("\t{}", p.email),
    ];
    let mut limited = false;
    for i in 0..12 {
        let r = b.log_in_raw(&spellings[i % spellings.len()], "wrong password!", None);
        assert!(matches!(r.status, 401 | 429), "{}", r.status);
        limited |= r.status == 429;
    }
    assert!(limited, "padding or look-alike forms escaped the account's limit");
    // The account itself is now limited, whatever form is used.
    assert_eq!(b.log_in_raw(&p.email, &p.password, None).status, 429);
    // Invisible characters make no second account that looks the same.
    let b2 = Browser::new(s);
    let sneaky = Person {
        email: format!("\u{200b}{}", p.email),
        ..Person::new("pad2")
    };
    let r = b2.sign_up_raw(&sneaky, None);
    r.expect(400);
}

#[test]
fn item5_racing_wrong_guesses_never_exceed_the_limit() {
    let s = s();
    // The limits count in fixed one-minute windows: every attempt must land in one.
    at_start_of_a_window(Duration::from_secs(20));
    let (_, p) = Browser::signed_up(s, "race");
    let browsers: Vec<(Browser, Resp)> = (0..30)
        .map(|_| {
            let b = Browser::new(s);
            let page = b.get("/login");
            (b, page)
        })
        .collect();
    let results = concurrently(30, |i| {
        let (b, page) = &browsers[i];
        b.submit(page, "/login", &[("email", &p.email), ("password", "wrong-guess-123")])
            .status
    });
    let checked = results.iter().filter(|s| **s == 401).count();
    assert!(results.iter().all(|s| matches!(s, 401 | 429)), "{results:?}");
    assert!(checked <= 10, "{checked} password checks ran against a limit of 10: {results:?}");
    assert!(checked >= 1);
}

// ---------------------------------------------------------------------------------------------
// 6. A stranger cannot lock out a client
// ---------------------------------------------------------------------------------------------

/// `wrangler dev` passes the client's `CF-Connecting-IP` through (Cloudflare's edge sets it in
/// production), which lets one machine play a stranger and the real client.
#[test]
fn item6_wrong_secrets_do_not_lock_out_the_real_client() {
    let s = s();
    // The limits count in fixed one-minute windows: every attempt must land in one.
    at_start_of_a_window(Duration::from_secs(15));
    let app = s.trusted_app(&["public"]);
    let stranger = format!("203.0.113.{}", 1 + rand_hex(1).len() * 7);
    let from = |ip: &str, secret: &str| {
        let auth = basic(&app.id, secret);
        s.post_form_with(
            "/oauth/token",
            &[("grant_type", "client_credentials")],
            &[("authorization", &auth), ("cf-connecting-ip", ip)],
        )
    };
    let statuses: Vec<u16> = (0..15)
        .map(|_| from(&stranger, "not-the-secret-000000000000000000").status)
        .collect();
    assert!(statuses.iter().all(|s| matches!(s, 401 | 429)), "{statuses:?}");
    assert!(
        statuses.iter().filter(|s| **s == 401).count() <= 10 && statuses.contains(&429),
        "15 wrong secrets a minute from one address were never limited: {statuses:?}"
    );
    let r = from(&stranger, "not-the-secret-000000000000000000");
    assert!(r.header("retry-after").is_some());
    // The hammering address is refused even with the right secret; the real client, from its
    // own address, keeps working, and its many calls never count as failures.
    from(&stranger, app.secret()).expect(429);
    for _ in 0..20 {
        from("198.51.100.20", app.secret()).expect(200);
    }
}

// ---------------------------------------------------------------------------------------------
// 7. Changing the auth method ends the secret
// ---------------------------------------------------------------------------------------------

#[test]
fn item7_switching_to_private_key_jwt_kills_the_old_secret() {
    let s = s();
    let key = test_key(2);
    let app = s.create_app(json!({
        "name": "switcher", "owner": owner("sw"), "trusted": true, "scopes": ["public"],
        "public_key": key.public_jwk(),
    }));
    let t = s.cc_token(&app);
    s.patch_app(&app.id, json!({"token_endpoint_auth_method": "private_key_jwt"}))
        .expect(200);
    s.cc_basic(&app.id, app.secret(), None).expect_error(401, "invalid_client");
    assert!(!s.is_active(&t), "a token from the old secret outlived the switch");
    // Back to a secret: regenerate works and the new secret is the only one.
    s.patch_app(&app.id, json!({"token_endpoint_auth_method": "client_secret_basic"}))
        .expect(200);
    s.cc_basic(&app.id, app.secret(), None).expect_error(401, "invalid_client");
    let v = s.admin("POST", &format!("/admin/apps/{}/secret", app.id), None).expect_json(200);
    let secret = v["client_secret"].as_str().unwrap();
    s.cc_basic(&app.id, secret, None).expect(200);
}

// ---------------------------------------------------------------------------------------------
// 8, 13, 14. Scopes at every mint; userinfo by scope; password-grant defaults
// ---------------------------------------------------------------------------------------------

fn password_app(s: &Server, scopes: &[&str], extra: Value) -> App {
    let mut body = json!({
        "name": "pw app", "owner": owner("pw"), "scopes": scopes,
        "grant_types": ["password", "refresh_token"],
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    s.create_app(body)
}

fn password_grant(s: &Server, app: &App, p: &Person, scope: Option<&str>) -> Resp {
    let mut pairs = vec![("grant_type", "password"), ("username", p.email.as_str()), ("password", p.password.as_str())];
    if let Some(sc) = scope {
        pairs.push(("scope", sc));
    }
    token(s, &pairs, Some((&app.id, app.secret())))
}

#[test]
fn item8_refresh_after_narrowing_mints_only_the_current_scopes() {
    let s = s();
    let (_, p) = Browser::signed_up(s, "narrow");
    let app = password_app(s, &["public", "users:read"], json!({}));
    let v = password_grant(s, &app, &p, Some("public users:read")).expect_json(200);
    assert_eq!(v["scope"], "public users:read");
    s.patch_app(&app.id, json!({"scopes": ["public"]})).expect(200);
    let r = token(
        s,
        &[("grant_type", "refresh_token"), ("refresh_token", v["refresh_token"].as_str().unwrap())],
        Some((&app.id, app.secret())),
    );
    let v = r.expect_json(200);
    assert_eq!(v["scope"], "public");
    let claims = s.verify_access_token(v["access_token"].as_str().unwrap());
    assert_eq!(claims["scope"], "public");
}

#[test]
fn item13_userinfo_releases_claims_by_granted_scope() {
    let s = s();
    let (_, p) = Browser::signed_up(s, "claims");
    let app = password_app(s, &["public", "email", "users:read"], json!({}));
    let info = |scope: &str| {
        let v = password_grant(s, &app, &p, Some(scope)).expect_json(200);
        let auth = bearer(v["access_token"].as_str().unwrap());
        s.get_with("/oauth/userinfo", &[("authorization", &auth)]).expect_json(200)
    };
    let v = info("public");
    assert!(v["sub"].is_string() && v["name"].is_string());
    assert!(v.get("email").is_none(), "email released without the email scope: {v}");
    let v = info("users:read");
    assert!(v.get("email").is_none() && v.get("name").is_none(), "{v}");
    let v = info("public email");
    assert_eq!(v["email"], p.email.to_lowercase());
}

#[test]
fn item14_password_grant_defaults_stay_within_the_app() {
    let s = s();
    let (_, p) = Browser::signed_up(s, "defaults");
    let narrow = password_app(s, &["users:read"], json!({}));
    password_grant(s, &narrow, &p, None).expect_error(400, "invalid_scope");
    let with_default = password_app(s, &["users:read", "public"], json!({"default_scopes": ["users:read"]}));
    let v = password_grant(s, &with_default, &p, None).expect_json(200);
    assert_eq!(v["scope"], "users:read");
}

// ---------------------------------------------------------------------------------------------
// 10. Public clients see consent every time
// ---------------------------------------------------------------------------------------------

#[test]
fn item10_public_clients_never_get_codes_from_remembered_consent() {
    let s = s();
    let (b, _) = Browser::signed_up(s, "pub");
    for c in [Client::native(s, &["public"]), Client::web(s, &["public"])] {
        let (_, challenge) = pkce();
        b.code(s, &c.authorize_path("public", Some(&challenge)));
        let again = b.get(&c.authorize_path("public", Some(&challenge)));
        if c.public {
            again.expect(200);
            assert!(again.text().contains("wants to access your account"));
        } else {
            again.expect(302);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 12. Introspection only for the token's own client, its audience, or a permitted app
// ---------------------------------------------------------------------------------------------

#[test]
fn item12_a_client_cannot_read_another_clients_tokens() {
    let s = s();
    let owner_app = s.trusted_app(&["public"]);
    let stranger = s.trusted_app(&["public"]);
    let t = s.cc_token(&owner_app);
    let ask = |app: &App| {
        s.post_form_basic("/oauth/introspect", &[("token", &t)], &app.id, app.secret())
            .expect_json(200)
    };
    assert_eq!(ask(&owner_app)["active"], true);
    let v = ask(&stranger);
    assert_eq!(v, json!({"active": false}), "a stranger read the token: {v}");
    s.patch_app(&stranger.id, json!({"introspection": true})).expect(200);
    assert_eq!(ask(&stranger)["active"], true);
}

// ---------------------------------------------------------------------------------------------
// 15. jwt-bearer needs `sub`; the app token keeps its documented claims
// ---------------------------------------------------------------------------------------------

#[test]
fn item15_jwt_bearer_requires_sub_and_app_tokens_do_not() {
    let s = s();
    let key = test_key(3);
    let app = s.keyed_app(key, json!({"grant_types": [JWT_BEARER]}));
    let aud = format!("{}/oauth/token", s.issuer());
    let mut c = app_claims(&app.id, Some(&aud));
    c.as_object_mut().unwrap().remove("sub");
    let r = s.jwt_bearer(&key.sign(&c));
    r.expect_error(400, "invalid_grant");
    assert!(r.text().contains("sub"), "{}", r.text());
    s.jwt_bearer(&key.sign(&app_claims(&app.id, Some(&aud)))).expect(200);
    // iss, iat, exp only: still an app token.
    s.app_token(&key.sign(&app_claims(&app.id, None))).expect(200);
}

// ---------------------------------------------------------------------------------------------
// 16. Answers that do not tell
// ---------------------------------------------------------------------------------------------

#[test]
fn item16_unknown_client_and_wrong_secret_answer_alike() {
    let s = s();
    let app = s.trusted_app(&["public"]);
    let wrong = s.cc_basic(&app.id, "wrong-secret-00000000000000000000", None);
    let unknown = s.cc_basic(&"u".repeat(32), "wrong-secret-00000000000000000000", None);
    assert_eq!(wrong.status, 401);
    assert_eq!((wrong.status, wrong.json()), (unknown.status, unknown.json()));
    assert_eq!(wrong.header("www-authenticate"), unknown.header("www-authenticate"));
}

#[test]
fn item16_sign_up_does_not_tell_whether_an_email_has_an_account() {
    let s = s();
    let (_, existing) = Browser::signed_up(s, "known");
    let fresh = Person::new("unknown");
    let answer = |p: &Person| {
        let b = Browser::new(s);
        let r = b.sign_up_raw(p, None);
        assert!(b.cookie(SESSION_COOKIE).is_none(), "sign-up started a session");
        // The page differs only in the CSRF token and the email typed.
        let text = r
            .text()
            .replace(&csrf_of(&r), "CSRF")
            .replace(&p.email.to_lowercase(), "EMAIL");
        (r.status, text)
    };
    let again = Person {
        name: "Someone else".into(),
        password: "another password 1".into(),
        ..existing.clone()
    };
    assert_eq!(answer(&again), answer(&fresh));
    // …and the account was not touched: the old password still logs in, the new one not.
    let b = Browser::new(s);
    b.log_in(&existing, None);
    assert_eq!(Browser::new(s).log_in_raw(&existing.email, "another password 1", None).status, 401);
}
