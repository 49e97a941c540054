//! `owner:<owner>`: which apps an owner holds, counted so the per-owner limit is exact under races.

use super::kv::Kv;
use super::protocol::{kind, Op};
use crate::error::{Error, ErrorCode, Result};
use serde::{Deserialize, Serialize};

kind!(Owner = "owner", object);

const COUNT: &str = "count";

fn count(kv: &dyn Kv) -> Result<u32> {
    Ok(kv.get(COUNT)?.and_then(|c| c.parse().ok()).unwrap_or(0))
}

fn app_key(app_id: &str) -> String {
    format!("app:{app_id}")
}

/// Counts a new app against the owner's limit (`limit_reached` when full).
#[derive(Debug, Serialize, Deserialize)]
pub struct Reserve {
    pub app_id: String,
    pub limit: u32,
}
impl Op for Reserve {
    type Kind = Owner;
    type Reply = ();
    fn apply(self, kv: &mut dyn Kv, _now: i64) -> Result<()> {
        let n = count(kv)?;
        if n >= self.limit {
            return Err(Error::new(
                ErrorCode::LimitReached,
                format!("this owner already has {n} apps; the limit is {}", self.limit),
            ));
        }
        kv.put(&app_key(&self.app_id), "1", None)?;
        kv.put(COUNT, &(n + 1).to_string(), None)
    }
}

/// Gives an app's place back (the app was removed, or its creation failed).
#[derive(Debug, Serialize, Deserialize)]
pub struct Release {
    pub app_id: String,
}
impl Op for Release {
    type Kind = Owner;
    type Reply = ();
    fn apply(self, kv: &mut dyn Kv, _now: i64) -> Result<()> {
        let key = app_key(&self.app_id);
        if kv.get(&key)?.is_some() {
            kv.delete(&key)?;
            let n = count(kv)?;
            kv.put(COUNT, &n.saturating_sub(1).to_string(), None)?;
        }
        Ok(())
    }
}

/// One page of the owner's app ids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page {
    pub ids: Vec<String>,
    pub next: Option<String>,
}

/// The owner's app ids after `after`, at most `limit`.
#[derive(Debug, Serialize, Deserialize)]
pub struct List {
    pub after: Option<String>,
    pub limit: usize,
}
impl Op for List {
    type Kind = Owner;
    type Reply = Page;
    fn apply(self, kv: &mut dyn Kv, _now: i64) -> Result<Page> {
        let after = self.after.map(|a| app_key(&a));
        let rows = kv.list("app:", after.as_deref(), self.limit + 1)?;
        let mut ids: Vec<String> = rows
            .into_iter()
            .filter_map(|(k, _)| k.strip_prefix("app:").map(str::to_owned))
            .collect();
        let next = if ids.len() > self.limit {
            ids.truncate(self.limit);
            ids.last().cloned()
        } else {
            None
        };
        Ok(Page { ids, next })
    }
}
