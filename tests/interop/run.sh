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
suite_start
export INTEROP_PYTHON="$PWD/$venv/bin/python" INTEROP_WORK="$SUITE_WORK"
suite_node "$@" tests/interop/*.test.mjs
