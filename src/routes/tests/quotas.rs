//! Tenant-wide quotas of apps and people (`MAX_APPS`, `MAX_PEOPLE`, or an organisation's):
//! exact at the limit, freed by a removal, untouched by refused creations, shown to people as
//! a page and to APIs as RFC 6749 JSON, and absent when unset. The race of creations for the
//! last slot runs end to end (tests/quotas.rs).

use super::support::*;
use crate::config::{Config, Secret};
use crate::objects::quota::{self, Resource};
use crate::platform::memory::{block_on, MemPlatform};
use crate::platform::Objects;
use serde_json::json;

fn quota_platform(max_apps: Option<u32>, max_people: Option<u32>) -> MemPlatform {
    let mut cfg = Config::default();
    cfg.admin_token = Some(Secret("admin-secret".into()));
    cfg.quotas.max_apps = max_apps;
    cfg.quotas.max_people = max_people;
    platform_with(cfg)
}

/// How many members the tenant's quota object counts.
fn used(p: &MemPlatform, resource: Resource) -> u32 {
    block_on(p.call(&quota::object(), quota::Used { resource })).unwrap().used
}

fn post_app(p: &MemPlatform, name: &str, owner: &str) -> crate::http::Response {
    admin(p, "POST", "/admin/apps", Some(&json!({"name": name, "owner": owner})))
}

/// A sign-up through the page (`GET /signup` for the CSRF field, then the form).
fn sign_up(p: &MemPlatform, email: &str) -> crate::http::Response {
    let mut b = Browser::default();
    let page = b.get(p, "/signup");
    let csrf = csrf_of(&page);
    b.post(
        p,
        "/signup",
        &form(&[("csrf", &csrf), ("email", email), ("password", "plum-kettle-42"), ("name", "Someone")]),
    )
}

#[track_caller]
fn assert_signed_up(r: &crate::http::Response) {
    assert_eq!(r.status, 200, "{}", text(r));
    assert!(text(r).contains(r#"id="signed-up""#), "{}", text(r));
}

#[track_caller]
fn assert_people_full(r: &crate::http::Response) {
    assert_eq!(r.status, 409, "{}", text(r));
    assert!(
        r.get_header("content-type").is_some_and(|c| c.starts_with("text/html")),
        "{:?}",
        r.headers
    );
    let html = text(r);
    assert!(html.contains("No new accounts can be made here"), "{html}");
    assert!(!html.contains(r#"id="signed-up""#), "{html}");
}

#[test]
fn the_app_quota_is_tenant_wide_exact_and_freed_by_a_removal() {
    let p = quota_platform(Some(3), None);
    // Three owners, one tenant: the quota counts them all together.
    let ids: Vec<String> = (0..3)
        .map(|i| {
            let v = create_app(&p, json!({"name": format!("q{i}"), "owner": format!("owner-{i}")}));
            v["client_id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(used(&p, Resource::Apps), 3);
    let v = expect_error(&post_app(&p, "fourth", "owner-new"), 409, "limit_reached");
    assert!(v["error_description"].as_str().unwrap().contains("limit is 3"), "{v}");
    // RFC 7591 registration is refused alike, as JSON.
    let meta = json!({"redirect_uris": ["https://client.example/cb"], "client_name": "Dyn"});
    expect_error(&register(&p, None, &meta), 409, "limit_reached");
    assert_eq!(used(&p, Resource::Apps), 3);
    // Removing one frees exactly one slot; removing it again changes nothing.
    let del = admin(&p, "DELETE", &format!("/admin/apps/{}", ids[0]), None);
    assert_eq!(del.status, 204, "{}", text(&del));
    assert_eq!(admin(&p, "DELETE", &format!("/admin/apps/{}", ids[0]), None).status, 404);
    assert_eq!(used(&p, Resource::Apps), 2);
    let r = register(&p, None, &meta);
    assert_eq!(r.status, 201, "{}", text(&r));
    expect_error(&post_app(&p, "fifth", "owner-new"), 409, "limit_reached");
    // Deleting a registered app (RFC 7592) frees its slot too.
    let reg = json(&r);
    let uri = reg["registration_client_uri"].as_str().unwrap().trim_start_matches(ORIGIN).to_owned();
    let rat = reg["registration_access_token"].as_str().unwrap();
    assert_eq!(with_bearer(&p, "DELETE", &uri, rat).status, 204);
    assert_eq!(used(&p, Resource::Apps), 2);
    create_app(&p, json!({"name": "again", "owner": "owner-new"}));
    assert_eq!(used(&p, Resource::Apps), 3);
}

#[test]
fn refused_creations_take_no_slot_of_the_app_quota() {
    let mut cfg = Config::default();
    cfg.admin_token = Some(Secret("admin-secret".into()));
    cfg.quotas.max_apps = Some(2);
    cfg.max_apps_per_owner = 1;
    let p = platform_with(cfg);
    // Invalid metadata is refused before anything is counted.
    for body in [
        json!({"name": "", "owner": "a"}),
        json!({"name": "bad", "owner": "bad owner"}),
        json!({"name": "bad", "owner": "a", "redirect_uris": ["http://evil.example/cb"]}),
        json!({"name": "bad", "owner": "a", "grant_types": ["client_credentials"]}),
    ] {
        let r = admin(&p, "POST", "/admin/apps", Some(&body));
        assert_eq!(r.status, 400, "{body}: {}", text(&r));
    }
    assert_eq!(used(&p, Resource::Apps), 0);
    create_app(&p, json!({"name": "one", "owner": "a"}));
    // Refused by the owner's own limit after the tenant's quota counted it: the tenant's slot
    // is given back.
    let v = expect_error(&post_app(&p, "two", "a"), 409, "limit_reached");
    assert!(v["error_description"].as_str().unwrap().contains("this owner"), "{v}");
    assert_eq!(used(&p, Resource::Apps), 1);
    create_app(&p, json!({"name": "two", "owner": "b"}));
    assert_eq!(used(&p, Resource::Apps), 2);
    let v = expect_error(&post_app(&p, "three", "c"), 409, "limit_reached");
    assert!(v["error_description"].as_str().unwrap().contains("limit is 2"), "{v}");
}

#[test]
fn the_apps_and_registration_pages_show_a_full_app_quota_on_the_page() {
    let p = quota_platform(Some(1), None);
    create_app(&p, json!({"name": "only", "owner": "op"}));
    let mut b = signed_in(&p, "owner@dev.example");
    let csrf = csrf_of(&b.get(&p, "/apps"));
    let add = [("csrf", csrf.as_str()), ("name", "Mine"), ("redirect_uri", "https://mine.example/cb")];
    let r = b.post(&p, "/apps", &form(&add));
    assert_eq!(r.status, 400, "{}", text(&r));
    assert!(text(&r).contains("limit is 1"), "{}", text(&r));
    // The registration page's Register: a 409 page, no redirect with credentials.
    let fields = [
        ("name", "Registered"),
        ("homepage", "https://dev.example"),
        ("email", "dev@dev.example"),
        ("redirect_uri", "https://dev.example/cb"),
    ];
    let page = b.get(&p, &format!("/oauth/register?{}", form(&fields)));
    assert_eq!(page.status, 200, "{}", text(&page));
    let csrf = csrf_of(&page);
    let mut confirm = fields.to_vec();
    confirm.extend([("csrf", csrf.as_str()), ("decision", "register")]);
    let r = b.post(&p, "/oauth/register/confirm", &form(&confirm));
    assert_eq!(r.status, 409, "{}", text(&r));
    assert!(r.get_header("location").is_none());
    assert!(text(&r).contains("You cannot register more apps"), "{}", text(&r));
    assert_eq!(used(&p, Resource::Apps), 1);
}

#[test]
fn the_people_quota_refuses_sign_up_with_a_page_and_duplicates_take_no_slot() {
    let p = quota_platform(None, Some(2));
    assert_signed_up(&sign_up(&p, "one@people.example"));
    assert_eq!(used(&p, Resource::People), 1);
    // An email that already has an account is answered as a new one, and counts nothing.
    assert_signed_up(&sign_up(&p, "ONE@people.example"));
    assert_eq!(used(&p, Resource::People), 1);
    // A refused sign-up (bad password) counts nothing either.
    let mut b = Browser::default();
    let csrf = csrf_of(&b.get(&p, "/signup"));
    let r = b.post(
        &p,
        "/signup",
        &form(&[("csrf", &csrf), ("email", "x@people.example"), ("password", "short"), ("name", "X")]),
    );
    assert_eq!(r.status, 400, "{}", text(&r));
    assert_eq!(used(&p, Resource::People), 1);
    assert_signed_up(&sign_up(&p, "two@people.example"));
    assert_eq!(used(&p, Resource::People), 2);
    // Full: a new email and an existing one get the same page (nothing says which exists).
    assert_people_full(&sign_up(&p, "three@people.example"));
    assert_people_full(&sign_up(&p, "one@people.example"));
    assert_eq!(used(&p, Resource::People), 2);
    // The people who have accounts still log in.
    let mut b = Browser::default();
    let csrf = csrf_of(&b.get(&p, "/login"));
    let r = b.post(
        &p,
        "/login",
        &form(&[("csrf", &csrf), ("email", "two@people.example"), ("password", "plum-kettle-42")]),
    );
    assert_eq!(r.status, 303, "{}", text(&r));
    // The app quota is not the people quota.
    create_app(&p, json!({"name": "any", "owner": "o"}));
}

#[test]
fn without_a_limit_everything_is_counted_and_nothing_refused() {
    let p = quota_platform(None, None);
    let mut ids = Vec::new();
    for i in 0..5 {
        let v = create_app(&p, json!({"name": format!("n{i}"), "owner": "o"}));
        ids.push(v["client_id"].as_str().unwrap().to_owned());
        assert_signed_up(&sign_up(&p, &format!("p{i}@people.example")));
    }
    assert_eq!(used(&p, Resource::Apps), 5);
    assert_eq!(used(&p, Resource::People), 5);
    for id in &ids {
        assert_eq!(admin(&p, "DELETE", &format!("/admin/apps/{id}"), None).status, 204);
    }
    assert_eq!(used(&p, Resource::Apps), 0);
}
