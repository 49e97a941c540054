//! The person's session index: every log-in is listed, logout leaves it, and sign-out
//! everywhere (`accounts::end_sessions`) ends every other session at once.

use super::support::*;
use crate::objects::user;
use crate::platform::memory::block_on;

fn user_id(p: &crate::platform::memory::MemPlatform, b: &Browser) -> String {
    let c = b.headers();
    let r = req("GET", "/", &[("cookie", &c)], "");
    block_on(crate::accounts::current_session(p, &r)).unwrap().expect("signed in").user_id
}

fn log_in_again(p: &crate::platform::memory::MemPlatform, email: &str) -> Browser {
    let mut b = Browser::default();
    let page = b.get(p, "/login");
    let csrf = csrf_of(&page);
    let r = b.post(p, "/login", &form(&[("csrf", &csrf), ("email", email), ("password", "plum-kettle-42")]));
    assert_eq!(r.status, 303);
    b
}

#[test]
fn every_log_in_is_listed_and_logout_leaves_the_list() {
    let p = platform();
    let mut one = signed_in(&p, "sessions@example.com");
    let two = log_in_again(&p, "sessions@example.com");
    let uid = user_id(&p, &one);
    assert_eq!(user_id(&p, &two), uid);
    let listed = block_on(crate::accounts::sessions(&p, &uid)).unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|s| s.amr == ["pwd"]));
    // The index holds hashes, never the cookie.
    assert!(!listed.iter().any(|s| one.headers().contains(&s.hash)));
    let home = one.get(&p, "/");
    let csrf = csrf_of(&home);
    assert_eq!(one.post(&p, "/logout", &form(&[("csrf", &csrf)])).status, 303);
    assert_eq!(block_on(crate::accounts::sessions(&p, &uid)).unwrap().len(), 1);
}

#[test]
fn ending_sessions_everywhere_keeps_only_the_one_asked() {
    let p = platform();
    let keep = signed_in(&p, "everywhere@example.com");
    let other = log_in_again(&p, "everywhere@example.com");
    let third = log_in_again(&p, "everywhere@example.com");
    let uid = user_id(&p, &keep);
    let c = keep.headers();
    let hash = crate::accounts::session_hash(&req("GET", "/", &[("cookie", &c)], "")).unwrap();
    let ended = block_on(crate::accounts::end_sessions(&p, &uid, Some(&hash))).unwrap();
    assert_eq!(ended.len(), 2);
    assert!(ended.iter().all(|s| s.user_id == uid && s.sid.is_some()));
    for b in [&other, &third] {
        let c = b.headers();
        assert!(block_on(crate::accounts::current_session(&p, &req("GET", "/", &[("cookie", &c)], ""))).unwrap().is_none());
    }
    assert_eq!(user_id(&p, &keep), uid);
    // All of them, the kept one too.
    assert_eq!(block_on(crate::accounts::end_sessions(&p, &uid, None)).unwrap().len(), 1);
    assert!(block_on(crate::accounts::current_session(&p, &req("GET", "/", &[("cookie", &c)], ""))).unwrap().is_none());
    assert!(block_on(crate::accounts::sessions(&p, &uid)).unwrap().is_empty());
}

#[test]
fn a_log_in_beyond_the_index_ends_the_oldest_session() {
    let p = platform();
    let first = signed_in(&p, "many@example.com");
    let uid = user_id(&p, &first);
    for _ in 0..user::MAX_SESSIONS {
        log_in_again(&p, "many@example.com");
    }
    assert_eq!(block_on(crate::accounts::sessions(&p, &uid)).unwrap().len(), user::MAX_SESSIONS);
    let c = first.headers();
    assert!(block_on(crate::accounts::current_session(&p, &req("GET", "/", &[("cookie", &c)], ""))).unwrap().is_none());
}
