#!/usr/bin/env bash
# CPU profiles of the worker per endpoint, under load, through workerd's V8 inspector.
#   bash bench/profile.sh            (uses the existing build/: run sh scripts/build.sh first)
# Starts the worker with scripts/serve.sh on a known --inspector-port (fresh state, random
# admin token, BENCH_LOG_LEVEL as bench/run.sh), makes one trusted app and one access token,
# then for each endpoint runs bench/profile.mjs around PROFILE_SECONDS of oha at
# PROFILE_CONCURRENCY connections. Profiles (.cpuprofile: Chrome DevTools or speedscope) and
# summaries go to bench/results/profile/. The summaries are what docs/PERFORMANCE.md cites.
# Cases: empty discovery jwks token introspect (oha) and app_token code refresh (bench.py
# drive: every request needs a fresh assertion, code or refresh token, made before the load).
set -eu
set -o pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$HOME/.cargo/bin:$PATH"
PROFILE_SECONDS=${PROFILE_SECONDS:-10}
PROFILE_CONCURRENCY=${PROFILE_CONCURRENCY:-32}
PROFILE_CASES=${PROFILE_CASES:-"empty discovery token introspect app_token code refresh"}
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
  --var "ADMIN_TOKEN:$ADMIN_TOKEN" --var TOKEN_RATE_LIMIT:10000000 --var CODE_TTL:600 \
  --var LOGIN_LIMIT_ACCOUNT:1000000 --var LOGIN_LIMIT_ADDRESS:1000000 \
  || { tail -n 30 "$OUT/wrangler.log" >&2; exit 1; }
BASE=$SERVE_URL
say "worker at $BASE, inspector on $INSPECTOR, load average $(cut -d' ' -f1-3 /proc/loadavg)"

curl -sS -m 60 -o "$TMP/app.json" -X POST "$BASE/admin/apps" -H "authorization: Bearer $ADMIN_TOKEN" \
  -H 'content-type: application/json' -d '{"name":"profile","trusted":true,"scopes":["public"],"key":"generate"}'
get() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$@"; }
CLIENT_ID=$(get "$TMP/app.json" client_id)
CLIENT_SECRET=$(get "$TMP/app.json" client_secret)
get "$TMP/app.json" private_key > "$TMP/app-key.pem"
PY="python3 $ROOT/bench/bench.py"
case " $PROFILE_CASES " in
  *" code "*|*" refresh "*)
    REDIRECT_URI="https://bench.example/cb"
    curl -sS -m 60 -o "$TMP/web.json" -X POST "$BASE/admin/apps" -H "authorization: Bearer $ADMIN_TOKEN" \
      -H 'content-type: application/json' \
      -d "{\"name\":\"profile-web\",\"redirect_uris\":[\"$REDIRECT_URI\"],\"scopes\":[\"public\"],\"grant_types\":[\"authorization_code\",\"refresh_token\"]}"
    WEB_ID=$(get "$TMP/web.json" client_id)
    WEB_SECRET=$(get "$TMP/web.json" client_secret)
    $PY prepare-user "$BASE" "profile-$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')@bench.example" \
      "$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')" "$WEB_ID" "$REDIRECT_URI" public "$TMP/user.json"
    ;;
esac
# Inputs for the drive cases, made before the profiler starts (untimed).
drive_inputs() {
  n=$((PROFILE_SECONDS * ${PROFILE_RATE:-300}))
  case "$1" in
    app_token) node bench/sign_assertions.mjs "$TMP/app-key.pem" "$CLIENT_ID" "$n" "$TMP/in-app_token.txt" ;;
    code) $PY make-codes "$TMP/user.json" "$n" 8 "$TMP/in-code.txt" ;;
    refresh)
      $PY make-codes "$TMP/user.json" $((PROFILE_CONCURRENCY * 2 + 8)) 8 "$TMP/seed-codes.txt"
      $PY drive code "$BASE/oauth/token" "$TMP/seed-codes.txt" 4 120 seeding "$TMP/seed.json" \
        --basic="$WEB_ID:$WEB_SECRET" --redirect-uri "$REDIRECT_URI" --save-refresh "$TMP/in-refresh.txt" ;;
  esac
}
curl -sS -m 30 -o "$TMP/cc.json" -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials "$BASE/oauth/token"
ACCESS_TOKEN=$(get "$TMP/cc.json" access_token)
FORM=application/x-www-form-urlencoded

for case_name in $PROFILE_CASES; do
  case "$case_name" in
    empty) set -- "$BASE/__bench/empty" ;;
    discovery) set -- "$BASE/.well-known/oauth-authorization-server" ;;
    token) set -- -m POST -T "$FORM" -a "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials "$BASE/oauth/token" ;;
    introspect) set -- -m POST -T "$FORM" -a "$CLIENT_ID:$CLIENT_SECRET" -d "token=$ACCESS_TOKEN" "$BASE/oauth/introspect" ;;
    jwks) set -- "$BASE/.well-known/jwks.json" ;;
    app_token|code|refresh) ;;
    *) say "unknown case $case_name"; exit 2 ;;
  esac
  case "$case_name" in
    app_token|code|refresh)
      drive_inputs "$case_name"
      mode=$case_name; [ "$mode" = app_token ] && mode=assertion
      url="$BASE/oauth/token"; [ "$mode" = assertion ] && url="$BASE/application/token"
      set -- python3 "$ROOT/bench/bench.py" drive "$mode" "$url" "$TMP/in-$case_name.txt" "$PROFILE_CONCURRENCY" \
        "$PROFILE_SECONDS" "$case_name" "$OUT/$case_name.drive.json"
      [ "$mode" = assertion ] || set -- "$@" --basic="$WEB_ID:$WEB_SECRET" --redirect-uri "${REDIRECT_URI:-}"
      say "$case_name: ${PROFILE_SECONDS}s from $PROFILE_CONCURRENCY threads (load average $(cut -d' ' -f1-3 /proc/loadavg))"
      npx --no-install node bench/profile.mjs --inspector "$INSPECTOR" --interval "$PROFILE_INTERVAL" \
        --out "$OUT/$case_name.cpuprofile" -- "$@" > "$OUT/$case_name.txt" || say "$case_name: the load or the profiler failed"
      head -n 3 "$OUT/$case_name.txt" >&2
      python3 -c 'import json, sys; s = json.load(open(sys.argv[1])); print("[profile]   %.0f req/s under the profiler, success %.3f, calls %s" % (s["rps"], s["success"], s["calls"]))' "$OUT/$case_name.drive.json" >&2 || true
      continue ;;
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
