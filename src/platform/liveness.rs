//! The gateway's per-isolate memory of whether a token is alive (`GATEWAY_CACHE_SECONDS`):
//! one policy, whichever platform keeps the memory.

use std::cell::RefCell;
use std::collections::HashMap;

/// Entries beyond this are pruned of expired answers before another is added.
const MAX_ENTRIES: usize = 50_000;

#[derive(Debug, Default)]
pub struct LivenessCache {
    map: RefCell<HashMap<String, (f64, bool)>>,
}

impl LivenessCache {
    /// `Some(active)` while the answer remembered for `jti` is fresh at `now_ms`.
    pub fn get(&self, jti: &str, now_ms: f64) -> Option<bool> {
        self.map
            .borrow()
            .get(jti)
            .filter(|(until, _)| now_ms < *until)
            .map(|(_, active)| *active)
    }

    /// Remembers `active` for `jti` until `until_ms`.
    pub fn remember(&self, jti: &str, active: bool, until_ms: f64, now_ms: f64) {
        let mut m = self.map.borrow_mut();
        if m.len() > MAX_ENTRIES {
            m.retain(|_, (until, _)| *until > now_ms);
        }
        m.insert(jti.to_owned(), (until_ms, active));
    }

    pub fn clear(&self) {
        self.map.borrow_mut().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_expire_and_the_map_is_pruned_of_expired_entries() {
        let c = LivenessCache::default();
        c.remember("a", true, 100.0, 0.0);
        assert_eq!(c.get("a", 99.0), Some(true));
        assert_eq!(c.get("a", 100.0), None);
        for i in 0..=MAX_ENTRIES {
            c.remember(&i.to_string(), false, 10.0, 0.0);
        }
        c.remember("b", false, 1000.0, 500.0);
        assert_eq!(c.map.borrow().len(), 1);
    }
}
