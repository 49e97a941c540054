//! OpenID Connect RP-Initiated Logout 1.0 and Back-Channel Logout 1.0 over the code flow, in an
//! organisation (acme; beta for the other tenant): the end-session endpoint's rules (registered
//! post-logout URIs only, a verified hint, a confirmation without one), the session ending in
//! the browser, and the logout tokens left to after the response (run here from the memory
//! platform, verified with the JWKS by `jsonwebtoken`), retried on failure.

use super::support::*;
use super::tenancy::{create_org, send_at};
use crate::config::{Config, Secret};
use crate::http::Response;
use crate::platform::memory::{block_on, MemPlatform};
use serde_json::{json, Value};

const ACME: &str = "http://acme.localhost:8787";
const BETA: &str = "http://beta.localhost:8787";
const CB: &str = "https://rp.example/cb";
const BYE: &str = "https://rp.example/signed-out";
const BC: &str = "https://rp.example/backchannel";

fn orgs() -> MemPlatform {
    let mut cfg = Config::default();
    cfg.admin_token = Some(Secret("admin-secret".into()));
    cfg.org_domain = Some("localhost".into());
    let p = platform_with(cfg);
    for label in ["acme", "beta"] {
        assert_eq!(create_org(&p, label).status, 201);
    }
    p
}

/// A relying party at `origin` with a post-logout redirect URI and a back-channel logout URI.
fn rp_at(p: &MemPlatform, origin: &str) -> (String, String) {
    let body = json!({"name": "RP", "redirect_uris": [CB], "scopes": ["public"],
        "post_logout_redirect_uris": [BYE], "backchannel_logout_uri": BC,
        "backchannel_logout_session_required": true});
    let r = send_at(p, origin, json_req("POST", "/admin/apps", Some("admin-secret"), &body));
    assert_eq!(r.status, 201, "{}", text(&r));
    let app = json(&r);
    assert_eq!(app["post_logout_redirect_uris"], json!([BYE]));
    assert_eq!(app["backchannel_logout_uri"], BC);
    assert_eq!(app["backchannel_logout_session_required"], true);
    credentials(&app)
}

/// The code flow with `openid` (consenting when asked); the ID token.
fn id_token(p: &MemPlatform, origin: &str, b: &mut Browser, (id, secret): &(String, String)) -> String {
    let q = form(&[("response_type", "code"), ("client_id", id), ("redirect_uri", CB), ("scope", "openid"), ("state", "st"), ("nonce", "n-1")]);
    let url = format!("/oauth/authorize?{q}");
    let r = get_at(p, origin, b, &url);
    let r = if r.status == 200 {
        let body = format!("{q}&{}", form(&[("csrf", &csrf_of(&r)), ("decision", "allow")]));
        post_at(p, origin, b, "/oauth/authorize", &body)
    } else {
        r
    };
    assert_eq!(r.status, 302, "{}", text(&r));
    let code = query_param(r.get_header("location").unwrap(), "code").unwrap();
    let pairs = [("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", CB)];
    let h = [("content-type", "application/x-www-form-urlencoded"), ("authorization", &basic(id, secret))];
    let t = expect_json(&send_at(p, origin, req("POST", "/oauth/token", &h, form(&pairs))), 200);
    t["id_token"].as_str().unwrap().to_owned()
}

/// Verifies a JWT of `typ` with the issuer's JWKS (RS256, `iss`, `aud`); its claims.
fn verify(p: &MemPlatform, origin: &str, aud: &str, token: &str, typ: &str) -> Value {
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    assert_eq!(header.typ.as_deref(), Some(typ));
    let kid = header.kid.unwrap();
    let jwks = expect_json(&send_at(p, origin, req("GET", "/.well-known/jwks.json", &[], "")), 200);
    let jwk = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).expect("kid in the JWKS");
    let key = jsonwebtoken::DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap()).unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&[aud]);
    v.set_issuer(&[origin]);
    v.validate_exp = false;
    v.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(token, &key, &v).unwrap().claims
}

fn signed_in_as(p: &MemPlatform, origin: &str, b: &mut Browser) -> bool {
    let r = get_at(p, origin, b, "/");
    assert_eq!(r.status, 200);
    text(&r).contains("Signed in as")
}

fn logout_url(pairs: &[(&str, &str)]) -> String {
    format!("/oauth/logout?{}", form(pairs))
}

/// Runs what the response left for after it (as the worker's `waitUntil` does).
fn run_after(p: &MemPlatform, r: &Response) {
    block_on(crate::platform::deferred::run(p, r.after.clone()));
}

/// The logout tokens POSTed so far, by URL.
fn logout_tokens(p: &MemPlatform) -> Vec<(String, String)> {
    p.sent
        .borrow()
        .iter()
        .map(|(url, body)| {
            let f = crate::http::params::Params::parse_form(body.as_bytes()).unwrap();
            assert_eq!(f.iter().count(), 1, "only logout_token: {body}");
            (url.clone(), f.get("logout_token").unwrap().to_owned())
        })
        .collect()
}

fn assert_error_page(r: &Response) {
    assert!((400..500).contains(&r.status), "{} {}", r.status, text(r));
    assert!(r.get_header("location").is_none(), "never redirects");
    assert!(r.get_header("content-type").unwrap().starts_with("text/html"));
    assert!(r.after.is_empty());
}

#[test]
fn discovery_states_the_logout_endpoints_and_support() {
    let p = orgs();
    let d = expect_json(&send_at(&p, ACME, req("GET", "/.well-known/openid-configuration", &[], "")), 200);
    assert_eq!(d["end_session_endpoint"], format!("{ACME}/oauth/logout"));
    assert_eq!(d["backchannel_logout_supported"], true);
    assert_eq!(d["backchannel_logout_session_supported"], true);
    assert_eq!(d["frontchannel_logout_supported"], false);
}

#[test]
fn a_hint_and_a_registered_uri_sign_out_redirect_with_state_and_notify_the_app() {
    let p = orgs();
    let rp = rp_at(&p, ACME);
    let mut b = signed_in_at(&p, ACME, "ann@example.com");
    let hint = id_token(&p, ACME, &mut b, &rp);
    let idc = verify(&p, ACME, &rp.0, &hint, "JWT");
    let old_cookies = b.headers();
    let url = logout_url(&[("id_token_hint", &hint), ("post_logout_redirect_uri", BYE), ("state", "s t&1"), ("ui_locales", "fr en")]);
    let r = get_at(&p, ACME, &mut b, &url);
    assert_eq!(r.status, 303, "{}", text(&r));
    assert_eq!(r.get_header("location"), Some(format!("{BYE}?state=s%20t%261").as_str()));
    assert_eq!(query_param(r.get_header("location").unwrap(), "state").as_deref(), Some("s t&1"));
    let cleared = r.headers.iter().any(|(k, v)| k == "set-cookie" && v.contains("session") && v.contains("Max-Age=0"));
    assert!(cleared, "the session cookie is cleared: {:?}", r.headers);
    assert!(!signed_in_as(&p, ACME, &mut b), "signed out");
    // The session is gone, not only its cookie: the old cookie signs nobody in.
    let r2 = send_at(&p, ACME, req("GET", "/", &[("cookie", &old_cookies)], ""));
    assert!(!text(&r2).contains("Signed in as"));
    // Nothing was sent during the request; the logout token goes after it.
    assert!(p.sent.borrow().is_empty());
    assert_eq!(r.after.len(), 1);
    run_after(&p, &r);
    let sent = logout_tokens(&p);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, BC);
    let c = verify(&p, ACME, &rp.0, &sent[0].1, "logout+jwt");
    assert_eq!(c["iss"], ACME);
    assert_eq!(c["aud"], rp.0.as_str());
    assert_eq!(c["sub"], idc["sub"]);
    assert_eq!(c["sid"], idc["sid"]);
    assert_eq!(c["events"], json!({"http://schemas.openid.net/event/backchannel-logout": {}}));
    assert!(c["jti"].as_str().unwrap().len() >= 16);
    assert!(c.get("nonce").is_none(), "{c}");
    let iat = c["iat"].as_i64().unwrap();
    assert_eq!(iat, now(&p));
    assert!(c["exp"].as_i64().unwrap() > iat && c["exp"].as_i64().unwrap() - iat <= 300);
    // A session ends once: logging out again notifies nobody.
    let r = get_at(&p, ACME, &mut b, &url);
    assert_eq!(r.status, 303);
    assert!(r.after.is_empty());
}

#[test]
fn a_post_logout_uri_differing_by_one_character_is_refused_and_the_session_stays() {
    let p = orgs();
    let rp = rp_at(&p, ACME);
    let mut b = signed_in_at(&p, ACME, "ann@example.com");
    let hint = id_token(&p, ACME, &mut b, &rp);
    for uri in ["https://rp.example/signed-ouT", "https://rp.example/signed-out/", "https://rp.example/signed-out?x",
        "https://rp.example/signed-ou", "http://rp.example/signed-out", CB, "https://evil.example/"] {
        let r = get_at(&p, ACME, &mut b, &logout_url(&[("id_token_hint", &hint), ("post_logout_redirect_uri", uri), ("state", "s")]));
        assert_error_page(&r);
        assert!(text(&r).contains("not one the client registered"), "{}", text(&r));
        let r = get_at(&p, ACME, &mut b, &logout_url(&[("client_id", &rp.0), ("post_logout_redirect_uri", uri)]));
        assert_error_page(&r);
    }
    // A URI without a client to check it against; a client_id the hint was not issued to.
    assert_error_page(&get_at(&p, ACME, &mut b, &logout_url(&[("post_logout_redirect_uri", BYE)])));
    let other = rp_at(&p, ACME);
    let r = get_at(&p, ACME, &mut b, &logout_url(&[("id_token_hint", &hint), ("client_id", &other.0), ("post_logout_redirect_uri", BYE)]));
    assert_error_page(&r);
    assert_error_page(&get_at(&p, ACME, &mut b, &logout_url(&[("client_id", "no-such-client-0123456789"), ("post_logout_redirect_uri", BYE)])));
    assert!(signed_in_as(&p, ACME, &mut b), "the session is kept");
    assert!(p.sent.borrow().is_empty());
}

#[test]
fn without_a_hint_the_person_confirms_with_a_csrf_protected_form() {
    let p = orgs();
    let rp = rp_at(&p, ACME);
    let mut b = signed_in_at(&p, ACME, "ann@example.com");
    id_token(&p, ACME, &mut b, &rp);
    let pairs = [("client_id", rp.0.as_str()), ("post_logout_redirect_uri", BYE), ("state", "xyz")];
    let r = get_at(&p, ACME, &mut b, &logout_url(&pairs));
    assert_eq!(r.status, 200, "{}", text(&r));
    let page = text(&r);
    assert!(page.contains("Sign out of acme Ltd?"), "{page}");
    assert!(page.contains(r#"action="/oauth/logout""#) && page.contains(r#"name="post_logout_redirect_uri""#));
    assert!(r.after.is_empty());
    assert!(signed_in_as(&p, ACME, &mut b), "asking changes nothing");
    let csrf = csrf_of(&r);
    // A forged or missing token: refused, still signed in.
    let forged = format!("{}&{}", form(&pairs), form(&[("csrf", &"x".repeat(43)), ("logout", "yes")]));
    let r = post_at(&p, ACME, &mut b, "/oauth/logout", &forged);
    assert_eq!(r.status, 403);
    assert!(r.get_header("location").is_none());
    assert!(signed_in_as(&p, ACME, &mut b));
    // "Stay signed in": back to the app, the session kept.
    let stay = format!("{}&{}", form(&pairs), form(&[("csrf", &csrf), ("logout", "no")]));
    let r = post_at(&p, ACME, &mut b, "/oauth/logout", &stay);
    assert_eq!(r.status, 303);
    assert!(signed_in_as(&p, ACME, &mut b));
    // Confirmed: signed out, redirected with state, the app notified after the response.
    let yes = format!("{}&{}", form(&pairs), form(&[("csrf", &csrf), ("logout", "yes")]));
    let r = post_at(&p, ACME, &mut b, "/oauth/logout", &yes);
    assert_eq!(r.status, 303, "{}", text(&r));
    assert_eq!(r.get_header("location"), Some(format!("{BYE}?state=xyz").as_str()));
    assert!(!signed_in_as(&p, ACME, &mut b));
    run_after(&p, &r);
    assert_eq!(logout_tokens(&p).len(), 1);
    // No client at all: the confirmation, then "You are signed out" (the /oauth/v2 alias too).
    let mut b = signed_in_at(&p, ACME, "bob@example.com");
    let r = get_at(&p, ACME, &mut b, "/oauth/v2/logout");
    assert_eq!(r.status, 200);
    assert!(text(&r).contains(r#"action="/oauth/v2/logout""#));
    let r = post_at(&p, ACME, &mut b, "/oauth/v2/logout", &form(&[("csrf", &csrf_of(&r)), ("logout", "yes")]));
    assert_eq!(r.status, 200);
    assert!(text(&r).contains("You are signed out"));
    assert!(!signed_in_as(&p, ACME, &mut b));
}

#[test]
fn a_hint_for_another_person_asks_and_a_hint_with_no_session_just_redirects() {
    let p = orgs();
    let rp = rp_at(&p, ACME);
    let mut ann = signed_in_at(&p, ACME, "ann@example.com");
    let hint = id_token(&p, ACME, &mut ann, &rp);
    let mut bob = signed_in_at(&p, ACME, "bob@example.com");
    let url = logout_url(&[("id_token_hint", &hint), ("post_logout_redirect_uri", BYE)]);
    let r = get_at(&p, ACME, &mut bob, &url);
    assert_eq!(r.status, 200);
    assert!(text(&r).contains("Sign out of"));
    assert!(signed_in_as(&p, ACME, &mut bob));
    let mut nobody = Browser::default();
    let r = get_at(&p, ACME, &mut nobody, &url);
    assert_eq!(r.status, 303);
    assert_eq!(r.get_header("location"), Some(BYE));
    assert!(signed_in_as(&p, ACME, &mut ann));
}

#[test]
fn a_hint_of_another_organisation_or_issuer_or_key_is_refused_and_nothing_changes() {
    let p = orgs();
    let acme_rp = rp_at(&p, ACME);
    let beta_rp = rp_at(&p, BETA);
    let mut a = signed_in_at(&p, ACME, "ann@example.com");
    let mut b = signed_in_at(&p, BETA, "ann@example.com");
    id_token(&p, ACME, &mut a, &acme_rp);
    let beta_hint = id_token(&p, BETA, &mut b, &beta_rp);
    let r = get_at(&p, ACME, &mut a, &logout_url(&[("id_token_hint", &beta_hint), ("post_logout_redirect_uri", BYE)]));
    assert_error_page(&r);
    assert!(text(&r).contains("not an ID token issued here"));
    assert_error_page(&get_at(&p, ACME, &mut a, &logout_url(&[("id_token_hint", &beta_hint)])));
    // Signed by a key that is not the tenant's, claiming the tenant as issuer.
    let claims = json!({"iss": ACME, "sub": "x", "aud": acme_rp.0, "iat": now(&p), "exp": now(&p) + 60});
    let forged = test_key(0).sign(&claims);
    assert_error_page(&get_at(&p, ACME, &mut a, &logout_url(&[("id_token_hint", &forged)])));
    // The tenant's own token with its signature altered.
    let good = id_token(&p, ACME, &mut a, &acme_rp);
    let tampered = format!("{}A", &good[..good.len() - 1]);
    let tampered = if tampered == good { format!("{}B", &good[..good.len() - 1]) } else { tampered };
    assert_error_page(&get_at(&p, ACME, &mut a, &logout_url(&[("id_token_hint", &tampered)])));
    assert!(signed_in_as(&p, ACME, &mut a) && signed_in_as(&p, BETA, &mut b), "both sessions kept");
    assert!(p.sent.borrow().is_empty());
    // The hint of a foreign issuer is refused even by the tenant it came from, elsewhere it is fine.
    let r = get_at(&p, BETA, &mut b, &logout_url(&[("id_token_hint", &beta_hint), ("post_logout_redirect_uri", BYE)]));
    assert_eq!(r.status, 303);
    assert!(signed_in_as(&p, ACME, &mut a));
}

#[test]
fn hostile_end_session_requests_get_a_page_and_change_nothing() {
    let p = orgs();
    let rp = rp_at(&p, ACME);
    let mut b = signed_in_at(&p, ACME, "ann@example.com");
    let hint = id_token(&p, ACME, &mut b, &rp);
    let access = {
        // An access token of the tenant is not an ID token.
        let q = form(&[("response_type", "code"), ("client_id", &rp.0), ("redirect_uri", CB), ("scope", "openid")]);
        let r = get_at(&p, ACME, &mut b, &format!("/oauth/authorize?{q}"));
        let code = query_param(r.get_header("location").unwrap(), "code").unwrap();
        let pairs = [("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", CB)];
        let h = [("content-type", "application/x-www-form-urlencoded"), ("authorization", &basic(&rp.0, &rp.1))];
        expect_json(&send_at(&p, ACME, req("POST", "/oauth/token", &h, form(&pairs))), 200)["access_token"].as_str().unwrap().to_owned()
    };
    let long_state = "s".repeat(2001);
    let huge = "a".repeat(9000);
    let queries = [
        form(&[("id_token_hint", "not-a-jwt")]),
        form(&[("id_token_hint", "a.b.c")]),
        form(&[("id_token_hint", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")]),
        form(&[("id_token_hint", &huge)]),
        form(&[("id_token_hint", &access)]),
        form(&[("id_token_hint", &hint), ("post_logout_redirect_uri", BYE), ("state", &long_state)]),
        format!("id_token_hint={hint}&post_logout_redirect_uri=https%3A%2F%2Frp.example%2Fsigned-out&state=%FF%FE"),
        format!("id_token_hint={hint}&state=a%00b"),
        format!("id_token_hint={hint}&id_token_hint={hint}"),
        format!("state=x&ui_locales={}", "e".repeat(300)),
    ];
    for q in &queries {
        let r = get_at(&p, ACME, &mut b, &format!("/oauth/logout?{q}"));
        assert_error_page(&r);
    }
    // Forms only: another body type is refused as a page.
    let h = [("cookie", b.headers()), ("content-type", "application/json".to_owned())];
    let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = send_at(&p, ACME, req("POST", "/oauth/logout", &h, json!({"id_token_hint": hint}).to_string()));
    assert_eq!(r.status, 415);
    assert!(r.get_header("location").is_none());
    let r = post_at(&p, ACME, &mut b, "/oauth/logout", "id_token_hint=%ZZ");
    assert_error_page(&r);
    assert_eq!(send_at(&p, ACME, req("PUT", "/oauth/logout", &[], "")).status, 405);
    assert!(signed_in_as(&p, ACME, &mut b), "the session is kept");
    assert!(p.sent.borrow().is_empty());
    // The same hint, sent properly by POST (form), works.
    let r = post_at(&p, ACME, &mut b, "/oauth/logout", &form(&[("id_token_hint", &hint), ("post_logout_redirect_uri", BYE), ("state", "ok")]));
    assert_eq!(r.status, 303);
    assert_eq!(r.get_header("location"), Some(format!("{BYE}?state=ok").as_str()));
    assert!(!signed_in_as(&p, ACME, &mut b));
}

#[test]
fn the_log_out_button_notifies_apps_and_failed_deliveries_are_retried() {
    let p = orgs();
    let rp = rp_at(&p, ACME);
    // Delivered at the third attempt: no answer, then 503, then 200.
    let mut b = signed_in_at(&p, ACME, "ann@example.com");
    id_token(&p, ACME, &mut b, &rp);
    let csrf = csrf_of(&get_at(&p, ACME, &mut b, "/"));
    let r = post_at(&p, ACME, &mut b, "/logout", &form(&[("csrf", &csrf)]));
    assert_eq!(r.status, 303);
    assert_eq!(r.after.len(), 1);
    p.outbound_answers.borrow_mut().extend([None, Some(503), Some(200)]);
    run_after(&p, &r);
    let sent = logout_tokens(&p);
    assert_eq!(sent.len(), 3);
    assert!(sent.iter().all(|s| s == &sent[0]), "the same token each time");
    assert_eq!(*p.pauses.borrow(), vec![250, 1000]);
    assert!(!p.audit_log.borrow().iter().any(|e| e["event"] == "backchannel_logout_failed"));
    // Never delivered: three attempts, then a log line (no token in it).
    p.sent.borrow_mut().clear();
    let mut b = signed_in_at(&p, ACME, "bob@example.com");
    id_token(&p, ACME, &mut b, &rp);
    let csrf = csrf_of(&get_at(&p, ACME, &mut b, "/"));
    let r = post_at(&p, ACME, &mut b, "/logout", &form(&[("csrf", &csrf)]));
    p.outbound_answers.borrow_mut().extend([Some(500), Some(502), Some(500)]);
    run_after(&p, &r);
    assert_eq!(p.sent.borrow().len(), 3);
    let log = p.audit_log.borrow();
    let failed = log.iter().find(|e| e["event"] == "backchannel_logout_failed").unwrap();
    assert_eq!(failed["client_id"], rp.0.as_str());
    assert_eq!(failed["status"], 500);
    assert_eq!(failed["tenant"], "acme", "the line says whose logout it was");
    assert!(!failed.to_string().contains("eyJ"));
    drop(log);
    // Refused by the app (400): not retried.
    p.sent.borrow_mut().clear();
    let mut b = signed_in_at(&p, ACME, "cy@example.com");
    id_token(&p, ACME, &mut b, &rp);
    let csrf = csrf_of(&get_at(&p, ACME, &mut b, "/"));
    let r = post_at(&p, ACME, &mut b, "/logout", &form(&[("csrf", &csrf)]));
    p.outbound_answers.borrow_mut().push_back(Some(400));
    run_after(&p, &r);
    assert_eq!(p.sent.borrow().len(), 1);
    // An app without a back-channel URI, or a session with no ID token, notifies nobody.
    let plain = credentials(&json(&send_at(&p, ACME, json_req("POST", "/admin/apps", Some("admin-secret"),
        &json!({"name": "Plain", "redirect_uris": [CB], "scopes": ["public"]})))));
    let mut b = signed_in_at(&p, ACME, "dee@example.com");
    id_token(&p, ACME, &mut b, &plain);
    let csrf = csrf_of(&get_at(&p, ACME, &mut b, "/"));
    assert!(post_at(&p, ACME, &mut b, "/logout", &form(&[("csrf", &csrf)])).after.is_empty());
}

#[test]
fn logout_metadata_is_registered_with_the_redirect_uri_rules() {
    let p = orgs();
    let meta = json!({"redirect_uris": [CB], "post_logout_redirect_uris": [BYE], "backchannel_logout_uri": BC,
        "backchannel_logout_session_required": true, "client_name": "RP"});
    let r = send_at(&p, ACME, json_req("POST", "/oauth/register", None, &meta));
    let reg = expect_json(&r, 201);
    assert_eq!(reg["post_logout_redirect_uris"], json!([BYE]));
    assert_eq!(reg["backchannel_logout_uri"], BC);
    assert_eq!(reg["backchannel_logout_session_required"], true);
    let uri = reg["registration_client_uri"].as_str().unwrap().strip_prefix(ACME).unwrap().to_owned();
    let read = send_at(&p, ACME, req("GET", &uri, &[("authorization", &bearer(reg["registration_access_token"].as_str().unwrap()))], ""));
    assert_eq!(expect_json(&read, 200)["post_logout_redirect_uris"], json!([BYE]));
    for (field, bad) in [("post_logout_redirect_uris", json!(["http://rp.example/bye"])), ("post_logout_redirect_uris", json!(["https://rp.example/#f"])),
        ("post_logout_redirect_uris", json!("https://rp.example/")), ("backchannel_logout_uri", json!("http://rp.example/bc")),
        ("backchannel_logout_uri", json!("com.example.app:/bc")), ("backchannel_logout_uri", json!(["https://rp.example/bc"]))] {
        let mut m = meta.clone();
        m[field] = bad.clone();
        let r = send_at(&p, ACME, json_req("POST", "/oauth/register", None, &m));
        assert_eq!(r.status, 400, "{field} {bad}: {}", text(&r));
    }
    // The admin API: set, change, remove.
    let rp = rp_at(&p, ACME);
    let path = format!("/admin/apps/{}", rp.0);
    let r = send_at(&p, ACME, json_req("PATCH", &path, Some("admin-secret"), &json!({"backchannel_logout_uri": "http://evil.example/bc"})));
    assert_eq!(r.status, 400, "{}", text(&r));
    let r = send_at(&p, ACME, json_req("PATCH", &path, Some("admin-secret"), &json!({"backchannel_logout_uri": null, "post_logout_redirect_uris": []})));
    let app = expect_json(&r, 200);
    assert!(app.get("backchannel_logout_uri").is_none(), "{app}");
    assert_eq!(app["post_logout_redirect_uris"], json!([]));
    // In development (no ISSUER), a loopback http listener may receive logout tokens.
    let p = platform();
    let r = send(&p, json_req("POST", "/admin/apps", Some("admin-secret"), &json!({"name": "Local", "redirect_uris": [CB], "backchannel_logout_uri": "http://127.0.0.1:9999/bc"})));
    assert_eq!(r.status, 201, "{}", text(&r));
}

#[test]
fn an_unknown_answer_of_the_confirmation_form_is_refused_and_ends_nothing() {
    let p = orgs();
    let mut b = signed_in_at(&p, ACME, "ann@example.com");
    let page = get_at(&p, ACME, &mut b, "/oauth/logout");
    assert_eq!(page.status, 200);
    let body = form(&[("csrf", &csrf_of(&page)), ("logout", "AAA")]);
    let r = post_at(&p, ACME, &mut b, "/oauth/logout", &body);
    assert_eq!(r.status, 400, "{}", text(&r));
    assert!(signed_in_as(&p, ACME, &mut b), "the session is kept");
}
