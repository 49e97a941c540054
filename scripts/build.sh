#!/bin/sh
# Builds the wasm worker into build/ (wrangler's [build] command). Uses only tools the setup
# script installed from crates.io and npm: no downloads from elsewhere.
set -eu
cd "$(dirname "$0")/.."
if [ "${PORTCULLIS_SKIP_BUILD:-}" = "1" ] && [ -f build/worker/shim.mjs ]; then
  exit 0
fi
export PATH="$HOME/.cargo/bin:$PATH"
export WASM_BINDGEN_BIN="$HOME/.cargo/bin/wasm-bindgen"
export ESBUILD_BIN="$PWD/node_modules/.bin/esbuild"
# Clippy runs inside this very build (as the workspace's rustc wrapper, the way `cargo clippy`
# does it): the crate's own `deny` lints (no indexing, slicing, unwrap, expect, panic: see
# src/lib.rs) fail the build, for every module of the worker, at no extra compile.
export RUSTC_WORKSPACE_WRAPPER="$(rustup which --toolchain nightly clippy-driver)"
# --panic-unwind: std rebuilt with panic=unwind (nightly toolchain + rust-src, installed by
# scripts/setup.sh), so a panic ends only its own request (src/worker/mod.rs, CatchUnwind).
worker-build --release --no-opt --panic-unwind
# Our entry module (panics answer as JSON 500s) replaces worker-build's re-export shim.
cp src/worker/entry.mjs build/worker/shim.mjs
