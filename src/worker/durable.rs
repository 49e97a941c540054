//! The `Shard` Durable Object: a SQLite-backed key-value table that runs `objects::protocol::run`.
//! Every command's `apply` is synchronous and SQLite calls in a Durable Object are synchronous, so each command
//! runs without interleaving and its writes commit together.

use crate::error::{Error, Result as CoreResult};
use crate::objects::kv::Kv;
use crate::objects::protocol;
use serde::Deserialize;
use worker::{durable_object, DurableObject, Env, Request, Response, Result, SqlStorage, State};

#[durable_object]
pub struct Shard {
    sql: SqlStorage,
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
        Shard { sql }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let bytes = req.bytes().await?;
        let now = (worker::Date::now().as_millis() / 1000) as i64;
        let reply = protocol::run(&mut SqlKv { sql: &self.sql }, now, &bytes);
        Response::ok(reply)
    }
}

struct SqlKv<'a> {
    sql: &'a SqlStorage,
}

#[derive(Deserialize)]
struct Row {
    k: String,
    v: String,
}

fn storage_err(_: worker::Error) -> Error {
    Error::unavailable("storage is unavailable")
}

impl Kv for SqlKv<'_> {
    fn get(&self, key: &str) -> CoreResult<Option<String>> {
        let rows: Vec<Row> = self
            .sql
            .exec("SELECT k, v FROM kv WHERE k = ?", vec![key.into()])
            .and_then(|c| c.to_array())
            .map_err(storage_err)?;
        Ok(rows.into_iter().next().map(|r| r.v))
    }

    fn put(&mut self, key: &str, value: &str, expires_at: Option<i64>) -> CoreResult<()> {
        self.sql
            .exec(
                "INSERT INTO kv (k, v, exp) VALUES (?, ?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v, exp = excluded.exp",
                vec![key.into(), value.into(), expires_at.into()],
            )
            .map(|_| ())
            .map_err(storage_err)
    }

    fn delete(&mut self, key: &str) -> CoreResult<()> {
        self.sql
            .exec("DELETE FROM kv WHERE k = ?", vec![key.into()])
            .map(|_| ())
            .map_err(storage_err)
    }

    fn list(&self, prefix: &str, after: Option<&str>, limit: usize) -> CoreResult<Vec<(String, String)>> {
        // Range scan on the primary key: [prefix, prefix + U+FFFF).
        let upper = format!("{prefix}\u{ffff}");
        let lower = after.unwrap_or(prefix).to_owned();
        let op = if after.is_some() { ">" } else { ">=" };
        let q = format!("SELECT k, v FROM kv WHERE k {op} ? AND k < ? ORDER BY k LIMIT ?");
        let rows: Vec<Row> = self
            .sql
            .exec(&q, vec![lower.into(), upper.into(), (limit as i64).into()])
            .and_then(|c| c.to_array())
            .map_err(storage_err)?;
        Ok(rows.into_iter().map(|r| (r.k, r.v)).collect())
    }

    fn purge_expired(&mut self, now: i64) -> CoreResult<()> {
        self.sql
            .exec(
                "DELETE FROM kv WHERE exp IS NOT NULL AND exp < ?",
                vec![now.into()],
            )
            .map(|_| ())
            .map_err(storage_err)
    }
}
