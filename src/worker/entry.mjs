// The Worker's entry module, installed as build/worker/shim.mjs by scripts/build.sh.
//
// The worker is built with panic=unwind: a Rust panic unwinds to the request that caused it
// (src/worker/mod.rs, `CatchUnwind`) and answers that request alone with a JSON 500. Other
// requests in flight in the isolate are not touched. Should anything still throw out of the
// Rust side (a panic outside a request's future, a trap), the request it belonged to answers
// here as a protocol error: a 500 with RFC 6749 JSON, never a hang or a stack trace.
import RustWorker, { Shard } from "../index.js";

export { Shard };

export default class Portcullis extends RustWorker {
  async fetch(request) {
    try {
      return await super.fetch(request);
    } catch {
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
  }
}
