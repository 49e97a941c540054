#!/bin/sh
# One job of the test command (scripts/test.sh), run by `xargs -P` or in the background:
#
#   sh scripts/test-job.sh 'NAME<TAB>DIR<TAB>[after=JOB,JOB ]COMMAND...'
#   sh scripts/test-job.sh NAME DIR COMMAND...
#
# Waits for the jobs named in after= (their target/test-times/JOB.rc), runs COMMAND in DIR with
# its output in target/test-times/NAME.log, then prints that whole log (under a lock, so the
# output of concurrent jobs never interleaves) and `[test] phase NAME: N s`. Records the exit
# status in NAME.rc and the time in NAME.time. Exit status: the command's (or 1 when a job it
# waited for failed).
set -u
cd "$(dirname "$0")/.."
root=$PWD
times=${TEST_TIMES:-target/test-times}
case "$times" in /*) ;; *) times="$root/$times" ;; esac
if [ $# -eq 1 ]; then
  tab=$(printf '\t')
  line=$1
  name=${line%%"$tab"*}
  rest=${line#*"$tab"}
  dir=${rest%%"$tab"*}
  cmd=${rest#*"$tab"}
  # shellcheck disable=SC2086
  set -- $cmd
else
  name=$1 dir=$2
  shift 2
fi
after=""
case "${1:-}" in after=*) after=${1#after=}; shift ;; esac
t0=${TEST_T0:-$(date +%s)}
log="$times/$name.log"
rc=0
for dep in $(printf '%s' "$after" | tr ',' ' '); do
  while [ ! -f "$times/$dep.rc" ]; do sleep 1; done
  if [ "$(cat "$times/$dep.rc")" != 0 ]; then
    echo "[test] $name: not run, $dep failed" >"$log"
    rc=1
  fi
done
s=$(date +%s)
if [ $rc -eq 0 ]; then
  (cd "$dir" && "$@") >"$log" 2>&1 </dev/null || rc=$?
fi
d=$(($(date +%s) - s))
load=$(cut -d' ' -f1-3 /proc/loadavg)
printf '%s\t%s\t%s\t%s\n' "$name" "$d" "$((s - t0))" "$load" >"$times/$name.time"
lock="$times/.print.lock"
i=0
until mkdir "$lock" 2>/dev/null; do
  i=$((i + 1))
  [ $i -gt 600 ] && break
  sleep 0.1
done
{
  printf '[test] ---- %s (%s) ----\n' "$name" "$*"
  cat "$log"
  if [ $rc -eq 0 ]; then
    printf '[test] phase %s: %s s (load %s) %s\n' "$name" "$d" "$load" \
      "$(grep '^test result:' "$log" | tail -1)"
  else
    printf '[test] phase %s: %s s (load %s) FAILED (exit %s)\n' "$name" "$d" "$load" "$rc"
  fi
}
rmdir "$lock" 2>/dev/null
echo "$rc" >"$times/$name.rc"
exit "$rc"
