//! The async surface the protocol core runs on. The worker layer implements it over Workers KV,
//! Durable Objects and `Date.now()`; `store::memory` implements it in memory for native tests.

use super::shard::{Command, Reply};
use crate::config::Config;
use crate::crypto::keys::SigningKeys;
use crate::model::App;
use crate::error::Result;

#[allow(async_fn_in_trait)]
pub trait Platform {
    fn config(&self) -> &Config;
    fn keys(&self) -> &SigningKeys;
    /// Unix seconds.
    fn now(&self) -> i64;
    /// Milliseconds, for measuring work inside a request (`Server-Timing`).
    fn now_ms(&self) -> f64;
    /// Fills `buf` from the platform's CSPRNG; an error when it fails (callers fail closed).
    fn fill_random(&self, buf: &mut [u8]) -> Result<()>;
    /// One structured audit line (admin actions); never a secret.
    fn audit(&self, event: &serde_json::Value);

    /// Runs one command in the named Durable Object, atomically.
    async fn shard(&self, name: &str, cmd: Command) -> Result<Reply>;

    /// Public app metadata from KV: may be up to 60 s stale, never authoritative for secrets,
    /// status or epoch (those come from the app's shard).
    async fn app_meta(&self, client_id: &str) -> Result<Option<App>>;
    async fn put_app_meta(&self, app: &App) -> Result<()>;
    async fn delete_app_meta(&self, client_id: &str) -> Result<()>;
    /// All apps' ids in KV order, paged by an opaque cursor.
    async fn list_app_ids(&self, cursor: Option<&str>, limit: usize)
        -> Result<(Vec<String>, Option<String>)>;

    /// The gateway's per-isolate memory of a token's liveness: `Some(active)` while fresh.
    fn cached_liveness(&self, jti: &str) -> Option<bool>;
    fn remember_liveness(&self, jti: &str, active: bool, until_ms: f64);
    /// Sends a request to a protected origin (the gateway's only outbound call).
    async fn fetch_origin(&self, req: crate::http::Request, url: &str) -> Result<crate::http::Response>;
}

/// `n` random bytes as base64url: 24 bytes → 32 characters (client ids, secrets, jtis, codes).
/// Fails closed: a broken generator is an error, never a predictable token.
pub fn random_token(p: &impl Platform, bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    p.fill_random(&mut buf)?;
    Ok(crate::util::b64url(&buf))
}
