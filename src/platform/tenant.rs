//! The tenant-bound platform: the one place tenancy touches storage. [`Scoped`] wraps the
//! deployment's platform for one request's tenant and implements every port by delegating,
//! renaming what names state: every Durable Object name ([`Name::in_tenant`]) and every
//! directory key and listing (the tenant's [`AppStore`] space). `routes::handle` runs the whole
//! request over it, so no endpoint can reach another tenant's objects or apps. For the default
//! tenant every name is unchanged, so single-tenant deployments keep their state.

use super::{AppStore, Audit, Clock, Directory, LivenessCache, Mail, Mailer, Objects, Origin, Platform, Random};
use crate::config::Config;
use crate::crypto::keys::SigningKeys;
use crate::error::Result;
use crate::model::{App, Tenant};
use crate::objects::{Name, Op};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// What an isolate holds of one organisation: its configuration (the deployment's with the
/// organisation's policies, quotas, brand and operators laid over it) and its own signing keys,
/// as of `version` of its record (`crate::tenancy` makes it).
pub struct TenantState {
    pub version: u64,
    pub config: Config,
    pub keys: SigningKeys,
    /// The custom domains its record lists (authoritative; KV's map is only a hint).
    pub domains: Vec<String>,
}

/// The isolate's organisations, by label. Each request asks the organisation's object whether
/// the version held is current, so a change (suspension, a rotated key, a removed operator) is
/// seen by the next request; what is reused is the parsed keys and configuration.
#[derive(Default)]
pub struct TenantCache {
    map: RefCell<HashMap<String, Rc<TenantState>>>,
}

/// Organisations an isolate keeps at once; past this the cache starts over.
const CACHED_TENANTS: usize = 1000;

impl TenantCache {
    pub fn get(&self, label: &str) -> Option<Rc<TenantState>> {
        self.map.borrow().get(label).cloned()
    }
    /// Forgets every organisation (tests and fuzz targets).
    pub fn clear(&self) {
        self.map.borrow_mut().clear();
    }
    pub fn put(&self, label: &str, state: Rc<TenantState>) {
        let mut map = self.map.borrow_mut();
        if map.len() >= CACHED_TENANTS && !map.contains_key(label) {
            map.clear();
        }
        map.insert(label.to_owned(), state);
    }
}

pub struct Scoped<'a, P> {
    inner: &'a P,
    tenant: Tenant,
    space: String,
    /// An organisation's own configuration and keys; `None` for the default tenant.
    state: Option<Rc<TenantState>>,
    /// The issuer when the request came on one of the organisation's custom domains.
    custom_issuer: Option<String>,
    /// The audit events of this request, stored after the response (`routes::handle_in`).
    events: RefCell<Vec<crate::objects::audit::Event>>,
}

impl<'a, P: Platform + AppStore> Scoped<'a, P> {
    /// The default tenant: the deployment's configuration and keys.
    pub fn default_tenant(inner: &'a P) -> Self {
        Scoped {
            inner,
            tenant: Tenant::Default,
            space: String::new(),
            state: None,
            custom_issuer: None,
            events: RefCell::default(),
        }
    }
    /// The organisation `label`, served with its own configuration and keys.
    pub fn org(inner: &'a P, label: String, state: Rc<TenantState>) -> Self {
        let tenant = Tenant::Org(label);
        Scoped {
            inner,
            space: tenant.prefix(),
            tenant,
            state: Some(state),
            custom_issuer: None,
            events: RefCell::default(),
        }
    }
    /// The organisation `label` with no state of its own (the deployment's configuration and
    /// keys): only to erase a deleted organisation's data, under its names.
    pub fn erasing(inner: &'a P, label: String) -> Self {
        let tenant = Tenant::Org(label);
        Scoped {
            inner,
            space: tenant.prefix(),
            tenant,
            state: None,
            custom_issuer: None,
            events: RefCell::default(),
        }
    }
    /// The organisation served on one of its custom domains, whose issuer is that domain's
    /// origin (`issuer`).
    pub fn org_at(inner: &'a P, label: String, state: Rc<TenantState>, issuer: String) -> Self {
        Scoped {
            custom_issuer: Some(issuer),
            ..Self::org(inner, label, state)
        }
    }
    /// This tenant's issuer for a request that arrived at `origin`.
    pub fn issuer(&self, origin: &str) -> String {
        match &self.custom_issuer {
            Some(i) => i.clone(),
            None => self.config().issuer_in(&self.tenant, origin),
        }
    }
    pub fn tenant(&self) -> &Tenant {
        &self.tenant
    }
    /// The audit events recorded so far in this request, taken (`routes::handle_in` stores them).
    pub fn take_events(&self) -> Vec<crate::objects::audit::Event> {
        std::mem::take(&mut *self.events.borrow_mut())
    }
    /// The deployment's platform, unscoped: only for the registry of organisations, which
    /// lives in the default tenant (an organisation's operators rotating its own keys).
    pub fn deployment(&self) -> &P {
        self.inner
    }
}

impl<P: Platform + AppStore> Mailer for Scoped<'_, P> {
    async fn send_mail(&self, m: &Mail) -> Result<()> {
        self.inner.send_mail(m).await
    }
}

impl<P: Platform + AppStore> Platform for Scoped<'_, P> {
    fn config(&self) -> &Config {
        match &self.state {
            Some(s) => &s.config,
            None => self.inner.config(),
        }
    }
    /// An organisation's own key set: its tokens verify nowhere else (and every token check
    /// also compares `iss` with this tenant's issuer).
    fn keys(&self) -> &SigningKeys {
        match &self.state {
            Some(s) => &s.keys,
            None => self.inner.keys(),
        }
    }
    // Keyed by `jti` (random), consulted only after the token's `iss` and signature matched
    // this tenant.
    fn liveness(&self) -> &LivenessCache {
        self.inner.liveness()
    }
    fn tenants(&self) -> &TenantCache {
        self.inner.tenants()
    }
}

impl<P: Platform + AppStore> Clock for Scoped<'_, P> {
    fn now(&self) -> i64 {
        self.inner.now()
    }
    fn now_ms(&self) -> f64 {
        self.inner.now_ms()
    }
}

impl<P: Platform + AppStore> Random for Scoped<'_, P> {
    fn fill_random(&self, buf: &mut [u8]) -> Result<()> {
        self.inner.fill_random(buf)
    }
}

impl<P: Platform + AppStore> Objects for Scoped<'_, P> {
    async fn call<O: Op>(&self, name: &Name<O::Kind>, op: O) -> Result<O::Reply> {
        self.inner.call(&name.in_tenant(&self.tenant), op).await
    }
}

impl<P: Platform + AppStore> Directory for Scoped<'_, P> {
    async fn app_meta(&self, client_id: &str) -> Result<Option<App>> {
        self.inner.get_app(&self.space, client_id).await
    }
    async fn put_app_meta(&self, app: &App) -> Result<()> {
        self.inner.put_app(&self.space, app).await
    }
    async fn delete_app_meta(&self, client_id: &str) -> Result<()> {
        self.inner.delete_app(&self.space, client_id).await
    }
    async fn list_app_ids(
        &self,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<String>, Option<String>)> {
        self.inner.list_apps(&self.space, cursor, limit).await
    }
}

impl<P: Platform + AppStore> Origin for Scoped<'_, P> {
    async fn fetch_origin(&self, req: crate::http::Request, url: &str) -> Result<crate::http::Response> {
        self.inner.fetch_origin(req, url).await
    }
    async fn fetch_upstream(&self, req: crate::http::Request, url: &str) -> Result<crate::http::Response> {
        self.inner.fetch_upstream(req, url).await
    }
}

/// Audit lines of an organisation carry its label (`tenant`); the default tenant's are as before.
impl<P: Platform + AppStore> Audit for Scoped<'_, P> {
    fn audit(&self, event: &serde_json::Value) {
        match (&self.tenant, event) {
            (Tenant::Org(label), serde_json::Value::Object(fields)) => {
                let mut fields = fields.clone();
                fields.insert("tenant".into(), label.clone().into());
                self.inner.audit(&serde_json::Value::Object(fields));
            }
            _ => self.inner.audit(event),
        }
    }
    fn record(&self, event: crate::objects::audit::Event) {
        self.audit(&event.log_line());
        let mut events = self.events.borrow_mut();
        // A request records a handful; a runaway loop must not grow without bound.
        if events.len() < 100 {
            events.push(event);
        }
    }
}
