#!/bin/sh
# Builds the worker into build/ (wrangler's [build] command): cargo to wasm32, wasm-bindgen's
# library for the JS bindings (tools/bindgen), and our own entry module. wrangler bundles the
# result. No worker-build and no wasm-bindgen CLI: the same steps, without the tool installs
# that were most of a cold setup. Uses only what scripts/setup.sh installed.
set -eu
cd "$(dirname "$0")/.."
if [ "${PORTCULLIS_SKIP_BUILD:-}" = "1" ] && [ -f build/worker/shim.mjs ]; then
  exit 0
fi
export PATH="$HOME/.cargo/bin:$PATH"
say() { printf '[build] %s\n' "$*" >&2; }
bindgen=target/tools/release/portcullis-bindgen
if [ ! -x "$bindgen" ]; then
  sh scripts/setup.sh
fi
wasm=target/wasm32-unknown-unknown/release/portcullis.wasm
# One build at a time (the test command and a `wrangler dev` rebuild may start together): the
# second waits for the first, then finds its work done.
lock=target/build.lock
mkdir -p target
i=0
until mkdir "$lock" 2>/dev/null; do
  # A lock whose build is gone (killed hard, so its trap never ran) is taken over.
  holder=$(cat "$lock/pid" 2>/dev/null || true)
  if [ -n "$holder" ] && ! kill -0 "$holder" 2>/dev/null; then
    rm -rf "$lock"
    continue
  fi
  i=$((i + 1))
  if [ $i -gt 1200 ]; then
    say "another build has held $lock for 10 minutes; remove it if no build is running"
    exit 1
  fi
  sleep 0.5
done
echo $$ > "$lock/pid"
trap 'rm -rf "$lock"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
say "compiling the worker (wasm32, release, panic=unwind)"
# Clippy runs inside this very build (as the workspace's rustc wrapper, the way `cargo clippy`
# does it): the crate's own `deny` lints (no indexing, slicing, unwrap, expect, panic: see
# src/lib.rs) fail the build, for every module of the worker, at no extra compile.
# panic=unwind: std rebuilt with it (nightly + rust-src, installed by scripts/setup.sh), so a
# panic ends only its own request (src/worker/mod.rs, CatchUnwind).
# WASM_BINDGEN_USE_JS_SYS: wasm-bindgen's macros use js_sys' futures (as worker-build set it).
RUSTC_WORKSPACE_WRAPPER="$(rustup which --toolchain nightly clippy-driver)" \
WASM_BINDGEN_USE_JS_SYS=1 \
RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }-Cpanic=unwind" \
  cargo +nightly build --quiet --lib --release --target wasm32-unknown-unknown \
    -Z build-std=std,panic_unwind
up_to_date=yes
for input in "$wasm" src/worker/entry.mjs "$bindgen" scripts/build.sh; do
  [ -f build/worker/shim.mjs ] && [ build/worker/shim.mjs -nt "$input" ] || up_to_date=no
done
[ "$up_to_date" = yes ] && exit 0
say "generating the JS bindings"
# Into a fresh directory, swapped in at the end: a `wrangler dev` watching build/ never sees
# half a build.
rm -rf build.tmp
mkdir -p build.tmp/worker
"$bindgen" "$wasm" build.tmp
# wasm-bindgen writes a source-phase import (`import source m from "./index_bg.wasm"`);
# wrangler's bundler takes the plain form, which workerd also compiles to a WebAssembly.Module.
sed 's/^import source /import /' build.tmp/index.js > build.tmp/index.js.new
mv build.tmp/index.js.new build.tmp/index.js
cp src/worker/entry.mjs build.tmp/worker/shim.mjs
rm -rf build.old
if [ -d build ]; then mv build build.old; fi
mv build.tmp build
rm -rf build.old
