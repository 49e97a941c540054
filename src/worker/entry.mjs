// The Worker's entry module, installed as build/worker/shim.mjs by scripts/build.sh.
//
// A Rust panic aborts the wasm instance; the request it was serving (and any other in flight)
// would never settle. The Rust panic hook (src/worker/mod.rs) logs the panic and calls
// `__portcullisPanic`, which fails every in-flight request here so each answers as a protocol
// error: a 500 with RFC 6749 JSON, never a hang or a stack trace. worker-build's panic
// recovery gives the next request a fresh instance.
import RustWorker, { Shard } from "../index.js";

export { Shard };

const inflight = new Set();

globalThis.__portcullisPanic = () => {
  for (const fail of inflight) fail(new Error("panic"));
  inflight.clear();
};

export default class Portcullis extends RustWorker {
  async fetch(request) {
    let fail;
    const panicked = new Promise((_, reject) => (fail = reject));
    inflight.add(fail);
    try {
      return await Promise.race([super.fetch(request), panicked]);
    } catch {
      return new Response(
        JSON.stringify({ error: "server_error", error_description: "internal error; it has been logged" }),
        { status: 500, headers: { "content-type": "application/json", "cache-control": "no-store" } },
      );
    } finally {
      inflight.delete(fail);
    }
  }
}
