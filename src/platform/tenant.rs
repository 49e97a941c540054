//! The tenant-bound platform: the one place tenancy touches storage. [`Scoped`] wraps the
//! deployment's platform for one request's tenant and implements every port by delegating,
//! renaming what names state: every Durable Object name ([`Name::in_tenant`]) and every
//! directory key and listing (the tenant's [`AppStore`] space). `routes::handle` runs the whole
//! request over it, so no endpoint can reach another tenant's objects or apps. For the default
//! tenant every name is unchanged, so single-tenant deployments keep their state.

use super::{AppStore, Audit, Clock, Directory, LivenessCache, Objects, Origin, Platform, Random};
use crate::config::Config;
use crate::crypto::keys::SigningKeys;
use crate::error::Result;
use crate::model::{App, Tenant};
use crate::objects::{Name, Op};

pub struct Scoped<'a, P> {
    inner: &'a P,
    tenant: Tenant,
    space: String,
}

impl<'a, P: Platform + AppStore> Scoped<'a, P> {
    pub fn new(inner: &'a P, tenant: Tenant) -> Self {
        let space = tenant.prefix();
        Scoped {
            inner,
            tenant,
            space,
        }
    }
    pub fn tenant(&self) -> &Tenant {
        &self.tenant
    }
}

impl<P: Platform + AppStore> Platform for Scoped<'_, P> {
    fn config(&self) -> &Config {
        self.inner.config()
    }
    // One key set per deployment in this slice; every token check still compares `iss` with
    // this tenant's issuer, so a token of one tenant is refused by every other.
    fn keys(&self) -> &SigningKeys {
        self.inner.keys()
    }
    // Keyed by `jti` (random), consulted only after the token's `iss` matched this tenant.
    fn liveness(&self) -> &LivenessCache {
        self.inner.liveness()
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
}
