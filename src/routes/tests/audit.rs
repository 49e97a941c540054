//! Audit events as data and `/admin/users` (issue 19), natively: real actions, then the events
//! found through `GET /admin/audit` by each filter and by paging; retention; the users API's
//! rules (filters, disable, delete, bot users, hostile input).

use super::account::{password_grant, refresh};
use super::support::*;
use crate::objects::audit;
use crate::platform::memory::MemPlatform;
use crate::platform::Objects;
use serde_json::{json, Value};

fn events(p: &MemPlatform, query: &str) -> Vec<Value> {
    let r = admin(p, "GET", &format!("/admin/audit?{query}"), None);
    let v = expect_json(&r, 200);
    v["events"].as_array().unwrap().clone()
}

fn types(list: &[Value]) -> Vec<String> {
    list.iter().map(|e| e["type"].as_str().unwrap().to_owned()).collect()
}

fn app_with_password(p: &MemPlatform) -> (String, String) {
    let body = json!({"name": "Audited", "redirect_uris": ["https://rp.example/cb"], "scopes": ["public"],
        "grant_types": ["authorization_code", "refresh_token", "password"]});
    credentials(&create_app(p, body))
}

fn user_id(p: &MemPlatform, email: &str) -> String {
    let v = expect_json(&admin(p, "GET", &format!("/admin/users?email={}", form_value(email)), None), 200);
    let list = v["users"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{v}");
    list[0]["id"].as_str().unwrap().to_owned()
}

fn form_value(s: &str) -> String {
    crate::http::params::percent_encode(s)
}

#[test]
fn admin_actions_are_events_found_by_app_type_and_time() {
    let p = platform();
    let t0 = now(&p);
    let (id, _) = app_with_password(&p);
    p.advance(1);
    assert_eq!(admin(&p, "PATCH", &format!("/admin/apps/{id}"), Some(&json!({"name": "Renamed"}))).status, 200);
    p.advance(1);
    assert_eq!(admin(&p, "POST", &format!("/admin/apps/{id}/secret"), None).status, 200);
    p.advance(1);
    let (other, _) = app_with_password(&p);

    let all = events(&p, "");
    assert_eq!(types(&all), ["app.create", "app.secret.regenerate", "app.update", "app.create"]);
    let first = &all[3];
    assert_eq!(first["app"], id.as_str());
    assert_eq!(first["actor"], "operator");
    assert_eq!(first["outcome"], "success");
    assert_eq!(first["address"], "192.0.2.1");
    assert!(first["id"].as_str().unwrap().len() >= 16 && first["at"].as_i64().unwrap() == t0);
    assert!(first.get("person").is_none() && first.get("org").is_none());

    assert_eq!(events(&p, &format!("app={id}")).len(), 3);
    assert_eq!(types(&events(&p, &format!("app={other}"))), ["app.create"]);
    assert_eq!(events(&p, "type=app.create").len(), 2);
    assert_eq!(types(&events(&p, &format!("type=app.update&app={id}"))), ["app.update"]);
    assert!(events(&p, "app=nobody").is_empty());
    assert_eq!(events(&p, &format!("since={}", t0 + 1)).len(), 3);
    assert_eq!(events(&p, &format!("until={t0}")).len(), 1);
    assert_eq!(types(&events(&p, &format!("since={}&until={}", t0 + 1, t0 + 2))), ["app.secret.regenerate", "app.update"]);
    assert!(events(&p, &format!("since={}", t0 + 10)).is_empty());
}

#[test]
fn pages_walk_every_event_once_across_days() {
    let p = platform();
    for _ in 0..3 {
        app_with_password(&p);
        p.advance(86_400);
    }
    app_with_password(&p);
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let q = match &cursor {
            Some(c) => format!("/admin/audit?limit=1&cursor={}", form_value(c)),
            None => "/admin/audit?limit=1".to_owned(),
        };
        let v = expect_json(&admin(&p, "GET", &q, None), 200);
        for e in v["events"].as_array().unwrap() {
            seen.push(e["id"].as_str().unwrap().to_owned());
        }
        pages += 1;
        assert!(pages < 20, "paging does not end");
        match v.get("next_cursor").and_then(Value::as_str) {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let all: Vec<String> = events(&p, "").iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(all.len(), 4);
    assert_eq!(seen, all, "newest first, each once");
}

#[test]
fn events_past_the_retention_are_not_shown_and_their_days_are_erased() {
    let mut cfg = crate::config::Config::default();
    cfg.admin_token = Some(crate::config::Secret("admin-secret".into()));
    cfg.audit_retention_days = 2;
    let p = platform_with(cfg);
    app_with_password(&p);
    let day0 = audit::day_of(now(&p));
    assert_eq!(events(&p, "").len(), 1);
    p.advance(2 * 86_400 + 1);
    assert!(events(&p, "").is_empty(), "past the retention");
    // The first event of a later day erases the day objects past the retention.
    p.advance(86_400);
    app_with_password(&p);
    let days = crate::platform::memory::block_on(p.call(&audit::days_object(), audit::Days { from: 0, to: i64::MAX / 2, limit: 10 })).unwrap();
    assert!(!days.contains(&day0), "{days:?}");
    assert_eq!(events(&p, "").len(), 1);
}

#[test]
fn security_events_refresh_reuse_login_limits_and_person_filters() {
    let p = platform();
    let app = app_with_password(&p);
    signed_in(&p, "ann@example.com");
    let ann = user_id(&p, "ann@example.com");
    let t = password_grant(&p, &app, "ann@example.com");
    let rt = t["refresh_token"].as_str().unwrap();
    assert_eq!(refresh(&p, &app, rt).status, 200);
    expect_error(&refresh(&p, &app, rt), 400, "invalid_grant");
    let reuse = events(&p, "type=refresh.reuse");
    assert_eq!(reuse.len(), 1);
    assert_eq!(reuse[0]["app"], app.0.as_str());
    assert_eq!(reuse[0]["outcome"], "refused");
    assert_eq!(reuse[0]["actor"], format!("app:{}", app.0));

    // Wrong passwords past the account's limit.
    let limit = crate::config::Config::default().login_limit_account;
    for _ in 0..=limit {
        let pairs = [("grant_type", "password"), ("username", "ann@example.com"), ("password", "wrong-wrong-1")];
        token_with(&p, &pairs, &[("authorization", &basic(&app.0, &app.1))]);
    }
    let limited = events(&p, "type=login.limited");
    assert!(!limited.is_empty());
    assert_eq!(limited[0]["detail"], "account");

    // A revocation, and the person's own events by person.
    let at = t["access_token"].as_str().unwrap();
    let r = token_with_path(&p, "/oauth/revoke", &[("token", at)], &app);
    assert_eq!(r.status, 200);
    assert_eq!(events(&p, &format!("type=token.revoke&app={}", app.0)).len(), 1);
    let mine = events(&p, &format!("person={ann}"));
    assert!(mine.iter().all(|e| e["person"] == ann.as_str()), "{mine:?}");
}

fn token_with_path(p: &MemPlatform, path: &str, pairs: &[(&str, &str)], (id, secret): &(String, String)) -> crate::http::Response {
    send(p, req("POST", path, &[("content-type", "application/x-www-form-urlencoded"), ("authorization", &basic(id, secret))], form(pairs)))
}

#[test]
fn audit_queries_refuse_what_they_do_not_know() {
    let p = platform();
    for q in ["colour=red", "type=nope", "since=x", "limit=0", "cursor=zzz", "app=", "app=a:b"] {
        expect_error(&admin(&p, "GET", &format!("/admin/audit?{q}"), None), 400, "invalid_request");
    }
    expect_error(&send(&p, req("GET", "/admin/audit?app=%FF", &[("authorization", "Bearer admin-secret")], "")), 400, "invalid_request");
    expect_error(&send(&p, req("GET", "/admin/audit", &[], "")), 401, "invalid_token");
    assert_eq!(admin(&p, "POST", "/admin/audit", None).status, 405);
}

fn log_in(p: &MemPlatform, email: &str) -> crate::http::Response {
    let mut b = Browser::default();
    let page = b.get(p, "/login");
    let body = form(&[("csrf", &csrf_of(&page)), ("email", email), ("password", "plum-kettle-42")]);
    b.post(p, "/login", &body)
}

#[test]
fn operators_list_disable_enable_and_delete_people() {
    let p = platform();
    let app = app_with_password(&p);
    signed_in(&p, "ann@example.com");
    signed_in(&p, "bob@example.com");
    let ann = user_id(&p, "ann@example.com");
    let all = expect_json(&admin(&p, "GET", "/admin/users", None), 200);
    assert_eq!(all["users"].as_array().unwrap().len(), 2);
    let one = expect_json(&admin(&p, "GET", "/admin/users?limit=1", None), 200);
    assert_eq!(one["users"].as_array().unwrap().len(), 1);
    let next = one["next_cursor"].as_str().unwrap();
    let two = expect_json(&admin(&p, "GET", &format!("/admin/users?limit=1&cursor={next}"), None), 200);
    assert_ne!(two["users"][0]["id"], one["users"][0]["id"]);

    let t = password_grant(&p, &app, "ann@example.com");
    let r = admin(&p, "POST", &format!("/admin/users/{ann}/disable"), None);
    let v = expect_json(&r, 200);
    assert_eq!(v["status"], "disabled");
    assert_eq!(v["sessions"], 0, "their sessions ended");
    expect_error(&refresh(&p, &app, t["refresh_token"].as_str().unwrap()), 400, "invalid_grant");
    assert_ne!(log_in(&p, "ann@example.com").status, 303, "a disabled person cannot log in");
    let pairs = [("grant_type", "password"), ("username", "ann@example.com"), ("password", "plum-kettle-42")];
    assert_eq!(token_with(&p, &pairs, &[("authorization", &basic(&app.0, &app.1))]).status, 403);
    let disabled = expect_json(&admin(&p, "GET", "/admin/users?status=disabled", None), 200);
    assert_eq!(disabled["users"].as_array().unwrap().len(), 1);
    assert_eq!(disabled["users"][0]["id"], ann.as_str());
    assert_eq!(events(&p, &format!("type=user.disable&person={ann}")).len(), 1);

    expect_json(&admin(&p, "POST", &format!("/admin/users/{ann}/enable"), None), 200);
    assert_eq!(log_in(&p, "ann@example.com").status, 303);

    assert_eq!(admin(&p, "DELETE", &format!("/admin/users/{ann}"), None).status, 204);
    expect_error(&admin(&p, "GET", &format!("/admin/users/{ann}"), None), 404, "not_found");
    assert_eq!(expect_json(&admin(&p, "GET", "/admin/users", None), 200)["users"].as_array().unwrap().len(), 1);
    assert_eq!(events(&p, "type=user.delete").len(), 1);
    // The email can sign up again.
    signed_in(&p, "ann@example.com");
}

#[test]
fn users_api_refuses_bots_and_hostile_input() {
    let p = platform();
    let r = admin(&p, "POST", "/admin/users/bot_abc/disable", None);
    let e = expect_error(&r, 400, "invalid_request");
    assert!(e["error_description"].as_str().unwrap().contains("bot user"), "{e}");
    expect_error(&admin(&p, "DELETE", "/admin/users/bot_abc", None), 400, "invalid_request");
    for bad in ["/admin/users/a%20b", "/admin/users/%FF", &format!("/admin/users/{}", "a".repeat(200))] {
        expect_error(&admin(&p, "GET", bad, None), 400, "invalid_request");
    }
    expect_error(&admin(&p, "GET", "/admin/users/nobody", None), 404, "not_found");
    for q in ["sort=email", "status=gone", "cursor=", "limit=101"] {
        expect_error(&admin(&p, "GET", &format!("/admin/users?{q}"), None), 400, "invalid_request");
    }
    assert_eq!(admin(&p, "PUT", "/admin/users/x", None).status, 405);
    assert_eq!(admin(&p, "GET", "/admin/users/x/disable", None).status, 405);
    expect_error(&admin(&p, "POST", "/admin/users/x/explode", None), 404, "not_found");
    expect_error(&send(&p, req("GET", "/admin/users", &[], "")), 401, "invalid_token");
}

#[test]
fn a_forced_reset_ends_access_and_mails_a_link() {
    let p = platform();
    signed_in(&p, "ann@example.com");
    let ann = user_id(&p, "ann@example.com");
    let r = admin(&p, "POST", &format!("/admin/users/{ann}/reset-password"), None);
    assert_eq!(r.status, 202, "{}", text(&r));
    assert_ne!(log_in(&p, "ann@example.com").status, 303, "the old password no longer works");
    assert_eq!(events(&p, &format!("type=user.password.reset&person={ann}")).len(), 1);
}
