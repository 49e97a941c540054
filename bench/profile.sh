#!/usr/bin/env bash
# CPU profiles of the worker per endpoint, under load, through workerd's V8 inspector.
#   bash bench/profile.sh            (uses the existing build/: run sh scripts/build.sh first)
# Starts the worker with scripts/serve.sh on a known --inspector-port (fresh state, random
# admin token, BENCH_LOG_LEVEL as bench/run.sh), makes one trusted app and one access token,
# then for each endpoint runs bench/profile.mjs around PROFILE_SECONDS of oha at
# PROFILE_CONCURRENCY connections. Profiles (.cpuprofile: Chrome DevTools or speedscope) and
# summaries go to bench/results/profile/. The summaries are what docs/PERFORMANCE.md cites.
set -eu
set -o pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$HOME/.cargo/bin:$PATH"
PROFILE_SECONDS=${PROFILE_SECONDS:-10}
PROFILE_CONCURRENCY=${PROFILE_CONCURRENCY:-32}
PROFILE_CASES=${PROFILE_CASES:-"empty discovery token introspect"}
PROFILE_INTERVAL=${PROFILE_INTERVAL:-200}   # sampling interval, µs
BENCH_LOG_LEVEL=${BENCH_LOG_LEVEL:-warn}
OUT=${PROFILE_OUT:-"$ROOT/bench/results/profile"}
mkdir -p "$OUT"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/portcullis-profile.XXXXXX")
. scripts/serve-lib.sh
trap 'serve_stop; rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM
say() { printf '[profile] %s\n' "$*" >&2; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
INSPECTOR=$(free_port)
ADMIN_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
serve_start "$OUT/wrangler.log" "$TMP/server" --build "${PROFILE_BUILD:-build}" --inspector-port "$INSPECTOR" --log-level "$BENCH_LOG_LEVEL" \
  --var "ADMIN_TOKEN:$ADMIN_TOKEN" --var TOKEN_RATE_LIMIT:10000000 \
  || { tail -n 30 "$OUT/wrangler.log" >&2; exit 1; }
BASE=$SERVE_URL
say "worker at $BASE, inspector on $INSPECTOR, load average $(cut -d' ' -f1-3 /proc/loadavg)"

curl -sS -m 60 -o "$TMP/app.json" -X POST "$BASE/admin/apps" -H "authorization: Bearer $ADMIN_TOKEN" \
  -H 'content-type: application/json' -d '{"name":"profile","trusted":true,"scopes":["public"]}'
get() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$@"; }
CLIENT_ID=$(get "$TMP/app.json" client_id)
CLIENT_SECRET=$(get "$TMP/app.json" client_secret)
curl -sS -m 30 -o "$TMP/cc.json" -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials "$BASE/oauth/token"
ACCESS_TOKEN=$(get "$TMP/cc.json" access_token)
FORM=application/x-www-form-urlencoded

for case_name in $PROFILE_CASES; do
  case "$case_name" in
    empty) set -- "$BASE/__bench/empty" ;;
    discovery) set -- "$BASE/.well-known/oauth-authorization-server" ;;
    token) set -- -m POST -T "$FORM" -a "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials "$BASE/oauth/token" ;;
    introspect) set -- -m POST -T "$FORM" -a "$CLIENT_ID:$CLIENT_SECRET" -d "token=$ACCESS_TOKEN" "$BASE/oauth/introspect" ;;
    *) say "unknown case $case_name"; exit 2 ;;
  esac
  oha -n 100 -c 4 --no-tui --output-format quiet "$@" > /dev/null 2>&1 || true
  say "$case_name: ${PROFILE_SECONDS}s at c=$PROFILE_CONCURRENCY (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  npx --no-install node bench/profile.mjs --inspector "$INSPECTOR" --interval "$PROFILE_INTERVAL" \
    --out "$OUT/$case_name.cpuprofile" --load-out "$OUT/$case_name.oha.json" -- \
    oha -z "${PROFILE_SECONDS}s" -c "$PROFILE_CONCURRENCY" -w --no-tui --output-format json "$@" \
    > "$OUT/$case_name.txt" || say "$case_name: the load or the profiler failed"
  oha -n 1 --no-tui --output-format quiet "$@" >/dev/null 2>&1 || true
  head -n 3 "$OUT/$case_name.txt" >&2
  python3 -c 'import json, sys; s = json.load(open(sys.argv[1]))["summary"]; print("[profile]   %.0f req/s under the profiler, success %.3f" % (s["requestsPerSec"], s["successRate"]))' "$OUT/$case_name.oha.json" >&2 || true
done
say "summaries in $OUT/*.txt"
