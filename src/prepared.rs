//! Documents made from a configuration alone (and the issuer they are served at): the RFC 8414
//! metadata and the OpenID configuration. They are the same for every request a configuration
//! serves, so each is serialised once and then served as bytes.
//!
//! The cache lives inside the [`Config`](crate::config::Config) it is made from, so it is exactly
//! as fresh as that configuration: an organisation's new version is a new `Config` (and new
//! keys) with an empty cache, and cloning a configuration (which is how a changed one is made,
//! `tenancy::config_for`) never carries documents over. No key is made of addresses.

use std::cell::RefCell;
use std::rc::Rc;

/// Issuers kept per configuration (in development the issuer is the request's origin, so there
/// can be many); past this the cache starts over.
const MAX_ENTRIES: usize = 16;

#[derive(Default)]
pub struct Prepared {
    docs: RefCell<Vec<(&'static str, String, Rc<str>)>>,
}

impl Prepared {
    /// The document `kind` for `issuer`, made by `make` the first time.
    pub fn get_or(&self, kind: &'static str, issuer: &str, make: impl FnOnce() -> String) -> Rc<str> {
        if let Some((_, _, doc)) = self.docs.borrow().iter().find(|(k, i, _)| *k == kind && i == issuer) {
            return doc.clone();
        }
        let doc: Rc<str> = make().into();
        let mut docs = self.docs.borrow_mut();
        if docs.len() >= MAX_ENTRIES {
            docs.clear();
        }
        docs.push((kind, issuer.to_owned(), doc.clone()));
        doc
    }
}

/// A clone is a new configuration, about to be changed: it starts with nothing prepared.
impl Clone for Prepared {
    fn clone(&self) -> Self {
        Prepared::default()
    }
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Prepared({} documents)", self.docs.borrow().len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn made_once_per_kind_and_issuer_and_never_cloned() {
        let p = Prepared::default();
        let made = Cell::new(0);
        let make = |s: &str| {
            made.set(made.get() + 1);
            s.to_owned()
        };
        assert_eq!(&*p.get_or("meta", "https://a", || make("A")), "A");
        assert_eq!(&*p.get_or("meta", "https://a", || make("X")), "A");
        assert_eq!(&*p.get_or("oidc", "https://a", || make("B")), "B");
        assert_eq!(&*p.get_or("meta", "https://b", || make("C")), "C");
        assert_eq!(made.get(), 3);
        let q = p.clone();
        assert_eq!(&*q.get_or("meta", "https://a", || make("D")), "D", "a clone starts empty");
        // Bounded: many issuers (development serves each origin) start it over.
        for i in 0..100 {
            p.get_or("meta", &format!("https://h{i}"), || make("h"));
        }
        assert!(p.docs.borrow().len() <= MAX_ENTRIES);
    }
}
