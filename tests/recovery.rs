//! Email verification and password reset end to end under `wrangler dev` (issue 18): sign up,
//! read the verification email from the development outbox (`/dev/outbox.json`), verify, ask
//! for a reset, follow the emailed link, and check the old password fails and every other
//! session ended.

#[path = "browser/mod.rs"]
mod browser;
mod common;

use browser::*;
use common::*;
use serde_json::Value;

/// The token of the newest link to `path` in the mail sent to `to`.
fn link_token(s: &Server, to: &str, path: &str) -> String {
    let r = s.get(&format!("/dev/outbox.json?{}", form(&[("to", to)])));
    let v = r.expect_json(200);
    let needle = format!("{}{path}?token=", s.issuer());
    let messages = v["messages"].as_array().cloned().unwrap_or_default();
    messages
        .iter()
        .rev()
        .filter_map(|m: &Value| m["text"].as_str())
        .find_map(|t| {
            let at = t.find(&needle)? + needle.len();
            Some(t[at..].split(char::is_whitespace).next()?.to_owned())
        })
        .unwrap_or_else(|| panic!("no {path} link for {to} in {v}"))
}

#[test]
fn sign_up_verify_reset_and_every_other_session_ends() {
    let s = Server::shared();
    let (one, person) = Browser::signed_up(s, "recovery");
    // The outbox page is there in development.
    assert!(one.get("/dev/outbox").text().contains(&person.email));
    // Verify through the emailed link: the page asks, the button does it, once.
    let token = link_token(s, &person.email, "/verify");
    let page = one.get(&format!("/verify?token={token}"));
    page.expect(200);
    let r = one.submit(&page, "/verify", &[]);
    r.expect(200);
    assert!(r.text().contains("id=\"verified\""), "{}", r.text());
    let again = one.submit(&page, "/verify", &[]);
    assert_eq!(again.status, 400);
    assert!(again.text().contains("id=\"link-dead\""));
    // A second browser signed in too.
    let two = Browser::new(s);
    two.log_in(&person, None);
    assert!(two.get("/").text().contains("Signed in as"));
    // Forgot → the emailed link → a new password (a common one refused first).
    let third = Browser::new(s);
    let page = third.get("/login");
    assert!(page.text().contains("href=\"/forgot\""));
    let page = third.get("/forgot");
    let r = third.submit(&page, "/forgot", &[("email", &person.email)]);
    r.expect(200);
    assert!(r.text().contains("id=\"reset-sent\""));
    let token = link_token(s, &person.email, "/reset");
    let page = third.get(&format!("/reset?token={token}"));
    page.expect(200);
    let refused = third.submit(&page, "/reset", &[("password", "password123")]);
    assert_eq!(refused.status, 400);
    let new_password = format!("{}-renewed", person.password);
    let r = third.submit(&page, "/reset", &[("password", &new_password)]);
    r.expect(200);
    assert!(r.text().contains("id=\"reset-done\""), "{}", r.text());
    // Every session ended; the old password fails, the new one works; the link is used.
    assert!(!one.get("/").text().contains("Signed in as"));
    assert!(!two.get("/").text().contains("Signed in as"));
    assert_eq!(Browser::new(s).log_in_raw(&person.email, &person.password, None).status, 401);
    Browser::new(s).log_in_raw(&person.email, &new_password, None).expect(303);
    let reused = third.submit(&page, "/reset", &[("password", "yet-another-pass-5")]);
    assert_eq!(reused.status, 400);
    assert!(reused.text().contains("id=\"link-dead\""));
}

#[test]
fn forgot_answers_alike_for_an_unknown_email() {
    let s = Server::shared();
    let (_, person) = Browser::signed_up(s, "alike");
    let b = Browser::new(s);
    let known = b.submit(&b.get("/forgot"), "/forgot", &[("email", &person.email)]);
    let unknown = b.submit(&b.get("/forgot"), "/forgot", &[("email", "nobody-here@people.example")]);
    assert_eq!(known.status, 200);
    assert_eq!(known.text(), unknown.text());
}
