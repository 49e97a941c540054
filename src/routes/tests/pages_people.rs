//! Pages a person trusts (issue 18): the log-in and consent pages name and show the app asking
//! and where the person will be sent, "Not you?" switches account, the brand's terms, privacy
//! and support links are on every page; and the registration page as VoipNow describes it —
//! the app's details, the credentials fields (or the session), Register, Deny without a
//! log-in, and Grant access, on one page.

use super::support::*;
use crate::config::{Brand, Config, Secret};
use crate::platform::memory::MemPlatform;
use serde_json::json;

const CB: &str = "https://rp.example/cb";

fn app(p: &MemPlatform) -> String {
    let body = json!({
        "name": "Photo <Printer>", "redirect_uris": [CB], "scopes": ["public"],
        "homepage": "https://printer.example/about", "image_uri": "https://printer.example/logo.png",
    });
    credentials(&create_app(p, body)).0
}

fn authz(client_id: &str) -> String {
    format!(
        "/oauth/authorize?{}",
        form(&[("response_type", "code"), ("client_id", client_id), ("redirect_uri", CB), ("scope", "public"), ("state", "s1")])
    )
}

#[test]
fn the_log_in_page_names_the_app_and_where_the_person_goes() {
    let p = platform();
    let id = app(&p);
    let mut b = Browser::default();
    let r = b.get(&p, &authz(&id));
    assert_eq!(r.status, 303);
    let login = r.get_header("location").unwrap().to_owned();
    let page = text(&b.get(&p, &login));
    assert!(page.contains("Log in to continue to <strong id=\"app-name\">Photo &lt;Printer&gt;</strong>"), "{page}");
    assert!(page.contains(r#"<img src="https://printer.example/logo.png" alt="">"#), "{page}");
    assert!(page.contains(">printer.example</a>"), "{page}");
    assert!(page.contains("sent to <strong>rp.example</strong>"), "{page}");
    // An unregistered redirect URI is never named; an unknown client shows no card.
    let evil = authz(&id).replace("rp.example", "evil.example");
    let page = text(&b.get(&p, &format!("/login?{}", form(&[("return_to", &evil)]))));
    let card = page.split("id=\"app-card\"").nth(1).unwrap().split("</div>").next().unwrap();
    assert!(card.contains("app-name") && !card.contains("evil.example") && !card.contains("destination"), "{card}");
    let page = text(&b.get(&p, &format!("/login?{}", form(&[("return_to", &authz("nope"))]))));
    assert!(!page.contains("app-card"), "{page}");
    // Hostile return_to values: no card, no crash.
    for rt in ["/oauth/authorize?client_id=%FF", "/oauth/authorize?client_id=a&client_id=b", "/oauth/authorize", "https://evil.example/oauth/authorize?client_id=x"] {
        let r = b.get(&p, &format!("/login?{}", form(&[("return_to", rt)])));
        assert_eq!(r.status, 200, "{rt}");
        assert!(!text(&r).contains("app-card"), "{rt}");
    }
}

#[test]
fn the_consent_page_shows_the_destination_and_not_you() {
    let p = platform();
    let id = app(&p);
    let mut b = signed_in(&p, "consent-page@example.com");
    let r = b.get(&p, &authz(&id));
    assert_eq!(r.status, 200, "{}", text(&r));
    let page = text(&r);
    assert!(page.contains("Photo &lt;Printer&gt;") && page.contains("sent to <strong>rp.example</strong>"), "{page}");
    let not_you = page.split("id=\"not-you\"").next().unwrap().rsplit("href=\"").next().unwrap().to_owned();
    assert!(not_you.starts_with("/login?return_to=%2Foauth%2Fauthorize%3F"), "{not_you}");
    // The switch leads to the log-in page, whose new session comes back to this request.
    let back = query_param(&not_you.replace("&amp;", "&"), "return_to").unwrap();
    assert!(back.contains(&format!("client_id={id}")), "{back}");
}

#[test]
fn every_page_carries_the_brands_terms_privacy_and_support() {
    let mut cfg = Config::default();
    cfg.admin_token = Some(Secret("admin-secret".into()));
    cfg.brand = Brand {
        name: "Acme".into(),
        terms_url: Some("https://acme.example/terms".into()),
        privacy_url: Some("https://acme.example/privacy".into()),
        support_email: Some("help@acme.example".into()),
        ..Brand::default()
    };
    let p = platform_with(cfg);
    for target in ["/", "/login", "/signup", "/oauth/authorize", "/oauth/register?name=x"] {
        let t = text(&send(&p, req("GET", target, &[], "")));
        assert!(t.contains(r#"<a href="https://acme.example/terms" rel="noopener" id="terms">Terms</a>"#), "{target}: {t}");
        assert!(t.contains(r#"href="https://acme.example/privacy""#), "{target}");
        assert!(t.contains(r#"<a href="mailto:help@acme.example" id="support">help@acme.example</a>"#), "{target}");
    }
    // Values that fail the brand rules are left out; no footer when nothing is left.
    let mut cfg = Config::default();
    cfg.brand.terms_url = Some("javascript:alert(1)".into());
    cfg.brand.support_email = Some("x\"@y".into());
    let t = text(&send(&platform_with(cfg), req("GET", "/login", &[], "")));
    assert!(!t.contains("<footer") && !t.contains("javascript:"), "{t}");
}

#[test]
fn an_organisations_brand_links_are_checked_and_shown() {
    let mut cfg = Config::default();
    cfg.admin_token = Some(Secret("admin-secret".into()));
    cfg.org_domain = Some("localhost".into());
    let p = platform_with(cfg);
    let at = super::tenancy::PLATFORM;
    let bad = json!({"label": "acme", "name": "Acme", "brand": {"terms_url": "http://acme.example/t"}});
    let r = send_at(&p, at, json_req("POST", "/admin/orgs", Some("admin-secret"), &bad));
    expect_error(&r, 400, "invalid_request");
    let good = json!({"label": "acme", "name": "Acme", "brand": {"terms_url": "https://acme.example/t", "support_email": "help@acme.example"}});
    let r = send_at(&p, at, json_req("POST", "/admin/orgs", Some("admin-secret"), &good));
    assert_eq!(r.status, 201, "{}", text(&r));
    let t = text(&send_at(&p, "http://acme.localhost:8787", req("GET", "/login", &[], "")));
    assert!(t.contains("https://acme.example/t") && t.contains("mailto:help@acme.example"), "{t}");
}

fn registration(extra: &[(&str, &str)]) -> String {
    let mut pairs = vec![
        ("name", "Printer"),
        ("homepage", "https://printer.example"),
        ("email", "dev@printer.example"),
        ("redirect_uri", "https://printer.example/cb"),
        ("state", "xyz"),
    ];
    pairs.extend_from_slice(extra);
    form(&pairs)
}

/// The registration page's form fields (hidden and shown) with `extra` and the decision.
fn confirm(b: &mut Browser, p: &MemPlatform, page: &crate::http::Response, extra: &[(&str, &str)]) -> crate::http::Response {
    let body = format!("{}&{}", registration(&[]), form(&[&[("csrf", csrf_of(page).as_str())][..], extra].concat()));
    b.post(p, "/oauth/register/confirm", &body)
}

#[test]
fn the_registration_page_has_everything_on_one_page_and_deny_needs_no_log_in() {
    let p = platform();
    let mut b = Browser::default();
    let page = b.get(&p, &format!("/oauth/register?{}", registration(&[])));
    assert_eq!(page.status, 200);
    let t = text(&page);
    for part in ["id=\"login_email\"", "id=\"login_password\"", "id=\"grant_access\"", "id=\"register\"", "id=\"deny\"", "/signup?return_to=%2Foauth%2Fregister%3F"] {
        assert!(t.contains(part), "{part}: {t}");
    }
    // Deny, signed out: back to the developer with access_denied and the state.
    let r = confirm(&mut b, &p, &page, &[("decision", "deny")]);
    assert_eq!(r.status, 303, "{}", text(&r));
    let loc = r.get_header("location").unwrap();
    assert!(loc.starts_with("https://printer.example/cb?"), "{loc}");
    assert_eq!(query_param(loc, "error").as_deref(), Some("access_denied"));
    assert_eq!(query_param(loc, "state").as_deref(), Some("xyz"));
    assert!(query_param(loc, "client_id").is_none());
}

#[test]
fn registering_with_the_pages_credentials_logs_in_and_grants_access() {
    let p = platform();
    drop(signed_in(&p, "registrar@example.com"));
    let mut b = Browser::default();
    let page = b.get(&p, &format!("/oauth/register?{}", registration(&[])));
    // Wrong password: the page again, with the email kept and nothing registered.
    let r = confirm(&mut b, &p, &page, &[("decision", "register"), ("login_email", "registrar@example.com"), ("login_password", "wrong-password-1")]);
    assert_eq!(r.status, 401);
    let t = text(&r);
    assert!(t.contains("The email or password is wrong.") && t.contains("value=\"registrar@example.com\""), "{t}");
    assert!(!t.contains("wrong-password-1"));
    // No credentials at all: asked to log in or sign up.
    let r = confirm(&mut b, &p, &page, &[("decision", "register")]);
    assert_eq!(r.status, 401);
    // The right ones, with Grant access: credentials and a code, and the browser is signed in.
    let r = confirm(&mut b, &p, &page, &[("decision", "register"), ("grant_access", "yes"), ("login_email", "registrar@example.com"), ("login_password", "plum-kettle-42")]);
    assert_eq!(r.status, 303, "{}", text(&r));
    let loc = r.get_header("location").unwrap().to_owned();
    assert!(query_param(&loc, "client_id").is_some() && query_param(&loc, "client_secret").is_some(), "{loc}");
    assert!(query_param(&loc, "code").is_some(), "{loc}");
    assert_eq!(query_param(&loc, "state").as_deref(), Some("xyz"));
    assert!(!loc.contains("login_password") && !loc.contains("plum-kettle-42"), "{loc}");
    let again = text(&b.get(&p, &format!("/oauth/register?{}", registration(&[]))));
    assert!(again.contains("id=\"signed-in\"") && again.contains("registrar@example.com") && !again.contains("login_password"), "{again}");
}

#[test]
fn the_registration_pages_log_in_is_under_the_log_in_limits() {
    let mut cfg = Config::default();
    cfg.login_limit_account = 2;
    let p = platform_with(cfg);
    drop(signed_in(&p, "limited@example.com"));
    let mut b = Browser::default();
    let page = b.get(&p, &format!("/oauth/register?{}", registration(&[])));
    let wrong = [("decision", "register"), ("login_email", "limited@example.com"), ("login_password", "wrong-password-1")];
    let statuses: Vec<u16> = (0..3).map(|_| confirm(&mut b, &p, &page, &wrong).status).collect();
    assert_eq!(statuses, [401, 401, 429]);
}
