//! `owner:<owner>`: which apps an owner holds, counted so the per-owner limit is exact under races.

use super::Reply;
use crate::error::{Error, ErrorCode, Result};
use crate::store::kv::Kv;

const COUNT: &str = "count";

fn count(kv: &dyn Kv) -> Result<u32> {
    Ok(kv.get(COUNT)?.and_then(|c| c.parse().ok()).unwrap_or(0))
}

pub(super) fn reserve(kv: &mut dyn Kv, app_id: String, limit: u32) -> Result<Reply> {
    let n = count(kv)?;
    if n >= limit {
        return Err(Error::new(
            ErrorCode::LimitReached,
            format!("this owner already has {n} apps; the limit is {limit}"),
        ));
    }
    kv.put(&format!("app:{app_id}"), "1", None)?;
    kv.put(COUNT, &(n + 1).to_string(), None)?;
    Ok(Reply::Ok)
}

pub(super) fn release(kv: &mut dyn Kv, app_id: String) -> Result<Reply> {
    let key = format!("app:{app_id}");
    if kv.get(&key)?.is_some() {
        kv.delete(&key)?;
        let n = count(kv)?;
        kv.put(COUNT, &n.saturating_sub(1).to_string(), None)?;
    }
    Ok(Reply::Ok)
}

pub(super) fn list(kv: &dyn Kv, after: Option<String>, limit: usize) -> Result<Reply> {
    let after = after.map(|a| format!("app:{a}"));
    let rows = kv.list("app:", after.as_deref(), limit + 1)?;
    let mut ids: Vec<String> = rows
        .into_iter()
        .filter_map(|(k, _)| k.strip_prefix("app:").map(str::to_owned))
        .collect();
    let next = if ids.len() > limit {
        ids.truncate(limit);
        ids.last().cloned()
    } else {
        None
    };
    Ok(Reply::Ids { ids, next })
}
