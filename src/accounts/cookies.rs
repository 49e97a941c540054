//! Cookies: the session cookie and the CSRF double-submit cookie. `__Host-` names and `Secure`
//! wherever the issuer is HTTPS; plain names on loopback http in development.

use crate::http::Request;
use crate::util::ct_eq;

fn secure(req: &Request) -> bool {
    req.origin.starts_with("https://")
}

pub fn session_name(req: &Request) -> String {
    if secure(req) {
        "__Host-portcullis_session"
    } else {
        "portcullis_session"
    }
    .to_owned()
}

pub fn csrf_name(req: &Request) -> String {
    if secure(req) {
        "__Host-portcullis_csrf"
    } else {
        "portcullis_csrf"
    }
    .to_owned()
}

pub fn get<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers
        .iter()
        .filter(|(k, _)| k == "cookie")
        .flat_map(|(_, v)| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// `Set-Cookie` value; `max_age` 0 deletes.
pub fn set(req: &Request, name: &str, value: &str, max_age: u64) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}");
    if secure(req) {
        c.push_str("; Secure");
    }
    c
}

/// Double-submit check: the form's `csrf` field equals the CSRF cookie, and a cross-site
/// `Origin`, when the browser sends one, is refused.
pub fn csrf_ok(req: &Request, form_value: Option<&str>) -> bool {
    // Pages send `Referrer-Policy: no-referrer`, under which browsers send `Origin: null` on
    // same-origin form posts: "null" proves nothing either way, so the token decides.
    if let Some(origin) = req.header("origin").filter(|o| *o != "null") {
        if origin != req.origin {
            return false;
        }
    }
    if req.header("sec-fetch-site") == Some("cross-site") {
        return false;
    }
    match (get(req, &csrf_name(req)), form_value) {
        (Some(c), Some(f)) if c.len() >= 20 => ct_eq(c.as_bytes(), f.as_bytes()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(cookie: &str, origin: Option<&str>) -> Request {
        let mut headers = vec![("cookie".to_owned(), cookie.to_owned())];
        if let Some(o) = origin {
            headers.push(("origin".into(), o.into()));
        }
        Request {
            headers,
            origin: "https://as.example".into(),
            ..Default::default()
        }
    }

    #[test]
    fn csrf_double_submit() {
        let t = "abcdefghijklmnopqrstuvwxyz";
        let r = req(&format!("a=b; __Host-portcullis_csrf={t}"), None);
        assert!(csrf_ok(&r, Some(t)));
        assert!(!csrf_ok(&r, Some("abcdefghijklmnopqrstuvwxyZ")));
        assert!(!csrf_ok(&r, None));
        let cross = req(
            &format!("__Host-portcullis_csrf={t}"),
            Some("https://evil.example"),
        );
        assert!(!csrf_ok(&cross, Some(t)));
        let null = req(&format!("__Host-portcullis_csrf={t}"), Some("null"));
        assert!(csrf_ok(&null, Some(t)));
        assert!(!csrf_ok(&null, Some("abcdefghijklmnopqrstuvwxyZ")));
        assert!(set(&r, "__Host-x", "v", 10).contains("; Secure"));
    }
}
