// The Worker's entry module (wrangler.toml `main` points at the copy scripts/build.sh puts in
// build/worker/shim.mjs). wrangler bundles it with the bindings wasm-bindgen generated
// (build/index.js, build/index_bg.wasm).
//
// It does what workers-rs' own entry shim does for a panic=unwind build, leaner, plus one thing:
// - `fetch` is exported from Rust as a function; here it is the module's fetch handler (a
//   plain object, no WorkerEntrypoint instance per request).
// - The Durable Object class builds a fresh wasm-side instance whenever the wasm instance has
//   been reset (`initState.instanceId` changes after a trap: wasm-bindgen's reset-state
//   function), so nothing keeps pointers into a dead heap; it answers RPC (`run`).
// - Ours: a Rust panic unwinds to the request that caused it (src/worker/mod.rs,
//   `CatchUnwind`) and answers that request alone with a JSON 500. Should anything still throw
//   out of the Rust side (a panic outside a request's future, a trap), the request it belonged
//   to answers here as a protocol error: a 500 with RFC 6749 JSON, never a hang or a trace.
import { DurableObject } from "cloudflare:workers";
import * as exports from "../index.js";

Error.stackTraceLimit = 100;
const initState = exports.__worker_init_state();

function internalError() {
  return new Response(
    JSON.stringify({ error: "server_error", error_description: "internal error; it has been logged" }),
    {
      status: 500,
      headers: {
        "content-type": "application/json",
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "x-frame-options": "DENY",
      },
    },
  );
}

// The fetch handler as a plain module export: workerd then calls one function per request,
// where a WorkerEntrypoint class costs an instance (and, to survive a wasm reset, a Proxy and a
// trap on every property read) per request. Nothing of the request's lives in an instance:
// `exports.fetch` always runs on the current wasm instance.
export default {
  async fetch(request, env, ctx) {
    try {
      return await exports.fetch(request, env, ctx);
    } catch {
      return internalError();
    }
  },
};

// The Durable Object class: a DurableObject (so the worker reaches it by RPC, `run`: one
// command string in, one reply string out, no Request or Response on either side) around the
// wasm-bindgen instance, made again when the wasm instance has been reset (its pointers would
// point into a dead heap). `fetch` stays for callers of the HTTP form.
export class Shard extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.inner = new exports.Shard(ctx, env);
    this.instanceId = initState.instanceId;
  }
  current() {
    if (this.instanceId !== initState.instanceId) {
      this.inner = new exports.Shard(this.ctx, this.env);
      this.instanceId = initState.instanceId;
    }
    return this.inner;
  }
  fetch(request) {
    return this.current().fetch(request);
  }
  run(command) {
    return this.current().run(command);
  }
}
