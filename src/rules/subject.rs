//! Subject identifiers (OpenID Connect Core 1.0 §8): `public` (the person's user id, the same for
//! every app) or `pairwise` (§8.1: one per sector, so two apps of different sectors cannot tell
//! they serve the same person). The sector is the one host of the app's redirect URIs (no
//! `sector_identifier_uri` here, so an app whose redirect URIs span hosts cannot be pairwise).
//! A pairwise subject is HMAC-SHA256, keyed by the deployment's `PAIRWISE_SECRET`, of the
//! tenant, the sector and the user id: stable for a person and sector, distinct across people,
//! sectors and tenants, and not reversible or computable by anyone without the secret.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The sector of an app: the host its redirect URIs share (lower case), or `None` when it has
/// none or they name more than one host.
pub fn sector(redirect_uris: &[String]) -> Option<String> {
    let mut host: Option<String> = None;
    for u in redirect_uris {
        let h = url::Url::parse(u).ok()?.host_str()?.to_ascii_lowercase();
        match &host {
            Some(prev) if *prev != h => return None,
            Some(_) => {}
            None => host = Some(h),
        }
    }
    host
}

/// The pairwise subject of `user_id` for `sector` in tenant `context`, under `secret`: 43
/// base64url characters.
pub fn pairwise(secret: &str, context: &str, sector: &str, user_id: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        // HMAC takes a key of any length; this is never reached.
        return String::new();
    };
    for part in ["portcullis pairwise subject v1", context, sector, user_id] {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part.as_bytes());
    }
    crate::util::b64url(&mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn the_sector_is_the_one_host_of_the_redirect_uris() {
        assert_eq!(sector(&s(&["https://A.example/cb", "https://a.example/other"])).as_deref(), Some("a.example"));
        assert_eq!(sector(&s(&["http://127.0.0.1:8080/cb", "http://127.0.0.1:9090/cb"])).as_deref(), Some("127.0.0.1"));
        assert_eq!(sector(&s(&["https://a.example/cb", "https://b.example/cb"])), None);
        assert_eq!(sector(&[]), None);
        assert_eq!(sector(&s(&["not a url"])), None);
        assert_eq!(sector(&s(&["com.example.app:/cb"])), None, "no host: no sector");
    }

    #[test]
    fn pairwise_subjects_are_stable_and_distinct() {
        let a = pairwise("k", "", "a.example", "user-1");
        assert_eq!(a, pairwise("k", "", "a.example", "user-1"));
        assert_eq!(a.len(), 43);
        for other in [
            pairwise("k", "", "b.example", "user-1"),
            pairwise("k", "", "a.example", "user-2"),
            pairwise("k", "acme", "a.example", "user-1"),
            pairwise("k2", "", "a.example", "user-1"),
            // Length-prefixed parts: moving a boundary changes the subject.
            pairwise("k", "", "a.exampleu", "ser-1"),
        ] {
            assert_ne!(a, other);
        }
        assert_ne!(a, "user-1");
    }
}
