//! The request log line: one JSON object per request, written by hand into one pre-sized string
//! (no `serde_json::Value` built per request). Byte for byte what
//! `serde_json::json!({"method", "path", "status", "ms", "client_id"})` printed before: the same
//! keys in serde_json's (sorted) order and its string escaping, so whatever reads the log
//! (tests/common/server.rs `logged_ms`, a log pipeline) reads it as before.

/// Longest path logged, in characters (a path is the client's: bounded, and never the query).
pub const MAX_PATH_CHARS: usize = 200;

/// `{"client_id":…,"method":"…","ms":…,"path":"…","status":…}`: the path is cut to
/// [`MAX_PATH_CHARS`] characters; `client_id` is `null` when the request named no client.
pub fn request_line(method: &str, path: &str, status: u16, ms: u64, client_id: Option<&str>) -> String {
    let path_end = path.char_indices().nth(MAX_PATH_CHARS).map_or(path.len(), |(i, _)| i);
    let path = path.get(..path_end).unwrap_or(path);
    let mut s = String::with_capacity(64 + method.len() + path.len() + client_id.map_or(4, str::len));
    s.push_str("{\"client_id\":");
    match client_id {
        Some(c) => push_json_string(&mut s, c),
        None => s.push_str("null"),
    }
    s.push_str(",\"method\":");
    push_json_string(&mut s, method);
    s.push_str(",\"ms\":");
    push_u64(&mut s, ms);
    s.push_str(",\"path\":");
    push_json_string(&mut s, path);
    s.push_str(",\"status\":");
    push_u64(&mut s, u64::from(status));
    s.push('}');
    s
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
    fn the_path_is_cut_at_200_characters() {
        let line = request_line("GET", &"x".repeat(500), 200, 1, None);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["path"].as_str().unwrap().len(), MAX_PATH_CHARS);
    }
}
