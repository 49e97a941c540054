#!/bin/sh
# Installs Debian's Chromium for the headless-browser tests (tests/browser/run.sh), only when
# /usr/bin/chromium is missing. Idempotent; needs root (CI runs the test command as root).
set -eu
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "[browser] /usr/bin/chromium is missing and installing it needs root: apt-get install -y chromium" >&2
  exit 1
fi
echo "[browser] installing chromium from Debian's packages" >&2
export DEBIAN_FRONTEND=noninteractive
# An up-to-date package list first (a fresh machine may have none).
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends chromium >&2
test -x /usr/bin/chromium
