//! The only code that touches workers-rs types: the fetch entry, request/response conversion,
//! the request log, and the adapters in `platform` (KV, Durable Objects, clock) and `durable`.

mod durable;
mod platform;

use crate::http::{self, Request as CoreRequest, Response as CoreResponse};
use crate::error::{Error, ErrorCode};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use worker::{console_log, event, Context, Env, Headers, Request, Response, Result};

#[event(start)]
fn start() {
    std::panic::set_hook(Box::new(|info| {
        // One structured line; the panic location and message never hold request data.
        let line = serde_json::json!({"panic": info.to_string()});
        worker::console_error!("{}", line);
    }));
}

/// Polls a request's future and turns a panic inside it into `Err(())`. The worker is built
/// with `panic=unwind` (scripts/build.sh), so a panic unwinds to here and ends only its own
/// request: the isolate and every other request in flight carry on.
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = std::result::Result<F::Output, ()>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => Poll::Ready(Err(())),
        }
    }
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    let started = worker::Date::now().as_millis();
    // The raw method: workers-rs maps methods it does not know to GET, which would serve them.
    let method = req.inner().method();
    let path = req.path();
    let core = match convert_request(req).await {
        Ok(r) => Ok(r),
        Err(e) => Err(crate::routes::render(&platform::Console, e)),
    };
    let mut resp = match core {
        Err(r) => r,
        Ok(core) => match platform::WorkerPlatform::load(env).await {
            Ok(p) => match CatchUnwind(Box::pin(crate::routes::handle(&p, &core))).await {
                Ok(r) => r,
                Err(()) => crate::routes::render(
                    &platform::Console,
                    Error::server("a panic; see the panic hook's log line"),
                ),
            },
            // A configuration problem: the detail goes to the log, never to the client.
            Err(e) => crate::routes::render(&platform::Console, e),
        },
    };
    // What the response leaves to do (back-channel logout) runs after it is sent, off the
    // request's path: `platform::deferred`.
    let after = std::mem::take(&mut resp.after);
    if !after.is_empty() {
        ctx.wait_until(async move {
            crate::platform::deferred::run(&platform::Notifier, after).await;
        });
    }
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
