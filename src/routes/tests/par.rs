//! Pushed authorization requests (RFC 9126) through `routes::handle`: the PAR endpoint's client
//! authentication and validation (JSON errors, never a redirect), the authorization endpoint
//! taking only what was pushed, single use, expiry, another client's `request_uri`, apps and
//! deployments that require pushing, and hostile values.

use super::support::*;
use crate::config::Config;
use crate::http::Response;
use crate::platform::memory::MemPlatform;
use crate::rules::par::PREFIX;
use serde_json::{json, Value};

const CB: &str = "https://rp.example/cb";

fn app(p: &MemPlatform, extra: Value) -> (String, String) {
    let mut body = json!({"name": "RP", "redirect_uris": [CB], "scopes": ["public", "openid", "profile"]});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    credentials(&create_app(p, body))
}

fn push(p: &MemPlatform, auth: Option<&str>, pairs: &[(&str, &str)]) -> Response {
    let mut h = vec![("content-type", "application/x-www-form-urlencoded")];
    if let Some(a) = auth {
        h.push(("authorization", a));
    }
    send(p, req("POST", "/oauth/par", &h, form(pairs)))
}

fn request(client_id: &str) -> Vec<(&str, &str)> {
    vec![("response_type", "code"), ("client_id", client_id), ("redirect_uri", CB), ("scope", "openid profile"), ("state", "st-1"), ("nonce", "n-1")]
}

/// Pushes the usual request as `rp` (Basic): the `request_uri`.
fn pushed(p: &MemPlatform, rp: &(String, String), extra: &[(&str, &str)]) -> String {
    let mut pairs = request(&rp.0);
    pairs.extend_from_slice(extra);
    let r = push(p, Some(&basic(&rp.0, &rp.1)), &pairs);
    let v = expect_json(&r, 201);
    expect_no_store(&r);
    assert_eq!(v["expires_in"], 60, "{v}");
    v["request_uri"].as_str().unwrap().to_owned()
}

fn authorize_url(client_id: &str, request_uri: &str, extra: &[(&str, &str)]) -> String {
    let mut pairs = vec![("client_id", client_id), ("request_uri", request_uri)];
    pairs.extend_from_slice(extra);
    format!("/oauth/authorize?{}", form(&pairs))
}

/// Allows on the consent page `page`, posting the fields it carries (`client_id`, `request_uri`).
fn allow(p: &MemPlatform, b: &mut Browser, client_id: &str, request_uri: &str, page: &Response) -> Response {
    assert_eq!(page.status, 200, "{}", text(page));
    let html = text(page);
    assert!(html.contains("Allow access?"), "{html}");
    assert!(html.contains(request_uri), "the consent form carries the request_uri: {html}");
    assert!(!html.contains("name=\"scope\""), "nothing pushed is carried by the browser: {html}");
    let body = form(&[("client_id", client_id), ("request_uri", request_uri), ("csrf", &csrf_of(page)), ("decision", "allow")]);
    b.post(p, "/oauth/authorize", &body)
}

#[track_caller]
fn code_of(r: &Response) -> String {
    assert_eq!(r.status, 302, "{}", text(r));
    let loc = r.get_header("location").unwrap();
    assert!(loc.starts_with(CB), "{loc}");
    assert_eq!(query_param(loc, "state").as_deref(), Some("st-1"), "{loc}");
    assert_eq!(query_param(loc, "iss").as_deref(), Some(ORIGIN), "{loc}");
    query_param(loc, "code").expect("a code")
}

#[track_caller]
fn used_up_page(r: &Response) {
    assert_eq!(r.status, 400, "{}", text(r));
    assert!(r.get_header("location").is_none(), "never a redirect");
    assert!(text(r).contains("expired or was already used"), "{}", text(r));
}

#[test]
fn a_pushed_request_is_the_request_and_yields_one_code() {
    let p = platform();
    let rp = app(&p, json!({}));
    let uri = pushed(&p, &rp, &[]);
    assert!(uri.starts_with(PREFIX) && uri.len() == PREFIX.len() + 43, "{uri}");
    let mut b = signed_in(&p, "ann@example.com");
    // Parameters beside the request_uri are not the request: another redirect URI, scope or
    // state sent there change nothing.
    let u = authorize_url(&rp.0, &uri, &[("redirect_uri", "https://evil.example/cb"), ("scope", "admin"), ("state", "other")]);
    let page = b.get(&p, &u);
    let r = allow(&p, &mut b, &rp.0, &uri, &page);
    let code = code_of(&r);
    let pairs = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", CB)];
    let t = expect_json(&token_with(&p, &pairs, &[("authorization", &basic(&rp.0, &rp.1))]), 200);
    assert_eq!(t["scope"], "openid profile", "{t}");
    let id = crate::crypto::jwt::decode(t["id_token"].as_str().unwrap()).unwrap().claims;
    assert_eq!(id.get("nonce"), Some(&json!("n-1")), "the pushed nonce");
    // Used up: the same request_uri again, by GET or by the consent form, is refused as a page.
    used_up_page(&b.get(&p, &u));
    let again = allow_again(&p, &mut b, &rp.0, &uri);
    used_up_page(&again);
}

/// The consent form's Allow for a request_uri without fetching the page first.
fn allow_again(p: &MemPlatform, b: &mut Browser, client_id: &str, request_uri: &str) -> Response {
    let csrf = csrf_of(&b.get(p, "/signup"));
    let body = form(&[("client_id", client_id), ("request_uri", request_uri), ("csrf", &csrf), ("decision", "allow")]);
    b.post(p, "/oauth/authorize", &body)
}

#[test]
fn a_pushed_request_waits_a_minute_then_lasts_the_interaction() {
    let p = platform();
    let rp = app(&p, json!({}));
    let mut b = signed_in(&p, "ann@example.com");
    // Not opened within its 60 s: expired.
    let late = pushed(&p, &rp, &[]);
    p.advance(60);
    used_up_page(&b.get(&p, &authorize_url(&rp.0, &late, &[])));
    // Opened in time: the person may take minutes to consent (up to 10).
    let uri = pushed(&p, &rp, &[]);
    p.advance(59);
    let page = b.get(&p, &authorize_url(&rp.0, &uri, &[]));
    assert_eq!(page.status, 200, "{:?} {}", page.get_header("location"), text(&page));
    p.advance(500);
    code_of(&allow(&p, &mut b, &rp.0, &uri, &page));
    // ...but not longer (prompt=consent: the consent given above is remembered).
    let slow = pushed(&p, &rp, &[("prompt", "consent")]);
    let page = b.get(&p, &authorize_url(&rp.0, &slow, &[]));
    assert_eq!(page.status, 200, "{}", text(&page));
    p.advance(600);
    used_up_page(&allow_again(&p, &mut b, &rp.0, &slow));
}

#[test]
fn another_clients_request_uri_is_nothing_and_stays_usable() {
    let p = platform();
    let rp = app(&p, json!({}));
    let other = app(&p, json!({}));
    let uri = pushed(&p, &rp, &[]);
    let mut b = signed_in(&p, "ann@example.com");
    used_up_page(&b.get(&p, &authorize_url(&other.0, &uri, &[])));
    used_up_page(&allow_again(&p, &mut b, &other.0, &uri));
    // Still the right client's.
    let page = b.get(&p, &authorize_url(&rp.0, &uri, &[]));
    code_of(&allow(&p, &mut b, &rp.0, &uri, &page));
}

#[test]
fn deny_uses_the_request_up() {
    let p = platform();
    let rp = app(&p, json!({}));
    let uri = pushed(&p, &rp, &[]);
    let mut b = signed_in(&p, "ann@example.com");
    let page = b.get(&p, &authorize_url(&rp.0, &uri, &[]));
    let body = form(&[("client_id", &rp.0), ("request_uri", &uri), ("csrf", &csrf_of(&page)), ("decision", "deny")]);
    let r = b.post(&p, "/oauth/authorize", &body);
    assert_eq!(r.status, 302, "{}", text(&r));
    assert_eq!(query_param(r.get_header("location").unwrap(), "error").as_deref(), Some("access_denied"));
    used_up_page(&allow_again(&p, &mut b, &rp.0, &uri));
}

#[test]
fn select_account_continues_to_consent_without_looping() {
    let p = platform();
    let rp = app(&p, json!({}));
    for prompt in ["select_account", "select_account consent"] {
        let uri = pushed(&p, &rp, &[("prompt", prompt)]);
        let mut b = signed_in(&p, &format!("{}@example.com", prompt.len()));
        let page = b.get(&p, &authorize_url(&rp.0, &uri, &[]));
        assert_eq!(page.status, 200, "{}", text(&page));
        let html = text(&page);
        let at = html.find("href=\"/oauth/authorize?").expect("a Continue link") + "href=\"".len();
        let go_on = html[at..].split('"').next().unwrap().replace("&amp;", "&");
        let next = b.get(&p, &go_on);
        assert_eq!(next.status, 200, "{}", text(&next));
        assert!(text(&next).contains("Allow access?"), "Continue reaches consent ({prompt}): {}", text(&next));
        // The browser can drop select_account only: a prompt=none beside the request_uri is
        // ignored (the pushed prompt shows the chooser again).
        let r = b.get(&p, &authorize_url(&rp.0, &uri, &[("prompt", "none")]));
        assert_eq!(r.status, 200, "{}", text(&r));
        assert!(!text(&r).contains("Allow access?"), "{}", text(&r));
    }
}

#[test]
fn the_par_endpoint_authenticates_and_validates_in_json() {
    let p = platform();
    let rp = app(&p, json!({}));
    let public = create_app(&p, json!({"name": "SPA", "redirect_uris": [CB], "token_endpoint_auth_method": "none", "scopes": ["public"]}));
    let public = (public["client_id"].as_str().unwrap().to_owned(), String::new());
    let ok = request(&rp.0);
    // Client authentication as at the token endpoint.
    expect_error(&push(&p, None, &ok), 401, "invalid_client");
    expect_error(&push(&p, Some(&basic(&rp.0, "wrong")), &ok), 401, "invalid_client");
    let mut post = ok.clone();
    post.push(("client_secret", &rp.1));
    let v = expect_json(&push(&p, None, &post), 201);
    assert!(v["request_uri"].as_str().unwrap().starts_with(PREFIX));
    // A public client names itself; its request needs PKCE as at the authorization endpoint.
    let pub_req = [("response_type", "code"), ("client_id", public.0.as_str()), ("redirect_uri", CB), ("scope", "public")];
    expect_error(&push(&p, None, &pub_req), 400, "invalid_request");
    let mut with_pkce = pub_req.to_vec();
    with_pkce.push(("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
    with_pkce.push(("code_challenge_method", "S256"));
    expect_json(&push(&p, None, &with_pkce), 201);
    // Another client's id in the body than the Basic credentials': refused.
    let mut mixed = request(&public.0);
    mixed.retain(|(k, _)| *k != "nonce");
    expect_error(&push(&p, Some(&basic(&rp.0, &rp.1)), &mixed), 400, "invalid_request");
    // Validation as at the authorization endpoint, answered in JSON (never a redirect).
    let auth = basic(&rp.0, &rp.1);
    let cases: Vec<(Vec<(&str, &str)>, u16, &str)> = vec![
        (vec![("redirect_uri", "https://rp.example/cb2")], 400, "invalid_request"),
        (vec![("response_type", "token")], 400, "unsupported_response_type"),
        (vec![("scope", "admin")], 400, "invalid_scope"),
        (vec![("request_uri", "urn:ietf:params:oauth:request_uri:x")], 400, "invalid_request"),
        (vec![("request", "eyJhbGciOiJub25lIn0.e30.")], 400, "request_not_supported"),
        (vec![("code_challenge_method", "S256")], 400, "invalid_request"),
        (vec![("claims", "{not json")], 400, "invalid_request"),
    ];
    for (change, status, code) in cases {
        let mut pairs: Vec<(&str, &str)> = ok.iter().filter(|(k, _)| !change.iter().any(|(c, _)| c == k)).copied().collect();
        pairs.extend(change.iter().copied());
        let r = push(&p, Some(&auth), &pairs);
        assert!(r.get_header("location").is_none(), "{change:?}");
        let e = expect_error(&r, status, code);
        assert!(!e["error_description"].as_str().unwrap_or("").contains(['\r', '\n', '\t']), "{e}");
    }
    let long_state = "s".repeat(2001);
    let mut pairs = ok.clone();
    pairs.retain(|(k, _)| *k != "state");
    pairs.push(("state", &long_state));
    expect_error(&push(&p, Some(&auth), &pairs), 400, "invalid_request");
    // Hostile bodies: JSON, non-UTF-8, a repeated parameter, GET.
    let json_body = send(&p, req("POST", "/oauth/par", &[("content-type", "application/json"), ("authorization", &auth)], json!({"response_type": "code"}).to_string()));
    expect_error(&json_body, 415, "invalid_request");
    let raw = send(&p, req("POST", "/oauth/par", &[("content-type", "application/x-www-form-urlencoded"), ("authorization", &auth)], b"scope=%FF%FE&response_type=code".to_vec()));
    expect_error(&raw, 400, "invalid_request");
    let twice = format!("{}&scope=openid", form(&ok));
    expect_error(&send(&p, req("POST", "/oauth/par", &[("content-type", "application/x-www-form-urlencoded"), ("authorization", &auth)], twice)), 400, "invalid_request");
    assert_eq!(send(&p, req("GET", "/oauth/par", &[], "")).status, 405);
}

#[test]
fn forged_and_foreign_request_uris_are_refused_without_a_code() {
    let p = platform();
    let rp = app(&p, json!({}));
    let mut b = signed_in(&p, "ann@example.com");
    // Well-formed but never issued: the used-up page.
    let forged = format!("{PREFIX}{}", "A".repeat(43));
    used_up_page(&b.get(&p, &authorize_url(&rp.0, &forged, &[])));
    // Not ours (a URL, another shape): request_uri_not_supported, back to the registered URI.
    for other in ["https://rp.example/request.jwt", &format!("{PREFIX}short"), &format!("{PREFIX}{}%00", "A".repeat(43))] {
        let r = b.get(&p, &authorize_url(&rp.0, other, &[("redirect_uri", CB), ("response_type", "code")]));
        assert_eq!(r.status, 302, "{other}: {}", text(&r));
        let loc = r.get_header("location").unwrap();
        assert!(loc.starts_with(CB), "{loc}");
        assert!(query_param(loc, "code").is_none());
        assert_eq!(query_param(loc, "error").as_deref(), Some("request_uri_not_supported"), "{loc}");
    }
    // No client_id beside it: a page.
    let uri = pushed(&p, &rp, &[]);
    let r = b.get(&p, &format!("/oauth/authorize?{}", form(&[("request_uri", &uri)])));
    assert_eq!(r.status, 400, "{}", text(&r));
    assert!(r.get_header("location").is_none());
    // ...and the request is still usable by its client.
    let page = b.get(&p, &authorize_url(&rp.0, &uri, &[]));
    code_of(&allow(&p, &mut b, &rp.0, &uri, &page));
}

#[test]
fn apps_and_deployments_can_require_pushed_requests() {
    let p = platform();
    let strict = app(&p, json!({"require_pushed_authorization_requests": true}));
    let shown = expect_json(&admin(&p, "GET", &format!("/admin/apps/{}", strict.0), None), 200);
    assert_eq!(shown["require_pushed_authorization_requests"], true, "{shown}");
    let mut b = signed_in(&p, "ann@example.com");
    let direct: Vec<(&str, &str)> = request(&strict.0);
    let r = b.get(&p, &format!("/oauth/authorize?{}", form(&direct)));
    assert_eq!(r.status, 302, "{}", text(&r));
    let loc = r.get_header("location").unwrap();
    assert_eq!(query_param(loc, "error").as_deref(), Some("invalid_request"), "{loc}");
    assert!(query_param(loc, "code").is_none());
    // Pushed, it works.
    let uri = pushed(&p, &strict, &[]);
    let page = b.get(&p, &authorize_url(&strict.0, &uri, &[]));
    code_of(&allow(&p, &mut b, &strict.0, &uri, &page));
    // An app registered through RFC 7591 can ask for it too, and reads it back.
    let reg = expect_json(&register(&p, Some("admin-secret"), &json!({"redirect_uris": [CB], "require_pushed_authorization_requests": true})), 201);
    assert_eq!(reg["require_pushed_authorization_requests"], true, "{reg}");
    let bad = register(&p, Some("admin-secret"), &json!({"redirect_uris": [CB], "require_pushed_authorization_requests": "yes"}));
    assert_eq!(bad.status, 400, "{}", text(&bad));

    // The metadata says where and whether.
    let m = expect_json(&send(&p, req("GET", "/.well-known/oauth-authorization-server", &[], "")), 200);
    assert_eq!(m["pushed_authorization_request_endpoint"], format!("{ORIGIN}/oauth/par"));
    assert_eq!(m["require_pushed_authorization_requests"], false);
    let mut cfg = Config::default();
    cfg.admin_token = Some(crate::config::Secret("admin-secret".into()));
    cfg.require_par = true;
    let p = platform_with(cfg);
    let m = expect_json(&send(&p, req("GET", "/.well-known/openid-configuration", &[], "")), 200);
    assert_eq!(m["require_pushed_authorization_requests"], true);
    let rp = app(&p, json!({}));
    let mut b = signed_in(&p, "ann@example.com");
    let r = b.get(&p, &format!("/oauth/authorize?{}", form(&request(&rp.0))));
    assert_eq!(query_param(r.get_header("location").unwrap(), "error").as_deref(), Some("invalid_request"));
    let uri = pushed(&p, &rp, &[]);
    let page = b.get(&p, &authorize_url(&rp.0, &uri, &[]));
    code_of(&allow(&p, &mut b, &rp.0, &uri, &page));
}

#[test]
fn tabs_of_one_request_each_read_it_and_only_one_gets_a_code() {
    let p = platform();
    let rp = app(&p, json!({}));
    let uri = pushed(&p, &rp, &[("prompt", "consent")]);
    let mut b = signed_in(&p, "ann@example.com");
    let pages: Vec<Response> = (0..4).map(|_| b.get(&p, &authorize_url(&rp.0, &uri, &[]))).collect();
    for page in &pages {
        assert_eq!(page.status, 200, "{}", text(page));
    }
    let results: Vec<Response> = pages.iter().map(|page| allow(&p, &mut b, &rp.0, &uri, page)).collect();
    assert_eq!(results.iter().filter(|r| r.status == 302).count(), 1);
    for r in &results[1..] {
        used_up_page(r);
    }
}

#[test]
fn apps_with_less_privilege_cannot_push() {
    let p = platform();
    // An app without the code flow: refused in JSON, nothing stored.
    let machine = credentials(&create_app(&p, json!({"name": "M", "trusted": true, "grant_types": ["client_credentials"], "redirect_uris": [CB], "scopes": ["public"]})));
    let r = push(&p, Some(&basic(&machine.0, &machine.1)), &request(&machine.0));
    assert!(r.get_header("location").is_none());
    expect_error(&r, 400, "unauthorized_client");
    // A disabled app: its client authentication fails.
    let rp = app(&p, json!({}));
    expect_json(&admin(&p, "PATCH", &format!("/admin/apps/{}", rp.0), Some(&json!({"status": "disabled"}))), 200);
    expect_error(&push(&p, Some(&basic(&rp.0, &rp.1)), &request(&rp.0)), 401, "invalid_client");
    // Non-ASCII and oversized values are refused as the authorization endpoint refuses them.
    let other = app(&p, json!({}));
    let long_nonce = "n".repeat(600);
    let mut pairs = request(&other.0);
    pairs.retain(|(k, _)| *k != "nonce");
    pairs.push(("nonce", &long_nonce));
    expect_error(&push(&p, Some(&basic(&other.0, &other.1)), &pairs), 400, "invalid_request");
    let mut pairs = request(&other.0);
    pairs.retain(|(k, _)| *k != "state");
    pairs.push(("state", "é\u{7}"));
    let r = push(&p, Some(&basic(&other.0, &other.1)), &pairs);
    assert_eq!(r.status, 400, "control characters are refused by the one parser: {}", text(&r));
}
