//! Password hashing: argon2id at OWASP's minimum (m = 19 MiB, t = 2, p = 1), 16-byte salt,
//! stored as `argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>` (base64url).
//!
//! One KDF run costs ~40–50 ms of CPU inside workerd (above the Workers free plan's 10 ms per
//! request; docs/PERFORMANCE.md), so it runs exactly once per log-in attempt, password grant or
//! sign-up that gets that far, and never on any other path: the tests below count the runs.

use crate::error::{Error, Result};
use crate::util::{b64url, b64url_decode, ct_eq};
use argon2::{Algorithm, Argon2, Params, Version};

const M_KIB: u32 = 19 * 1024;
const T: u32 = 2;
const P: u32 = 1;

#[cfg(test)]
thread_local! {
    /// KDF runs on this thread (the native tests run each request on the test's own thread).
    static RUNS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Runs the KDF into `out`: the one place it runs (counted in tests).
fn derive(k: &Argon2<'_>, password: &str, salt: &[u8], out: &mut [u8]) -> bool {
    #[cfg(test)]
    RUNS.with(|r| r.set(r.get() + 1));
    k.hash_password_into(password.as_bytes(), salt, out).is_ok()
}

fn kdf(m: u32, t: u32, p: u32) -> Option<Argon2<'static>> {
    Params::new(m, t, p, Some(32))
        .ok()
        .map(|params| Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

pub fn hash(password: &str, salt: &[u8; 16]) -> Result<String> {
    let mut out = [0u8; 32];
    let k = kdf(M_KIB, T, P).ok_or_else(|| Error::server("bad KDF parameters"))?;
    if !derive(&k, password, salt, &mut out) {
        return Err(Error::server("password hashing failed"));
    }
    Ok(format!(
        "argon2id$v=19$m={M_KIB},t={T},p={P}${}${}",
        b64url(salt),
        b64url(&out)
    ))
}

pub fn verify(password: &str, stored: &str) -> bool {
    let parts: Vec<&str> = stored.split('$').collect();
    let [alg, "v=19", params, salt, expected] = parts.as_slice() else {
        return false;
    };
    if *alg != "argon2id" {
        return false;
    }
    let mut m = 0;
    let mut t = 0;
    let mut p = 0;
    for kv in params.split(',') {
        match kv.split_once('=') {
            Some(("m", v)) => m = v.parse().unwrap_or(0),
            Some(("t", v)) => t = v.parse().unwrap_or(0),
            Some(("p", v)) => p = v.parse().unwrap_or(0),
            _ => return false,
        }
    }
    let (Some(salt), Some(expected), Some(k)) = (b64url_decode(salt), b64url_decode(expected), kdf(m, t, p))
    else {
        return false;
    };
    let mut out = vec![0u8; expected.len().clamp(16, 64)];
    derive(&k, password, &salt, &mut out) && ct_eq(&out, &expected)
}

/// Whether `stored` is a hash this module wrote (`argon2id$v=19$m=…,t=…,p=…$salt$hash`, the
/// parameters within what [`verify`] runs, 16-byte salt, 32-byte output), without running the
/// KDF: what a backup's restore accepts as a password hash.
pub fn well_formed(stored: &str) -> bool {
    let parts: Vec<&str> = stored.split('$').collect();
    let ["argon2id", "v=19", params, salt, out] = parts.as_slice() else {
        return false;
    };
    let mut seen = [None::<u32>; 3];
    for kv in params.split(',') {
        let slot = match kv.split_once('=') {
            Some(("m", v)) => (0, v),
            Some(("t", v)) => (1, v),
            Some(("p", v)) => (2, v),
            _ => return false,
        };
        let Ok(n) = slot.1.parse::<u32>() else { return false };
        match seen.get_mut(slot.0) {
            Some(s @ None) => *s = Some(n),
            _ => return false,
        }
    }
    let [Some(m), Some(t), Some(p)] = seen else { return false };
    // At least OWASP's minimum this module uses, at most what a request can afford.
    (M_KIB..=64 * 1024).contains(&m)
        && (T..=4).contains(&t)
        && p == P
        && b64url_decode(salt).is_some_and(|s| s.len() == 16)
        && b64url_decode(out).is_some_and(|o| o.len() == 32)
}

/// Spends the same KDF work as a real check, for unknown accounts.
pub fn burn(password: &str) {
    let _ = hash(password, &[0u8; 16]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_hashes_are_what_hash_writes() {
        let h = hash("correct horse", &[7u8; 16]).unwrap();
        assert!(well_formed(&h));
        for bad in [
            String::new(),
            "!reset-required".into(),
            h.replace("argon2id", "argon2i"),
            h.replace("m=19456", "m=8"),
            h.replace("m=19456", "m=999999999"),
            h.replace("t=2", "t=2,t=3"),
            h.replace("p=1", "p=4"),
            format!("{h}$x"),
            h.get(..h.len() - 2).unwrap().to_owned(),
        ] {
            assert!(!well_formed(&bad), "{bad}");
        }
    }

    #[test]
    fn hash_verifies_and_wrong_password_does_not() {
        let h = hash("correct horse", &[7u8; 16]).unwrap();
        assert!(h.starts_with("argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse", &h));
        assert!(!verify("correct horsf", &h));
        assert!(!verify("correct horse", "garbage"));
        assert!(!verify("x", "argon2id$v=19$m=1,t=1,p=1$AA$AA"));
    }

    /// KDF runs of what `f` does on this thread.
    fn runs(f: impl FnOnce()) -> u32 {
        let before = RUNS.with(|r| r.get());
        f();
        RUNS.with(|r| r.get()) - before
    }

    /// Once per log-in attempt, password grant or sign-up that reaches the password check, and
    /// never before the checks that refuse a request without it (client authentication, CSRF,
    /// limits, password rules) nor on any other endpoint.
    #[test]
    fn the_kdf_runs_once_per_attempt_and_only_where_a_password_is_checked() {
        use crate::config::{Config, Secret};
        use crate::crypto::keys::{tests::test_pem, SigningKeys};
        use crate::http::{params::encode_form, Request, Response};
        use crate::platform::memory::{block_on, MemPlatform};

        let mut cfg = Config::default();
        cfg.admin_token = Some(Secret("admin-secret".into()));
        cfg.login_limit_account = 3;
        let p = MemPlatform::new(cfg, SigningKeys::from_pems(test_pem(), true).unwrap());
        let send = |method: &str, path: &str, headers: &[(&str, &str)], body: &str| -> Response {
            let r = Request {
                method: method.into(),
                path: path.into(),
                headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                body: body.as_bytes().to_vec(),
                origin: "http://127.0.0.1:8787".into(),
                remote_addr: "192.0.2.1".into(),
                ..Default::default()
            };
            block_on(crate::routes::handle(&p, &r))
        };
        let made = send(
            "POST",
            "/admin/apps",
            &[("authorization", "Bearer admin-secret"), ("content-type", "application/json")],
            r#"{"name":"Pw","grant_types":["password","refresh_token"],"scopes":["public"]}"#,
        );
        assert_eq!(made.status, 201);
        let app: serde_json::Value = serde_json::from_slice(&made.body).unwrap();
        let (id, secret) = (app["client_id"].as_str().unwrap(), app["client_secret"].as_str().unwrap());
        let form = [("content-type", "application/x-www-form-urlencoded")];
        let grant = |secret: &str, user: &str, password: Option<&str>| {
            let mut pairs = vec![
                ("grant_type", "password"),
                ("client_id", id),
                ("client_secret", secret),
                ("username", user),
            ];
            pairs.extend(password.map(|pw| ("password", pw)));
            send("POST", "/oauth/token", &form, &encode_form(&pairs)).status
        };

        // Sign-up: once, for a new email and for one that has an account alike; never for a
        // password the rules refuse.
        let sign_up = |email: &str, pw: &str| block_on(crate::accounts::sign_up(&p, email, pw, "Bob"));
        assert_eq!(runs(|| assert!(sign_up("bob@example.com", "correct horse").unwrap().is_some())), 1);
        assert_eq!(runs(|| assert!(sign_up("BOB@example.com", "another one").unwrap().is_none())), 1);
        assert_eq!(runs(|| assert!(sign_up("eve@example.com", "short").is_err())), 0);
        // A sign-up the people quota refuses pays no KDF either (the place is reserved first).
        {
            let mut cfg = Config::default();
            cfg.quotas.max_people = Some(1);
            let full = MemPlatform::new(cfg, SigningKeys::from_pems(test_pem(), true).unwrap());
            assert_eq!(runs(|| assert!(block_on(crate::accounts::sign_up(&full, "a@example.com", "correct horse", "A")).unwrap().is_some())), 1);
            let refused = runs(|| {
                let e = block_on(crate::accounts::sign_up(&full, "b@example.com", "correct horse", "B")).unwrap_err();
                assert_eq!(e.code, crate::error::ErrorCode::LimitReached);
            });
            assert_eq!(refused, 0);
        }

        // The password grant: once per attempt, right or wrong, known or unknown email.
        assert_eq!(runs(|| assert_eq!(grant(secret, "bob@example.com", Some("correct horse")), 200)), 1);
        assert_eq!(runs(|| assert_eq!(grant(secret, "bob@example.com", Some("wrong horse")), 400)), 1);
        assert_eq!(runs(|| assert_eq!(grant(secret, "nobody@example.com", Some("x")), 400)), 1);
        assert_eq!(runs(|| assert_eq!(grant(secret, "not an email", Some("x")), 400)), 1);
        // Refused before the password is looked at: no KDF.
        assert_eq!(runs(|| assert_eq!(grant("wrong-secret", "bob@example.com", Some("correct horse")), 401)), 0);
        assert_eq!(runs(|| assert_eq!(grant(secret, "bob@example.com", None), 400)), 0);

        // The log-in page: no KDF without the CSRF pair; once with it.
        let csrf = "c".repeat(43);
        let cookie = format!("portcullis_csrf={csrf}");
        let login = |pw: &str, with_csrf: bool| {
            let mut pairs = vec![("email", "bob@example.com"), ("password", pw), ("return_to", "/")];
            if with_csrf {
                pairs.push(("csrf", &csrf));
            }
            let h = [form[0], ("cookie", cookie.as_str())];
            send("POST", "/login", &h, &encode_form(&pairs)).status
        };
        assert_eq!(runs(|| assert_eq!(login("correct horse", false), 403)), 0);
        assert_eq!(runs(|| assert_eq!(login("correct horse", true), 303)), 1);
        // Each failure costs one run; once over the account's failure limit (3 here) the
        // attempt is refused before the KDF.
        let mut statuses = Vec::new();
        for _ in 0..5 {
            let mut status = 0;
            let n = runs(|| status = login("wrong horse", true));
            assert_eq!(n, u32::from(status == 401), "a {status} ran the KDF {n} times");
            statuses.push(status);
        }
        assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
        assert_eq!(runs(|| assert_eq!(grant(secret, "bob@example.com", Some("correct horse")), 429)), 0);

        // Nothing else runs it.
        assert_eq!(
            runs(|| {
                assert_eq!(send("GET", "/.well-known/oauth-authorization-server", &[], "").status, 200);
                assert_eq!(send("GET", "/.well-known/jwks.json", &[], "").status, 200);
                assert_eq!(send("GET", "/login", &[], "").status, 200);
                assert_eq!(send("GET", "/signup", &[], "").status, 200);
            }),
            0
        );
    }
}
