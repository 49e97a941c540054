//! Two-factor authentication (TOTP, RFC 6238) end to end against `wrangler dev`, driven as a
//! browser without JavaScript drives it: a person turns it on from `/account/2fa` (the QR code
//! is inline SVG; the secret is read from the page as a person types it into an app), confirms
//! with a code computed here (HMAC-SHA1 over the step, RFC 4226's truncation: our own few
//! lines, not the server's), gets ten recovery codes; logging in with the password then stops
//! at `/login/2fa`; a wrong code is refused, the right one starts the session and the ID token
//! says `amr: ["pwd","otp","mfa"]`; the same code is refused the second time (replay); a
//! recovery code works once (`amr: ["pwd","mfa"]`); wrong codes hit the per-person limit (429
//! with `Retry-After`); the factor is turned off with the password.

#[path = "browser/mod.rs"]
mod browser;
mod common;

use browser::*;
use common::*;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use std::sync::OnceLock;
use std::time::Duration;

fn s() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| Server::start_with(&roomy_vars()))
}

/// RFC 4648 base32 (upper case, no padding), as the page shows the key.
fn base32(s: &str) -> Vec<u8> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut out, mut buf, mut bits) = (Vec::new(), 0u64, 0);
    for c in s.bytes().filter(|c| *c != b' ') {
        let v = alphabet.iter().position(|a| *a == c).expect("a base32 character") as u64;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    out
}

/// The authenticator's 6-digit code for `step` (RFC 4226 §5.3 over RFC 6238's step).
fn totp(secret: &[u8], step: u64) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret).unwrap();
    mac.update(&step.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let o = (h[19] & 0x0f) as usize;
    let bin = u32::from_be_bytes([h[o], h[o + 1], h[o + 2], h[o + 3]]) & 0x7fff_ffff;
    format!("{:06}", bin % 1_000_000)
}

fn step_now() -> u64 {
    now() as u64 / 30
}

/// An authenticator that never repeats a step: the code of the next unused step the server
/// accepts (the current one, or the next within its ±1 window), waiting when both are used.
struct App {
    secret: Vec<u8>,
    last: u64,
}

impl App {
    fn next_code(&mut self) -> String {
        loop {
            let step = step_now().max(self.last + 1);
            if step <= step_now() + 1 {
                self.last = step;
                return totp(&self.secret, step);
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    }
}

/// The text of the element with `id`.
fn by_id(html: &str, id: &str) -> String {
    let marker = format!(r#"id="{id}">"#);
    let at = html.find(&marker).unwrap_or_else(|| panic!("no #{id} in {html}")) + marker.len();
    html[at..].split('<').next().unwrap().to_owned()
}

fn recovery_codes(html: &str) -> Vec<String> {
    let at = html.find(r#"<ul id="recovery-codes">"#).expect("recovery codes");
    html[at..].split("</ul>").next().unwrap().split("<code>").skip(1).map(|c| c.split('<').next().unwrap().to_owned()).collect()
}

/// Turns the factor on for a signed-in browser; the app (secret) and the recovery codes.
fn enrol(b: &Browser) -> (App, Vec<String>) {
    let page = b.get("/account/2fa");
    page.expect(200).expect_no_store();
    assert!(page.text().contains("is <strong>off</strong>"), "{}", page.text());
    let r = b.submit(&page, "/account/2fa", &[]);
    r.expect(303);
    let page = b.get("/account/2fa");
    let html = page.text();
    assert!(html.contains("<svg xmlns=\"http://www.w3.org/2000/svg\"") && html.contains("<path d=\"M"), "{html}");
    let secret = base32(&by_id(&html, "secret"));
    assert_eq!(secret.len(), 20);
    let mut app = App { secret, last: 0 };
    // A wrong code first: refused, still being set up.
    let wrong = if totp(&app.secret, step_now() + 5) == "000000" { "000001" } else { "000000" };
    let fields = form_fields(&page, "/account/2fa");
    let confirm: Vec<(String, String)> = fields.iter().filter(|(k, _)| k == "csrf").cloned().chain([("action".into(), "confirm".into())]).collect();
    let with_code = |code: &str| {
        let mut f = confirm.clone();
        f.push(("code".into(), code.into()));
        f
    };
    let r = b.post("/account/2fa", &with_code(wrong));
    assert_eq!(r.status, 401, "{}", r.text());
    let r = b.post("/account/2fa", &with_code(&app.next_code()));
    r.expect(200).expect_no_store();
    let codes = recovery_codes(&r.text());
    assert_eq!(codes.len(), 10);
    (app, codes)
}

/// Logs in with the password (returning to `return_to`); the browser is then at the second step.
fn password_step(s: &Server, p: &Person, return_to: &str) -> Browser {
    let b = Browser::new(s);
    let r = b.log_in_raw(&p.email, &p.password, Some(return_to));
    r.expect(303);
    assert_eq!(r.header("location"), Some("/login/2fa"));
    assert!(b.cookie(SESSION_COOKIE).is_none(), "a session before the second factor");
    assert!(b.cookie("portcullis_login2fa").is_some());
    b
}

fn second_step(b: &Browser, field: &str, code: &str) -> Resp {
    let page = b.get("/login/2fa");
    page.expect(200);
    b.post("/login/2fa", &[("csrf", csrf_of(&page).as_str()), (field, code)])
}

/// The ID token of an authorization request made by browser `b`, as the relying party gets it.
fn id_token_claims(s: &Server, c: &Client, b: &Browser, path: &str) -> Value {
    // (Consenting by the page's form: as `Browser::authorize`, without its consent-page text.)
    let r = b.get(path);
    let r = if r.status == 200 { b.submit(&r, "/oauth/authorize", &[("decision", "allow")]) } else { r };
    r.expect(302);
    let loc = r.header("location").unwrap().to_owned();
    assert_eq!(query_param(&loc, "iss").as_deref(), Some(s.issuer()), "{loc}");
    let code = query_param(&loc, "code").unwrap_or_else(|| panic!("no code in {loc}"));
    let t = c.redeem(s, &code, None).expect_json(200);
    let token = t["id_token"].as_str().expect("an id_token");
    // (tests/oidc.rs verifies ID tokens against the JWKS; here only the claims matter.)
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&b64url_decode(payload)).unwrap()
}

fn b64url_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).unwrap()
}

#[test]
fn enrol_log_in_with_a_code_replay_recovery_and_amr_in_the_id_token() {
    let s = s();
    let c = Client::web(s, &["public"]);
    let (b, person) = Browser::signed_up(s, "totp");
    let (mut app, codes) = enrol(&b);
    let page = b.get("/account/2fa").text();
    assert!(page.contains("is <strong>on</strong>") && page.contains("10 of 10 recovery codes left"), "{page}");
    assert!(codes.iter().all(|code| !page.contains(code.as_str())), "codes shown twice");

    let path = authorize_path(&[
        ("response_type", "code"),
        ("client_id", c.id()),
        ("redirect_uri", c.redirect_uri.as_str()),
        ("scope", "openid"),
        ("state", "st-2fa"),
    ]);
    // Password, then a wrong code, then the right one: back to the authorization request.
    let t = password_step(s, &person, &path);
    let r = second_step(&t, "code", "123 45x");
    assert_eq!(r.status, 401, "{}", r.text());
    assert!(t.cookie(SESSION_COOKIE).is_none());
    let code = app.next_code();
    let r = second_step(&t, "code", &code);
    r.expect(303);
    assert_eq!(r.header("location"), Some(path.as_str()));
    assert!(t.cookie(SESSION_COOKIE).is_some() && t.cookie("portcullis_login2fa").is_none());
    let claims = id_token_claims(s, &c, &t, &path);
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]), "{claims}");
    assert_eq!(claims["acr"], "urn:portcullis:acr:mfa", "{claims}");

    // The same code once more, on a new log-in: replay, refused.
    let u = password_step(s, &person, "/");
    let r = second_step(&u, "code", &code);
    assert_eq!(r.status, 401, "{}", r.text());
    assert!(u.cookie(SESSION_COOKIE).is_none());
    // A recovery code instead (typed in upper case): works once; amr says two factors.
    let first = codes.first().unwrap();
    let v = password_step(s, &person, &path);
    second_step(&v, "recovery_code", &first.to_uppercase()).expect(303);
    let claims = id_token_claims(s, &c, &v, &path);
    assert_eq!(claims["amr"], json!(["pwd", "mfa"]), "{claims}");
    assert_eq!(claims["acr"], "urn:portcullis:acr:mfa", "{claims}");
    let r = second_step(&u, "recovery_code", first);
    assert_eq!(r.status, 401, "a recovery code worked twice: {}", r.text());
    assert!(b.get("/account/2fa").text().contains("9 of 10 recovery codes left"));

    // Turned off with the password: the password alone logs in again.
    let page = b.get("/account/2fa");
    let r = b.submit(&page, "/account/2fa", &[("action", "disable"), ("password", &person.password)]);
    r.expect(200);
    assert!(r.text().contains("is <strong>off</strong>"), "{}", r.text());
    Browser::new(s).log_in(&person, None);
}

#[test]
fn wrong_codes_are_limited_per_person_and_a_ticket_dies_after_five() {
    let s = s();
    let (b, person) = Browser::signed_up(s, "totp-limit");
    let (mut app, _) = enrol(&b);
    at_start_of_a_window(Duration::from_secs(20));
    // Five wrong codes end a ticket: its right code then finds it gone.
    let t = password_step(s, &person, "/");
    for _ in 0..5 {
        assert_eq!(second_step(&t, "code", "999999").status, 401);
    }
    let r = t.post("/login/2fa", &[("csrf", t.cookie(CSRF_COOKIE).unwrap().as_str()), ("code", "999999")]);
    assert!(r.text().contains("This log-in expired"), "{}", r.text());
    // Five more on a second ticket: the person's ten a minute (LOGIN_LIMIT_ACCOUNT) are used,
    // so even the right code is refused now, with Retry-After.
    // (The enrolment's wrong code may count in this minute too: then the tenth is already 429.)
    let t = password_step(s, &person, "/");
    let t2 = password_step(s, &person, "/");
    for _ in 0..4 {
        assert_eq!(second_step(&t, "code", "999999").status, 401);
    }
    let tenth = second_step(&t, "code", "999999").status;
    assert!(tenth == 401 || tenth == 429, "{tenth}");
    let r = second_step(&t2, "code", &app.next_code());
    assert_eq!(r.status, 429, "{}", r.text());
    assert!(r.header("retry-after").is_some());
    assert!(t2.cookie(SESSION_COOKIE).is_none());
}

/// The window of the server below: `RECENT_LOGIN_SECONDS` (it can only shorten the rule's ten
/// minutes), so a session goes stale within the test.
const RECENT: u64 = 6;

fn stale_server() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| {
        let recent = RECENT.to_string();
        let mut vars = roomy_vars();
        vars.push(("RECENT_LOGIN_SECONDS", Box::leak(recent.into_boxed_str())));
        Server::start_with(&vars)
    })
}

/// Waits until a log-in made now is no longer recent.
fn until_stale() {
    std::thread::sleep(Duration::from_secs(RECENT + 1));
}

/// The redirect to log in again and come back to `back`.
#[track_caller]
fn assert_sent_to_reauthenticate(r: &Resp, back: &str, email: &str) -> String {
    assert_eq!(r.status, 303, "{}", r.text());
    let loc = r.header("location").unwrap().to_owned();
    assert!(loc.starts_with("/login?"), "{loc}");
    assert_eq!(query_param(&loc, "return_to").as_deref(), Some(back), "{loc}");
    assert_eq!(query_param(&loc, "reauth").as_deref(), Some("1"), "{loc}");
    assert_eq!(query_param(&loc, "login_hint").as_deref(), Some(email), "{loc}");
    loc
}

fn post_action(b: &Browser, action: &str, extra: &[(&str, &str)]) -> Resp {
    let page = b.get("/account/2fa");
    page.expect(200);
    let mut f: Vec<(&str, String)> = vec![("csrf", csrf_of(&page)), ("action", action.to_owned())];
    f.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    b.post("/account/2fa", &f)
}

/// GitHub-style "sudo mode": turning the second factor on or off, new recovery codes, adding
/// or removing a passkey need a log-in of the last `RECENT` seconds; a stale session is sent
/// to log in again (the page says why, the email prefilled) and comes back to the page; an old
/// session stays refused after another log-in, and a forged cookie is no session at all.
#[test]
fn security_changes_need_a_recent_log_in() {
    let s = stale_server();
    let (b, person) = Browser::signed_up(s, "sudo");
    // Fresh: set-up starts; then stale: the confirming code is refused before it is checked.
    post_action(&b, "start", &[]).expect(303);
    let page = b.get("/account/2fa");
    let secret = base32(&by_id(&page.text(), "secret"));
    let mut app = App { secret, last: 0 };
    let old_session = b.cookie(SESSION_COOKIE).unwrap();
    until_stale();
    // (Codes a refused action never checks need not be right: it is refused before.)
    let r = post_action(&b, "confirm", &[("code", "123456")]);
    let loc = assert_sent_to_reauthenticate(&r, "/account/2fa", &person.email);
    assert!(b.get("/account/2fa").text().contains("id=\"secret\""), "still being set up, not on");
    // Adding a passkey (the script's JSON calls) and removing one: refused alike, with where
    // to go (the script navigates there).
    let page = b.get("/account/passkeys");
    page.expect(200);
    let csrf = csrf_of(&page);
    let body = json!({"csrf": csrf});
    let r = b.request("POST", "/account/passkeys/options", &[("content-type", "application/json"), ("origin", &s.base)], Some(body.to_string().as_bytes()));
    assert_eq!(r.status, 403, "{}", r.text());
    let v = r.json();
    assert_eq!(v["error"], "login_required", "{v}");
    let to = v["redirect_to"].as_str().unwrap();
    assert_eq!(query_param(to, "return_to").as_deref(), Some("/account/passkeys"), "{to}");
    let body = json!({"csrf": csrf, "credential": {"id": "AAAA", "type": "public-key", "response": {}}});
    let r = b.request("POST", "/account/passkeys", &[("content-type", "application/json"), ("origin", &s.base)], Some(body.to_string().as_bytes()));
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(r.json()["error"], "login_required");
    let r = b.post("/account/passkeys/remove", &[("csrf", csrf.as_str()), ("id", "AAAAAAAAAAAAAAAAAAAAAA")]);
    assert_sent_to_reauthenticate(&r, "/account/passkeys", &person.email);

    // The log-in page says why and comes back; then the same action works. (The code is
    // taken first: the authenticator may have to wait for a new step, the window may not.)
    let code = app.next_code();
    let page = b.get(&loc);
    page.expect(200);
    assert!(page.text().contains("id=\"reauth\""), "{}", page.text());
    assert!(page.text().contains(&format!("value=\"{}\"", person.email)), "the email is prefilled");
    let r = b.submit(&page, "/login", &[("email", &person.email), ("password", &person.password)]);
    r.expect(303);
    assert_eq!(r.header("location"), Some("/account/2fa"));
    let r = post_action(&b, "confirm", &[("code", &code)]);
    r.expect(200);
    assert_eq!(recovery_codes(&r.text()).len(), 10, "on, with recovery codes");
    let r = b.request("POST", "/account/passkeys/options", &[("content-type", "application/json"), ("origin", &s.base)], Some(json!({"csrf": csrf_of(&b.get("/account/passkeys"))}).to_string().as_bytes()));
    assert_eq!(r.status, 200, "fresh: the options come: {}", r.text());

    // The old session (still live, but its log-in is old) gets nothing by being kept.
    let old = Browser::new(s);
    old.set_cookie(SESSION_COOKIE, &old_session);
    let r = post_action(&old, "regenerate", &[("code", "123456")]);
    assert_sent_to_reauthenticate(&r, "/account/2fa", &person.email);
    // A forged session cookie is no session: log in (not "again").
    let forged = Browser::new(s);
    forged.set_cookie(SESSION_COOKIE, &b64url(&[7u8; 32]));
    let page = forged.get("/account/2fa");
    assert_eq!(page.status, 303);
    let r = forged.post("/account/2fa", &[("csrf", "x"), ("action", "disable"), ("password", person.password.as_str())]);
    assert_eq!(r.status, 303);
    assert_eq!(query_param(r.header("location").unwrap(), "reauth"), None);

    // Stale again: new recovery codes and turning off are refused, even with the password.
    until_stale();
    let r = post_action(&b, "regenerate", &[("code", "123456")]);
    assert_sent_to_reauthenticate(&r, "/account/2fa", &person.email);
    let r = post_action(&b, "disable", &[("password", &person.password)]);
    let loc = assert_sent_to_reauthenticate(&r, "/account/2fa", &person.email);
    assert!(b.get("/account/2fa").text().contains("is <strong>on</strong>"), "still on");
    // Logging in again takes the second factor too, then back to the page.
    let (for_log_in, for_regenerate) = (app.next_code(), app.next_code());
    let page = b.get(&loc);
    let r = b.submit(&page, "/login", &[("email", &person.email), ("password", &person.password)]);
    assert_eq!(r.header("location"), Some("/login/2fa"));
    let r = second_step(&b, "code", &for_log_in);
    r.expect(303);
    assert_eq!(r.header("location"), Some("/account/2fa"));
    let r = post_action(&b, "regenerate", &[("code", &for_regenerate)]);
    r.expect(200);
    assert_eq!(recovery_codes(&r.text()).len(), 10);
    let r = post_action(&b, "disable", &[("password", &person.password)]);
    r.expect(200);
    assert!(r.text().contains("is <strong>off</strong>"), "{}", r.text());
}
