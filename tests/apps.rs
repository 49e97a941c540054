//! Apps: the admin API (create, list, page, read, update, delete, regenerate), its
//! authorisation and validation, and the client_credentials grant, introspection and revocation
//! that app credentials unlock. Also the per-owner app limit (5 on a dedicated server, and the
//! real 1000 on the shared one). The validation tables (invalid metadata on create and on
//! update: refused, nothing stored or changed) run natively in src/routes/tests/apps.rs.

mod common;
use common::*;
use std::collections::HashSet;
use std::time::Instant;

/// This binary's server. Its failed-authentication limit per address is lifted: these tests
/// present many wrong secrets on purpose from one address (tests/security.rs checks the limit).
fn s() -> &'static Server {
    static S: std::sync::OnceLock<Server> = std::sync::OnceLock::new();
    S.get_or_init(|| Server::start_with(&[("AUTH_FAILURE_LIMIT", "1000000")]))
}

/// Asserts that client_credentials is refused with `status`/`code` under both client
/// authentications (Basic, then client_secret_post); returns the Basic answer.
#[track_caller]
fn cc_refused(s: &Server, id: &str, secret: &str, status: u16, code: &str) -> Resp {
    let r = s.cc_basic(id, secret, None);
    r.expect_error(status, code);
    s.cc_post(id, secret, None).expect_error(status, code);
    r
}

fn untrusted_app(s: &Server) -> App {
    s.create_app(json!({"name": "e2e untrusted", "owner": owner("u")}))
}

// ---------------------------------------------------------------------------------------------
// Admin API: lifecycle
// ---------------------------------------------------------------------------------------------

#[test]
fn create_get_patch_delete() {
    let s = s();
    let own = owner("crud");
    let r = s.post_app(&json!({
        "name": "Crud app",
        "description": "made by the e2e tests",
        "homepage": "https://app.example/",
        "owner": own,
        "scopes": ["public", "users:read"],
        "redirect_uris": ["https://app.example/cb", "http://127.0.0.1:8080/cb", "com.example.app:/cb"],
        "token_lifetime": 3600,
    }));
    let created = r.expect_json(201);
    r.expect_no_store();
    let id = created["client_id"].as_str().unwrap().to_owned();
    assert!(looks_like_client_id(&id), "client_id {id}");
    let secret = created["client_secret"].as_str().unwrap();
    assert!(
        looks_like_client_id(secret),
        "client_secret must be 32 URL-safe characters"
    );
    assert_ne!(secret, id);
    assert_eq!(r.header("location"), Some(format!("/admin/apps/{id}").as_str()));
    assert_eq!(created["name"], "Crud app");
    assert_eq!(created["owner"], own.as_str());
    assert_eq!(created["status"], "active");
    assert_eq!(created["scopes"], json!(["public", "users:read"]));
    assert_eq!(created["token_lifetime"], 3600);
    assert_eq!(created["redirect_uris"].as_array().unwrap().len(), 3);
    assert_eq!(created["bot_user"]["id"], format!("bot_{id}"));
    assert!(created["bot_user"]["name"].as_str().unwrap().contains("Crud app"));
    assert!(
        !created["grant_types"]
            .as_array()
            .unwrap()
            .contains(&json!("client_credentials")),
        "an untrusted app must not get client_credentials"
    );
    assert!(created.get("private_key").is_none());

    // GET: the same record, without the secret.
    let r = s.admin("GET", &format!("/admin/apps/{id}"), None);
    let got = r.expect_json(200);
    r.expect_no_store();
    let mut expected = created.clone();
    expected.as_object_mut().unwrap().remove("client_secret");
    assert_eq!(got, expected);
    assert!(!r.text().contains(secret), "GET leaks the secret");
    for field in ["client_secret", "secret_hash", "epoch"] {
        assert!(got.get(field).is_none(), "GET shows '{field}': {got}");
    }

    // Listed under its owner.
    assert_eq!(s.owned_ids(&own), vec![id.clone()]);

    // PATCH changes only what it names.
    let r = s.patch_app(&id, json!({"name": "Renamed", "description": "changed"}));
    let patched = r.expect_json(200);
    assert_eq!(patched["name"], "Renamed");
    assert_eq!(patched["description"], "changed");
    assert!(patched["bot_user"]["name"].as_str().unwrap().contains("Renamed"));
    assert_eq!(patched["scopes"], created["scopes"]);
    assert_eq!(patched["redirect_uris"], created["redirect_uris"]);
    assert_eq!(patched["created_at"], created["created_at"]);
    assert!(patched["updated_at"].as_i64() >= created["updated_at"].as_i64());
    assert_eq!(s.get_app(&id), patched);
    // The secret still works after a PATCH (it is not part of the update).
    s.post_form("/oauth/introspect", &[("token", "x")]).expect(401);
    let v = s
        .post_form_with(
            "/oauth/introspect",
            &[("token", "x")],
            &[("authorization", &basic(&id, secret))],
        )
        .expect_json(200);
    assert_eq!(v, json!({"active": false}));

    // DELETE: gone everywhere.
    let r = s.admin("DELETE", &format!("/admin/apps/{id}"), None);
    r.expect(204);
    assert!(r.body.is_empty());
    s.admin("GET", &format!("/admin/apps/{id}"), None)
        .expect_error(404, "not_found");
    s.admin("DELETE", &format!("/admin/apps/{id}"), None)
        .expect_error(404, "not_found");
    s.patch_app(&id, json!({"name": "zombie"}))
        .expect_error(404, "not_found");
    s.admin("POST", &format!("/admin/apps/{id}/secret"), None)
        .expect_error(404, "not_found");
    assert!(s.owned_ids(&own).is_empty());
    s.post_form_basic("/oauth/introspect", &[("token", "x")], &id, secret)
        .expect_error(401, "invalid_client");
}

#[test]
fn list_pages_by_owner() {
    let s = s();
    let own = owner("page");
    let mut made: Vec<String> = (0..5)
        .map(|i| {
            s.create_app(json!({"name": format!("page {i}"), "owner": own}))
                .id
        })
        .collect();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = Vec::new();
    loop {
        let path = match &cursor {
            None => format!("/admin/apps?owner={own}&limit=2"),
            Some(c) => format!("/admin/apps?owner={own}&limit=2&cursor={}", form_encode(c)),
        };
        let v = s.admin("GET", &path, None).expect_json(200);
        let apps = v["apps"].as_array().unwrap();
        pages.push(apps.len());
        for a in apps {
            assert_eq!(a["owner"], own.as_str());
            assert!(a.get("client_secret").is_none());
            seen.push(a["client_id"].as_str().unwrap().to_owned());
        }
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        assert!(pages.len() < 10, "paging does not end");
    }
    assert_eq!(pages, vec![2, 2, 1]);
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "an app was listed twice: {seen:?}");
    seen.sort();
    made.sort();
    assert_eq!(seen, made);
    // All at once.
    let v = s
        .admin("GET", &format!("/admin/apps?owner={own}"), None)
        .expect_json(200);
    assert_eq!(v["apps"].as_array().unwrap().len(), 5);
    assert!(v["next_cursor"].is_null());
    // An owner without apps.
    let v = s
        .admin("GET", &format!("/admin/apps?owner={}", owner("none")), None)
        .expect_json(200);
    assert_eq!(v["apps"], json!([]));
    assert!(v["next_cursor"].is_null());
    // The global listing pages too.
    let v = s.admin("GET", "/admin/apps?limit=2", None).expect_json(200);
    assert_eq!(v["apps"].as_array().unwrap().len(), 2);
    let c = v["next_cursor"]
        .as_str()
        .expect("more than 2 apps exist: a cursor is due");
    let v2 = s
        .admin(
            "GET",
            &format!("/admin/apps?limit=2&cursor={}", form_encode(c)),
            None,
        )
        .expect_json(200);
    assert_ne!(v2["apps"][0]["client_id"], v["apps"][0]["client_id"]);
    // A page boundary that falls on the last app: no empty extra page.
    s.admin("DELETE", &format!("/admin/apps/{}", made[0]), None)
        .expect(204);
    let v = s
        .admin("GET", &format!("/admin/apps?owner={own}&limit=2"), None)
        .expect_json(200);
    let c = v["next_cursor"]
        .as_str()
        .expect("a second page is due")
        .to_owned();
    let v = s
        .admin(
            "GET",
            &format!("/admin/apps?owner={own}&limit=2&cursor={}", form_encode(&c)),
            None,
        )
        .expect_json(200);
    assert_eq!(v["apps"].as_array().unwrap().len(), 2);
    assert!(v["next_cursor"].is_null(), "a cursor to an empty page: {v}");
    // A cursor the server never issued.
    let r = s.admin("GET", "/admin/apps?cursor=not-a-cursor", None);
    assert!(r.status == 200 || r.status == 400, "{}", r.status);
    // Bad parameters.
    for q in [
        "limit=0",
        "limit=",
        "limit=101",
        "limit=abc",
        "limit=-1",
        "owner=bad%20owner",
        "owner=a/b",
        "limit=1&limit=2",
    ] {
        s.admin("GET", &format!("/admin/apps?{q}"), None)
            .expect_error(400, "invalid_request");
    }
}

#[test]
fn regenerated_secret_replaces_the_old_one_and_ends_its_tokens() {
    let s = s();
    let app = s.trusted_app(&["public"]);
    let old_token = s.cc_token(&app);
    assert!(s.is_active(&old_token));
    let before = s.get_app(&app.id);

    let r = s.admin("POST", &format!("/admin/apps/{}/secret", app.id), None);
    let v = r.expect_json(200);
    r.expect_no_store();
    assert_eq!(v["client_id"], app.id.as_str());
    let new_secret = v["client_secret"].as_str().unwrap();
    assert!(looks_like_client_id(new_secret));
    assert_ne!(new_secret, app.secret());

    assert!(
        !s.is_active(&old_token),
        "tokens from before the regeneration must die"
    );
    let r = s.cc_basic(&app.id, app.secret(), None);
    r.expect_error(401, "invalid_client");
    assert!(r.header("www-authenticate").unwrap().starts_with("Basic"));
    s.cc_post(&app.id, app.secret(), None)
        .expect_error(401, "invalid_client");
    let fresh = s.cc_basic(&app.id, new_secret, None).expect_json(200)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(s.is_active(&fresh));
    // The public record did not change (beyond updated_at).
    let mut after = s.get_app(&app.id);
    after["updated_at"] = before["updated_at"].clone();
    assert_eq!(after, before);
}

// ---------------------------------------------------------------------------------------------
// Admin API: authorisation
// ---------------------------------------------------------------------------------------------

#[test]
fn admin_token_must_match_exactly() {
    let s = s();
    let token = s.admin_token.clone().unwrap();
    let app = s.trusted_app(&["public"]);
    let before = s.get_app(&app.id);
    let mut last_changed = token.clone();
    let last = last_changed.pop().unwrap();
    last_changed.push(if last == 'a' { 'b' } else { 'a' });
    let mut first_changed = token.clone();
    first_changed.replace_range(0..1, "E");
    let wrong: Vec<String> = vec![
        last_changed,
        first_changed,
        format!("{token}x"),
        token[..token.len() - 1].to_owned(),
        token.to_uppercase(),
        String::new(),
        format!("{token} {token}"),
    ];
    for w in &wrong {
        for auth in [bearer(w), format!("Basic {w}"), w.clone()] {
            let h = [
                ("authorization", auth.as_str()),
                ("content-type", "application/json"),
            ];
            let id_path = format!("/admin/apps/{}", app.id);
            let secret_path = format!("{id_path}/secret");
            for (method, path, body) in [
                ("GET", "/admin/apps", None),
                ("POST", "/admin/apps", Some(&br#"{"name":"intruder"}"#[..])),
                ("GET", id_path.as_str(), None),
                ("PATCH", id_path.as_str(), Some(&br#"{"name":"pwned"}"#[..])),
                ("DELETE", id_path.as_str(), None),
                ("POST", secret_path.as_str(), Some(&b""[..])),
            ] {
                let r = s.request(
                    method,
                    path,
                    Req {
                        headers: &h,
                        body,
                        ..Default::default()
                    },
                );
                r.expect_error(401, "invalid_token");
                let c = r
                    .header("www-authenticate")
                    .unwrap_or_else(|| panic!("{method} {path}: no challenge"));
                assert!(c.starts_with("Bearer"), "{c}");
            }
        }
    }
    // No header at all.
    s.get("/admin/apps").expect_error(401, "invalid_token");
    // Nothing changed: the app and its secret are as they were.
    assert_eq!(s.get_app(&app.id), before);
    s.cc_token(&app);
    // The scheme name is case-insensitive (RFC 7235); the token itself is not.
    s.get_with(
        "/admin/apps?limit=1",
        &[("authorization", &format!("bearer {token}"))],
    )
    .expect(200);
    // A wrong admin token does not unlock introspection either.
    let t = s.cc_token(&app);
    s.post_form_with(
        "/oauth/introspect",
        &[("token", &t)],
        &[("authorization", &bearer(&wrong[0]))],
    )
    .expect_error(401, "invalid_client");
}

#[test]
fn admin_api_is_503_without_an_admin_token() {
    let s = Server::start_with(&[("ADMIN_TOKEN", "")]);
    for auth in ["Bearer ", "Bearer x", "Bearer devtoken123", ""] {
        let h = [("authorization", auth), ("content-type", "application/json")];
        for (method, path, body) in [
            ("GET", "/admin/apps", None),
            ("POST", "/admin/apps", Some(&br#"{"name":"x"}"#[..])),
            ("GET", "/admin/apps/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", None),
        ] {
            s.request(
                method,
                path,
                Req {
                    headers: &h,
                    body,
                    ..Default::default()
                },
            )
            .expect_error(503, "temporarily_unavailable");
        }
    }
    // A bearer at introspection is not an admin token here: client authentication is due.
    s.post_form_with(
        "/oauth/introspect",
        &[("token", "x")],
        &[("authorization", "Bearer ")],
    )
    .expect_error(401, "invalid_client");
    // The rest of the server works.
    s.get("/.well-known/oauth-authorization-server").expect(200);
    s.post_form("/oauth/token", &[("grant_type", "client_credentials")])
        .expect_error(401, "invalid_client");
}

// ---------------------------------------------------------------------------------------------
// client_credentials
// ---------------------------------------------------------------------------------------------

#[test]
fn client_credentials_basic_and_post_with_form_and_json() {
    let s = s();
    let app = s.trusted_app(&["public", "users:read"]);
    assert!(app.json["grant_types"]
        .as_array()
        .unwrap()
        .contains(&json!("client_credentials")));
    let auth = basic(&app.id, app.secret());
    let form_body = form(&[("grant_type", "client_credentials")]);
    let json_post =
        json!({"grant_type": "client_credentials", "client_id": app.id, "client_secret": app.secret()});
    let responses = vec![
        (
            "basic+form",
            s.post_raw(
                "/oauth/token",
                &[
                    ("content-type", "application/x-www-form-urlencoded"),
                    ("authorization", &auth),
                ],
                form_body.as_bytes(),
            ),
        ),
        (
            "basic+json",
            s.post_json_with(
                "/oauth/token",
                &json!({"grant_type": "client_credentials"}),
                &[("authorization", &auth)],
            ),
        ),
        ("post+form", s.cc_post(&app.id, app.secret(), None)),
        ("post+json", s.post_json("/oauth/token", &json_post)),
        (
            "alias",
            s.post_raw(
                "/oauth/v2/access_token",
                &[
                    ("content-type", "application/x-www-form-urlencoded"),
                    ("authorization", &auth),
                ],
                form_body.as_bytes(),
            ),
        ),
        (
            "basic+client_id",
            s.post_form_with(
                "/oauth/token",
                &[("grant_type", "client_credentials"), ("client_id", &app.id)],
                &[("authorization", &auth)],
            ),
        ),
    ];
    let mut jtis = HashSet::new();
    for (how, r) in responses {
        let v = r.expect_json(200);
        r.expect_no_store();
        assert_eq!(r.header("pragma"), Some("no-cache"), "{how}");
        assert!(r.header("content-type").unwrap().starts_with("application/json"));
        assert_eq!(v["token_type"], "Bearer", "{how}");
        assert_eq!(v["expires_in"], 7200, "{how}");
        assert_eq!(v["scope"], "public users:read", "{how}");
        assert!(
            v.get("refresh_token").is_none(),
            "{how}: no refresh token for client_credentials"
        );
        assert!(
            // Seconds since the epoch, issued during this test (a loaded CI machine can take a
            // while between the request and this check).
            (v["created_at"].as_i64().unwrap() - now()).abs() <= 120,
            "{how}: created_at {}",
            v["created_at"]
        );
        let c = s.verify_access_token(v["access_token"].as_str().unwrap());
        assert_eq!(c["sub"], app.id.as_str(), "{how}");
        assert_eq!(c["client_id"], app.id.as_str(), "{how}");
        assert_eq!(c["scope"], v["scope"], "{how}");
        assert_eq!(c["iat"], v["created_at"], "{how}");
        assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 7200);
        assert!(c.get("bot").is_none() || c["bot"] == false);
        assert!(
            jtis.insert(c["jti"].as_str().unwrap().to_owned()),
            "{how}: jti reused"
        );
    }
    // Two methods at once are refused.
    s.post_form_with(
        "/oauth/token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &app.id),
            ("client_secret", app.secret()),
        ],
        &[("authorization", &auth)],
    )
    .expect_error(400, "invalid_request");
    // Basic for one client, client_id for another.
    let other = s.trusted_app(&["public"]);
    s.post_form_with(
        "/oauth/token",
        &[("grant_type", "client_credentials"), ("client_id", &other.id)],
        &[("authorization", &auth)],
    )
    .expect_error(400, "invalid_request");
    // No credentials.
    s.post_form("/oauth/token", &[("grant_type", "client_credentials")])
        .expect_error(401, "invalid_client");
    s.post_form(
        "/oauth/token",
        &[("grant_type", "client_credentials"), ("client_id", &app.id)],
    )
    .expect_error(401, "invalid_client");
}

#[test]
fn client_credentials_details() {
    let s = s();
    let app = s.trusted_app(&["public", "users:read"]);
    // The Basic scheme name is case-insensitive.
    let auth = basic(&app.id, app.secret()).replacen("Basic", "BASIC", 1);
    s.post_form_with(
        "/oauth/token",
        &[("grant_type", "client_credentials")],
        &[("authorization", &auth)],
    )
    .expect(200);
    // `+` and percent-encoding in the form body.
    let v = s
        .post_raw(
            "/oauth/token",
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("authorization", &basic(&app.id, app.secret())),
            ],
            b"grant_type=client%5Fcredentials&scope=users%3Aread+public",
        )
        .expect_json(200);
    assert_eq!(v["scope"], "users:read public");
    // A resource the server does not serve; an over-long scope.
    let evil = [("grant_type", "client_credentials"), ("resource", "https://evil.example/api")];
    s.post_form_basic("/oauth/token", &evil, &app.id, app.secret())
        .expect_error(400, "invalid_target");
    let long = vec!["public"; 500].join(" ");
    s.cc_basic(&app.id, app.secret(), Some(&long))
        .expect_error(400, "invalid_scope");
}

#[test]
fn harmless_updates_keep_tokens_alive() {
    let s = s();
    let app = s.trusted_app(&["public", "users:read"]);
    let t = s.cc_token(&app);
    for patch in [
        json!({"name": "renamed"}),
        json!({"description": "new words", "homepage": "https://home.example/"}),
        json!({"status": "active"}),
        json!({"token_lifetime": 900}),
    ] {
        s.patch_app(&app.id, patch.clone()).expect(200);
        assert!(s.is_active(&t), "PATCH {patch} ended a live token");
    }
    let v = s.cc_basic(&app.id, app.secret(), None).expect_json(200);
    assert_eq!(
        v["expires_in"], 900,
        "token_lifetime changed by PATCH applies to new tokens"
    );
}

#[test]
fn client_credentials_token_lifetime_follows_the_app() {
    let s = s();
    let app =
        s.create_app(json!({"name": "short", "owner": owner("ttl"), "trusted": true, "token_lifetime": 600}));
    let v = s.cc_basic(&app.id, app.secret(), None).expect_json(200);
    assert_eq!(v["expires_in"], 600);
    let c = s.verify_access_token(v["access_token"].as_str().unwrap());
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 600);
}

#[test]
fn scope_subset_default_unknown_and_whitespace() {
    let s = s();
    let app = s.create_app(json!({
        "name": "scoped", "owner": owner("scope"), "trusted": true,
        "scopes": ["public", "users:read", "users:write"], "default_scopes": ["public"],
    }));
    let granted = |scope: Option<&str>| -> String {
        let v = s.cc_basic(&app.id, app.secret(), scope).expect_json(200);
        let c = s.verify_access_token(v["access_token"].as_str().unwrap());
        assert_eq!(c["scope"], v["scope"]);
        v["scope"].as_str().unwrap().to_owned()
    };
    assert_eq!(granted(None), "public");
    assert_eq!(granted(Some("users:read")), "users:read");
    assert_eq!(granted(Some("users:write public")), "users:write public");
    assert_eq!(
        granted(Some("  users:read   users:write ")),
        "users:read users:write"
    );
    assert_eq!(granted(Some("users:read users:read")), "users:read");
    for bad in [
        "admin",
        "public admin",
        "subscriptions:read",
        "users:read\tpublic",
        "users:read\u{a0}public",
        "public,users:read",
        "\"public\"",
        "USERS:READ",
        "users:*",
    ] {
        let v = s
            .cc_basic(&app.id, app.secret(), Some(bad))
            .expect_error(400, "invalid_scope");
        assert!(v.get("access_token").is_none());
    }
    // Through JSON, the same rules.
    s.post_json("/oauth/token", &json!({"grant_type": "client_credentials", "client_id": app.id, "client_secret": app.secret(), "scope": "admin"}))
        .expect_error(400, "invalid_scope");
    // Without default_scopes, the default is every scope of the app.
    let all = s.trusted_app(&["public", "users:read"]);
    let v = s.cc_basic(&all.id, all.secret(), None).expect_json(200);
    assert_eq!(v["scope"], "public users:read");
    let v = s.cc_basic(&all.id, all.secret(), Some("   ")).expect_json(200);
    assert_eq!(v["scope"], "public users:read");
}

#[test]
fn untrusted_app_is_unauthorized_client() {
    let s = s();
    let app = untrusted_app(s);
    let r = cc_refused(s, &app.id, app.secret(), 400, "unauthorized_client");
    assert!(r.json().get("access_token").is_none());
}

#[test]
fn untrusted_app_cannot_be_granted_client_credentials_explicitly() {
    // client_credentials is for trusted apps only: asking for the grant in grant_types
    // must not be a way around `trusted`.
    let s = s();
    let sneaky = json!({"name": "sneaky", "owner": owner("sneaky"), "grant_types": ["client_credentials"]});
    let r = s.post_app(&sneaky);
    if r.status == 201 {
        let app = App::from_json(r.json());
        s.cc_basic(&app.id, app.secret(), None)
            .expect_error(400, "unauthorized_client");
    } else {
        r.expect_error(400, "invalid_request");
    }
}

#[test]
fn untrusting_an_app_ends_client_credentials() {
    let s = s();
    let app = s.trusted_app(&["public"]);
    s.cc_token(&app);
    s.patch_app(&app.id, json!({"trusted": false})).expect(200);
    s.cc_basic(&app.id, app.secret(), None)
        .expect_error(400, "unauthorized_client");
}

#[test]
fn wrong_secrets_are_401_invalid_client() {
    let s = s();
    let app = s.trusted_app(&["public"]);
    let other = s.trusted_app(&["public"]);
    let secret = app.secret();
    let mut flipped = secret.to_owned();
    let c = flipped.pop().unwrap();
    flipped.push(if c == 'A' { 'B' } else { 'A' });
    let wrong = vec![
        flipped,
        secret[..31].to_owned(),
        format!("{secret}x"),
        "x".repeat(1000),
        secret.to_lowercase() + "!",
        other.secret().to_owned(),
        " ".into(),
    ];
    for w in &wrong {
        let r = cc_refused(s, &app.id, w, 401, "invalid_client");
        let ch = r
            .header("www-authenticate")
            .unwrap_or_else(|| panic!("no Basic challenge for {w:.40}"));
        assert!(ch.starts_with("Basic"), "{ch}");
    }
    // An empty Basic secret.
    s.cc_basic(&app.id, "", None).expect_error(401, "invalid_client");
    // Unknown clients, including ids of odd lengths and characters.
    for id in [
        "a".repeat(32),
        "a".repeat(15),
        "a".repeat(65),
        "bad id!".into(),
        other.id.to_uppercase(),
    ] {
        let r = cc_refused(s, &id, secret, 401, "invalid_client");
        assert!(r.header("www-authenticate").unwrap().starts_with("Basic"));
    }
    // The secret still works after all of that.
    s.cc_token(&app);
}

#[test]
fn disabling_an_app_ends_its_tokens_and_credentials() {
    let s = s();
    let app = s.trusted_app(&["public"]);
    let t = s.cc_token(&app);
    assert!(s.is_active(&t));
    let v = s
        .patch_app(&app.id, json!({"status": "disabled"}))
        .expect_json(200);
    assert_eq!(v["status"], "disabled");
    assert_eq!(s.get_app(&app.id)["status"], "disabled");
    assert!(!s.is_active(&t));
    cc_refused(s, &app.id, app.secret(), 401, "invalid_client");
    // A disabled client cannot introspect or revoke either.
    s.post_form_basic("/oauth/introspect", &[("token", &t)], &app.id, app.secret())
        .expect_error(401, "invalid_client");
    // Re-enabled: the secret works again, the old token stays dead.
    s.patch_app(&app.id, json!({"status": "active"})).expect(200);
    let t2 = s.cc_token(&app);
    assert!(s.is_active(&t2));
    assert!(!s.is_active(&t));
}

#[test]
fn deleting_an_app_ends_its_tokens_and_credentials() {
    let s = s();
    let app = s.trusted_app(&["public"]);
    let t = s.cc_token(&app);
    assert!(s.is_active(&t));
    s.admin("DELETE", &format!("/admin/apps/{}", app.id), None)
        .expect(204);
    assert!(!s.is_active(&t));
    let r = s.cc_basic(&app.id, app.secret(), None);
    r.expect_error(401, "invalid_client");
    assert!(r.header("www-authenticate").unwrap().starts_with("Basic"));
    s.post_form_basic("/oauth/revoke", &[("token", &t)], &app.id, app.secret())
        .expect_error(401, "invalid_client");
}

// ---------------------------------------------------------------------------------------------
// Revocation and introspection
// ---------------------------------------------------------------------------------------------

#[test]
fn revocation() {
    let s = s();
    let a = s.trusted_app(&["public"]);
    let b = s.trusted_app(&["public"]);
    let a_auth = basic(&a.id, a.secret());
    let b_auth = basic(&b.id, b.secret());
    let ta1 = s.cc_token(&a);
    let ta2 = s.cc_token(&a);
    let tb = s.cc_token(&b);

    // Own token: revoked.
    let r = s.post_form_with(
        "/oauth/revoke",
        &[("token", &ta1), ("token_type_hint", "access_token")],
        &[("authorization", &a_auth)],
    );
    r.expect(200);
    assert!(!s.is_active(&ta1));
    assert!(s.is_active(&ta2), "revoking one token must not touch another");
    assert!(s.is_active(&tb));
    // Revoking again is fine.
    s.post_form_with("/oauth/revoke", &[("token", &ta1)], &[("authorization", &a_auth)])
        .expect(200);

    // Another client's token: 200, but still active.
    s.post_form_with("/oauth/revoke", &[("token", &ta2)], &[("authorization", &b_auth)])
        .expect(200);
    assert!(s.is_active(&ta2), "a client revoked another client's token");

    // client_secret_post and JSON work too.
    s.post_json(
        "/oauth/revoke",
        &json!({"token": ta2, "client_id": a.id, "client_secret": a.secret()}),
    )
    .expect(200);
    assert!(!s.is_active(&ta2));

    // Unknown and malformed tokens: 200.
    for t in ["garbage", "a.b.c", &"x".repeat(9000)] {
        s.post_form_with("/oauth/revoke", &[("token", t)], &[("authorization", &a_auth)])
            .expect(200);
    }
    // Errors: no client authentication, wrong secret, no token, unknown hint.
    s.post_form("/oauth/revoke", &[("token", &tb)])
        .expect_error(401, "invalid_client");
    let r = s.post_form_basic("/oauth/revoke", &[("token", &tb)], &b.id, a.secret());
    r.expect_error(401, "invalid_client");
    assert!(r.header("www-authenticate").unwrap().starts_with("Basic"));
    s.post_form_with("/oauth/revoke", &[], &[("authorization", &b_auth)])
        .expect_error(400, "invalid_request");
    // RFC 7009 §2.1: a hint is only a hint; an unknown one does not stop the search, so the
    // token (b's own) is found and revoked.
    s.post_form_with(
        "/oauth/revoke",
        &[("token", &tb), ("token_type_hint", "id_token")],
        &[("authorization", &b_auth)],
    )
    .expect(200);
    assert!(!s.is_active(&tb));
}

#[test]
fn introspection_by_client_and_by_admin() {
    let s = s();
    let a = s.trusted_app(&["public", "users:read"]);
    let b = s.trusted_app(&["public"]);
    let t = s.cc_token(&a);
    let claims = s.verify_access_token(&t);
    let by_admin = s.introspect(&t);
    assert_eq!(by_admin["active"], true);
    for (k, v) in [
        ("scope", &claims["scope"]),
        ("client_id", &claims["client_id"]),
        ("sub", &claims["sub"]),
        ("iss", &claims["iss"]),
        ("exp", &claims["exp"]),
        ("iat", &claims["iat"]),
        ("jti", &claims["jti"]),
    ] {
        assert_eq!(&by_admin[k], v, "introspection field {k}");
    }
    assert_eq!(by_admin["aud"], s.issuer());
    assert_eq!(by_admin["token_type"], "Bearer");
    // By the client itself (Basic and post), and by another client.
    let r = s.post_form_basic("/oauth/introspect", &[("token", &t)], &a.id, a.secret());
    assert_eq!(r.expect_no_store().expect_json(200), by_admin);
    // Another client sees nothing (RFC 7662 §4) until an operator allows it to introspect.
    let by_b = || {
        s.post_form(
            "/oauth/introspect",
            &[("token", &t), ("client_id", &b.id), ("client_secret", b.secret())],
        )
        .expect_json(200)
    };
    assert_eq!(by_b(), json!({"active": false}));
    s.patch_app(&b.id, json!({"introspection": true})).expect(200);
    assert_eq!(by_b()["active"], true);
    // Inactive tokens reveal nothing.
    for bad in ["garbage", "a.b.c", &t[..t.len() - 2]] {
        assert_eq!(s.introspect(bad), json!({"active": false}));
    }
    // Errors.
    s.post_form("/oauth/introspect", &[("token", &t)])
        .expect_error(401, "invalid_client");
    s.post_form_basic("/oauth/introspect", &[("token", &t)], &a.id, b.secret())
        .expect_error(401, "invalid_client");
    s.post_form_with(
        "/oauth/introspect",
        &[],
        &[("authorization", &bearer(s.admin_token.as_deref().unwrap()))],
    )
    .expect_error(400, "invalid_request");
}

// ---------------------------------------------------------------------------------------------
// The per-owner app limit
// ---------------------------------------------------------------------------------------------

#[test]
fn app_limit_is_enforced_atomically() {
    let s = Server::start_with(&[("MAX_APPS_PER_OWNER", "5")]);
    let own = owner("limit");
    // Refused creations first: none may take one of the 5 slots (the whole table of refusals
    // runs natively: src/routes/tests/apps.rs).
    for body in [
        json!({"name": "bad", "owner": own, "redirect_uris": ["http://app.example/cb"]}),
        json!({"name": "bad", "owner": own, "colour": "red"}),
        json!({"name": "bad", "owner": own, "public_key": 42}),
        json!({"owner": own}),
    ] {
        s.admin("POST", "/admin/apps", Some(&body)).expect(400);
    }
    assert!(s.owned_ids(&own).is_empty());
    let mut ids: Vec<String> = (0..4)
        .map(|i| {
            s.create_app(json!({"name": format!("limit {i}"), "owner": own}))
                .id
        })
        .collect();
    // Four exist: of 16 concurrent creations exactly one fits.
    let results = concurrently(16, |i| {
        s.post_app(&json!({"name": format!("race {i}"), "owner": own}))
    });
    let mut won = 0;
    for r in &results {
        match r.status {
            201 => {
                won += 1;
                ids.push(r.json()["client_id"].as_str().unwrap().to_owned());
            }
            _ => {
                r.expect_error(409, "limit_reached");
            }
        }
    }
    assert_eq!(won, 1, "exactly one concurrent creation may take the last slot");
    let mut listed = s.owned_ids(&own);
    listed.sort();
    ids.sort();
    assert_eq!(listed, ids);
    // The sixth, sequentially.
    s.post_app(&json!({"name": "sixth", "owner": own}))
        .expect_error(409, "limit_reached");
    // Another owner is not affected.
    s.create_app(json!({"name": "other owner", "owner": owner("limit-other")}));
    // Deleting one frees one slot.
    s.admin("DELETE", &format!("/admin/apps/{}", ids[0]), None)
        .expect(204);
    s.create_app(json!({"name": "replacement", "owner": own}));
    s.post_app(&json!({"name": "again", "owner": own}))
        .expect_error(409, "limit_reached");
    assert_eq!(s.owned_ids(&own).len(), 5);
}

#[test]
fn app_limit_of_1000_per_owner() {
    let s = s();
    let own = owner("thousand");
    let started = Instant::now();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let made: Vec<Vec<String>> = concurrently(16, |_| {
        let mut mine = Vec::new();
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if i >= 1000 {
                return mine;
            }
            let r = s.post_app(&json!({"name": format!("app {i}"), "owner": own}));
            mine.push(r.expect_json(201)["client_id"].as_str().unwrap().to_owned());
        }
    });
    let created = started.elapsed();
    let all: HashSet<String> = made.into_iter().flatten().collect();
    assert_eq!(all.len(), 1000);
    s.post_app(&json!({"name": "app 1001", "owner": own}))
        .expect_error(409, "limit_reached");
    let listed: HashSet<String> = s.owned_ids(&own).into_iter().collect();
    assert_eq!(listed, all);
    eprintln!(
        "[app_limit_of_1000_per_owner] 1000 apps created in {created:.1?} ({:.1} ms each, 16 threads); total {:.1?}",
        created.as_secs_f64() * 1000.0 / 1000.0,
        started.elapsed()
    );
}
