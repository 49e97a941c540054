// CPU profile of a worker under load, through workerd's V8 inspector as `wrangler dev
// --inspector-port` exposes it (scripts/serve.sh passes one). A small CDP client on Node's own
// WebSocket (Node ≥ 22), no dependency.
//
//   node bench/profile.mjs --inspector PORT --out FILE.cpuprofile [--interval US] [--top N]
//        [--target SUBSTRING] [--load-out FILE] -- LOAD COMMAND...
//
// Connects to the worker's isolate (the first target of http://127.0.0.1:PORT/json whose id or
// title contains --target, default: the first), starts the sampling profiler, runs the load
// command (e.g. oha; its stdout to --load-out) to its end, stops the profiler, writes the profile (open it in Chrome
// DevTools' Performance panel or speedscope) and prints a summary: samples by kind (wasm,
// wasm-bindgen glue, the entry module, the runtime's builtins, GC, idle), the functions with
// the most self time, and the most inclusive time of a few functions the request path is
// known to pass through. bench/profile.sh drives it per endpoint.
import { spawn } from "node:child_process";
import { openSync, writeFileSync } from "node:fs";

const args = process.argv.slice(2);
const sep = args.indexOf("--");
if (sep < 0) usage("missing -- LOAD COMMAND");
const opts = {};
for (let i = 0; i < sep; i += 2) opts[args[i].replace(/^--/, "")] = args[i + 1];
const load = args.slice(sep + 1);
if (!opts.inspector || !opts.out || load.length === 0) usage("--inspector, --out and a load command are required");
const interval = Number(opts.interval ?? 200);
const top = Number(opts.top ?? 30);

function usage(msg) {
  console.error(`profile.mjs: ${msg}\nusage: node bench/profile.mjs --inspector PORT --out FILE [--interval US] [--top N] [--target S] -- CMD...`);
  process.exit(2);
}

const targets = await (await fetch(`http://127.0.0.1:${opts.inspector}/json`)).json();
const target = targets.find((t) => !opts.target || `${t.id} ${t.title}`.includes(opts.target)) ?? targets[0];
if (!target) throw new Error(`no inspector target on port ${opts.inspector}`);
// wrangler's inspector proxy admits DevTools origins and localhost only (undici's WebSocket takes
// headers as an extension of the standard constructor).
const ws = new WebSocket(target.webSocketDebuggerUrl, { headers: { Origin: "http://localhost" } });
await new Promise((ok, fail) => {
  ws.onopen = ok;
  ws.onerror = (e) => fail(new Error(`inspector websocket: ${e.message ?? e.type}`));
});
let nextId = 1;
const pending = new Map();
ws.onmessage = (ev) => {
  const msg = JSON.parse(ev.data);
  if (msg.id && pending.has(msg.id)) {
    const { ok, fail } = pending.get(msg.id);
    pending.delete(msg.id);
    if (msg.error) fail(new Error(`${msg.error.message} (${msg.error.code})`));
    else ok(msg.result);
  }
};
function send(method, params = {}) {
  const id = nextId++;
  ws.send(JSON.stringify({ id, method, params }));
  return new Promise((ok, fail) => pending.set(id, { ok, fail }));
}

await send("Profiler.enable");
await send("Profiler.setSamplingInterval", { interval });
await send("Profiler.start");
const started = Date.now();
const code = await new Promise((ok) => {
  const stdout = opts["load-out"] ? openSync(opts["load-out"], "w") : "ignore";
  const child = spawn(load[0], load.slice(1), { stdio: ["ignore", stdout, "inherit"] });
  child.on("exit", (c) => ok(c ?? 1));
  child.on("error", (e) => {
    console.error(`load command: ${e.message}`);
    ok(1);
  });
});
const { profile } = await send("Profiler.stop");
const wallMs = Date.now() - started;
ws.close();
writeFileSync(opts.out, JSON.stringify(profile));

// ---- summary ---------------------------------------------------------------------------------
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const dt = new Map(); // node id -> µs of self time
profile.samples.forEach((id, i) => dt.set(id, (dt.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...dt.values()].reduce((a, b) => a + b, 0);

function kind(cf) {
  const name = cf.functionName;
  if (name === "(idle)") return "idle";
  if (name === "(garbage collector)") return "GC";
  if (name === "(program)" || name === "(root)") return "program (runtime outside JS)";
  if (cf.url.startsWith("wasm://")) return "wasm (Rust)";
  if (/index\.js$/.test(cf.url) || /^__wbg|^__wbindgen|passStringToWasm|getStringFromWasm|getArrayU8|handleError|makeMutClosure|addHeapObject|takeObject/.test(name)) return "wasm-bindgen glue (JS)";
  if (/shim\.mjs$|entry\.mjs$/.test(cf.url)) return "entry module (JS)";
  if (cf.url === "") return "runtime builtins (console, Headers, Response, ...)";
  return `other JS (${cf.url.split("/").pop()})`;
}
const label = (cf) => `${cf.functionName || "(anonymous)"} ${cf.url ? cf.url.split("/").pop() + ":" + (cf.lineNumber + 1) : ""}`.trim();

const byKind = new Map();
const bySelf = new Map();
const byIncl = new Map();
for (const [id, us] of dt) {
  const n = nodes.get(id);
  const k = kind(n.callFrame);
  byKind.set(k, (byKind.get(k) ?? 0) + us);
  const l = label(n.callFrame);
  bySelf.set(l, (bySelf.get(l) ?? 0) + us);
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const cl = label(nodes.get(cur).callFrame);
    if (seen.has(cl)) continue;
    seen.add(cl);
    byIncl.set(cl, (byIncl.get(cl) ?? 0) + us);
  }
}
const busy = total - (byKind.get("idle") ?? 0);
const pct = (us) => `${((100 * us) / busy).toFixed(1).padStart(5)} %`;
const ms = (us) => `${(us / 1000).toFixed(1).padStart(8)} ms`;
const out = [];
out.push(`profile: ${opts.out} (${profile.samples.length} samples every ${interval} µs, ${(wallMs / 1000).toFixed(1)} s wall, load exit ${code})`);
out.push(`busy (not idle): ${(busy / 1000).toFixed(0)} ms of ${(total / 1000).toFixed(0)} ms; shares below are of busy time`);
out.push("\nby kind (self time):");
for (const [k, us] of [...byKind].filter(([k]) => k !== "idle").sort((a, b) => b[1] - a[1])) out.push(`  ${pct(us)} ${ms(us)}  ${k}`);
out.push(`\ntop ${top} functions by self time:`);
for (const [l, us] of [...bySelf].filter(([l]) => !l.startsWith("(idle)")).sort((a, b) => b[1] - a[1]).slice(0, top)) out.push(`  ${pct(us)} ${ms(us)}  ${l}`);
out.push(`\ntop ${top} functions by inclusive time:`);
for (const [l, us] of [...byIncl].filter(([l]) => !/^\((idle|root)\)/.test(l)).sort((a, b) => b[1] - a[1]).slice(0, top)) out.push(`  ${pct(us)} ${ms(us)}  ${l}`);
const watch = (opts.watch ?? "log_request,request_line,convert_request,into_response,console_log,CatchUnwind,WorkerPlatform::load,routes::handle,serde_json,protocol::encode,protocol::decode,protocol::run,fetch_with_request,platform::call,shard_run,SqlKv,purge_expired,exec,get_app,rsa_kernel,rs256,ed25519,jwt,sha2,Headers,header_lines,log ").split(",");
out.push("\ninclusive time of functions whose name contains:");
for (const w of watch) {
  let us = 0;
  // Count each sample once even if several matching frames are on its stack.
  for (const [id, t] of dt) {
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      if (label(nodes.get(cur).callFrame).includes(w)) {
        us += t;
        break;
      }
    }
  }
  out.push(`  ${pct(us)} ${ms(us)}  ${w}`);
}
console.log(out.join("\n"));
process.exit(code === 0 ? 0 : 1);
