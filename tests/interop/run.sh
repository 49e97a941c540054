#!/bin/sh
# Interop and guide tests: starts the built worker under `wrangler dev` on a free port with
# fresh state and a random admin token, then runs the node:test suites in tests/interop/
# (oauth4webapi, openid-client in its OpenID Connect mode, Authlib's CodeIDToken, one OIDC scenario
# run against both Portcullis and node oidc-provider, a jose app-token client, and every
# code block of docs/guides/*.md) against it.
# The worker must be built (`sh scripts/build.sh`). Extra arguments go to `node --test`.
#
#   sh tests/interop/run.sh
#   sh tests/interop/run.sh --test-name-pattern private_key_jwt
set -eu
cd "$(dirname "$0")/../.."
# The one launcher (scripts/serve.sh): own port, own state, no .dev.vars.
. scripts/serve-lib.sh

suite_init interop
# Python for the guides' Python examples: a venv under target/ with pinned packages
# (idempotent: reinstalled only when requirements.txt changes).
venv=target/interop-venv
if [ ! -x "$venv/bin/python" ] || ! cmp -s tests/interop/requirements.txt "$venv/.requirements"; then
  suite_say "preparing $venv (PyJWT, cryptography)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r tests/interop/requirements.txt >&2
  cp tests/interop/requirements.txt "$venv/.requirements"
fi
# The identity provider people may sign in with (tests/interop/upstream.test.mjs): node
# oidc-provider on its own port, started first, so the worker can be given UPSTREAM_PROVIDERS
# naming it (and the IdP the worker's callback, on a port chosen here).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
worker_port=$(free_port)
idp_port=$(free_port)
idp_secret=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
mkdir -p target/interop
idp_log=target/interop/idp.log
IDP_PARENT=$$ setsid npx --no-install node tests/interop/upstream_idp.mjs "$idp_port" \
  "http://127.0.0.1:$worker_port/login/upstream/nodeidp/callback" portcullis-interop "$idp_secret" \
  </dev/null >"$idp_log" 2>&1 &
idp_pgid=$!
stop_idp() { kill -TERM -"$idp_pgid" 2>/dev/null || true; }
trap stop_idp EXIT
i=0
until grep -q 'ready at' "$idp_log" 2>/dev/null; do
  i=$((i + 1))
  if [ $i -gt 300 ] || ! kill -0 "$idp_pgid" 2>/dev/null; then suite_say "the identity provider did not start:"; cat "$idp_log" >&2; exit 1; fi
  sleep 0.1
done
export UPSTREAM_IDP_URL="http://127.0.0.1:$idp_port"
providers='[{"id":"nodeidp","name":"Node IdP","type":"oidc","issuer":"'"$UPSTREAM_IDP_URL"'","client_id":"portcullis-interop"}]'
suite_start --port "$worker_port" --var "UPSTREAM_PROVIDERS:$providers" --var "UPSTREAM_NODEIDP_CLIENT_SECRET:$idp_secret"
trap 'suite_cleanup; stop_idp' EXIT
export INTEROP_PYTHON="$PWD/$venv/bin/python" INTEROP_WORK="$SUITE_WORK"
suite_node "$@" tests/interop/*.test.mjs
