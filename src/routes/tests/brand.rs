//! Issue 15: every page is in its tenant's brand (its name in the title and a header, its logo,
//! its colour in a stylesheet the CSP lists by hash), error pages too; a value that fails the
//! brand rules is left out.

use super::support::*;
use super::tenancy::{create_org, send_at, PLATFORM};
use crate::config::{Brand, Config, Secret};
use crate::http::Response;
use crate::platform::memory::MemPlatform;

fn branded(name: &str, color: Option<&str>, logo_url: Option<&str>) -> MemPlatform {
    let mut cfg = Config::default();
    cfg.admin_token = Some(Secret("admin-secret".into()));
    cfg.brand = Brand {
        name: name.into(),
        color: color.map(str::to_owned),
        logo_url: logo_url.map(str::to_owned),
        ..Brand::default()
    };
    platform_with(cfg)
}

fn get(p: &MemPlatform, target: &str) -> Response {
    send(p, req("GET", target, &[], ""))
}

fn title(r: &Response) -> String {
    let t = text(r);
    t.split_once("<title>")
        .and_then(|(_, rest)| rest.split_once("</title>"))
        .map(|(title, _)| title.to_owned())
        .unwrap_or_default()
}

fn header(r: &Response) -> String {
    let t = text(r);
    t.split_once("<header class=\"brand\">")
        .and_then(|(_, rest)| rest.split_once("</header>"))
        .map(|(h, _)| h.to_owned())
        .unwrap_or_default()
}

/// The page's `<style>` blocks, checked against its CSP: `style-src` lists exactly their
/// SHA-256 hashes (computed here with `sha2`), and no element has a style attribute.
fn styles(r: &Response) -> Vec<String> {
    use base64::Engine;
    use sha2::Digest;
    let body = text(r);
    let blocks: Vec<String> = body
        .split("<style>")
        .skip(1)
        .filter_map(|rest| rest.split_once("</style>").map(|(css, _)| css.to_owned()))
        .collect();
    let csp = r.get_header("content-security-policy").unwrap_or_default();
    let listed: Vec<&str> = csp
        .split(';')
        .find_map(|d| d.trim().strip_prefix("style-src "))
        .unwrap_or_default()
        .split(' ')
        .collect();
    let hashes: Vec<String> = blocks
        .iter()
        .map(|css| {
            let h = sha2::Sha256::digest(css.as_bytes());
            format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(h))
        })
        .collect();
    assert_eq!(hashes, listed, "{csp}");
    assert!(csp.contains("img-src https: data:"), "{csp}");
    assert!(!body.contains(" style="), "{body}");
    blocks
}

#[test]
fn every_page_and_error_page_shows_the_brand() {
    let p = branded(
        "Acme <Sign-in> & Co",
        Some("#0A7"),
        Some("https://cdn.acme.example/logo.svg"),
    );
    let name = "Acme &lt;Sign-in&gt; &amp; Co";
    let logo = format!(
        r#"<a href="/"><img src="https://cdn.acme.example/logo.svg" alt="{name}"><span aria-hidden="true">{name}</span></a>"#
    );
    let pages = [
        ("/login", "Log in"),
        ("/signup", "Sign up"),
        (
            "/oauth/register?redirect_uri=https%3A%2F%2Fx.example%2Fcb",
            "Registration problems",
        ),
        // An error page, rendered by routes::render.
        ("/oauth/authorize?response_type=code", "Cannot continue"),
    ];
    for (target, heading) in pages {
        let r = get(&p, target);
        assert_eq!(title(&r), format!("{heading} · {name}"), "{target}: {}", text(&r));
        assert_eq!(header(&r), logo, "{target}");
        assert!(!text(&r).contains("<Sign-in>"), "{target}");
        let css = styles(&r);
        assert_eq!(css.len(), 2, "{target}");
        assert!(
            css[1].starts_with("button{background:#00aa77;"),
            "{target}: {}",
            css[1]
        );
    }
    // The home page is titled with the name alone.
    let home = get(&p, "/");
    assert_eq!(title(&home), name);
    assert!(text(&home).contains(&format!("<h1>{name}</h1>")));
}

#[test]
fn an_invalid_colour_or_logo_in_the_configuration_is_left_out() {
    let p = branded(
        "Acme",
        Some("#0a7;}body{display:none"),
        Some("javascript:alert(1)"),
    );
    for target in ["/login", "/oauth/authorize"] {
        let r = get(&p, target);
        assert!(title(&r).ends_with(" · Acme"), "{target}");
        assert_eq!(header(&r), r#"<a href="/"><span>Acme</span></a>"#, "{target}");
        assert_eq!(styles(&r).len(), 1, "{target}");
        assert!(!text(&r).contains("display:none") && !text(&r).contains("javascript:"));
    }
    // A name that fails the rules shows as the default name.
    let r = get(&branded("\u{202e}emcA", None, None), "/login");
    assert_eq!(title(&r), "Log in · Portcullis");
}

/// Pages are per tenant: an organisation's show its brand (by default its name), the
/// platform's show the deployment's, and a host of no organisation gets the deployment's.
#[test]
fn each_tenant_has_its_own_brand() {
    let mut cfg = Config::default();
    cfg.admin_token = Some(Secret("admin-secret".into()));
    cfg.org_domain = Some("localhost".into());
    cfg.brand.name = "Platform".into();
    let p = platform_with(cfg);
    assert_eq!(create_org(&p, "acme").status, 201);
    let at = |origin: &str, target: &str| send_at(&p, origin, req("GET", target, &[], ""));
    assert_eq!(
        title(&at("http://acme.localhost:8787", "/login")),
        "Log in · acme Ltd"
    );
    assert_eq!(
        title(&at("http://acme.localhost:8787", "/oauth/authorize")),
        "Cannot continue · acme Ltd"
    );
    assert_eq!(title(&at(PLATFORM, "/login")), "Log in · Platform");
    let none = at("http://nope.localhost:8787", "/");
    assert_eq!(none.status, 404);
    assert!(title(&none).ends_with(" · Platform"), "{}", text(&none));
}
