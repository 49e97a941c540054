//! Browser-like helpers for the end-to-end tests of people, consent and registration
//! (`tests/code_flow.rs`, `tests/registration.rs`, `tests/hardening.rs`), on top of the shared
//! harness in `tests/common`. Included by those files with `#[path = "browser/mod.rs"] mod browser;`
//! (the headless-Chromium suite in this folder is separate: `tests/browser/run.sh`).
//!
//! [`Browser`] is a cookie jar over its own `ureq` agent with redirects off: it GETs a page,
//! reads the hidden `csrf` input and POSTs the form with the same cookies and an `Origin`
//! header, as a browser without JavaScript does. Nothing here uses the server's own code.

#![allow(dead_code)]

use crate::common::*;
use std::sync::Mutex;
use std::time::Duration;

pub const SESSION_COOKIE: &str = "portcullis_session";
pub const CSRF_COOKIE: &str = "portcullis_csrf";

/// A server for one test binary with the per-address limits out of the way: every request
/// here comes from 127.0.0.1, so the per-address log-in and registration limits would
/// otherwise be shared by every test of the binary. Per-account limits keep their defaults.
pub fn roomy_vars() -> Vec<(&'static str, &'static str)> {
    vec![
        ("LOGIN_LIMIT_ADDRESS", "1000000"),
        ("REGISTRATION_RATE_LIMIT", "1000000"),
    ]
}

/// Failed attempts are counted in fixed 60 s windows: a test that needs N failures in one
/// window starts early enough in a window.
pub fn at_start_of_a_window(needed: Duration) {
    let into = (now() % 60) as u64;
    if into + needed.as_secs() + 5 >= 60 {
        std::thread::sleep(Duration::from_secs(60 - into + 1));
    }
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .allow_non_standard_methods(true)
        .timeout_global(Some(Duration::from_secs(60)))
        .max_idle_connections_per_host(8)
        .build()
        .into()
}

/// One HTTP exchange with any headers and body; transport errors are returned, not panics
/// (for load that runs while the server is killed).
pub fn try_send(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Result<Resp, String> {
    let what = format!("{method} {}", url.split('?').next().unwrap_or(url));
    let r = Req {
        headers,
        body,
        chunked: false,
    };
    exchange(agent, what, method, url, r)
}

// ---------------------------------------------------------------------------------------------
// HTML and URLs
// ---------------------------------------------------------------------------------------------

pub fn html_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The value of the page's hidden `csrf` input.
#[track_caller]
pub fn csrf_of(r: &Resp) -> String {
    let html = r.text();
    let marker = r#"name="csrf" value=""#;
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("{}: no csrf field in the page:\n{html}", r.what))
        + marker.len();
    html_unescape(html[at..].split('"').next().unwrap())
}

/// The `(action, hidden inputs)` of every `<form>` in a page, in order.
pub fn forms(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    let attr = |tag: &str, name: &str| -> Option<String> {
        let marker = format!(" {name}=\"");
        let at = tag.find(&marker)? + marker.len();
        Some(html_unescape(tag[at..].split('"').next()?))
    };
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<form") {
        let after = &rest[start..];
        let end = after.find("</form>").unwrap_or(after.len());
        let form = &after[..end];
        let open = &form[..form.find('>').unwrap_or(form.len())];
        let action = attr(open, "action").unwrap_or_default();
        let mut fields = Vec::new();
        let mut inner = form;
        while let Some(i) = inner.find("<input") {
            let tag_end = inner[i..].find('>').map(|e| i + e).unwrap_or(inner.len());
            let tag = &inner[i..tag_end];
            if attr(tag, "type").as_deref() == Some("hidden") {
                if let Some(name) = attr(tag, "name") {
                    fields.push((name, attr(tag, "value").unwrap_or_default()));
                }
            }
            inner = &inner[tag_end..];
        }
        out.push((action, fields));
        rest = &after[end..];
    }
    out
}

/// The hidden inputs of the page's form whose action is `action`.
#[track_caller]
pub fn form_fields(r: &Resp, action: &str) -> Vec<(String, String)> {
    forms(&r.text())
        .into_iter()
        .find(|(a, _)| a == action)
        .unwrap_or_else(|| panic!("{}: no form posting to {action}:\n{}", r.what, r.text()))
        .1
}

/// Decodes one `application/x-www-form-urlencoded` component (`+` is a space).
pub fn pct_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() && s.is_char_boundary(i + 3) => {
                match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Every query parameter of a URL, decoded, in order (duplicates kept).
pub fn query_pairs(url: &str) -> Vec<(String, String)> {
    let Some((_, q)) = url.split_once('?') else {
        return Vec::new();
    };
    let q = q.split('#').next().unwrap_or("");
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (pct_decode(k), pct_decode(v))
        })
        .collect()
}

pub fn query_param(url: &str, name: &str) -> Option<String> {
    query_pairs(url)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// A PKCE pair: a 43-character verifier of 32 random bytes and its S256 challenge.
pub fn pkce() -> (String, String) {
    use sha2::Digest;
    let verifier = b64url(rand_hex(32).as_bytes())[..64].to_owned();
    let challenge = b64url(&sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

pub fn authorize_path(pairs: &[(&str, &str)]) -> String {
    format!("/oauth/authorize?{}", form(pairs))
}

/// Asserts the headers every HTML page must carry.
#[track_caller]
pub fn assert_page_headers(r: &Resp) {
    let ct = r.header("content-type").unwrap_or("");
    assert!(ct.starts_with("text/html"), "{}: not HTML: {ct}", r.what);
    let csp = r
        .header("content-security-policy")
        .unwrap_or_else(|| panic!("{}: no Content-Security-Policy", r.what));
    assert!(
        csp.contains("frame-ancestors 'none'"),
        "{}: CSP without frame-ancestors 'none': {csp}",
        r.what
    );
    assert_eq!(r.header("x-frame-options"), Some("DENY"), "{}", r.what);
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"), "{}", r.what);
}

// ---------------------------------------------------------------------------------------------
// People and the browser
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
pub struct Person {
    pub email: String,
    pub password: String,
    pub name: String,
}

impl Person {
    pub fn new(tag: &str) -> Person {
        Person {
            email: format!("{tag}-{}@people.example", rand_hex(5)),
            password: format!("pw-{}", rand_hex(8)),
            name: format!("Person {tag}"),
        }
    }
}

/// A browser without JavaScript: a cookie jar, no redirects followed, `Origin` on POST.
pub struct Browser {
    pub base: String,
    agent: ureq::Agent,
    cookies: Mutex<Vec<(String, String)>>,
}

impl Browser {
    pub fn new(s: &Server) -> Browser {
        Browser {
            base: s.base.clone(),
            agent: agent(),
            cookies: Mutex::new(Vec::new()),
        }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies
            .lock()
            .unwrap()
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        let mut c = self.cookies.lock().unwrap();
        c.retain(|(k, _)| k != name);
        c.push((name.to_owned(), value.to_owned()));
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn take(&self, r: &Resp) {
        let mut jar = self.cookies.lock().unwrap();
        for (k, v) in &r.headers {
            if k != "set-cookie" {
                continue;
            }
            let mut parts = v.split(';');
            let (name, value) = parts.next().unwrap().split_once('=').unwrap();
            let (name, value) = (name.trim().to_owned(), value.trim().to_owned());
            let gone = parts.any(|a| a.trim().eq_ignore_ascii_case("max-age=0"));
            jar.retain(|(n, _)| *n != name);
            if !gone {
                jar.push((name, value));
            }
        }
    }

    fn url(&self, target: &str) -> String {
        if target.starts_with("http://") || target.starts_with("https://") {
            target.to_owned()
        } else {
            format!("{}{target}", self.base)
        }
    }

    /// One exchange with this browser's cookies (taking the ones it sets); panics on a
    /// transport error and on any 5xx.
    #[track_caller]
    pub fn request(&self, method: &str, target: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Resp {
        let cookie = self.cookie_header();
        let mut h: Vec<(&str, &str)> = headers.to_vec();
        if !cookie.is_empty() {
            h.push(("cookie", &cookie));
        }
        let r = try_send(&self.agent, method, &self.url(target), &h, body).unwrap_or_else(|e| panic!("{e}"));
        assert!(r.status < 500, "{}: server error {} {}", r.what, r.status, r.text());
        self.take(&r);
        r
    }

    #[track_caller]
    pub fn get(&self, target: &str) -> Resp {
        self.request("GET", target, &[], None)
    }

    /// GETs `target`, asserts a 303 and returns its `Location`.
    #[track_caller]
    pub fn redirected(&self, target: &str) -> String {
        let r = self.get(target);
        r.expect(303);
        r.header("location").unwrap().to_owned()
    }

    /// A form POST as a browser sends it (with this site's `Origin`).
    #[track_caller]
    pub fn post<K: AsRef<str>, V: AsRef<str>>(&self, target: &str, pairs: &[(K, V)]) -> Resp {
        let origin = self.base.clone();
        self.post_from(target, pairs, Some(&origin))
    }

    /// A form POST with the given `Origin` header (`None`: no `Origin` at all). Browsers send
    /// `Origin: null` for a form posted from a page with `Referrer-Policy: no-referrer`.
    #[track_caller]
    pub fn post_from<K: AsRef<str>, V: AsRef<str>>(
        &self,
        target: &str,
        pairs: &[(K, V)],
        origin: Option<&str>,
    ) -> Resp {
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref())).collect();
        let body = form(&pairs);
        let mut headers = vec![("content-type", "application/x-www-form-urlencoded")];
        if let Some(o) = origin {
            headers.push(("origin", o));
        }
        self.request("POST", target, &headers, Some(body.as_bytes()))
    }

    /// [`Browser::submit`] with the given `Origin` header.
    #[track_caller]
    pub fn submit_from(
        &self,
        page: &Resp,
        action: &str,
        extra: &[(&str, &str)],
        origin: Option<&str>,
    ) -> Resp {
        let mut fields = form_fields(page, action);
        for (k, v) in extra {
            fields.retain(|(n, _)| n != k);
            fields.push((k.to_string(), v.to_string()));
        }
        self.post_from(action, &fields, origin)
    }

    /// Submits the page's form posting to `action`: its hidden fields plus `extra`.
    #[track_caller]
    pub fn submit(&self, page: &Resp, action: &str, extra: &[(&str, &str)]) -> Resp {
        let mut fields = form_fields(page, action);
        for (k, v) in extra {
            fields.retain(|(n, _)| n != k);
            fields.push((k.to_string(), v.to_string()));
        }
        self.post(action, &fields)
    }

    /// Sign-up through the page (`GET /signup`, then the form). Returns the POST's answer.
    #[track_caller]
    pub fn sign_up_raw(&self, p: &Person, return_to: Option<&str>) -> Resp {
        let page_path = match return_to {
            Some(r) => format!("/signup?{}", form(&[("return_to", r)])),
            None => "/signup".into(),
        };
        let page = self.get(&page_path);
        page.expect(200);
        self.submit(
            &page,
            "/signup",
            &[("name", &p.name), ("email", &p.email), ("password", &p.password)],
        )
    }

    /// Signs up, then logs in from the page sign-up answers with (sign-up itself starts no
    /// session, so it cannot tell anyone whether the email already had an account), asserting
    /// the 303 back to `return_to` or `/`.
    #[track_caller]
    pub fn sign_up(&self, p: &Person, return_to: Option<&str>) -> Resp {
        let page = self.sign_up_raw(p, return_to);
        page.expect(200);
        assert!(page.text().contains("id=\"signed-up\""), "{}", page.text());
        assert!(self.cookie(SESSION_COOKIE).is_none(), "sign-up started a session");
        let r = self.submit(&page, "/login", &[("email", &p.email), ("password", &p.password)]);
        r.expect(303);
        assert_eq!(r.header("location"), Some(return_to.unwrap_or("/")));
        assert!(
            self.cookie(SESSION_COOKIE).is_some(),
            "sign-up set no session cookie"
        );
        r
    }

    #[track_caller]
    pub fn log_in_raw(&self, email: &str, password: &str, return_to: Option<&str>) -> Resp {
        let page_path = match return_to {
            Some(r) => format!("/login?{}", form(&[("return_to", r)])),
            None => "/login".into(),
        };
        let page = self.get(&page_path);
        page.expect(200);
        self.submit(&page, "/login", &[("email", email), ("password", password)])
    }

    #[track_caller]
    pub fn log_in(&self, p: &Person, return_to: Option<&str>) -> Resp {
        let r = self.log_in_raw(&p.email, &p.password, return_to);
        r.expect(303);
        assert_eq!(r.header("location"), Some(return_to.unwrap_or("/")));
        r
    }

    /// A new browser with a new account, signed in.
    #[track_caller]
    pub fn signed_up(s: &Server, tag: &str) -> (Browser, Person) {
        let b = Browser::new(s);
        let p = Person::new(tag);
        b.sign_up(&p, None);
        (b, p)
    }

    /// Consent page → Allow or Deny.
    #[track_caller]
    pub fn decide(&self, consent: &Resp, decision: &str) -> Resp {
        consent.expect(200);
        assert!(
            consent.text().contains("wants to access your account"),
            "not a consent page: {}",
            consent.text()
        );
        self.submit(consent, "/oauth/authorize", &[("decision", decision)])
    }

    /// Runs an authorization request for a signed-in person: consents when asked, and returns
    /// the final redirect (asserting 302).
    #[track_caller]
    pub fn authorize(&self, path: &str) -> Resp {
        let r = self.get(path);
        let r = if r.status == 200 {
            self.decide(&r, "allow")
        } else {
            r
        };
        r.expect(302);
        r
    }

    /// [`Browser::authorize`] and the `code` of its redirect (checking `state` and `iss`).
    #[track_caller]
    pub fn code(&self, s: &Server, path: &str) -> String {
        let r = self.authorize(path);
        let loc = r.header("location").unwrap().to_owned();
        assert_eq!(query_param(&loc, "iss").as_deref(), Some(s.issuer()), "{loc}");
        if let Some(state) = query_param(path, "state") {
            assert_eq!(query_param(&loc, "state"), Some(state), "{loc}");
        }
        query_param(&loc, "code").unwrap_or_else(|| panic!("no code in {loc}"))
    }
}

// ---------------------------------------------------------------------------------------------
// Token endpoint
// ---------------------------------------------------------------------------------------------

/// `POST /oauth/token` with form `pairs`; `basic` = client_secret_basic credentials.
#[track_caller]
pub fn token(s: &Server, pairs: &[(&str, &str)], basic_auth: Option<(&str, &str)>) -> Resp {
    match basic_auth {
        Some((id, secret)) => {
            let auth = basic(id, secret);
            s.post_form_with("/oauth/token", pairs, &[("authorization", &auth)])
        }
        None => s.post_form("/oauth/token", pairs),
    }
}

/// An app that may use the authorization code flow, as the admin API makes it.
pub struct Client {
    pub app: App,
    pub redirect_uri: String,
    pub public: bool,
}

impl Client {
    /// A confidential web client (`https://…/cb`, client_secret_basic).
    #[track_caller]
    pub fn web(s: &Server, scopes: &[&str]) -> Client {
        let uri = format!("https://web-{}.example/cb", rand_hex(3));
        let app = s.create_app(json!({
            "name": format!("Web app {}", rand_hex(3)),
            "owner": owner("web"),
            "homepage": "https://web.example/",
            "redirect_uris": [uri],
            "scopes": scopes,
        }));
        Client {
            app,
            redirect_uri: uri,
            public: false,
        }
    }

    /// A public native client with a private-use scheme redirect.
    #[track_caller]
    pub fn native(s: &Server, scopes: &[&str]) -> Client {
        let uri = "com.example.app:/cb".to_owned();
        let app = s.create_app(json!({
            "name": format!("Native app {}", rand_hex(3)),
            "owner": owner("native"),
            "redirect_uris": [uri],
            "token_endpoint_auth_method": "none",
            "scopes": scopes,
        }));
        assert!(app.secret.is_none(), "a public client got a secret");
        Client {
            app,
            redirect_uri: uri,
            public: true,
        }
    }

    /// A fresh code (scope `public`) for a person signed up just now (`tag`), and its verifier.
    pub fn code_for_new_person(&self, s: &Server, tag: &str) -> (String, String) {
        let (b, _) = Browser::signed_up(s, tag);
        self.code(s, &b, "public")
    }

    /// A confidential web client and a public native client, both with the scope `public`.
    pub fn both(s: &Server) -> [Client; 2] {
        [Client::web(s, &["public"]), Client::native(s, &["public"])]
    }

    pub fn id(&self) -> &str {
        &self.app.id
    }

    /// The authorization request path (`code`, S256 challenge when given, a random state).
    pub fn authorize_path(&self, scope: &str, challenge: Option<&str>) -> String {
        let state = format!("st-{}", rand_hex(4));
        let mut pairs = vec![
            ("response_type", "code"),
            ("client_id", self.id()),
            ("redirect_uri", self.redirect_uri.as_str()),
            ("scope", scope),
            ("state", state.as_str()),
        ];
        if let Some(c) = challenge {
            pairs.push(("code_challenge", c));
            pairs.push(("code_challenge_method", "S256"));
        }
        authorize_path(&pairs)
    }

    /// A token request with this client's authentication (secret via Basic, or `client_id`).
    #[track_caller]
    pub fn token(&self, s: &Server, pairs: &[(&str, &str)]) -> Resp {
        if self.public {
            let mut p = pairs.to_vec();
            p.push(("client_id", self.id()));
            token(s, &p, None)
        } else {
            token(s, pairs, Some((self.id(), self.app.secret())))
        }
    }

    #[track_caller]
    pub fn redeem(&self, s: &Server, code: &str, verifier: Option<&str>) -> Resp {
        let mut pairs = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.redirect_uri.as_str()),
        ];
        if let Some(v) = verifier {
            pairs.push(("code_verifier", v));
        }
        self.token(s, &pairs)
    }

    #[track_caller]
    pub fn refresh(&self, s: &Server, refresh_token: &str, scope: Option<&str>) -> Resp {
        let mut pairs = vec![("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
        if let Some(sc) = scope {
            pairs.push(("scope", sc));
        }
        self.token(s, &pairs)
    }

    /// A fresh code for `b`'s person (PKCE S256), and its verifier.
    #[track_caller]
    pub fn code(&self, s: &Server, b: &Browser, scope: &str) -> (String, String) {
        let (verifier, challenge) = pkce();
        let code = b.code(s, &self.authorize_path(scope, Some(&challenge)));
        (code, verifier)
    }

    /// Code → tokens (asserting 200); returns `(access_token, refresh_token, body)`.
    #[track_caller]
    pub fn tokens(&self, s: &Server, b: &Browser, scope: &str) -> (String, String, Value) {
        let (code, verifier) = self.code(s, b, scope);
        let v = self.redeem(s, &code, Some(&verifier)).expect_json(200);
        (
            v["access_token"].as_str().unwrap().to_owned(),
            v["refresh_token"].as_str().unwrap().to_owned(),
            v,
        )
    }
}

/// `GET /oauth/userinfo` with a bearer token.
#[track_caller]
pub fn userinfo(s: &Server, access_token: &str) -> Resp {
    let auth = bearer(access_token);
    s.get_with("/oauth/userinfo", &[("authorization", &auth)])
}

// ---------------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------------

/// Every process in /proc: its pid and the fields of its `stat` after `(comm)`
/// (`state ppid pgrp …`).
fn processes() -> Vec<(i32, Vec<String>)> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().to_string_lossy().parse::<i32>().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let (_, after) = stat.rsplit_once(')')?;
            Some((pid, after.split_whitespace().map(str::to_owned).collect()))
        })
        .collect()
}

/// The process group of the `wrangler dev` this test process started on `port` (the harness
/// starts each in its own group, led by the `npx` child).
pub fn server_pgid(port: u16) -> Option<i32> {
    let me = std::process::id() as i32;
    // npm rewrites its process title ("npm exec wrangler dev … --port P …"), so the arguments
    // may be separated by spaces rather than NULs.
    let needle = format!(" --port {port} ");
    for (pid, f) in processes() {
        let (ppid, pgrp) = (
            f.get(1).and_then(|v| v.parse::<i32>().ok()),
            f.get(2).and_then(|v| v.parse::<i32>().ok()),
        );
        if ppid != Some(me) || pgrp != Some(pid) {
            continue;
        }
        let Ok(cmd) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let cmd = format!(" {} ", String::from_utf8_lossy(&cmd).replace('\0', " "));
        if (cmd.contains("wrangler") || cmd.contains("serve.sh")) && cmd.contains(&needle) {
            return Some(pid);
        }
    }
    None
}

/// Sends `sig` to the server's whole process group and waits until its port is closed and
/// nothing of the group runs (the harness reaps the leader on the next `restart`).
pub fn signal_server(s: &Server, sig: i32) {
    let pgid = server_pgid(s.port).expect("cannot find the wrangler process group");
    // SAFETY: kill(2) on a process group this test process started.
    unsafe {
        libc::kill(-pgid, sig);
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let port_closed = std::net::TcpStream::connect(("127.0.0.1", s.port)).is_err();
        // kill(-pgid, 0) fails once no live member is left (zombies do not count as running
        // code, but still answer; so check their state too).
        let members_running = group_running(pgid);
        if port_closed && !members_running {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not stop after signal {sig}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether any member of the process group `pgid` is running (zombies do not count).
fn group_running(pgid: i32) -> bool {
    processes().iter().any(|(_, f)| {
        let in_group = f.get(2).and_then(|v| v.parse::<i32>().ok()) == Some(pgid);
        in_group && f.first().map(String::as_str) != Some("Z")
    })
}

/// Milliseconds the worker reported for each request matching `method path status` in the
/// server's log (the JSON request log line), in log order.
pub fn logged_ms(s: &Server, method: &str, path: &str, status: u16) -> Vec<f64> {
    s.log()
        .lines()
        .filter_map(|l| {
            let start = l.find('{')?;
            let v: Value = serde_json::from_str(&l[start..]).ok()?;
            (v["method"] == method && v["path"] == path && v["status"] == status)
                .then(|| v["ms"].as_f64())
                .flatten()
        })
        .collect()
}

pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}
