#!/usr/bin/env bash
# Portcullis benchmark: one command, from a fresh checkout to a Markdown table.
#   bash bench/run.sh
# Builds the release worker, starts it under `wrangler dev` (workerd, local KV and Durable
# Objects in a fresh temp dir), creates a trusted app through the admin API, loads each endpoint
# at each concurrency for BENCH_SECONDS, measures RS256 signing inside the worker, and writes
# bench/results/latest.md (raw reports and logs in bench/results/latest/). See bench/README.md.
set -eu
set -o pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

# ---- knobs ---------------------------------------------------------------------------------
BENCH_SECONDS=${BENCH_SECONDS:-10}                 # timed seconds per endpoint × concurrency
BENCH_CONCURRENCY=${BENCH_CONCURRENCY:-"1 32"}     # connections (threads for /application/token)
BENCH_CASES=${BENCH_CASES:-"discovery jwks token introspect app_token"}
BENCH_WARMUP=${BENCH_WARMUP:-50}                   # untimed requests per endpoint before its cases
BENCH_APP_ASSERTIONS_PER_S=${BENCH_APP_ASSERTIONS_PER_S:-300}  # pre-signed JWTs per timed second
BENCH_SIGN_N=${BENCH_SIGN_N:-200}                  # signatures per /__bench/sign call
BENCH_SIGN_CALLS=${BENCH_SIGN_CALLS:-5}            # /__bench/sign calls (the first is a warm-up)
BENCH_OHA_VERSION=${BENCH_OHA_VERSION:-1.16.0}     # oha from crates.io, installed if missing
BENCH_SKIP_BUILD=${BENCH_SKIP_BUILD:-0}            # 1: skip scripts/setup.sh and scripts/build.sh
BENCH_LOG_LEVEL=${BENCH_LOG_LEVEL:-}               # passed to `wrangler dev --log-level` if set

OUT="$ROOT/bench/results"
RAW="$OUT/latest"
export PATH="$HOME/.cargo/bin:$PATH"
PY="python3 $ROOT/bench/bench.py"
T0=$(date +%s)
STEP="starting"
WPID=""
TMP=""

say() { printf '[bench] %s\n' "$*" >&2; }
step() { STEP=$*; say "== $*"; }
die() { say "ERROR: $*"; exit 1; }

stop_worker() {
  [ -n "$WPID" ] || return 0
  if kill -0 -- "-$WPID" 2>/dev/null; then
    kill -TERM -- "-$WPID" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      kill -0 -- "-$WPID" 2>/dev/null || break
      sleep 0.5
    done
    kill -KILL -- "-$WPID" 2>/dev/null || true
  fi
  wait "$WPID" 2>/dev/null || true
  WPID=""
}

cleanup() {
  rc=$?
  trap - EXIT INT TERM
  stop_worker
  if [ "$rc" -ne 0 ]; then
    say "FAILED (exit $rc) during: $STEP"
    if [ -f "$RAW/wrangler.log" ]; then
      say "last lines of $RAW/wrangler.log:"
      tail -n 25 "$RAW/wrangler.log" >&2 || true
    fi
  fi
  [ -n "$TMP" ] && rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for tool in python3 curl node cargo; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not on PATH"
done
case "$BENCH_SECONDS" in ''|*[!0-9]*|0) die "BENCH_SECONDS must be a positive integer" ;; esac

rm -rf "$RAW"
mkdir -p "$RAW/cases"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/portcullis-bench.XXXXXX")

# ---- 1. toolchain and release build ----------------------------------------------------------
if [ "$BENCH_SKIP_BUILD" != "1" ]; then
  step "setup (scripts/setup.sh)"
  sh scripts/setup.sh > "$RAW/setup.log" 2>&1 || { tail -n 30 "$RAW/setup.log" >&2; die "scripts/setup.sh failed (log: $RAW/setup.log)"; }
  step "release build (scripts/build.sh)"
  sh scripts/build.sh > "$RAW/build.log" 2>&1 || { tail -n 30 "$RAW/build.log" >&2; die "scripts/build.sh failed (log: $RAW/build.log)"; }
fi
[ -f build/worker/shim.mjs ] || die "build/worker/shim.mjs is missing: run without BENCH_SKIP_BUILD=1"
# Serve a frozen copy of the build with a config that has no [build] section: wrangler dev
# then neither rebuilds nor reloads when someone edits src/ or rebuilds build/ mid-run.
mkdir -p "$TMP/worker"
cp -R build "$TMP/worker/build"
$PY worker-config wrangler.toml "$TMP/worker/wrangler.toml"

# ---- 2. load generator -----------------------------------------------------------------------
step "load generator (oha $BENCH_OHA_VERSION)"
if [ "$(oha --version 2>/dev/null || true)" != "oha $BENCH_OHA_VERSION" ]; then
  say "installing oha $BENCH_OHA_VERSION from crates.io (~5 min once on 2 cores)"
  if ! cargo install oha --version "$BENCH_OHA_VERSION" --locked > "$RAW/oha-install.log" 2>&1; then
    tail -n 20 "$RAW/oha-install.log" >&2
    die "cargo install oha $BENCH_OHA_VERSION failed (log: $RAW/oha-install.log); set BENCH_OHA_VERSION to another version"
  fi
fi
OHA_VERSION=$(oha --version)

# ---- 3. the worker ---------------------------------------------------------------------------
start_worker() {
  PORT=$($PY freeport)
  IPORT=$($PY freeport)
  STATE=$(mktemp -d "$TMP/state.XXXXXX")
  ADMIN_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  BASE="http://127.0.0.1:$PORT"
  # setsid: the worker (npx → node → workerd) gets its own process group, killed as one.
  set -- -c "$TMP/worker/wrangler.toml" --ip 127.0.0.1 --port "$PORT" --inspector-port "$IPORT" --persist-to "$STATE" \
    --var "ADMIN_TOKEN:$ADMIN_TOKEN"
  [ -n "$BENCH_LOG_LEVEL" ] && set -- "$@" --log-level "$BENCH_LOG_LEVEL"
  PORTCULLIS_SKIP_BUILD=1 CLOUDFLARE_CF_FETCH_ENABLED=false WRANGLER_SEND_METRICS=false \
    setsid npx --no-install wrangler dev "$@" >> "$RAW/wrangler.log" 2>&1 < /dev/null &
  WPID=$!
  for _ in $(seq 1 120); do
    if [ "$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$BASE/.well-known/jwks.json" || true)" = 200 ]; then
      return 0
    fi
    kill -0 "$WPID" 2>/dev/null || break
    sleep 0.5
  done
  stop_worker
  return 1
}
step "starting wrangler dev"
started=0
for attempt in 1 2 3; do
  if start_worker; then started=1; break; fi
  say "wrangler dev did not become ready (attempt $attempt); see $RAW/wrangler.log"
done
[ "$started" = 1 ] || die "wrangler dev never answered GET /.well-known/jwks.json with 200"
say "worker ready at $BASE (process group $WPID)"
READY_LINE=$(wc -l < "$RAW/wrangler.log")

# ---- 4. a trusted app ------------------------------------------------------------------------
step "creating the bench app (POST /admin/apps)"
code=$(curl -sS -m 60 -o "$TMP/app.json" -w '%{http_code}' -X POST "$BASE/admin/apps" \
  -H "authorization: Bearer $ADMIN_TOKEN" -H 'content-type: application/json' \
  -d '{"name":"bench","trusted":true,"scopes":["public","users:read"],"key":"generate"}')
[ "$code" = 201 ] || die "POST /admin/apps answered $code: $(head -c 500 "$TMP/app.json")"
CLIENT_ID=$($PY json-get "$TMP/app.json" client_id)
CLIENT_SECRET=$($PY json-get "$TMP/app.json" client_secret)
$PY json-get "$TMP/app.json" private_key > "$TMP/app-key.pem"

code=$(curl -sS -m 30 -o "$TMP/cc.json" -w '%{http_code}' -u "$CLIENT_ID:$CLIENT_SECRET" \
  -d grant_type=client_credentials "$BASE/oauth/token")
[ "$code" = 200 ] || die "client_credentials answered $code: $(head -c 500 "$TMP/cc.json")"
ACCESS_TOKEN=$($PY json-get "$TMP/cc.json" access_token)

# ---- 5. load -----------------------------------------------------------------------------------
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
say "load average before the timed runs: $LOADAVG (other processes on the machine skew results)"
CASE_NO=0
report_case() {
  python3 - "$1" <<'EOF' >&2
import json, sys
c = json.load(open(sys.argv[1]))
print(f"[bench]    {c['endpoint']} c={c['concurrency']}: {c['rps']:.1f} req/s, "
      f"p50 {c['p50_ms']:.2f} ms, p99 {c['p99_ms']:.2f} ms, "
      f"success {c['success'] * 100:.1f} % of {c['requests']}, worker CPU "
      f"{sum(v or 0 for v in c.get('cpu_ms_per_request', {}).values()):.2f} ms/req")
EOF
}
# oha_case LABEL ARGS... : warm-up, then one timed run per concurrency.
oha_case() {
  label=$1
  shift
  oha -n "$BENCH_WARMUP" -c 4 -t 30s --no-tui --output-format quiet "$@" > /dev/null 2>&1 || true
  for c in $BENCH_CONCURRENCY; do
    CASE_NO=$((CASE_NO + 1))
    id=$(printf '%02d-c%03d' "$CASE_NO" "$c")
    step "$label, $c connection(s), ${BENCH_SECONDS}s"
    $PY pgcpu "$WPID" "$TMP/cpu-before.json"
    oha -z "${BENCH_SECONDS}s" -c "$c" -w -t 30s --no-tui --output-format json "$@" \
      > "$RAW/oha-$id.json" 2> "$RAW/oha-$id.err" \
      || die "oha failed for $label (see $RAW/oha-$id.err)"
    $PY pgcpu "$WPID" "$TMP/cpu-after.json"
    $PY oha "$label" "$c" "$RAW/oha-$id.json" "$RAW/cases/$id.json"
    $PY add-cpu "$RAW/cases/$id.json" "$TMP/cpu-before.json" "$TMP/cpu-after.json"
    report_case "$RAW/cases/$id.json"
  done
}

app_token_case() {
  label="POST /application/token"
  node bench/sign_assertions.mjs "$TMP/app-key.pem" "$CLIENT_ID" 20 "$TMP/warm.jwt"
  $PY app-token "$BASE/application/token" "$TMP/warm.jwt" 1 30 warmup "$TMP/warm.json"
  for c in $BENCH_CONCURRENCY; do
    CASE_NO=$((CASE_NO + 1))
    id=$(printf '%02d-c%03d' "$CASE_NO" "$c")
    n=$((BENCH_APP_ASSERTIONS_PER_S * BENCH_SECONDS))
    [ "$n" -ge 200 ] || n=200
    step "$label, $c thread(s), ${BENCH_SECONDS}s (pre-signing $n assertions)"
    node bench/sign_assertions.mjs "$TMP/app-key.pem" "$CLIENT_ID" "$n" "$TMP/app-$id.jwt" \
      || die "signing assertions failed"
    $PY pgcpu "$WPID" "$TMP/cpu-before.json"
    $PY app-token "$BASE/application/token" "$TMP/app-$id.jwt" "$c" "$BENCH_SECONDS" "$label" \
      "$RAW/cases/$id.json" || die "the /application/token driver failed"
    $PY pgcpu "$WPID" "$TMP/cpu-after.json"
    $PY add-cpu "$RAW/cases/$id.json" "$TMP/cpu-before.json" "$TMP/cpu-after.json"
    report_case "$RAW/cases/$id.json"
  done
}

FORM=application/x-www-form-urlencoded
for case_name in $BENCH_CASES; do
  case "$case_name" in
    discovery) oha_case "GET /.well-known/oauth-authorization-server" \
      "$BASE/.well-known/oauth-authorization-server" ;;
    jwks) oha_case "GET /.well-known/jwks.json" "$BASE/.well-known/jwks.json" ;;
    token) oha_case "POST /oauth/token (client_credentials)" -m POST -T "$FORM" \
      -a "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials "$BASE/oauth/token" ;;
    introspect) oha_case "POST /oauth/introspect" -m POST -T "$FORM" \
      -a "$CLIENT_ID:$CLIENT_SECRET" -d "token=$ACCESS_TOKEN" "$BASE/oauth/introspect" ;;
    app_token) app_token_case ;;
    *) die "unknown case '$case_name' in BENCH_CASES" ;;
  esac
done

# ---- 6. RS256 signing cost inside the worker ------------------------------------------------
step "in-worker signing: GET /__bench/sign?n=$BENCH_SIGN_N × $BENCH_SIGN_CALLS"
set --
for i in $(seq 1 "$BENCH_SIGN_CALLS"); do
  code=$(curl -sS -m 120 -o "$TMP/sign.json" -w '%{http_code}' "$BASE/__bench/sign?n=$BENCH_SIGN_N")
  [ "$code" = 200 ] || die "/__bench/sign answered $code (dev-only route: is ISSUER set?)"
  body=$(cat "$TMP/sign.json")
  say "   call $i: $body"
  set -- "$@" "$body"
done
for i in 1 2 3 4 5 6 7 8 9 10; do
  st=$(curl -sS -m 30 -D - -o /dev/null -u "$CLIENT_ID:$CLIENT_SECRET" \
    -d grant_type=client_credentials "$BASE/oauth/token" | tr -d '\r' \
    | sed -n 's/^[Ss]erver-[Tt]iming: *//p')
  set -- "$@" "st:$st"
done
$PY sign-stats "$RAW/sign.json" "$@"

RELOADS=$(tail -n "+$((READY_LINE + 1))" "$RAW/wrangler.log" | grep -c 'Reloading local server' || true)
[ "$RELOADS" = 0 ] || say "WARNING: the worker reloaded $RELOADS time(s) during the run; results are suspect"

# ---- 7. the report -----------------------------------------------------------------------------
stop_worker
step "report"
ELAPSED=$(( $(date +%s) - T0 ))
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null)" ] || COMMIT="$COMMIT + uncommitted changes in src/"
BENCH_META_DATE=$(date -u '+%Y-%m-%d %H:%M UTC') \
BENCH_META_COMMIT=$COMMIT \
BENCH_META_CPUS=$(nproc) \
BENCH_META_CPU_MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1) \
BENCH_META_WRANGLER=$($PY json-get node_modules/wrangler/package.json version) \
BENCH_META_OHA=$OHA_VERSION \
BENCH_META_SECONDS=$BENCH_SECONDS \
BENCH_META_LOADAVG=$LOADAVG \
BENCH_META_RELOADS=$RELOADS \
BENCH_META_ELAPSED="$((ELAPSED / 60)) min $((ELAPSED % 60)) s" \
python3 -c '
import json, os, sys
p = "BENCH_META_"
json.dump({k[len(p):].lower(): v for k, v in os.environ.items() if k.startswith(p)}, open(sys.argv[1], "w"))
' "$RAW/meta.json"
$PY table "$RAW/cases" "$RAW/sign.json" "$RAW/meta.json" > "$OUT/latest.md"
echo
cat "$OUT/latest.md"
echo
say "written: $OUT/latest.md (raw reports and logs: $RAW/)"
