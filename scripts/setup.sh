#!/bin/sh
# Installs whatever is missing, and nothing that is already there (fast when warm):
# the wasm32 target, nightly with rust-src (a panic=unwind std), the bindings tool
# (tools/bindgen), and npm packages
# (wrangler, and Node 22 as a package because the machine's Node 20 is too old for wrangler).
set -eu
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '[setup] %s\n' "$*" >&2; }

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown >&2
fi
# The wasm build rebuilds std with panic=unwind (-Z build-std): that needs the
# nightly toolchain with rust-src and the wasm32 target.
if ! rustc +nightly --version >/dev/null 2>&1; then
  say "installing the nightly toolchain (for a panic=unwind std)"
  rustup toolchain install nightly --profile minimal >&2
fi
if ! rustup component list --toolchain nightly --installed 2>/dev/null | grep -q '^rust-src'; then
  say "adding rust-src to nightly"
  rustup component add rust-src --toolchain nightly >&2
fi
if ! rustup component list --toolchain nightly --installed 2>/dev/null | grep -q '^clippy'; then
  say "adding clippy to nightly (the wasm build runs its lints)"
  rustup component add clippy --toolchain nightly >&2
fi
if ! rustup target list --toolchain nightly --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target to nightly"
  rustup target add wasm32-unknown-unknown --toolchain nightly >&2
fi
# `npm ci` fails here (the lockfile lacks other platforms' workerd builds); `npm install`
# honours package-lock.json. Re-run only when the lockfile changed. In the background while
# cargo builds tools/bindgen below (npm waits on the network and the disk, cargo on the CPU).
stamp=node_modules/.portcullis-lock
npm_pid=""
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  say "installing npm packages"
  npm install --no-audit --no-fund --loglevel=error >&2 &
  npm_pid=$!
fi
# The wasm-bindgen step of the build: a small program over wasm-bindgen's library
# (tools/bindgen, its own lockfile), built once into target/tools. Warm, cargo checks and exits.
if [ ! -x target/tools/release/portcullis-bindgen ]; then
  say "building tools/bindgen (wasm-bindgen's library; once, ~1 min)"
fi
cargo build --quiet --release --locked --manifest-path tools/bindgen/Cargo.toml \
  --target-dir target/tools >&2
if [ -n "$npm_pid" ]; then
  wait "$npm_pid" || { say "npm install failed"; exit 1; }
  cp package-lock.json "$stamp"
fi
