//! Issue 18, email: the outbox of development, verification at sign-up (answered alike for a
//! new and an existing email), `email_verified` as the account has it, the mail transport's
//! failures reported, never dropped, and one message per idempotency key.

use super::support::*;
use crate::config::{Config, MailTransport, Secret};
use crate::platform::memory::{block_on, MemPlatform};
use serde_json::Value;

pub const PW: &str = "plum-kettle-42";

/// The development outbox as `/dev/outbox.json` shows it, for `to`.
pub fn outbox(p: &MemPlatform, to: &str) -> Vec<Value> {
    let r = send(p, req("GET", &format!("/dev/outbox.json?{}", form(&[("to", to)])), &[], ""));
    assert_eq!(r.status, 200, "{}", text(&r));
    json(&r)["messages"].as_array().cloned().unwrap_or_default()
}

/// The token of the newest link to `path` mailed to `to`.
pub fn link_token(p: &MemPlatform, to: &str, path: &str) -> String {
    let all = outbox(p, to);
    let needle = format!("{ORIGIN}{path}?token=");
    all.iter()
        .rev()
        .find_map(|m| {
            let t = m["text"].as_str()?;
            let at = t.find(&needle)? + needle.len();
            Some(t[at..].split(|c: char| c.is_whitespace()).next()?.to_owned())
        })
        .unwrap_or_else(|| panic!("no {path} link for {to}: {all:?}"))
}

pub fn sign_up(p: &MemPlatform, b: &mut Browser, email: &str, password: &str) -> crate::http::Response {
    let csrf = csrf_of(&b.get(p, "/signup"));
    b.post(p, "/signup", &form(&[("csrf", &csrf), ("email", email), ("password", password), ("name", "Ann")]))
}

pub fn log_in(p: &MemPlatform, email: &str, password: &str) -> (u16, Browser) {
    let mut b = Browser::default();
    let csrf = csrf_of(&b.get(p, "/login"));
    let r = b.post(p, "/login", &form(&[("csrf", &csrf), ("email", email), ("password", password)]));
    (r.status, b)
}

/// Posts a link's confirmation form (`/verify`, `/account/email/confirm`) with `token`.
pub fn confirm(p: &MemPlatform, path: &str, token: &str) -> crate::http::Response {
    let mut b = Browser::default();
    let page = b.get(p, &format!("{path}?{}", form(&[("token", token)])));
    assert_eq!(page.status, 200, "{}", text(&page));
    let csrf = csrf_of(&page);
    b.post(p, path, &form(&[("csrf", &csrf), ("token", token)]))
}

fn profile_of(p: &MemPlatform, email: &str) -> crate::objects::user::Profile {
    let a = block_on(crate::platform::Objects::call(p, &crate::objects::account::object(email), crate::objects::account::Peek {}))
        .unwrap()
        .expect("account");
    block_on(crate::accounts::profile(p, &a.user_id)).unwrap().expect("profile")
}

/// The page with its CSRF token blanked (two answers compared).
fn shape(r: &crate::http::Response) -> (u16, String) {
    let t = text(r);
    let t = match t.find(r#"name="csrf" value=""#) {
        Some(at) => {
            let end = t[at + 19..].find('"').map_or(t.len(), |e| at + 19 + e);
            format!("{}{}", &t[..at], &t[end..])
        }
        None => t,
    };
    (r.status, t)
}

#[test]
fn sign_up_answers_alike_and_mails_a_link_or_you_already_have_an_account() {
    let p = platform();
    let mut b = Browser::default();
    let first = sign_up(&p, &mut b, "ann@example.com", PW);
    assert!(text(&first).contains(r#"id="mail-sent""#), "{}", text(&first));
    let mut b2 = Browser::default();
    let again = sign_up(&p, &mut b2, "ANN@example.com ", "another-pass-77");
    let mut b3 = Browser::default();
    let other = sign_up(&p, &mut b3, "bob@example.com", PW);
    // The existing email's page is the new one's (the prefilled email aside).
    assert_eq!(shape(&again).0, shape(&other).0);
    assert_eq!(shape(&again).1.replace("ann@example.com", "X"), shape(&other).1.replace("bob@example.com", "X"));
    let ann = outbox(&p, "ann@example.com");
    assert_eq!(ann.len(), 2, "{ann:?}");
    assert!(ann[0]["subject"].as_str().unwrap().starts_with("Verify your email"));
    assert!(ann[1]["subject"].as_str().unwrap().starts_with("You already have an account"));
    assert!(ann[1]["text"].as_str().unwrap().contains("/forgot"));
    assert!(!ann[1]["text"].as_str().unwrap().contains("token="));
    // The second sign-up changed nothing: the first password still logs in.
    assert_eq!(log_in(&p, "ann@example.com", PW).0, 303);
    assert_eq!(log_in(&p, "ann@example.com", "another-pass-77").0, 401);
}

#[test]
fn common_passwords_are_refused_at_sign_up_with_a_page_that_says_why() {
    let p = platform();
    for pw in ["password123", "Password1", "12345678", "qwertyuiop", "short"] {
        let r = sign_up(&p, &mut Browser::default(), "carol@example.com", pw);
        assert_eq!(r.status, 400, "{pw}");
        assert!(text(&r).contains("password"), "{}", text(&r));
    }
    assert!(outbox(&p, "carol@example.com").is_empty());
    assert_eq!(sign_up(&p, &mut Browser::default(), "carol@example.com", "carol@example.com").status, 400);
}

#[test]
fn an_unverified_account_logs_in_and_email_verified_is_false_until_the_link_is_used() {
    let p = platform();
    sign_up(&p, &mut Browser::default(), "dan@example.com", PW);
    assert!(!profile_of(&p, "dan@example.com").email_verified);
    assert_eq!(log_in(&p, "dan@example.com", PW).0, 303);
    let token = link_token(&p, "dan@example.com", "/verify");
    // Opening the link changes nothing (a mail scanner's prefetch): the button does.
    assert_eq!(send(&p, req("GET", &format!("/verify?token={token}"), &[], "")).status, 200);
    assert!(!profile_of(&p, "dan@example.com").email_verified);
    let r = confirm(&p, "/verify", &token);
    assert_eq!(r.status, 200, "{}", text(&r));
    assert!(text(&r).contains(r#"id="verified""#));
    assert!(profile_of(&p, "dan@example.com").email_verified);
    // Single use.
    let again = confirm(&p, "/verify", &token);
    assert_eq!(again.status, 400);
    assert!(text(&again).contains(r#"id="link-dead""#));
}

#[test]
fn verification_links_expire_and_hostile_tokens_get_the_same_page() {
    let p = platform();
    sign_up(&p, &mut Browser::default(), "erin@example.com", PW);
    let token = link_token(&p, "erin@example.com", "/verify");
    p.advance(p.config.mail.token_ttl as i64 + 1);
    assert_eq!(confirm(&p, "/verify", &token).status, 400);
    assert!(!profile_of(&p, "erin@example.com").email_verified);
    let long = "A".repeat(5000);
    for bad in ["", "x", "%00", "..%2F", long.as_str(), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"] {
        let r = confirm(&p, "/verify", bad);
        assert_eq!(r.status, 400, "{bad}");
        assert!(text(&r).contains(r#"id="link-dead""#));
    }
    // Not UTF-8, wrong type, too large: refused before anything is looked up.
    let mut b = Browser::default();
    let csrf = csrf_of(&b.get(&p, "/verify?token=x"));
    let cookie = b.headers();
    let body = format!("csrf={csrf}&token=%FF%FE");
    let h = [("cookie", cookie.as_str()), ("content-type", "application/x-www-form-urlencoded")];
    assert_eq!(send(&p, req("POST", "/verify", &h, body.as_bytes())).status, 400);
    let h = [("cookie", cookie.as_str()), ("content-type", "application/json")];
    assert_eq!(send(&p, req("POST", "/verify", &h, "{}")).status, 415);
    let big = vec![b'a'; crate::http::MAX_BODY + 1];
    let h = [("cookie", cookie.as_str()), ("content-type", "application/x-www-form-urlencoded")];
    assert_eq!(send(&p, req("POST", "/forgot", &h, big)).status, 413);
    assert_eq!(send(&p, req("POST", "/forgot", &h, b"email=%C3%28".as_slice())).status, 400);
    // Without the CSRF token nothing is used.
    let h = [("cookie", ""), ("content-type", "application/x-www-form-urlencoded")];
    assert_eq!(send(&p, req("POST", "/verify", &h, format!("token={token}"))).status, 403);
}

#[test]
fn email_verified_in_userinfo_follows_the_account() {
    let p = platform();
    sign_up(&p, &mut Browser::default(), "fay@example.com", PW);
    let mut out = serde_json::json!({});
    crate::oauth::userinfo::person_claims(&mut out, &profile_of(&p, "fay@example.com"), &["email", "email_verified"]);
    assert_eq!(out["email_verified"], false);
    confirm(&p, "/verify", &link_token(&p, "fay@example.com", "/verify"));
    let mut out = serde_json::json!({});
    crate::oauth::userinfo::person_claims(&mut out, &profile_of(&p, "fay@example.com"), &["email", "email_verified"]);
    assert_eq!(out["email_verified"], true);
}

fn with_transport() -> MemPlatform {
    let mut cfg = Config::default();
    cfg.mail.transport = Some(MailTransport::Api { url: "https://mail.example/send".into(), token: Secret("t".into()) });
    platform_with(cfg)
}

#[test]
fn with_a_transport_mail_goes_there_and_the_outbox_is_gone() {
    let p = with_transport();
    sign_up(&p, &mut Browser::default(), "gil@example.com", PW);
    assert_eq!(send(&p, req("GET", "/dev/outbox.json", &[], "")).status, 404);
    assert_eq!(send(&p, req("GET", "/dev/outbox", &[], "")).status, 404);
    let sent = p.mails.borrow().clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to, "gil@example.com");
    assert_eq!(sent[0].from, "no-reply@127.0.0.1");
    // Production (an ISSUER) has no outbox either.
    let mut cfg = Config::default();
    cfg.issuer = Some("https://auth.example".into());
    let prod = platform_with(cfg);
    assert_eq!(send(&prod, req("GET", "/dev/outbox.json", &[], "")).status, 404);
}

#[test]
fn a_failed_send_is_reported_on_the_page_and_in_the_audit_log() {
    let p = with_transport();
    p.mail_fails.set(true);
    let r = sign_up(&p, &mut Browser::default(), "hal@example.com", PW);
    assert_eq!(r.status, 200);
    assert!(text(&r).contains(r#"id="mail-not-sent""#), "{}", text(&r));
    let csrf = csrf_of(&r);
    let mut b = Browser::default();
    let page = b.get(&p, "/forgot");
    let _ = csrf;
    let csrf = csrf_of(&page);
    let r = b.post(&p, "/forgot", &form(&[("csrf", &csrf), ("email", "hal@example.com")]));
    assert_eq!(r.status, 503);
    assert!(text(&r).contains(r#"id="not-sent""#));
    let log = p.audit_log.borrow();
    let lines: Vec<&Value> = log.iter().filter(|l| l["event"] == "mail_not_sent").collect();
    assert_eq!(lines.len(), 2, "{log:?}");
    assert!(lines.iter().all(|l| !l.to_string().contains("token=")));
}

#[test]
fn the_outbox_keeps_one_message_per_idempotency_key() {
    let p = platform();
    let m = crate::platform::Mail {
        id: "same-id".into(),
        from: "a@b.example".into(),
        to: "ivy@example.com".into(),
        subject: "s".into(),
        text: "t".into(),
    };
    for _ in 0..2 {
        block_on(crate::accounts::mail::send(&p, crate::accounts::mail::Kind::Verify, &m)).unwrap();
    }
    assert_eq!(outbox(&p, "ivy@example.com").len(), 1);
    // The page shows it, escaped.
    let r = send(&p, req("GET", "/dev/outbox", &[], ""));
    assert_eq!(r.status, 200);
    assert!(text(&r).contains("ivy@example.com"));
}
