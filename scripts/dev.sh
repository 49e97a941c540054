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
exec npx --no-install wrangler dev --ip 127.0.0.1 --port "${PORT:-8787}" --persist-to .wrangler/state "$@"
