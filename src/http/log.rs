//! The request log line: one JSON object per request, written by hand into one pre-sized string
//! (no `serde_json::Value` built per request). Byte for byte what
//! `serde_json::json!({"method", "path", "status", "ms", "client_id"})` printed before, plus
//! `error` (the protocol error code of an error response), `request_id` (also the response's
//! `x-request-id`, [`request_id`]) and `tenant` (the organisation) when there are: the keys in serde_json's (sorted) order and its string escaping, so whatever
//! reads the log (tests/common/server.rs `logged_ms`, a log pipeline) reads it as before.

/// Longest path logged, in characters (a path is the client's: bounded, and never the query).
pub const MAX_PATH_CHARS: usize = 200;

/// What one request's line says.
pub struct Line<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub status: u16,
    pub ms: u64,
    pub client_id: Option<&'a str>,
    /// The error code of an error response (`invalid_client`, …).
    pub error: Option<&'a str>,
    /// The organisation the request was for (none: the default tenant).
    pub tenant: Option<&'a str>,
    /// The request's id ([`request_id`]), also sent back as `x-request-id`.
    pub request_id: Option<&'a str>,
}

/// A request's id: Cloudflare's `cf-ray` when it has one of a sane shape (1 to 64 ASCII letters,
/// digits and dashes: what a log search and a support ticket can quote), else 16 hex digits of
/// `random`.
pub fn request_id(cf_ray: Option<&str>, random: [u8; 8]) -> String {
    match cf_ray {
        Some(r) if (1..=64).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') => r.to_owned(),
        _ => {
            // Lower-case hex, two digits a byte, into one string.
            let mut s = String::with_capacity(16);
            for b in random {
                s.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
                s.push(char::from_digit(u32::from(b & 15), 16).unwrap_or('0'));
            }
            s
        }
    }
}

/// `{"client_id":…,"error":"…","method":"…","ms":…,"path":"…","status":…,"tenant":"…"}`: the
/// path is cut to [`MAX_PATH_CHARS`] characters; `client_id` is `null` when the request named no
/// client; `error` and `tenant` only when there are.
pub fn line(l: &Line<'_>) -> String {
    let Line { method, path, status, ms, client_id, error, tenant, request_id } = *l;
    let path_end = path.char_indices().nth(MAX_PATH_CHARS).map_or(path.len(), |(i, _)| i);
    let path = path.get(..path_end).unwrap_or(path);
    let extra = error.map_or(0, |e| e.len() + 11) + tenant.map_or(0, |t| t.len() + 12) + request_id.map_or(0, |r| r.len() + 16);
    let mut s = String::with_capacity(64 + method.len() + path.len() + client_id.map_or(4, str::len) + extra);
    s.push_str("{\"client_id\":");
    match client_id {
        Some(c) => push_json_string(&mut s, c),
        None => s.push_str("null"),
    }
    if let Some(e) = error {
        s.push_str(",\"error\":");
        push_json_string(&mut s, e);
    }
    s.push_str(",\"method\":");
    push_json_string(&mut s, method);
    s.push_str(",\"ms\":");
    push_u64(&mut s, ms);
    s.push_str(",\"path\":");
    push_json_string(&mut s, path);
    if let Some(r) = request_id {
        s.push_str(",\"request_id\":");
        push_json_string(&mut s, r);
    }
    s.push_str(",\"status\":");
    push_u64(&mut s, u64::from(status));
    if let Some(t) = tenant {
        s.push_str(",\"tenant\":");
        push_json_string(&mut s, t);
    }
    s.push('}');
    s
}

/// The line of a request without an error or organisation (what the line held before).
pub fn request_line(method: &str, path: &str, status: u16, ms: u64, client_id: Option<&str>) -> String {
    line(&Line { method, path, status, ms, client_id, error: None, tenant: None, request_id: None })
}

fn push_u64(s: &mut String, n: u64) {
    use std::fmt::Write;
    let _ = write!(s, "{n}");
}

/// A JSON string as serde_json writes it: `"` `\` and the control characters escaped (the
/// short forms \b \f \n \r \t, else \u00XX), everything else as it is.
fn push_json_string(s: &mut String, v: &str) {
    s.push('"');
    let mut start = 0;
    for (i, b) in v.bytes().enumerate() {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        s.push_str(v.get(start..i).unwrap_or(""));
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            s.push_str("\\u00");
            s.push(char::from(HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0')));
            s.push(char::from(HEX.get(usize::from(b & 0xf)).copied().unwrap_or(b'0')));
        } else {
            s.push_str(esc);
        }
        start = i + 1;
    }
    s.push_str(v.get(start..).unwrap_or(""));
    s.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn before(method: &str, path: &str, status: u16, ms: u64, client_id: Option<&str>) -> String {
        serde_json::json!({
            "method": method,
            "path": path.chars().take(200).collect::<String>(),
            "status": status,
            "ms": ms,
            "client_id": client_id,
        })
        .to_string()
    }

    #[test]
    fn the_line_is_byte_for_byte_what_serde_json_wrote() {
        let long = "/é".repeat(150);
        let control: String = (0u8..0x20).map(char::from).collect();
        let cases: Vec<(&str, &str, u16, u64, Option<&str>)> = vec![
            ("GET", "/.well-known/oauth-authorization-server", 200, 0, None),
            ("POST", "/oauth/token", 401, 12, Some("app_123")),
            ("PATCH", "/a\"b\\c", 599, u64::MAX, Some("\"quoted\"\n")),
            ("GET", &long, 404, 7, Some("")),
            ("X", &control, 100, 1_000_000, Some(&control)),
            ("GET", "/\u{7f}\u{2028}\u{1F600}", 302, 10, Some("ünïcode")),
            ("", "", 0, 9, None),
        ];
        for (m, p, s, ms, c) in cases {
            assert_eq!(request_line(m, p, s, ms, c), before(m, p, s, ms, c), "{m} {p:?} {s} {ms} {c:?}");
        }
    }

    #[test]
    fn error_and_tenant_are_there_when_there_are_and_in_serde_order() {
        let l = Line { method: "POST", path: "/oauth/token", status: 401, ms: 3, client_id: Some("c\n"), error: Some("invalid_client"), tenant: Some("acme"), request_id: Some("8f1c-AMS") };
        let mut v = serde_json::json!({"method": "POST", "path": "/oauth/token", "status": 401, "ms": 3, "client_id": "c\n"});
        crate::util::set(&mut v, "error", "invalid_client");
        crate::util::set(&mut v, "tenant", "acme");
        crate::util::set(&mut v, "request_id", "8f1c-AMS");
        assert_eq!(line(&l), v.to_string());
        let only_tenant = Line { error: None, request_id: None, ..l };
        let parsed: serde_json::Value = serde_json::from_str(&line(&only_tenant)).unwrap();
        assert!(parsed.get("error").is_none() && parsed["tenant"] == "acme");
    }

    #[test]
    fn request_ids_are_the_ray_or_random_hex() {
        let r = [0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 0xff];
        assert_eq!(request_id(Some("8f1c2d3e4f5a6b7c-AMS"), r), "8f1c2d3e4f5a6b7c-AMS");
        for bad in [None, Some(""), Some("a b"), Some("x\ny"), Some("é"), Some("\"}")] {
            assert_eq!(request_id(bad, r), "deadbeef000102ff", "{bad:?}");
        }
        assert_eq!(request_id(Some(&"a".repeat(65)), r), "deadbeef000102ff");
    }

    #[test]
    fn the_path_is_cut_at_200_characters() {
        let line = request_line("GET", &"x".repeat(500), 200, 1, None);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["path"].as_str().unwrap().len(), MAX_PATH_CHARS);
    }
}
