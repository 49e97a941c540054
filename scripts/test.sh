#!/bin/sh
# The test command: install what is missing, build the worker once, then run every test: native
# unit tests of the core, end-to-end tests against `wrangler dev` (workerd), the interop, browser
# and contract suites, a short fuzzing run of every target, and the production bundle check.
#
# Where the time goes, and how it is kept short (2 cores; scripts/test-lib.sh):
# - Installs that wait on the network (Chromium from Debian, the Python environments of the
#   interop and contract suites, npm) run in the background while the worker compiles.
# - The unit tests run first, alone. Then the test jobs (each end-to-end cargo test binary, the
#   interop, browser and contract suites, the doc tests, the bundle check) run TEST_JOBS
#   (default 2) at a time: each starts its own servers on their own ports and state directories (tests/common/server.rs, scripts/serve.sh), and most
#   of their time is spent waiting on workerd or on a clock, not on the CPU.
# - The fuzz targets are built (cargo fuzz, ASan) in the background at the lowest CPU priority
#   while the tests run, then every target runs FUZZ_SECONDS (default 5) on its own.
# Prints `[test] phase NAME: N s (load ...)` as each phase or job ends, each job's whole output
# once it is done, and a summary at the end. Logs: target/test-times/.
set -eu
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
. scripts/test-lib.sh
times_init
trap bg_stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
jobs=${TEST_JOBS:-2}

# Network-bound installs, in the background from the start.
bg browser-install . sh tests/browser/install.sh
bg venvs . sh scripts/test-venvs.sh

phase_begin setup
sh scripts/setup.sh
phase_end setup

# The build runs clippy as its rustc wrapper (scripts/build.sh): any indexing, slicing, unwrap,
# expect or panic! in src/ outside tests fails it (the crate's deny lints, src/lib.rs).
echo "[test] building the worker (with clippy's no-panic lints)" >&2
phase_begin wasm-build
sh scripts/build.sh
phase_end wasm-build

# The e2e harness starts wrangler dev itself; the build above is reused.
export PORTCULLIS_SKIP_BUILD=1 CLOUDFLARE_CF_FETCH_ENABLED=false WRANGLER_SEND_METRICS=false
# Every test binary of the workspace (--workspace: the CLI's unit tests too), and the CLI itself,
# which tests/cli.rs runs, in one cargo run (scripts/test-lib.sh).
echo "[test] compiling the tests" >&2
phase_begin native-compile
cargo_test_build
phase_end native-compile

# The fuzz targets compile while the tests run, at the lowest priority, so the tests' servers
# get the CPU first.
bg fuzz-build . env FUZZ_BUILD_ONLY=1 nice -n 19 sh fuzz/run.sh

# The unit tests (the core's and the CLI's, no servers) first and alone, as before: a few assert
# wall-clock bounds, so they get the CPU to themselves (the fuzz build at nice 19 aside).
phase_begin unit-tests
unit=$(cargo_unit_bins | tr '\n' ' ')
status=0
for b in $unit; do cargo_bin_run "$b" || status=1; done
phase_end unit-tests

# The jobs, longest first (as measured on 2026-12-04), so that no long one starts last.
pool_add contract . after=venvs sh tests/contract/run.sh
pool_add browser . after=browser-install sh tests/browser/run.sh
pool_add_cargo_bins "hardening tenancy apps interop_oauth2 registration audit organisations foundation code_flow" "$unit"
pool_add interop . after=venvs sh tests/interop/run.sh
pool_add doc-tests . cargo test --locked --workspace --doc
pool_add deploy-check . sh scripts/deploy-check.sh
pool_add fuzz . after=fuzz-build env FUZZ_SECONDS="${FUZZ_SECONDS:-5}" sh fuzz/run.sh
echo "[test] running $(wc -l <"$TEST_TIMES/pool") test jobs, $jobs at a time" >&2
phase_begin tests
pool_run "$jobs" || status=1
phase_end tests
bg_wait fuzz-build || status=1

times_summary
if [ $status -ne 0 ]; then
  echo "[test] FAILED:$(cd "$TEST_TIMES" && for f in *.rc; do [ "$(cat "$f")" = 0 ] || printf ' %s' "${f%.rc}"; done)" >&2
else
  echo "[test] all passed" >&2
fi
tests_count
exit $status
