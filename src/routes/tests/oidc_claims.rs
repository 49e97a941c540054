//! The `claims` request parameter (OpenID Connect Core 1.0 §5.5) and `acr` (§2, §5.5.1.1): claims
//! asked for one by one are released at userinfo or in the ID token only after the person allowed
//! them, never beyond what the app may hold, and kept across refreshes; malformed `claims`, an
//! essential class the provider cannot meet, or a `sub` that is not the signed-in person's, each
//! answered by redirect without a code.

use super::oidc::{authorize, redeem, refresh, rp_at, userinfo, verify, CB};
use super::support::*;
use crate::rules::acr;
use serde_json::json;

fn url(client_id: &str, scope: &str, extra: &[(&str, &str)]) -> String {
    let mut pairs = vec![("response_type", "code"), ("client_id", client_id), ("redirect_uri", CB), ("scope", scope), ("state", "st")];
    pairs.extend_from_slice(extra);
    format!("/oauth/authorize?{}", form(&pairs))
}

fn code_of(loc: &str) -> String {
    query_param(loc, "code").unwrap_or_else(|| panic!("no code in {loc}"))
}

/// The `error` of a redirect back to the client that carries no code.
#[track_caller]
fn refused(p: &crate::platform::memory::MemPlatform, b: &mut Browser, u: &str) -> String {
    let r = get_at(p, ORIGIN, b, u);
    assert_eq!(r.status, 302, "{}", text(&r));
    let loc = r.get_header("location").unwrap().to_owned();
    assert!(loc.starts_with(CB) && query_param(&loc, "code").is_none(), "{loc}");
    assert_eq!(query_param(&loc, "state").as_deref(), Some("st"));
    assert!(!query_param(&loc, "error_description").unwrap_or_default().contains(['\r', '\n', '\t']));
    query_param(&loc, "error").unwrap()
}

#[test]
fn claims_asked_one_by_one_are_released_after_consent_and_kept_on_refresh() {
    let p = platform();
    let rp = rp_at(&p, ORIGIN, &["email", "offline_access"]);
    let mut b = signed_in_at(&p, ORIGIN, "ann@example.com");
    let claims = r#"{"userinfo":{"email":{"essential":true},"phone_number":null},"id_token":{"name":null}}"#;
    let u = url(&rp.0, "openid offline_access", &[("claims", claims)]);
    // The consent page names the claims asked for beyond the scopes.
    let page = get_at(&p, ORIGIN, &mut b, &u);
    assert_eq!(page.status, 200, "{}", text(&page));
    let html = text(&page);
    for words in ["See your email address", "See your name"] {
        assert!(html.contains(words), "{words} missing");
    }
    assert!(!html.contains("<li>See your “phone_number”"), "an unknown claim is not offered");
    let loc = authorize(&p, ORIGIN, &mut b, &u);
    let t = redeem(&p, ORIGIN, &rp, &code_of(&loc));
    let (_, id) = verify(&p, ORIGIN, &rp.0, t["id_token"].as_str().unwrap());
    // In the ID token: what id_token asked for; not the email (asked for at userinfo only).
    assert_eq!(id["name"], "Ann");
    assert!(id.get("email").is_none() && id.get("email_verified").is_none(), "{id}");
    assert_eq!(id["acr"], acr::PASSWORD);
    // At userinfo: sub and the email, nothing the scopes or the request did not name.
    let info = userinfo(&p, t["access_token"].as_str().unwrap());
    assert_eq!(info, json!({"sub": id["sub"], "email": "ann@example.com"}));
    // A refresh keeps both.
    let t2 = refresh(&p, ORIGIN, &rp, t["refresh_token"].as_str().unwrap());
    let (_, id2) = verify(&p, ORIGIN, &rp.0, t2["id_token"].as_str().unwrap());
    assert_eq!((id2["name"].clone(), id2["sub"].clone()), (json!("Ann"), id["sub"].clone()));
    assert_eq!(userinfo(&p, t2["access_token"].as_str().unwrap())["email"], "ann@example.com");
    // Remembered: the same request gives a code at once; a new claim asks again.
    let again = get_at(&p, ORIGIN, &mut b, &u);
    assert_eq!(again.status, 302, "{}", text(&again));
    let more = url(&rp.0, "openid", &[("claims", r#"{"id_token":{"email_verified":null}}"#)]);
    let page = get_at(&p, ORIGIN, &mut b, &more);
    assert!(text(&page).contains("See whether your email address is verified"));
    let t3 = redeem(&p, ORIGIN, &rp, &code_of(&authorize(&p, ORIGIN, &mut b, &more)));
    let (_, id3) = verify(&p, ORIGIN, &rp.0, t3["id_token"].as_str().unwrap());
    assert_eq!(id3["email_verified"], false, "truthful: accounts do not verify their email yet");
    // A claim out of the app's reach (`created_at` is `public`'s) asks nothing and gives nothing.
    let out = url(&rp.0, "openid", &[("claims", r#"{"userinfo":{"created_at":null}}"#)]);
    let t4 = redeem(&p, ORIGIN, &rp, &code_of(&authorize(&p, ORIGIN, &mut b, &out)));
    assert!(userinfo(&p, t4["access_token"].as_str().unwrap()).get("created_at").is_none());
    // Without the claims parameter nothing beyond the scopes is released.
    let plain = authorize(&p, ORIGIN, &mut b, &url(&rp.0, "openid", &[]));
    let t = redeem(&p, ORIGIN, &rp, &code_of(&plain));
    assert_eq!(userinfo(&p, t["access_token"].as_str().unwrap()).as_object().unwrap().len(), 1);
}

#[test]
fn the_claims_parameter_never_reaches_past_what_the_app_may_hold() {
    let p = platform();
    // This app holds `public` only: the email is out of its reach, whatever it asks.
    let rp = rp_at(&p, ORIGIN, &["public"]);
    let mut b = signed_in_at(&p, ORIGIN, "ann@example.com");
    let claims = r#"{"userinfo":{"email":{"essential":true}},"id_token":{"email":null,"name":null}}"#;
    let u = url(&rp.0, "openid", &[("claims", claims)]);
    let page = get_at(&p, ORIGIN, &mut b, &u);
    assert!(!text(&page).contains("email address"), "the email is not offered");
    let loc = authorize(&p, ORIGIN, &mut b, &u);
    let t = redeem(&p, ORIGIN, &rp, &code_of(&loc));
    let (_, id) = verify(&p, ORIGIN, &rp.0, t["id_token"].as_str().unwrap());
    assert!(id.get("email").is_none() && id["name"] == "Ann", "{id}");
    let info = userinfo(&p, t["access_token"].as_str().unwrap());
    assert!(info.get("email").is_none(), "{info}");
}

#[test]
fn hostile_claims_and_unmeetable_classes_are_refused_by_redirect() {
    let p = platform();
    let rp = rp_at(&p, ORIGIN, &["email"]);
    let mut b = signed_in_at(&p, ORIGIN, "ann@example.com");
    let long = format!(r#"{{"userinfo":{{"email":null}},"x":"{}"}}"#, "a".repeat(5000));
    let deep = format!("{}{}", "{\"a\":".repeat(300), "}".repeat(300));
    for bad in ["{", "[]", r#"{"userinfo":"email"}"#, r#"{"userinfo":{"email":1}}"#, long.as_str(), deep.as_str()] {
        assert_eq!(refused(&p, &mut b, &url(&rp.0, "openid", &[("claims", bad)])), "invalid_request", "{bad:.40}");
    }
    // Nothing was stored: consent is still not given.
    assert_eq!(get_at(&p, ORIGIN, &mut b, &url(&rp.0, "openid", &[])).status, 200);
    // An essential acr the provider cannot meet is a failed authentication; a voluntary one is not.
    let gold = r#"{"id_token":{"acr":{"essential":true,"values":["urn:gold"]}}}"#;
    assert_eq!(refused(&p, &mut b, &url(&rp.0, "openid", &[("claims", gold)])), "access_denied");
    let ours = format!(r#"{{"id_token":{{"acr":{{"essential":true,"value":"{}"}}}}}}"#, acr::PASSWORD);
    assert_eq!(get_at(&p, ORIGIN, &mut b, &url(&rp.0, "openid", &[("claims", &ours)])).status, 200);
    assert_eq!(refused(&p, &mut b, &url(&rp.0, "openid", &[("acr_values", &"a ".repeat(1500))])), "invalid_request");
    // An essential passkey class (phr) and a password session: one new log-in is asked for
    // (it may use a passkey); with prompt=none, a failed authentication at once. A voluntary
    // acr_values of phr changes nothing: the ID token states the password class.
    let phr = format!(r#"{{"id_token":{{"acr":{{"essential":true,"value":"{}"}}}}}}"#, acr::PHR);
    authorize(&p, ORIGIN, &mut b, &url(&rp.0, "openid", &[]));
    let r = get_at(&p, ORIGIN, &mut b, &url(&rp.0, "openid", &[("claims", &phr)]));
    assert!(r.status == 302 || r.status == 303, "{}", text(&r));
    assert!(r.get_header("location").unwrap().starts_with("/login"), "{:?}", r.get_header("location"));
    assert_eq!(refused(&p, &mut b, &url(&rp.0, "openid", &[("claims", &phr), ("prompt", "none")])), "access_denied");
    let mfa_or_password = format!(r#"{{"id_token":{{"acr":{{"essential":true,"values":["{}","{}"]}}}}}}"#, acr::MFA, acr::PASSWORD);
    let loc = authorize(&p, ORIGIN, &mut b, &url(&rp.0, "openid", &[("claims", &mfa_or_password), ("acr_values", "phrh phr")]));
    let t = redeem(&p, ORIGIN, &rp, &code_of(&loc));
    assert_eq!(verify(&p, ORIGIN, &rp.0, t["id_token"].as_str().unwrap()).1["acr"], acr::PASSWORD);
    // Plain OAuth ignores the parameter (it is OpenID Connect's).
    let r = get_at(&p, ORIGIN, &mut b, &url(&rp.0, "email", &[("claims", "{")]));
    assert_eq!(r.status, 200, "{}", text(&r));
}

#[test]
fn a_sub_asked_for_is_the_signed_in_person_or_a_new_log_in() {
    let p = platform();
    let rp = rp_at(&p, ORIGIN, &["email"]);
    let mut b = signed_in_at(&p, ORIGIN, "ann@example.com");
    let loc = authorize(&p, ORIGIN, &mut b, &url(&rp.0, "openid", &[]));
    let t = redeem(&p, ORIGIN, &rp, &code_of(&loc));
    let (_, id) = verify(&p, ORIGIN, &rp.0, t["id_token"].as_str().unwrap());
    let sub = id["sub"].as_str().unwrap();
    let ask = |s: &str| format!(r#"{{"id_token":{{"sub":{{"value":"{s}"}}}}}}"#);
    // The signed-in person: a code at once (consent remembered).
    let r = get_at(&p, ORIGIN, &mut b, &url(&rp.0, "openid", &[("claims", &ask(sub))]));
    assert_eq!(r.status, 302, "{}", text(&r));
    // Someone else: with prompt=none an error, otherwise the log-in page.
    let other = ask("someone-else");
    assert_eq!(refused(&p, &mut b, &url(&rp.0, "openid", &[("claims", &other), ("prompt", "none")])), "login_required");
    let r = get_at(&p, ORIGIN, &mut b, &url(&rp.0, "openid", &[("claims", &other)]));
    assert_eq!(r.status, 303);
    assert!(r.get_header("location").unwrap().starts_with("/login"));
    // A hint and a claims sub that disagree.
    let hint = t["id_token"].as_str().unwrap();
    assert_eq!(refused(&p, &mut b, &url(&rp.0, "openid", &[("claims", &other), ("id_token_hint", hint)])), "invalid_request");
}

#[test]
fn a_claims_sub_tells_a_client_nothing_before_consent_and_allow_never_codes_for_another() {
    let p = platform();
    let rp = rp_at(&p, ORIGIN, &["email"]);
    let mut b = signed_in_at(&p, ORIGIN, "ann@example.com");
    let other = r#"{"id_token":{"sub":{"value":"someone-else"}}}"#;
    // Not yet consented: the same answer as without the sub, so it probes nothing.
    assert_eq!(refused(&p, &mut b, &url(&rp.0, "openid", &[("prompt", "none")])), "consent_required");
    assert_eq!(refused(&p, &mut b, &url(&rp.0, "openid", &[("prompt", "none"), ("claims", other)])), "consent_required");
    // The consent page is shown; Allow does not give Ann a code for a request naming someone
    // else, saves nothing, and sends her to log in.
    let u = url(&rp.0, "openid", &[("claims", other)]);
    let page = get_at(&p, ORIGIN, &mut b, &u);
    assert_eq!(page.status, 200, "{}", text(&page));
    let (_, query) = u.split_once('?').unwrap();
    let body = format!("{query}&{}", form(&[("csrf", &csrf_of(&page)), ("decision", "allow")]));
    let r = post_at(&p, ORIGIN, &mut b, "/oauth/authorize", &body);
    assert_eq!(r.status, 303, "{}", text(&r));
    let login = r.get_header("location").unwrap().to_owned();
    assert!(login.starts_with("/login?"), "{login}");
    let back = query_param(&login, "return_to").unwrap();
    assert!(!back.contains("csrf") && !back.contains("decision"), "{back}");
    assert_eq!(refused(&p, &mut b, &url(&rp.0, "openid", &[("prompt", "none")])), "consent_required", "no consent was saved");
}

#[test]
fn a_refresh_that_narrows_the_scope_narrows_the_claims_that_came_with_it() {
    let p = platform();
    let rp = rp_at(&p, ORIGIN, &["email", "offline_access"]);
    let mut b = signed_in_at(&p, ORIGIN, "ann@example.com");
    // email comes with the email scope; name is allowed by itself.
    let claims = r#"{"userinfo":{"email":null,"name":null}}"#;
    let loc = authorize(&p, ORIGIN, &mut b, &url(&rp.0, "openid email offline_access", &[("claims", claims)]));
    let t = redeem(&p, ORIGIN, &rp, &code_of(&loc));
    let info = userinfo(&p, t["access_token"].as_str().unwrap());
    assert_eq!((info["email"].as_str(), info["name"].as_str()), (Some("ann@example.com"), Some("Ann")));
    let pairs = [("grant_type", "refresh_token"), ("refresh_token", t["refresh_token"].as_str().unwrap()), ("scope", "openid offline_access")];
    let h = [("content-type", "application/x-www-form-urlencoded"), ("authorization", &basic(&rp.0, &rp.1))];
    let t2 = expect_json(&send(&p, req("POST", "/oauth/token", &h, form(&pairs))), 200);
    assert_eq!(t2["scope"], "openid offline_access");
    let info = userinfo(&p, t2["access_token"].as_str().unwrap());
    assert!(info.get("email").is_none(), "the email came with the email scope, which this token lacks: {info}");
    assert_eq!(info["name"], "Ann", "the name was allowed by itself");
}
