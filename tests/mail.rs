//! Email through the real transports under `wrangler dev` (issue 18): the HTTP email API
//! (`MAIL_API_URL`, `MAIL_API_TOKEN`) against a small HTTP server inside this test process,
//! and the `send_email` binding (`MAIL_BINDING`), which wrangler's local dev simulates by
//! writing each message to a `.eml` file and logging its path. What the transport received is
//! checked (method, bearer token, idempotency key, sender, recipient, subject, the link) and
//! the link followed; an API that answers 500, never answers, or refuses the connection gives
//! the person a page that says what to do, without the token, the link or our internals.

#[path = "browser/mod.rs"]
mod browser;
mod common;

use base64::Engine;
use browser::*;
use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SENDER: &str = "accounts@mail.portcullis.test";

/// One request the mock email API received.
#[derive(Debug, Clone)]
struct Received {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The email API: answers 200 `{"id": …}`, except for recipients whose address holds
/// `fail500` (a 500) or `hang` (no answer for longer than the worker waits). Stopping it
/// closes its port, so the next connection is refused.
struct MockApi {
    port: u16,
    got: Arc<Mutex<Vec<Received>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn read_request(stream: &mut TcpStream) -> Option<Received> {
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut r = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).ok()?;
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Some(Received {
        method,
        path,
        headers,
        body,
    })
}

impl MockApi {
    fn start() -> MockApi {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let got = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (g, st) = (got.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !st.load(Ordering::SeqCst) {
                let Ok((mut stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                let g = g.clone();
                std::thread::spawn(move || {
                    stream.set_nonblocking(false).ok();
                    let Some(req) = read_request(&mut stream) else {
                        return;
                    };
                    let to = req.body["to"].as_str().unwrap_or("").to_owned();
                    g.lock().unwrap().push(req);
                    let answer = if to.contains("hang") {
                        // Longer than the worker's MAIL_TIMEOUT_MS (5 s); then nothing.
                        std::thread::sleep(Duration::from_secs(9));
                        return;
                    } else if to.contains("fail500") {
                        "HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-length: 36\r\nconnection: close\r\n\r\n{\"error\":\"mock provider is broken\"}\n"
                    } else {
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 16\r\nconnection: close\r\n\r\n{\"id\":\"msg-001\"}"
                    };
                    let _ = stream.write_all(answer.as_bytes());
                });
            }
            // The listener is dropped here: its port now refuses connections.
        });
        MockApi {
            port,
            got,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/v1/send", self.port)
    }

    /// The messages received so far for `to`.
    fn for_recipient(&self, to: &str) -> Vec<Received> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.body["to"] == to)
            .cloned()
            .collect()
    }

    /// Closes the port (and waits until it refuses).
    fn close(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        assert!(
            TcpStream::connect(("127.0.0.1", self.port)).is_err(),
            "the port still accepts"
        );
    }
}

/// The token of the link to `{issuer}{path}?token=` in a message's text.
fn link_in(issuer: &str, text: &str, path: &str) -> Option<String> {
    let needle = format!("{issuer}{path}?token=");
    let at = text.find(&needle)? + needle.len();
    Some(text[at..].split(char::is_whitespace).next()?.to_owned())
}

/// What no answer to the person may hold: the API's token, a link's token or path, where the
/// API is, or what it said.
fn assert_nothing_leaks(r: &Resp, token: &str, api: &MockApi) {
    let t = r.text();
    for secret in [
        token,
        "?token=",
        "/v1/send",
        &format!(":{}", api.port),
        "mock provider",
        "answered 500",
        "mail API",
    ] {
        assert!(!t.contains(secret), "the page shows {secret:?}: {t}");
    }
    for (k, v) in &r.headers {
        assert!(!v.contains(token), "header {k} holds the token");
    }
}

/// Posts the form of `page` (its hidden fields plus `extra`) with the browser's cookies, and
/// allows a 503 (the mail could not go out), which `Browser::submit` treats as a failure.
fn submit_allowing_503(s: &Server, b: &Browser, page: &Resp, action: &str, extra: &[(&str, &str)]) -> Resp {
    let mut fields = form_fields(page, action);
    for (k, v) in extra {
        fields.retain(|(n, _)| n != k);
        fields.push((k.to_string(), v.to_string()));
    }
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let body = form(&pairs);
    let csrf = b.cookie("portcullis_csrf").expect("the page set the CSRF cookie");
    let cookie = format!("portcullis_csrf={csrf}");
    let h = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("origin", s.base.as_str()),
        ("cookie", cookie.as_str()),
    ];
    let r = try_send(&agent(), "POST", &s.url(action), &h, Some(body.as_bytes())).unwrap();
    assert!(r.status < 500 || r.status == 503, "{} {}", r.status, r.text());
    r
}

#[test]
fn the_email_api_gets_each_message_and_its_failures_give_a_helpful_page() {
    let mut api = MockApi::start();
    let api_token = format!("mail-api-token-{}", rand_hex(12));
    let url = api.url();
    let s = Server::start_with(&[
        ("MAIL_API_URL", url.as_str()),
        ("MAIL_API_TOKEN", api_token.as_str()),
        ("MAIL_FROM", SENDER),
    ]);
    let issuer = s.issuer().to_owned();

    // Sign-up: one verification email, as the API expects it.
    let b = Browser::new(&s);
    let person = Person::new("apimail");
    let page = b.sign_up_raw(&person, None);
    page.expect(200);
    assert!(page.text().contains("id=\"mail-sent\""), "{}", page.text());
    let got = api.for_recipient(&person.email);
    assert_eq!(got.len(), 1, "{got:?}");
    let m = &got[0];
    assert_eq!(m.method, "POST");
    assert_eq!(m.path, "/v1/send");
    assert_eq!(
        m.header("authorization"),
        Some(format!("Bearer {api_token}").as_str())
    );
    assert!(m
        .header("content-type")
        .unwrap_or("")
        .starts_with("application/json"));
    let key = m.header("idempotency-key").unwrap_or("").to_owned();
    assert!(key.len() >= 20, "an idempotency key: {key:?}");
    assert_eq!(m.body["from"], SENDER);
    assert_eq!(m.body["to"], person.email.as_str());
    assert!(
        m.body["subject"]
            .as_str()
            .unwrap()
            .starts_with("Verify your email"),
        "{}",
        m.body
    );
    let text = m.body["text"].as_str().unwrap();
    let token = link_in(&issuer, text, "/verify").unwrap_or_else(|| panic!("no link in {text}"));
    // The emailed link works: the page asks, the button verifies, once.
    let verify = b.get(&format!("/verify?token={token}"));
    verify.expect(200);
    let done = b.submit(&verify, "/verify", &[]);
    done.expect(200);
    assert!(done.text().contains("id=\"verified\""), "{}", done.text());

    // Password reset: one message with a working link.
    let forgot = b.get("/forgot");
    let r = b.submit(&forgot, "/forgot", &[("email", &person.email)]);
    r.expect(200);
    assert!(r.text().contains("id=\"reset-sent\""));
    let got = api.for_recipient(&person.email);
    assert_eq!(got.len(), 2, "{got:?}");
    let m = &got[1];
    assert_eq!(m.method, "POST");
    assert_eq!(
        m.header("authorization"),
        Some(format!("Bearer {api_token}").as_str())
    );
    assert_ne!(
        m.header("idempotency-key").unwrap_or(""),
        key,
        "each message has its own key"
    );
    assert_eq!(m.body["from"], SENDER);
    assert!(
        m.body["subject"]
            .as_str()
            .unwrap()
            .starts_with("Reset your password"),
        "{}",
        m.body
    );
    let token = link_in(&issuer, m.body["text"].as_str().unwrap(), "/reset").unwrap();
    let reset = b.get(&format!("/reset?token={token}"));
    reset.expect(200);
    let new_password = format!("{}-via-api", person.password);
    let r = b.submit(&reset, "/reset", &[("password", &new_password)]);
    r.expect(200);
    assert!(r.text().contains("id=\"reset-done\""), "{}", r.text());
    Browser::new(&s)
        .log_in_raw(&person.email, &new_password, None)
        .expect(303);

    // The API answers 500: sign-up still makes the account and says the email did not go;
    // a reset says so too (503, nothing changed). Nothing of the API in either page.
    let broken = Person::new("fail500");
    let b = Browser::new(&s);
    let page = b.sign_up_raw(&broken, None);
    page.expect(200);
    assert!(page.text().contains("id=\"mail-not-sent\""), "{}", page.text());
    assert_nothing_leaks(&page, &api_token, &api);
    assert_eq!(
        api.for_recipient(&broken.email).len(),
        1,
        "one attempt, not retried"
    );
    let forgot = b.get("/forgot");
    let r = submit_allowing_503(&s, &b, &forgot, "/forgot", &[("email", &broken.email)]);
    assert_eq!(r.status, 503, "{}", r.text());
    assert!(r.text().contains("id=\"not-sent\""), "{}", r.text());
    assert!(r.text().contains("try again in a few minutes"));
    assert_nothing_leaks(&r, &api_token, &api);
    // The failure is in the log, by kind and code, never with the token or the link.
    // (wrangler's own banner lists the vars it was given; the worker's lines are checked.)
    let log = s.log();
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("mail_not_sent")).collect();
    assert!(!lines.is_empty(), "{log}");
    for l in &lines {
        assert!(
            !l.contains(&api_token) && !l.contains("?token=") && !l.contains(&broken.email),
            "{l}"
        );
    }

    // The API never answers: the page comes within the worker's bound, and says the same.
    let slow = Person::new("hang");
    let b = Browser::new(&s);
    let started = Instant::now();
    let page = b.sign_up_raw(&slow, None);
    page.expect(200);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(8), "the page waited {took:?}");
    assert!(page.text().contains("id=\"mail-not-sent\""), "{}", page.text());
    assert_nothing_leaks(&page, &api_token, &api);
    let forgot = b.get("/forgot");
    let r = submit_allowing_503(&s, &b, &forgot, "/forgot", &[("email", &slow.email)]);
    assert_eq!(r.status, 503);
    assert!(r.text().contains("id=\"not-sent\""));
    assert_nothing_leaks(&r, &api_token, &api);

    // The API's port refuses connections.
    api.close();
    let gone = Person::new("refused");
    let b = Browser::new(&s);
    let page = b.sign_up_raw(&gone, None);
    page.expect(200);
    assert!(page.text().contains("id=\"mail-not-sent\""), "{}", page.text());
    assert_nothing_leaks(&page, &api_token, &api);
    let forgot = b.get("/forgot");
    let r = submit_allowing_503(&s, &b, &forgot, "/forgot", &[("email", &person.email)]);
    assert_eq!(r.status, 503);
    assert!(r.text().contains("id=\"not-sent\""));
    assert_nothing_leaks(&r, &api_token, &api);
    // The people whose email failed can still log in (their accounts exist, unverified).
    Browser::new(&s).log_in(&broken, None);
    Browser::new(&s).log_in(&gone, None);
}

/// Decodes the base64 body of a simple RFC 5322 message (`rules::mail_message`'s form).
fn eml_text(raw: &str) -> String {
    let (_, body) = raw
        .split_once("\r\n\r\n")
        .or_else(|| raw.split_once("\n\n"))
        .expect("a header and a body");
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .expect("a base64 body"),
    )
    .unwrap()
}

fn eml_header<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    raw.lines().take_while(|l| !l.is_empty()).find_map(|l| {
        l.split_once(':')
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    })
}

/// The `.eml` files wrangler's simulated `send_email` binding wrote, in the order it logged them.
fn simulated_messages(s: &Server) -> Vec<String> {
    let log = s.log();
    let mut out = Vec::new();
    let mut lines = log.lines();
    while let Some(l) = lines.next() {
        if l.contains("send_email binding called") {
            if let Some(path) = lines.next().and_then(|n| n.trim().strip_prefix("Email:")) {
                out.push(std::fs::read_to_string(path.trim()).unwrap_or_else(|e| panic!("{path}: {e}")));
            }
        }
    }
    out
}

#[test]
fn a_verification_email_goes_through_the_send_email_binding() {
    // The harness declares `[[send_email]] name = "EMAIL"` for a server with MAIL_BINDING
    // (scripts/serve.sh --send-email): wrangler's local dev simulates the binding.
    let s = Server::start_with(&[("MAIL_BINDING", "EMAIL"), ("MAIL_FROM", SENDER)]);
    let issuer = s.issuer().to_owned();
    let b = Browser::new(&s);
    let person = Person::new("binding");
    let page = b.sign_up_raw(&person, None);
    page.expect(200);
    assert!(
        page.text().contains("id=\"mail-sent\""),
        "{}\n{}",
        page.text(),
        s.log()
    );
    // With a transport there is no development outbox at all.
    assert_eq!(s.get("/dev/outbox.json").status, 404);
    // wrangler writes the message after the response: wait for its log line (bounded).
    let deadline = Instant::now() + Duration::from_secs(10);
    let raw = loop {
        if let Some(m) = simulated_messages(&s)
            .into_iter()
            .find(|m| m.contains(&person.email))
        {
            break m;
        }
        assert!(
            Instant::now() < deadline,
            "no simulated message in the log:\n{}",
            s.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        eml_header(&raw, "To").map(|t| t.trim_matches(['<', '>'])),
        Some(person.email.as_str()),
        "{raw}"
    );
    assert!(eml_header(&raw, "From").unwrap_or("").contains(SENDER), "{raw}");
    assert!(
        eml_header(&raw, "Subject").is_some_and(|v| !v.is_empty()),
        "{raw}"
    );
    assert!(eml_header(&raw, "Message-ID").is_some(), "{raw}");
    let text = eml_text(&raw);
    let token = link_in(&issuer, &text, "/verify").unwrap_or_else(|| panic!("no link in {text}"));
    let verify = b.get(&format!("/verify?token={token}"));
    verify.expect(200);
    let done = b.submit(&verify, "/verify", &[]);
    done.expect(200);
    assert!(done.text().contains("id=\"verified\""), "{}", done.text());
}
