//! The only code that touches workers-rs types: the fetch entry, request/response conversion,
//! the request log, and the adapters in `platform` (KV, Durable Objects, clock) and `durable`.

mod durable;
mod platform;

use crate::http::{self, Request as CoreRequest, Response as CoreResponse};
use crate::oauth::error::{Error, ErrorCode};
use worker::wasm_bindgen::JsCast;
use worker::{console_log, event, Context, Env, Headers, Request, Response, Result};

#[event(start)]
fn start() {
    std::panic::set_hook(Box::new(|info| {
        // One structured line (the panic location and message never hold request data we
        // log elsewhere), then let the entry module fail the in-flight requests (entry.mjs).
        let line = serde_json::json!({"panic": info.to_string()});
        worker::console_error!("{}", line);
        let global = worker::js_sys::global();
        if let Ok(f) = worker::js_sys::Reflect::get(&global, &"__portcullisPanic".into()) {
            if let Ok(f) = f.dyn_into::<worker::js_sys::Function>() {
                let _ = f.call0(&global);
            }
        }
    }));
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let started = worker::Date::now().as_millis();
    // The raw method: workers-rs maps methods it does not know to GET, which would serve them.
    let method = req.inner().method();
    let path = req.path();
    let core = match convert_request(req).await {
        Ok(r) => Ok(r),
        Err(e) => Err(http::router::secure(CoreResponse::from_error(&e))),
    };
    let resp = match core {
        Err(r) => r,
        Ok(core) => match platform::WorkerPlatform::load(env).await {
            Ok(p) => http::router::handle(&p, &core).await,
            Err(e) => CoreResponse::from_error(&e),
        },
    };
    log_request(&method, &path, &resp, worker::Date::now().as_millis() - started);
    into_response(resp)
}

/// One JSON line per request. The path only (queries can hold codes), never a body or header.
fn log_request(method: &str, path: &str, resp: &CoreResponse, ms: u64) {
    let line = serde_json::json!({
        "method": method,
        "path": path.chars().take(200).collect::<String>(),
        "status": resp.status,
        "ms": ms,
        "client_id": resp.log_client_id,
    });
    console_log!("{}", line);
}

async fn convert_request(mut req: Request) -> std::result::Result<CoreRequest, Error> {
    let url = req.url().map_err(|_| Error::invalid_request("bad request URL"))?;
    let declared: Option<usize> = req
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse().ok());
    if declared.is_some_and(|n| n > http::MAX_BODY) {
        return Err(too_large());
    }
    let headers: Vec<(String, String)> = req
        .headers()
        .entries()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect();
    let body = if matches!(req.inner().method().as_str(), "GET" | "HEAD") {
        Vec::new()
    } else {
        req.bytes()
            .await
            .map_err(|_| Error::invalid_request("the body could not be read"))?
    };
    if body.len() > http::MAX_BODY {
        return Err(too_large());
    }
    let remote_addr = req
        .headers()
        .get("cf-connecting-ip")
        .ok()
        .flatten()
        .unwrap_or_default();
    Ok(CoreRequest {
        method: req.inner().method(),
        path: url.path().to_owned(),
        query: url.query().unwrap_or("").to_owned(),
        headers,
        body,
        origin: url.origin().ascii_serialization(),
        remote_addr,
    })
}

fn too_large() -> Error {
    Error::new(
        ErrorCode::PayloadTooLarge,
        format!("bodies are limited to {} bytes", http::MAX_BODY),
    )
}

fn into_response(r: CoreResponse) -> Result<Response> {
    let headers = Headers::new();
    for (k, v) in &r.headers {
        headers.append(k, v)?;
    }
    let resp = if r.body.is_empty() {
        Response::empty()?
    } else {
        Response::from_bytes(r.body)?
    };
    Ok(resp.with_status(r.status).with_headers(headers))
}
