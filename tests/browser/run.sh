#!/bin/sh
# Headless-Chromium tests (tests/browser/*.test.mjs): a real browser signs up, logs in,
# consents and is redirected with a code, and manages apps on /apps. Installs Debian's
# chromium when /usr/bin/chromium is missing (tests/browser/install.sh, needs root), starts
# the built worker under `wrangler dev` on a free port with fresh state, a random admin token
# and a BRAND_NAME, waits for it, runs the suites with node:test, and stops the server's whole
# process group on exit. The worker must be built (`sh scripts/build.sh`). Extra arguments go to
# `node --test`.
#
#   sh tests/browser/run.sh
#   sh tests/browser/run.sh --test-name-pattern apps
set -eu
cd "$(dirname "$0")/../.."
# The one launcher (scripts/serve.sh): a private copy of build/ under a config without [build]
# (no rebuilds or reloads mid-run), own port and state, no .dev.vars.
. scripts/serve-lib.sh

suite_init browser
sh tests/browser/install.sh
if [ ! -f node_modules/playwright-core/package.json ]; then
  suite_say "playwright-core is missing: run npm install --no-audit --no-fund"
  exit 1
fi
# The default tenant's brand (issue 15): a name that must be escaped, which the pages show in
# their title and header (flows.test.mjs reads it from BRAND_NAME).
BRAND_NAME=${BRAND_NAME:-Browser & <Brand>}
export BRAND_NAME
# The brand's footer links (issue 18), which pages.test.mjs checks on every page.
BRAND_TERMS_URL=https://brand.example/terms BRAND_PRIVACY_URL=https://brand.example/privacy BRAND_SUPPORT_EMAIL=help@brand.example
export BRAND_TERMS_URL BRAND_PRIVACY_URL BRAND_SUPPORT_EMAIL
suite_start --var "BRAND_NAME:$BRAND_NAME" --var "BRAND_TERMS_URL:$BRAND_TERMS_URL" \
  --var "BRAND_PRIVACY_URL:$BRAND_PRIVACY_URL" --var "BRAND_SUPPORT_EMAIL:$BRAND_SUPPORT_EMAIL"
export BROWSER_WORK="$SUITE_WORK"
suite_node "$@" tests/browser/*.test.mjs
