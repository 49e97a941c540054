#!/bin/sh
# The run command: install what is missing, then serve on http://127.0.0.1:8787 under
# `wrangler dev` with local KV and Durable Objects persisted in .wrangler/state.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
if [ ! -f .dev.vars ]; then
  token=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  printf 'ADMIN_TOKEN=%s\n' "$token" > .dev.vars
  chmod 600 .dev.vars
fi
echo "[dev] admin token: in $(pwd)/.dev.vars (ADMIN_TOKEN=...)" >&2
export CLOUDFLARE_CF_FETCH_ENABLED=false WRANGLER_SEND_METRICS=false
# Build once here, quietly (wrangler runs the same build again on start and on every change
# under src/, which is then a no-op), and say when the server answers.
sh scripts/build.sh
port="${PORT:-8787}"
(
  i=0
  while [ $i -lt 1200 ]; do
    # 200, or 404 when ORG_DOMAIN makes 127.0.0.1 no organisation's host: the worker answers.
    code=$(curl -s -o /dev/null -w '%{http_code}' -m 5 "http://127.0.0.1:$port/.well-known/jwks.json" 2>/dev/null || true)
    if [ "$code" = 200 ] || [ "$code" = 404 ]; then
      echo "[dev] ready at http://127.0.0.1:$port" >&2
      exit 0
    fi
    sleep 0.25
    i=$((i + 1))
  done
) &
# wrangler.toml says ENVIRONMENT = "production" (what a deploy runs); this is development.
exec npx --no-install wrangler dev --ip 127.0.0.1 --port "$port" --persist-to .wrangler/state --var ENVIRONMENT:development "$@"
