#!/usr/bin/env bash
# Portcullis benchmark: one command, from a fresh checkout to a Markdown table.
#   bash bench/run.sh
# Builds the release worker, starts it under `wrangler dev` (workerd, local KV and Durable
# Objects in a fresh temp dir), creates apps through the admin API and a person through the
# pages, loads each endpoint at each concurrency for BENCH_SECONDS (client_credentials,
# introspection, app token, code redemption, refresh, password, metadata, JWKS), measures RS256
# and EdDSA signing inside the worker, and writes
# bench/results/latest.md and docs/PERFORMANCE.md (raw reports and logs in bench/results/latest/).
# Also runs the Node oidc-provider package (client_credentials, RS256 JWTs) for a ratio.
# See bench/README.md.
set -eu
set -o pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

# ---- knobs ---------------------------------------------------------------------------------
BENCH_SECONDS=${BENCH_SECONDS:-10}                 # timed seconds per endpoint × concurrency
BENCH_CONCURRENCY=${BENCH_CONCURRENCY:-"1 32"}     # connections (threads for /application/token)
BENCH_CASES=${BENCH_CASES:-"discovery empty wop jwks token peer introspect app_token code refresh password"}
BENCH_WARMUP=${BENCH_WARMUP:-50}                   # untimed requests per endpoint before its cases
BENCH_APP_ASSERTIONS_PER_S=${BENCH_APP_ASSERTIONS_PER_S:-300}  # pre-signed JWTs per timed second
BENCH_CODES_PER_S=${BENCH_CODES_PER_S:-250}        # at most this many codes per timed second...
BENCH_CODES_PER_THREAD_S=${BENCH_CODES_PER_THREAD_S:-100}  # ...and this many per thread (see code_case)
BENCH_EDDSA=${BENCH_EDDSA:-1}                      # 1: also /__bench/sign on an ACCESS_TOKEN_ALG=EdDSA server
BENCH_WRITE_DOC=${BENCH_WRITE_DOC:-1}              # 1: regenerate docs/PERFORMANCE.md from this run
BENCH_SIGN_N=${BENCH_SIGN_N:-200}                  # signatures per /__bench/sign call
BENCH_SIGN_CALLS=${BENCH_SIGN_CALLS:-5}            # /__bench/sign calls (the first is a warm-up)
BENCH_OHA_VERSION=${BENCH_OHA_VERSION:-1.16.0}     # oha from crates.io, installed if missing
BENCH_SKIP_BUILD=${BENCH_SKIP_BUILD:-0}            # 1: skip scripts/setup.sh and scripts/build.sh
BENCH_LOG_LEVEL=${BENCH_LOG_LEVEL:-warn}           # `wrangler dev --log-level` (both workers); empty: wrangler's default
BENCH_BUILD=${BENCH_BUILD:-build}                  # the built worker to serve (e.g. a saved copy of an older build)
BENCH_INSPECTOR=${BENCH_INSPECTOR:-1}              # 0: both wrangler devs without their inspector relay (see README)

OUT="$ROOT/bench/results"
RAW="$OUT/latest"
export PATH="$HOME/.cargo/bin:$PATH"
PY="python3 $ROOT/bench/bench.py"
T0=$(date +%s)
LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)
STEP="starting"
WPID=""
PEER_PID=""
TMP=""

say() { printf '[bench] %s\n' "$*" >&2; }
step() { STEP=$*; say "== $*"; }
die() { say "ERROR: $*"; exit 1; }

# stop_group PID: TERM, then KILL, a process group we started with setsid (leader = PID).
stop_group() {
  pg=$1
  [ -n "$pg" ] || return 0
  if kill -0 -- "-$pg" 2>/dev/null; then
    kill -TERM -- "-$pg" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      kill -0 -- "-$pg" 2>/dev/null || break
      sleep 0.5
    done
    kill -KILL -- "-$pg" 2>/dev/null || true
  fi
  wait "$pg" 2>/dev/null || true
}
stop_worker() { stop_group "$WPID"; WPID=""; }
stop_peer() { stop_group "$PEER_PID"; PEER_PID=""; }
WOP_PID=""
stop_wop() { stop_group "$WOP_PID"; WOP_PID=""; }

cleanup() {
  rc=$?
  trap - EXIT INT TERM
  stop_worker
  stop_peer
  stop_wop
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
# wrangler dev relays every console call through the V8 inspector (Runtime.consoleAPICalled) to
# its node process; production has no inspector attached. wrangler 4.164 turns that relay off
# (logs then come through workerd's stdout) when it believes it runs in a VS Code debug terminal.
if [ "$BENCH_INSPECTOR" = 0 ]; then
  export VSCODE_INSPECTOR_OPTIONS='{}'
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/portcullis-bench.XXXXXX")

# ---- 1. toolchain and release build ----------------------------------------------------------
if [ "$BENCH_SKIP_BUILD" != "1" ]; then
  step "setup (scripts/setup.sh)"
  sh scripts/setup.sh > "$RAW/setup.log" 2>&1 || { tail -n 30 "$RAW/setup.log" >&2; die "scripts/setup.sh failed (log: $RAW/setup.log)"; }
  step "release build (scripts/build.sh)"
  sh scripts/build.sh > "$RAW/build.log" 2>&1 || { tail -n 30 "$RAW/build.log" >&2; die "scripts/build.sh failed (log: $RAW/build.log)"; }
fi
[ -f "$BENCH_BUILD/worker/shim.mjs" ] || die "$BENCH_BUILD/worker/shim.mjs is missing: run without BENCH_SKIP_BUILD=1"
# scripts/serve.sh serves a frozen copy of the build with a config that has no [build] section:
# wrangler dev then neither rebuilds nor reloads when someone edits src/ or rebuilds build/.
. scripts/serve-lib.sh

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
# Limits that would otherwise answer 429 to a benchmark (never set these in production):
# failed-log-in limits (only correct passwords are sent, but the counters are checked), the
# per-client token rate, and codes that stay valid while they are redeemed (CODE_TTL).
WORKER_VARS="LOGIN_LIMIT_ACCOUNT:1000000 LOGIN_LIMIT_ADDRESS:1000000 TOKEN_RATE_LIMIT:10000000 CODE_TTL:600"
# start_worker LOG [VAR:VALUE...]: wrangler dev on a free port with a fresh state directory.
start_worker() {
  log=$1
  shift
  STATE=$(mktemp -d "$TMP/state.XXXXXX")
  ADMIN_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  set -- --var "ADMIN_TOKEN:$ADMIN_TOKEN" $(for v in $WORKER_VARS "$@"; do printf -- '--var %s ' "$v"; done)
  [ -n "$BENCH_LOG_LEVEL" ] && set -- "$@" --log-level "$BENCH_LOG_LEVEL"
  # The one launcher: own port, own state, own process group (killed as one by stop_worker).
  if serve_start "$log" "$STATE" --timeout 60 --build "$BENCH_BUILD" "$@"; then
    WPID=$SERVE_PGID
    BASE=$SERVE_URL
    PORT=${BASE##*:}
    return 0
  fi
  return 1
}
# launch_worker LOG [VAR:VALUE...]: start_worker with up to 3 attempts.
launch_worker() {
  for attempt in 1 2 3; do
    if start_worker "$@"; then
      say "worker ready at $BASE (process group $WPID)"
      return 0
    fi
    say "wrangler dev did not become ready (attempt $attempt); see $1"
  done
  die "wrangler dev never answered GET /.well-known/jwks.json with 200 (log: $1)"
}
step "starting wrangler dev"
launch_worker "$RAW/wrangler.log"
READY_LINE=$(wc -l < "$RAW/wrangler.log")

# ---- 4. apps and a person ----------------------------------------------------------------------
# create_app NAME JSON OUT: POST /admin/apps, 201 or die.
create_app() {
  code=$(curl -sS -m 60 -o "$3" -w '%{http_code}' -X POST "$BASE/admin/apps" \
    -H "authorization: Bearer $ADMIN_TOKEN" -H 'content-type: application/json' -d "$2")
  [ "$code" = 201 ] || die "POST /admin/apps ($1) answered $code: $(head -c 500 "$3")"
}
step "creating the bench apps (POST /admin/apps)"
create_app bench '{"name":"bench","trusted":true,"scopes":["public","users:read"],"key":"generate"}' "$TMP/app.json"
CLIENT_ID=$($PY json-get "$TMP/app.json" client_id)
CLIENT_SECRET=$($PY json-get "$TMP/app.json" client_secret)
$PY json-get "$TMP/app.json" private_key > "$TMP/app-key.pem"

code=$(curl -sS -m 30 -o "$TMP/cc.json" -w '%{http_code}' -u "$CLIENT_ID:$CLIENT_SECRET" \
  -d grant_type=client_credentials "$BASE/oauth/token")
[ "$code" = 200 ] || die "client_credentials answered $code: $(head -c 500 "$TMP/cc.json")"
ACCESS_TOKEN=$($PY json-get "$TMP/cc.json" access_token)

case " $BENCH_CASES " in
  *" code "*|*" refresh "*|*" password "*)
    # A confidential web app for the code flow (Basic auth at the token endpoint, PKCE S256),
    # an app allowed the password grant, and one person who signs up through the pages.
    REDIRECT_URI="https://bench.example/cb"
    create_app bench-web "{\"name\":\"bench-web\",\"redirect_uris\":[\"$REDIRECT_URI\"],\"scopes\":[\"public\"],\"grant_types\":[\"authorization_code\",\"refresh_token\"]}" "$TMP/web.json"
    WEB_ID=$($PY json-get "$TMP/web.json" client_id)
    WEB_SECRET=$($PY json-get "$TMP/web.json" client_secret)
    create_app bench-password '{"name":"bench-password","scopes":["public"],"grant_types":["password","refresh_token"]}' "$TMP/pw.json"
    PW_ID=$($PY json-get "$TMP/pw.json" client_id)
    PW_SECRET=$($PY json-get "$TMP/pw.json" client_secret)
    USER_EMAIL="bench-$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')@bench.example"
    USER_PASSWORD=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
    step "signing up $USER_EMAIL through /signup and consenting once to bench-web"
    $PY prepare-user "$BASE" "$USER_EMAIL" "$USER_PASSWORD" "$WEB_ID" "$REDIRECT_URI" public \
      "$TMP/user.json" || die "signing up / consenting through the pages failed"
    ;;
esac

# ---- 5. load -----------------------------------------------------------------------------------
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
say "load average before the timed runs: $LOADAVG (at start: $LOADAVG_START; other processes on the machine skew results)"
CASE_NO=0
report_case() {
  python3 - "$1" <<'PYEOF' >&2
import json, sys
c = json.load(open(sys.argv[1]))
sign = c.get("sign_ms_median")
print(f"[bench]    {c.get('server', 'portcullis')} {c['endpoint']} c={c['concurrency']}: "
      f"{c['rps']:.1f} req/s, p50 {c['p50_ms']:.2f} ms, p99 {c['p99_ms']:.2f} ms, "
      f"success {c['success'] * 100:.1f} % of {c['requests']}, server CPU "
      f"{sum(v or 0 for v in c.get('cpu_ms_per_request', {}).values()):.2f} ms/req"
      + (f", server-timing sign {sign:.2f} ms" if sign is not None else ""))
PYEOF
}
next_id() {
  CASE_NO=$((CASE_NO + 1))
  CASE_ID=$(printf '%02d-c%03d' "$CASE_NO" "$1")
}
# oha_case LABEL ARGS... : warm-up, then one timed run per concurrency. CPU of process group
# $CPU_PG (default: the worker), server name $SERVER (default: portcullis).
oha_case() {
  label=$1
  shift
  pg=${CPU_PG:-$WPID}
  oha -n "$BENCH_WARMUP" -c 4 -t 30s --no-tui --output-format quiet "$@" > /dev/null 2>&1 || true
  for c in $BENCH_CONCURRENCY; do
    next_id "$c"
    id=$CASE_ID
    step "${SERVER:-portcullis}: $label, $c connection(s), ${BENCH_SECONDS}s"
    $PY pgcpu "$pg" "$TMP/cpu-before.json"
    oha -z "${BENCH_SECONDS}s" -c "$c" -w -t 30s --no-tui --output-format json "$@" \
      > "$RAW/oha-$id.json" 2> "$RAW/oha-$id.err" \
      || die "oha failed for $label (see $RAW/oha-$id.err)"
    $PY pgcpu "$pg" "$TMP/cpu-after.json"
    $PY oha "$label" "$c" "$RAW/oha-$id.json" "$RAW/cases/$id.json" "${SERVER:-portcullis}"
    $PY add-cpu "$RAW/cases/$id.json" "$TMP/cpu-before.json" "$TMP/cpu-after.json"
    $PY add-calls "$RAW/cases/$id.json" "$(probe_calls "$@")"
    report_case "$RAW/cases/$id.json"
  done
}

# probe_calls OHA-ARGS...: the same request once with curl, untimed; prints its
# `x-portcullis-calls` header (DO calls and KV reads it cost, counted by the worker; empty if none).
probe_calls() {
  method=GET
  curl_args=()
  while [ $# -gt 1 ]; do
    case "$1" in
      -m) method=$2; shift 2 ;;
      -T) curl_args+=(-H "content-type: $2"); shift 2 ;;
      -a) curl_args+=(-u "$2"); shift 2 ;;
      -d) curl_args+=(--data-raw "$2"); shift 2 ;;
      *) shift ;;
    esac
  done
  curl -sS -m 30 -o /dev/null -D - -X "$method" "${curl_args[@]}" "$1" 2>/dev/null | tr -d '\r' \
    | sed -n 's/^[Xx]-[Pp]ortcullis-[Cc]alls: *//p' | head -n 1
}

# drive_case ID MODE URL INPUT CONC LABEL [drive options]: one timed bench.py drive run.
drive_case() {
  id=$1 mode=$2 url=$3 input=$4 c=$5 label=$6
  shift 6
  $PY pgcpu "$WPID" "$TMP/cpu-before.json"
  $PY drive "$mode" "$url" "$input" "$c" "$BENCH_SECONDS" "$label" "$RAW/cases/$id.json" "$@" \
    || die "the bench.py $mode driver failed ($label)"
  $PY pgcpu "$WPID" "$TMP/cpu-after.json"
  $PY add-cpu "$RAW/cases/$id.json" "$TMP/cpu-before.json" "$TMP/cpu-after.json"
  report_case "$RAW/cases/$id.json"
}

app_token_case() {
  label="POST /application/token"
  node bench/sign_assertions.mjs "$TMP/app-key.pem" "$CLIENT_ID" 20 "$TMP/warm.jwt"
  $PY drive assertion "$BASE/application/token" "$TMP/warm.jwt" 1 30 warmup "$TMP/warm.json"
  for c in $BENCH_CONCURRENCY; do
    next_id "$c"
    n=$((BENCH_APP_ASSERTIONS_PER_S * BENCH_SECONDS))
    [ "$n" -ge 200 ] || n=200
    step "$label, $c thread(s), ${BENCH_SECONDS}s (pre-signing $n assertions)"
    node bench/sign_assertions.mjs "$TMP/app-key.pem" "$CLIENT_ID" "$n" "$TMP/app-$CASE_ID.jwt" \
      || die "signing assertions failed"
    drive_case "$CASE_ID" assertion "$BASE/application/token" "$TMP/app-$CASE_ID.jwt" "$c" "$label"
  done
}

# warm_ok LABEL: die unless the last untimed run ($TMP/warm.json) had some 2xx answers.
warm_ok() {
  python3 -c 'import json, sys; c = json.load(open(sys.argv[1])); sys.exit(0 if c["success"] > 0 else 1)' "$TMP/warm.json" \
    || die "$1: no request of the warm-up succeeded: $(head -c 600 "$TMP/warm.json")"
}

# make_codes N OUT: N fresh codes (untimed; consent is remembered, each GET answers 302).
make_codes() {
  $PY make-codes "$TMP/user.json" "$1" 8 "$2" || die "making authorization codes failed"
}

code_case() {
  label="POST /oauth/token (authorization_code)"
  make_codes 20 "$TMP/codes-warm.txt"
  $PY drive code "$BASE/oauth/token" "$TMP/codes-warm.txt" 2 30 warmup "$TMP/warm.json" \
    --basic="$WEB_ID:$WEB_SECRET" --redirect-uri "$REDIRECT_URI"
  warm_ok "$label"
  # Codes are single-use but stay valid for CODE_TTL (600 s): what one case leaves over
  # goes to the next, topped up to min(c × BENCH_CODES_PER_THREAD_S, BENCH_CODES_PER_S) per
  # timed second (one connection at ≥ 10 ms a request cannot redeem more than ~100/s).
  : > "$TMP/codes-pool.txt"
  for c in $BENCH_CONCURRENCY; do
    next_id "$c"
    rate=$((c * BENCH_CODES_PER_THREAD_S))
    [ "$rate" -le "$BENCH_CODES_PER_S" ] || rate=$BENCH_CODES_PER_S
    n=$((rate * BENCH_SECONDS))
    [ "$n" -ge 200 ] || n=200
    have=$(wc -l < "$TMP/codes-pool.txt")
    step "$label, $c thread(s), ${BENCH_SECONDS}s ($n codes: $have left over, making $((n > have ? n - have : 0)))"
    if [ "$n" -gt "$have" ]; then
      make_codes "$((n - have))" "$TMP/codes-new.txt"
      cat "$TMP/codes-new.txt" >> "$TMP/codes-pool.txt"
    fi
    cp "$TMP/codes-pool.txt" "$TMP/codes-$CASE_ID.txt"
    drive_case "$CASE_ID" code "$BASE/oauth/token" "$TMP/codes-$CASE_ID.txt" "$c" "$label" \
      --basic="$WEB_ID:$WEB_SECRET" --redirect-uri "$REDIRECT_URI"
    # The driver takes codes in file order, one per request: the rest are unused.
    used=$($PY json-get "$RAW/cases/$CASE_ID.json" requests)
    tail -n "+$((used + 1))" "$TMP/codes-$CASE_ID.txt" > "$TMP/codes-pool.txt"
  done
}

refresh_case() {
  label="POST /oauth/token (refresh_token)"
  # Seeds: one refresh token per thread of the largest concurrency, plus spares for broken
  # chains and the warm-up, from redeeming fresh codes (untimed).
  max_c=1
  for c in $BENCH_CONCURRENCY; do [ "$c" -le "$max_c" ] || max_c=$c; done
  n=$((max_c * 2 + 8))
  make_codes "$n" "$TMP/codes-seed.txt"
  $PY drive code "$BASE/oauth/token" "$TMP/codes-seed.txt" 4 120 seeding "$TMP/seed.json" \
    --basic="$WEB_ID:$WEB_SECRET" --redirect-uri "$REDIRECT_URI" --save-refresh "$TMP/refresh-all.txt"
  [ "$(wc -l < "$TMP/refresh-all.txt")" -ge "$((max_c + 2))" ] || die "too few refresh tokens to seed the chains"
  head -n 2 "$TMP/refresh-all.txt" > "$TMP/refresh-warm.txt"
  $PY drive refresh "$BASE/oauth/token" "$TMP/refresh-warm.txt" 1 2 warmup "$TMP/warm.json" \
    --basic="$WEB_ID:$WEB_SECRET"
  warm_ok "$label"
  tail -n "+3" "$TMP/refresh-all.txt" > "$TMP/refresh-seeds.txt"
  for c in $BENCH_CONCURRENCY; do
    next_id "$c"
    step "$label, $c thread(s), ${BENCH_SECONDS}s (one chain per thread)"
    drive_case "$CASE_ID" refresh "$BASE/oauth/token" "$TMP/refresh-seeds.txt" "$c" "$label" \
      --basic="$WEB_ID:$WEB_SECRET"
    # The seeds the chains started from are spent (the driver takes them in file order).
    used=$($PY json-get "$RAW/cases/$CASE_ID.json" chains)
    tail -n "+$((used + 1))" "$TMP/refresh-seeds.txt" > "$TMP/refresh-seeds.next"
    mv "$TMP/refresh-seeds.next" "$TMP/refresh-seeds.txt"
  done
}

password_case() {
  label="POST /oauth/token (password)"
  python3 -c 'import sys, urllib.parse; print(urllib.parse.urlencode({"grant_type": "password", "username": sys.argv[1], "password": sys.argv[2], "scope": "public"}))' \
    "$USER_EMAIL" "$USER_PASSWORD" > "$TMP/password.form"
  # Warm-up: 2 s from 2 threads (each request runs the log-in KDF, ~50–100 ms of CPU).
  $PY drive form "$BASE/oauth/token" "$TMP/password.form" 2 2 warmup "$TMP/warm.json" \
    --basic="$PW_ID:$PW_SECRET"
  warm_ok "$label"
  for c in $BENCH_CONCURRENCY; do
    next_id "$c"
    step "$label, $c thread(s), ${BENCH_SECONDS}s (argon2id log-in per request)"
    drive_case "$CASE_ID" form "$BASE/oauth/token" "$TMP/password.form" "$c" "$label" \
      --basic="$PW_ID:$PW_SECRET"
  done
}

# The peer: the Node oidc-provider package, client_credentials with RS256 JWT access tokens,
# driven with the same oha options as POST /oauth/token (client_credentials) above.
PEER_DESC=""
peer_case() {
  [ -f node_modules/oidc-provider/package.json ] \
    || die "node_modules/oidc-provider is missing: run scripts/setup.sh (npm install)"
  peer_version=$($PY json-get node_modules/oidc-provider/package.json version)
  PEER_PORT=$($PY freeport)
  PEER_ID="peer-bench"
  PEER_SECRET=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  step "starting oidc-provider $peer_version on 127.0.0.1:$PEER_PORT (plain Node, no proxy)"
  setsid npx --no-install node bench/oidc_provider_server.mjs "$PEER_PORT" "$PEER_ID" "$PEER_SECRET" \
    >> "$RAW/oidc-provider.log" 2>&1 < /dev/null &
  PEER_PID=$!
  ok=0
  for _ in $(seq 1 60); do
    if [ "$(curl -s -o /dev/null -m 5 -w '%{http_code}' -u "$PEER_ID:$PEER_SECRET" \
          -d grant_type=client_credentials "http://127.0.0.1:$PEER_PORT/token" || true)" = 200 ]; then
      ok=1
      break
    fi
    kill -0 "$PEER_PID" 2>/dev/null || break
    sleep 0.5
  done
  [ "$ok" = 1 ] || die "oidc-provider did not answer client_credentials with 200 (log: $RAW/oidc-provider.log)"
  curl -sS -m 10 -u "$PEER_ID:$PEER_SECRET" -d grant_type=client_credentials \
    "http://127.0.0.1:$PEER_PORT/token" > "$TMP/peer-token.json"
  peer_alg=$(python3 -c 'import base64, json, sys
t = json.load(open(sys.argv[1]))["access_token"].split(".")[0]
h = json.loads(base64.urlsafe_b64decode(t + "=" * (-len(t) % 4)))
print(h["alg"], h.get("typ", ""))' "$TMP/peer-token.json")
  [ "${peer_alg%% *}" = RS256 ] || die "oidc-provider's access token is not an RS256 JWT: $peer_alg"
  PEER_DESC="oidc-provider $peer_version on Node $(npx --no-install node --version 2>/dev/null) (plain Node on 127.0.0.1, no proxy; access tokens RS256 JWT, typ ${peer_alg#* }, RSA-2048), bench/oidc_provider_server.mjs"
  CPU_PG=$PEER_PID SERVER=oidc-provider oha_case "POST /token (client_credentials)" -m POST -T "$FORM" \
    -a "$PEER_ID:$PEER_SECRET" -d grant_type=client_credentials "http://127.0.0.1:$PEER_PORT/token"
  stop_peer
}

# The side-by-side peer: @cloudflare/workers-oauth-provider as a small worker (bench/peer/),
# under the same wrangler dev and log level as ours, in a process group of its own; our worker
# stays up but idle. Its metadata endpoint and an empty route, as ours.
wop_case() {
  step "peer: @cloudflare/workers-oauth-provider under wrangler dev (bench/peer/)"
  if [ ! -f bench/peer/node_modules/@cloudflare/workers-oauth-provider/package.json ]; then
    (cd bench/peer && npm ci --no-audit --no-fund --loglevel=error) > "$RAW/peer-npm.log" 2>&1 \
      || die "npm ci in bench/peer failed (log: $RAW/peer-npm.log)"
  fi
  wop_version=$($PY json-get bench/peer/node_modules/@cloudflare/workers-oauth-provider/package.json version)
  wop_port=$($PY freeport)
  wop_inspector=$($PY freeport)
  set -- --config "$ROOT/bench/peer/wrangler.toml" --ip 127.0.0.1 --port "$wop_port" \
    --inspector-port "$wop_inspector" --persist-to "$TMP/peer-state" --show-interactive-dev-session=false
  [ -n "$BENCH_LOG_LEVEL" ] && set -- "$@" --log-level "$BENCH_LOG_LEVEL"
  PORTCULLIS_SKIP_BUILD=1 CLOUDFLARE_CF_FETCH_ENABLED=false WRANGLER_SEND_METRICS=false NO_COLOR=1 \
    CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV=false \
    setsid npx --no-install wrangler dev "$@" < /dev/null > "$RAW/wrangler-peer.log" 2>&1 &
  WOP_PID=$!
  wop_base="http://127.0.0.1:$wop_port"
  for _ in $(seq 1 600); do
    curl -fsS -o /dev/null -m 5 "$wop_base/.well-known/oauth-authorization-server" 2>/dev/null && break
    kill -0 "$WOP_PID" 2>/dev/null || die "the peer's wrangler dev exited (log: $RAW/wrangler-peer.log)"
    sleep 0.1
  done
  curl -fsS -o /dev/null -m 5 "$wop_base/__bench/empty" || die "the peer did not answer (log: $RAW/wrangler-peer.log)"
  PEER_WORKER_DESC="@cloudflare/workers-oauth-provider $wop_version"
  CPU_PG=$WOP_PID SERVER=workers-oauth-provider oha_case "GET /.well-known/oauth-authorization-server" \
    "$wop_base/.well-known/oauth-authorization-server"
  CPU_PG=$WOP_PID SERVER=workers-oauth-provider oha_case "GET /__bench/empty" "$wop_base/__bench/empty"
  stop_wop
}
PEER_WORKER_DESC=""

FORM=application/x-www-form-urlencoded
for case_name in $BENCH_CASES; do
  case "$case_name" in
    discovery) oha_case "GET /.well-known/oauth-authorization-server" \
      "$BASE/.well-known/oauth-authorization-server" ;;
    jwks) oha_case "GET /.well-known/jwks.json" "$BASE/.well-known/jwks.json" ;;
    empty) oha_case "GET /__bench/empty" "$BASE/__bench/empty" ;;
    wop) wop_case ;;
    token) oha_case "POST /oauth/token (client_credentials)" -m POST -T "$FORM" \
      -a "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials "$BASE/oauth/token" ;;
    peer) peer_case ;;
    introspect) oha_case "POST /oauth/introspect" -m POST -T "$FORM" \
      -a "$CLIENT_ID:$CLIENT_SECRET" -d "token=$ACCESS_TOKEN" "$BASE/oauth/introspect" ;;
    app_token) app_token_case ;;
    code) code_case ;;
    refresh) refresh_case ;;
    password) password_case ;;
    *) die "unknown case '$case_name' in BENCH_CASES" ;;
  esac
done

# ---- 6. signing cost inside the worker ------------------------------------------------------
# sign_samples OUT ALG: BENCH_SIGN_CALLS × /__bench/sign?n=BENCH_SIGN_N (+ 10 sequential
# client_credentials server-timing values on the main server).
sign_samples() {
  out=$1 want=$2
  set --
  for i in $(seq 1 "$BENCH_SIGN_CALLS"); do
    code=$(curl -sS -m 120 -o "$TMP/sign.json" -w '%{http_code}' "$BASE/__bench/sign?n=$BENCH_SIGN_N")
    [ "$code" = 200 ] || die "/__bench/sign answered $code (dev-only route: is ISSUER set?)"
    body=$(cat "$TMP/sign.json")
    say "   call $i: $body"
    set -- "$@" "$body"
  done
  case "$body" in *"\"alg\":\"$want\""*) ;; *) die "/__bench/sign reports another alg than $want: $body" ;; esac
  if [ "$want" = RS256 ]; then
    for i in 1 2 3 4 5 6 7 8 9 10; do
      st=$(curl -sS -m 30 -D - -o /dev/null -u "$CLIENT_ID:$CLIENT_SECRET" \
        -d grant_type=client_credentials "$BASE/oauth/token" | tr -d '\r' \
        | sed -n 's/^[Ss]erver-[Tt]iming: *//p')
      set -- "$@" "st:$st"
    done
  fi
  $PY sign-stats "$out" "$@"
}
step "in-worker signing (RS256): GET /__bench/sign?n=$BENCH_SIGN_N × $BENCH_SIGN_CALLS"
sign_samples "$RAW/sign.json" RS256

RELOADS=$(tail -n "+$((READY_LINE + 1))" "$RAW/wrangler.log" | grep -c 'Reloading local server' || true)
[ "$RELOADS" = 0 ] || say "WARNING: the worker reloaded $RELOADS time(s) during the run; results are suspect"
stop_worker

if [ "$BENCH_EDDSA" = 1 ]; then
  step "in-worker signing (EdDSA): a second server with --var ACCESS_TOKEN_ALG:EdDSA"
  launch_worker "$RAW/wrangler-eddsa.log" ACCESS_TOKEN_ALG:EdDSA
  sign_samples "$RAW/sign-eddsa.json" EdDSA
  stop_worker
fi
LOADAVG_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- 7. the report -----------------------------------------------------------------------------
step "report"
ELAPSED=$(( $(date +%s) - T0 ))
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null)" ] || COMMIT="$COMMIT + uncommitted changes in src/"
BENCH_META_DATE=$(date -u '+%Y-%m-%d %H:%M UTC') \
BENCH_META_COMMIT=$COMMIT \
BENCH_META_CPUS=$(nproc) \
BENCH_META_CPU_MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1) \
BENCH_META_MEM="$(awk '/^MemTotal:/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo)" \
BENCH_META_KERNEL="Linux $(uname -r)" \
BENCH_META_WRANGLER=$($PY json-get node_modules/wrangler/package.json version) \
BENCH_META_OHA=$OHA_VERSION \
BENCH_META_SECONDS=$BENCH_SECONDS \
BENCH_META_LOADAVG_START=$LOADAVG_START \
BENCH_META_LOADAVG=$LOADAVG \
BENCH_META_LOADAVG_END=$LOADAVG_END \
BENCH_META_RELOADS=$RELOADS \
BENCH_META_WORKER_VARS="$WORKER_VARS" \
BENCH_META_PEER="$PEER_DESC" \
BENCH_META_PEER_WORKER="$PEER_WORKER_DESC" \
BENCH_META_BUILD="$BENCH_BUILD" \
BENCH_META_INSPECTOR="$BENCH_INSPECTOR" \
BENCH_META_ELAPSED="$((ELAPSED / 60)) min $((ELAPSED % 60)) s" \
python3 -c '
import json, os, sys
p = "BENCH_META_"
json.dump({k[len(p):].lower(): v for k, v in os.environ.items() if k.startswith(p)}, open(sys.argv[1], "w"))
' "$RAW/meta.json"
EDDSA_JSON="$RAW/sign-eddsa.json"
$PY table "$RAW/cases" "$RAW/sign.json" "$RAW/meta.json" "$EDDSA_JSON" latest > "$OUT/latest.md"
if [ "$BENCH_WRITE_DOC" = 1 ]; then
  $PY table "$RAW/cases" "$RAW/sign.json" "$RAW/meta.json" "$EDDSA_JSON" doc > "$TMP/PERFORMANCE.md"
  mv "$TMP/PERFORMANCE.md" docs/PERFORMANCE.md
fi
echo
cat "$OUT/latest.md"
echo
say "written: $OUT/latest.md (raw reports and logs: $RAW/)"
[ "$BENCH_WRITE_DOC" = 1 ] && say "written: docs/PERFORMANCE.md"
exit 0
