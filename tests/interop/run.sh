#!/bin/sh
# Interop and guide tests: starts the built worker under `wrangler dev` on a free port with
# fresh state and a random admin token, then runs the node:test suites in tests/interop/
# (oauth4webapi, a jose app-token client, and every code block of docs/guides/*.md) against it.
# The worker must be built (`sh scripts/build.sh`). Extra arguments go to `node --test`.
#
#   sh tests/interop/run.sh
#   sh tests/interop/run.sh --test-name-pattern private_key_jwt
set -eu
cd "$(dirname "$0")/../.."
root=$PWD
export PATH="$HOME/.cargo/bin:$PATH"
export PORTCULLIS_SKIP_BUILD=1 CLOUDFLARE_CF_FETCH_ENABLED=false WRANGLER_SEND_METRICS=false NO_COLOR=1

say() { printf '[interop] %s\n' "$*" >&2; }

if [ ! -f build/worker/shim.mjs ]; then
  say "the worker is not built: run sh scripts/build.sh first"
  exit 1
fi

# Python for the guides' Python examples: a venv under target/ with pinned packages
# (idempotent: reinstalled only when requirements.txt changes).
venv=target/interop-venv
if [ ! -x "$venv/bin/python" ] || ! cmp -s tests/interop/requirements.txt "$venv/.requirements"; then
  say "preparing $venv (PyJWT, cryptography)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r tests/interop/requirements.txt >&2
  cp tests/interop/requirements.txt "$venv/.requirements"
fi

mkdir -p target/interop
work=$(mktemp -d "$root/target/interop/run.XXXXXX")
admin_token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
log="$work/wrangler.log"

# The one launcher (scripts/serve.sh): own port, own state, no .dev.vars.
. scripts/serve-lib.sh
cleanup() {
  serve_stop
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
start=$(date +%s)
if ! serve_start "$log" "$work/server" --var "ADMIN_TOKEN:$admin_token"; then
  say "the server did not start:"; cat "$log" >&2; exit 1
fi
issuer=$SERVE_URL
say "server ready at $issuer in $(($(date +%s) - start)) s"

status=0
ISSUER="$issuer" ADMIN_TOKEN="$admin_token" INTEROP_PYTHON="$root/$venv/bin/python" INTEROP_WORK="$work" \
  npx --no-install node --test --test-concurrency=1 "$@" tests/interop/*.test.mjs || status=$?
if [ "$status" -ne 0 ]; then
  say "failed; the server's log:"
  tail -n 60 "$log" >&2
fi
exit "$status"
