#!/usr/bin/env bash
# Runs every test of the project: the Rust unit and integration tests (real server, real sockets,
# real SQLite), then the interop test in which stock Yjs clients (yjs + y-websocket from npm) talk
# to the real `waymark` binary. Needs the Rust toolchain, Node.js 20+ and npm.
set -euo pipefail
cd "$(dirname "$0")"

echo "==> building"
cargo build --workspace --all-targets --locked

echo "==> Rust tests"
cargo test --workspace --locked

echo "==> interop tests with stock Yjs clients"
(
  cd clients/interop
  npm ci --no-audit --no-fund --loglevel=error
  WAYMARK_BIN="$PWD/../../target/debug/waymark" npm test
)
