//! An in-memory [`Platform`] for native tests and fuzz targets: objects are `MemKv`s run
//! through the same wire protocol (`objects::protocol::run`) as the Durable Objects, KV is a
//! map, the clock is settable.
// The in-memory platform of native tests and fuzz targets: a broken invariant here should stop
// the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use super::{AppStore, Audit, DomainMap, Clock, LivenessCache, Mail, Mailer, Objects, Origin, Outbound, Platform, Random};
use crate::config::Config;
use crate::crypto::keys::SigningKeys;
use crate::error::Result;
use crate::model::App;
use crate::objects::kv::MemKv;
use crate::objects::{protocol, Name, Op};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;

pub struct MemPlatform {
    pub config: Config,
    pub keys: SigningKeys,
    pub clock: Cell<i64>,
    pub shards: RefCell<HashMap<String, MemKv>>,
    pub kv: RefCell<BTreeMap<String, App>>,
    /// Custom domain → organisation label (`DomainMap`).
    pub domains: RefCell<HashMap<String, String>>,
    pub audit_log: RefCell<Vec<serde_json::Value>>,
    pub shard_calls: Cell<u32>,
    /// Calls per object name (as the Durable Object namespace sees it), for load tests.
    pub calls_by_object: RefCell<HashMap<String, u64>>,
    /// Makes `fill_random` fail, to test that every caller fails closed.
    pub broken_random: Cell<bool>,
    pub liveness: LivenessCache,
    pub tenants: super::tenant::TenantCache,
    /// What the gateway sent to origins, and the fixed answer it gets.
    pub origin_requests: RefCell<Vec<(String, crate::http::Request)>>,
    /// What [`Outbound`] POSTed (url, form body), in order, and the pauses it took (ms).
    pub sent: RefCell<Vec<(String, String)>>,
    pub pauses: RefCell<Vec<u64>>,
    /// The answers outbound POSTs get, in order (`None`: no answer); 200 once they run out.
    pub outbound_answers: RefCell<std::collections::VecDeque<Option<u16>>>,
    /// The scripted upstream identity provider (`Origin::fetch_upstream`): given the URL and
    /// the request, its answer (`None`: no answer, as a timeout). Unset: every upstream call
    /// is unanswered.
    pub upstream: RefCell<Option<Box<UpstreamScript>>>,
    /// What was sent to upstreams (url, request), in order.
    pub upstream_requests: RefCell<Vec<(String, crate::http::Request)>>,
    /// What the mail transport was asked to send (tests that configure a transport; without
    /// one, development mail goes to the outbox object like the worker's), and whether it fails.
    pub mails: RefCell<Vec<Mail>>,
    pub mail_fails: Cell<bool>,
}

/// A scripted upstream: URL and request in, response (or no answer) out.
pub type UpstreamScript = dyn Fn(&str, &crate::http::Request) -> Option<crate::http::Response>;

impl MemPlatform {
    pub fn new(config: Config, keys: SigningKeys) -> Self {
        MemPlatform {
            config,
            keys,
            clock: Cell::new(1_795_000_000),
            shards: RefCell::default(),
            kv: RefCell::default(),
            domains: RefCell::default(),
            audit_log: RefCell::default(),
            shard_calls: Cell::new(0),
            calls_by_object: RefCell::default(),
            broken_random: Cell::new(false),
            liveness: LivenessCache::default(),
            tenants: Default::default(),
            origin_requests: RefCell::default(),
            sent: RefCell::default(),
            pauses: RefCell::default(),
            outbound_answers: RefCell::default(),
            upstream: RefCell::default(),
            upstream_requests: RefCell::default(),
            mails: RefCell::default(),
            mail_fails: Cell::new(false),
        }
    }
    pub fn advance(&self, secs: i64) {
        self.clock.set(self.clock.get() + secs);
    }
}

impl Platform for MemPlatform {
    fn config(&self) -> &Config {
        &self.config
    }
    fn keys(&self) -> &SigningKeys {
        &self.keys
    }
    fn liveness(&self) -> &LivenessCache {
        &self.liveness
    }
    fn tenants(&self) -> &super::tenant::TenantCache {
        &self.tenants
    }
}

impl Clock for MemPlatform {
    fn now(&self) -> i64 {
        self.clock.get()
    }
    fn now_ms(&self) -> f64 {
        self.clock.get() as f64 * 1000.0
    }
}

impl Random for MemPlatform {
    fn fill_random(&self, buf: &mut [u8]) -> Result<()> {
        if self.broken_random.get() {
            return Err(crate::error::Error::server("randomness unavailable"));
        }
        getrandom::getrandom(buf).map_err(|_| crate::error::Error::server("randomness unavailable"))
    }
}

impl Audit for MemPlatform {
    fn audit(&self, event: &serde_json::Value) {
        self.audit_log.borrow_mut().push(event.clone());
    }
}

impl Objects for MemPlatform {
    async fn call<O: Op>(&self, name: &Name<O::Kind>, op: O) -> Result<O::Reply> {
        self.shard_calls.set(self.shard_calls.get() + 1);
        *self.calls_by_object.borrow_mut().entry(name.as_str().to_owned()).or_default() += 1;
        // Through the same JSON wire as the Durable Object adapter.
        let cmd = protocol::encode(op)?;
        let mut shards = self.shards.borrow_mut();
        let kv = shards.entry(name.as_str().to_owned()).or_default();
        protocol::decode(&protocol::run(kv, self.now(), cmd.as_bytes()))
    }
}

/// The default tenant's keys are bare client ids (as before tenancy); an organisation's are
/// `org:<label>:<client id>` (client ids never contain `:`).
impl AppStore for MemPlatform {
    async fn get_app(&self, space: &str, client_id: &str) -> Result<Option<App>> {
        Ok(self.kv.borrow().get(&format!("{space}{client_id}")).cloned())
    }
    async fn put_app(&self, space: &str, app: &App) -> Result<()> {
        self.kv
            .borrow_mut()
            .insert(format!("{space}{}", app.client_id), app.clone());
        Ok(())
    }
    async fn delete_app(&self, space: &str, client_id: &str) -> Result<()> {
        self.kv.borrow_mut().remove(&format!("{space}{client_id}"));
        Ok(())
    }
    async fn list_apps(
        &self,
        space: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<String>, Option<String>)> {
        let kv = self.kv.borrow();
        let mut ids: Vec<String> = kv
            .keys()
            .filter_map(|k| {
                let id = k.strip_prefix(space)?;
                (!id.contains(':')).then_some(id)
            })
            .filter(|id| cursor.is_none_or(|c| *id > c))
            .take(limit + 1)
            .map(str::to_owned)
            .collect();
        let next = if ids.len() > limit {
            ids.truncate(limit);
            ids.last().cloned()
        } else {
            None
        };
        Ok((ids, next))
    }
}

impl Origin for MemPlatform {
    async fn fetch_origin(&self, req: crate::http::Request, url: &str) -> Result<crate::http::Response> {
        self.origin_requests.borrow_mut().push((url.to_owned(), req));
        Ok(crate::http::Response::new(200, "text/plain", "from origin"))
    }
    async fn fetch_upstream(&self, req: crate::http::Request, url: &str) -> Result<crate::http::Response> {
        self.upstream_requests.borrow_mut().push((url.to_owned(), req.clone()));
        let answer = self.upstream.borrow().as_ref().and_then(|f| f(url, &req));
        match answer {
            Some(r) if r.body.len() > super::UPSTREAM_MAX_BODY => {
                Err(crate::error::Error::unavailable("the identity provider's answer is too large"))
            }
            Some(r) => Ok(r),
            None => Err(crate::error::Error::unavailable("the identity provider did not answer")),
        }
    }
}

impl Mailer for MemPlatform {
    async fn send_mail(&self, m: &Mail) -> Result<()> {
        if self.mail_fails.get() {
            return Err(crate::error::Error::unavailable("the mail service did not answer"));
        }
        self.mails.borrow_mut().push(m.clone());
        Ok(())
    }
}

impl Outbound for MemPlatform {
    async fn post_form(&self, url: &str, body: &str) -> Result<u16> {
        self.sent.borrow_mut().push((url.to_owned(), body.to_owned()));
        match self.outbound_answers.borrow_mut().pop_front() {
            Some(Some(status)) => Ok(status),
            Some(None) => Err(crate::error::Error::unavailable("no answer")),
            None => Ok(200),
        }
    }
    async fn pause(&self, ms: u64) {
        self.pauses.borrow_mut().push(ms);
    }
}

/// Drives a future that never waits on real I/O (everything in `MemPlatform` is ready at once).
pub fn block_on<F: Future>(fut: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut fut = std::pin::pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

impl DomainMap for MemPlatform {
    async fn domain_org(&self, host: &str) -> Result<Option<String>> {
        Ok(self.domains.borrow().get(host).cloned())
    }
    async fn put_domain(&self, host: &str, label: &str) -> Result<()> {
        self.domains.borrow_mut().insert(host.to_owned(), label.to_owned());
        Ok(())
    }
    async fn delete_domain(&self, host: &str) -> Result<()> {
        self.domains.borrow_mut().remove(host);
        Ok(())
    }
}
