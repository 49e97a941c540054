#!/bin/sh
# Contract test: runs Schemathesis (from PyPI, pinned) with docs/openapi.yaml against a fresh
# `wrangler dev` (its own port, state directory and admin token), and fails on any server error,
# undocumented status, content type or header, or response that does not match its schema.
#
#   sh tests/contract/run.sh              # ~2-3 min on 2 cores; the worker must be built
#   CONTRACT_EXAMPLES=50 sh tests/contract/run.sh   # more examples per operation
#
# Uses the build in build/ (scripts/build.sh; builds it only if it is missing), copied so that a
# rebuild during the run cannot reload the worker under the test. Extra arguments go to
# `st run` (e.g. `--seed N`, `--include-path /oauth/token`). Reports go to
# target/contract-report/: JUnit, NDJSON events, and the worker's log (one JSON line a request).
set -eu
cd "$(dirname "$0")/../.."
ROOT=$PWD
SCHEMATHESIS_VERSION=4.32.5
VENV=target/contract-venv
EXAMPLES=${CONTRACT_EXAMPLES:-20}
say() { printf '[contract] %s\n' "$*" >&2; }

# 1. Schemathesis in its own venv (idempotent; versions in tests/contract/requirements.txt).
if [ "$("$VENV/bin/st" --version 2>/dev/null || true)" != "st, version $SCHEMATHESIS_VERSION" ]; then
  say "installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r tests/contract/requirements.txt >&2
fi

# 2. A fresh wrangler dev: free port, empty state, random admin token, own process group.
export PATH="$HOME/.cargo/bin:$PATH"
export PORTCULLIS_SKIP_BUILD=1 CLOUDFLARE_CF_FETCH_ENABLED=false WRANGLER_SEND_METRICS=false
export HYPOTHESIS_STORAGE_DIRECTORY="$ROOT/target/contract-hypothesis"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
mkdir -p target
STATE=$(mktemp -d "$ROOT/target/contract-state.XXXXXX")
LOG="$STATE.log"
ADMIN_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
export ADMIN_TOKEN
BASE="http://127.0.0.1:$PORT"

REPORT=target/contract-report
rm -rf "$REPORT"
WPID=
cleanup() {
  status=$?
  if [ -n "$WPID" ]; then
    # The whole process group (npm, wrangler, workerd). No `--`: dash's kill refuses it.
    kill -TERM "-$WPID" 2>/dev/null || true
    i=0
    while kill -0 "-$WPID" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    if kill -0 "-$WPID" 2>/dev/null; then
      say "wrangler did not stop on TERM; killing its process group"
      kill -KILL "-$WPID" 2>/dev/null || true
    fi
  fi
  rm -rf "$STATE" "$STATE.wrangler.toml" "$STATE.build"
  # Keep the worker's request log (one JSON line per request) beside the reports.
  if [ -f "$LOG" ]; then mkdir -p "$REPORT" && mv "$LOG" "$REPORT/worker.log"; fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ -f build/worker/shim.mjs ] || sh scripts/build.sh
# Run a copy of build/ under a copy of wrangler.toml without its [build] table: wrangler then
# neither rebuilds nor reloads the worker when src/ or build/ change during the run (a reload
# answers in-flight requests with 503), and does not read the project's .dev.vars.
cp -R build "$STATE.build"
CONFIG="$STATE.wrangler.toml"
awk -v main="$STATE.build/worker/shim.mjs" '
  /^\[/ { skip = ($0 == "[build]") }
  skip { next }
  /^main *=/ { print "main = \"" main "\""; next }
  { print }
' wrangler.toml >"$CONFIG"

say "starting wrangler dev on $BASE (log: $REPORT/worker.log afterwards)"
# setsid: wrangler, workerd and esbuild form one process group, killed together on exit.
# The registration limit is raised so RFC 7591 registration is exercised past its 10th call
# (429 is still documented and checked for).
setsid npx --no-install wrangler dev --config "$CONFIG" --ip 127.0.0.1 --port "$PORT" --persist-to "$STATE" \
  --var "ADMIN_TOKEN:$ADMIN_TOKEN" --var REGISTRATION_RATE_LIMIT:100000 \
  >"$LOG" 2>&1 </dev/null &
WPID=$!

i=0
until curl -fsS -o /dev/null "$BASE/.well-known/jwks.json" 2>/dev/null; do
  if ! kill -0 "$WPID" 2>/dev/null; then
    cat "$LOG" >&2
    say "wrangler dev exited before it was ready"
    exit 1
  fi
  i=$((i + 1))
  if [ $i -gt 600 ]; then
    cat "$LOG" >&2
    say "wrangler dev was not ready after 60 s"
    exit 1
  fi
  sleep 0.1
done
say "ready after $((i / 10)) s"

# 3. A trusted confidential app, so the token, introspection and revocation endpoints are
#    exercised authenticated (clientBasic) and userinfo gets a real access token.
APP=$(curl -fsS -X POST "$BASE/admin/apps" \
  -H "authorization: Bearer $ADMIN_TOKEN" -H 'content-type: application/json' \
  -d '{"name":"Contract test","trusted":true,"scopes":["public","users:read"],"redirect_uris":["https://client.example/cb"],"grant_types":["client_credentials","authorization_code","refresh_token"]}')
CLIENT_ID=$(printf '%s' "$APP" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')
CLIENT_SECRET=$(printf '%s' "$APP" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')
export CLIENT_ID CLIENT_SECRET

# 4. Schemathesis.
say "schemathesis: $EXAMPLES examples per operation"
start=$(date +%s)
set +e
"$VENV/bin/st" --config-file tests/contract/schemathesis.toml run docs/openapi.yaml \
  --url "$BASE" \
  --max-examples "$EXAMPLES" \
  --report junit,ndjson \
  --report-dir "$REPORT" \
  "$@"
rc=$?
set -e
say "schemathesis finished in $(($(date +%s) - start)) s with exit code $rc"
if grep -q '"status": *500\|"status":500' "$LOG" 2>/dev/null; then
  say "the worker logged a 500:"
  grep '"status": *500\|"status":500' "$LOG" | head -20 >&2
  rc=1
fi
if grep -qi 'panicked\|RuntimeError: unreachable' "$LOG" 2>/dev/null; then
  say "the worker panicked:"
  grep -i -B2 -A8 'panicked\|RuntimeError: unreachable' "$LOG" | head -60 >&2
  rc=1
fi
exit $rc
