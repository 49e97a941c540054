#!/bin/sh
# The Python environments of tests/interop/run.sh and tests/contract/run.sh, made ahead of them
# (scripts/test.sh runs this in the background while the worker compiles: pip waits on the
# network). The same commands and the same up-to-date checks as those scripts, which still make
# their environment themselves when this has not (or has made an outdated one).
set -eu
cd "$(dirname "$0")/.."
mkdir -p target
venv=target/interop-venv
if [ ! -x "$venv/bin/python" ] || ! cmp -s tests/interop/requirements.txt "$venv/.requirements"; then
  echo "[venvs] preparing $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r tests/interop/requirements.txt >&2
  cp tests/interop/requirements.txt "$venv/.requirements"
fi
SCHEMATHESIS_VERSION=$(sed -n 's/^schemathesis==//p' tests/contract/requirements.txt)
VENV=target/contract-venv
if [ "$("$VENV/bin/st" --version 2>/dev/null || true)" != "st, version $SCHEMATHESIS_VERSION" ]; then
  echo "[venvs] installing schemathesis $SCHEMATHESIS_VERSION into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r tests/contract/requirements.txt >&2
fi
echo "[venvs] ready: $venv, $VENV" >&2
