//! HTTP: responses and their checks, request options, the request methods of [`Server`],
//! and raw HTTP/1.1 for bytes no client would send.

use super::*;

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    /// Header names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// `METHOD path` for failure messages.
    pub what: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{}: {} body is not JSON ({e}): {:?}",
                self.what,
                self.status,
                self.text()
            )
        })
    }

    /// The `error` code of an RFC 6749 error body.
    #[track_caller]
    pub fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or("").to_owned()
    }

    /// Asserts the status; on failure shows the whole response.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(
            self.status,
            status,
            "{}: expected {status}, got {} {}",
            self.what,
            self.status,
            self.text()
        );
        self
    }

    /// Asserts a JSON error response (`status`, `error`, a string `error_description`) and
    /// returns the body.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) -> Value {
        self.expect(status);
        let v = self.json();
        assert_eq!(v["error"], code, "{}: wrong error code in {v}", self.what);
        assert!(
            v["error_description"].is_string(),
            "{}: error_description missing in {v}",
            self.what
        );
        assert!(
            self.header("content-type")
                .is_some_and(|c| c.starts_with("application/json")),
            "{}: error is not application/json: {:?}",
            self.what,
            self.headers
        );
        v
    }

    #[track_caller]
    pub fn expect_json(&self, status: u16) -> Value {
        self.expect(status);
        self.json()
    }

    #[track_caller]
    pub fn expect_no_store(&self) -> &Self {
        assert_eq!(
            self.header("cache-control"),
            Some("no-store"),
            "{}: Cache-Control must be no-store: {:?}",
            self.what,
            self.headers
        );
        self
    }
}

/// Options for [`Server::request`].
#[derive(Default, Clone, Copy)]
pub struct Req<'a> {
    pub headers: &'a [(&'a str, &'a str)],
    pub body: Option<&'a [u8]>,
    /// Send the body with `Transfer-Encoding: chunked` instead of a `Content-Length`.
    pub chunked: bool,
}

impl Server {
    // --- HTTP -----------------------------------------------------------------------------

    /// Any request. Panics on a transport error and on any 5xx: the server must never fail
    /// with a server error (503 only from a server started without an admin token).
    #[track_caller]
    pub fn request(&self, method: &str, path: &str, r: Req<'_>) -> Resp {
        let what = format!("{method} {path}");
        let url = self.url(path);
        let out = exchange(&self.agent, what, method, &url, r).unwrap_or_else(|e| panic!("{e}"));
        let allowed_503 = out.status == 503 && self.admin_token.is_none();
        assert!(
            out.status < 500 || allowed_503,
            "{}: server error {} {} (request headers {:?})",
            out.what,
            out.status,
            out.text(),
            r.headers
        );
        out
    }

    #[track_caller]
    pub fn get(&self, path: &str) -> Resp {
        self.request("GET", path, Req::default())
    }

    #[track_caller]
    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        self.request(
            "GET",
            path,
            Req {
                headers,
                body: None,
                ..Default::default()
            },
        )
    }

    /// POST with a raw body and the given headers (content type included).
    #[track_caller]
    pub fn post_raw(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        self.request(
            "POST",
            path,
            Req {
                headers,
                body: Some(body),
                ..Default::default()
            },
        )
    }

    /// POST to `/oauth/token` of a raw `body` with `content_type` and no other header.
    #[track_caller]
    pub fn post_token_raw(&self, content_type: &str, body: &[u8]) -> Resp {
        self.post_raw("/oauth/token", &[("content-type", content_type)], body)
    }

    #[track_caller]
    pub fn post_form(&self, path: &str, pairs: &[(&str, &str)]) -> Resp {
        self.post_form_with(path, pairs, &[])
    }

    #[track_caller]
    pub fn post_form_with(&self, path: &str, pairs: &[(&str, &str)], headers: &[(&str, &str)]) -> Resp {
        let mut h = vec![("content-type", "application/x-www-form-urlencoded")];
        h.extend_from_slice(headers);
        self.post_raw(path, &h, form(pairs).as_bytes())
    }

    #[track_caller]
    pub fn post_json(&self, path: &str, body: &Value) -> Resp {
        self.post_json_with(path, body, &[])
    }

    #[track_caller]
    pub fn post_json_with(&self, path: &str, body: &Value, headers: &[(&str, &str)]) -> Resp {
        let mut h = vec![("content-type", "application/json")];
        h.extend_from_slice(headers);
        self.post_raw(path, &h, body.to_string().as_bytes())
    }
}

/// One HTTP exchange over `agent` (`what` names it in the response and in errors); transport
/// errors and unreadable bodies are returned, not panics.
pub fn exchange(
    agent: &ureq::Agent,
    what: String,
    method: &str,
    url: &str,
    r: Req<'_>,
) -> Result<Resp, String> {
    let mut b = ureq::http::Request::builder().method(method).uri(url);
    for (k, v) in r.headers {
        b = b.header(*k, *v);
    }
    let bad = |e: ureq::http::Error| format!("{what}: bad request: {e}");
    let result = match (r.body, r.chunked) {
        (Some(body), true) => {
            // No Content-Length: the server learns the size only by reading.
            let reader = std::io::Cursor::new(body.to_vec());
            agent.run(b.body(ureq::SendBody::from_owned_reader(reader)).map_err(bad)?)
        }
        (Some(body), false) => agent.run(b.body(body).map_err(bad)?),
        (None, _) => agent.run(b.body(()).map_err(bad)?),
    };
    let mut resp = result.map_err(|e| format!("{what}: transport error: {e}"))?;
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = resp
        .body_mut()
        .with_config()
        .limit(16 << 20)
        .read_to_vec()
        .map_err(|e| format!("{what}: cannot read the body: {e}"))?;
    Ok(Resp {
        status,
        headers,
        body,
        what,
    })
}

/// One raw HTTP/1.1 request to `s`, the head sent byte for byte (any bytes, no client
/// normalising the path or the headers); `head` ends with the last header's CRLF. Returns the
/// status and the body.
pub fn raw_http(s: &Server, head: &[u8], body: &[u8]) -> (u16, String) {
    use std::io::{Read, Write};
    let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    // One write; the server may answer a malformed head and close before reading it all, so a
    // failed write is not an error: the answer is what counts.
    let mut request = head.to_vec();
    request.extend_from_slice(format!("Content-Length: {}\r\nConnection: close\r\n\r\n", body.len()).as_bytes());
    request.extend_from_slice(body);
    let _ = c.write_all(&request);
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}
