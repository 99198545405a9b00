#!/usr/bin/env bash
# Cross-node delivery: the same fanout load against one Waymark node and against two nodes sharing
# PostgreSQL and Redis, with each map's editors alternating between the two nodes (so most
# deliveries cross nodes through Redis).
#
#   loadtest/cluster.sh [waymark-load fanout flags]      e.g. --maps 50 --editors 10 --rate 2 --duration 30
#   NODE_FLAGS="--threads 1" loadtest/cluster.sh ...     extra flags for every node
#
# Needs the local PostgreSQL (PGURL, default postgres://postgres@127.0.0.1:5432/postgres, a role
# that may create databases) and redis-server on the PATH; it starts its own Redis on a free port and
# creates (then drops) a fresh database for each run. Runs: single node on SQLite, single node on
# PostgreSQL + Redis, two nodes on PostgreSQL + Redis. Reports go to loadtest/results/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
pgurl="${PGURL:-postgres://postgres@127.0.0.1:5432/postgres}"
load="$root/target/release/waymark-load"
bin="$root/target/release/waymark"

echo "==> building waymark and waymark-load (release)" >&2
cargo build --release --locked -p waymark-server -p waymark-loadtest --manifest-path "$root/Cargo.toml" >&2

results="$root/loadtest/results/$(date +%Y%m%d-%H%M%S)-cluster"
mkdir -p "$results"
pids=()
scratch="$(mktemp -d)"
db=""
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
  if [ -n "$db" ]; then psql -q "$pgurl" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null || true; fi
  db=""
}
trap 'cleanup; rm -rf "$scratch"' EXIT

# shellcheck source=loadtest/lib.sh
. "$(dirname "$0")/lib.sh"
fresh_db() {
  db="waymark_bench_$(date +%s%N)"
  psql -q "$pgurl" -c "CREATE DATABASE $db" >/dev/null
  echo "${pgurl%/*}/$db"
}
node() { # name, extra flags...
  local name="$1" port
  shift
  port="$(free_port)"
  mkdir -p "$scratch/$name"
  # shellcheck disable=SC2086
  "$bin" serve --listen "127.0.0.1:$port" --data "$scratch/$name" --log-format json \
    "${WAYMARK_LOAD_FLAGS[@]}" ${NODE_FLAGS:-} "$@" \
    > "$results/$name.log" 2>&1 &
  pids+=($!)
  wait_port "$port"
  urls+=(--url "ws://127.0.0.1:$port/maps/{map}")
  server_pids+=(--server-pid "$!")
}

redis_port="$(free_port)"
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no > "$results/redis.log" 2>&1 &
redis_pid=$!
trap 'cleanup; kill "$redis_pid" 2>/dev/null || true; rm -rf "$scratch"' EXIT
wait_port "$redis_port"
redis="redis://127.0.0.1:$redis_port"

reports=()
run() { # label, scenario
  echo "==> $2 against $1" >&2
  "$load" "$2" "${urls[@]}" "${server_pids[@]}" --label "$1" --json "$results/$1.json" "${args[@]}" \
    > "$results/$1.txt"
  reports+=("$results/$1.json")
  cleanup
}
args=("$@" --quiet)

urls=(); server_pids=()
node sqlite-1
run "1 node, SQLite" fanout

urls=(); server_pids=()
url="$(fresh_db)"
node pg-1 --database-url "$url" --redis-url "$redis"
run "1 node, PostgreSQL+Redis" fanout

urls=(); server_pids=()
url="$(fresh_db)"
node pg-a --database-url "$url" --redis-url "$redis"
node pg-b --database-url "$url" --redis-url "$redis"
run "2 nodes, cross-node" cross-node

echo
"$load" table "${reports[@]}" | tee "$results/table.md"
echo "(reports in ${results#"$root"/})"
