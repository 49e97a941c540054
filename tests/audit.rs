//! Issue 19 end to end against `wrangler dev`: audit events as data and `/admin/users`. Real
//! actions (an operator's, a person's code flow, consent, a reused refresh token, revocation on
//! the account page, operators acting on people), then the events found through `GET
//! /admin/audit` by each filter and by paging (they are stored after the response, so the test
//! asks until they are there); the users API with hostile input; a disabled person's log-in
//! refused; and, on a deployment with organisations, an organisation's operator who sees
//! nothing of another organisation's people or events.

#[path = "browser/mod.rs"]
mod browser;
mod common;

use browser::*;
use common::*;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn s() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| Server::start_with(&roomy_vars()))
}

fn audit(s: &Server, query: &str) -> Value {
    s.admin("GET", &format!("/admin/audit?{query}"), None).expect_json(200)
}

fn events_of(v: &Value) -> Vec<Value> {
    v["events"].as_array().expect("no events array").clone()
}

/// Asks `GET /admin/audit?<query>` until `done` holds of its events (they are stored just after
/// the response that made them), at most 15 s.
#[track_caller]
fn wait_for(s: &Server, query: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let list = events_of(&audit(s, query));
        if done(&list) {
            return list;
        }
        assert!(Instant::now() < deadline, "events of {query} never came: {list:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn has(list: &[Value], kind: &str) -> bool {
    list.iter().any(|e| e["type"] == kind)
}

fn user_id(s: &Server, email: &str) -> String {
    let v = s.admin("GET", &format!("/admin/users?email={}", form_encode(email)), None).expect_json(200);
    let list = v["users"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{v}");
    assert_eq!(list[0]["email"], email.to_lowercase());
    list[0]["id"].as_str().unwrap().to_owned()
}

#[test]
fn real_actions_are_found_by_app_person_type_time_and_pages() {
    let s = s();
    let started = now();
    let c = Client::web(s, &["public"]);
    let (b, person) = Browser::signed_up(s, "audit-flow");
    let uid = user_id(s, &person.email);
    let (_, refresh, _) = c.tokens(s, &b, "public");
    let next = c.refresh(s, &refresh, None).expect_json(200);
    assert!(next["refresh_token"].is_string());
    let reused = c.refresh(s, &refresh, None);
    reused.expect_error(400, "invalid_grant");
    let reuse_request = reused.header("x-request-id").expect("no x-request-id").to_owned();
    let page = b.get("/account");
    b.submit(&page, "/account/apps/revoke", &[]).expect(303);

    let app_q = format!("app={}", c.id());
    let by_app = wait_for(s, &app_q, |l| {
        ["app.create", "consent.given", "refresh.reuse", "consent.withdrawn"].iter().all(|k| has(l, k))
    });
    assert!(by_app.iter().all(|e| e["app"] == c.id()), "{by_app:?}");
    let times: Vec<i64> = by_app.iter().map(|e| e["at"].as_i64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first: {times:?}");

    let reuse = events_of(&audit(s, &format!("{app_q}&type=refresh.reuse")));
    assert_eq!(reuse.len(), 1, "{reuse:?}");
    assert_eq!(reuse[0]["outcome"], "refused");
    assert_eq!(reuse[0]["actor"], format!("app:{}", c.id()));
    assert_eq!(reuse[0]["request_id"], reuse_request.as_str(), "the event names the request");
    assert!(reuse[0]["address"].is_string());

    let mine = events_of(&audit(s, &format!("person={uid}")));
    assert!(has(&mine, "consent.given") && has(&mine, "consent.withdrawn"), "{mine:?}");
    assert!(mine.iter().all(|e| e["person"] == uid.as_str()));
    let given = events_of(&audit(s, &format!("person={uid}&type=consent.given&{app_q}")));
    assert_eq!(given.len(), 1);
    assert_eq!(given[0]["actor"], format!("person:{uid}"));

    // Time: before the test began there is nothing of this app; from then on, all of it.
    assert!(events_of(&audit(s, &format!("{app_q}&until={}", started - 1))).is_empty());
    assert_eq!(events_of(&audit(s, &format!("{app_q}&since={started}"))).len(), by_app.len());

    // Pages of one: every event once, in the same order.
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..50 {
        let q = match &cursor {
            Some(c) => format!("{app_q}&limit=1&cursor={}", form_encode(c)),
            None => format!("{app_q}&limit=1"),
        };
        let v = audit(s, &q);
        paged.extend(events_of(&v).into_iter().map(|e| e["id"].as_str().unwrap().to_owned()));
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => {
                cursor = None;
                break;
            }
        }
    }
    assert!(cursor.is_none(), "paging did not end");
    let all: Vec<String> = events_of(&audit(s, &app_q)).iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(paged, all);
}

#[test]
fn audit_queries_refuse_hostile_input() {
    let s = s();
    for q in ["colour=red", "type=app.nope", "type=", "since=yesterday", "until=-5", "limit=0", "limit=101",
        "cursor=", "cursor=not-a-cursor", "cursor=1.%FF", "app=a:b", "app=%FF%FE", "person="]
    {
        s.admin("GET", &format!("/admin/audit?{q}"), None).expect_error(400, "invalid_request");
    }
    let long = format!("/admin/audit?app={}", "a".repeat(300));
    s.admin("GET", &long, None).expect_error(400, "invalid_request");
    s.get("/admin/audit").expect_error(401, "invalid_token");
    s.with_bearer("GET", "/admin/audit", "not-the-token", None).expect_error(401, "invalid_token");
    s.admin("POST", "/admin/audit", Some(&json!({}))).expect(405);
}

#[test]
fn operators_disable_reset_end_sessions_and_delete_people() {
    let s = s();
    let (b, person) = Browser::signed_up(s, "audit-users");
    let uid = user_id(s, &person.email);
    let got = s.admin("GET", &format!("/admin/users/{uid}"), None).expect_json(200);
    assert_eq!(got["status"], "active");
    assert_eq!(got["email"], person.email.to_lowercase());
    assert!(got["sessions"].as_u64().unwrap() >= 1, "{got}");

    // Disabled: the session ends, log-in is refused, the listing's filter finds them.
    let v = s.admin("POST", &format!("/admin/users/{uid}/disable"), None).expect_json(200);
    assert_eq!(v["status"], "disabled");
    assert_eq!(v["sessions"], 0);
    assert_eq!(b.get("/account").status, 303, "the session ended");
    let again = Browser::new(s);
    let r = again.log_in_raw(&person.email, &person.password, None);
    assert_ne!(r.status, 303, "a disabled person logged in");
    assert!(again.cookie(SESSION_COOKIE).is_none());
    let listed = s.admin("GET", &format!("/admin/users?status=disabled&email={}", form_encode(&person.email)), None).expect_json(200);
    assert_eq!(listed["users"][0]["id"], uid.as_str());
    let active = s.admin("GET", &format!("/admin/users?status=active&email={}", form_encode(&person.email)), None).expect_json(200);
    assert!(active["users"].as_array().unwrap().is_empty());

    s.admin("POST", &format!("/admin/users/{uid}/enable"), None).expect_json(200);
    let b2 = Browser::new(s);
    b2.log_in(&person, None);
    s.admin("POST", &format!("/admin/users/{uid}/end-sessions"), None).expect_json(200);
    assert_eq!(b2.get("/account").status, 303, "sessions ended");

    // A forced reset: the password stops working at once.
    let r = s.admin("POST", &format!("/admin/users/{uid}/reset-password"), None);
    r.expect(202);
    assert_ne!(Browser::new(s).log_in_raw(&person.email, &person.password, None).status, 303);

    s.admin("DELETE", &format!("/admin/users/{uid}"), None).expect(204);
    s.admin("GET", &format!("/admin/users/{uid}"), None).expect_error(404, "not_found");
    s.admin("DELETE", &format!("/admin/users/{uid}"), None).expect_error(404, "not_found");

    let q = format!("person={uid}");
    let list = wait_for(s, &q, |l| {
        ["user.disable", "user.enable", "user.sessions.end", "user.password.reset", "user.delete"].iter().all(|k| has(l, k))
    });
    assert!(list.iter().filter(|e| e["type"].as_str().unwrap().starts_with("user.")).all(|e| e["actor"] == "admin-token"));
    // The email signs up again as a new person.
    Browser::new(s).sign_up(&person, None);
    assert_ne!(user_id(s, &person.email), uid);
}

#[test]
fn users_api_refuses_bots_and_hostile_input() {
    let s = s();
    let r = s.admin("POST", "/admin/users/bot_someapp/disable", None);
    let e = r.expect_error(400, "invalid_request");
    assert!(e["error_description"].as_str().unwrap().contains("bot user"), "{e}");
    s.admin("DELETE", "/admin/users/bot_someapp", None).expect_error(400, "invalid_request");
    for path in ["/admin/users/a%20b", "/admin/users/%FF%FE", "/admin/users/a.b"] {
        s.admin("GET", path, None).expect_error(400, "invalid_request");
    }
    s.admin("GET", &format!("/admin/users/{}", "a".repeat(300)), None).expect_error(400, "invalid_request");
    s.admin("GET", "/admin/users/nobody-here", None).expect_error(404, "not_found");
    for q in ["sort=email", "status=gone", "status=", "cursor=", "cursor=a%20b", "limit=0", "email=%FF"] {
        s.admin("GET", &format!("/admin/users?{q}"), None).expect_error(400, "invalid_request");
    }
    s.admin("GET", &format!("/admin/users?email={}", "a".repeat(300)), None).expect_error(400, "invalid_request");
    // The actions take no body, whatever its type.
    let auth = bearer(s.admin_token.as_deref().unwrap());
    for (ct, body) in [("text/plain", &b"disable"[..]), ("application/json", &b"{}"[..]), ("application/octet-stream", &[0xff, 0xfe][..])] {
        let r = s.request("POST", "/admin/users/someone/disable", Req {
            headers: &[("authorization", &auth), ("content-type", ct)],
            body: Some(body),
            ..Default::default()
        });
        r.expect_error(400, "invalid_request");
    }
    s.admin("PUT", "/admin/users/someone", Some(&json!({}))).expect(405);
    s.admin("GET", "/admin/users/someone/disable", None).expect(405);
    s.admin("POST", "/admin/users/someone/explode", None).expect_error(404, "not_found");
    s.get("/admin/users").expect_error(401, "invalid_token");
}

/// A deployment with organisations: each organisation's operator sees its own events and
/// people only, and cannot reach another's.
#[test]
fn an_organisations_operator_sees_nothing_of_another() {
    let s = Server::start_with(&[("ORG_DOMAIN", "localhost")]);
    let tag = rand_hex(3);
    let (la, lb) = (format!("aud-a-{tag}"), format!("aud-b-{tag}"));
    let a = s.create_org(&la);
    let b = s.create_org(&lb);
    let platform = s.platform_host();
    let op = |label: &str| -> String {
        let v = platform.admin("POST", &format!("/admin/orgs/{label}/operators"), Some(&json!({"name": "ops"}))).expect_json(201);
        v["token"].as_str().unwrap().to_owned()
    };
    let (ta, tb) = (op(&la), op(&lb));
    let app = App::from_json(
        a.with_bearer("POST", "/admin/apps", &ta, Some(&json!({"name": "A's app", "redirect_uris": ["https://a.example/cb"]})))
            .expect_json(201),
    );

    let deadline = Instant::now() + Duration::from_secs(15);
    let in_a = loop {
        let v = a.with_bearer("GET", &format!("/admin/audit?app={}", app.id), &ta, None).expect_json(200);
        let list = events_of(&v);
        if has(&list, "app.create") {
            break list;
        }
        assert!(Instant::now() < deadline, "no event at A: {v}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(in_a.iter().all(|e| e["org"] == la.as_str()), "{in_a:?}");
    // B's operator (and B's host, even with the platform's token) sees none of A's events.
    let at_b = b.with_bearer("GET", &format!("/admin/audit?app={}", app.id), &tb, None).expect_json(200);
    assert!(events_of(&at_b).is_empty(), "{at_b}");
    let all_b = b.admin("GET", "/admin/audit", None).expect_json(200);
    assert!(events_of(&all_b).iter().all(|e| e["app"] != app.id.as_str()), "{all_b}");
    // The platform's own events: the organisations' creation, not A's app.
    let plat = loop {
        let list = events_of(&platform.admin("GET", "/admin/audit?type=org.create", None).expect_json(200));
        if list.iter().any(|e| e["org"] == la.as_str()) && list.iter().any(|e| e["org"] == lb.as_str()) {
            break list;
        }
        assert!(Instant::now() < deadline, "no org.create at the platform: {list:?}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(plat.iter().all(|e| e["actor"] == "operator"));
    assert!(events_of(&platform.admin("GET", &format!("/admin/audit?app={}", app.id), None).expect_json(200)).is_empty());

    // A's operator token is nothing at B or at the platform.
    b.with_bearer("GET", "/admin/audit", &ta, None).expect_error(401, "invalid_token");
    b.with_bearer("GET", "/admin/users", &ta, None).expect_error(401, "invalid_token");
    platform.with_bearer("GET", "/admin/users", &ta, None).expect_error(401, "invalid_token");
    // Each organisation's people are its own: none yet at either.
    let users_a = a.with_bearer("GET", "/admin/users", &ta, None).expect_json(200);
    assert_eq!(users_a["users"], json!([]));
    a.with_bearer("POST", "/admin/users/someone/disable", &ta, None).expect_error(404, "not_found");
}
