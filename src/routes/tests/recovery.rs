//! Issue 18, recovery: `/forgot` answers alike and is rate-limited, reset links are single-use,
//! short-lived and end every session, password change ends the other sessions, and an email
//! change is confirmed from the new address and can never give two accounts one email.

use super::mail::{confirm, link_token, log_in, outbox, sign_up, PW};
use super::support::*;
use crate::platform::memory::MemPlatform;

fn forgot(p: &MemPlatform, email: &str) -> crate::http::Response {
    let mut b = Browser::default();
    let csrf = csrf_of(&b.get(p, "/forgot"));
    b.post(p, "/forgot", &form(&[("csrf", &csrf), ("email", email)]))
}

fn reset(p: &MemPlatform, token: &str, password: &str) -> crate::http::Response {
    let mut b = Browser::default();
    let page = b.get(p, &format!("/reset?{}", form(&[("token", token)])));
    if page.status != 200 {
        return page;
    }
    let csrf = csrf_of(&page);
    b.post(p, "/reset", &form(&[("csrf", &csrf), ("token", token), ("password", password)]))
}

fn signed_in_home(p: &MemPlatform, b: &mut Browser) -> bool {
    text(&b.get(p, "/")).contains("Signed in as")
}

#[test]
fn the_log_in_page_links_to_forgot() {
    let p = platform();
    let r = send(&p, req("GET", "/login", &[], ""));
    assert!(text(&r).contains(r#"href="/forgot""#));
    assert!(text(&r).contains("Forgot your password?"));
}

#[test]
fn forgot_answers_alike_for_every_email_and_mails_each_owner() {
    let p = platform();
    sign_up(&p, &mut Browser::default(), "ann@example.com", PW);
    let known = forgot(&p, "Ann@Example.com");
    let unknown = forgot(&p, "nobody@example.com");
    assert_eq!(known.status, 200);
    assert_eq!(text(&known), text(&unknown));
    let ann = outbox(&p, "ann@example.com");
    assert!(ann.last().unwrap()["subject"].as_str().unwrap().starts_with("Reset your password"));
    let nobody = outbox(&p, "nobody@example.com");
    assert_eq!(nobody.len(), 1);
    assert!(!nobody[0]["text"].as_str().unwrap().contains("token="));
    // Not an email: said so, nothing sent.
    assert_eq!(forgot(&p, "not an email").status, 400);
}

#[test]
fn forgot_is_limited_per_recipient_and_per_address() {
    let p = platform();
    let limit = p.config.mail.limit_recipient as usize;
    for _ in 0..limit {
        assert_eq!(forgot(&p, "target@example.com").status, 200);
    }
    let r = forgot(&p, "target@example.com");
    assert_eq!(r.status, 429);
    assert!(r.get_header("retry-after").is_some());
    assert_eq!(outbox(&p, "target@example.com").len(), limit);
    // A minute later it works again.
    p.advance(61);
    assert_eq!(forgot(&p, "target@example.com").status, 200);
    // Per address: many recipients from one address.
    p.advance(61);
    let per_address = p.config.mail.limit_address as usize;
    for i in 0..per_address {
        assert_eq!(forgot(&p, &format!("r{i}@example.com")).status, 200);
    }
    assert_eq!(forgot(&p, "one-more@example.com").status, 429);
    assert!(outbox(&p, "one-more@example.com").is_empty());
}

#[test]
fn a_reset_sets_the_password_ends_every_session_verifies_the_email_and_works_once() {
    let p = platform();
    let mut one = signed_in(&p, "bea@example.com");
    let (_, mut two) = log_in(&p, "bea@example.com", "plum-kettle-42");
    assert!(signed_in_home(&p, &mut one) && signed_in_home(&p, &mut two));
    forgot(&p, "bea@example.com");
    let token = link_token(&p, "bea@example.com", "/reset");
    // A refused password leaves the link usable.
    let r = reset(&p, &token, "password123");
    assert_eq!(r.status, 400);
    assert!(text(&r).contains("most common"));
    let r = reset(&p, &token, "new-orchid-lamp-9");
    assert_eq!(r.status, 200, "{}", text(&r));
    assert!(text(&r).contains(r#"id="reset-done""#));
    assert!(!signed_in_home(&p, &mut one) && !signed_in_home(&p, &mut two));
    assert_eq!(log_in(&p, "bea@example.com", "plum-kettle-42").0, 401);
    assert_eq!(log_in(&p, "bea@example.com", "new-orchid-lamp-9").0, 303);
    let a = crate::platform::memory::block_on(crate::platform::Objects::call(
        &p,
        &crate::objects::account::object("bea@example.com"),
        crate::objects::account::Peek {},
    ))
    .unwrap()
    .unwrap();
    assert!(a.email_verified);
    // Used: the page and the form both say so.
    let again = reset(&p, &token, "another-orchid-7");
    assert_eq!(again.status, 400);
    assert!(text(&again).contains(r#"id="link-dead""#));
    assert_eq!(log_in(&p, "bea@example.com", "another-orchid-7").0, 401);
}

#[test]
fn a_second_reset_link_dies_with_the_first_use_and_links_expire() {
    let p = platform();
    sign_up(&p, &mut Browser::default(), "cy@example.com", PW);
    forgot(&p, "cy@example.com");
    let first = link_token(&p, "cy@example.com", "/reset");
    forgot(&p, "cy@example.com");
    let second = link_token(&p, "cy@example.com", "/reset");
    assert_ne!(first, second);
    assert_eq!(reset(&p, &second, "fresh-garden-31").status, 200);
    // The other link named the old password: dead.
    assert_eq!(reset(&p, &first, "fresh-garden-32").status, 400);
    assert_eq!(log_in(&p, "cy@example.com", "fresh-garden-31").0, 303);
    // Expiry.
    p.advance(61);
    forgot(&p, "cy@example.com");
    let third = link_token(&p, "cy@example.com", "/reset");
    p.advance(p.config.mail.token_ttl as i64 + 1);
    let r = reset(&p, &third, "fresh-garden-33");
    assert_eq!(r.status, 400);
    assert!(text(&r).contains("/forgot"));
    // A verification link is no reset link.
    let verify = link_token(&p, "cy@example.com", "/verify");
    assert_eq!(reset(&p, &verify, "fresh-garden-34").status, 400);
}

#[test]
fn racing_uses_of_one_reset_link_succeed_once() {
    let p = platform();
    sign_up(&p, &mut Browser::default(), "dee@example.com", PW);
    forgot(&p, "dee@example.com");
    let token = link_token(&p, "dee@example.com", "/reset");
    // Both forms loaded before either is sent.
    let mut a = Browser::default();
    let mut b = Browser::default();
    let ca = csrf_of(&a.get(&p, &format!("/reset?token={token}")));
    let cb = csrf_of(&b.get(&p, &format!("/reset?token={token}")));
    let ra = a.post(&p, "/reset", &form(&[("csrf", &ca), ("token", &token), ("password", "winner-pass-11")]));
    let rb = b.post(&p, "/reset", &form(&[("csrf", &cb), ("token", &token), ("password", "loser-pass-22")]));
    assert_eq!((ra.status, rb.status), (200, 400));
    assert_eq!(log_in(&p, "dee@example.com", "loser-pass-22").0, 401);
}

fn change_password(p: &MemPlatform, b: &mut Browser, current: &str, new: &str) -> crate::http::Response {
    let csrf = csrf_of(&b.get(p, "/account/password"));
    b.post(p, "/account/password", &form(&[("csrf", &csrf), ("current_password", current), ("password", new)]))
}

#[test]
fn a_password_change_needs_the_current_one_and_ends_the_other_sessions() {
    let p = platform();
    // Signed out: to the log-in page and back.
    let r = send(&p, req("GET", "/account/password", &[], ""));
    assert_eq!(r.status, 303);
    assert_eq!(r.get_header("location"), Some("/login?return_to=%2Faccount%2Fpassword"));
    let mut me = signed_in(&p, "eli@example.com");
    let (_, mut other) = log_in(&p, "eli@example.com", PW);
    assert_eq!(change_password(&p, &mut me, "wrong-guess-1", "brand-new-pass-5").status, 403);
    assert_eq!(change_password(&p, &mut me, PW, "iloveyou").status, 400);
    let r = change_password(&p, &mut me, PW, "brand-new-pass-5");
    assert_eq!(r.status, 200, "{}", text(&r));
    assert!(signed_in_home(&p, &mut me));
    assert!(!signed_in_home(&p, &mut other));
    assert_eq!(log_in(&p, "eli@example.com", PW).0, 401);
    assert_eq!(log_in(&p, "eli@example.com", "brand-new-pass-5").0, 303);
    // Without the CSRF token nothing changes.
    let c = me.headers();
    let h = [("cookie", c.as_str()), ("content-type", "application/x-www-form-urlencoded")];
    let body = form(&[("current_password", "brand-new-pass-5"), ("password", "sneaky-pass-77")]);
    assert_eq!(send(&p, req("POST", "/account/password", &h, body)).status, 403);
    assert_eq!(log_in(&p, "eli@example.com", "brand-new-pass-5").0, 303);
}

fn change_email(p: &MemPlatform, b: &mut Browser, new: &str) -> crate::http::Response {
    let csrf = csrf_of(&b.get(p, "/account/email"));
    b.post(p, "/account/email", &form(&[("csrf", &csrf), ("email", new), ("current_password", PW)]))
}

#[test]
fn an_email_change_is_confirmed_from_the_new_address() {
    let p = platform();
    let mut me = signed_in(&p, "old@example.com");
    let r = change_email(&p, &mut me, "New@Example.com");
    assert_eq!(r.status, 200, "{}", text(&r));
    assert!(text(&r).contains("new@example.com"));
    // Nothing changed yet.
    assert_eq!(log_in(&p, "old@example.com", PW).0, 303);
    let token = link_token(&p, "new@example.com", "/account/email/confirm");
    let r = confirm(&p, "/account/email/confirm", &token);
    assert_eq!(r.status, 200, "{}", text(&r));
    assert_eq!(log_in(&p, "new@example.com", PW).0, 303);
    assert_eq!(log_in(&p, "old@example.com", PW).0, 401);
    // The old email is free again; the link is used.
    assert_eq!(confirm(&p, "/account/email/confirm", &token).status, 400);
    // The session from before the change shows the new email and still changes the password.
    assert!(text(&me.get(&p, "/account/email")).contains("<strong>new@example.com</strong>"));
    assert_eq!(change_password(&p, &mut me, PW, "after-move-pass-3").status, 200);
    assert_eq!(log_in(&p, "new@example.com", "after-move-pass-3").0, 303);
    assert_eq!(change_password(&p, &mut me, "after-move-pass-3", PW).status, 200);
    // An email that has an account: the same answer, and a note to its owner instead of a link.
    let mut other = signed_in(&p, "third@example.com");
    let r = change_email(&p, &mut other, "new@example.com");
    assert_eq!(r.status, 200);
    let last = outbox(&p, "new@example.com").last().cloned().unwrap();
    assert!(last["subject"].as_str().unwrap().starts_with("This email already has an account"));
    // The wrong current password: refused.
    let csrf = csrf_of(&other.get(&p, "/account/email"));
    let r = other.post(&p, "/account/email", &form(&[("csrf", &csrf), ("email", "x@example.com"), ("current_password", "nope-nope-1")]));
    assert_eq!(r.status, 403);
}

#[test]
fn two_accounts_racing_for_one_new_email_never_share_it() {
    let p = platform();
    let mut a = signed_in(&p, "a@example.com");
    let mut b = signed_in(&p, "b@example.com");
    assert_eq!(change_email(&p, &mut a, "prize@example.com").status, 200);
    let ta = link_token(&p, "prize@example.com", "/account/email/confirm");
    assert_eq!(change_email(&p, &mut b, "prize@example.com").status, 200);
    let tb = link_token(&p, "prize@example.com", "/account/email/confirm");
    assert_ne!(ta, tb);
    assert_eq!(confirm(&p, "/account/email/confirm", &tb).status, 200);
    let r = confirm(&p, "/account/email/confirm", &ta);
    assert_eq!(r.status, 409);
    assert!(text(&r).contains(r#"id="email-taken""#));
    // b has the email, a keeps its own, and sign-up cannot take it either.
    assert_eq!(log_in(&p, "a@example.com", PW).0, 303);
    assert_eq!(log_in(&p, "b@example.com", PW).0, 401);
    let (_, mut prize) = log_in(&p, "prize@example.com", PW);
    let home = text(&prize.get(&p, "/"));
    assert!(home.contains("Signed in as"), "{home}");
    assert_eq!(sign_up(&p, &mut Browser::default(), "prize@example.com", "taker-pass-99").status, 200);
    assert_eq!(log_in(&p, "prize@example.com", "taker-pass-99").0, 401);
}

/// Review: a reset takes back what someone else set up. Mallory signs up with Vic's email
/// (anyone can), holds a refresh token and enrols a second factor; Vic resets the password by
/// the mailed link: Mallory's grant is dead, and the second factor (never Vic's: the account
/// was never verified) is gone, so Vic logs in with the password alone.
#[test]
fn a_reset_ends_every_grant_and_on_an_unverified_account_the_factors_someone_else_added() {
    use super::account::{app, password_grant, refresh};
    let p = platform();
    let shop = app(&p, "Shop");
    let mut mallory = signed_in(&p, "vic@example.com");
    let t = password_grant(&p, &shop, "vic@example.com");
    let rt = t["refresh_token"].as_str().unwrap().to_owned();
    super::two_factor::enrol(&p, &mut mallory);
    forgot(&p, "vic@example.com");
    let token = link_token(&p, "vic@example.com", "/reset");
    let r = reset(&p, &token, "vics-own-orchid-3");
    assert_eq!(r.status, 200, "{}", text(&r));
    expect_error(&refresh(&p, &shop, &rt), 400, "invalid_grant");
    let mut vic = Browser::default();
    let csrf = csrf_of(&vic.get(&p, "/login"));
    let r = vic.post(&p, "/login", &form(&[("csrf", &csrf), ("email", "vic@example.com"), ("password", "vics-own-orchid-3")]));
    assert_eq!(r.status, 303);
    assert_eq!(r.get_header("location"), Some("/"), "no second step: the factor was not Vic's");
    assert!(signed_in_home(&p, &mut vic));
    // On a verified account a reset keeps the person's own factor (and still ends grants).
    let mut vic2 = vic;
    super::two_factor::enrol(&p, &mut vic2);
    forgot(&p, "vic@example.com");
    let token = link_token(&p, "vic@example.com", "/reset");
    assert_eq!(reset(&p, &token, "vics-newer-orchid-4").status, 200);
    let mut again = Browser::default();
    let csrf = csrf_of(&again.get(&p, "/login"));
    let r = again.post(&p, "/login", &form(&[("csrf", &csrf), ("email", "vic@example.com"), ("password", "vics-newer-orchid-4")]));
    assert_eq!(r.status, 303);
    assert!(r.get_header("location").is_some_and(|l| l.starts_with("/login/2fa")), "{:?}", r.get_header("location"));
}

#[test]
fn an_email_change_link_dies_with_a_forced_reset_and_the_reset_answers_if_mail_failed() {
    let p = platform();
    let mut me = signed_in(&p, "victim@example.com");
    // Someone who has the password asks to move the account to their own address...
    assert_eq!(change_email(&p, &mut me, "taker@example.com").status, 200);
    let token = link_token(&p, "taker@example.com", "/account/email/confirm");
    // ...then the operator forces a password reset.
    let users = expect_json(&admin(&p, "GET", "/admin/users?email=victim%40example.com", None), 200);
    let id = users["users"][0]["id"].as_str().unwrap().to_owned();
    let r = admin(&p, "POST", &format!("/admin/users/{id}/reset-password"), None);
    let v = expect_json(&r, 202);
    assert_eq!(v["reset_email_sent"], true, "{v}");
    // The link is dead: the account stays at its address, where the reset link went.
    assert_eq!(confirm(&p, "/account/email/confirm", &token).status, 400);
    assert_eq!(log_in(&p, "taker@example.com", PW).0, 401);
    let reset_token = link_token(&p, "victim@example.com", "/reset");
    assert!(!reset_token.is_empty());

    // A person's own password change kills an earlier email-change link too.
    let mut other = signed_in(&p, "own@example.com");
    assert_eq!(change_email(&p, &mut other, "own-new@example.com").status, 200);
    let token = link_token(&p, "own-new@example.com", "/account/email/confirm");
    assert_eq!(change_password(&p, &mut other, PW, "changed-pass-42").status, 200);
    assert_eq!(confirm(&p, "/account/email/confirm", &token).status, 400);
    assert_eq!(log_in(&p, "own@example.com", "changed-pass-42").0, 303);

    // Mail refused (the per-recipient limit): the reset still holds and says the email did not go.
    let mut sent_false = false;
    for _ in 0..8 {
        let v = expect_json(&admin(&p, "POST", &format!("/admin/users/{id}/reset-password"), None), 202);
        if v["reset_email_sent"] == false {
            sent_false = true;
            break;
        }
    }
    assert!(sent_false, "the per-recipient mail limit is reached within 8 resets");
    assert_eq!(log_in(&p, "victim@example.com", PW).0, 401);
}
