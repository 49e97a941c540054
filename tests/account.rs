//! Issue 18 end to end against `wrangler dev`: the account page (`/account`). A person does the
//! code flow with an app, finds it under "Connected apps", revokes it there, and the app's
//! refresh token is refused, its access token inactive at introspection and refused at userinfo,
//! and the next authorization asks for consent again. Also: signing out everywhere else, and
//! deleting the account (the email can sign up again).

#[path = "browser/mod.rs"]
mod browser;
mod common;

use browser::*;
use common::*;
use std::sync::OnceLock;

fn s() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| Server::start_with(&roomy_vars()))
}

#[test]
fn revoking_an_app_on_the_account_page_ends_its_tokens_and_consent() {
    let s = s();
    let c = Client::web(s, &["public"]);
    let (b, _) = Browser::signed_up(s, "account-revoke");
    let (access, refresh, _) = c.tokens(s, &b, "public");
    assert!(s.is_active(&access));

    let page = b.get("/account");
    page.expect(200);
    assert_page_headers(&page);
    let html = page.text();
    let name = c.app.json["name"].as_str().unwrap().to_owned();
    assert!(html.contains(&name), "the app is listed: {html}");
    assert!(html.contains("Access: public"), "{html}");

    let r = b.submit(&page, "/account/apps/revoke", &[]);
    r.expect(303);
    assert_eq!(r.header("location"), Some("/account?done=revoked"));
    c.refresh(s, &refresh, None).expect_error(400, "invalid_grant");
    assert!(!s.is_active(&access));
    userinfo(s, &access).expect(401);
    let after = b.get("/account").text();
    assert!(!after.contains(&name) && after.contains("No app has access"), "{after}");
    // The next authorization asks again.
    let again = b.get(&c.authorize_path("public", Some(&pkce().1)));
    again.expect(200);
    assert!(again.text().contains("wants to access your account"));
}

#[test]
fn sign_out_everywhere_else_and_delete_the_account() {
    let s = s();
    let c = Client::web(s, &["public"]);
    let (b, person) = Browser::signed_up(s, "account-delete");
    let other = Browser::new(s);
    other.log_in(&person, None);
    assert_eq!(other.get("/account").status, 200);
    let page = b.get("/account");
    let r = b.submit(&page, "/account/sessions/end-others", &[]);
    r.expect(303);
    assert_eq!(other.get("/account").status, 303, "the other session is signed out");
    assert_eq!(b.get("/account").status, 200, "this one is not");

    let (access, refresh, _) = c.tokens(s, &b, "public");
    let page = b.get("/account");
    b.submit(&page, "/account/delete", &[("password", "not the password")]).expect(401);
    let r = b.submit(&page, "/account/delete", &[("password", &person.password)]);
    r.expect(200);
    assert!(r.text().contains("Your account is deleted"), "{}", r.text());
    assert_eq!(b.get("/account").status, 303);
    c.refresh(s, &refresh, None).expect_error(400, "invalid_grant");
    assert!(!s.is_active(&access));
    // The email signs up again and logs in as a new person.
    let fresh = Browser::new(s);
    fresh.sign_up(&person, None);
    fresh.log_in(&person, None).expect(303);
    let html = fresh.get("/account").text();
    assert!(html.contains("No app has access"), "{html}");
}
