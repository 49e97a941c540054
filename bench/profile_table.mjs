// A table of where the isolate's time goes, per profiled endpoint, from the .cpuprofile files
// bench/profile.sh wrote (shares of busy time, each group counted once per sample).
//   node bench/profile_table.mjs bench/results/profile empty discovery token introspect app_token code refresh
import { readFileSync, existsSync } from "node:fs";
const dir = process.argv[2];
const cases = process.argv.slice(3);
const groups = {
  "console.log of the request log line (the builtin, under the inspector)": (l, s) => s[0] === "" && s[1] === " shim.js" && (s[2] ?? "").startsWith("wasm-to-js") && /fetch_fetch_glue|console::log_1|worker::finish/.test(s[3] ?? ""),
  "entry module: WorkerEntrypoint instance + Proxy (construct trap) per request": (l, s) => s.some(x => /^(Portcullis|construct) shim\.js|^WorkerEntrypoint$/.test(x)),
  "JS of the bundle outside the wasm (wrangler's middleware, the entry module; self time)": (l, s) => (s[0] ?? "").endsWith(" shim.js") && !s.some(x => x.includes("portcullis.wasm")),
  "RSA signing (rsa_kernel)": (l, s) => s.some(x => x.includes("rsa_kernel")),
  "RSA/JWT verify": (l, s) => s.some(x => x.includes("verify")) && !s.some(x => x.includes("rsa_kernel::PrivateKey")),
  "DO: the command (protocol::run)": (l, s) => s.some(x => x.includes("protocol::run")),
  "  of it SQLite exec": (l, s) => s.some(x => x.includes("protocol::run")) && s.some(x => x === "exec" || x.startsWith("exec ")),
  "DO: call overhead both sides (fetch_with_request, Shard fetch, text/bytes)": (l, s) => (s.some(x => x.includes("fetch_with_request") || x.includes("Shard>::fetch") || x.includes("Shard_fetch") || x.includes("shard_run") || x.includes("Shard>::run"))) && !s.some(x => x.includes("protocol::run")),
  "wasm-bindgen futures (queueMicrotask, promise glue)": (l, s) => s.some(x => x.includes("queueMicrotask")),
  "request conversion (convert_request, header_lines)": (l, s) => s.some(x => x.includes("convert_request") || x.includes("header_lines")),
  "serde_json (all)": (l, s) => s.some(x => x.includes("serde_json")),
  "GC": (l) => l === "(garbage collector)",
};
console.log("| where | " + cases.join(" | ") + " |");
console.log("|---|" + cases.map(() => "---:").join("|") + "|");
const rows = Object.fromEntries(Object.keys(groups).map(k => [k, []]));
const head = { "req/s under the profiler": [], "busy CPU ms per request (isolate)": [] };
for (const c of cases) {
  const p = JSON.parse(readFileSync(`${dir}/${c}.cpuprofile`));
  const nodes = new Map(p.nodes.map(n => [n.id, n]));
  const parent = new Map();
  for (const n of p.nodes) for (const ch of n.children ?? []) parent.set(ch, n.id);
  const dt = new Map();
  p.samples.forEach((id, i) => dt.set(id, (dt.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  let busy = 0;
  const acc = Object.fromEntries(Object.keys(groups).map(k => [k, 0]));
  for (const [id, us] of dt) {
    const n = nodes.get(id);
    if (n.callFrame.functionName === "(idle)") continue;
    busy += us;
    const stack = [];
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) { const cf = nodes.get(cur).callFrame; stack.push(`${cf.functionName}${cf.url ? " " + cf.url.split("/").pop() : ""}`); }
    for (const [g, f] of Object.entries(groups)) if (f(n.callFrame.functionName, stack)) acc[g] += us;
  }
  let reqs = null, rps = null;
  if (existsSync(`${dir}/${c}.oha.json`)) { const o = JSON.parse(readFileSync(`${dir}/${c}.oha.json`)); rps = o.summary.requestsPerSec; reqs = Object.values(o.statusCodeDistribution ?? {}).reduce((a, b) => a + b, 0); }
  if (existsSync(`${dir}/${c}.drive.json`)) { const o = JSON.parse(readFileSync(`${dir}/${c}.drive.json`)); rps = o.rps; reqs = o.requests; }
  head["req/s under the profiler"].push(rps?.toFixed(0) ?? "?");
  head["busy CPU ms per request (isolate)"].push(reqs ? (busy / 1000 / reqs).toFixed(2) : "?");
  for (const g of Object.keys(groups)) rows[g].push(`${(100 * acc[g] / busy).toFixed(1)} %`);
}
for (const [k, v] of Object.entries(head)) console.log(`| ${k} | ${v.join(" | ")} |`);
for (const [k, v] of Object.entries(rows)) console.log(`| ${k} | ${v.join(" | ")} |`);
