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

mkdir -p target/browser
work=$(mktemp -d "$root/target/browser/run.XXXXXX")
admin_token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
log="$work/wrangler.log"

# The one launcher (scripts/serve.sh): a private copy of build/ under a config without [build]
# (no rebuilds or reloads mid-run), own port and state, no .dev.vars.
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
ISSUER="$issuer" ADMIN_TOKEN="$admin_token" BROWSER_WORK="$work" \
  npx --no-install node --test --test-concurrency=1 "$@" tests/browser/*.test.mjs || status=$?
if [ "$status" -ne 0 ]; then
  say "failed; the server's log:"
  tail -n 60 "$log" >&2
fi
exit "$status"
