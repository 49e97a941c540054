//! Password hashing: argon2id at OWASP's minimum (m = 19 MiB, t = 2, p = 1), 16-byte salt,
//! stored as `argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>` (base64url).

use crate::error::{Error, Result};
use crate::util::{b64url, b64url_decode, ct_eq};
use argon2::{Algorithm, Argon2, Params, Version};

const M_KIB: u32 = 19 * 1024;
const T: u32 = 2;
const P: u32 = 1;

fn kdf(m: u32, t: u32, p: u32) -> Option<Argon2<'static>> {
    Params::new(m, t, p, Some(32))
        .ok()
        .map(|params| Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

pub fn hash(password: &str, salt: &[u8; 16]) -> Result<String> {
    let mut out = [0u8; 32];
    kdf(M_KIB, T, P)
        .ok_or_else(|| Error::server("bad KDF parameters"))?
        .hash_password_into(password.as_bytes(), salt, &mut out)
        .map_err(|_| Error::server("password hashing failed"))?;
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
    k.hash_password_into(password.as_bytes(), &salt, &mut out).is_ok() && ct_eq(&out, &expected)
}

/// Spends the same KDF work as a real check, for unknown accounts.
pub fn burn(password: &str) {
    let _ = hash(password, &[0u8; 16]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_verifies_and_wrong_password_does_not() {
        let h = hash("correct horse", &[7u8; 16]).unwrap();
        assert!(h.starts_with("argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse", &h));
        assert!(!verify("correct horsf", &h));
        assert!(!verify("correct horse", "garbage"));
        assert!(!verify("x", "argon2id$v=19$m=1,t=1,p=1$AA$AA"));
    }
}
