//! The edge gateway end to end: a small origin server started by the test on loopback, the
//! worker in front of it under `wrangler dev` with `GATEWAY_ROUTES` pointing at it.

mod common;
use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// Requests the origin received: (request line, lower-cased headers).
type Seen = Arc<Mutex<Vec<(String, Vec<(String, String)>)>>>;

/// A one-thread HTTP/1.1 origin that records each request and answers 200 "from origin".
fn origin() -> (u16, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen: Seen = Arc::default();
    let record = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let mut headers = Vec::new();
            let mut length = 0usize;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
                if let Some((k, v)) = h.trim_end().split_once(':') {
                    let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_owned());
                    if k == "content-length" {
                        length = v.parse().unwrap_or(0);
                    }
                    headers.push((k, v));
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            record.lock().unwrap().push((line.trim_end().to_owned(), headers));
            let mut s = stream;
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 11\r\nconnection: close\r\n\r\nfrom origin");
        }
    });
    (port, seen)
}

#[test]
fn gateway_verifies_at_the_edge_and_forwards_with_identity_headers() {
    let (port, seen) = origin();
    let routes = format!(
        r#"[{{"prefix":"/api/users","methods":["GET"],"scopes":["users:read"],"origin":"http://127.0.0.1:{port}"}},{{"prefix":"/api/write","scopes":["users:write"],"origin":"http://127.0.0.1:{port}"}}]"#
    );
    let s = Server::start_with(&[("GATEWAY_ROUTES", &routes), ("GATEWAY_CACHE_SECONDS", "2")]);
    let app = s.trusted_app(&["users:read", "users:write"]);
    let read = s
        .cc_basic(&app.id, app.secret(), Some("users:read"))
        .expect_json(200)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    // No token: 401 with the challenge naming the scope. Wrong scope: 403. Forged: 401.
    let r = s.get("/api/users/1");
    assert_eq!(r.status, 401);
    assert!(r
        .header("www-authenticate")
        .unwrap()
        .contains(r#"scope="users:read""#));
    let r = s.request(
        "POST",
        "/api/write/x",
        Req {
            headers: &[("authorization", &bearer(&read))],
            body: None,
            chunked: false,
        },
    );
    assert_eq!(r.status, 403);
    assert!(r
        .header("www-authenticate")
        .unwrap()
        .contains("insufficient_scope"));
    // Flip a signature character in the middle (the last one carries unused bits).
    let at = read.len() - 20;
    let flipped = if &read[at..at + 1] == "A" { "B" } else { "A" };
    let forged = format!("{}{flipped}{}", &read[..at], &read[at + 1..]);
    assert_eq!(
        s.get_with("/api/users/1", &[("authorization", &bearer(&forged))])
            .status,
        401
    );
    assert!(
        seen.lock().unwrap().is_empty(),
        "the origin is never contacted for refused requests"
    );

    // A good token: forwarded, Authorization removed, identity headers set, spoofed ones dropped.
    let r = s.get_with(
        "/api/users/7?x=1",
        &[("authorization", &bearer(&read)), ("x-auth-subject", "root")],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), "from origin");
    {
        let seen = seen.lock().unwrap();
        let (line, headers) = &seen[0];
        assert_eq!(line, "GET /api/users/7?x=1 HTTP/1.1");
        let get = |k: &str| {
            headers
                .iter()
                .filter(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>()
        };
        assert!(get("authorization").is_empty());
        assert_eq!(get("x-auth-subject"), vec![app.id.as_str()]);
        assert_eq!(get("x-auth-client-id"), vec![app.id.as_str()]);
        assert_eq!(get("x-auth-scope"), vec!["users:read"]);
    }

    // Revocation reaches the gateway within GATEWAY_CACHE_SECONDS.
    s.post_form_basic("/oauth/revoke", &[("token", &read)], &app.id, app.secret())
        .expect(200);
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert_eq!(
        s.get_with("/api/users/7", &[("authorization", &bearer(&read))])
            .status,
        401
    );

    // RFC 9728 metadata for the protected routes.
    let v = s.get("/.well-known/oauth-protected-resource").expect_json(200);
    assert_eq!(v["authorization_servers"][0], s.issuer());
    assert_eq!(
        v["scopes_supported"],
        serde_json::json!(["users:read", "users:write"])
    );
}

/// One raw GET (the path sent byte for byte, no client normalising it); the status.
fn raw_get(s: &Server, path: &str, headers: &[(&str, &str)]) -> u16 {
    let mut head = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n", s.port);
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    raw_http(s, head.as_bytes(), b"").0
}

/// Issue 13 items 9 and 11: every spelling of `/api/admin/x` that once reached the origin under
/// `/api`'s weaker check is now held to `/api/admin`'s scope (canonical path, case-insensitive
/// prefixes) or refused (`;` parameters, encoded slashes); the origin receives the canonical
/// path; `X_Auth_*` spellings of the identity headers are stripped; and with
/// `GATEWAY_CACHE_SECONDS=0` a revocation stops the very next request.
#[test]
fn gateway_path_confusion_header_spoofing_and_no_cache() {
    let (port, seen) = origin();
    let routes = format!(
        r#"[{{"prefix":"/api","scopes":["public"],"origin":"http://127.0.0.1:{port}"}},{{"prefix":"/api/admin","scopes":["users:write"],"origin":"http://127.0.0.1:{port}"}}]"#
    );
    let s = Server::start_with(&[("GATEWAY_ROUTES", &routes), ("GATEWAY_CACHE_SECONDS", "0")]);
    let app = s.trusted_app(&["public"]);
    let t = s.cc_token(&app);
    let auth = bearer(&t);
    let with = [("authorization", auth.as_str())];
    for path in ["/api//admin/x", "/api/ADMIN/x", "/Api/Admin/x", "/api/./admin/x", "/api/x/../admin/x", "/api/%61dmin/x", "//api/admin/x"] {
        assert_eq!(raw_get(&s, path, &with), 403, "{path} must need users:write");
    }
    for path in ["/api/admin;a=b/x", "/api;x/admin/x", "/api/admin%2fx", "/api/admin%2Fx", "/api/admin%5cx", "/api/%zz"] {
        assert_eq!(raw_get(&s, path, &with), 400, "{path} must be refused");
    }
    assert!(seen.lock().unwrap().is_empty(), "the origin saw a confused path: {:?}", seen.lock().unwrap());

    // A good request: forwarded on its canonical path, spoofed identity headers gone.
    let status = raw_get(
        &s,
        "/api//users/./7?x=1",
        &[
            ("authorization", auth.as_str()),
            ("X_Auth_Subject", "admin"),
            ("x-auth-scope", "users:write"),
            ("X-AUTH-CLIENT-ID", "someone"),
        ],
    );
    assert_eq!(status, 200);
    {
        let seen = seen.lock().unwrap();
        let (line, headers) = &seen[0];
        assert_eq!(line, "GET /api/users/7?x=1 HTTP/1.1");
        let auth_like: Vec<&(String, String)> = headers
            .iter()
            .filter(|(k, _)| k.replace('_', "-").starts_with("x-auth-"))
            .collect();
        // subject, client id, scope and issuer: the gateway's own four, none of the spoofed ones.
        assert_eq!(auth_like.len(), 4, "{auth_like:?}");
        assert!(auth_like.iter().any(|(k, v)| k == "x-auth-issuer" && v.starts_with("http://127.0.0.1:")), "{auth_like:?}");
        for (k, v) in auth_like {
            assert!(!k.contains('_'), "a spoofed header reached the origin: {k}: {v}");
            assert_ne!(v, "admin");
            assert_ne!(v, "someone");
        }
    }

    // No liveness cache: a revoked token stops at once.
    s.post_form_basic("/oauth/revoke", &[("token", &t)], &app.id, app.secret())
        .expect(200);
    assert_eq!(raw_get(&s, "/api/users/7", &with), 401);
}
