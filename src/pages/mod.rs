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

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}\
label{display:block;margin:.8rem 0 .2rem;font-weight:600}input[type=email],input[type=password],input[type=text],input[type=url]{width:100%;padding:.5rem;box-sizing:border-box;border:1px solid #767676;border-radius:4px}\
button{margin:1rem .5rem 0 0;padding:.5rem 1.2rem;border-radius:4px;border:1px solid #1a1a1a;background:#1a1a1a;color:#fff;cursor:pointer}button.secondary{background:#fff;color:#1a1a1a}\
:focus{outline:3px solid #005fcc;outline-offset:2px}.error{color:#b00020;font-weight:600}.app img{max-width:64px;max-height:64px;float:right}ul.scopes li{margin:.3rem 0}.inline{display:inline}";

/// HTML-escapes text for element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

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

    pub fn field(&self) -> String {
        format!(
            r#"<input type="hidden" name="csrf" value="{}">"#,
            esc(&self.token)
        )
    }
}

/// A complete page with the security headers every page gets.
pub fn page(status: u16, title: &str, body: &str, csrf: Option<&Csrf>) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{} · Portcullis</title><style>{STYLE}</style></head><body><main><h1>{}</h1>{body}</main></body></html>",
        esc(title),
        esc(title)
    );
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

/// An error page for requests that cannot be answered with a redirect.
pub fn error_page(status: u16, title: &str, message: &str) -> Response {
    page(
        status,
        title,
        &format!(r#"<p class="error" role="alert">{}</p>"#, esc(message)),
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
        assert_eq!(esc(r#"<a href="x">'&"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;");
        assert_eq!(safe_return_to(Some("//evil.example")), "/");
        assert_eq!(safe_return_to(Some("/\\evil.example")), "/");
        assert_eq!(safe_return_to(Some("https://evil.example")), "/");
        assert_eq!(
            safe_return_to(Some("/oauth/authorize?x=1")),
            "/oauth/authorize?x=1"
        );
    }
}
