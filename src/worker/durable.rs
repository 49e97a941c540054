//! The `Shard` Durable Object: a SQLite-backed key-value table that runs `objects::protocol::run`.
//! Every command's `apply` is synchronous and SQLite calls in a Durable Object are synchronous, so each command
//! runs without interleaving and its writes commit together.
//!
//! The worker reaches it by RPC: `run(command) -> reply`, both JSON strings (src/worker/entry.mjs
//! wraps this class in a `DurableObject`); `fetch` (a POST of the command) answers the same.
//! The hot statements (get, put, delete) are one call into JS each (`kv_get`, …), not an
//! argument array, a cursor and a serde-wasm-bindgen row object per statement.
//!
//! Expired rows are invisible to `get` and `list` (they filter on `exp`), exactly as if every
//! command had purged them first, so the purge itself runs at most once per [`PURGE_EVERY_S`]
//! per object instance instead of once per command.

use crate::error::{Error, Result as CoreResult};
use crate::objects::kv::Kv;
use crate::objects::protocol;
use crate::objects::read_cache::{Cached, Entry, ExpiringKv, ReadCache};
use serde::Deserialize;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use worker::{durable_object, DurableObject, Env, Request, Response, Result, SqlStorage, State};

/// Seconds between two purges of expired rows in one object instance.
const PURGE_EVERY_S: i64 = 60;

#[durable_object]
pub struct Shard {
    sql: SqlStorage,
    /// When this instance last deleted its expired rows (unix seconds; 0: never). An atomic
    /// only because wasm-bindgen wants exported types unwind-safe (one thread: Relaxed).
    purged_at: AtomicI64,
    /// What this instance knows of its own storage (`objects::read_cache`: write-through, so
    /// a command reads back a record, counter or code only once per instance). A Mutex only
    /// for unwind safety, as above.
    cache: Mutex<ReadCache>,
}

#[wasm_bindgen(inline_js = r#"
export function kv_get(sql, k, now) {
  for (const row of sql.exec("SELECT v, exp FROM kv WHERE k = ? AND (exp IS NULL OR exp >= ?)", k, now).raw()) return row;
  return undefined;
}
export function kv_put(sql, k, v, exp) {
  sql.exec("INSERT INTO kv (k, v, exp) VALUES (?, ?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v, exp = excluded.exp", k, v, exp === undefined ? null : exp);
}
export function kv_delete(sql, k) {
  sql.exec("DELETE FROM kv WHERE k = ?", k);
}
"#)]
extern "C" {
    #[wasm_bindgen(catch)]
    fn kv_get(sql: &JsValue, k: &str, now: f64) -> std::result::Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    fn kv_put(sql: &JsValue, k: &str, v: &str, exp: Option<f64>) -> std::result::Result<(), JsValue>;
    #[wasm_bindgen(catch)]
    fn kv_delete(sql: &JsValue, k: &str) -> std::result::Result<(), JsValue>;
}

#[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen)]
impl Shard {
    /// One command (JSON) in, its reply (JSON) out: the RPC the worker calls
    /// (`platform::call`). Synchronous, as every command is.
    #[wasm_bindgen(js_name = run)]
    pub fn run(&self, command: &str) -> String {
        self.apply(command.as_bytes())
    }
}

impl Shard {
    fn apply(&self, command: &[u8]) -> String {
        let now = (worker::Date::now().as_millis() / 1000) as i64;
        let sql = SqlKv {
            sql: &self.sql,
            now,
            purged_at: &self.purged_at,
        };
        // A panic inside an earlier command left the lock poisoned: start from an empty cache.
        let mut cache = self.cache.lock().unwrap_or_else(|poisoned| {
            let mut c = poisoned.into_inner();
            c.clear();
            c
        });
        self.cache.clear_poison();
        let mut kv = Cached::new(sql, &mut cache, now);
        protocol::run(&mut kv, now, command)
    }
}

impl DurableObject for Shard {
    fn new(state: State, _env: Env) -> Self {
        let sql = state.storage().sql();
        // Idempotent; runs once per object start.
        let _ = sql.exec(
            "CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT NOT NULL, exp INTEGER)",
            None,
        );
        let _ = sql.exec(
            "CREATE INDEX IF NOT EXISTS kv_exp ON kv (exp) WHERE exp IS NOT NULL",
            None,
        );
        Shard {
            sql,
            purged_at: AtomicI64::new(0),
            cache: Mutex::new(ReadCache::default()),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let bytes = req.bytes().await?;
        Response::ok(self.apply(&bytes))
    }
}

impl ExpiringKv for SqlKv<'_> {
    fn get_entry(&self, key: &str) -> CoreResult<Option<Entry>> {
        let row = kv_get(self.sql.as_ref(), key, self.now as f64).map_err(storage_err)?;
        if row.is_undefined() {
            return Ok(None);
        }
        // `[v, exp]`: a TEXT value and an INTEGER (or NULL) expiry.
        let row: worker::js_sys::Array = wasm_bindgen::JsCast::unchecked_into(row);
        let value = row.get(0).as_string().ok_or_else(|| Error::unavailable("storage returned a malformed row"))?;
        Ok(Some((value, row.get(1).as_f64().map(|e| e as i64))))
    }
}

struct SqlKv<'a> {
    sql: &'a SqlStorage,
    /// The command's time: rows with `exp < now` are expired.
    now: i64,
    purged_at: &'a AtomicI64,
}

#[derive(Deserialize)]
struct Row {
    k: String,
    v: String,
}

fn storage_err<E>(_: E) -> Error {
    Error::unavailable("storage is unavailable")
}

impl Kv for SqlKv<'_> {
    fn get(&self, key: &str) -> CoreResult<Option<String>> {
        Ok(self.get_entry(key)?.map(|(v, _)| v))
    }

    fn put(&mut self, key: &str, value: &str, expires_at: Option<i64>) -> CoreResult<()> {
        kv_put(self.sql.as_ref(), key, value, expires_at.map(|e| e as f64)).map_err(storage_err)
    }

    fn delete(&mut self, key: &str) -> CoreResult<()> {
        kv_delete(self.sql.as_ref(), key).map_err(storage_err)
    }

    fn list(&self, prefix: &str, after: Option<&str>, limit: usize) -> CoreResult<Vec<(String, String)>> {
        // Range scan on the primary key: [prefix, prefix + U+FFFF).
        let upper = format!("{prefix}\u{ffff}");
        let lower = after.unwrap_or(prefix).to_owned();
        let op = if after.is_some() { ">" } else { ">=" };
        let q = format!(
            "SELECT k, v FROM kv WHERE k {op} ? AND k < ? AND (exp IS NULL OR exp >= ?) ORDER BY k LIMIT ?"
        );
        let rows: Vec<Row> = self
            .sql
            .exec(&q, vec![lower.into(), upper.into(), self.now.into(), (limit as i64).into()])
            .and_then(|c| c.to_array())
            .map_err(storage_err)?;
        Ok(rows.into_iter().map(|r| (r.k, r.v)).collect())
    }

    /// Every [`PURGE_EVERY_S`] at most: until then `get` and `list` skip expired rows.
    fn purge_expired(&mut self, now: i64) -> CoreResult<()> {
        if now.saturating_sub(self.purged_at.load(Ordering::Relaxed)) < PURGE_EVERY_S {
            return Ok(());
        }
        self.purged_at.store(now, Ordering::Relaxed);
        self.sql
            .exec(
                "DELETE FROM kv WHERE exp IS NOT NULL AND exp < ?",
                vec![now.into()],
            )
            .map(|_| ())
            .map_err(storage_err)
    }
}
