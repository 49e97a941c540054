//! `Platform` over Workers: KV for app metadata (with a short per-isolate cache), the `Shard`
//! Durable Object for everything atomic, and keys/config parsed once per isolate.

use crate::config::{AccessTokenAlg, Config};
use crate::crypto::keys::{self, SigningKeys};
use crate::model::App;
use crate::error::{Error, Result};
use crate::objects::{issuer, protocol, Name, Op};
use crate::platform::tenant::TenantCache;
use crate::platform::{AppStore, Audit, DomainMap, Clock, LivenessCache, Mail, Mailer, Objects, Origin, Outbound, Platform, Random};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use worker::{console_log, Env, Method, Request, RequestInit};

const KV_BINDING: &str = "CLIENTS";
const DO_BINDING: &str = "SHARD";
/// How long an isolate trusts its copy of an app's KV metadata. KV itself may be up to 60 s
/// stale across regions; nothing authoritative (secret, status, epoch, keys in use) is read from it.
const META_TTL_MS: u64 = 10_000;

thread_local! {
    static CONFIG: RefCell<Option<Rc<Config>>> = const { RefCell::new(None) };
    static KEYS: RefCell<Option<Rc<SigningKeys>>> = const { RefCell::new(None) };
    /// Whether `SIGNING_KEYS` is set: read once per isolate with the configuration (an
    /// isolate's secrets never change; reading it per request copied every PEM into the wasm).
    static HAS_SIGNING_KEYS: Cell<Option<bool>> = const { Cell::new(None) };
    static META: RefCell<HashMap<String, (u64, Option<App>)>> = RefCell::new(HashMap::new());
    /// Custom domain → organisation, as KV answered it (a hint; see `DomainMap`).
    static DOMAINS: RefCell<HashMap<String, (u64, Option<String>)>> = RefCell::new(HashMap::new());
    /// The isolate's memory of token liveness (the policy is `platform::liveness`).
    static LIVENESS: &'static LivenessCache = Box::leak(Box::default());
    /// The isolate's organisations (the policy is `platform::tenant::TenantCache`).
    static TENANTS: &'static TenantCache = Box::leak(Box::default());
}

pub struct WorkerPlatform {
    env: Env,
    config: Rc<Config>,
    keys: Rc<SigningKeys>,
    /// What this request cost in calls out of the isolate (see [`Calls`]).
    pub calls: Calls,
}

/// Durable Object calls and KV reads made for one request (a read the isolate's cache
/// answered is not one). Counted where they are made, two `Cell` increments; development
/// servers report them in `x-portcullis-calls` (src/worker/mod.rs), and bench/run.sh prints
/// them per endpoint. The signing key's load (once per isolate) is not counted.
#[derive(Default)]
pub struct Calls {
    pub durable_object: Cell<u32>,
    pub kv_read: Cell<u32>,
}

impl Calls {
    fn durable_object(&self) {
        self.durable_object.set(self.durable_object.get().saturating_add(1));
    }
    fn kv_read(&self) {
        self.kv_read.set(self.kv_read.get().saturating_add(1));
    }
}

fn lookup(env: &Env, name: &str) -> Option<String> {
    env.secret(name)
        .map(|s| s.to_string())
        .ok()
        .or_else(|| env.var(name).map(|v| v.to_string()).ok())
}

impl WorkerPlatform {
    /// Builds the platform for one request (to `host`), reusing the isolate's parsed config and
    /// keys. A production deployment that lacks what it needs (`Config::production_problems`)
    /// serves nothing: every request is 503 saying why, and logs it, before any key is made.
    pub async fn load(env: Env, host: &str) -> Result<Self> {
        let config = match CONFIG.with(|c| c.borrow().clone()) {
            Some(c) => c,
            None => {
                let c = Rc::new(Config::from_vars(|k| lookup(&env, k)));
                // Upstream providers that did not load: the others work; the operator sees why.
                for problem in &c.upstream_problems {
                    console_log!("{}", serde_json::json!({"warning": problem}));
                }
                CONFIG.with(|cell| *cell.borrow_mut() = Some(c.clone()));
                c
            }
        };
        let has_keys = HAS_SIGNING_KEYS.with(Cell::get).unwrap_or_else(|| {
            let has = lookup(&env, "SIGNING_KEYS").is_some();
            HAS_SIGNING_KEYS.with(|c| c.set(Some(has)));
            has
        });
        let problems = config.production_problems(has_keys, host);
        if !problems.is_empty() {
            console_log!("{}", serde_json::json!({"error": "not_configured", "problems": problems}));
            return Err(Error::unavailable(format!(
                "this deployment is not configured to serve: {}",
                problems.join("; ")
            )));
        }
        let keys = match KEYS.with(|k| k.borrow().clone()) {
            Some(k) => k,
            None => {
                let k = Rc::new(load_keys(&env).await?);
                KEYS.with(|cell| *cell.borrow_mut() = Some(k.clone()));
                k
            }
        };
        Ok(WorkerPlatform {
            env,
            config,
            keys,
            calls: Calls::default(),
        })
    }

    fn kv(&self) -> Result<worker::kv::KvStore> {
        self.env
            .kv(KV_BINDING)
            .map_err(|_| Error::unavailable("the CLIENTS KV namespace is not bound"))
    }
}

/// `SIGNING_KEYS` (PKCS#8 PEMs, RSA or Ed25519) if set; otherwise the development key kept in
/// the `issuer` object (RSA, for RS256) or the `issuer:ed25519` object (for EdDSA), made on
/// first use. Racing isolates agree: the object stores only the first candidate. `ACCESS_TOKEN_ALG`
/// chooses which kind of key signs; an unknown value is refused.
async fn load_keys(env: &Env) -> Result<SigningKeys> {
    let alg = AccessTokenAlg::from_var(lookup(env, "ACCESS_TOKEN_ALG").as_deref())
        .ok_or_else(|| Error::server("ACCESS_TOKEN_ALG must be RS256 or EdDSA"))?;
    if let Some(pems) = lookup(env, "SIGNING_KEYS") {
        let keys = SigningKeys::from_pems_for(&pems, alg, false)
            .map_err(|e| Error::server(format!("SIGNING_KEYS: {e}")))?;
        // OpenID Connect's mandatory algorithm: ID tokens and logout tokens are RS256.
        if keys.id_token_alg() != AccessTokenAlg::Rs256 {
            return Err(Error::server(
                "SIGNING_KEYS: add an RSA key (ID tokens are RS256, OpenID Connect's mandatory algorithm)",
            ));
        }
        return Ok(keys);
    }
    // The RSA key always (ID tokens are RS256, OpenID Connect's mandatory algorithm); with
    // EdDSA access tokens, the Ed25519 key beside it.
    let mut pems = vec![dev_key(env, issuer::rsa(), AccessTokenAlg::Rs256).await?];
    if alg == AccessTokenAlg::EdDsa {
        pems.insert(0, dev_key(env, issuer::ed25519(), alg).await?);
    }
    let pem = pems.join("\n");
    let keys = SigningKeys::from_pems_for(&pem, alg, true)?;
    console_log!(
        "{}",
        serde_json::json!({"warning": "development signing key in use (set the SIGNING_KEYS secret in production)", "kid": keys.current_kid(), "alg": alg.as_str()})
    );
    Ok(keys)
}

/// The development key kept in `object`, made (of the kind that signs `alg`) on first use.
async fn dev_key(env: &Env, object: Name<issuer::Issuer>, alg: AccessTokenAlg) -> Result<String> {
    let mut pem = call(env, &object, issuer::DevKey { candidate: None }).await?;
    if pem.is_none() {
        let fresh = keys::generate_pem_for(alg)?;
        pem = call(env, &object, issuer::DevKey { candidate: Some(fresh) }).await?;
    }
    pem.ok_or_else(|| Error::server("no signing key"))
}

/// Sends one command to the named object and decodes its typed reply: an RPC call of the
/// object's `run` (src/worker/entry.mjs, `durable::Shard::run`), the command's JSON in and the
/// reply's JSON out, with no Request or Response made on either side.
async fn call<O: Op>(env: &Env, name: &Name<O::Kind>, op: O) -> Result<O::Reply> {
    let body = protocol::encode(op)?;
    let promise = shard_run(env.as_ref(), DO_BINDING, name.as_str(), &body)
        .map_err(|_| Error::unavailable("a Durable Object is unavailable"))?;
    let reply = worker::wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(|_| Error::unavailable("a Durable Object is unavailable"))?;
    let text = reply
        .as_string()
        .ok_or_else(|| Error::unavailable("a Durable Object reply is unavailable"))?;
    protocol::decode(&text)
}

#[wasm_bindgen::prelude::wasm_bindgen(inline_js = "export function shard_run(env, binding, name, command) { return env[binding].getByName(name).run(command); }")]
extern "C" {
    #[wasm_bindgen(catch)]
    fn shard_run(
        env: &wasm_bindgen::JsValue,
        binding: &str,
        name: &str,
        command: &str,
    ) -> std::result::Result<worker::js_sys::Promise, wasm_bindgen::JsValue>;
}

/// The mail transports (`config::MailTransport`): one attempt each, its idempotency key passed
/// on, an error when it did not go (the core reports it).
impl Mailer for WorkerPlatform {
    async fn send_mail(&self, m: &Mail) -> Result<()> {
        match &self.config.mail.transport {
            None => Err(Error::unavailable("no mail transport is configured")),
            Some(crate::config::MailTransport::Binding(name)) => {
                let msg = crate::rules::mail_message::Message { id: &m.id, from: &m.from, to: &m.to, subject: &m.subject, text: &m.text };
                let raw = crate::rules::mail_message::build(&msg, self.now())?;
                let promise = send_email(self.env.as_ref(), name, &m.from, &m.to, &raw)
                    .map_err(|_| Error::unavailable("the send_email binding is missing or refused the message"))?;
                worker::wasm_bindgen_futures::JsFuture::from(promise)
                    .await
                    .map_err(|e| Error::unavailable(format!("send_email failed: {}", e.as_string().unwrap_or_default())))?;
                Ok(())
            }
            Some(crate::config::MailTransport::Api { url, token }) => {
                let fail = |_| Error::unavailable("the mail API is unavailable");
                let headers = worker::Headers::new();
                headers.append("content-type", "application/json").map_err(fail)?;
                headers.append("authorization", &format!("Bearer {}", token.0)).map_err(fail)?;
                headers.append("idempotency-key", &m.id).map_err(fail)?;
                let body = serde_json::json!({"from": m.from, "to": m.to, "subject": m.subject, "text": m.text}).to_string();
                let mut init = RequestInit::new();
                init.with_method(Method::Post)
                    .with_headers(headers)
                    .with_redirect(worker::RequestRedirect::Manual)
                    .with_body(Some(worker::wasm_bindgen::JsValue::from_str(&body)));
                let out = Request::new_with_init(url, &init).map_err(fail)?;
                // Bounded (`MAIL_TIMEOUT_MS`): an API that never answers must not hold the
                // person's page until the runtime gives up on the request.
                let signal = worker::AbortSignal::from(worker::web_sys::AbortSignal::timeout_with_u32(crate::platform::MAIL_TIMEOUT_MS));
                let resp = worker::Fetch::Request(out).send_with_signal(&signal).await.map_err(fail)?;
                match resp.status_code() {
                    200..=299 => Ok(()),
                    s => Err(Error::unavailable(format!("the mail API answered {s}"))),
                }
            }
        }
    }
}

// Cloudflare's `send_email` binding (Email Routing): `env[binding].send(new EmailMessage(from,
// to, raw))`, the raw RFC 5322 message made by `rules::mail_message`.
#[wasm_bindgen::prelude::wasm_bindgen(inline_js = "import { EmailMessage } from 'cloudflare:email';
export function send_email(env, binding, from, to, raw) { const b = env[binding]; if (!b) { throw new Error('no binding ' + binding); } return b.send(new EmailMessage(from, to, raw)); }")]
extern "C" {
    #[wasm_bindgen(catch)]
    fn send_email(
        env: &wasm_bindgen::JsValue,
        binding: &str,
        from: &str,
        to: &str,
        raw: &str,
    ) -> std::result::Result<worker::js_sys::Promise, wasm_bindgen::JsValue>;
}

impl Platform for WorkerPlatform {
    fn config(&self) -> &Config {
        &self.config
    }
    fn keys(&self) -> &SigningKeys {
        &self.keys
    }
    fn liveness(&self) -> &LivenessCache {
        LIVENESS.with(|l| *l)
    }
    fn tenants(&self) -> &TenantCache {
        TENANTS.with(|t| *t)
    }
}

impl Clock for WorkerPlatform {
    fn now(&self) -> i64 {
        (worker::Date::now().as_millis() / 1000) as i64
    }
    fn now_ms(&self) -> f64 {
        js_now()
    }
}

impl Random for WorkerPlatform {
    fn fill_random(&self, buf: &mut [u8]) -> Result<()> {
        // crypto.getRandomValues; a failure is an error (fail closed), never zeros.
        getrandom::getrandom(buf).map_err(|_| Error::server("randomness unavailable"))
    }
}

impl Audit for WorkerPlatform {
    fn audit(&self, event: &serde_json::Value) {
        Console.audit(event);
    }
}

/// The log, for errors met before there is a platform (a request that cannot be read, a
/// configuration that does not load).
pub struct Console;

impl Audit for Console {
    fn audit(&self, event: &serde_json::Value) {
        console_log!("{}", event);
    }
}

/// No tenant's configuration is loaded yet: error pages show the default brand.
impl crate::pages::Branded for Console {
    fn brand(&self) -> &crate::config::Brand {
        crate::pages::default_brand()
    }
}

impl Objects for WorkerPlatform {
    async fn call<O: Op>(&self, name: &Name<O::Kind>, op: O) -> Result<O::Reply> {
        self.calls.durable_object();
        call(&self.env, name, op).await
    }
}

/// KV keys: `app:<client id>` for the default tenant (as before tenancy), `org:<label>:app:<client
/// id>` for an organisation; a listing asks KV for its own tenant's prefix only. The isolate's
/// cache is keyed by the whole KV key.
impl AppStore for WorkerPlatform {
    async fn get_app(&self, space: &str, client_id: &str) -> Result<Option<App>> {
        let key = format!("{space}app:{client_id}");
        let now = worker::Date::now().as_millis();
        if let Some(hit) = META.with(|m| {
            m.borrow()
                .get(&key)
                .filter(|(t, _)| now < *t)
                .map(|(_, a)| a.clone())
        }) {
            return Ok(hit);
        }
        self.calls.kv_read();
        let app: Option<App> = self
            .kv()?
            .get(&key)
            .json()
            .await
            .map_err(|_| Error::unavailable("KV is unavailable"))?;
        META.with(|m| {
            let mut m = m.borrow_mut();
            if m.len() > 10_000 {
                m.clear();
            }
            m.insert(key, (now + META_TTL_MS, app.clone()));
        });
        Ok(app)
    }

    async fn put_app(&self, space: &str, app: &App) -> Result<()> {
        let key = format!("{space}app:{}", app.client_id);
        let json = serde_json::to_string(app).map_err(|_| Error::server("cannot encode app"))?;
        self.kv()?
            .put(&key, json)
            .map_err(|_| Error::server("cannot write KV"))?
            .execute()
            .await
            .map_err(|_| Error::unavailable("KV is unavailable"))?;
        META.with(|m| {
            m.borrow_mut().insert(
                key,
                (worker::Date::now().as_millis() + META_TTL_MS, Some(app.clone())),
            )
        });
        Ok(())
    }

    async fn delete_app(&self, space: &str, client_id: &str) -> Result<()> {
        let key = format!("{space}app:{client_id}");
        self.kv()?
            .delete(&key)
            .await
            .map_err(|_| Error::unavailable("KV is unavailable"))?;
        META.with(|m| m.borrow_mut().remove(&key));
        Ok(())
    }

    async fn list_apps(
        &self,
        space: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<String>, Option<String>)> {
        let prefix = format!("{space}app:");
        self.calls.kv_read();
        let mut q = self.kv()?.list().prefix(prefix.clone()).limit(limit as u64);
        if let Some(c) = cursor {
            q = q.cursor(c.to_owned());
        }
        let r = q
            .execute()
            .await
            .map_err(|_| Error::invalid_request("bad cursor"))?;
        let ids = r
            .keys
            .into_iter()
            .map(|k| k.name.strip_prefix(&prefix).unwrap_or(&k.name).to_owned())
            .collect();
        Ok((ids, if r.list_complete { None } else { r.cursor }))
    }
}

/// KV keys `domain:<host>` → label. Lookups (also misses) are kept for `META_TTL_MS`, so a
/// flood of requests for unknown hosts costs one KV read per host per isolate.
impl DomainMap for WorkerPlatform {
    async fn domain_org(&self, host: &str) -> Result<Option<String>> {
        let key = format!("domain:{host}");
        let now = worker::Date::now().as_millis();
        if let Some(hit) = DOMAINS.with(|m| {
            m.borrow().get(&key).filter(|(t, _)| now < *t).map(|(_, l)| l.clone())
        }) {
            return Ok(hit);
        }
        self.calls.kv_read();
        let label = self
            .kv()?
            .get(&key)
            .text()
            .await
            .map_err(|_| Error::unavailable("KV is unavailable"))?;
        DOMAINS.with(|m| {
            let mut m = m.borrow_mut();
            if m.len() > 10_000 {
                m.clear();
            }
            m.insert(key, (now + META_TTL_MS, label.clone()));
        });
        Ok(label)
    }

    async fn put_domain(&self, host: &str, label: &str) -> Result<()> {
        let key = format!("domain:{host}");
        self.kv()?
            .put(&key, label)
            .map_err(|_| Error::server("cannot write KV"))?
            .execute()
            .await
            .map_err(|_| Error::unavailable("KV is unavailable"))?;
        DOMAINS.with(|m| m.borrow_mut().remove(&key));
        Ok(())
    }

    async fn delete_domain(&self, host: &str) -> Result<()> {
        let key = format!("domain:{host}");
        self.kv()?
            .delete(&key)
            .await
            .map_err(|_| Error::unavailable("KV is unavailable"))?;
        DOMAINS.with(|m| m.borrow_mut().remove(&key));
        Ok(())
    }
}

impl Origin for WorkerPlatform {
    async fn fetch_origin(&self, req: crate::http::Request, url: &str) -> Result<crate::http::Response> {
        let unavailable = |_| {
            Error::new(
                crate::error::ErrorCode::TemporarilyUnavailable,
                "the origin is unavailable",
            )
        };
        let headers = worker::Headers::new();
        for (k, v) in &req.headers {
            headers
                .append(k, v)
                .map_err(|_| Error::invalid_request("a header cannot be forwarded"))?;
        }
        let method = Method::from(req.method.clone());
        let mut init = RequestInit::new();
        init.with_method(method).with_headers(headers);
        if !req.body.is_empty() {
            let body = worker::js_sys::Uint8Array::from(req.body.as_slice());
            init.with_body(Some(body.into()));
        }
        let out = Request::new_with_init(url, &init)
            .map_err(|_| Error::invalid_request("the request cannot be forwarded"))?;
        let mut resp = worker::Fetch::Request(out).send().await.map_err(unavailable)?;
        let status = resp.status_code();
        let headers: Vec<(String, String)> = resp.headers().entries().collect();
        let body = resp.bytes().await.map_err(unavailable)?;
        let mut r = crate::http::Response::new(status, "application/octet-stream", body);
        r.headers = headers;
        Ok(r)
    }

    /// The global `fetch` with `redirect: "manual"` (a 3xx comes back as it is) and
    /// `AbortSignal.timeout`, which also bounds reading the body.
    async fn fetch_upstream(&self, req: crate::http::Request, url: &str) -> Result<crate::http::Response> {
        use crate::platform::{UPSTREAM_MAX_BODY, UPSTREAM_TIMEOUT_MS};
        let unavailable = |_| Error::unavailable("the identity provider did not answer");
        let headers = worker::Headers::new();
        for (k, v) in &req.headers {
            headers
                .append(k, v)
                .map_err(|_| Error::invalid_request("a header cannot be sent"))?;
        }
        let mut init = RequestInit::new();
        init.with_method(Method::from(req.method.clone()))
            .with_headers(headers)
            .with_redirect(worker::RequestRedirect::Manual);
        if !req.body.is_empty() {
            let body = worker::js_sys::Uint8Array::from(req.body.as_slice());
            init.with_body(Some(body.into()));
        }
        let out = Request::new_with_init(url, &init)
            .map_err(|_| Error::invalid_request("the request cannot be sent"))?;
        let signal = worker::AbortSignal::from(worker::web_sys::AbortSignal::timeout_with_u32(UPSTREAM_TIMEOUT_MS));
        let mut resp = worker::Fetch::Request(out).send_with_signal(&signal).await.map_err(unavailable)?;
        let status = resp.status_code();
        let headers: Vec<(String, String)> = resp.headers().entries().collect();
        let declared = resp
            .headers()
            .get("content-length")
            .ok()
            .flatten()
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > UPSTREAM_MAX_BODY) {
            return Err(Error::unavailable("the identity provider's answer is too large"));
        }
        let body = resp.bytes().await.map_err(unavailable)?;
        if body.len() > UPSTREAM_MAX_BODY {
            return Err(Error::unavailable("the identity provider's answer is too large"));
        }
        let mut r = crate::http::Response::new(status, "application/octet-stream", body);
        r.headers = headers;
        Ok(r)
    }
}

/// The outbound port of work done after a response (`ctx.waitUntil`, see
/// `platform::deferred`): the global `fetch`, never following redirects (a notification goes
/// to the registered URL only), and the log.
pub struct Notifier;

impl Outbound for Notifier {
    async fn post_form(&self, url: &str, body: &str) -> Result<u16> {
        let unavailable = |_| Error::unavailable("the notification could not be sent");
        let headers = worker::Headers::new();
        headers
            .append("content-type", "application/x-www-form-urlencoded")
            .map_err(unavailable)?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_headers(headers)
            .with_redirect(worker::RequestRedirect::Manual)
            .with_body(Some(worker::wasm_bindgen::JsValue::from_str(body)));
        let out = Request::new_with_init(url, &init).map_err(unavailable)?;
        let resp = worker::Fetch::Request(out).send().await.map_err(unavailable)?;
        Ok(resp.status_code())
    }
    async fn pause(&self, ms: u64) {
        worker::Delay::from(std::time::Duration::from_millis(ms)).await;
    }
}

/// The port audit events are stored through after the response (`ctx.waitUntil`,
/// `platform::deferred::store_audit`): the Durable Objects namespace and the log.
pub struct AuditStore {
    pub env: Env,
}

impl Objects for AuditStore {
    async fn call<O: Op>(&self, name: &Name<O::Kind>, op: O) -> Result<O::Reply> {
        call(&self.env, name, op).await
    }
}

impl Audit for AuditStore {
    fn audit(&self, event: &serde_json::Value) {
        Console.audit(event);
    }
}

impl Audit for Notifier {
    fn audit(&self, event: &serde_json::Value) {
        Console.audit(event);
    }
}

fn js_now() -> f64 {
    worker::js_sys::Date::now()
}
