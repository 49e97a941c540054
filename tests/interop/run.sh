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

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
inspector=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p target/interop
work=$(mktemp -d "$root/target/interop/run.XXXXXX")
admin_token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
log="$work/wrangler.log"

# wrangler in its own process group (setsid), so the whole group (workerd too) goes on exit.
setsid npx --no-install wrangler dev --ip 127.0.0.1 --port "$port" --inspector-port "$inspector" \
  --persist-to "$work/state" --var "ADMIN_TOKEN:$admin_token" --show-interactive-dev-session=false \
  </dev/null >"$log" 2>&1 &
pgid=$!
cleanup() {
  kill -TERM -"$pgid" 2>/dev/null || true
  i=0
  while kill -0 -"$pgid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  kill -KILL -"$pgid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

issuer="http://127.0.0.1:$port"
start=$(date +%s)
until curl -fsS -o /dev/null "$issuer/.well-known/jwks.json" 2>/dev/null; do
  case $(ps -o stat= -p "$pgid" 2>/dev/null || true) in '' | Z*)
    say "wrangler dev exited before it was ready:"; cat "$log" >&2; exit 1 ;;
  esac
  if [ $(($(date +%s) - start)) -ge 60 ]; then
    say "wrangler dev was not ready after 60 s:"; cat "$log" >&2; exit 1
  fi
  sleep 0.2
done
say "server ready at $issuer in $(($(date +%s) - start)) s"

status=0
ISSUER="$issuer" ADMIN_TOKEN="$admin_token" INTEROP_PYTHON="$root/$venv/bin/python" INTEROP_WORK="$work" \
  npx --no-install node --test --test-concurrency=1 "$@" tests/interop/*.test.mjs || status=$?
if [ "$status" -ne 0 ]; then
  say "failed; the server's log:"
  tail -n 60 "$log" >&2
fi
exit "$status"
