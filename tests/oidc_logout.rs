//! OpenID Connect logout end to end against `wrangler dev`: RP-initiated logout (discovered
//! `end_session_endpoint`, `id_token_hint`, a registered `post_logout_redirect_uri`, `state`
//! echoed, the session gone) and back-channel logout delivered after the response to a small
//! HTTP listener started by the test on loopback (its first answer a 503, so the delivery is
//! retried), the logout token verified with the discovered JWKS.

#[path = "browser/mod.rs"]
mod browser;
mod common;

use browser::*;
use common::*;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Requests the listener received: (request line, content type, body).
type Seen = Arc<Mutex<Vec<(String, String, String)>>>;

/// A one-thread HTTP/1.1 listener that records each request; it answers the first with 503
/// and the others with 200.
fn listener() -> (u16, Seen) {
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
            let (mut length, mut ctype) = (0usize, String::new());
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
                if let Some((k, v)) = h.trim_end().split_once(':') {
                    match k.trim().to_ascii_lowercase().as_str() {
                        "content-length" => length = v.trim().parse().unwrap_or(0),
                        "content-type" => ctype = v.trim().to_owned(),
                        _ => {}
                    }
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let first = {
                let mut seen = record.lock().unwrap();
                seen.push((line.trim_end().to_owned(), ctype, String::from_utf8_lossy(&body).into_owned()));
                seen.len() == 1
            };
            let answer: &[u8] = if first {
                b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            } else {
                b"HTTP/1.1 200 OK\r\ncache-control: no-store\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            };
            let mut s = stream;
            let _ = s.write_all(answer);
        }
    });
    (port, seen)
}

fn verify(s: &Server, d: &Value, aud: &str, token: &str, typ: &str) -> Value {
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    assert_eq!(header.typ.as_deref(), Some(typ));
    let kid = header.kid.expect("kid");
    let jwks_path = d["jwks_uri"].as_str().unwrap().strip_prefix(s.issuer()).unwrap().to_owned();
    let jwks = s.get(&jwks_path).expect_json(200);
    let jwk = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).expect("kid in the JWKS");
    let key = DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap()).unwrap();
    let mut v = Validation::new(Algorithm::RS256);
    v.set_issuer(&[d["issuer"].as_str().unwrap()]);
    v.set_audience(&[aud]);
    v.leeway = 5;
    jsonwebtoken::decode::<Value>(token, &key, &v).unwrap_or_else(|e| panic!("refused ({e}): {token}")).claims
}

#[test]
fn rp_initiated_logout_redirects_with_state_and_notifies_over_the_back_channel() {
    let (port, seen) = listener();
    let s = Server::start_with(&roomy_vars());
    let d = s.get("/.well-known/openid-configuration").expect_json(200);
    assert_eq!(d["end_session_endpoint"], format!("{}/oauth/logout", s.issuer()));
    assert_eq!(d["backchannel_logout_supported"], true);
    let cb = format!("https://rp-{}.example/cb", rand_hex(3));
    let bye = cb.replace("/cb", "/signed-out");
    let bc = format!("http://127.0.0.1:{port}/backchannel");
    let app = s.create_app(json!({
        "name": "Logout RP", "owner": owner("logout"), "redirect_uris": [cb], "scopes": ["public"],
        "post_logout_redirect_uris": [bye], "backchannel_logout_uri": bc,
    }));
    assert_eq!(app.json["post_logout_redirect_uris"], json!([bye]));
    let c = Client { app, redirect_uri: cb.clone(), public: false };
    let (b, _) = Browser::signed_up(&s, "logout");
    let (verifier, challenge) = pkce();
    let path = authorize_path(&[
        ("response_type", "code"), ("client_id", c.id()), ("redirect_uri", cb.as_str()),
        ("scope", "openid"), ("nonce", "n-logout"),
        ("code_challenge", challenge.as_str()), ("code_challenge_method", "S256"),
    ]);
    let t = c.redeem(&s, &b.code(&s, &path), Some(&verifier)).expect_json(200);
    let hint = t["id_token"].as_str().expect("an id_token").to_owned();
    let idc = verify(&s, &d, c.id(), &hint, "JWT");
    assert!(b.cookie(SESSION_COOKIE).is_some());
    // A post-logout URI one character off: an error page, no redirect, still signed in.
    let off = format!("{bye}x");
    let r = b.get(&format!("/oauth/logout?{}", form(&[("id_token_hint", &hint), ("post_logout_redirect_uri", &off)])));
    assert_eq!(r.status, 400);
    assert!(r.header("location").is_none());
    assert!(b.get("/").text().contains("Signed in as"));
    assert!(seen.lock().unwrap().is_empty());
    // The registered one: signed out, sent back with state.
    let logout = format!("/oauth/logout?{}", form(&[("id_token_hint", &hint), ("post_logout_redirect_uri", &bye), ("state", "st-bye")]));
    let r = b.get(&logout);
    r.expect(303);
    assert_eq!(r.header("location"), Some(format!("{bye}?state=st-bye").as_str()));
    assert!(b.cookie(SESSION_COOKIE).is_none(), "the session cookie is cleared");
    assert!(!b.get("/").text().contains("Signed in as"));
    // The logout token arrives after the response: refused once (503), then delivered.
    let start = Instant::now();
    while seen.lock().unwrap().len() < 2 && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "one retry after the 503: {seen:?}");
    assert_eq!(seen[0], seen[1], "the same token again");
    let (line, ctype, body) = &seen[1];
    assert_eq!(line, "POST /backchannel HTTP/1.1");
    assert_eq!(ctype, "application/x-www-form-urlencoded");
    let token = body.strip_prefix("logout_token=").expect("logout_token=");
    let lc = verify(&s, &d, c.id(), &pct_decode(token), "logout+jwt");
    assert_eq!(lc["sub"], idc["sub"]);
    assert_eq!(lc["sid"], idc["sid"]);
    assert_eq!(lc["events"], json!({"http://schemas.openid.net/event/backchannel-logout": {}}));
    assert!(lc["jti"].is_string() && lc.get("nonce").is_none(), "{lc}");
}
