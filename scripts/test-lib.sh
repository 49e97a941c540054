# Sourced by scripts/test.sh: phase timing, background jobs, and a pool that runs the test jobs
# (every cargo test binary, the node suites, the contract test, ...) a few at a time.
#
#   times_init                 starts the clock; times and logs go to target/test-times/
#   phase_begin NAME / phase_end NAME
#                              a phase in the foreground: prints `[test] phase NAME: N s (load ...)`
#   bg NAME DIR [after=JOB,...] COMMAND...
#                              a job in the background (scripts/test-job.sh); bg_wait NAME waits
#   cargo_test_build           builds the tests (and the CLI) of the workspace; lists the binaries
#   pool_add_cargo_bins FIRST  adds each test binary to the pool, those named in FIRST first
#   pool_add NAME DIR [after=JOB,...] COMMAND...
#   pool_run JOBS              runs the pool's jobs, JOBS at a time, in the order added
#   times_summary              every phase's and job's time, and the whole command's
#
# Each cargo test binary runs as `cargo test` runs it: in its package's directory, with the same
# harness arguments (--test-threads); its whole output is printed once it is done.

times_init() {
  TEST_T0=$(date +%s)
  TEST_TIMES=$PWD/target/test-times
  export TEST_T0 TEST_TIMES
  rm -rf "$TEST_TIMES"
  mkdir -p "$TEST_TIMES"
  : >"$TEST_TIMES/phases"
  : >"$TEST_TIMES/pool"
  TEST_BG_PIDS=""
}
_load() { cut -d' ' -f1-3 /proc/loadavg; }
phase_begin() {
  date +%s >"$TEST_TIMES/start.$1"
}
phase_end() {
  _s=$(cat "$TEST_TIMES/start.$1")
  _d=$(($(date +%s) - _s))
  printf '[test] phase %s: %s s (load %s)\n' "$1" "$_d" "$(_load)" >&2
  printf '%s\t%s\t%s\t%s\n' "$1" "$_d" "$((_s - TEST_T0))" "$(_load)" >"$TEST_TIMES/$1.time"
  echo 0 >"$TEST_TIMES/$1.rc"
}

bg() {
  # Its own process group (setsid), so that bg_stop can end it with everything it started.
  setsid sh scripts/test-job.sh "$@" &
  TEST_BG_PIDS="$TEST_BG_PIDS $!"
}
# Waits for a background job; fails when it failed.
bg_wait() {
  while [ ! -f "$TEST_TIMES/$1.rc" ]; do sleep 1; done
  [ "$(cat "$TEST_TIMES/$1.rc")" = 0 ]
}
# On exit: background jobs still running (after a failure) are stopped with their children.
bg_stop() {
  for _p in $TEST_BG_PIDS; do
    kill -TERM -"$_p" 2>/dev/null || true
  done
}

pool_add() {
  _n=$1 _dir=$2
  shift 2
  printf '%s\t%s\t%s\n' "$_n" "$_dir" "$*" >>"$TEST_TIMES/pool"
}
# Runs every job of the pool, $1 at a time; fails (after all have run) if any failed.
pool_run() {
  _status=0
  xargs -d '\n' -n 1 -P "$1" sh scripts/test-job.sh <"$TEST_TIMES/pool" || _status=$?
  return "$_status"
}

# Builds every test target of the workspace (what `cargo test --workspace` runs) and, in the same
# cargo run (so that their dependencies are built once, with the same features), the CLI that
# tests/cli.rs runs (exported as PORTCULLIS_CLI_BIN; alone, `cargo build -p portcullis-cli`
# resolves other features for serde, digest, zeroize, ... and compiles ~100 crates again).
# Lists one line per test binary in target/test-times/bins: NAME<TAB>PACKAGE_DIR<TAB>EXECUTABLE.
cargo_test_build() {
  cargo build --locked --workspace --all-targets --message-format=json-render-diagnostics \
    >"$TEST_TIMES/build.json"
  python3 - "$TEST_TIMES/build.json" "$TEST_TIMES/cli-bin" >"$TEST_TIMES/bins" <<'EOF'
import json, os, sys
seen = set()
for line in open(sys.argv[1]):
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") != "compiler-artifact" or not m.get("executable"):
        continue
    t, exe = m["target"], m["executable"]
    kind = t["kind"][0]
    if not m["profile"]["test"]:
        if kind == "bin" and t["name"] == "portcullis":
            open(sys.argv[2], "w").write(exe)
        continue
    if exe in seen:
        continue
    seen.add(exe)
    pkg = os.path.dirname(m["manifest_path"])
    name = t["name"] if kind == "test" else "%s-%s" % (t["name"], "bin" if kind == "bin" else "lib")
    print("%s\t%s\t%s" % (name, pkg, exe))
EOF
  if [ ! -s "$TEST_TIMES/bins" ] || [ ! -s "$TEST_TIMES/cli-bin" ]; then
    echo "[test] cargo build --all-targets listed no test binaries or no CLI" >&2
    return 1
  fi
  PORTCULLIS_CLI_BIN=$(cat "$TEST_TIMES/cli-bin")
  export PORTCULLIS_CLI_BIN
}

# The cargo test binaries whose names end in -lib or -bin: the unit tests (no server; some assert
# wall-clock bounds, e.g. src/http/params.rs's linear-time parse).
cargo_unit_bins() {
  awk -F '\t' '$1 ~ /-(lib|bin)$/ { print $1 }' "$TEST_TIMES/bins"
}
# Runs one listed cargo test binary now (scripts/test-job.sh).
cargo_bin_run() {
  awk -F '\t' -v n="$1" '$1 == n { printf "%s\t%s\t%s --test-threads=%s\n", $1, $2, $3, t }' \
    t="${TEST_THREADS:-2}" "$TEST_TIMES/bins" | xargs -d '\n' -n 1 sh scripts/test-job.sh
}
# The pool's cargo jobs: the binaries named in $1 (space-separated, longest first) before the
# others; those named in $2 are left out (run otherwise).
pool_add_cargo_bins() {
  _first=$1 _skip=" ${2:-} "
  for _n in $_first; do
    awk -F '\t' -v n="$_n" '$1 == n' "$TEST_TIMES/bins"
  done >"$TEST_TIMES/bins.ordered"
  awk -F '\t' -v first=" $_first " 'index(first, " " $1 " ") == 0' "$TEST_TIMES/bins" \
    >>"$TEST_TIMES/bins.ordered"
  while IFS="$(printf '\t')" read -r _n _dir _exe; do
    case "$_skip" in *" $_n "*) continue ;; esac
    pool_add "$_n" "$_dir" "$_exe" --test-threads="${TEST_THREADS:-2}"
  done <"$TEST_TIMES/bins.ordered"
}

# The counts of every cargo test binary's closing line, and of node:test's.
tests_count() {
  python3 - "$TEST_TIMES" <<'EOF'
import glob, re, sys
p = f = i = 0
for log in glob.glob(sys.argv[1] + "/*.log"):
    for line in open(log, errors="replace"):
        m = re.match(r"test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored", line)
        if m:
            p += int(m[1]); f += int(m[2]); i += int(m[3])
        m = re.match(r"# (pass|fail|skipped) (\d+)$", line.strip())
        if m:
            if m[1] == "pass": p += int(m[2])
            elif m[1] == "fail": f += int(m[2])
            else: i += int(m[2])
# The plain closing line CI reads: cargo test and node:test counts together.
print("tests: %d passed, %d failed, %d skipped" % (p, f, i))
EOF
}

times_summary() {
  _total=$(($(date +%s) - TEST_T0))
  {
    echo "[test] summary (seconds; started at +seconds; load average when it ended)"
    sort -t "$(printf '\t')" -k3,3n "$TEST_TIMES"/*.time | while IFS="$(printf '\t')" read -r _n _d _at _l; do
      _st=ok
      [ "$(cat "$TEST_TIMES/$_n.rc" 2>/dev/null)" = 0 ] || _st=FAILED
      printf '[test]   %-26s %5s s   at +%-5s load %-16s %s\n' "$_n" "$_d" "$_at" "$_l" "$_st"
    done
    printf '[test] total: %s s (%s min %s s)\n' "$_total" $((_total / 60)) $((_total % 60))
  } >&2
}
