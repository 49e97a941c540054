#!/bin/sh
# The test command: install what is missing, build the worker once, then run every test:
# native unit tests of the core and end-to-end tests against `wrangler dev` (workerd).
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
# The build runs clippy as its rustc wrapper (scripts/build.sh): any indexing, slicing, unwrap,
# expect or panic! in src/ outside tests fails it (the crate's deny lints, src/lib.rs).
echo "[test] building the worker (with clippy's no-panic lints)" >&2
sh scripts/build.sh
# The e2e harness starts wrangler dev itself; the build above is reused.
export PORTCULLIS_SKIP_BUILD=1 CLOUDFLARE_CF_FETCH_ENABLED=false WRANGLER_SEND_METRICS=false
# --workspace: the CLI's (cli/) unit tests too; tests/cli.rs builds and runs its binary.
cargo test --locked --workspace --no-fail-fast -- --test-threads="${TEST_THREADS:-2}"
echo "[test] interop: oauth4webapi, openid-client (OIDC), jose, and every code block of docs/guides" >&2
sh tests/interop/run.sh
echo "[test] headless Chromium: sign-up, log-in, consent, /apps" >&2
sh tests/browser/run.sh
echo "[test] OpenAPI contract (Schemathesis)" >&2
sh tests/contract/run.sh
echo "[test] fuzzing, a short run per target" >&2
FUZZ_SECONDS="${FUZZ_SECONDS:-5}" sh fuzz/run.sh
echo "[test] production bundle check" >&2
sh scripts/deploy-check.sh
