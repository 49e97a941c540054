//! OpenID Connect authorization request parameters (Core 1.0 §3.1.2.1, §3.1.2.6, §6):
//! `prompt` (none, login, consent, select_account), `max_age`, `id_token_hint`, `login_hint`,
//! ignored parameters, refused request objects, and hostile values of each.

use super::support::*;
use super::tenancy::{create_org, send_at};
use crate::config::{Config, Secret};
use crate::http::Response;
use crate::platform::memory::MemPlatform;
use serde_json::{json, Value};

const CB: &str = "https://rp.example/cb";
const ACME: &str = "http://acme.localhost:8787";
const BETA: &str = "http://beta.localhost:8787";

fn sign_up_at(p: &MemPlatform, origin: &str, email: &str, name: &str) {
    let mut b = Browser::default();
    let csrf = csrf_of(&get_at(p, origin, &mut b, "/signup"));
    let signup = form(&[("csrf", &csrf), ("email", email), ("password", "plum-kettle-42"), ("name", name)]);
    assert_eq!(post_at(p, origin, &mut b, "/signup", &signup).status, 200);
}

/// Logs `b` in as `email` from the log-in page at `login` (a `/login?…` address); the 303's
/// location (the way back).
fn log_in_from(p: &MemPlatform, origin: &str, b: &mut Browser, login: &str, email: &str) -> String {
    let page = get_at(p, origin, b, login);
    assert_eq!(page.status, 200, "{}", text(&page));
    let return_to = query_param(login, "return_to").unwrap_or_else(|| "/".into());
    let body = form(&[("csrf", &csrf_of(&page)), ("email", email), ("password", "plum-kettle-42"), ("return_to", &return_to)]);
    let r = post_at(p, origin, b, "/login", &body);
    assert_eq!(r.status, 303, "{}", text(&r));
    r.get_header("location").unwrap().to_owned()
}

fn signed_in_at(p: &MemPlatform, origin: &str, email: &str, name: &str) -> Browser {
    sign_up_at(p, origin, email, name);
    let mut b = Browser::default();
    log_in_from(p, origin, &mut b, "/login", email);
    b
}

fn rp_at(p: &MemPlatform, origin: &str) -> (String, String) {
    let body = json!({"name": "RP", "redirect_uris": [CB], "scopes": ["public"]});
    let r = send_at(p, origin, json_req("POST", "/admin/apps", Some("admin-secret"), &body));
    assert_eq!(r.status, 201, "{}", text(&r));
    credentials(&json(&r))
}

/// An OpenID request of `client_id` with `extra` parameters (state `st`).
fn url(client_id: &str, extra: &[(&str, &str)]) -> String {
    let mut pairs = vec![("response_type", "code"), ("client_id", client_id), ("redirect_uri", CB), ("scope", "openid"), ("state", "st")];
    pairs.extend_from_slice(extra);
    format!("/oauth/authorize?{}", form(&pairs))
}

/// The redirect back to the client; checks it carries `state` and `iss`.
#[track_caller]
fn back_to_client(r: &Response, origin: &str) -> String {
    assert_eq!(r.status, 302, "{}", text(r));
    let loc = r.get_header("location").unwrap().to_owned();
    assert!(loc.starts_with(CB), "{loc}");
    assert_eq!(query_param(&loc, "state").as_deref(), Some("st"), "{loc}");
    assert_eq!(query_param(&loc, "iss").as_deref(), Some(origin), "{loc}");
    loc
}

/// The `error` of a redirect back to the client (with state and iss, without a code).
#[track_caller]
fn error_of(r: &Response, origin: &str) -> String {
    let loc = back_to_client(r, origin);
    assert!(query_param(&loc, "code").is_none(), "{loc}");
    let d = query_param(&loc, "error_description").unwrap_or_default();
    assert!(!d.contains(['\r', '\n', '\t']), "{d:?}");
    query_param(&loc, "error").unwrap_or_default()
}

/// A 303 to the log-in page: its address.
#[track_caller]
fn to_login(r: &Response) -> String {
    assert_eq!(r.status, 303, "{}", text(r));
    let loc = r.get_header("location").unwrap().to_owned();
    assert!(loc.starts_with("/login?"), "{loc}");
    loc
}

/// Consents on the consent page `page` (for the request `url`); the redirect.
fn allow(p: &MemPlatform, origin: &str, b: &mut Browser, url: &str, page: &Response) -> Response {
    assert_eq!(page.status, 200, "{}", text(page));
    assert!(text(page).contains("Allow access?"), "{}", text(page));
    let (_, query) = url.split_once('?').unwrap();
    let body = format!("{query}&{}", form(&[("csrf", &csrf_of(page)), ("decision", "allow")]));
    post_at(p, origin, b, "/oauth/authorize", &body)
}

fn redeem(p: &MemPlatform, origin: &str, (id, secret): &(String, String), loc: &str) -> Value {
    let code = query_param(loc, "code").expect("a code");
    let pairs = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", CB)];
    let h = [("content-type", "application/x-www-form-urlencoded"), ("authorization", &basic(id, secret))];
    expect_json(&send_at(p, origin, req("POST", "/oauth/token", &h, form(&pairs))), 200)
}

/// The claims of the ID token of a code (the signature is checked by the server's keys).
fn id_claims(p: &MemPlatform, origin: &str, rp: &(String, String), loc: &str) -> (String, Value) {
    let t = redeem(p, origin, rp, loc);
    let id = t["id_token"].as_str().expect("an id_token").to_owned();
    let claims = crate::crypto::jwt::decode(&id).unwrap().claims;
    (id, Value::Object(claims))
}

/// A platform with `rp` and Ann signed in who has consented once: the ID token of that flow.
fn consented(p: &MemPlatform) -> ((String, String), Browser, String) {
    let rp = rp_at(p, ORIGIN);
    let mut b = signed_in_at(p, ORIGIN, "ann@example.com", "Ann");
    let u = url(&rp.0, &[]);
    let page = get_at(p, ORIGIN, &mut b, &u);
    let loc = back_to_client(&allow(p, ORIGIN, &mut b, &u, &page), ORIGIN);
    let (id, _) = id_claims(p, ORIGIN, &rp, &loc);
    (rp, b, id)
}

#[test]
fn prompt_none_answers_by_redirect_and_never_with_a_page() {
    let p = platform();
    let rp = rp_at(&p, ORIGIN);
    let none = url(&rp.0, &[("prompt", "none")]);
    // No session: login_required, with state and iss.
    let mut anon = Browser::default();
    assert_eq!(error_of(&get_at(&p, ORIGIN, &mut anon, &none), ORIGIN), "login_required");
    // Signed in, consent not remembered: consent_required.
    let mut b = signed_in_at(&p, ORIGIN, "ann@example.com", "Ann");
    assert_eq!(error_of(&get_at(&p, ORIGIN, &mut b, &none), ORIGIN), "consent_required");
    // Once consented: a code, silently.
    let u = url(&rp.0, &[]);
    let page = get_at(&p, ORIGIN, &mut b, &u);
    back_to_client(&allow(&p, ORIGIN, &mut b, &u, &page), ORIGIN);
    let loc = back_to_client(&get_at(&p, ORIGIN, &mut b, &none), ORIGIN);
    let (_, c) = id_claims(&p, ORIGIN, &rp, &loc);
    assert!(c["auth_time"].is_i64());
    // More scopes than consented to: consent_required again.
    let wider = format!("{none}&{}", form(&[("scope", "openid public")])).replace("scope=openid&", "");
    assert_eq!(error_of(&get_at(&p, ORIGIN, &mut b, &wider), ORIGIN), "consent_required");
    // A public client never gets codes silently (RFC 8252 §8.6): consent_required.
    let body = json!({"name": "Native", "redirect_uris": [CB], "scopes": ["public"], "token_endpoint_auth_method": "none"});
    let native = expect_json(&send(&p, json_req("POST", "/admin/apps", Some("admin-secret"), &body)), 201);
    let native_id = native["client_id"].as_str().unwrap();
    let pkce = [("prompt", "none"), ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"), ("code_challenge_method", "S256")];
    assert_eq!(error_of(&get_at(&p, ORIGIN, &mut b, &url(native_id, &pkce)), ORIGIN), "consent_required");
    // An unregistered redirect URI is still a page, never a redirect, prompt=none or not.
    let bad = none.replace("rp.example", "evil.example");
    let r = get_at(&p, ORIGIN, &mut b, &bad);
    assert_eq!(r.status, 400);
    assert!(r.get_header("location").is_none());
}

#[test]
fn prompt_none_with_another_value_or_an_unknown_value_is_invalid_request() {
    let p = platform();
    let rp = rp_at(&p, ORIGIN);
    let mut b = signed_in_at(&p, ORIGIN, "ann@example.com", "Ann");
    for bad in ["none login", "login none", "none consent", "none select_account", "bogus", "login login"] {
        let r = get_at(&p, ORIGIN, &mut b, &url(&rp.0, &[("prompt", bad)]));
        assert_eq!(error_of(&r, ORIGIN), "invalid_request", "{bad:?}");
    }
}

#[test]
fn prompt_login_asks_for_a_new_log_in_once_and_the_id_token_has_its_auth_time() {
    let p = platform();
    let (rp, mut b, first) = consented(&p);
    let first_auth = crate::crypto::jwt::decode(&first).unwrap().claims["auth_time"].as_i64().unwrap();
    p.advance(100);
    let u = url(&rp.0, &[("prompt", "login")]);
    let login = to_login(&get_at(&p, ORIGIN, &mut b, &u));
    // The way back is this request, marked with when the person was sent to log in.
    let back = query_param(&login, "return_to").unwrap();
    assert!(back.starts_with("/oauth/authorize?") && back.contains("prompt=login"), "{back}");
    assert_eq!(query_param(&back, "login_after"), Some(now(&p).to_string()));
    p.advance(7);
    let loc = log_in_from(&p, ORIGIN, &mut b, &login, "ann@example.com");
    assert_eq!(loc, back);
    // Back at the endpoint: no second log-in (no loop), a code, a new auth_time.
    let code = back_to_client(&get_at(&p, ORIGIN, &mut b, &loc), ORIGIN);
    let (_, c) = id_claims(&p, ORIGIN, &rp, &code);
    assert_eq!(c["auth_time"].as_i64().unwrap(), now(&p));
    assert_eq!(c["auth_time"].as_i64().unwrap(), first_auth + 107);
    // A marker written by someone else counts only for a log-in made after it: this session's
    // log-in is older than the marker, so prompt=login still asks.
    p.advance(10);
    let forged = url(&rp.0, &[("prompt", "login"), ("login_after", &(now(&p) - 1).to_string())]);
    let again = to_login(&get_at(&p, ORIGIN, &mut b, &forged));
    assert!(!query_param(&again, "return_to").unwrap().contains(&format!("login_after={}", now(&p) - 1)));
    // A marker older than the window is no marker; nor is one in the future or not a number.
    p.advance(crate::rules::prompt::FRESH_WINDOW);
    to_login(&get_at(&p, ORIGIN, &mut b, &loc));
    for bad in [(now(&p) + 5).to_string(), "abc".into(), "-1".into()] {
        to_login(&get_at(&p, ORIGIN, &mut b, &url(&rp.0, &[("prompt", "login"), ("login_after", &bad)])));
    }
    // Without a session, prompt=login is the log-in page, and then the code.
    let mut anon = Browser::default();
    let login = to_login(&get_at(&p, ORIGIN, &mut anon, &u));
    let loc = log_in_from(&p, ORIGIN, &mut anon, &login, "ann@example.com");
    back_to_client(&get_at(&p, ORIGIN, &mut anon, &loc), ORIGIN);
}

#[test]
fn max_age_re_authenticates_an_older_log_in_and_is_a_non_negative_integer() {
    let p = platform();
    let (rp, mut b, _) = consented(&p);
    let logged_in = now(&p);
    p.advance(100);
    // Not older than max_age: a code, whose ID token has auth_time.
    let loc = back_to_client(&get_at(&p, ORIGIN, &mut b, &url(&rp.0, &[("max_age", "100")])), ORIGIN);
    assert_eq!(id_claims(&p, ORIGIN, &rp, &loc).1["auth_time"].as_i64(), Some(logged_in));
    // Older: log in again; back at the endpoint, a code with the new auth_time.
    let u = url(&rp.0, &[("max_age", "99")]);
    let login = to_login(&get_at(&p, ORIGIN, &mut b, &u));
    // With prompt=none it cannot ask: login_required.
    let silent = url(&rp.0, &[("max_age", "99"), ("prompt", "none")]);
    assert_eq!(error_of(&get_at(&p, ORIGIN, &mut b, &silent), ORIGIN), "login_required");
    p.advance(3);
    let back = log_in_from(&p, ORIGIN, &mut b, &login, "ann@example.com");
    let loc = back_to_client(&get_at(&p, ORIGIN, &mut b, &back), ORIGIN);
    assert_eq!(id_claims(&p, ORIGIN, &rp, &loc).1["auth_time"].as_i64(), Some(logged_in + 103));
    // max_age=0 is prompt=login: always a new log-in, once.
    let u = url(&rp.0, &[("max_age", "0")]);
    let login = to_login(&get_at(&p, ORIGIN, &mut b, &u));
    let back = log_in_from(&p, ORIGIN, &mut b, &login, "ann@example.com");
    let loc = back_to_client(&get_at(&p, ORIGIN, &mut b, &back), ORIGIN);
    assert_eq!(id_claims(&p, ORIGIN, &rp, &loc).1["auth_time"].as_i64(), Some(now(&p)));
    // Not a non-negative integer: invalid_request, back to the client.
    // Beyond JavaScript's safe integers too (as node oidc-provider).
    for bad in ["-1", "abc", "1.5", "+5", "1e3", " 5", "9007199254740992", "999999999999999999999999"] {
        let r = get_at(&p, ORIGIN, &mut b, &url(&rp.0, &[("max_age", bad)]));
        assert_eq!(error_of(&r, ORIGIN), "invalid_request", "{bad:?}");
    }
    // The largest accepted: no overflow, a code.
    let r = get_at(&p, ORIGIN, &mut b, &url(&rp.0, &[("max_age", "9007199254740991")]));
    assert!(query_param(&back_to_client(&r, ORIGIN), "code").is_some());
}

#[test]
fn prompt_consent_shows_the_consent_page_even_when_remembered() {
    let p = platform();
    let (rp, mut b, _) = consented(&p);
    let u = url(&rp.0, &[("prompt", "consent")]);
    let page = get_at(&p, ORIGIN, &mut b, &u);
    assert_eq!(page.status, 200);
    let loc = back_to_client(&allow(&p, ORIGIN, &mut b, &u, &page), ORIGIN);
    assert!(query_param(&loc, "code").is_some());
    // Deny on that page: access_denied.
    let page = get_at(&p, ORIGIN, &mut b, &u);
    let (_, query) = u.split_once('?').unwrap();
    let body = format!("{query}&{}", form(&[("csrf", &csrf_of(&page)), ("decision", "deny")]));
    assert_eq!(error_of(&post_at(&p, ORIGIN, &mut b, "/oauth/authorize", &body), ORIGIN), "access_denied");
}

/// The `href` of the link with `id` on a page.
fn link(r: &Response, id: &str) -> String {
    let html = text(r);
    let at = html.find(&format!("id=\"{id}\" href=\"")).unwrap_or_else(|| panic!("no #{id} in {html}"));
    let href = html[at..].split('"').nth(3).unwrap();
    href.replace("&amp;", "&")
}

#[test]
fn prompt_select_account_shows_who_is_signed_in_with_continue_and_another_account() {
    let p = platform();
    let (rp, mut b, first) = consented(&p);
    let ann = crate::crypto::jwt::decode(&first).unwrap().claims["sub"].clone();
    sign_up_at(&p, ORIGIN, "bob@example.com", "Bob <&>");
    let u = url(&rp.0, &[("prompt", "select_account")]);
    let page = get_at(&p, ORIGIN, &mut b, &u);
    assert_eq!(page.status, 200, "{}", text(&page));
    let html = text(&page);
    assert!(html.contains("Signed in as <strong>Ann</strong> (ann@example.com)"), "{html}");
    assert!(html.contains("Continue as Ann") && html.contains("Use another account"), "{html}");
    // Continue: the request without select_account goes on (consent remembered: a code).
    let go_on = link(&page, "continue");
    assert!(!go_on.contains("select_account"), "{go_on}");
    let loc = back_to_client(&get_at(&p, ORIGIN, &mut b, &go_on), ORIGIN);
    assert_eq!(id_claims(&p, ORIGIN, &rp, &loc).1["sub"], ann);
    // Another account: the log-in page, coming back to the request, which then goes on as Bob.
    let other = link(&page, "another");
    assert!(other.starts_with("/login?"), "{other}");
    let back = log_in_from(&p, ORIGIN, &mut b, &other, "bob@example.com");
    let page = get_at(&p, ORIGIN, &mut b, &back);
    assert!(text(&page).contains("Bob &lt;&amp;&gt;"), "Bob consents, escaped: {}", text(&page));
    let loc = back_to_client(&allow(&p, ORIGIN, &mut b, &back, &page), ORIGIN);
    assert_ne!(id_claims(&p, ORIGIN, &rp, &loc).1["sub"], ann);
    // select_account with consent keeps consent on "continue".
    let u = url(&rp.0, &[("prompt", "select_account consent")]);
    let go_on = link(&get_at(&p, ORIGIN, &mut b, &u), "continue");
    assert_eq!(query_param(&go_on, "prompt").as_deref(), Some("consent"));
    // Without a session: the log-in page.
    to_login(&get_at(&p, ORIGIN, &mut Browser::default(), &u));
}

#[test]
fn id_token_hint_names_the_person_or_is_refused() {
    let p = platform();
    let (rp, mut b, hint) = consented(&p);
    // The hinted person is signed in: a code, with prompt=none too.
    let ok = url(&rp.0, &[("prompt", "none"), ("id_token_hint", &hint)]);
    back_to_client(&get_at(&p, ORIGIN, &mut b, &ok), ORIGIN);
    // Expired hints are fine (Core: the hint need not be current).
    p.advance(7200);
    let loc = back_to_client(&get_at(&p, ORIGIN, &mut b, &ok), ORIGIN);
    assert!(query_param(&loc, "code").is_some());
    // Someone else is signed in: login_required with prompt=none, the log-in page without.
    let mut bob = signed_in_at(&p, ORIGIN, "bob@example.com", "Bob");
    assert_eq!(error_of(&get_at(&p, ORIGIN, &mut bob, &ok), ORIGIN), "login_required");
    let u = url(&rp.0, &[("id_token_hint", &hint)]);
    let login = to_login(&get_at(&p, ORIGIN, &mut bob, &u));
    // Logging in anew as Bob still is not the hinted person: login_required, no loop.
    let back = log_in_from(&p, ORIGIN, &mut bob, &login, "bob@example.com");
    assert_eq!(error_of(&get_at(&p, ORIGIN, &mut bob, &back), ORIGIN), "login_required");
    // Logging in as Ann (the hinted person): the request goes on.
    let login = to_login(&get_at(&p, ORIGIN, &mut bob, &u));
    let back = log_in_from(&p, ORIGIN, &mut bob, &login, "ann@example.com");
    back_to_client(&get_at(&p, ORIGIN, &mut bob, &back), ORIGIN);
    // No session with a hint and prompt=none: login_required.
    assert_eq!(error_of(&get_at(&p, ORIGIN, &mut Browser::default(), &ok), ORIGIN), "login_required");

    // Hostile hints: invalid_request, back to the client, whoever is signed in.
    let refused = |h: &str, b: &mut Browser| error_of(&get_at(&p, ORIGIN, b, &url(&rp.0, &[("prompt", "none"), ("id_token_hint", h)])), ORIGIN);
    let (head, sig) = hint.rsplit_once('.').unwrap();
    let bad_sig = format!("{head}.{}{}", if sig.starts_with('A') { "B" } else { "A" }, &sig[1..]);
    let t = redeem(&p, ORIGIN, &rp, &back_to_client(&get_at(&p, ORIGIN, &mut b, &url(&rp.0, &[])), ORIGIN));
    let access = t["access_token"].as_str().unwrap().to_owned();
    let unsigned = unsigned_jwt(&json!({"iss": ORIGIN, "sub": "x", "aud": rp.0}));
    // Another client's ID token for the same person.
    let rp2 = rp_at(&p, ORIGIN);
    let u2 = url(&rp2.0, &[]);
    let page = get_at(&p, ORIGIN, &mut b, &u2);
    let (other_client, _) = id_claims(&p, ORIGIN, &rp2, &back_to_client(&allow(&p, ORIGIN, &mut b, &u2, &page), ORIGIN));
    let long = "a".repeat(9000);
    for bad in [bad_sig.as_str(), access.as_str(), unsigned.as_str(), other_client.as_str(), "not-a-jwt", "a.b.c", long.as_str()] {
        assert_eq!(refused(bad, &mut b), "invalid_request", "{bad}");
    }
    // A refused hint issues nothing even without prompt=none.
    let r = get_at(&p, ORIGIN, &mut b, &url(&rp.0, &[("id_token_hint", &access)]));
    assert_eq!(error_of(&r, ORIGIN), "invalid_request");
}

#[test]
fn an_id_token_hint_from_another_organisation_is_refused() {
    let mut cfg = Config::default();
    cfg.admin_token = Some(Secret("admin-secret".into()));
    cfg.org_domain = Some("localhost".into());
    let p = platform_with(cfg);
    for label in ["acme", "beta"] {
        assert_eq!(create_org(&p, label).status, 201);
    }
    // An ID token from acme.
    let acme_rp = rp_at(&p, ACME);
    let mut a = signed_in_at(&p, ACME, "ann@example.com", "Ann");
    let u = url(&acme_rp.0, &[]);
    let page = get_at(&p, ACME, &mut a, &u);
    let (acme_token, _) = id_claims(&p, ACME, &acme_rp, &back_to_client(&allow(&p, ACME, &mut a, &u, &page), ACME));
    // At acme it is a good hint.
    let ok = url(&acme_rp.0, &[("prompt", "none"), ("id_token_hint", &acme_token)]);
    back_to_client(&get_at(&p, ACME, &mut a, &ok), ACME);
    // At beta, for beta's own app and the same email signed in, it is refused.
    let beta_rp = rp_at(&p, BETA);
    let mut b = signed_in_at(&p, BETA, "ann@example.com", "Ann");
    let r = get_at(&p, BETA, &mut b, &url(&beta_rp.0, &[("prompt", "none"), ("id_token_hint", &acme_token)]));
    assert_eq!(error_of(&r, BETA), "invalid_request");
    let d = query_param(r.get_header("location").unwrap(), "error_description").unwrap();
    assert!(d.contains("id_token_hint"), "{d}");
}

#[test]
fn login_hint_prefills_the_log_in_page_bounded_and_escaped() {
    let p = platform();
    let rp = rp_at(&p, ORIGIN);
    let mut anon = Browser::default();
    let hostile = "\"><script>alert(1)</script>@x";
    let login = to_login(&get_at(&p, ORIGIN, &mut anon, &url(&rp.0, &[("login_hint", hostile)])));
    assert_eq!(query_param(&login, "login_hint").as_deref(), Some(hostile));
    let page = get_at(&p, ORIGIN, &mut anon, &login);
    let html = text(&page);
    assert!(html.contains("value=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;@x\""), "{html}");
    assert!(!html.contains("<script>"), "{html}");
    // A plain hint prefills the email field.
    let login = to_login(&get_at(&p, ORIGIN, &mut anon, &url(&rp.0, &[("login_hint", "ann@example.com")])));
    assert!(text(&get_at(&p, ORIGIN, &mut anon, &login)).contains("value=\"ann@example.com\""));
    // Oversized: invalid_request back to the client; the log-in page itself ignores it.
    let long = format!("{}@example.com", "a".repeat(250));
    let r = get_at(&p, ORIGIN, &mut anon, &url(&rp.0, &[("login_hint", &long)]));
    assert_eq!(error_of(&r, ORIGIN), "invalid_request");
    let direct = format!("/login?{}", form(&[("login_hint", &long)]));
    let html = text(&get_at(&p, ORIGIN, &mut anon, &direct));
    assert!(!html.contains(&long) && html.contains("value=\"\""), "{html}");
    // A tab (the one control character the parameter parser lets through): invalid_request.
    let r = get_at(&p, ORIGIN, &mut anon, &url(&rp.0, &[("login_hint", "a\tb")]));
    assert_eq!(error_of(&r, ORIGIN), "invalid_request");
}

#[test]
fn display_locales_and_unknown_parameters_are_ignored_and_acr_values_is_voluntary() {
    let p = platform();
    let (rp, mut b, _) = consented(&p);
    let extra = [
        ("ui_locales", "fr-CA fr en"),
        ("display", "popup"),
        ("claims_locales", "de"),
        ("acr_values", "urn:mace:incommon:iap:silver"),
        ("x-unknown", "whatever"),
    ];
    let loc = back_to_client(&get_at(&p, ORIGIN, &mut b, &url(&rp.0, &extra)), ORIGIN);
    assert!(query_param(&loc, "code").is_some(), "{loc}");
    let (_, c) = id_claims(&p, ORIGIN, &rp, &loc);
    // A voluntary acr_values the provider cannot meet: the class it did use is stated.
    assert_eq!(c["acr"], crate::rules::acr::PASSWORD, "{c}");
}

#[test]
fn request_objects_are_refused_with_their_own_codes() {
    let p = platform();
    let (rp, mut b, _) = consented(&p);
    let obj = unsigned_jwt(&json!({"iss": rp.0, "aud": ORIGIN, "prompt": "none"}));
    let r = get_at(&p, ORIGIN, &mut b, &url(&rp.0, &[("request", &obj)]));
    assert_eq!(error_of(&r, ORIGIN), "request_not_supported");
    let r = get_at(&p, ORIGIN, &mut b, &url(&rp.0, &[("request_uri", "https://rp.example/req.jwt")]));
    assert_eq!(error_of(&r, ORIGIN), "request_uri_not_supported");
    // Without a session too (never the log-in page), and for plain OAuth alike.
    let r = get_at(&p, ORIGIN, &mut Browser::default(), &url(&rp.0, &[("request", "x")]));
    assert_eq!(error_of(&r, ORIGIN), "request_not_supported");
    let plain = url(&rp.0, &[("request_uri", "urn:x")]).replace("scope=openid", "scope=public");
    assert_eq!(error_of(&get_at(&p, ORIGIN, &mut b, &plain), ORIGIN), "request_uri_not_supported");
    // Discovery says so.
    let d = expect_json(&send(&p, req("GET", "/.well-known/openid-configuration", &[], "")), 200);
    assert_eq!((&d["request_parameter_supported"], &d["request_uri_parameter_supported"]), (&json!(false), &json!(false)));
}

#[test]
fn plain_oauth_requests_keep_their_behaviour() {
    // prompt and hints belong to OpenID requests: without openid, prompt=none is not read and
    // the log-in page is shown as before.
    let p = platform();
    let rp = rp_at(&p, ORIGIN);
    let plain = url(&rp.0, &[("prompt", "none"), ("max_age", "abc")]).replace("scope=openid", "scope=public");
    let login = to_login(&get_at(&p, ORIGIN, &mut Browser::default(), &plain));
    // The way back is the request exactly as sent (no marker), for OpenID requests that ask
    // for no fresh log-in too.
    assert_eq!(query_param(&login, "return_to").as_deref(), Some(plain.as_str()));
    let oidc = url(&rp.0, &[("login_hint", "ann@example.com")]);
    let login = to_login(&get_at(&p, ORIGIN, &mut Browser::default(), &oidc));
    assert_eq!(query_param(&login, "return_to").as_deref(), Some(oidc.as_str()));
}

#[test]
fn an_app_s_default_max_age_applies_when_the_request_has_none() {
    let p = platform();
    let (rp, mut b, _) = consented(&p);
    let logged_in = now(&p);
    let r = admin(&p, "PATCH", &format!("/admin/apps/{}", rp.0), Some(&json!({"default_max_age": 60, "require_auth_time": true})));
    assert_eq!(r.status, 200, "{}", text(&r));
    assert_eq!(json(&r)["default_max_age"], 60);
    // Within the default: a code.
    p.advance(30);
    let loc = back_to_client(&get_at(&p, ORIGIN, &mut b, &url(&rp.0, &[])), ORIGIN);
    assert_eq!(id_claims(&p, ORIGIN, &rp, &loc).1["auth_time"].as_i64(), Some(logged_in));
    // Older than the default: a new log-in; a max_age in the request wins over the default.
    p.advance(40);
    to_login(&get_at(&p, ORIGIN, &mut b, &url(&rp.0, &[])));
    let loc = back_to_client(&get_at(&p, ORIGIN, &mut b, &url(&rp.0, &[("max_age", "1000")])), ORIGIN);
    assert!(query_param(&loc, "code").is_some());
    // Only what the provider does is registered.
    for bad in [json!({"subject_type": "pairwise", "redirect_uris": [CB, "https://other.example/cb"]}), json!({"subject_type": "secret"}), json!({"id_token_signed_response_alg": "none"}), json!({"default_max_age": 999_999_999_999u64})] {
        let r = admin(&p, "PATCH", &format!("/admin/apps/{}", rp.0), Some(&bad));
        assert_eq!(r.status, 400, "{bad}: {}", text(&r));
    }
}

#[test]
fn prompt_none_ignores_a_log_in_marker_it_can_never_have_made() {
    let p = platform();
    let (rp, mut b, _) = consented(&p);
    p.advance(5);
    // A recent log-in, and a marker forged onto a silent request: still login_required.
    let forged = (now(&p) - 60).to_string();
    let u = url(&rp.0, &[("prompt", "none"), ("max_age", "0"), ("login_after", &forged)]);
    assert_eq!(error_of(&get_at(&p, ORIGIN, &mut b, &u), ORIGIN), "login_required");
}

#[test]
fn an_authorization_request_may_be_posted() {
    // Core 1.0 §3.1.2.1: the authorization endpoint takes GET and POST alike.
    let p = platform();
    let (rp, mut b, _) = consented(&p);
    let (_, query) = url(&rp.0, &[("nonce", "posted")]).split_once('?').map(|(a, q)| (a.to_owned(), q.to_owned())).unwrap();
    let loc = back_to_client(&post_at(&p, ORIGIN, &mut b, "/oauth/authorize", &query), ORIGIN);
    let (_, c) = id_claims(&p, ORIGIN, &rp, &loc);
    assert_eq!(c["nonce"], "posted");
    // Without a session: to the log-in page, coming back to the same request by GET.
    let mut anon = Browser::default();
    let login = to_login(&post_at(&p, ORIGIN, &mut anon, "/oauth/authorize", &query));
    let back = query_param(&login, "return_to").unwrap();
    assert!(back.starts_with("/oauth/authorize?") && back.contains("nonce=posted"), "{back}");
    // prompt=none by POST answers by redirect too; a bad request by POST is refused alike.
    let (_, none) = url(&rp.0, &[("prompt", "none")]).split_once('?').map(|(a, q)| (a.to_owned(), q.to_owned())).unwrap();
    assert_eq!(error_of(&post_at(&p, ORIGIN, &mut anon, "/oauth/authorize", &none), ORIGIN), "login_required");
    let r = post_at(&p, ORIGIN, &mut b, "/oauth/authorize", "client_id=nope&response_type=code");
    assert_eq!(r.status, 400, "{}", text(&r));
    // A consent form without its CSRF field is still refused, not taken for a request.
    let r = post_at(&p, ORIGIN, &mut b, "/oauth/authorize", &format!("{query}&decision=allow"));
    assert_ne!(r.status, 302, "{}", text(&r));
}
