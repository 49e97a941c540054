//! The only code that touches workers-rs types: the fetch entry, request/response conversion,
//! the request log, and the adapters in `platform` (KV, Durable Objects, clock) and `durable`.

mod durable;
mod platform;

use crate::http::{self, Request as CoreRequest, Response as CoreResponse};
use crate::error::{Error, ErrorCode};
use crate::platform::Platform;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use worker::{event, Context, Env, Headers, Request, Response, ResponseBuilder, Result};

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
    let mut resp = match convert_request(req).await {
        Err(e) => crate::routes::render(&platform::Console, e),
        Ok(core) => match platform::WorkerPlatform::load(env).await {
            Ok(p) => {
                let mut resp = if core.path == "/__bench/empty" && p.config().dev() {
                    // Development only: the floor of a request through this entry (conversions,
                    // platform, log line) that does nothing; bench/run.sh compares it with the
                    // peer's empty route.
                    CoreResponse::empty(200)
                } else {
                    match CatchUnwind(Box::pin(crate::routes::handle(&p, &core))).await {
                        Ok(r) => r,
                        Err(()) => crate::routes::render(
                            &platform::Console,
                            Error::server("a panic; see the panic hook's log line"),
                        ),
                    }
                };
                if p.config().dev() {
                    // Development only: what the request cost in calls out of the isolate.
                    let calls = format!(
                        "do={}, kv={}",
                        p.calls.durable_object.get(),
                        p.calls.kv_read.get()
                    );
                    resp.headers.push(("x-portcullis-calls".into(), calls));
                }
                resp
            }
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
    let ms = worker::Date::now().as_millis() - started;
    // One request log line (src/http/log.rs), handed to console.log as it is.
    let line = http::log::request_line(&method, &path, resp.status, ms, resp.log_client_id.as_deref());
    worker::web_sys::console::log_1(&line.as_str().into());
    into_response(resp)
}

async fn convert_request(mut req: Request) -> std::result::Result<CoreRequest, Error> {
    // The runtime's serialised URL, split without a second parse (src/http/target.rs); a URL
    // that does not read as expected is parsed.
    let raw_url = req.inner().url();
    let (origin, path, query) = match http::target::split(&raw_url) {
        Some(t) => (t.origin, t.path.to_owned(), t.query.to_owned()),
        None => {
            let url = req.url().map_err(|_| Error::invalid_request("bad request URL"))?;
            (
                url.origin().ascii_serialization(),
                url.path().to_owned(),
                url.query().unwrap_or("").to_owned(),
            )
        }
    };
    let declared: Option<usize> = req
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse().ok());
    if declared.is_some_and(|n| n > http::MAX_BODY) {
        return Err(too_large());
    }
    let headers = header_pairs(&header_lines(req.inner().headers().as_ref()));
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
        path,
        query,
        headers,
        body,
        origin,
        remote_addr,
    })
}

// All of a request's headers in one string, `name\nvalue\n` each, made in JS: one call and one
// string copy instead of an iterator step, an array and two strings per header (the profile of
// the empty route showed `Headers::entries` at ~5 %). A Headers value never holds a newline
// (the Fetch standard strips or refuses CR, LF and NUL) and names come lower-cased.
#[wasm_bindgen::prelude::wasm_bindgen(inline_js = "export function header_lines(h) { let s = ''; for (const [k, v] of h) { s += k + '\\n' + v + '\\n'; } return s; }")]
extern "C" {
    fn header_lines(h: &worker::wasm_bindgen::JsValue) -> String;
}

fn header_pairs(lines: &str) -> Vec<(String, String)> {
    let mut parts = lines.split('\n');
    let mut out = Vec::with_capacity(16);
    while let (Some(k), Some(v)) = (parts.next(), parts.next()) {
        out.push((k.to_ascii_lowercase(), v.to_owned()));
    }
    out
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
    // One Headers object: `Response::from_bytes` would make (and set a content type in) another
    // that `with_headers` then throws away.
    let builder = ResponseBuilder::new().with_status(r.status).with_headers(headers);
    Ok(if r.body.is_empty() {
        builder.empty()
    } else {
        builder.fixed(r.body)
    })
}
