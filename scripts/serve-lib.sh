# Sourced by the shell test runners and bench/run.sh: start and stop one scripts/serve.sh
# instance in its own process group.
#
#   serve_start LOG DIR [serve.sh args...]   appends to LOG; sets SERVE_PGID and SERVE_URL, or returns 1
#   serve_stop                               TERM, then KILL, the whole group
serve_start() {
  _log=$1 _dir=$2
  shift 2
  touch "$_log"
  _skip=$(wc -l <"$_log")
  setsid sh scripts/serve.sh --dir "$_dir" "$@" </dev/null >>"$_log" 2>&1 &
  SERVE_PGID=$!
  SERVE_URL=""
  while :; do
    SERVE_URL=$(tail -n "+$((_skip + 1))" "$_log" | sed -n 's/^\[serve\] ready at //p' | head -n 1)
    [ -n "$SERVE_URL" ] && return 0
    if ! kill -0 "$SERVE_PGID" 2>/dev/null; then
      wait "$SERVE_PGID" 2>/dev/null || true
      SERVE_PGID=""
      return 1
    fi
    sleep 0.1
  done
}
serve_stop() {
  [ -n "${SERVE_PGID:-}" ] || return 0
  kill -TERM -"$SERVE_PGID" 2>/dev/null || true
  _i=0
  while kill -0 -"$SERVE_PGID" 2>/dev/null && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
  kill -KILL -"$SERVE_PGID" 2>/dev/null || true
  wait "$SERVE_PGID" 2>/dev/null || true
  SERVE_PGID=""
}

# The node:test runners (tests/browser/run.sh, tests/interop/run.sh), from the repository root:
#
#   suite_init NAME        the environment of a run and the check that the worker is built
#   suite_start [ARGS...]  a fresh server (own port and state, random admin token) whose work files
#                          go in target/NAME/run.*; exports ISSUER, ADMIN_TOKEN and SUITE_WORK;
#                          the server is stopped and the work files removed on exit. ARGS go to
#                          scripts/serve.sh (e.g. --var NAME:VALUE)
#   suite_node ARGS...     `node --test ARGS` one file at a time; on failure, the server's log
suite_say() { printf '[%s] %s\n' "$SUITE_NAME" "$*" >&2; }
suite_init() {
  SUITE_NAME=$1
  export PATH="$HOME/.cargo/bin:$PATH"
  export PORTCULLIS_SKIP_BUILD=1 CLOUDFLARE_CF_FETCH_ENABLED=false WRANGLER_SEND_METRICS=false NO_COLOR=1
  if [ ! -f build/worker/shim.mjs ]; then
    suite_say "the worker is not built: run sh scripts/build.sh first"
    exit 1
  fi
}
suite_cleanup() {
  serve_stop
  rm -rf "$SUITE_WORK"
}
suite_start() {
  mkdir -p "target/$SUITE_NAME"
  SUITE_WORK=$(mktemp -d "$PWD/target/$SUITE_NAME/run.XXXXXX")
  SUITE_LOG="$SUITE_WORK/wrangler.log"
  ADMIN_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  export SUITE_WORK ADMIN_TOKEN
  trap suite_cleanup EXIT
  trap 'exit 130' INT TERM
  _start=$(date +%s)
  if ! serve_start "$SUITE_LOG" "$SUITE_WORK/server" --var "ADMIN_TOKEN:$ADMIN_TOKEN" "$@"; then
    suite_say "the server did not start:"; cat "$SUITE_LOG" >&2; exit 1
  fi
  ISSUER=$SERVE_URL
  export ISSUER
  suite_say "server ready at $ISSUER in $(($(date +%s) - _start)) s"
}
suite_node() {
  _status=0
  npx --no-install node --test --test-concurrency=1 "$@" || _status=$?
  if [ "$_status" -ne 0 ]; then
    suite_say "failed; the server's log:"
    tail -n 60 "$SUITE_LOG" >&2
  fi
  return "$_status"
}
