//! The account page (`/account`, issue 18): connected apps and their revocation, sessions,
//! profile, deletion, and hostile forms.

use super::support::*;
use crate::config::{Config, Secret};
use crate::objects::{quota, session, user};
use crate::platform::memory::{block_on, MemPlatform};
use serde_json::{json, Value};

const CB: &str = "https://rp.example/cb";
const EMAIL: &str = "ann@example.com";

/// A confidential app with the code flow, refresh tokens and the password grant.
pub(super) fn app(p: &MemPlatform, name: &str) -> (String, String) {
    let body = json!({"name": name, "redirect_uris": [CB], "scopes": ["public", "users:read"],
        "grant_types": ["authorization_code", "refresh_token", "password"]});
    credentials(&create_app(p, body))
}

fn authorize_url(id: &str) -> String {
    let q = form(&[("response_type", "code"), ("client_id", id), ("redirect_uri", CB), ("scope", "public users:read"), ("state", "st")]);
    format!("/oauth/authorize?{q}")
}

/// Runs the authorization request; `Some(true)` when it asked for consent (and allowed),
/// `Some(false)` when the code came at once. Answers the code and whether consent was asked.
fn code(p: &MemPlatform, b: &mut Browser, id: &str) -> (String, bool) {
    let url = authorize_url(id);
    let r = b.get(p, &url);
    let asked = r.status == 200;
    let r = if asked {
        let (_, q) = url.split_once('?').unwrap();
        let body = format!("{q}&{}", form(&[("csrf", &csrf_of(&r)), ("decision", "allow")]));
        b.post(p, "/oauth/authorize", &body)
    } else {
        r
    };
    assert_eq!(r.status, 302, "{}", text(&r));
    (query_param(r.get_header("location").unwrap(), "code").unwrap(), asked)
}

fn redeem(p: &MemPlatform, (id, secret): &(String, String), code: &str) -> Response {
    let pairs = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", CB)];
    token_with(p, &pairs, &[("authorization", &basic(id, secret))])
}

/// A code flow's tokens: (access, refresh).
fn tokens(p: &MemPlatform, b: &mut Browser, app: &(String, String)) -> (String, String) {
    let (c, _) = code(p, b, &app.0);
    let t = expect_json(&redeem(p, app, &c), 200);
    (t["access_token"].as_str().unwrap().to_owned(), t["refresh_token"].as_str().unwrap().to_owned())
}

pub(super) fn password_grant(p: &MemPlatform, (id, secret): &(String, String), email: &str) -> Value {
    let pairs = [("grant_type", "password"), ("username", email), ("password", "plum-kettle-42")];
    expect_json(&token_with(p, &pairs, &[("authorization", &basic(id, secret))]), 200)
}

pub(super) fn refresh(p: &MemPlatform, (id, secret): &(String, String), rt: &str) -> Response {
    token_with(p, &[("grant_type", "refresh_token"), ("refresh_token", rt)], &[("authorization", &basic(id, secret))])
}

fn introspect(p: &MemPlatform, (id, secret): &(String, String), t: &str) -> Value {
    json(&post_form(p, "/oauth/introspect", &[("token", t)], &[("authorization", &basic(id, secret))]))
}

use crate::http::Response;

fn user_id(p: &MemPlatform, b: &Browser) -> String {
    let c = b.headers();
    block_on(crate::accounts::current_session(p, &req("GET", "/", &[("cookie", &c)], ""))).unwrap().expect("signed in").user_id
}

fn signed_in_now(p: &MemPlatform, b: &Browser) -> bool {
    let c = b.headers();
    block_on(crate::accounts::current_session(p, &req("GET", "/", &[("cookie", &c)], ""))).unwrap().is_some()
}

/// The account page (asserting 200) and its CSRF token.
fn account(p: &MemPlatform, b: &mut Browser) -> (String, String) {
    let r = b.get(p, "/account");
    assert_eq!(r.status, 200, "{}", text(&r));
    expect_no_store(&r);
    (text(&r), csrf_of(&r))
}

fn log_in(p: &MemPlatform, email: &str, agent: &str) -> Browser {
    let mut b = Browser::default();
    let csrf = csrf_of(&b.get(p, "/login"));
    let c = b.headers();
    let h = [("cookie", c.as_str()), ("content-type", "application/x-www-form-urlencoded"), ("origin", ORIGIN), ("user-agent", agent)];
    let r = send(p, req("POST", "/login", &h, form(&[("csrf", &csrf), ("email", email), ("password", "plum-kettle-42")])));
    assert_eq!(r.status, 303, "{}", text(&r));
    b.take(&r);
    b
}

#[test]
fn signed_out_visitors_log_in_first_and_the_home_page_links_here() {
    let p = platform();
    let mut anon = Browser::default();
    let r = anon.get(&p, "/account");
    assert_eq!(r.status, 303);
    assert_eq!(r.get_header("location"), Some("/login?return_to=%2Faccount"));
    assert!(!text(&anon.get(&p, "/")).contains("href=\"/account\""));
    // A form posted without a session (with a valid CSRF pair) goes to log in too.
    let csrf = csrf_of(&anon.get(&p, "/login"));
    let r = anon.post(&p, "/account/sessions/end-others", &form(&[("csrf", &csrf)]));
    assert_eq!(r.status, 303);
    let mut b = signed_in(&p, EMAIL);
    assert!(text(&b.get(&p, "/")).contains("href=\"/account\""));
    let (html, _) = account(&p, &mut b);
    for link in ["/account/password", "/account/email", "/account/passkeys", "/account/2fa"] {
        assert!(html.contains(&format!("href=\"{link}\"")), "{link}: {html}");
    }
    assert!(html.contains(EMAIL) && html.contains("No app has access"), "{html}");
}

#[test]
fn connected_apps_are_listed_and_revoking_one_ends_its_tokens_and_consent() {
    let p = platform();
    let shop = app(&p, "Shop <&>");
    let other = app(&p, "Other");
    let mut b = signed_in(&p, EMAIL);
    let (access, rt) = tokens(&p, &mut b, &shop);
    // A second grant of the same app, by the password grant, and one of another app.
    let pw = password_grant(&p, &shop, EMAIL);
    let (other_access, other_rt) = tokens(&p, &mut b, &other);
    // A code never redeemed: listed too (harmless), and dead once revoked.
    let (pending, asked) = code(&p, &mut b, &shop.0);
    assert!(!asked, "consent is remembered");
    let (html, csrf) = account(&p, &mut b);
    assert!(html.contains("Shop &lt;&amp;&gt;") && !html.contains("Shop <&>"), "{html}");
    assert!(html.contains("Other") && html.contains("Access: public, users:read"), "{html}");
    assert_eq!(html.matches("class=\"app-row\"").count(), 2, "{html}");
    let uid = user_id(&p, &b);
    let listed = block_on(crate::accounts::manage::connected_apps(&p, &uid)).unwrap();
    let s = listed.iter().find(|c| c.client_id == shop.0).unwrap();
    assert!(s.consented && s.grants == 3 && s.since.is_some(), "{s:?}");
    assert!(introspect(&p, &shop, &access)["active"] == true);

    let r = b.post(&p, "/account/apps/revoke", &form(&[("csrf", &csrf), ("client_id", &shop.0)]));
    assert_eq!(r.status, 303, "{}", text(&r));
    assert_eq!(r.get_header("location"), Some("/account?done=revoked"));
    // Refresh tokens refused, access tokens dead at introspection and userinfo, the pending
    // code never redeems.
    expect_error(&refresh(&p, &shop, &rt), 400, "invalid_grant");
    expect_error(&refresh(&p, &shop, pw["refresh_token"].as_str().unwrap()), 400, "invalid_grant");
    assert_eq!(introspect(&p, &shop, &access), json!({"active": false}));
    assert_eq!(introspect(&p, &shop, pw["access_token"].as_str().unwrap()), json!({"active": false}));
    assert_eq!(with_bearer(&p, "GET", "/oauth/userinfo", &access).status, 401);
    expect_error(&redeem(&p, &shop, &pending), 400, "invalid_grant");
    // The other app is untouched.
    assert_eq!(introspect(&p, &other, &other_access)["active"], true);
    assert_eq!(refresh(&p, &other, &other_rt).status, 200);
    // The page says so and lists only the other app; the next authorization asks again.
    let r = b.get(&p, "/account?done=revoked");
    assert!(text(&r).contains("access is revoked") && !text(&r).contains("Shop"), "{}", text(&r));
    let (c, asked) = code(&p, &mut b, &shop.0);
    assert!(asked, "consent is asked again");
    assert_eq!(redeem(&p, &shop, &c).status, 200);
    // Revoking again, or an app that holds nothing, or an unknown one: nothing breaks.
    let (_, csrf) = account(&p, &mut b);
    for id in [other.0.as_str(), other.0.as_str(), "a".repeat(32).as_str()] {
        let r = b.post(&p, "/account/apps/revoke", &form(&[("csrf", &csrf), ("client_id", id)]));
        assert_eq!(r.status, 303, "{}", text(&r));
    }
    expect_error(&refresh(&p, &other, &other_rt), 400, "invalid_grant");
}

#[test]
fn another_persons_session_cannot_revoke_my_apps_or_end_my_sessions() {
    let p = platform();
    let shop = app(&p, "Shop");
    let mut ann = signed_in(&p, EMAIL);
    let (access, rt) = tokens(&p, &mut ann, &shop);
    let ann_two = log_in(&p, EMAIL, "Phone");
    let uid = user_id(&p, &ann);
    let mut bob = signed_in(&p, "bob@example.com");
    let (_, csrf) = account(&p, &mut bob);
    let r = bob.post(&p, "/account/apps/revoke", &form(&[("csrf", &csrf), ("client_id", &shop.0)]));
    assert_eq!(r.status, 303);
    // Ann's session hashes, even if Bob learnt them, are not in Bob's index.
    for s in block_on(crate::accounts::sessions(&p, &uid)).unwrap() {
        let r = bob.post(&p, "/account/sessions/end", &form(&[("csrf", &csrf), ("session", &s.hash)]));
        assert_eq!(r.status, 303);
    }
    let r = bob.post(&p, "/account/sessions/end-others", &form(&[("csrf", &csrf)]));
    assert_eq!(r.status, 303);
    assert!(signed_in_now(&p, &ann) && signed_in_now(&p, &ann_two));
    assert_eq!(introspect(&p, &shop, &access)["active"], true);
    assert_eq!(refresh(&p, &shop, &rt).status, 200);
    // A grant of Ann's, named directly, does not end for Bob either.
    let gid = rt.split('.').next().unwrap();
    let bob_id = user_id(&p, &bob);
    let cmd = crate::objects::grants::EndGrant { client_id: shop.0.clone(), gid: gid.into(), user_id: bob_id };
    assert!(!block_on(crate::platform::Objects::call(&p, &crate::objects::grants::object(gid), cmd)).unwrap());
}

#[test]
fn sessions_are_listed_and_signed_out_one_or_everywhere_else() {
    let p = platform();
    block_on(crate::accounts::sign_up(&p, EMAIL, "plum-kettle-42", "Ann")).unwrap();
    let mut here = log_in(&p, EMAIL, "Firefox on Linux");
    let phone = log_in(&p, EMAIL, "Safari <iPhone>");
    let tablet = log_in(&p, EMAIL, "Tablet");
    let (html, csrf) = account(&p, &mut here);
    assert!(html.contains("Firefox on Linux") && html.contains("Safari &lt;iPhone&gt;"), "{html}");
    assert_eq!(html.matches("class=\"session-row\"").count(), 3);
    assert_eq!(html.matches("(this browser)").count(), 1);
    assert!(html.contains("with password"), "{html}");
    // This browser's own session is not ended from the list (Log out does that).
    let c = here.headers();
    let mine = crate::accounts::session_hash(&req("GET", "/", &[("cookie", &c)], "")).unwrap();
    let r = here.post(&p, "/account/sessions/end", &form(&[("csrf", &csrf), ("session", &mine)]));
    assert_eq!(r.status, 400);
    // Not a session hash at all.
    for bad in ["", "zz", &"g".repeat(64), &"a".repeat(65)] {
        let r = here.post(&p, "/account/sessions/end", &form(&[("csrf", &csrf), ("session", bad)]));
        assert_eq!(r.status, 400, "{bad}");
    }
    let c = phone.headers();
    let phone_hash = crate::accounts::session_hash(&req("GET", "/", &[("cookie", &c)], "")).unwrap();
    let r = here.post(&p, "/account/sessions/end", &form(&[("csrf", &csrf), ("session", &phone_hash)]));
    assert_eq!(r.status, 303);
    assert!(!signed_in_now(&p, &phone) && signed_in_now(&p, &tablet) && signed_in_now(&p, &here));
    assert!(text(&here.get(&p, "/account?done=signed-out")).contains("That session is signed out"));
    let r = here.post(&p, "/account/sessions/end-others", &form(&[("csrf", &csrf)]));
    assert_eq!(r.status, 303);
    assert_eq!(r.get_header("location"), Some("/account?done=signed-out-others"));
    assert!(!signed_in_now(&p, &tablet) && signed_in_now(&p, &here));
    let (html, _) = account(&p, &mut here);
    assert_eq!(html.matches("class=\"session-row\"").count(), 1);
    assert!(!html.contains("id=\"end-others\""), "{html}");
}

#[test]
fn the_display_name_changes_in_the_account_and_the_profile() {
    let p = platform();
    let shop = app(&p, "Shop");
    let mut b = signed_in(&p, EMAIL);
    let (_, csrf) = account(&p, &mut b);
    let r = b.post(&p, "/account/profile", &form(&[("csrf", &csrf), ("name", "  Ann B.  ")]));
    assert_eq!(r.status, 303);
    let r = b.get(&p, "/account?done=profile");
    assert!(text(&r).contains("value=\"Ann B.\"") && text(&r).contains("until you log in again"), "{}", text(&r));
    // Userinfo (profile) and the next log-in (account record) have the new name.
    let (access, _) = tokens(&p, &mut b, &shop);
    assert_eq!(json(&with_bearer(&p, "GET", "/oauth/userinfo", &access))["name"], "Ann B.");
    let again = log_in(&p, EMAIL, "x");
    let c = again.headers();
    let s = block_on(crate::accounts::current_session(&p, &req("GET", "/", &[("cookie", &c)], ""))).unwrap().unwrap();
    assert_eq!(s.name, "Ann B.");
    // Refused names: empty, too long, invisible characters; the page says why, nothing changes.
    for bad in ["", "   ", &"n".repeat(101), "Ann\u{202e}", "a\u{0}b"] {
        let r = b.post(&p, "/account/profile", &form(&[("csrf", &csrf), ("name", bad)]));
        assert_eq!(r.status, 400, "{bad:?}");
        assert!(text(&r).contains("role=\"alert\""));
    }
    let uid = user_id(&p, &b);
    assert_eq!(block_on(crate::accounts::profile(&p, &uid)).unwrap().unwrap().name, "Ann B.");
}

fn quota_platform(max_people: u32) -> MemPlatform {
    let mut cfg = Config::default();
    cfg.admin_token = Some(Secret("admin-secret".into()));
    cfg.quotas.max_people = Some(max_people);
    platform_with(cfg)
}

#[test]
fn deleting_the_account_ends_everything_and_gives_the_email_and_the_place_back() {
    let p = quota_platform(1);
    let shop = app(&p, "Shop");
    let mut b = signed_in(&p, EMAIL);
    let uid = user_id(&p, &b);
    let (access, rt) = tokens(&p, &mut b, &shop);
    let pw = password_grant(&p, &shop, EMAIL);
    let other = log_in(&p, EMAIL, "Phone");
    // The quota is full: nobody else can sign up.
    assert!(block_on(crate::accounts::sign_up(&p, "zed@example.com", "plum-kettle-42", "Zed")).is_err());
    let (_, csrf) = account(&p, &mut b);
    // A wrong or missing password deletes nothing.
    for bad in ["wrong password", ""] {
        let r = b.post(&p, "/account/delete", &form(&[("csrf", &csrf), ("password", bad)]));
        assert!(r.status == 401 || r.status == 400, "{}", r.status);
        assert!(signed_in_now(&p, &b));
    }
    let r = b.post(&p, "/account/delete", &form(&[("csrf", &csrf), ("password", "plum-kettle-42")]));
    assert_eq!(r.status, 200, "{}", text(&r));
    assert!(text(&r).contains("Your account is deleted"));
    assert!(r.headers.iter().any(|(k, v)| k == "set-cookie" && v.contains("portcullis_session=;")), "{:?}", r.headers);
    assert!(!signed_in_now(&p, &b) && !signed_in_now(&p, &other));
    expect_error(&refresh(&p, &shop, &rt), 400, "invalid_grant");
    expect_error(&refresh(&p, &shop, pw["refresh_token"].as_str().unwrap()), 400, "invalid_grant");
    assert_eq!(introspect(&p, &shop, &access), json!({"active": false}));
    assert_eq!(with_bearer(&p, "GET", "/oauth/userinfo", &access).status, 401);
    // Profile, consents and indexes are gone; the quota's place is free; log-in fails.
    assert!(block_on(crate::accounts::profile(&p, &uid)).unwrap().is_none());
    assert!(block_on(crate::accounts::manage::connected_apps(&p, &uid)).unwrap().is_empty());
    let used = block_on(crate::platform::Objects::call(&p, &quota::object(), quota::Used { resource: quota::Resource::People })).unwrap();
    assert_eq!(used.used, 0);
    let login = req("POST", "/login", &[], "");
    assert!(block_on(crate::accounts::log_in(&p, &login, EMAIL, "plum-kettle-42")).is_err());
    // The email signs up again, as a new person.
    let mut again = signed_in(&p, EMAIL);
    assert_ne!(user_id(&p, &again), uid);
    let (html, _) = account(&p, &mut again);
    assert!(html.contains("No app has access"), "{html}");
}

#[test]
fn a_bot_user_cannot_be_deleted() {
    let p = platform();
    let shop = app(&p, "Shop");
    let meta = json(&admin(&p, "GET", &format!("/admin/apps/{}", shop.0), None));
    let bot = meta["bot_user"]["id"].as_str().expect("the app has a bot user").to_owned();
    // A session naming the bot user (no log-in path makes one: forged straight into storage).
    let cookie = "b".repeat(43);
    let record = session::SessionRecord {
        user_id: bot.clone(),
        email: String::new(),
        name: "Shop (bot)".into(),
        expires_at: now(&p) + 3600,
        logged_in_at: Some(now(&p)),
        sid: None,
        amr: vec!["pwd".into()],
    };
    let hash = crate::util::sha256_hex(&cookie);
    block_on(crate::platform::Objects::call(&p, &session::object(&hash), session::Create { record })).unwrap();
    let mut b = Browser { cookies: vec![("portcullis_session".into(), cookie)] };
    let (_, csrf) = account(&p, &mut b);
    for pw in ["password123", "", "x"] {
        let r = b.post(&p, "/account/delete", &form(&[("csrf", &csrf), ("password", pw)]));
        assert_ne!(r.status, 200, "{}", text(&r));
        assert!(!text(&r).contains("Your account is deleted"));
    }
    assert!(signed_in_now(&p, &b));
    let q = block_on(crate::platform::Objects::call(&p, &user::object(&bot), user::GetProfile {})).unwrap();
    assert!(q.is_none());
    // The app and its bot user are as they were.
    let after = json(&admin(&p, "GET", &format!("/admin/apps/{}", shop.0), None));
    assert_eq!(after["bot_user"], meta["bot_user"]);
    assert_eq!(after["status"], "active");
}

#[test]
fn forms_without_the_csrf_token_or_of_the_wrong_kind_are_refused_and_change_nothing() {
    let p = platform();
    let shop = app(&p, "Shop");
    let mut b = signed_in(&p, EMAIL);
    let (_, rt) = tokens(&p, &mut b, &shop);
    let (_, csrf) = account(&p, &mut b);
    let forms: [(&str, Vec<(&str, &str)>); 5] = [
        ("/account/profile", vec![("name", "Mallory")]),
        ("/account/apps/revoke", vec![("client_id", &shop.0)]),
        ("/account/sessions/end", vec![("session", "ab")]),
        ("/account/sessions/end-others", vec![]),
        ("/account/delete", vec![("password", "plum-kettle-42")]),
    ];
    let wrong = "w".repeat(43);
    for (path, fields) in &forms {
        // No token, a wrong token, the right token from another site.
        for token in [None, Some(wrong.as_str())] {
            let mut pairs = fields.clone();
            if let Some(t) = token {
                pairs.push(("csrf", t));
            }
            let r = b.post(&p, path, &form(&pairs));
            assert_eq!(r.status, 403, "{path}: {}", text(&r));
        }
        let mut pairs = fields.clone();
        pairs.push(("csrf", &csrf));
        let c = b.headers();
        let h = [("cookie", c.as_str()), ("content-type", "application/x-www-form-urlencoded"), ("origin", "https://evil.example")];
        assert_eq!(send(&p, req("POST", path, &h, form(&pairs))).status, 403, "{path}");
        // Wrong content type, non-UTF-8, oversized.
        let h = [("cookie", c.as_str()), ("content-type", "application/json"), ("origin", ORIGIN)];
        assert_eq!(send(&p, req("POST", path, &h, json!({"csrf": csrf}).to_string())).status, 415, "{path}");
        let h = [("cookie", c.as_str()), ("content-type", "application/x-www-form-urlencoded"), ("origin", ORIGIN)];
        let mut bytes = format!("csrf={csrf}&name=").into_bytes();
        bytes.extend_from_slice(&[0xff, 0xfe, 0x80]);
        let r = send(&p, req("POST", path, &h, &bytes));
        assert!(r.status == 400 || r.status == 303, "{path}: {} {}", r.status, text(&r));
        let big = format!("csrf={csrf}&name={}&client_id={}&password={}", "n".repeat(200_000), "c".repeat(100_000), "p".repeat(100_000));
        let r = send(&p, req("POST", path, &h, big));
        assert!(matches!(r.status, 400 | 413 | 303), "{path}: {}", r.status);
        // GET is not a way in.
        assert_eq!(b.get(&p, path).status, 405, "{path}");
    }
    // Nothing changed: the name, the grant, the session.
    assert!(signed_in_now(&p, &b));
    assert_eq!(refresh(&p, &shop, &rt).status, 200);
    let uid = user_id(&p, &b);
    assert_eq!(block_on(crate::accounts::profile(&p, &uid)).unwrap().unwrap().name, "Dev");
}

#[test]
fn the_grant_index_is_bounded_and_what_it_pushes_out_ends() {
    let p = platform();
    let shop = app(&p, "Shop");
    block_on(crate::accounts::sign_up(&p, EMAIL, "plum-kettle-42", "Ann")).unwrap();
    let first = password_grant(&p, &shop, EMAIL);
    let second = password_grant(&p, &shop, EMAIL);
    let mut b = log_in(&p, EMAIL, "x");
    let uid = user_id(&p, &b);
    let ends = now(&p) + 3600;
    // Grants recorded as the authorization step records them, up to the bound.
    for i in 0..user::MAX_GRANTS_PER_APP - 1 {
        let gid = format!("g{i:020}");
        block_on(crate::oauth::grants::track_grant(&p, &shop.0, &gid, &uid, &["public".into()], ends)).unwrap();
    }
    // The oldest (the first password grant) was pushed out, and ended; the second was not.
    expect_error(&refresh(&p, &shop, first["refresh_token"].as_str().unwrap()), 400, "invalid_grant");
    assert_eq!(refresh(&p, &shop, second["refresh_token"].as_str().unwrap()).status, 200);
    let listed = block_on(crate::accounts::manage::connected_apps(&p, &uid)).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].grants, user::MAX_GRANTS_PER_APP);
    assert!(!listed[0].consented);
    let (html, _) = account(&p, &mut b);
    assert!(html.contains("Shop"), "{html}");
    // Apps beyond the bound push out the least recently granted one.
    for i in 0..user::MAX_APPS {
        p.clock.set(now(&p) + 1);
        let cid = format!("{i:032}");
        block_on(crate::oauth::grants::track_grant(&p, &cid, "gid", &uid, &[], ends)).unwrap();
    }
    let listed = block_on(crate::accounts::manage::connected_apps(&p, &uid)).unwrap();
    assert_eq!(listed.len(), user::MAX_APPS);
    assert!(!listed.iter().any(|c| c.client_id == shop.0));
    expect_error(&refresh(&p, &shop, second["refresh_token"].as_str().unwrap()), 400, "invalid_grant");
    // Expired grants leave the index by themselves.
    p.clock.set(ends + 1);
    assert!(block_on(crate::accounts::manage::connected_apps(&p, &uid)).unwrap().is_empty());
}

/// An app with a back-channel logout URI that got an ID token in `b`'s session.
fn openid_login(p: &MemPlatform, b: &mut Browser) -> (String, String) {
    let body = json!({"name": "RP", "redirect_uris": [CB], "scopes": ["public"],
        "backchannel_logout_uri": "https://rp.example/backchannel"});
    let rp = credentials(&create_app(p, body));
    let q = form(&[("response_type", "code"), ("client_id", &rp.0), ("redirect_uri", CB), ("scope", "openid"), ("state", "s")]);
    let url = format!("/oauth/authorize?{q}");
    let r = b.get(p, &url);
    let r = if r.status == 200 {
        b.post(p, "/oauth/authorize", &format!("{q}&{}", form(&[("csrf", &csrf_of(&r)), ("decision", "allow")])))
    } else {
        r
    };
    let c = query_param(r.get_header("location").unwrap(), "code").unwrap();
    let t = expect_json(&redeem(p, &rp, &c), 200);
    assert!(t["id_token"].is_string());
    rp
}

#[test]
fn signing_out_a_session_or_deleting_the_account_notifies_apps_over_the_back_channel() {
    let p = platform();
    block_on(crate::accounts::sign_up(&p, EMAIL, "plum-kettle-42", "Ann")).unwrap();
    let mut here = log_in(&p, EMAIL, "Here");
    let mut phone = log_in(&p, EMAIL, "Phone");
    openid_login(&p, &mut phone);
    let c = phone.headers();
    let phone_hash = crate::accounts::session_hash(&req("GET", "/", &[("cookie", &c)], "")).unwrap();
    let (_, csrf) = account(&p, &mut here);
    let r = here.post(&p, "/account/sessions/end", &form(&[("csrf", &csrf), ("session", &phone_hash)]));
    assert_eq!(r.status, 303);
    assert_eq!(r.after.len(), 1, "one logout token for the phone's app");
    // Deletion: the app that got an ID token in this very session is told too.
    openid_login(&p, &mut here);
    let r = here.post(&p, "/account/delete", &form(&[("csrf", &csrf), ("password", "plum-kettle-42")]));
    assert_eq!(r.status, 200, "{}", text(&r));
    assert_eq!(r.after.len(), 1, "one logout token for this session's app");
}
