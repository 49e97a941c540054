#!/bin/sh
# Installs whatever is missing, and nothing that is already there (fast when warm):
# the wasm32 target, worker-build and wasm-bindgen-cli (exact versions), and npm packages
# (wrangler, and Node 22 as a package because the machine's Node 20 is too old for wrangler).
set -eu
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
WORKER_BUILD_VERSION=0.8.7
WASM_BINDGEN_VERSION=0.2.130

say() { printf '[setup] %s\n' "$*" >&2; }

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown >&2
fi
# The wasm build rebuilds std with panic=unwind (worker-build --panic-unwind): that needs the
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
if [ "$(worker-build --version 2>/dev/null || true)" != "$WORKER_BUILD_VERSION" ]; then
  say "installing worker-build $WORKER_BUILD_VERSION (~3 min once)"
  cargo install worker-build --version "$WORKER_BUILD_VERSION" --locked --force >&2
fi
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION"; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (~2 min once)"
  # Not --locked: its lockfile names a crate version the registry lacks.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force >&2
fi
# `npm ci` fails here (the lockfile lacks other platforms' workerd builds); `npm install`
# honours package-lock.json. Re-run only when the lockfile changed.
stamp=node_modules/.portcullis-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  say "installing npm packages"
  npm install --no-audit --no-fund >&2
  cp package-lock.json "$stamp"
fi
