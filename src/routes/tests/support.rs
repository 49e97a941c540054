//! Helpers of the native rule tables: requests in, responses out, nothing below `handle`.

use crate::config::{Config, Secret};
use crate::crypto::keys::{tests::test_pem, SigningKeys};
use crate::http::{Request, Response};
use crate::routes::handle;
use crate::platform::memory::{block_on, MemPlatform};
use serde_json::Value;

pub const ORIGIN: &str = "http://127.0.0.1:8787";

pub fn platform() -> MemPlatform {
    let mut cfg = Config::default();
    cfg.admin_token = Some(Secret("admin-secret".into()));
    MemPlatform::new(cfg, SigningKeys::from_pems(test_pem(), true).unwrap())
}

pub fn req(method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Request {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    Request {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.to_vec(),
        origin: ORIGIN.into(),
        remote_addr: "192.0.2.1".into(),
    }
}

pub fn send(p: &MemPlatform, r: Request) -> Response {
    block_on(handle(p, &r))
}

pub fn json(r: &Response) -> Value {
    serde_json::from_slice(&r.body).unwrap_or(Value::Null)
}

/// Asserts a JSON error answer (status, `error`, a string `error_description`, JSON content
/// type) as the end-to-end `Resp::expect_error` does; returns the body.
#[track_caller]
pub fn expect_error(r: &Response, status: u16, code: &str) -> Value {
    let v = json(r);
    assert_eq!(r.status, status, "{v}");
    assert_eq!(v["error"], code, "wrong error code in {v}");
    assert!(v["error_description"].is_string(), "error_description missing in {v}");
    assert!(
        r.get_header("content-type").is_some_and(|c| c.starts_with("application/json")),
        "error is not application/json"
    );
    v
}
