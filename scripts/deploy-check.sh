#!/bin/sh
# Proves the production bundle and bindings are valid (`wrangler deploy --dry-run`) and that
# the gzip size stays under the free plan's 3 MiB limit. Uses the build already in build/.
set -eu
cd "$(dirname "$0")/.."
out=target/deploy-dry-run
rm -rf "$out"
PORTCULLIS_SKIP_BUILD=1 WRANGLER_SEND_METRICS=false npx --no-install wrangler deploy --dry-run --outdir "$out" >"$out.log" 2>&1 || {
  cat "$out.log" >&2
  echo "[deploy-check] wrangler deploy --dry-run failed" >&2
  exit 1
}
raw=$(cat "$out"/*.wasm "$out"/*.js | wc -c)
gz=$(cat "$out"/*.wasm "$out"/*.js | gzip -9 | wc -c)
echo "[deploy-check] bundle: $raw bytes, gzip $gz bytes (limit 3145728)" >&2
grep -E "Total Upload" "$out.log" >&2 || true
[ "$gz" -lt 3145728 ] || { echo "[deploy-check] bundle too large for the free plan" >&2; exit 1; }
