//! The console's People and Audit pages and the people code's fixes (issue 19), natively: a
//! forced reset (an unusable password of its own, sessions and pending second steps ended,
//! passkeys and TOTP kept, its own email, a working link), the people index after an email
//! change, the operator as the audit actor, and the pages' roles, CSRF and hostile input.

use super::mail::{confirm, link_token, log_in, outbox};
use super::support::*;
use super::two_factor::{at_second_step, code_now, enrol, has_session, second_step};
use crate::objects::{account, passkey};
use crate::platform::memory::{block_on, MemPlatform};
use crate::platform::Objects;
use serde_json::Value;

const OP_PW: &str = "correct horse battery staple";

fn user_id(p: &MemPlatform, email: &str) -> String {
    let v = expect_json(
        &admin(
            p,
            "GET",
            &format!(
                "/admin/users?email={}",
                crate::http::params::percent_encode(email)
            ),
            None,
        ),
        200,
    );
    v["users"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{email} not listed: {v}"))
        .to_owned()
}

fn hash_of(p: &MemPlatform, email: &str) -> String {
    block_on(p.call(&account::object(email), account::Peek {}))
        .unwrap()
        .unwrap()
        .password_hash
}

fn events(p: &MemPlatform, query: &str) -> Vec<Value> {
    expect_json(&admin(p, "GET", &format!("/admin/audit?{query}"), None), 200)["events"]
        .as_array()
        .unwrap()
        .clone()
}

fn reset_via_link(p: &MemPlatform, token: &str, password: &str) -> crate::http::Response {
    let mut b = Browser::default();
    let page = b.get(p, &format!("/reset?{}", form(&[("token", token)])));
    if page.status != 200 {
        return page;
    }
    let csrf = csrf_of(&page);
    b.post(
        p,
        "/reset",
        &form(&[("csrf", &csrf), ("token", token), ("password", password)]),
    )
}

#[test]
fn a_forced_reset_ends_access_keeps_the_other_factors_and_mails_a_link_that_works() {
    let p = platform();
    let mut ann = signed_in(&p, "ann@example.com");
    // A verified mailbox (a reset link on an account never verified erases the factors anyway).
    let verify = link_token(&p, "ann@example.com", "/verify");
    assert_eq!(confirm(&p, "/verify", &verify).status, 200);
    let (secret, _) = enrol(&p, &mut ann);
    let id = user_id(&p, "ann@example.com");
    let key = passkey::PasskeyRecord {
        id: "cred1".into(),
        public_key: "AA".into(),
        alg: -7,
        sign_count: 0,
        name: "Laptop".into(),
        created_at: now(&p),
        last_used_at: None,
        backup_eligible: false,
        backed_up: false,
        aaguid: String::new(),
        transports: vec![],
    };
    block_on(p.call(&passkey::object(&id), passkey::Add { record: key })).unwrap();
    // A log-in halfway through its second step, and a /forgot link asked before the reset.
    let mut halfway = at_second_step(&p, "ann@example.com");
    let mut b = Browser::default();
    let csrf = csrf_of(&b.get(&p, "/forgot"));
    assert_eq!(
        b.post(
            &p,
            "/forgot",
            &form(&[("csrf", &csrf), ("email", "ann@example.com")])
        )
        .status,
        200
    );
    let before = link_token(&p, "ann@example.com", "/reset");
    p.advance(1);

    let r = admin(&p, "POST", &format!("/admin/users/{id}/reset-password"), None);
    assert_eq!(r.status, 202, "{}", text(&r));
    // The password is unusable, with a marker of this reset's own (not one constant).
    let first = hash_of(&p, "ann@example.com");
    assert!(
        first.starts_with(crate::admin::users::UNUSABLE_PREFIX) && first.len() > 40,
        "{first}"
    );
    assert_eq!(log_in(&p, "ann@example.com", "plum-kettle-42").0, 401);
    assert!(
        !text(&ann.get(&p, "/")).contains("Signed in as"),
        "the session ended"
    );
    // The pending second step no longer completes, even with the right code.
    let r = second_step(&p, &mut halfway, &code_now(&p, &secret, 0), false);
    assert!(!has_session(&r) && r.status == 401, "{}", text(&r));
    // The link asked before the reset is dead; the mail says what happened.
    assert_ne!(reset_via_link(&p, &before, "fresh-pass-word-1").status, 303);
    let mail = outbox(&p, "ann@example.com").last().cloned().unwrap();
    assert!(
        mail["subject"]
            .as_str()
            .unwrap()
            .starts_with("Your password was reset"),
        "{mail}"
    );
    let body = mail["text"].as_str().unwrap();
    assert!(
        body.contains("An operator")
            && body.contains("no longer works")
            && body.contains("passkeys and two-factor authentication stay"),
        "{body}"
    );
    assert!(!body.contains("your password stays as it is"), "{body}");
    let link1 = link_token(&p, "ann@example.com", "/reset");
    // A second forced reset: another marker, and the first reset's link dies.
    p.advance(1);
    assert_eq!(
        admin(&p, "POST", &format!("/admin/users/{id}/reset-password"), None).status,
        202
    );
    assert_ne!(hash_of(&p, "ann@example.com"), first);
    assert_ne!(reset_via_link(&p, &link1, "fresh-pass-word-1").status, 303);
    // The newest link sets a new password; TOTP and the passkey remain.
    let link2 = link_token(&p, "ann@example.com", "/reset");
    let r = reset_via_link(&p, &link2, "fresh-pass-word-2");
    assert!(r.status < 400, "{}", text(&r));
    assert_eq!(
        block_on(p.call(&passkey::object(&id), passkey::List {}))
            .unwrap()
            .len(),
        1
    );
    p.advance(crate::rules::totp::STEP);
    let mut b = Browser::default();
    let csrf = csrf_of(&b.get(&p, "/login"));
    let r = b.post(
        &p,
        "/login",
        &form(&[
            ("csrf", &csrf),
            ("email", "ann@example.com"),
            ("password", "fresh-pass-word-2"),
        ]),
    );
    assert_eq!(
        r.get_header("location"),
        Some("/login/2fa"),
        "the second factor is still asked"
    );
    assert_eq!(
        second_step(&p, &mut b, &code_now(&p, &secret, 0), false).status,
        303
    );
    // Two people reset: two different markers.
    signed_in(&p, "bob@example.com");
    let bob = user_id(&p, "bob@example.com");
    assert_eq!(
        admin(&p, "POST", &format!("/admin/users/{bob}/reset-password"), None).status,
        202
    );
    let bobs = hash_of(&p, "bob@example.com");
    assert!(
        bobs.starts_with(crate::admin::users::UNUSABLE_PREFIX) && bobs != first,
        "{bobs}"
    );
    // Every action's actor is the admin token.
    let ev = events(&p, &format!("type=user.password.reset&person={id}"));
    assert!(
        !ev.is_empty() && ev.iter().all(|e| e["actor"] == "admin-token"),
        "{ev:?}"
    );
}

#[test]
fn an_email_change_moves_the_person_in_the_people_index() {
    let p = platform();
    let mut me = signed_in(&p, "old@example.com");
    let id = user_id(&p, "old@example.com");
    let csrf = csrf_of(&me.get(&p, "/account/email"));
    let r = me.post(
        &p,
        "/account/email",
        &form(&[
            ("csrf", &csrf),
            ("email", "new@example.com"),
            ("current_password", "plum-kettle-42"),
        ]),
    );
    assert_eq!(r.status, 200, "{}", text(&r));
    let token = link_token(&p, "new@example.com", "/account/email/confirm");
    assert_eq!(confirm(&p, "/account/email/confirm", &token).status, 200);
    assert_eq!(user_id(&p, "new@example.com"), id);
    let old = expect_json(&admin(&p, "GET", "/admin/users?email=old%40", None), 200);
    assert_eq!(old["users"].as_array().unwrap().len(), 0, "{old}");
    let all = expect_json(&admin(&p, "GET", "/admin/users", None), 200);
    assert_eq!(all["users"][0]["email"], "new@example.com");
}

// ---------------------------------------------------------------------------------------------
// The console's pages
// ---------------------------------------------------------------------------------------------

/// A console browser signed in as a new operator of `role` (the first one set up as owner).
fn operator(p: &MemPlatform, email: &str, role: &str) -> Browser {
    let mut b = Browser::default();
    let page = b.get(p, "/admin/console/login");
    let csrf = csrf_of(&page);
    if text(&page).contains("Set up the console") {
        let r = b.post(
            p,
            "/admin/console/setup",
            &form(&[
                ("csrf", &csrf),
                ("token", "admin-secret"),
                ("name", "Olga Owner"),
                ("email", email),
                ("password", OP_PW),
            ]),
        );
        assert_eq!(r.status, 303, "{}", text(&r));
        return b;
    }
    let body = serde_json::json!({"email": email, "name": role, "role": role, "password": OP_PW});
    assert_eq!(admin(p, "POST", "/admin/operators", Some(&body)).status, 201);
    let r = b.post(
        p,
        "/admin/console/login",
        &form(&[("csrf", &csrf), ("email", email), ("password", OP_PW)]),
    );
    assert_eq!(r.status, 303, "{}", text(&r));
    b
}

fn console_csrf(p: &MemPlatform, b: &mut Browser) -> String {
    csrf_of(&b.get(p, "/admin/console/people"))
}

fn operator_id(p: &MemPlatform, email: &str) -> String {
    let v = expect_json(&admin(p, "GET", "/admin/operators", None), 200);
    v["operators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["email"] == email)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn the_people_pages_list_search_show_and_act_with_the_operator_as_actor() {
    let p = platform();
    let mut owner = operator(&p, "owner@example.com", "owner");
    let mut ro = operator(&p, "ro@example.com", "read_only");
    let mut ann_browser = signed_in(&p, "ann@example.com");
    signed_in(&p, "bob@example.com");
    let ann = user_id(&p, "ann@example.com");

    let list = text(&owner.get(&p, "/admin/console/people"));
    assert!(
        list.contains("ann@example.com") && list.contains("bob@example.com"),
        "{list}"
    );
    assert!(
        list.contains(r#"href="/admin/console/people""#) && list.contains(r#"href="/admin/console/audit""#),
        "the navigation lists both"
    );
    let found = text(&owner.get(&p, "/admin/console/people?q=NN%40example&status="));
    assert!(
        found.contains("ann@example.com") && !found.contains("bob@example.com"),
        "{found}"
    );
    let none = text(&owner.get(&p, "/admin/console/people?status=disabled"));
    assert!(none.contains("id=\"no-people\""), "{none}");
    // The person's page and what a read-only operator sees of it: everything, no button.
    let page = text(&owner.get(&p, &format!("/admin/console/people/{ann}")));
    assert!(
        page.contains(&ann)
            && page.contains("1 live")
            && page.contains("id=\"disable\"")
            && page.contains("id=\"reset-password\""),
        "{page}"
    );
    assert!(
        page.contains("not verified") && page.contains("Passkeys and two-factor authentication remain"),
        "{page}"
    );
    let seen = send(
        &p,
        req(
            "GET",
            &format!("/admin/console/people/{ann}"),
            &[("cookie", &ro.headers())],
            "",
        ),
    );
    assert_eq!(seen.status, 200);
    assert!(
        text(&seen).contains(&ann)
            && !text(&seen).contains("id=\"person-actions\"")
            && !text(&seen).contains("/disable"),
        "{}",
        text(&seen)
    );
    assert_eq!(
        ro.get(&p, &format!("/admin/console/people/{ann}/delete")).status,
        403
    );
    // Read-only POSTs are refused and change nothing.
    let ro_csrf = console_csrf(&p, &mut ro);
    for action in ["disable", "enable", "reset-password", "end-sessions", "delete"] {
        let r = ro.post(
            &p,
            &format!("/admin/console/people/{ann}/{action}"),
            &form(&[("csrf", &ro_csrf), ("confirm", "yes")]),
        );
        assert_eq!(r.status, 403, "{action}: {}", text(&r));
    }
    // Without the CSRF token, or another session's: refused, nothing changed.
    let csrf = console_csrf(&p, &mut owner);
    for bad in [
        vec![],
        vec![("csrf", ro_csrf.as_str())],
        vec![("csrf", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")],
    ] {
        let r = owner.post(&p, &format!("/admin/console/people/{ann}/disable"), &form(&bad));
        assert_eq!(r.status, 403, "{}", text(&r));
    }
    assert_eq!(
        expect_json(&admin(&p, "GET", &format!("/admin/users/{ann}"), None), 200)["status"],
        "active"
    );
    assert!(text(&ann_browser.get(&p, "/")).contains("Signed in as"));

    // The owner acts: disable, enable, end sessions, reset; each an event by this operator.
    let oid = operator_id(&p, "owner@example.com");
    p.advance(1);
    let r = owner.post(
        &p,
        &format!("/admin/console/people/{ann}/disable"),
        &form(&[("csrf", &csrf)]),
    );
    assert_eq!(r.status, 303, "{}", text(&r));
    assert_eq!(
        r.get_header("location"),
        Some(format!("/admin/console/people/{ann}?done=disabled").as_str())
    );
    assert_eq!(
        expect_json(&admin(&p, "GET", &format!("/admin/users/{ann}"), None), 200)["status"],
        "disabled"
    );
    assert!(
        !text(&ann_browser.get(&p, "/")).contains("Signed in as"),
        "their session ended"
    );
    assert!(
        text(&owner.get(&p, &format!("/admin/console/people/{ann}?done=disabled"))).contains("id=\"enable\"")
    );
    for action in ["enable", "end-sessions", "reset-password"] {
        p.advance(1);
        let r = owner.post(
            &p,
            &format!("/admin/console/people/{ann}/{action}"),
            &form(&[("csrf", &csrf)]),
        );
        assert_eq!(r.status, 303, "{action}: {}", text(&r));
    }
    let page = text(&owner.get(&p, &format!("/admin/console/people/{ann}?done=reset")));
    assert!(
        page.contains("reset: waiting for a new one")
            && page.contains("Passkeys and two-factor authentication remain"),
        "{page}"
    );
    let ev = events(&p, &format!("person={ann}"));
    let by_owner: Vec<&str> = ev
        .iter()
        .filter(|e| e["actor"] == format!("operator:{oid}"))
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        by_owner,
        [
            "user.password.reset",
            "user.sessions.end",
            "user.enable",
            "user.disable"
        ],
        "{ev:?}"
    );
    // Delete: a confirmation page, and a POST without the confirmation changes nothing.
    let confirm_page = owner.get(&p, &format!("/admin/console/people/{ann}/delete"));
    assert!(confirm_page.status == 200 && text(&confirm_page).contains("id=\"confirm-delete\""));
    let r = owner.post(
        &p,
        &format!("/admin/console/people/{ann}/delete"),
        &form(&[("csrf", &csrf)]),
    );
    assert_eq!(r.status, 400, "{}", text(&r));
    assert_eq!(admin(&p, "GET", &format!("/admin/users/{ann}"), None).status, 200);
    let r = owner.post(
        &p,
        &format!("/admin/console/people/{ann}/delete"),
        &form(&[("csrf", &csrf), ("confirm", "yes")]),
    );
    assert_eq!(r.status, 303, "{}", text(&r));
    assert_eq!(admin(&p, "GET", &format!("/admin/users/{ann}"), None).status, 404);
    assert_eq!(owner.get(&p, &format!("/admin/console/people/{ann}")).status, 404);
    assert_eq!(
        events(&p, &format!("type=user.delete&person={ann}"))[0]["actor"],
        format!("operator:{oid}")
    );
    // The users API with a console session records the operator too.
    let bob = user_id(&p, "bob@example.com");
    let h = [
        ("cookie", owner.headers()),
        ("x-csrf-token", csrf.clone()),
        ("origin", ORIGIN.to_owned()),
    ];
    let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        send(
            &p,
            req("POST", &format!("/admin/users/{bob}/end-sessions"), &h, "")
        )
        .status,
        200
    );
    assert_eq!(
        events(&p, &format!("type=user.sessions.end&person={bob}"))[0]["actor"],
        format!("operator:{oid}")
    );
}

#[test]
fn the_people_and_audit_pages_refuse_hostile_input_with_a_page() {
    let p = platform();
    let mut owner = operator(&p, "owner@example.com", "owner");
    signed_in(&p, "ann@example.com");
    let ann = user_id(&p, "ann@example.com");
    let csrf = console_csrf(&p, &mut owner);
    for q in [
        "status=gone",
        "cursor=a%20b",
        "q=%FF",
        "q=a&q=b",
        &format!("q={}", "a".repeat(300)),
        "colour=red",
    ] {
        let r = owner.get(&p, &format!("/admin/console/people?{q}"));
        assert_eq!(r.status, 400, "{q}: {}", text(&r));
        assert!(
            r.get_header("content-type").unwrap().starts_with("text/html"),
            "{q}"
        );
    }
    for q in [
        "type=nope",
        "from=yesterday",
        "to=2026-02-30",
        "person=a%20b",
        "app=%00",
        "cursor=x",
        "type=a&type=b",
        "from=%FF",
        &format!("app={}", "a".repeat(5000)),
    ] {
        let r = owner.get(&p, &format!("/admin/console/audit?{q}"));
        assert_eq!(r.status, 400, "{q}: {}", text(&r));
        assert!(text(&r).contains("id=\"f-type\""), "the form is shown again: {q}");
    }
    for id in ["a%20b", "%FF", "bot_x", &"a".repeat(200)] {
        assert_eq!(
            owner.get(&p, &format!("/admin/console/people/{id}")).status,
            400,
            "{id}"
        );
    }
    assert_eq!(owner.get(&p, "/admin/console/people/nobody").status, 404);
    assert_eq!(
        owner
            .post(
                &p,
                "/admin/console/people/nobody/disable",
                &form(&[("csrf", &csrf)])
            )
            .status,
        404
    );
    // Forms: the one parser's rules, and the right content type.
    let c = owner.headers();
    let path = format!("/admin/console/people/{ann}/disable");
    for (ct, body) in [
        ("application/json", "{}".to_owned()),
        ("text/plain", format!("csrf={csrf}")),
        ("multipart/form-data", format!("csrf={csrf}")),
    ] {
        assert_eq!(
            send(
                &p,
                req(
                    "POST",
                    &path,
                    &[("cookie", &c), ("content-type", ct), ("origin", ORIGIN)],
                    body
                )
            )
            .status,
            415,
            "{ct}"
        );
    }
    for body in [format!("csrf={csrf}&x=%FF"), format!("csrf={csrf}&csrf={csrf}")] {
        let r = send(
            &p,
            req(
                "POST",
                &path,
                &[
                    ("cookie", &c),
                    ("content-type", "application/x-www-form-urlencoded"),
                    ("origin", ORIGIN),
                ],
                body,
            ),
        );
        assert_eq!(r.status, 400, "{}", text(&r));
    }
    assert_eq!(
        expect_json(&admin(&p, "GET", &format!("/admin/users/{ann}"), None), 200)["status"],
        "active"
    );
    assert_eq!(
        owner
            .get(&p, &format!("/admin/console/people/{ann}/disable"))
            .status,
        405
    );
    // A session that is not one: to the sign-in page, and a POST is refused.
    let mut forged = Browser {
        cookies: vec![(
            "portcullis_console".into(),
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
        )],
    };
    assert_eq!(
        forged.get(&p, "/admin/console/people").get_header("location"),
        Some("/admin/console/login")
    );
    assert_eq!(
        forged.get(&p, "/admin/console/audit").get_header("location"),
        Some("/admin/console/login")
    );
    assert_eq!(forged.post(&p, &path, &form(&[("csrf", &csrf)])).status, 403);
}

#[test]
fn the_audit_page_filters_and_pages_newest_first() {
    let p = platform();
    let mut owner = operator(&p, "owner@example.com", "owner");
    let mut ro = operator(&p, "ro@example.com", "read_only");
    signed_in(&p, "ann@example.com");
    let ann = user_id(&p, "ann@example.com");
    let csrf = console_csrf(&p, &mut owner);
    for _ in 0..3 {
        p.advance(60);
        assert_eq!(
            owner
                .post(
                    &p,
                    &format!("/admin/console/people/{ann}/end-sessions"),
                    &form(&[("csrf", &csrf)])
                )
                .status,
            303
        );
    }
    p.advance(1);
    let app = create_app(
        &p,
        serde_json::json!({"name": "Audited", "redirect_uris": ["https://rp.example/cb"], "scopes": ["public"]}),
    );
    let client_id = app["client_id"].as_str().unwrap().to_owned();
    let page = text(&ro.get(&p, "/admin/console/audit"));
    assert!(
        page.contains("<code>app.create</code>")
            && page.contains("<code>user.sessions.end</code>")
            && page.contains("Olga Owner"),
        "{page}"
    );
    assert!(
        page.find("<code>app.create</code>").unwrap() < page.find("<code>user.sessions.end</code>").unwrap(),
        "newest first"
    );
    assert!(page.contains("192.0.2.1") && page.contains("success"), "{page}");
    let by_app = text(&ro.get(&p, &format!("/admin/console/audit?type=&app={client_id}&person=")));
    assert!(
        by_app.contains("<code>app.create</code>") && !by_app.contains("user.sessions.end</code>"),
        "{by_app}"
    );
    let by_person = text(&ro.get(
        &p,
        &format!("/admin/console/audit?person={ann}&type=user.sessions.end"),
    ));
    assert_eq!(
        by_person.matches("user.sessions.end</code>").count(),
        3,
        "{by_person}"
    );
    let day = crate::util::rfc3339(now(&p));
    let day = day.split('T').next().unwrap();
    let today = text(&ro.get(&p, &format!("/admin/console/audit?from={day}&to={day}")));
    assert!(today.contains("<code>app.create</code>"), "{today}");
    let past = text(&ro.get(&p, "/admin/console/audit?to=1971-01-01"));
    assert!(past.contains("id=\"no-events\""), "{past}");
    // Paging: 50 a page, the next link goes on where the page ended.
    for _ in 0..50 {
        assert_eq!(
            owner
                .post(
                    &p,
                    &format!("/admin/console/people/{ann}/end-sessions"),
                    &form(&[("csrf", &csrf)])
                )
                .status,
            303
        );
    }
    let first = text(&ro.get(&p, "/admin/console/audit?type=user.sessions.end"));
    assert_eq!(first.matches("user.sessions.end</code>").count(), 50);
    let at = first.find("id=\"next-page\"").expect("a next page");
    let href = first[..at]
        .rsplit("href=\"")
        .next()
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    let second = text(&ro.get(&p, &href));
    assert_eq!(second.matches("user.sessions.end</code>").count(), 3, "{href}");
}
