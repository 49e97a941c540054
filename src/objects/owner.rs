//! `owner:<owner>`: which apps an owner holds, counted so the per-owner limit is exact under races.

use super::kv::Kv;
use super::protocol::{kind, op};
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

op! {
    /// Counts a new app against the owner's limit (`limit_reached` when full).
    Reserve in Owner => () {
        pub app_id: String,
        pub limit: u32,
    }
    |cmd, kv, _now| {
        let n = count(kv)?;
        if n >= cmd.limit {
            return Err(Error::new(
                ErrorCode::LimitReached,
                format!("this owner already has {n} apps; the limit is {}", cmd.limit),
            ));
        }
        kv.put(&app_key(&cmd.app_id), "1", None)?;
        kv.put(COUNT, &(n + 1).to_string(), None)
    }
}

op! {
    /// Gives an app's place back (the app was removed, or its creation failed).
    Release in Owner => () {
        pub app_id: String,
    }
    |cmd, kv, _now| {
        let key = app_key(&cmd.app_id);
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

op! {
    /// The owner's app ids after `after`, at most `limit`.
    List in Owner => Page {
        pub after: Option<String>,
        pub limit: usize,
    }
    |cmd, kv, _now| {
        let after = cmd.after.map(|a| app_key(&a));
        let rows = kv.list("app:", after.as_deref(), cmd.limit + 1)?;
        let mut ids: Vec<String> = rows
            .into_iter()
            .filter_map(|(k, _)| k.strip_prefix("app:").map(str::to_owned))
            .collect();
        let next = if ids.len() > cmd.limit {
            ids.truncate(cmd.limit);
            ids.last().cloned()
        } else {
            None
        };
        Ok(Page { ids, next })
    }
}
