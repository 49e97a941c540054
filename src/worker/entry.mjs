// The Worker's entry module (wrangler.toml `main` points at the copy scripts/build.sh puts in
// build/worker/shim.mjs). wrangler bundles it with the bindings wasm-bindgen generated
// (build/index.js, build/index_bg.wasm).
//
// It does what workers-rs' own entry shim does for a panic=unwind build, plus one thing:
// - `fetch` is exported from Rust as a function; here it becomes a WorkerEntrypoint method
//   that passes the request, `env` and `ctx` on.
// - The entrypoint and the Durable Object class are wrapped in a Proxy that builds a fresh
//   instance whenever the wasm instance has been reset (`initState.instanceId` changes after
//   a trap: wasm-bindgen's reset-state function), so nothing keeps pointers into a dead heap.
// - Ours: a Rust panic unwinds to the request that caused it (src/worker/mod.rs,
//   `CatchUnwind`) and answers that request alone with a JSON 500. Should anything still throw
//   out of the Rust side (a panic outside a request's future, a trap), the request it belonged
//   to answers here as a protocol error: a 500 with RFC 6749 JSON, never a hang or a trace.
import { WorkerEntrypoint } from "cloudflare:workers";
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

class Portcullis extends WorkerEntrypoint {
  async fetch(request) {
    try {
      return await exports.fetch.call(this, request, this.env, this.ctx);
    } catch {
      return internalError();
    }
  }
}

// One handler for every instance (not a fresh object and closure per request): `get` builds
// the instance again when the wasm instance has been reset.
const instanceProxyHooks = {
  get(target, prop, receiver) {
    if (target.instanceId !== initState.instanceId) {
      target.instance = Reflect.construct(target.ctor, target.args, target.newTarget);
      target.instanceId = initState.instanceId;
    }
    return Reflect.get(target.instance, prop, receiver);
  },
  set: (target, prop, value, receiver) => Reflect.set(target.instance, prop, value, receiver),
  has: (target, prop) => Reflect.has(target.instance, prop),
  deleteProperty: (target, prop) => Reflect.deleteProperty(target.instance, prop),
  apply: (target, thisArg, args) => Reflect.apply(target.instance, thisArg, args),
  construct: (target, args, newTarget) => Reflect.construct(target.instance, args, newTarget),
  getPrototypeOf: (target) => Reflect.getPrototypeOf(target.instance),
  setPrototypeOf: (target, proto) => Reflect.setPrototypeOf(target.instance, proto),
  isExtensible: (target) => Reflect.isExtensible(target.instance),
  preventExtensions: (target) => Reflect.preventExtensions(target.instance),
  getOwnPropertyDescriptor: (target, prop) => Reflect.getOwnPropertyDescriptor(target.instance, prop),
  defineProperty: (target, prop, descriptor) => Reflect.defineProperty(target.instance, prop, descriptor),
  ownKeys: (target) => Reflect.ownKeys(target.instance),
};

const classProxyHooks = {
  construct(ctor, args, newTarget) {
    const instance = {
      instance: Reflect.construct(ctor, args, newTarget),
      instanceId: initState.instanceId,
      ctor,
      args,
      newTarget,
    };
    return new Proxy(instance, instanceProxyHooks);
  },
};

export const Shard = new Proxy(exports.Shard, classProxyHooks);
export default new Proxy(Portcullis, classProxyHooks);
