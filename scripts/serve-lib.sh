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
