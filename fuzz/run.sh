#!/bin/sh
# Coverage-guided fuzzing (cargo fuzz / libFuzzer, AddressSanitizer) of the parsers and checks
# that take hostile input. A short run for the test command; see fuzz/README.md for longer ones.
#
#   sh fuzz/run.sh                          # every target, FUZZ_SECONDS (default 10) each
#   FUZZ_SECONDS=600 sh fuzz/run.sh         # longer
#   FUZZ_TARGETS="jwt_verify pkce" sh fuzz/run.sh
#   FUZZ_JOBS=2 sh fuzz/run.sh              # two targets at a time (default 1)
#   FUZZ_BUILD_ONLY=1 sh fuzz/run.sh        # install and build only (scripts/test.sh does this
#                                           # in the background, then runs the targets)
#
# cargo-fuzz needs nightly-only rustc flags (-Zsanitizer); the machine has only stable, so the
# build runs with RUSTC_BOOTSTRAP=1. Installs cargo-fuzz (pinned) into ~/.cargo/bin if missing.
# Exit status: 0 when no target crashed; otherwise 1, with the inputs in fuzz/artifacts/<target>/.
set -eu
cd "$(dirname "$0")"
FUZZ=$PWD
CARGO_FUZZ_VERSION=0.13.2
SECONDS_EACH=${FUZZ_SECONDS:-10}
JOBS=${FUZZ_JOBS:-1}
ALL="params_form params_json jwt_verify rsa_kernel rs256_sign access_token_validate assertion_verify redirect_uri pkce router headers tenants oidc_request webauthn totp upstream_id_token backup_import"
TARGETS=${FUZZ_TARGETS:-$ALL}
export PATH="$HOME/.cargo/bin:$PATH"
export RUSTC_BOOTSTRAP=1
say() { printf '[fuzz] %s\n' "$*" >&2; }

if [ "$(cargo fuzz --version 2>/dev/null || true)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
  say "installing cargo-fuzz $CARGO_FUZZ_VERSION (~1 min once)"
  # --debug: cargo-fuzz only drives cargo and the targets; unoptimised, it compiles in about half
  # the time and runs no slower for that.
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --force --debug >&2
fi

say "building the fuzz targets (release, ASan; ~5 min cold)"
build_start=$(date +%s)
# All targets at once: one build of the crate serves them all.
cargo fuzz build -O >&2
say "built in $(($(date +%s) - build_start)) s"
[ "${FUZZ_BUILD_ONLY:-}" = 1 ] && exit 0
BIN="${CARGO_TARGET_DIR:-$FUZZ/target}/x86_64-unknown-linux-gnu/release"

run_one() {
  t=$1
  mkdir -p "corpus/$t" "artifacts/$t"
  log="artifacts/$t/last-run.log"
  # corpus/<t> gathers what the fuzzer learns (kept between runs, not committed);
  # seeds/<t> are the committed starting inputs (see src/make_seeds.rs); regressions/<t> are
  # inputs that once failed (run first, so a bug that comes back fails at once).
  extra=
  [ -d "regressions/$t" ] && extra="regressions/$t"
  set +e
  # shellcheck disable=SC2086
  "$BIN/$t" "corpus/$t" "seeds/$t" $extra \
    -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=4096 \
    -artifact_prefix="artifacts/$t/" -print_final_stats=1 >"$log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if [ $rc -eq 0 ]; then
    printf '%s\t%s\t0\n' "$t" "${execs:-?}"
  else
    printf '%s\t%s\t1\n' "$t" "${execs:-?}"
    say "$t FAILED (exit $rc); log: fuzz/$log"
    sed -n 's/.*Test unit written to /  input: fuzz\//p' "$log" >&2
    grep -m1 -A1 "panicked at\|ERROR: AddressSanitizer\|ERROR: libFuzzer" "$log" >&2 || true
  fi
}

results=$(mktemp)
trap 'rm -f "$results" "$results".*' EXIT
say "fuzzing ${SECONDS_EACH}s per target ($JOBS at a time): $TARGETS"
# shellcheck disable=SC2086
set -- $TARGETS
while [ $# -gt 0 ]; do
  pids=
  n=0
  while [ $# -gt 0 ] && [ $n -lt "$JOBS" ]; do
    run_one "$1" >"$results.$1" &
    pids="$pids $!"
    shift
    n=$((n + 1))
  done
  for p in $pids; do wait "$p" || true; done
done
for t in $TARGETS; do cat "$results.$t" >>"$results"; done

printf '%-24s %14s %s\n' target executions crashed >&2
failed=0
while IFS="$(printf '\t')" read -r t execs crashed; do
  printf '%-24s %14s %s\n' "$t" "$execs" "$crashed" >&2
  [ "$crashed" = 0 ] || failed=1
done <"$results"
if [ $failed -ne 0 ]; then
  say "crashes found: see fuzz/artifacts/<target>/ and fuzz/README.md (reproduce)"
  exit 1
fi
say "no crashes"
