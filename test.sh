#!/usr/bin/env bash
# Runs every test of the project: the Rust unit and integration tests (real server, real sockets,
# real SQLite; cluster tests with real `waymark` processes, a `redis-server` each test starts on a
# free port, a fresh database per test in PostgreSQL, and a PgBouncer per test in front of it),
# then the interop test in which stock Yjs clients (yjs + y-websocket from npm) talk to the real
# `waymark` binary, and every fuzz target builds and runs for a few seconds (installing cargo-fuzz
# on first use), and the browser editor is checked against its sources and driven end to end in
# headless Chromium (Chromium and PgBouncer are installed from Debian's packages on first use).
# Needs the Rust toolchain, Node.js 20+ and npm, redis-server on the PATH, and a PostgreSQL server
# whose URL in WAYMARK_TEST_POSTGRES_URL may create databases (default: the local server,
# postgres://postgres@127.0.0.1:5432/postgres).
set -euo pipefail
cd "$(dirname "$0")"

pg="${WAYMARK_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
if ! psql -q "$pg" -c 'SELECT 1' >/dev/null 2>&1; then
  echo "test.sh: cannot reach PostgreSQL at $pg; start it or set WAYMARK_TEST_POSTGRES_URL" >&2
  exit 1
fi
if ! command -v redis-server >/dev/null; then
  echo "test.sh: redis-server is not installed (Debian: apt-get install redis-server)" >&2
  exit 1
fi

# Debian packages the tests need: Chromium for the browser tests (browser downloads are not
# reachable here), PgBouncer for the tests of the PostgreSQL store behind a pooler.
missing=()
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || missing+=(chromium)
[ -x "${PGBOUNCER:-/usr/sbin/pgbouncer}" ] || missing+=(pgbouncer)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "==> installing ${missing[*]} for the tests (apt-get install)"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y -q "${missing[@]}" >/dev/null \
    || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q "${missing[@]}" >/dev/null; }
fi

echo "==> browser editor: built assets in step with their sources"
# The server compiles clients/web/dist into its binary; a stale build fails here, before anything
# is compiled with it.
(cd clients/web && npm ci --no-audit --no-fund --loglevel=error && npm run --silent check)

echo "==> building"
cargo build --workspace --all-targets --locked

echo "==> Rust tests"
cargo test --workspace --locked

# The harness behind the `room` fuzz target, and the inputs fuzzing found, as plain tests.
cargo test -p waymark-server --features fuzzing --lib --locked fuzzing

echo "==> fuzz targets, briefly (fuzz/README.md has the long runs)"
# A debug build without AddressSanitizer builds in a third of the time of the release build used
# for long runs; this checks that every target builds and survives its corpus and a few seconds.
FUZZ_BUILD=dev FUZZ_SANITIZER=none fuzz/run.sh "${WAYMARK_FUZZ_SECONDS:-10}"

echo "==> interop tests with stock Yjs clients"
(
  cd clients/interop
  npm ci --no-audit --no-fund --loglevel=error
  WAYMARK_BIN="$PWD/../../target/debug/waymark" npm test
)

echo "==> browser editor end to end (headless Chromium; screenshots in target/e2e-artifacts)"
(
  cd clients/web
  WAYMARK_BIN="$PWD/../../target/debug/waymark" npm test
)
