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
mkdir -p target
STATE=$(mktemp -d "$ROOT/target/contract-state.XXXXXX")
LOG="$STATE.log"
ADMIN_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
export ADMIN_TOKEN

REPORT=target/contract-report
rm -rf "$REPORT"
. scripts/serve-lib.sh
cleanup() {
  status=$?
  serve_stop
  rm -rf "$STATE"
  # Keep the worker's request log (one JSON line per request) beside the reports.
  if [ -f "$LOG" ]; then mkdir -p "$REPORT" && mv "$LOG" "$REPORT/worker.log"; fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ -f build/worker/shim.mjs ] || sh scripts/build.sh
say "starting the worker (scripts/serve.sh; log: $REPORT/worker.log afterwards)"
# The one launcher (scripts/serve.sh): a private copy of build/ under a config without [build]
# (a reload would answer in-flight requests with 503), own port and state, no .dev.vars.
# The registration limit is raised so RFC 7591 registration is exercised past its 10th call
# (429 is still documented and checked for).
start=$(date +%s)
if ! serve_start "$LOG" "$STATE" --var "ADMIN_TOKEN:$ADMIN_TOKEN" --var REGISTRATION_RATE_LIMIT:100000; then
  cat "$LOG" >&2
  say "wrangler dev did not start"
  exit 1
fi
BASE=$SERVE_URL
say "ready at $BASE after $(($(date +%s) - start)) s"

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
SCHEMATHESIS_HOOKS=tests/contract/hooks.py "$VENV/bin/st" --config-file tests/contract/schemathesis.toml run docs/openapi.yaml \
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
