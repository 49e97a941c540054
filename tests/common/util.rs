//! Small utilities: time, randomness, base64url, form encoding, credentials, threads.

use super::*;

// ---------------------------------------------------------------------------------------------
// Small utilities
// ---------------------------------------------------------------------------------------------

pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// `n` random bytes as lower-case hex.
pub fn rand_hex(n: usize) -> String {
    use rand_core::RngCore;
    let mut b = vec![0u8; n];
    rand_core::OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A unique owner name for one test (apps are counted and listed per owner).
pub fn owner(tag: &str) -> String {
    format!("e2e-{tag}-{}", rand_hex(6))
}

pub fn b64url(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

pub fn b64url_decode(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(s)
        .unwrap_or_else(|e| panic!("not base64url ({e}): {s}"))
}

/// `application/x-www-form-urlencoded` encoding of one component (everything but unreserved).
pub fn form_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// RFC 6749 §2.3.1: id and secret are form-encoded, then Base64.
pub fn basic(id: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", form_encode(id), form_encode(secret)))
    )
}

/// `pairs`, then `("scope", scope)` when a scope is given.
pub fn with_scope<'a>(pairs: &[(&'a str, &'a str)], scope: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
    pairs.iter().copied().chain(scope.map(|sc| ("scope", sc))).collect()
}

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// A client id as the server issues them: 32 URL-safe characters.
pub fn looks_like_client_id(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Runs `f(i)` for `i` in `0..n` on `n` threads released together by a barrier; returns the
/// results in thread order.
pub fn concurrently<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let barrier = std::sync::Barrier::new(n);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let (f, b) = (&f, &barrier);
                s.spawn(move || {
                    b.wait();
                    f(i)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}
