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
use wasm_bindgen::JsValue;
use worker::web_sys::Response as WebResponse;
use worker::worker_sys::web_sys::Request as WebRequest;
use worker::{event, Context, Env};

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

/// The fetch entry (src/worker/entry.mjs calls it for every request). The request's future is
/// polled once right here: a request that needs no I/O (metadata, JWKS, a page, an error)
/// is answered with its Response at once, with no Promise, task queue or microtask; only a
/// request still waiting (a Durable Object call, a KV read, a body) becomes a Promise
/// (`future_to_promise`, which polls it again with a real waker: every JS promise it waits on
/// takes the new waker when polled). An `Err` throws: the entry module answers a JSON 500.
#[wasm_bindgen::prelude::wasm_bindgen(js_name = fetch)]
pub fn fetch(
    req: worker::worker_sys::web_sys::Request,
    env: Env,
    ctx: worker::worker_sys::Context,
) -> std::result::Result<JsValue, JsValue> {
    // The runtime's Request as it is: workers-rs' `Request::from` would read the method, the
    // URL (parsing its path) and the `cf` object that `convert_request` reads again or never.
    let mut fut = Box::pin(serve(req, env, Context::new(ctx)));
    match fut.as_mut().poll(&mut TaskContext::from_waker(std::task::Waker::noop())) {
        Poll::Ready(r) => r.map(JsValue::from),
        // Unwind-safe as the workers-rs export is: a panic inside a request's future ends
        // that request alone (`CatchUnwind` around the router).
        Poll::Pending => {
            let rest = AssertUnwindSafe(async move { fut.await.map(JsValue::from) });
            Ok(worker::wasm_bindgen_futures::future_to_promise(rest).into())
        }
    }
}

async fn serve(req: WebRequest, env: Env, ctx: Context) -> std::result::Result<WebResponse, JsValue> {
    let started = worker::Date::now().as_millis();
    // The request's id: Cloudflare's ray, else random (a failure of randomness leaves zeros:
    // the id is for finding log lines, never a secret).
    let mut random = [0u8; 8];
    let _ = getrandom::getrandom(&mut random);
    match convert_request(req).await {
        Ok(mut core) => {
            let id = http::log::request_id(core.header("cf-ray"), random);
            // The core reads the request's id here (audit events carry it); never the client's.
            core.headers.retain(|(k, _)| k != "x-request-id");
            core.headers.push(("x-request-id".into(), id.clone()));
            let store = platform::AuditStore { env: env.clone() };
            let resp = answer(&core, env).await;
            finish(resp, &core.method, &core.path, started, &ctx, &id, Some(store))
        }
        // A request that could not be read: logged with what is known of it.
        Err((e, method, path)) => {
            let id = http::log::request_id(None, random);
            finish(crate::routes::render(&platform::Console, e), &method, &path, started, &ctx, &id, None)
        }
    }
}

/// The response to a request that was read: the platform, then the router (or the empty route).
async fn answer(core: &CoreRequest, env: Env) -> CoreResponse {
    let host = core.origin.split_once("://").map_or(core.origin.as_str(), |(_, h)| h);
    match platform::WorkerPlatform::load(env, host).await {
        Ok(p) => {
            let mut resp = if core.path == "/__bench/empty" && p.config().dev() {
                // Development only: the floor of a request through this entry (conversions,
                // platform, log line) that does nothing; bench/run.sh compares it with the
                // peer's empty route.
                CoreResponse::empty(200)
            } else {
                match CatchUnwind(Box::pin(crate::routes::handle(&p, core))).await {
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
    }
}

/// Leaves the response's deferred work to `ctx`, writes the request log line and makes the
/// runtime's Response.
fn finish(
    mut resp: CoreResponse,
    method: &str,
    path: &str,
    started: u64,
    ctx: &Context,
    request_id: &str,
    store: Option<platform::AuditStore>,
) -> std::result::Result<WebResponse, JsValue> {
    // What the response leaves to do (back-channel logout) runs after it is sent, off the
    // request's path: `platform::deferred`.
    let after = std::mem::take(&mut resp.after);
    if !after.is_empty() {
        ctx.wait_until(async move {
            crate::platform::deferred::run(&platform::Notifier, after).await;
        });
    }
    // Audit events are stored off the request's path too: one object call each.
    let audit = std::mem::take(&mut resp.audit);
    if let (false, Some(store)) = (audit.is_empty(), store) {
        ctx.wait_until(async move {
            crate::platform::deferred::store_audit(&store, audit).await;
        });
    }
    let ms = worker::Date::now().as_millis() - started;
    // One request log line (src/http/log.rs), handed to console.log as it is.
    let line = http::log::line(&http::log::Line {
        method,
        path,
        status: resp.status,
        ms,
        client_id: resp.log_client_id.as_deref(),
        error: resp.log_error,
        tenant: resp.log_tenant.as_deref(),
        request_id: Some(request_id),
    });
    resp.headers.push(("x-request-id".into(), request_id.to_owned()));
    worker::web_sys::console::log_1(&line.as_str().into());
    into_response(resp)
}

/// The request as the core reads it. On an error, the method and path for the log line.
async fn convert_request(req: WebRequest) -> std::result::Result<CoreRequest, (Error, String, String)> {
    // The raw method: workers-rs maps methods it does not know to GET, which would serve them.
    let method = req.method();
    // The runtime's serialised URL, split without a second parse (src/http/target.rs); a URL
    // that does not read as expected is parsed.
    let raw_url = req.url();
    let (origin, path, query) = match http::target::split(&raw_url) {
        Some(t) => (t.origin, t.path.to_owned(), t.query.to_owned()),
        None => match url::Url::parse(&raw_url) {
            Ok(url) => (
                url.origin().ascii_serialization(),
                url.path().to_owned(),
                url.query().unwrap_or("").to_owned(),
            ),
            Err(_) => {
                // For the log line: what follows the host, without a query or fragment.
                let after_host = raw_url.split_once("://").and_then(|(_, rest)| rest.find('/').and_then(|i| rest.get(i..)));
                let path = after_host.unwrap_or("/").split(['?', '#']).next().unwrap_or("/").to_owned();
                return Err((Error::invalid_request("bad request URL"), method, path));
            }
        },
    };
    let headers = header_pairs(&header_lines(req.headers().as_ref()));
    let find = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let declared: Option<usize> = find("content-length").and_then(|v| v.parse().ok());
    if declared.is_some_and(|n| n > http::MAX_BODY) {
        return Err((too_large(), method, path));
    }
    let remote_addr = find("cf-connecting-ip").unwrap_or_default().to_owned();
    let body = if matches!(method.as_str(), "GET" | "HEAD") {
        Vec::new()
    } else {
        match read_body(&req).await {
            Some(b) => b,
            None => return Err((Error::invalid_request("the body could not be read"), method, path)),
        }
    };
    if body.len() > http::MAX_BODY {
        return Err((too_large(), method, path));
    }
    Ok(CoreRequest {
        method,
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
// `response` is the way back: the status, every header in the same form and the body make
// the Response in one call, where a Headers object filled by one call per header and a
// ResponseBuilder cost a conversion per string.
#[wasm_bindgen::prelude::wasm_bindgen(inline_js = "export function header_lines(h) { let s = ''; for (const [k, v] of h) { s += k + '\\n' + v + '\\n'; } return s; }
export function response(status, lines, body) { const h = new Headers(); const p = lines.split('\\n'); for (let i = 0; i + 1 < p.length; i += 2) h.append(p[i], p[i + 1]); return new Response(body.length === 0 ? null : body, { status, headers: h }); }")]
extern "C" {
    fn header_lines(h: &worker::wasm_bindgen::JsValue) -> String;
    #[wasm_bindgen(catch)]
    fn response(status: u16, lines: &str, body: Vec<u8>) -> std::result::Result<WebResponse, JsValue>;
}

/// The request's body, once (what workers-rs' `Request::bytes` does).
async fn read_body(req: &WebRequest) -> Option<Vec<u8>> {
    let promise = req.array_buffer().ok()?;
    let buf = worker::wasm_bindgen_futures::JsFuture::from(promise).await.ok()?;
    Some(worker::js_sys::Uint8Array::new(&buf).to_vec())
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

/// The runtime's Response: headers joined as `name\nvalue\n` for one JS call (`response`). A
/// header value with a newline (never made here: values come from our own code, and a
/// gateway origin's headers came through a Headers object, which refuses them) is dropped,
/// as the Headers object would refuse it.
fn into_response(r: CoreResponse) -> std::result::Result<WebResponse, JsValue> {
    let mut lines = String::with_capacity(r.headers.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
    for (k, v) in &r.headers {
        if k.contains('\n') || v.contains('\n') {
            continue;
        }
        lines.push_str(k);
        lines.push('\n');
        lines.push_str(v);
        lines.push('\n');
    }
    response(r.status, &lines, r.body)
}
