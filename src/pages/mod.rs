//! Server-rendered HTML: small, accessible (labels, natural focus order, no JavaScript), every
//! user-supplied string escaped, every form carrying a CSRF token.

pub mod account;
pub mod app_card;
pub mod apps;
pub mod authorize;
pub mod brand;
pub mod consent;
pub mod console;
pub mod login;
pub mod logout;
pub mod passkeys;
pub mod recovery;
pub mod register;
pub mod select_account;
pub mod upstream;
pub mod two_factor;

use crate::accounts::cookies;
use crate::config::Brand;
use crate::http::{Request, Response};
use crate::platform::random_token;
use crate::platform::Platform;
use crate::util::sha256;
use base64::Engine;
use maud::{html, Markup, PreEscaped};

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}\
label{display:block;margin:.8rem 0 .2rem;font-weight:600}input[type=email],input[type=password],input[type=text],input[type=url]{width:100%;padding:.5rem;box-sizing:border-box;border:1px solid #767676;border-radius:4px}\
button{margin:1rem .5rem 0 0;padding:.5rem 1.2rem;border-radius:4px;border:1px solid #1a1a1a;background:#1a1a1a;color:#fff;cursor:pointer}button.secondary{background:#fff;color:#1a1a1a}\
:focus{outline:3px solid #005fcc;outline-offset:2px}\
header.brand{margin:0 0 1.5rem;padding:0 0 .5rem;border-bottom:3px solid #e0e0e0}header.brand a{display:inline-flex;align-items:center;gap:.6rem;color:inherit;text-decoration:none;font-weight:600}header.brand img{max-height:2.5rem;max-width:10rem}.error{color:#b00020;font-weight:600}.app{overflow:hidden;margin:0 0 1rem;padding:.8rem;border:1px solid #e0e0e0;border-radius:6px}.app p{margin:.2rem 0}.app img{max-width:64px;max-height:64px;float:right}.muted{color:#555;font-size:.95rem}footer.brand{margin:2.5rem 0 1rem;padding:.6rem 0 0;border-top:1px solid #e0e0e0;font-size:.9rem;display:flex;flex-wrap:wrap;gap:1.2rem}ul.scopes li{margin:.3rem 0}.inline{display:inline}pre{white-space:pre-wrap;overflow-wrap:anywhere}ul.rows{padding-left:1.2rem}ul.rows li{margin:.9rem 0;overflow-wrap:anywhere}\
ul.upstreams{list-style:none;padding:0;margin:1.5rem 0 0}ul.upstreams a{display:block;margin:.5rem 0;padding:.5rem 1rem;border:1px solid #1a1a1a;border-radius:4px;color:#1a1a1a;text-decoration:none;text-align:center}";

/// The CSRF token for this page: the browser's existing cookie, or a fresh one to set.
pub struct Csrf {
    pub token: String,
    set_cookie: Option<String>,
}

impl Csrf {
    pub fn for_request(p: &impl Platform, req: &Request) -> crate::error::Result<Csrf> {
        Ok(match cookies::get(req, &cookies::csrf_name(req)) {
            Some(t)
                if t.len() == 43
                    && t.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
            {
                Csrf {
                    token: t.to_owned(),
                    set_cookie: None,
                }
            }
            _ => {
                let token = random_token(p, 32)?;
                let set = cookies::set(req, &cookies::csrf_name(req), &token, 86_400);
                Csrf {
                    token,
                    set_cookie: Some(set),
                }
            }
        })
    }

    pub fn field(&self) -> Markup {
        html! { input type="hidden" name="csrf" value=(self.token); }
    }
}

/// Where a page is rendered: the brand of the tenant it is rendered for. Every platform's is
/// its configuration's ([`Config::brand`](crate::config::Config)); an error rendered before
/// any configuration is loaded (the worker's entry) shows the default brand.
pub trait Branded {
    fn brand(&self) -> &Brand;
}

impl<T: Platform> Branded for T {
    fn brand(&self) -> &Brand {
        &self.config().brand
    }
}

/// The brand of no tenant in particular (the default name, no colour, no logo).
pub fn default_brand() -> &'static Brand {
    static DEFAULT: std::sync::OnceLock<Brand> = std::sync::OnceLock::new();
    DEFAULT.get_or_init(Brand::default)
}

/// `'sha256-…'` of a stylesheet, for the CSP's `style-src`.
pub(crate) fn style_source(css: &str) -> String {
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(sha256(css.as_bytes()))
    )
}

/// A complete page with the security headers every page gets, under the tenant's `brand`:
/// its name in the title and a header above the heading (with its logo), its colour on buttons
/// and links. Every string spliced into a page goes through maud's `html!`, which escapes it;
/// only the stylesheets are inserted raw: `STYLE` (a constant) and the brand's (made from a
/// parsed `#rrggbb`, see [`brand`]), each hashed into the CSP.
pub fn page(brand: &Brand, status: u16, title: &str, body: Markup, csrf: Option<&Csrf>) -> Response {
    let b = brand::shown(brand);
    let html = html! {
        (PreEscaped("<!doctype html>"))
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width,initial-scale=1";
                title {
                    (title)
                    @if title != b.name { " · " (b.name) }
                }
                style { (PreEscaped(STYLE)) }
                @if let Some(css) = &b.style { style { (PreEscaped(css)) } }
            }
            body {
                header class="brand" {
                    a href="/" {
                        @if let Some(logo) = b.logo_url {
                            img src=(logo) alt=(b.name);
                            span aria-hidden="true" { (b.name) }
                        } @else {
                            span { (b.name) }
                        }
                    }
                }
                main { h1 { (title) } (body) }
                @if b.terms_url.is_some() || b.privacy_url.is_some() || b.support_email.is_some() {
                    footer class="brand" {
                        @if let Some(u) = b.terms_url { a href=(u) rel="noopener" id="terms" { "Terms" } }
                        @if let Some(u) = b.privacy_url { a href=(u) rel="noopener" id="privacy" { "Privacy" } }
                        @if let Some(e) = b.support_email { span { "Help: " a href={ "mailto:" (e) } id="support" { (e) } } }
                    }
                }
            }
        }
    }
    .into_string();
    let mut styles = style_source(STYLE);
    if let Some(css) = &b.style {
        styles = format!("{styles} {}", style_source(css));
    }
    // The passkeys script (the pages' only JavaScript) may run, and call back home, only on
    // the pages that include it (see `passkeys::SCRIPT_TAG`).
    let script = if html.contains(passkeys::SCRIPT_TAG) {
        " script-src 'self'; connect-src 'self';"
    } else {
        ""
    };
    let csp = format!(
        "default-src 'none'; style-src {styles};{script} img-src https: data:; frame-ancestors 'none'; base-uri 'none'"
    );
    let mut r = Response::new(status, "text/html; charset=utf-8", html)
        .header("content-security-policy", csp)
        .header("cache-control", "no-store");
    if let Some(set) = csrf.and_then(|c| c.set_cookie.clone()) {
        r = r.header("set-cookie", set);
    }
    r
}

/// An error or notice page (status, title, message) for requests that cannot be answered with
/// a redirect.
pub fn error_page(brand: &Brand, status: u16, title: &str, message: &str) -> Response {
    page(
        brand,
        status,
        title,
        html! { p class="error" role="alert" { (message) } },
        None,
    )
}

/// The log-in page that confirms it is still the person (`rules::recent_login`) and then goes
/// back to `return_to` (a path of this site: made safe by [`safe_return_to`]), the email
/// prefilled.
pub fn reauthenticate_location(s: &crate::objects::session::SessionRecord, return_to: &str) -> String {
    let back = safe_return_to(Some(return_to));
    format!(
        "/login?{}",
        crate::http::params::encode_form(&[("return_to", back.as_str()), ("reauth", "1"), ("login_hint", s.email.as_str())])
    )
}

/// The 303 to [`reauthenticate_location`].
pub fn to_reauthenticate(s: &crate::objects::session::SessionRecord, return_to: &str) -> crate::http::Response {
    crate::http::Response::empty(303)
        .header("location", reauthenticate_location(s, return_to))
        .header("cache-control", "no-store")
}

/// Where to send the browser after log-in: a local path only, never another origin.
pub fn safe_return_to(s: Option<&str>) -> String {
    match s {
        Some(s)
            if s.starts_with('/')
                && !s.starts_with("//")
                && !s.starts_with("/\\")
                && s.len() <= 4000
                && !s.chars().any(|c| c.is_control()) =>
        {
            s.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn branded(name: &str, color: Option<&str>, logo_url: Option<&str>) -> Brand {
        Brand {
            name: name.to_owned(),
            color: color.map(str::to_owned),
            logo_url: logo_url.map(str::to_owned),
            ..Brand::default()
        }
    }

    /// The page's text and its CSP's `style-src` sources.
    fn rendered(r: &Response) -> (String, Vec<String>) {
        let csp = r
            .get_header("content-security-policy")
            .unwrap_or_default()
            .to_owned();
        let sources = csp
            .split(';')
            .find_map(|d| d.trim().strip_prefix("style-src "))
            .unwrap_or_default()
            .split(' ')
            .map(str::to_owned)
            .collect();
        (String::from_utf8(r.body.clone()).unwrap_or_default(), sources)
    }

    /// Every `<style>` block of a page, in order.
    fn style_blocks(body: &str) -> Vec<&str> {
        body.split("<style>")
            .skip(1)
            .filter_map(|rest| rest.split_once("</style>").map(|(css, _)| css))
            .collect()
    }

    /// The CSP lists exactly the hashes of the page's style blocks (sha256, standard base64).
    fn assert_styles_hashed(body: &str, sources: &[String]) {
        use sha2::Digest;
        let hashes: Vec<String> = style_blocks(body)
            .iter()
            .map(|css| {
                let digest = sha2::Sha256::digest(css.as_bytes());
                format!(
                    "'sha256-{}'",
                    base64::engine::general_purpose::STANDARD.encode(digest)
                )
            })
            .collect();
        assert_eq!(hashes, sources, "{body}");
    }

    #[test]
    fn escaping_and_return_to() {
        let r = error_page(default_brand(), 400, "<T>", r#"<a href="x">&"#);
        let body = String::from_utf8(r.body).unwrap_or_default();
        assert!(body.starts_with("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"));
        assert!(body.contains("<title>&lt;T&gt; · Portcullis</title>"));
        assert!(body.contains(&format!("<style>{STYLE}</style>")));
        assert!(body.contains(
            r#"<h1>&lt;T&gt;</h1><p class="error" role="alert">&lt;a href=&quot;x&quot;&gt;&amp;</p>"#
        ));
        assert_eq!(safe_return_to(Some("//evil.example")), "/");
        assert_eq!(safe_return_to(Some("/\\evil.example")), "/");
        assert_eq!(safe_return_to(Some("https://evil.example")), "/");
        assert_eq!(
            safe_return_to(Some("/oauth/authorize?x=1")),
            "/oauth/authorize?x=1"
        );
    }

    /// Issue 15: the brand's name in the title and the header, escaped; no colour or logo unless set.
    #[test]
    fn the_brand_name_is_shown_escaped() {
        let brand = branded("<script>alert(1)</script> & Co", None, None);
        let (body, sources) = rendered(&page(&brand, 200, "Log in", html! {}, None));
        let escaped = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co";
        assert!(
            body.contains(&format!("<title>Log in · {escaped}</title>")),
            "{body}"
        );
        assert!(
            body.contains(&format!(
                r#"<body><header class="brand"><a href="/"><span>{escaped}</span></a></header><main><h1>Log in</h1>"#
            )),
            "{body}"
        );
        assert!(!body.contains("<script>") && !body.contains("<img"), "{body}");
        assert_styles_hashed(&body, &sources);
        assert_eq!(sources.len(), 1);
        // A page titled with the brand's name (the home page) does not repeat it.
        let (body, _) = rendered(&page(&branded("Acme", None, None), 200, "Acme", html! {}, None));
        assert!(body.contains("<title>Acme</title>"), "{body}");
    }

    /// The colour arrives in a second style block whose hash the CSP lists; never as a style
    /// attribute, and never the configured text itself.
    #[test]
    fn the_brand_colour_is_a_hashed_style_block() {
        let brand = branded("Acme", Some("#369"), None);
        let (body, sources) = rendered(&error_page(&brand, 404, "Not found", "No such page."));
        let blocks = style_blocks(&body);
        assert_eq!(blocks.len(), 2, "{body}");
        assert_eq!(blocks[0], STYLE);
        assert!(
            blocks[1].starts_with("button{background:#336699;color:#fff}"),
            "{}",
            blocks[1]
        );
        assert!(blocks[1].contains("a{color:#336699}"), "{}", blocks[1]);
        assert_styles_hashed(&body, &sources);
        assert!(!body.contains(" style="), "{body}");
    }

    #[test]
    fn an_invalid_colour_or_logo_is_not_rendered() {
        for color in [
            "red",
            "#12",
            "#abc;}body{display:none}",
            "#abc</style><script>x</script>",
            "url(x)",
        ] {
            let brand = branded("Acme", Some(color), Some("http://cdn.example/logo.png"));
            let (body, sources) = rendered(&page(&brand, 200, "Log in", html! {}, None));
            assert_eq!(style_blocks(&body), [STYLE], "{color}: {body}");
            assert_styles_hashed(&body, &sources);
            assert!(!body.contains("<img"), "{body}");
            assert!(
                !body.contains("display:none") && !body.contains("<script>"),
                "{body}"
            );
        }
        // An unusable name (blank, control characters) shows as the default.
        let (body, _) = rendered(&page(
            &branded("Ac\u{0}me", None, None),
            200,
            "Log in",
            html! {},
            None,
        ));
        assert!(body.contains("<title>Log in · Portcullis</title>"), "{body}");
    }

    #[test]
    fn the_logo_has_the_brand_name_as_its_alt() {
        let brand = branded(
            "Acme \"Tools\"",
            None,
            Some("https://cdn.example/logo.png?a=1&b=2"),
        );
        let (body, _) = rendered(&page(&brand, 200, "Log in", html! {}, None));
        assert!(
            body.contains(
                r#"<header class="brand"><a href="/"><img src="https://cdn.example/logo.png?a=1&amp;b=2" alt="Acme &quot;Tools&quot;"><span aria-hidden="true">Acme &quot;Tools&quot;</span></a></header>"#
            ),
            "{body}"
        );
    }
}
