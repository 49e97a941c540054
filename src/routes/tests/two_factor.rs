//! Two-factor authentication (TOTP, RFC 6238) through the router: enrolment confirmed by a
//! code, the log-in's second step with its ticket, wrong-code limits, replay, recovery codes,
//! management, and what the password grant does for people who have a second factor. Codes
//! are computed here from the secret the page shows, as an authenticator app would.

use super::support::*;
use crate::config::{Config, Secret};
use crate::platform::memory::MemPlatform;
use crate::rules::totp;

const PASSWORD: &str = "plum-kettle-42";

/// The secret the enrolment page shows (`<code id="secret">`, grouped), decoded.
fn secret_on(page: &str) -> Vec<u8> {
    let at = page.find(r#"<code id="secret">"#).expect("secret on the page") + r#"<code id="secret">"#.len();
    let shown = page[at..].split('<').next().unwrap().replace(' ', "");
    totp::base32_decode(&shown).expect("base32 secret")
}

/// The recovery codes a page lists.
fn codes_on(page: &str) -> Vec<String> {
    let Some(at) = page.find(r#"<ul id="recovery-codes">"#) else { return vec![] };
    page[at..]
        .split("</ul>")
        .next()
        .unwrap()
        .split("<code>")
        .skip(1)
        .map(|c| c.split('<').next().unwrap().to_owned())
        .collect()
}

/// The authenticator's code now, `offset` steps away.
pub(super) fn code_now(p: &MemPlatform, secret: &[u8], offset: i64) -> String {
    totp::code_at(secret, totp::step_of(now(p)).unwrap() + offset)
}

pub(super) fn account_post(p: &MemPlatform, b: &mut Browser, pairs: &[(&str, &str)]) -> crate::http::Response {
    let page = b.get(p, "/account/2fa");
    let csrf = csrf_of(&page);
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(pairs);
    b.post(p, "/account/2fa", &form(&all))
}

/// Turns the factor on for a signed-in browser; the secret and the recovery codes shown. The
/// clock then moves to the next step, so the confirming code's step is in the past.
pub(super) fn enrol(p: &MemPlatform, b: &mut Browser) -> (Vec<u8>, Vec<String>) {
    let r = account_post(p, b, &[("action", "start")]);
    assert_eq!(r.status, 303, "{}", text(&r));
    let page = b.get(p, "/account/2fa");
    let secret = secret_on(&text(&page));
    let r = account_post(p, b, &[("action", "confirm"), ("code", &code_now(p, &secret, 0))]);
    assert_eq!(r.status, 200, "{}", text(&r));
    let codes = codes_on(&text(&r));
    p.advance(totp::STEP);
    (secret, codes)
}

pub(super) fn has_session(r: &crate::http::Response) -> bool {
    r.headers.iter().any(|(k, v)| k == "set-cookie" && v.starts_with("portcullis_session=") && !v.contains("Max-Age=0"))
}

/// Logs in with the password at `/login` (returning to `return_to`); the response.
pub(super) fn password_step(p: &MemPlatform, b: &mut Browser, email: &str, return_to: &str) -> crate::http::Response {
    let csrf = csrf_of(&b.get(p, "/login"));
    b.post(p, "/login", &form(&[("csrf", &csrf), ("email", email), ("password", PASSWORD), ("return_to", return_to)]))
}

/// Sends a code (or, with `recovery`, a recovery code) at `/login/2fa`.
pub(super) fn second_step(p: &MemPlatform, b: &mut Browser, code: &str, recovery: bool) -> crate::http::Response {
    b.get(p, "/login/2fa");
    // The CSRF cookie (the expired page has no form to take it from).
    let csrf = b.cookies.iter().find(|(k, _)| k == "portcullis_csrf").map(|(_, v)| v.clone()).unwrap();
    let field = if recovery { "recovery_code" } else { "code" };
    b.post(p, "/login/2fa", &form(&[("csrf", &csrf), (field, code)]))
}

/// A fresh browser that passed the password step of `email` (a ticket, no session).
pub(super) fn at_second_step(p: &MemPlatform, email: &str) -> Browser {
    let mut b = Browser::default();
    let r = password_step(p, &mut b, email, "/");
    assert_eq!(r.status, 303, "{}", text(&r));
    assert_eq!(r.get_header("location"), Some("/login/2fa"));
    assert!(!has_session(&r), "{:?}", r.headers);
    b
}

fn signed_in_now(p: &MemPlatform, b: &mut Browser) -> bool {
    text(&b.get(p, "/")).contains("Signed in as")
}

#[test]
fn enrolment_is_confirmed_by_a_right_code_and_shows_recovery_codes_once() {
    let p = platform();
    // Not signed in: to the log-in page and back.
    let r = Browser::default().get(&p, "/account/2fa");
    assert_eq!(r.status, 303);
    assert_eq!(r.get_header("location"), Some("/login?return_to=%2Faccount%2F2fa"));
    let mut b = signed_in(&p, "ann@example.com");
    let page = b.get(&p, "/account/2fa");
    assert_eq!(page.status, 200);
    assert!(text(&page).contains("is <strong>off</strong>"), "{}", text(&page));
    expect_no_store(&page);
    // Starting needs the CSRF token.
    let r = b.post(&p, "/account/2fa", &form(&[("action", "start"), ("csrf", &"x".repeat(43))]));
    assert_eq!(r.status, 403);
    assert!(!text(&r).contains(r#"id="secret""#));
    assert_eq!(account_post(&p, &mut b, &[("action", "start")]).status, 303);
    let page = text(&b.get(&p, "/account/2fa"));
    // The QR code is inline SVG of the otpauth URI; the secret is there as text too.
    assert!(page.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""), "{page}");
    assert!(page.contains(r#"role="img" aria-label="QR code"#), "{page}");
    assert!(!page.contains("<script") && !page.contains(" style="), "{page}");
    let secret = secret_on(&page);
    assert_eq!(secret.len(), 20);
    // Not on yet: logging in asks for no code.
    let mut other = Browser::default();
    assert!(has_session(&password_step(&p, &mut other, "ann@example.com", "/")));
    // Wrong, malformed and another step's codes do not turn it on.
    for bad in [code_now(&p, &secret, 2), "000000".into(), "12345".into(), "١٢٣٤٥٦".into(), "x".repeat(5000)] {
        if bad == code_now(&p, &secret, 0) {
            continue;
        }
        let r = account_post(&p, &mut b, &[("action", "confirm"), ("code", &bad)]);
        assert_eq!(r.status, 401, "{bad:?}: {}", text(&r));
        assert!(text(&r).contains("That code is wrong"), "{}", text(&r));
        assert!(codes_on(&text(&r)).is_empty());
    }
    // The previous step's code is accepted (clock skew): on, and ten codes shown.
    let r = account_post(&p, &mut b, &[("action", "confirm"), ("code", &code_now(&p, &secret, -1))]);
    assert_eq!(r.status, 200, "{}", text(&r));
    expect_no_store(&r);
    let codes = codes_on(&text(&r));
    assert_eq!(codes.len(), 10, "{}", text(&r));
    let mut unique = codes.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 10);
    assert!(codes.iter().all(|c| crate::rules::recovery_code::normalise(c).is_some()));
    // Shown once: the page now says on, with no codes and no secret.
    let page = text(&b.get(&p, "/account/2fa"));
    assert!(page.contains("is <strong>on</strong>") && page.contains("10 of 10 recovery codes left"), "{page}");
    assert!(codes.iter().all(|c| !page.contains(c.as_str())) && !page.contains(r#"id="secret""#), "{page}");
    // Starting again while on is refused (turn it off first).
    let r = account_post(&p, &mut b, &[("action", "start")]);
    assert_eq!(r.status, 400, "{}", text(&r));
    // The secret is nowhere in what the platform logged.
    let b32 = totp::base32_encode(&secret);
    assert!(p.audit_log.borrow().iter().all(|l| !l.to_string().contains(&b32)));
}

#[test]
fn an_enrolment_not_confirmed_in_ten_minutes_is_gone() {
    let p = platform();
    let mut b = signed_in(&p, "ann@example.com");
    account_post(&p, &mut b, &[("action", "start")]);
    let secret = secret_on(&text(&b.get(&p, "/account/2fa")));
    p.advance(601);
    // (The session's log-in is no longer recent either: log in again first.)
    let r = account_post(&p, &mut b, &[("action", "confirm"), ("code", &code_now(&p, &secret, 0))]);
    assert_eq!(r.status, 303, "{}", text(&r));
    assert_eq!(password_step(&p, &mut b, "ann@example.com", "/account/2fa").status, 303);
    let r = account_post(&p, &mut b, &[("action", "confirm"), ("code", &code_now(&p, &secret, 0))]);
    assert_eq!(r.status, 400, "{}", text(&r));
    assert!(text(&r).contains("The set-up expired"), "{}", text(&r));
    assert!(text(&b.get(&p, "/account/2fa")).contains("is <strong>off</strong>"));
}

#[test]
fn log_in_asks_for_the_code_and_a_step_is_used_once() {
    let p = platform();
    let mut b = signed_in(&p, "ann@example.com");
    let (secret, _) = enrol(&p, &mut b);
    let mut b = Browser::default();
    let r = password_step(&p, &mut b, "ann@example.com", "/oauth/authorize?x=1");
    assert_eq!(r.status, 303);
    assert_eq!(r.get_header("location"), Some("/login/2fa"));
    assert!(!has_session(&r));
    let ticket = r.headers.iter().find(|(k, v)| k == "set-cookie" && v.starts_with("portcullis_login2fa=")).unwrap();
    assert!(ticket.1.contains("HttpOnly") && ticket.1.contains("Max-Age=300"), "{ticket:?}");
    assert!(!signed_in_now(&p, &mut b));
    let page = b.get(&p, "/login/2fa");
    assert_eq!(page.status, 200);
    assert!(text(&page).contains("ann@example.com") && text(&page).contains(r#"autocomplete="one-time-code""#));
    // A wrong code: 401, the tries left said, still no session.
    let r = second_step(&p, &mut b, "000000", false);
    assert_eq!(r.status, 401);
    assert!(text(&r).contains("4 tries left"), "{}", text(&r));
    assert!(!signed_in_now(&p, &mut b));
    // The right code: the session starts and the browser returns where it was going.
    let code = code_now(&p, &secret, 0);
    let r = second_step(&p, &mut b, &code, false);
    assert_eq!(r.status, 303, "{}", text(&r));
    assert_eq!(r.get_header("location"), Some("/oauth/authorize?x=1"));
    assert!(has_session(&r));
    assert!(signed_in_now(&p, &mut b));
    // The same code again (another log-in in the same 30 s): replay, refused.
    let mut c = at_second_step(&p, "ann@example.com");
    assert_eq!(second_step(&p, &mut c, &code, false).status, 401);
    // So is the previous step's (older than the one used); the next step's works.
    assert_eq!(second_step(&p, &mut c, &code_now(&p, &secret, -1), false).status, 401);
    let r = second_step(&p, &mut c, &code_now(&p, &secret, 1), false);
    assert_eq!(r.status, 303, "{}", text(&r));
    // A person without a second factor is not asked.
    signed_in(&p, "bob@example.com");
}

#[test]
fn a_ticket_lasts_five_minutes_is_used_once_and_dies_after_five_wrong_codes() {
    let p = platform();
    let mut b = signed_in(&p, "ann@example.com");
    let (secret, _) = enrol(&p, &mut b);
    // Expired.
    let mut b = at_second_step(&p, "ann@example.com");
    p.advance(301);
    let r = second_step(&p, &mut b, &code_now(&p, &secret, 0), false);
    assert_eq!(r.status, 401);
    assert!(text(&r).contains("This log-in expired"), "{}", text(&r));
    assert!(!has_session(&r));
    // Used once: the same ticket cookie after a success starts nothing.
    let mut b = at_second_step(&p, "ann@example.com");
    let mut replayed = Browser { cookies: b.cookies.clone() };
    assert_eq!(second_step(&p, &mut b, &code_now(&p, &secret, 0), false).status, 303);
    p.advance(totp::STEP);
    let r = second_step(&p, &mut replayed, &code_now(&p, &secret, 0), false);
    assert_eq!(r.status, 401);
    assert!(text(&r).contains("This log-in expired") && !has_session(&r));
    // Five wrong codes end the ticket: the right one then fails too.
    let mut b = at_second_step(&p, "ann@example.com");
    for left in (1..5).rev() {
        let r = second_step(&p, &mut b, "111111", false);
        assert!(text(&r).contains(&format!("{left} tr")), "{}", text(&r));
    }
    let r = second_step(&p, &mut b, "111111", false);
    assert!(text(&r).contains("This log-in expired"), "{}", text(&r));
    let r = second_step(&p, &mut b, &code_now(&p, &secret, 0), false);
    assert!(text(&r).contains("This log-in expired") && !has_session(&r), "{}", text(&r));
    // A forged or malformed ticket cookie is no ticket.
    for forged in ["x".repeat(43), "short".into(), "ä".repeat(20)] {
        let mut f = Browser { cookies: vec![("portcullis_login2fa".into(), forged.clone())] };
        f.get(&p, "/login");
        let r = second_step(&p, &mut f, &code_now(&p, &secret, 0), false);
        assert!(text(&r).contains("This log-in expired") && !has_session(&r), "{forged}");
    }
    // Without the CSRF token nothing is tried.
    let mut b = at_second_step(&p, "ann@example.com");
    let r = b.post(&p, "/login/2fa", &form(&[("code", &code_now(&p, &secret, 0))]));
    assert_eq!(r.status, 403);
    assert_eq!(second_step(&p, &mut b, &code_now(&p, &secret, 0), false).status, 303);
}

#[test]
fn wrong_codes_are_rate_limited_per_person_and_per_address() {
    let mut cfg = Config::default();
    cfg.admin_token = Some(Secret("admin-secret".into()));
    cfg.login_limit_account = 6;
    cfg.login_limit_address = 1000;
    let p = platform_with(cfg);
    let mut b = signed_in(&p, "ann@example.com");
    let (secret, _) = enrol(&p, &mut b);
    // Six wrong codes over two tickets fill the person's minute; the seventh, even right, is 429.
    for _ in 0..2 {
        let mut t = at_second_step(&p, "ann@example.com");
        for _ in 0..3 {
            assert_eq!(second_step(&p, &mut t, "123456", false).status, 401);
        }
    }
    let mut t = at_second_step(&p, "ann@example.com");
    let r = second_step(&p, &mut t, &code_now(&p, &secret, 0), false);
    assert_eq!(r.status, 429, "{}", text(&r));
    assert!(r.get_header("retry-after").is_some());
    assert!(text(&r).contains("Too many wrong codes") && !has_session(&r));
    // The next minute the right code works again (a right code gives its attempt back).
    p.advance(60);
    let mut t = at_second_step(&p, "ann@example.com");
    assert_eq!(second_step(&p, &mut t, &code_now(&p, &secret, 0), false).status, 303);

    // Per address: many people's wrong codes from one address.
    let mut cfg = Config::default();
    cfg.login_limit_address = 8;
    let p = platform_with(cfg);
    let mut b = signed_in(&p, "ann@example.com");
    let (secret, _) = enrol(&p, &mut b);
    // (The sign-up's and enrolment's log-in gave their attempts back.) Three tickets, then
    // eight wrong codes from this address on two of them.
    let mut tickets = [0, 1, 2].map(|_| at_second_step(&p, "ann@example.com"));
    let mut statuses = vec![];
    for t in tickets.iter_mut().take(2) {
        for _ in 0..4 {
            statuses.push(second_step(&p, t, "123456", false).status);
        }
    }
    assert_eq!(statuses, [401; 8]);
    // The third ticket's right code is refused, and so is the password step now.
    let [_, _, mut third] = tickets;
    let r = second_step(&p, &mut third, &code_now(&p, &secret, 0), false);
    assert_eq!(r.status, 429, "{}", text(&r));
    assert!(!has_session(&r));
    assert_eq!(password_step(&p, &mut Browser::default(), "ann@example.com", "/").status, 429);
    p.advance(60);
    assert_eq!(second_step(&p, &mut third, &code_now(&p, &secret, 0), false).status, 303);
}

#[test]
fn a_recovery_code_works_once_instead_of_a_code() {
    let p = platform();
    let mut b = signed_in(&p, "ann@example.com");
    let (_, codes) = enrol(&p, &mut b);
    let first = codes.first().unwrap().clone();
    let mut b = at_second_step(&p, "ann@example.com");
    // Typed loosely (upper case, no hyphen) it still works.
    let r = second_step(&p, &mut b, &first.to_uppercase().replace('-', ""), true);
    assert_eq!(r.status, 303, "{}", text(&r));
    assert!(has_session(&r));
    // Once only.
    let mut c = at_second_step(&p, "ann@example.com");
    assert_eq!(second_step(&p, &mut c, &first, true).status, 401);
    // A recovery code is not taken in the authenticator field... and an authenticator-shaped
    // code not as a recovery code; a made-up one is wrong.
    let second = codes.get(1).unwrap();
    assert_eq!(second_step(&p, &mut c, "abcde-fghij", true).status, 401);
    let r = second_step(&p, &mut c, second, true);
    assert_eq!(r.status, 303, "{}", text(&r));
    let page = text(&b.get(&p, "/account/2fa"));
    assert!(page.contains("8 of 10 recovery codes left"), "{page}");
}

#[test]
fn recovery_codes_are_regenerated_with_a_code_and_the_factor_turned_off_with_a_code_or_password() {
    let p = platform();
    let mut b = signed_in(&p, "ann@example.com");
    let (secret, old) = enrol(&p, &mut b);
    // Regenerating needs a right authenticator code (a recovery code is not enough).
    let r = account_post(&p, &mut b, &[("action", "regenerate"), ("code", old.first().unwrap())]);
    assert_eq!(r.status, 401, "{}", text(&r));
    let r = account_post(&p, &mut b, &[("action", "regenerate"), ("code", &code_now(&p, &secret, 0))]);
    assert_eq!(r.status, 200, "{}", text(&r));
    let new = codes_on(&text(&r));
    assert_eq!(new.len(), 10);
    assert!(new.iter().all(|c| !old.contains(c)));
    // Old codes stop working; new ones work.
    let mut t = at_second_step(&p, "ann@example.com");
    assert_eq!(second_step(&p, &mut t, old.get(1).unwrap(), true).status, 401);
    assert_eq!(second_step(&p, &mut t, new.first().unwrap(), true).status, 303);
    // Turning off: a wrong password or code leaves it on; neither given, too.
    for pairs in [vec![("password", "wrong-password")], vec![("code", "000000")], vec![]] {
        let mut all = vec![("action", "disable")];
        all.extend(pairs);
        let r = account_post(&p, &mut b, &all);
        assert_eq!(r.status, 401, "{}", text(&r));
        assert!(text(&r).contains("is <strong>on</strong>"), "{}", text(&r));
    }
    let r = account_post(&p, &mut b, &[("action", "disable"), ("password", PASSWORD)]);
    assert_eq!(r.status, 200, "{}", text(&r));
    assert!(text(&r).contains("is <strong>off</strong>"), "{}", text(&r));
    // Logging in asks for no code any more.
    assert!(has_session(&password_step(&p, &mut Browser::default(), "ann@example.com", "/")));
    // On again (a new secret), then off with a code.
    let (secret2, _) = enrol(&p, &mut b);
    assert_ne!(secret, secret2);
    let r = account_post(&p, &mut b, &[("action", "disable"), ("code", &code_now(&p, &secret2, 0))]);
    assert!(text(&r).contains("is <strong>off</strong>"), "{}", text(&r));
    // Unknown actions and non-form bodies are refused.
    assert_eq!(account_post(&p, &mut b, &[("action", "explode")]).status, 400);
    let r = Browser::default().post(&p, "/account/2fa", &form(&[("action", "explode")]));
    assert_eq!(r.status, 400, "an unknown action is refused before the session is asked for");
    assert_eq!(Browser::default().post(&p, "/account/2fa", &form(&[("action", "start")])).status, 303);
    let c = b.headers();
    let r = send(&p, req("POST", "/account/2fa", &[("cookie", &c), ("content-type", "application/json")], "{}"));
    assert_eq!(r.status, 415);
    let r = send(&p, req("POST", "/login/2fa", &[("cookie", &c), ("content-type", "application/x-www-form-urlencoded")], b"\xff\xfe=\xc3"));
    assert!(r.status == 400 || r.status == 403, "{}", r.status);
}

#[test]
fn the_password_grant_refuses_a_person_with_a_second_factor() {
    let p = platform();
    let app = create_app(&p, serde_json::json!({"name": "Legacy", "grant_types": ["password"], "scopes": ["public"]}));
    let (id, secret) = credentials(&app);
    let mut b = signed_in(&p, "ann@example.com");
    let grant = |p: &MemPlatform| {
        token_with(p, &[("grant_type", "password"), ("username", "ann@example.com"), ("password", PASSWORD)], &[("authorization", &basic(&id, &secret))])
    };
    let r = grant(&p);
    assert_eq!(r.status, 200, "{}", text(&r));
    enrol(&p, &mut b);
    let v = expect_error(&grant(&p), 400, "invalid_grant");
    assert!(v["error_description"].as_str().unwrap().contains("two-factor"), "{v}");
}

/// RFC 8176 `amr` in the ID token: what the log-in used, carried from the session.
#[test]
fn the_id_token_says_which_factors_were_used() {
    use super::oidc::{authorize, authz_url, redeem, rp_at, verify};
    let p = platform();
    let rp = rp_at(&p, ORIGIN, &["public"]);
    let mut b = signed_in(&p, "ann@example.com");
    // Before enrolment: the password only.
    let loc = authorize(&p, ORIGIN, &mut b, &authz_url(&rp.0, "openid", None));
    let t = redeem(&p, ORIGIN, &rp, &query_param(&loc, "code").unwrap());
    let (_, c) = verify(&p, ORIGIN, &rp.0, t["id_token"].as_str().unwrap());
    assert_eq!(c["amr"], serde_json::json!(["pwd"]));
    assert_eq!(c["acr"], crate::rules::acr::PASSWORD);
    let (secret, codes) = enrol(&p, &mut b);
    // Password and authenticator code.
    let mut b = at_second_step(&p, "ann@example.com");
    assert_eq!(second_step(&p, &mut b, &code_now(&p, &secret, 0), false).status, 303);
    let loc = authorize(&p, ORIGIN, &mut b, &authz_url(&rp.0, "openid", None));
    let t = redeem(&p, ORIGIN, &rp, &query_param(&loc, "code").unwrap());
    let (_, c) = verify(&p, ORIGIN, &rp.0, t["id_token"].as_str().unwrap());
    assert_eq!(c["amr"], serde_json::json!(["pwd", "otp", "mfa"]), "{c}");
    assert_eq!(c["acr"], crate::rules::acr::MFA, "{c}");
    // Password and a recovery code: two factors, but not an RFC 6238 one-time password.
    let mut b = at_second_step(&p, "ann@example.com");
    assert_eq!(second_step(&p, &mut b, codes.first().unwrap(), true).status, 303);
    let loc = authorize(&p, ORIGIN, &mut b, &authz_url(&rp.0, "openid", None));
    let t = redeem(&p, ORIGIN, &rp, &query_param(&loc, "code").unwrap());
    let (_, c) = verify(&p, ORIGIN, &rp.0, t["id_token"].as_str().unwrap());
    assert_eq!(c["amr"], serde_json::json!(["pwd", "mfa"]), "{c}");
    assert_eq!(c["acr"], crate::rules::acr::MFA, "{c}");
}

/// The authorization endpoint sends a person who is not signed in to log in; with a second
/// factor the password alone brings them to `/login/2fa`, and the code back to the request.
#[test]
fn the_second_step_returns_to_the_authorization_request() {
    use super::oidc::{authz_url, rp_at};
    let p = platform();
    let rp = rp_at(&p, ORIGIN, &["public"]);
    let mut b = signed_in(&p, "ann@example.com");
    let (secret, _) = enrol(&p, &mut b);
    let url = authz_url(&rp.0, "openid", None);
    let mut b = Browser::default();
    let r = b.get(&p, &url);
    assert_eq!(r.status, 303);
    let login = r.get_header("location").unwrap().to_owned();
    let return_to = query_param(&login, "return_to").unwrap();
    let r = password_step(&p, &mut b, "ann@example.com", &return_to);
    assert_eq!(r.get_header("location"), Some("/login/2fa"));
    let r = second_step(&p, &mut b, &code_now(&p, &secret, 0), false);
    assert_eq!(r.status, 303);
    assert_eq!(r.get_header("location"), Some(return_to.as_str()));
}

/// The registration page's credentials fields start a session with a password alone: for a
/// person with a second factor they refuse (log in first), and nothing is registered.
#[test]
fn the_registration_pages_credentials_do_not_skip_the_second_factor() {
    let p = platform();
    let mut b = signed_in(&p, "registrar@example.com");
    let (secret, _) = enrol(&p, &mut b);
    let registration = form(&[
        ("name", "Printer"),
        ("homepage", "https://printer.example"),
        ("email", "dev@printer.example"),
        ("redirect_uri", "https://printer.example/cb"),
        ("state", "xyz"),
    ]);
    let mut c = Browser::default();
    let page = c.get(&p, &format!("/oauth/register?{registration}"));
    assert_eq!(page.status, 200);
    let creds = form(&[("csrf", &csrf_of(&page)), ("decision", "register"), ("login_email", "registrar@example.com"), ("login_password", PASSWORD)]);
    let r = c.post(&p, "/oauth/register/confirm", &format!("{registration}&{creds}"));
    assert_eq!(r.status, 401, "{}", text(&r));
    assert!(text(&r).contains("two-factor authentication"), "{}", text(&r));
    assert!(!has_session(&r) && r.get_header("location").is_none());
    // Logged in with both factors first, the same page registers as the session's person.
    let mut c = at_second_step(&p, "registrar@example.com");
    assert_eq!(second_step(&p, &mut c, &code_now(&p, &secret, 0), false).status, 303);
    let page = c.get(&p, &format!("/oauth/register?{registration}"));
    let r = c.post(&p, "/oauth/register/confirm", &format!("{registration}&{}", form(&[("csrf", &csrf_of(&page)), ("decision", "register")])));
    assert_eq!(r.status, 303, "{}", text(&r));
    assert!(query_param(r.get_header("location").unwrap(), "client_id").is_some());
}

/// "Sudo mode" (`rules::recent_login`): a session whose log-in is over ten minutes old cannot
/// start, confirm, renew or turn off the second factor; it is sent to log in again (the page
/// says why, the email prefilled) and comes back; the new log-in works at once.
#[test]
fn security_changes_need_a_log_in_of_the_last_ten_minutes() {
    use crate::rules::recent_login::MAX_AGE;
    let p = platform();
    let mut b = signed_in(&p, "ann@example.com");
    p.advance(MAX_AGE);
    assert_eq!(account_post(&p, &mut b, &[("action", "start")]).status, 303, "exactly ten minutes is still recent");
    let secret = secret_on(&text(&b.get(&p, "/account/2fa")));
    p.advance(1);
    let r = account_post(&p, &mut b, &[("action", "confirm"), ("code", &code_now(&p, &secret, 0))]);
    assert_eq!(r.status, 303, "{}", text(&r));
    let loc = r.get_header("location").unwrap().to_owned();
    assert!(loc.starts_with("/login?"), "{loc}");
    assert_eq!(query_param(&loc, "return_to").as_deref(), Some("/account/2fa"));
    assert_eq!(query_param(&loc, "reauth").as_deref(), Some("1"));
    assert_eq!(query_param(&loc, "login_hint").as_deref(), Some("ann@example.com"));
    assert!(!text(&b.get(&p, "/account/2fa")).contains("is <strong>on</strong>"), "not turned on");
    let page = text(&b.get(&p, &loc));
    assert!(page.contains(r#"id="reauth""#) && page.contains(r#"value="ann@example.com""#), "{page}");
    // An unknown action is still refused first; a forged return is not possible (fixed path).
    let r = password_step(&p, &mut b, "ann@example.com", "/account/2fa");
    assert_eq!(r.get_header("location"), Some("/account/2fa"));
    let r = account_post(&p, &mut b, &[("action", "confirm"), ("code", &code_now(&p, &secret, 0))]);
    assert_eq!(r.status, 200, "{}", text(&r));
    assert_eq!(codes_on(&text(&r)).len(), 10);
    // Stale again: neither new codes nor turning off (with the password) go through.
    p.advance(MAX_AGE + 1);
    let r = account_post(&p, &mut b, &[("action", "regenerate"), ("code", &code_now(&p, &secret, 0))]);
    assert_eq!(r.status, 303);
    let r = account_post(&p, &mut b, &[("action", "disable"), ("password", PASSWORD)]);
    assert_eq!(r.status, 303);
    assert!(text(&b.get(&p, "/account/2fa")).contains("is <strong>on</strong>"));
}
