//! The ports: what the core needs from the place it runs, one trait per capability. The core
//! is plain Rust that awaits these ("ports and adapters"); `worker/` adapts them to Workers
//! (`Date.now()`, `crypto.getRandomValues`, Durable Objects, Workers KV, `fetch`), and
//! `memory` (tests and fuzz targets only) adapts them to memory.

pub mod deferred;
pub mod liveness;
#[cfg(any(test, feature = "memory"))]
pub mod memory;
pub mod tenant;

use crate::config::Config;
use crate::crypto::keys::SigningKeys;
use crate::error::Result;
use crate::model::App;
use crate::objects::{Name, Op};
pub use deferred::Deferred;
pub use liveness::LivenessCache;

pub trait Clock {
    /// Unix seconds.
    fn now(&self) -> i64;
    /// Milliseconds, for measuring work inside a request (`Server-Timing`) and cache expiry.
    fn now_ms(&self) -> f64;
}

pub trait Random {
    /// Fills `buf` from the platform's CSPRNG; an error when it fails (callers fail closed).
    fn fill_random(&self, buf: &mut [u8]) -> Result<()>;
}

#[allow(async_fn_in_trait)]
pub trait Objects {
    /// Runs one command in the named Durable Object, atomically, and returns its typed reply.
    async fn call<O: Op>(&self, name: &Name<O::Kind>, op: O) -> Result<O::Reply>;
}

/// The directory of apps: public app metadata in Workers KV. May be up to 60 s stale, never
/// authoritative for secrets, status or epoch (those come from the app's object).
#[allow(async_fn_in_trait)]
pub trait Directory {
    async fn app_meta(&self, client_id: &str) -> Result<Option<App>>;
    async fn put_app_meta(&self, app: &App) -> Result<()>;
    async fn delete_app_meta(&self, client_id: &str) -> Result<()>;
    /// All apps' ids in KV order, paged by an opaque cursor.
    async fn list_app_ids(&self, cursor: Option<&str>, limit: usize)
        -> Result<(Vec<String>, Option<String>)>;
}

/// What an adapter stores the directory in: app metadata under a tenant's key prefix
/// (`space`, [`crate::model::Tenant::prefix`]: empty for the default tenant). The core never
/// calls this; it calls [`Directory`], which the tenant-bound platform
/// ([`tenant::Scoped`]) answers with its own tenant's space. A listing sees only its space.
#[allow(async_fn_in_trait)]
pub trait AppStore {
    async fn get_app(&self, space: &str, client_id: &str) -> Result<Option<App>>;
    async fn put_app(&self, space: &str, app: &App) -> Result<()>;
    async fn delete_app(&self, space: &str, client_id: &str) -> Result<()>;
    async fn list_apps(&self, space: &str, cursor: Option<&str>, limit: usize)
        -> Result<(Vec<String>, Option<String>)>;
}

/// Unbound, a store is the default tenant's directory: its space is empty.
impl<T: AppStore> Directory for T {
    async fn app_meta(&self, client_id: &str) -> Result<Option<App>> {
        self.get_app("", client_id).await
    }
    async fn put_app_meta(&self, app: &App) -> Result<()> {
        self.put_app("", app).await
    }
    async fn delete_app_meta(&self, client_id: &str) -> Result<()> {
        self.delete_app("", client_id).await
    }
    async fn list_app_ids(&self, cursor: Option<&str>, limit: usize)
        -> Result<(Vec<String>, Option<String>)> {
        self.list_apps("", cursor, limit).await
    }
}

/// Which organisation a custom domain is mapped to: a lookup hint in Workers KV (`domain:<host>`,
/// may be up to 60 s stale). Never authoritative: the organisation's own record lists its
/// domains, and a request is served only when that record lists the host (`routes::handle`).
/// Deployment-wide: only the registry of organisations writes it.
#[allow(async_fn_in_trait)]
pub trait DomainMap {
    async fn domain_org(&self, host: &str) -> Result<Option<String>>;
    async fn put_domain(&self, host: &str, label: &str) -> Result<()>;
    async fn delete_domain(&self, host: &str) -> Result<()>;
}

#[allow(async_fn_in_trait)]
pub trait Origin {
    /// Sends a request to a protected origin (the gateway's only outbound call).
    async fn fetch_origin(&self, req: crate::http::Request, url: &str) -> Result<crate::http::Response>;
    /// Sends a request to an upstream identity provider (sign-in with another provider,
    /// `accounts::upstream`): redirects are not followed (a 3xx is answered as it is), the
    /// answer is awaited at most [`UPSTREAM_TIMEOUT_MS`], and a body over
    /// [`UPSTREAM_MAX_BODY`] is an error. `TemporarilyUnavailable` when no answer came.
    async fn fetch_upstream(&self, req: crate::http::Request, url: &str) -> Result<crate::http::Response>;
}

/// How long an upstream identity provider may take to answer one request.
pub const UPSTREAM_TIMEOUT_MS: u32 = 10_000;

/// How long the HTTP email API may take to answer one message (the person's page waits for
/// it, to say whether the email went).
pub const MAIL_TIMEOUT_MS: u32 = 5_000;
/// The largest answer read from an upstream identity provider (discovery, JWKS, tokens,
/// userinfo).
pub const UPSTREAM_MAX_BODY: usize = 64 * 1024;

/// Notifications the server sends on its own (back-channel logout), after the response: never
/// on a request's path (see [`deferred`]). Not part of [`Platform`]: what runs after a response
/// holds no request and no tenant, only the jobs the core described ([`Deferred`]).
#[allow(async_fn_in_trait)]
pub trait Outbound {
    /// POSTs `body` as `application/x-www-form-urlencoded` to `url`; the HTTP status, or an
    /// error when no answer came.
    async fn post_form(&self, url: &str, body: &str) -> Result<u16>;
    /// Waits `ms` milliseconds (between retries).
    async fn pause(&self, ms: u64);
}

/// One email, as the core describes it: plain text, one recipient. `id` is the idempotency key
/// (one per request or ticket): an adapter passes it on (`Idempotency-Key`, `Message-ID`) so a
/// retried send is never delivered twice, and the outbox keeps one message per id.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Mail {
    pub id: String,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub text: String,
}

/// The mail transport (`config::MailTransport`): Cloudflare's `send_email` binding or an HTTP
/// email API. Fallible: an error means the message did not go (the caller reports it, never
/// drops it). Development without a transport uses the outbox object instead
/// (`accounts::mail::send`), not this port.
#[allow(async_fn_in_trait)]
pub trait Mailer {
    async fn send_mail(&self, m: &Mail) -> Result<()>;
}

pub trait Audit {
    /// One structured audit line (admin actions, hidden 5xx details); never a secret.
    fn audit(&self, event: &serde_json::Value);
    /// One audit event as data (`objects::audit`): logged as a structured line and, on a
    /// tenant's platform ([`tenant::Scoped`]), kept to be stored after the response
    /// ([`Deferred::Audit`]). Unbound, only logged.
    fn record(&self, event: crate::objects::audit::Event) {
        self.audit(&event.log_line());
    }
}

/// Everything one request runs on: the capabilities, plus the configuration and signing keys
/// (parsed once per isolate) and the isolate's memory of token liveness.
pub trait Platform: Clock + Random + Objects + Directory + Origin + Audit + Mailer {
    fn config(&self) -> &Config;
    fn keys(&self) -> &SigningKeys;
    fn liveness(&self) -> &LivenessCache;
    /// The isolate's parsed organisations ([`tenant::TenantCache`]).
    fn tenants(&self) -> &tenant::TenantCache;
}

/// `n` random bytes as base64url: 24 bytes → 32 characters (client ids, secrets, jtis, codes).
/// Fails closed: a broken generator is an error, never a predictable token.
pub fn random_token(p: &impl Random, bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    p.fill_random(&mut buf)?;
    Ok(crate::util::b64url(&buf))
}
