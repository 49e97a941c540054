#!/bin/sh
# Headless-Chromium tests (tests/browser/*.test.mjs): a real browser signs up, logs in,
# consents and is redirected with a code, and manages apps on /apps. Installs Debian's
# chromium when /usr/bin/chromium is missing (tests/browser/install.sh, needs root), starts
# the built worker under `wrangler dev` on a free port with fresh state and a random admin
# token, waits for it, runs the suites with node:test, and stops the server's whole process
# group on exit. The worker must be built (`sh scripts/build.sh`). Extra arguments go to
# `node --test`.
#
#   sh tests/browser/run.sh
#   sh tests/browser/run.sh --test-name-pattern apps
set -eu
cd "$(dirname "$0")/../.."
root=$PWD
export PATH="$HOME/.cargo/bin:$PATH"
export PORTCULLIS_SKIP_BUILD=1 CLOUDFLARE_CF_FETCH_ENABLED=false WRANGLER_SEND_METRICS=false NO_COLOR=1

say() { printf '[browser] %s\n' "$*" >&2; }

if [ ! -f build/worker/shim.mjs ]; then
  say "the worker is not built: run sh scripts/build.sh first"
  exit 1
fi
sh tests/browser/install.sh
if [ ! -f node_modules/playwright-core/package.json ]; then
  say "playwright-core is missing: run npm install --no-audit --no-fund"
  exit 1
fi

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port=$(free_port)
inspector=$(free_port)
mkdir -p target/browser
work=$(mktemp -d "$root/target/browser/run.XXXXXX")
admin_token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
log="$work/wrangler.log"

# The server runs a private copy of build/ under a copy of wrangler.toml without its [build]
# table (as tests/common does): wrangler then neither rebuilds nor reloads when src/ or build/
# change during the run, and no .dev.vars of a developer's is picked up (there is none beside
# this copy).
cp -R build "$work/build"
awk -v main="$work/build/worker/shim.mjs" '
  /^[[:space:]]*\[/ { skip = ($0 ~ /^[[:space:]]*\[build(\]|\.)/) }
  skip { next }
  /^[[:space:]]*main[[:space:]]*=/ { print "main = \"" main "\""; next }
  { print }
' wrangler.toml >"$work/wrangler.toml"

# wrangler in its own process group (setsid), so the whole group (workerd too) goes on exit.
setsid npx --no-install wrangler dev --config "$work/wrangler.toml" --ip 127.0.0.1 --port "$port" \
  --inspector-port "$inspector" --persist-to "$work/state" --var "ADMIN_TOKEN:$admin_token" \
  --show-interactive-dev-session=false </dev/null >"$log" 2>&1 &
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
ISSUER="$issuer" ADMIN_TOKEN="$admin_token" BROWSER_WORK="$work" \
  npx --no-install node --test --test-concurrency=1 "$@" tests/browser/*.test.mjs || status=$?
if [ "$status" -ne 0 ]; then
  say "failed; the server's log:"
  tail -n 60 "$log" >&2
fi
exit "$status"
