//! Responses of the core, and the single place errors become HTTP.

use crate::error::Error;

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// For the request log only; never sent.
    pub log_client_id: Option<String>,
    /// For the request log only: the error code of an error response (`routes::render`).
    pub log_error: Option<&'static str>,
    /// For the request log only: the organisation the request was for.
    pub log_tenant: Option<String>,
    /// Work to do once the response is sent (`platform::deferred`); never sent either.
    pub after: Vec<crate::platform::Deferred>,
    /// Audit events to store once the response is sent (`platform::deferred::store_audit`).
    pub audit: Vec<crate::platform::deferred::AuditJob>,
}

impl Response {
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Response {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
            log_client_id: None,
            log_error: None,
            log_tenant: None,
            after: Vec::new(),
            audit: Vec::new(),
        }
    }

    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Self::json_text(status, value.to_string())
    }

    /// JSON that is already serialised (cached metadata, JWKS): no re-serialisation per request.
    pub fn json_text(status: u16, text: impl Into<Vec<u8>>) -> Self {
        Self::new(status, "application/json", text)
    }

    pub fn empty(status: u16) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            log_client_id: None,
            log_error: None,
            log_tenant: None,
            after: Vec::new(),
            audit: Vec::new(),
        }
    }

    pub fn redirect(location: &str) -> Self {
        Self::empty(302).header("location", location).no_store()
    }

    /// After a form POST: the browser follows with a GET.
    pub fn see_other(location: &str) -> Self {
        Self::empty(303).header("location", location).no_store()
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    pub fn get_header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// RFC 6749 §5.1: responses that carry tokens or secrets must not be cached.
    pub fn no_store(self) -> Self {
        self.header("cache-control", "no-store")
            .header("pragma", "no-cache")
    }

    pub fn client(mut self, client_id: Option<&str>) -> Self {
        self.log_client_id = client_id.map(str::to_owned);
        self
    }

    /// Leaves `jobs` to be done after the response is sent.
    pub fn then(mut self, jobs: Vec<crate::platform::Deferred>) -> Self {
        self.after.extend(jobs);
        self
    }

    pub fn from_error(e: &Error) -> Self {
        let mut r = Self::json_text(e.status(), e.to_json()).no_store();
        if let Some(v) = e.www_authenticate() {
            r = r.header("www-authenticate", v);
        }
        for (k, v) in &e.headers {
            r = r.header(k, v.clone());
        }
        r
    }
}

impl From<Error> for Response {
    fn from(e: Error) -> Self {
        Response::from_error(&e)
    }
}
