#!/bin/sh
# The one launcher of test and benchmark servers: the built worker under `wrangler dev` in an
# instance directory of its own, on the port given, and nothing of the developer's.
#
#   sh scripts/serve.sh --dir DIR --port PORT [--inspector-port P] [--var NAME:VALUE]...
#                       [--log-level LEVEL] [--timeout SECONDS] [--build BUILD_DIR]
#                       [--send-email BINDING]
#
# DIR gets a private copy of build/ (or of --build BUILD_DIR: bench/run.sh's BENCH_BUILD) (made once: a restart with the same DIR serves the same
# worker and state), a wrangler.toml derived from the project's without its [build] table and
# with `main` pointing at that copy (so wrangler neither rebuilds nor reloads when src/ or build/
# change), the persisted state (DIR/state) and wrangler's own scratch (DIR/.wrangler). No
# .dev.vars or .env sits beside that config, and loading them is switched off too, so a
# developer's local secrets never reach a test server: every var comes from --var.
# --send-email BINDING declares a `send_email` binding of that name in the derived config
# (wrangler dev simulates it: each message is written to a .eml file whose path is logged);
# the project's wrangler.toml declares none, so a deploy needs no Email Routing.
#
# Prints `[serve] ready at http://127.0.0.1:PORT` (stdout) once GET /.well-known/jwks.json
# answers 200, then stays in the foreground until wrangler exits. Exits non-zero if wrangler
# exits first or is not ready within --timeout (default 60 s). Callers run it in a process
# group of their own (setsid / process_group(0)) and stop it by killing that group.
set -eu
cd "$(dirname "$0")/.."
root=$PWD
dir="" port="" inspector="" timeout=60 build=build
set_vars=""
loglevel=""
send_email=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --inspector-port) inspector=$2; shift 2 ;;
    --var) set_vars="$set_vars
$2"; shift 2 ;;
    --log-level) loglevel=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --send-email) send_email=$2; shift 2 ;;
    *) echo "[serve] unknown argument: $1" >&2; exit 2 ;;
  esac
done
say() { printf '[serve] %s\n' "$*" >&2; }
# wrangler.toml says ENVIRONMENT = "production" (so a deploy is production); a served copy is
# development unless the caller says otherwise (tests of the production refusal do).
case "$set_vars" in
  *"
ENVIRONMENT:"*) ;;
  *) set_vars="$set_vars
ENVIRONMENT:development" ;;
esac
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
[ -n "$dir" ] || { say "--dir is required"; exit 2; }
[ -n "$port" ] || port=$(free_port)
# wrangler defaults the inspector to 9229 when that looks free: two servers starting together
# race for it, so each gets its own.
[ -n "$inspector" ] || inspector=$(free_port)
if [ ! -f "$build/worker/shim.mjs" ]; then
  say "$build/worker/shim.mjs is missing: build the worker first (sh scripts/build.sh)"
  exit 1
fi
mkdir -p "$dir/state"
dir=$(cd "$dir" && pwd)
if [ ! -f "$dir/build/worker/shim.mjs" ]; then
  rm -rf "$dir/build"
  cp -R "$build" "$dir/build"
fi
awk -v main="$dir/build/worker/shim.mjs" '
  /^[[:space:]]*\[/ { skip = ($0 ~ /^[[:space:]]*\[build(\]|\.)/) }
  skip { next }
  /^[[:space:]]*main[[:space:]]*=/ { print "main = \"" main "\""; next }
  { print }
' wrangler.toml >"$dir/wrangler.toml"
if [ -n "$send_email" ]; then
  case "$send_email" in
    *[!A-Za-z0-9_]*) say "--send-email: a binding name is letters, digits and _"; exit 2 ;;
  esac
  printf '\n[[send_email]]\nname = "%s"\n' "$send_email" >>"$dir/wrangler.toml"
fi
rm -f "$dir/.dev.vars" "$dir/.env"

export PATH="$HOME/.cargo/bin:$PATH"
export PORTCULLIS_SKIP_BUILD=1 CLOUDFLARE_CF_FETCH_ENABLED=false WRANGLER_SEND_METRICS=false NO_COLOR=1
export CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV=false
set -- --config "$dir/wrangler.toml" --ip 127.0.0.1 --port "$port" --inspector-port "$inspector" \
  --persist-to "$dir/state" --show-interactive-dev-session=false
[ -n "$loglevel" ] && set -- "$@" --log-level "$loglevel"
old_ifs=$IFS
IFS='
'
for v in $set_vars; do set -- "$@" --var "$v"; done
IFS=$old_ifs

npx --no-install wrangler dev "$@" </dev/null &
wpid=$!
trap 'kill -TERM "$wpid" 2>/dev/null || true; exit 143' TERM
trap 'kill -TERM "$wpid" 2>/dev/null || true; exit 130' INT

url="http://127.0.0.1:$port"
# With ORG_DOMAIN, 127.0.0.1 is no organisation's host (a 404): ask as the platform's own host.
probe_host=""
for v in $set_vars; do
  case "$v" in ORG_DOMAIN:*) probe_host="${v#ORG_DOMAIN:}:$port" ;; esac
done
start=$(date +%s)
# Ready when the worker answers: 200, or (a production configuration that lacks what it needs,
# which the tests of that refusal start on purpose) its 503 saying so.
ready() {
  code=$(curl -sS -o "$dir/probe" -w '%{http_code}' -m 10 ${probe_host:+-H "Host: $probe_host"} "$url/.well-known/jwks.json" 2>/dev/null) || return 1
  [ "$code" = 200 ] || { [ "$code" = 503 ] && grep -q "not configured to serve" "$dir/probe"; }
}
until ready; do
  if ! kill -0 "$wpid" 2>/dev/null; then
    wait "$wpid" || true
    say "wrangler dev exited before it was ready"
    exit 1
  fi
  if [ $(($(date +%s) - start)) -ge "$timeout" ]; then
    say "wrangler dev was not ready after $timeout s"
    kill -TERM "$wpid" 2>/dev/null || true
    exit 1
  fi
  sleep 0.1
done
echo "[serve] ready at $url"
wait "$wpid"
