//! Server-rendered HTML: small, accessible (labels, natural focus order, no JavaScript), every
//! user-supplied string escaped, every form carrying a CSRF token.

pub mod apps;
pub mod authorize;
pub mod consent;
pub mod login;
pub mod register;

use crate::accounts::cookies;
use crate::http::{Request, Response};
use crate::platform::random_token;
use crate::platform::Platform;
use crate::util::{b64url, sha256};
use maud::{html, Markup, PreEscaped};

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}\
label{display:block;margin:.8rem 0 .2rem;font-weight:600}input[type=email],input[type=password],input[type=text],input[type=url]{width:100%;padding:.5rem;box-sizing:border-box;border:1px solid #767676;border-radius:4px}\
button{margin:1rem .5rem 0 0;padding:.5rem 1.2rem;border-radius:4px;border:1px solid #1a1a1a;background:#1a1a1a;color:#fff;cursor:pointer}button.secondary{background:#fff;color:#1a1a1a}\
:focus{outline:3px solid #005fcc;outline-offset:2px}.error{color:#b00020;font-weight:600}.app img{max-width:64px;max-height:64px;float:right}ul.scopes li{margin:.3rem 0}.inline{display:inline}";

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

/// A complete page with the security headers every page gets. Every string spliced into a
/// page goes through maud's `html!`, which escapes it; only `STYLE` (a constant, hashed into
/// the CSP) is inserted raw.
pub fn page(status: u16, title: &str, body: Markup, csrf: Option<&Csrf>) -> Response {
    let html = html! {
        (PreEscaped("<!doctype html>"))
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width,initial-scale=1";
                title { (title) " · Portcullis" }
                style { (PreEscaped(STYLE)) }
            }
            body { main { h1 { (title) } (body) } }
        }
    }
    .into_string();
    let style_hash = b64url(&sha256(STYLE.as_bytes()));
    let style_hash = style_hash.replace('-', "+").replace('_', "/");
    let pad = "=".repeat((4 - style_hash.len() % 4) % 4);
    let csp = format!(
        "default-src 'none'; style-src 'sha256-{style_hash}{pad}'; img-src https: data:; frame-ancestors 'none'; base-uri 'none'"
    );
    let mut r = Response::new(status, "text/html; charset=utf-8", html)
        .header("content-security-policy", csp)
        .header("cache-control", "no-store");
    if let Some(set) = csrf.and_then(|c| c.set_cookie.clone()) {
        r = r.header("set-cookie", set);
    }
    r
}

/// An error or notice page (status, title, message) for requests that cannot be answered with a redirect.
pub fn error_page(status: u16, title: &str, message: &str) -> Response {
    page(
        status,
        title,
        html! { p class="error" role="alert" { (message) } },
        None,
    )
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

    #[test]
    fn escaping_and_return_to() {
        let r = error_page(400, "<T>", r#"<a href="x">&"#);
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
}
