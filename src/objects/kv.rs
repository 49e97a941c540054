//! The key-value view of one Durable Object's storage. In workerd it is SQLite, whose calls are
//! synchronous: a command that runs start to finish without awaiting is atomic by construction.

use crate::error::Result;
use std::collections::BTreeMap;

pub trait Kv {
    fn get(&self, key: &str) -> Result<Option<String>>;
    /// `expires_at` (unix seconds) lets `purge_expired` drop replay and revocation entries.
    fn put(&mut self, key: &str, value: &str, expires_at: Option<i64>) -> Result<()>;
    fn delete(&mut self, key: &str) -> Result<()>;
    /// Keys with `prefix`, in order, strictly after `after`, at most `limit`.
    fn list(&self, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<(String, String)>>;
    fn purge_expired(&mut self, now: i64) -> Result<()>;
}

/// In-memory [`Kv`] for native tests.
#[derive(Debug, Default, Clone)]
pub struct MemKv {
    map: BTreeMap<String, (String, Option<i64>)>,
}

impl Kv for MemKv {
    fn get(&self, key: &str) -> Result<Option<String>> {
        Ok(self.map.get(key).map(|(v, _)| v.clone()))
    }
    fn put(&mut self, key: &str, value: &str, expires_at: Option<i64>) -> Result<()> {
        self.map.insert(key.to_owned(), (value.to_owned(), expires_at));
        Ok(())
    }
    fn delete(&mut self, key: &str) -> Result<()> {
        self.map.remove(key);
        Ok(())
    }
    fn list(&self, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<(String, String)>> {
        Ok(self
            .map
            .range(prefix.to_owned()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .filter(|(k, _)| after.is_none_or(|a| k.as_str() > a))
            .take(limit)
            .map(|(k, (v, _))| (k.clone(), v.clone()))
            .collect())
    }
    fn purge_expired(&mut self, now: i64) -> Result<()> {
        self.map.retain(|_, (_, exp)| exp.is_none_or(|e| e >= now));
        Ok(())
    }
}
