//! Tenant-wide quotas end to end (issue 15): with `MAX_APPS=3` and `MAX_PEOPLE=2` the admin API
//! creates three apps and refuses the fourth (`409 limit_reached`), a removal frees a slot, and
//! of 8 creations racing for the last slot exactly one wins (the quota object counts them in
//! one atomic step). Sign-up through the page takes two people and refuses the third with a
//! page. The rule tables (refused creations take no slot, duplicates, no quota when unset) run
//! natively in src/routes/tests/quotas.rs.

#[path = "browser/mod.rs"]
mod browser;
mod common;

use browser::*;
use common::*;
use std::sync::OnceLock;

fn s() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| {
        let mut vars = roomy_vars();
        vars.extend([("MAX_APPS", "3"), ("MAX_PEOPLE", "2")]);
        Server::start_with(&vars)
    })
}

#[test]
fn apps_stop_at_the_tenant_quota_and_one_racer_takes_the_last_slot() {
    let s = s();
    let own = owner("quota");
    let mut ids: Vec<String> = (0..3)
        .map(|i| s.create_app(json!({"name": format!("quota {i}"), "owner": own})).id)
        .collect();
    // Another owner does not escape the tenant's quota.
    let v = s
        .post_app(&json!({"name": "fourth", "owner": owner("quota-other")}))
        .expect_error(409, "limit_reached");
    assert!(v["error_description"].as_str().unwrap().contains("limit is 3"), "{v}");
    // A removal frees one slot, and only one.
    let gone = ids.remove(0);
    s.admin("DELETE", &format!("/admin/apps/{gone}"), None).expect(204);
    ids.push(s.create_app(json!({"name": "again", "owner": own})).id);
    s.post_app(&json!({"name": "over", "owner": own}))
        .expect_error(409, "limit_reached");
    // One slot left: of 8 concurrent creations exactly one fits.
    let gone = ids.remove(0);
    s.admin("DELETE", &format!("/admin/apps/{gone}"), None).expect(204);
    let results = concurrently(8, |i| s.post_app(&json!({"name": format!("race {i}"), "owner": own})));
    let mut won = 0;
    for r in &results {
        if r.status == 201 {
            won += 1;
            ids.push(r.json()["client_id"].as_str().unwrap().to_owned());
        } else {
            r.expect_error(409, "limit_reached");
        }
    }
    assert_eq!(won, 1, "exactly one concurrent creation may take the last slot");
    let mut listed = s.owned_ids(&own);
    listed.sort();
    ids.sort();
    assert_eq!(listed, ids);
    s.post_app(&json!({"name": "after the race", "owner": own}))
        .expect_error(409, "limit_reached");
}

#[test]
fn sign_up_stops_at_the_people_quota_with_a_page() {
    let s = s();
    for tag in ["quota-a", "quota-b"] {
        Browser::new(s).sign_up(&Person::new(tag), None);
    }
    let r = Browser::new(s).sign_up_raw(&Person::new("quota-c"), None);
    r.expect(409);
    assert!(
        r.header("content-type").is_some_and(|c| c.starts_with("text/html")),
        "{:?}",
        r.headers
    );
    let html = r.text();
    assert!(html.contains("No new accounts can be made here"), "{html}");
    assert!(!html.contains("id=\"signed-up\""), "{html}");
}
