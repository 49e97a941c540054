//! Backups (`GET /admin/export`, `POST /admin/import`): a tenant exported from one platform
//! and imported into a fresh one works there (the person logs in, the app's secret and key
//! work), a second import changes nothing, and every hostile batch is refused as it should be.

use super::support::*;
use super::tenancy::{create_org, send_at, PLATFORM};
use crate::config::{Config, Secret};
use crate::platform::memory::MemPlatform;
use crate::rules::backup::{digest, Line, MAX_RECORDS};
use serde_json::{json, Value};

const NDJSON: &str = "application/x-ndjson";

/// Every page of the export, as the file the CLI writes (header, records; no trailer).
fn export_at(p: &MemPlatform, origin: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            None => "/admin/export".to_owned(),
            Some(c) => format!("/admin/export?cursor={c}"),
        };
        let r = send_at(
            p,
            origin,
            req("GET", &path, &[("authorization", "Bearer admin-secret")], ""),
        );
        let page = expect_json(&r, 200);
        expect_no_store(&r);
        if lines.is_empty() {
            lines.push(page["header"].to_string());
        }
        for rec in page["records"].as_array().unwrap() {
            lines.push(rec.to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return lines,
        }
    }
}

fn export(p: &MemPlatform) -> Vec<String> {
    export_at(p, ORIGIN)
}

fn import_at(p: &MemPlatform, origin: &str, query: &str, body: &[u8]) -> crate::http::Response {
    let h = [("authorization", "Bearer admin-secret"), ("content-type", NDJSON)];
    send_at(p, origin, req("POST", &format!("/admin/import{query}"), &h, body))
}

fn import(p: &MemPlatform, lines: &[String]) -> Value {
    expect_json(&import_at(p, ORIGIN, "", lines.join("\n").as_bytes()), 200)
}

fn results(v: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .chain(v["refused"].as_array().unwrap())
        .map(|r| {
            (
                r["kind"].as_str().unwrap_or("?").to_owned(),
                r["result"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

/// A tenant with an operator, a trusted app with a secret and a key, a person with a password.
fn populated() -> (MemPlatform, Value) {
    let p = platform();
    let op =
        json!({"email": "olga@example.com", "name": "Olga", "role": "admin", "password": "quiet-lantern-93"});
    expect_json(&admin(&p, "POST", "/admin/operators", Some(&op)), 201);
    let app = create_app(
        &p,
        json!({"name": "Sync", "trusted": true, "scopes": ["public"], "redirect_uris": ["https://a.example/cb"]}),
    );
    let id = app["client_id"].as_str().unwrap();
    let key = json!({"public_key": test_key(0).public_jwk()});
    expect_json(
        &admin(&p, "POST", &format!("/admin/apps/{id}/keys"), Some(&key)),
        201,
    );
    signed_in(&p, "ann@example.com");
    (p, app)
}

fn log_in(p: &MemPlatform, email: &str, password: &str) -> u16 {
    let mut b = Browser::default();
    let csrf = csrf_of(&b.get(p, "/login"));
    b.post(
        p,
        "/login",
        &form(&[("csrf", &csrf), ("email", email), ("password", password)]),
    )
    .status
}

#[test]
fn a_tenant_round_trips_into_a_fresh_platform_and_a_second_import_changes_nothing() {
    let (a, app) = populated();
    let lines = export(&a);
    let header: Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(
        (
            header["format"].as_str(),
            header["version"].as_u64(),
            header["tenant"].as_str()
        ),
        (Some("portcullis-export"), Some(1), Some("default"))
    );
    let all = lines.join("\n");
    // Hashes travel; no private key, no TOTP secret, no plain secret.
    assert!(all.contains("argon2id$v=19"), "{all}");
    assert!(!all.contains("PRIVATE KEY") && !all.contains("\"d\":"));
    assert!(!all.contains(app["client_secret"].as_str().unwrap()));

    let b = platform();
    // A dry run writes nothing.
    let dry = expect_json(&import_at(&b, ORIGIN, "?dry_run=true", all.as_bytes()), 200);
    assert_eq!(dry["dry_run"], true);
    assert!(results(&dry).iter().all(|(_, r)| r == "would_create"), "{dry}");
    assert_ne!(
        log_in(&b, "ann@example.com", "plum-kettle-42"),
        303,
        "a dry run created the account"
    );

    let v = import(&b, &lines);
    assert_eq!(
        results(&v),
        [("app", "created"), ("operator", "created"), ("person", "created")]
            .map(|(k, r)| (k.to_owned(), r.to_owned()))
    );
    assert_eq!(v["counts"]["created"], 3);
    // The person logs in with their password, the app authenticates with its secret, its key
    // signs app tokens.
    assert_eq!(log_in(&b, "ann@example.com", "plum-kettle-42"), 303);
    assert_ne!(log_in(&b, "ann@example.com", "wrong-password-1"), 303);
    let (id, secret) = credentials(&app);
    expect_json(&client_credentials(&b, &id, &secret, &[]), 200);
    let claims = app_claims(&b, &id, None);
    let jwt = test_key(0).sign(&claims);
    expect_json(&app_token(&b, &jwt), 200);
    let users = expect_json(&admin(&b, "GET", "/admin/users", None), 200);
    assert_eq!(users["users"][0]["email"], "ann@example.com");
    let ops = expect_json(&admin(&b, "GET", "/admin/operators", None), 200);
    assert_eq!(ops["operators"][0]["email"], "olga@example.com", "{ops}");

    // Idempotent: the same file again is all unchanged; the export of the restored tenant is
    // the same records.
    let again = import(&b, &lines);
    assert!(results(&again).iter().all(|(_, r)| r == "unchanged"), "{again}");
    let strip = |l: &[String]| l.iter().skip(1).cloned().collect::<Vec<_>>();
    assert_eq!(strip(&export(&b)), strip(&lines));

    // Each run is an audit event.
    let audit = expect_json(&admin(&b, "GET", "/admin/audit?type=backup.import", None), 200);
    assert_eq!(audit["events"].as_array().unwrap().len(), 3, "{audit}");
    let audit = expect_json(&admin(&a, "GET", "/admin/audit?type=backup.export", None), 200);
    assert!(!audit["events"].as_array().unwrap().is_empty());
}

#[test]
fn an_import_never_overwrites_what_exists() {
    let (a, app) = populated();
    let lines = export(&a);
    let b = platform();
    // The same email with another account, and the same client id differing: conflicts.
    signed_in(&b, "ann@example.com");
    let v = import(&b, &lines);
    let person = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "person")
        .unwrap();
    assert_eq!(person["result"], "conflict", "{v}");
    assert_eq!(log_in(&b, "ann@example.com", "plum-kettle-42"), 303);
    // An app with this id changed here afterwards: a conflict, left as it is.
    let id = app["client_id"].as_str().unwrap();
    expect_json(
        &admin(
            &b,
            "PATCH",
            &format!("/admin/apps/{id}"),
            Some(&json!({"name": "Changed"})),
        ),
        200,
    );
    let v = import(&b, &lines);
    let a1 = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "app")
        .unwrap();
    assert_eq!(a1["result"], "conflict", "{v}");
    assert_eq!(
        expect_json(&admin(&b, "GET", &format!("/admin/apps/{id}"), None), 200)["name"],
        "Changed"
    );
}

fn resign(line: &str, change: impl FnOnce(&mut Value)) -> String {
    let mut l: Line = serde_json::from_str(line).unwrap();
    change(&mut l.data);
    l.sha256 = digest(&l.data);
    serde_json::to_string(&l).unwrap()
}

fn find<'a>(lines: &'a [String], kind: &str) -> &'a String {
    lines
        .iter()
        .find(|l| l.contains(&format!("\"kind\":\"{kind}\"")))
        .unwrap()
}

#[test]
fn tampered_invalid_foreign_and_duplicate_records_are_refused_one_by_one() {
    let (a, _) = populated();
    let lines = export(&a);
    let app = find(&lines, "app").clone();
    let person = find(&lines, "person").clone();
    let header = lines[0].clone();
    let b = platform();
    let cases = [
        // changed without its checksum
        app.replace("\"name\":\"Sync\"", "\"name\":\"Evil\""),
        // re-checksummed, but against the rules of creation
        resign(&app, |d| {
            d["app"]["redirect_uris"] = json!(["javascript:alert(1)"])
        }),
        resign(&app, |d| d["secret_hash"] = json!("not-a-hash")),
        resign(&app, |d| d["app"]["keys"][0]["n"] = json!("AQAB")),
        resign(&person, |d| d["account"]["password_hash"] = json!("plaintext")),
        resign(&person, |d| d["account"]["email"] = json!("ANN@example.com")),
        resign(&person, |d| d["account"]["user_id"] = json!("someone-else")),
        resign(&person, |d| d["unknown"] = json!(1)),
        // another tenant's
        person.replace("\"tenant\":\"default\"", "\"tenant\":\"acme\""),
    ];
    let says = [
        "checksum",
        "javascript",
        "SHA-256",
        "RSA",
        "argon2id",
        "normalised",
        "user_id",
        "unknown field",
        "another tenant",
    ];
    for (case, says) in cases.iter().zip(says) {
        let v = import(&b, &[header.clone(), case.clone()]);
        assert_eq!(
            (v["counts"]["refused"].as_u64(), v["counts"]["created"].as_u64()),
            (Some(1), Some(0)),
            "{v}"
        );
        assert!(v.to_string().contains(says), "{says}: {v}");
    }
    assert_eq!(
        expect_json(&admin(&b, "GET", "/admin/users", None), 200)["users"],
        json!([])
    );
    // The same record twice in one request: the second is refused.
    let v = import(&b, &[header.clone(), person.clone(), person.clone()]);
    assert_eq!(
        results(&v),
        [("person", "created"), ("person", "refused")].map(|(k, r)| (k.to_owned(), r.to_owned()))
    );
    assert!(v.to_string().contains("twice"));
}

#[test]
fn whole_requests_are_refused_for_version_type_encoding_size_and_role() {
    let (a, _) = populated();
    let lines = export(&a);
    let b = platform();
    let v2 = lines[0].replace("\"version\":1", "\"version\":2");
    let e = expect_error(&import_at(&b, ORIGIN, "", v2.as_bytes()), 400, "invalid_request");
    assert!(e["error_description"].as_str().unwrap().contains("version 2"));
    let h = [
        ("authorization", "Bearer admin-secret"),
        ("content-type", "application/json"),
    ];
    expect_error(
        &send(&b, req("POST", "/admin/import", &h, lines.join("\n"))),
        415,
        "invalid_request",
    );
    expect_error(
        &import_at(&b, ORIGIN, "", b"\xff\xfe\n{}"),
        400,
        "invalid_request",
    );
    expect_error(&import_at(&b, ORIGIN, "", b""), 400, "invalid_request");
    expect_error(
        &import_at(&b, ORIGIN, "?dry_run=maybe", lines[0].as_bytes()),
        400,
        "invalid_request",
    );
    expect_error(
        &import_at(&b, ORIGIN, "?force=1", lines[0].as_bytes()),
        400,
        "invalid_request",
    );
    // More records than a request takes, and a body over the limit.
    let person = find(&lines, "person");
    let mut many = vec![lines[0].clone()];
    many.extend(std::iter::repeat_n(person.clone(), MAX_RECORDS + 1));
    expect_error(
        &import_at(&b, ORIGIN, "", many.join("\n").as_bytes()),
        413,
        "invalid_request",
    );
    let huge = format!("{}\n{}", lines[0], "x".repeat(crate::http::MAX_BODY));
    expect_error(
        &import_at(&b, ORIGIN, "", huge.as_bytes()),
        413,
        "invalid_request",
    );
    // Cursors are the server's own.
    for bad in ["x", "apps", "people:a b", "apps:short", "settings:"] {
        let r = admin(&a, "GET", &format!("/admin/export?cursor={bad}"), None);
        expect_error(&r, 400, "invalid_request");
    }
    // Without the admin token: refused, and GET is no way around it.
    let r = send(&a, req("GET", "/admin/export", &[], ""));
    assert_eq!(r.status, 401);
    expect_error(
        &send(
            &b,
            req(
                "POST",
                "/admin/import",
                &[("content-type", NDJSON)],
                lines.join("\n"),
            ),
        ),
        401,
        "invalid_token",
    );
    assert!(expect_json(&admin(&b, "GET", "/admin/users", None), 200)["users"]
        .as_array()
        .unwrap()
        .is_empty());
}

fn orgs() -> MemPlatform {
    let mut cfg = Config::default();
    cfg.admin_token = Some(Secret("admin-secret".into()));
    cfg.org_domain = Some("localhost".into());
    platform_with(cfg)
}

#[test]
fn an_organisations_export_is_refused_by_another_and_its_settings_need_the_platform_operator() {
    const ACME: &str = "http://acme.localhost:8787";
    const BETA: &str = "http://beta.localhost:8787";
    let p = orgs();
    expect_json(&create_org(&p, "acme"), 201);
    expect_json(&create_org(&p, "beta"), 201);
    let patch = json!({"brand": {"name": "Acme sign-in"}, "quotas": {"max_apps": 5}});
    expect_json(
        &send_at(
            &p,
            PLATFORM,
            json_req("PATCH", "/admin/orgs/acme", Some("admin-secret"), &patch),
        ),
        200,
    );
    let app = json!({"name": "Acme app", "trusted": true, "scopes": ["public"]});
    expect_json(
        &send_at(
            &p,
            ACME,
            json_req("POST", "/admin/apps", Some("admin-secret"), &app),
        ),
        201,
    );
    let lines = export_at(&p, ACME);
    assert!(lines[0].contains("\"tenant\":\"acme\""));
    let settings = find(&lines, "settings").clone();
    assert!(settings.contains("Acme sign-in"), "{settings}");
    // Into beta: the whole request is refused.
    let r = import_at(&p, BETA, "", lines.join("\n").as_bytes());
    expect_error(&r, 403, "access_denied");
    // acme's own records at acme again: unchanged.
    let v = expect_json(&import_at(&p, ACME, "", lines.join("\n").as_bytes()), 200);
    assert!(results(&v).iter().all(|(_, r)| r == "unchanged"), "{v}");
    // Changed settings are restored by the platform operator's token only.
    let reset = json!({"brand": {"name": "Other"}, "quotas": {}});
    expect_json(
        &send_at(
            &p,
            PLATFORM,
            json_req("PATCH", "/admin/orgs/acme", Some("admin-secret"), &reset),
        ),
        200,
    );
    let op = expect_json(
        &send_at(
            &p,
            PLATFORM,
            json_req(
                "POST",
                "/admin/orgs/acme/operators",
                Some("admin-secret"),
                &json!({"name": "IT"}),
            ),
        ),
        201,
    );
    let token = op["token"].as_str().unwrap();
    let body = format!("{}\n{settings}", lines[0]);
    let h = [
        ("authorization", format!("Bearer {token}")),
        ("content-type", NDJSON.to_owned()),
    ];
    let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let v = expect_json(
        &send_at(&p, ACME, req("POST", "/admin/import", &h, body.as_bytes())),
        200,
    );
    assert_eq!(v["results"][0]["result"], "refused", "{v}");
    assert!(v.to_string().contains("platform operator"));
    let v = expect_json(&import_at(&p, ACME, "", body.as_bytes()), 200);
    assert_eq!(v["results"][0]["result"], "updated", "{v}");
    let org = expect_json(
        &send_at(
            &p,
            PLATFORM,
            json_req("GET", "/admin/orgs/acme", Some("admin-secret"), &json!({})),
        ),
        200,
    );
    assert_eq!(org["brand"]["name"], "Acme sign-in");
    assert_eq!(org["quotas"]["max_apps"], 5);
}
