//! What one Durable Object instance remembers of its own storage between commands: a
//! write-through cache in front of its [`Kv`]. Only the instance that holds an object writes its
//! storage (the platform runs at most one instance of an object at a time, and the storage is
//! private to it), so a value this instance read or wrote stays what the storage holds until
//! this instance changes it: every `put` and `delete` goes to the storage first and then to the
//! cache, so nothing the cache answers can be older than the storage. A new instance (after an
//! eviction, a reset or a failed write) starts empty. The guarantees built on the objects
//! (immediate revocation, single-use codes and refresh tokens, exact counters) are the storage's:
//! the cache only saves reading back what the instance already knows.
//!
//! Expiry: an entry keeps its `expires_at` and is hidden from the command whose `now` is past it,
//! as the storage hides it (`exp >= now`). Bounds: at most [`MAX_ENTRIES`] keys (all forgotten when
//! full) and values up to [`MAX_VALUE_BYTES`] (longer ones are always read from the storage).
//! `list` always reads the storage.

use super::kv::Kv;
use crate::error::Result;
use std::cell::RefCell;
use std::collections::HashMap;

/// Keys remembered per instance before the cache starts over.
pub const MAX_ENTRIES: usize = 1024;
/// Longest value remembered, in bytes.
pub const MAX_VALUE_BYTES: usize = 16 * 1024;

/// A stored value with its expiry (unix seconds), as [`ExpiringKv::get_entry`] reads it.
pub type Entry = (String, Option<i64>);

/// The cache itself: key → the value and its expiry, or `None` for a key the storage lacks.
#[derive(Debug, Default)]
pub struct ReadCache {
    map: HashMap<String, Option<Entry>>,
}

impl ReadCache {
    pub fn clear(&mut self) {
        self.map.clear();
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    fn remember(&mut self, key: &str, entry: Option<Entry>) {
        if entry.as_ref().is_some_and(|(v, _)| v.len() > MAX_VALUE_BYTES) {
            self.map.remove(key);
            return;
        }
        if self.map.len() >= MAX_ENTRIES && !self.map.contains_key(key) {
            self.map.clear();
        }
        self.map.insert(key.to_owned(), entry);
    }
}

/// A storage that can say when a value expires (what the cache needs to hide it on time).
pub trait ExpiringKv: Kv {
    /// The value of `key` and its expiry, if the storage holds it unexpired.
    fn get_entry(&self, key: &str) -> Result<Option<Entry>>;
}

/// `inner` behind `cache`, for one command at time `now`.
pub struct Cached<'a, K> {
    inner: K,
    cache: RefCell<&'a mut ReadCache>,
    now: i64,
}

impl<'a, K: ExpiringKv> Cached<'a, K> {
    pub fn new(inner: K, cache: &'a mut ReadCache, now: i64) -> Self {
        Cached {
            inner,
            cache: RefCell::new(cache),
            now,
        }
    }
}

impl<K: ExpiringKv> Kv for Cached<'_, K> {
    fn get(&self, key: &str) -> Result<Option<String>> {
        if let Some(known) = self.cache.borrow().map.get(key) {
            return Ok(match known {
                Some((v, exp)) if exp.is_none_or(|e| e >= self.now) => Some(v.clone()),
                _ => None,
            });
        }
        let entry = self.inner.get_entry(key)?;
        let value = entry.as_ref().map(|(v, _)| v.clone());
        self.cache.borrow_mut().remember(key, entry);
        Ok(value)
    }

    fn put(&mut self, key: &str, value: &str, expires_at: Option<i64>) -> Result<()> {
        // The storage first: a failed write leaves the key to be read from it again.
        let r = self.inner.put(key, value, expires_at);
        let cache = self.cache.get_mut();
        match r {
            Ok(()) => cache.remember(key, Some((value.to_owned(), expires_at))),
            Err(_) => {
                cache.map.remove(key);
            }
        }
        r
    }

    fn delete(&mut self, key: &str) -> Result<()> {
        let r = self.inner.delete(key);
        let cache = self.cache.get_mut();
        match r {
            Ok(()) => cache.remember(key, None),
            Err(_) => {
                cache.map.remove(key);
            }
        }
        r
    }

    fn list(&self, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<(String, String)>> {
        self.inner.list(prefix, after, limit)
    }

    fn purge_expired(&mut self, now: i64) -> Result<()> {
        // Expired entries are hidden by `get` already; the storage drops its own.
        self.inner.purge_expired(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::objects::kv::MemKv;
    use std::cell::Cell;

    /// A storage that counts its reads, hides expired values as SQLite does, and can fail.
    #[derive(Default)]
    struct Store {
        kv: MemKv,
        exp: HashMap<String, Option<i64>>,
        now: i64,
        reads: Cell<u32>,
        fail_writes: bool,
    }

    impl Kv for Store {
        fn get(&self, key: &str) -> Result<Option<String>> {
            Ok(self.get_entry(key)?.map(|(v, _)| v))
        }
        fn put(&mut self, key: &str, value: &str, expires_at: Option<i64>) -> Result<()> {
            if self.fail_writes {
                return Err(Error::unavailable("storage is unavailable"));
            }
            self.exp.insert(key.to_owned(), expires_at);
            self.kv.put(key, value, expires_at)
        }
        fn delete(&mut self, key: &str) -> Result<()> {
            if self.fail_writes {
                return Err(Error::unavailable("storage is unavailable"));
            }
            self.exp.remove(key);
            self.kv.delete(key)
        }
        fn list(&self, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<(String, String)>> {
            self.kv.list(prefix, after, limit)
        }
        fn purge_expired(&mut self, now: i64) -> Result<()> {
            self.kv.purge_expired(now)
        }
    }

    impl ExpiringKv for Store {
        fn get_entry(&self, key: &str) -> Result<Option<Entry>> {
            self.reads.set(self.reads.get() + 1);
            let exp = self.exp.get(key).copied().flatten();
            if exp.is_some_and(|e| e < self.now) {
                return Ok(None);
            }
            Ok(self.kv.get(key)?.map(|v| (v, exp)))
        }
    }

    fn store(now: i64) -> Store {
        Store {
            now,
            ..Store::default()
        }
    }

    #[test]
    fn a_value_read_or_written_once_is_answered_without_reading_the_storage_again() {
        let mut cache = ReadCache::default();
        let mut s = store(100);
        s.put("a", "1", None).unwrap();
        let mut kv = Cached::new(s, &mut cache, 100);
        assert_eq!(kv.get("a").unwrap().as_deref(), Some("1"));
        assert_eq!(kv.get("a").unwrap().as_deref(), Some("1"));
        assert_eq!(kv.get("missing").unwrap(), None);
        assert_eq!(kv.get("missing").unwrap(), None);
        assert_eq!(kv.inner.reads.get(), 2, "one read per key");
        kv.put("b", "2", None).unwrap();
        assert_eq!(kv.get("b").unwrap().as_deref(), Some("2"));
        assert_eq!(kv.inner.reads.get(), 2, "a written value is known");
    }

    #[test]
    fn writes_and_deletes_reach_the_storage_and_the_next_command_sees_them() {
        let mut cache = ReadCache::default();
        let mut s = store(100);
        s.put("code", "unused", None).unwrap();
        let s = {
            let mut kv = Cached::new(s, &mut cache, 100);
            assert_eq!(kv.get("code").unwrap().as_deref(), Some("unused"));
            // Single use: the first redemption deletes it.
            kv.delete("code").unwrap();
            assert_eq!(kv.get("code").unwrap(), None);
            kv.put("counter", "1", Some(160)).unwrap();
            kv.put("counter", "2", Some(160)).unwrap();
            kv.inner
        };
        assert_eq!(s.kv.get("code").unwrap(), None, "the storage lost it too");
        assert_eq!(s.kv.get("counter").unwrap().as_deref(), Some("2"));
        // The next command, same instance: the cache agrees with the storage.
        let kv = Cached::new(s, &mut cache, 101);
        assert_eq!(kv.get("code").unwrap(), None);
        assert_eq!(kv.get("counter").unwrap().as_deref(), Some("2"));
        assert_eq!(
            kv.inner.reads.get(),
            1,
            "only the first read of `code` went to the storage"
        );
    }

    #[test]
    fn an_entry_past_its_expiry_is_hidden_like_the_storage_hides_it() {
        let mut cache = ReadCache::default();
        let s = {
            let mut kv = Cached::new(store(100), &mut cache, 100);
            kv.put("jti:x", "1", Some(150)).unwrap();
            assert_eq!(kv.get("jti:x").unwrap().as_deref(), Some("1"));
            kv.inner
        };
        let kv = Cached::new(s, &mut cache, 150);
        assert_eq!(
            kv.get("jti:x").unwrap().as_deref(),
            Some("1"),
            "exp >= now: still there"
        );
        let s = kv.inner;
        let kv = Cached::new(s, &mut cache, 151);
        assert_eq!(kv.get("jti:x").unwrap(), None, "expired");
    }

    #[test]
    fn a_failed_write_forgets_the_key_so_it_is_read_from_the_storage_again() {
        let mut cache = ReadCache::default();
        let mut s = store(100);
        s.put("a", "old", None).unwrap();
        let mut kv = Cached::new(s, &mut cache, 100);
        assert_eq!(kv.get("a").unwrap().as_deref(), Some("old"));
        kv.inner.fail_writes = true;
        assert!(kv.put("a", "new", None).is_err());
        assert!(kv.delete("a").is_err());
        assert_eq!(
            kv.get("a").unwrap().as_deref(),
            Some("old"),
            "what the storage holds"
        );
        assert_eq!(kv.inner.reads.get(), 2);
    }

    #[test]
    fn the_cache_stays_bounded_and_long_values_are_not_kept() {
        let mut cache = ReadCache::default();
        {
            let mut kv = Cached::new(store(100), &mut cache, 100);
            for i in 0..(MAX_ENTRIES + 10) {
                kv.put(&format!("k{i}"), "v", None).unwrap();
            }
            let long = "x".repeat(MAX_VALUE_BYTES + 1);
            kv.put("long", &long, None).unwrap();
            assert_eq!(kv.get("long").unwrap().as_deref(), Some(long.as_str()));
            assert_eq!(kv.get("long").unwrap().as_deref(), Some(long.as_str()));
            assert_eq!(
                kv.inner.reads.get(),
                2,
                "a long value is read from the storage every time"
            );
            // Forgotten keys are read again, with the right value.
            assert_eq!(kv.get("k0").unwrap().as_deref(), Some("v"));
        }
        assert!(cache.len() <= MAX_ENTRIES);
    }

    #[test]
    fn list_reads_the_storage() {
        let mut cache = ReadCache::default();
        let mut kv = Cached::new(store(100), &mut cache, 100);
        kv.put("p:1", "a", None).unwrap();
        kv.put("p:2", "b", None).unwrap();
        kv.delete("p:1").unwrap();
        assert_eq!(
            kv.list("p:", None, 10).unwrap(),
            vec![("p:2".to_owned(), "b".to_owned())]
        );
    }
}
