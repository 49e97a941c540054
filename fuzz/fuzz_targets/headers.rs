//! Arbitrary bytes in every header and in the path, through the whole router (issue 13 item 1).
//! Input: one choice byte (method), one (route), then NUL-separated fields: the path suffix,
//! then header name/value pairs. Bytes arrive as workerd hands them to the worker: each byte is
//! the character of the same code point (a JS ByteString), so `0xE9` is `é` — the input that
//! once sliced a `str` inside a character at client authentication.
//!
//! Checked: no 500 (no panic reaches here: a panic fails the target), security headers present,
//! no CR/LF in any response header, and a gateway request reaches no origin off a canonical path.
#![no_main]
use libfuzzer_sys::fuzz_target;
use portcullis::http::Request;
use portcullis::routes as router;
use portcullis::platform::memory::block_on;
use portcullis_fuzz::{Fixture, CLIENT_ID, ISSUER};
use std::cell::OnceCell;

const METHODS: [&str; 4] = ["GET", "POST", "PUT", "DELETE"];
const ROUTES: [&str; 13] = [
    "/oauth/token",
    "/oauth/introspect",
    "/oauth/revoke",
    "/oauth/par",
    "/application/token",
    "/oauth/userinfo",
    "/oauth/authorize",
    "/admin/apps",
    "/apps",
    "/oauth/register/",
    "/api",
    "/api/admin",
    "",
];

thread_local! {
    static FIXTURE: OnceCell<Fixture> = const { OnceCell::new() };
}

fn latin1(b: &[u8]) -> String {
    b.iter().map(|&c| c as char).collect()
}

fuzz_target!(|data: &[u8]| {
    let [m, r, rest @ ..] = data else {
        return;
    };
    let mut fields = rest.split(|b| *b == 0);
    let suffix = latin1(fields.next().unwrap_or_default());
    let mut headers = Vec::new();
    while let (Some(k), Some(v)) = (fields.next(), fields.next()) {
        headers.push((latin1(k).to_ascii_lowercase(), latin1(v)));
        if headers.len() > 16 {
            break;
        }
    }
    let method = METHODS[*m as usize % METHODS.len()];
    let path = format!("{}{}", ROUTES[*r as usize % ROUTES.len()], suffix).replace("{id}", CLIENT_ID);
    FIXTURE.with(|f| {
        let fx = f.get_or_init(Fixture::with_session);
        fx.reset();
        let req = Request {
            method: method.into(),
            path,
            query: String::new(),
            headers,
            body: b"grant_type=client_credentials".to_vec(),
            origin: ISSUER.into(),
            remote_addr: "192.0.2.7".into(),
        };
        let resp = block_on(router::handle(&fx.p, &req));
        assert!(resp.status < 500 || resp.status == 503, "{} {}: {}", method, req.path, resp.status);
        assert_eq!(resp.get_header("x-content-type-options"), Some("nosniff"));
        for (k, v) in &resp.headers {
            assert!(!k.contains(['\r', '\n']) && !v.contains(['\r', '\n']), "{k}: {v:?}");
        }
        for (url, _) in fx.p.origin_requests.borrow().iter() {
            let path = url.trim_start_matches("http://origin.invalid");
            assert_eq!(
                portcullis::gateway::canonical_path(path).as_deref(),
                Ok(path),
                "forwarded a non-canonical path"
            );
        }
    });
});
