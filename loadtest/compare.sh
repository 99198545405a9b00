#!/usr/bin/env bash
# Runs one load scenario against Waymark and the servers people use today, one server after
# another on this machine, and prints one table (one column per server).
#
#   loadtest/compare.sh SCENARIO [waymark-load options]
#   loadtest/compare.sh fanout --maps 50 --editors 10 --rate 2 --duration 30
#   SERVERS="waymark y-websocket" loadtest/compare.sh idle --connections 10000
#
# Scenarios are those of `waymark-load --help` (fanout, overload, idle, join, awareness, reconnect).
# On first use it installs the peers: y-websocket 1.5.4 and Hocuspocus 4.7.0 from npm (into
# loadtest/peers/node_modules) and y-sweet 0.9.1 from crates.io (into loadtest/.peers; a few
# minutes of compiling). JSON reports are written to loadtest/results/.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
if [ $# -lt 1 ]; then
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
scenario="$1"
shift
servers="${SERVERS:-waymark y-websocket y-sweet hocuspocus}"
load="$root/target/release/waymark-load"

echo "==> building waymark and waymark-load (release)" >&2
cargo build --release --locked -p waymark-server -p waymark-loadtest --manifest-path "$root/Cargo.toml" >&2

need_npm=0
for s in $servers; do
  case "$s" in y-websocket|hocuspocus) need_npm=1 ;; esac
done
if [ "$need_npm" = 1 ] && [ ! -d "$root/loadtest/peers/node_modules" ]; then
  echo "==> installing y-websocket and Hocuspocus from npm" >&2
  (cd "$root/loadtest/peers" && npm ci --no-audit --no-fund --loglevel=error) >&2
fi
ysweet="$root/loadtest/.peers/y-sweet/bin/y-sweet"
if [[ " $servers " == *" y-sweet "* ]] && [ ! -x "$ysweet" ]; then
  echo "==> installing y-sweet 0.9.1 from crates.io" >&2
  cargo install y-sweet --version 0.9.1 --locked --root "$root/loadtest/.peers/y-sweet" >&2
fi

results="$root/loadtest/results/$(date +%Y%m%d-%H%M%S)-$scenario"
mkdir -p "$results"
pid=""
scratch=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  if [ -n "$scratch" ]; then rm -rf "$scratch"; fi
  pid=""
  scratch=""
}
trap cleanup EXIT

# shellcheck source=loadtest/lib.sh
. "$(dirname "$0")/lib.sh"

reports=()
for server in $servers; do
  port="$(free_port)"
  scratch="$(mktemp -d)"
  args=()
  case "$server" in
    waymark)
      "$root/target/release/waymark" serve --listen "127.0.0.1:$port" --data "$scratch" \
        --log-format json "${WAYMARK_LOAD_FLAGS[@]}" > "$results/$server.log" 2>&1 &
      args=(--url "ws://127.0.0.1:$port/maps/{map}")
      ;;
    y-websocket)
      (cd "$root/loadtest/peers" && HOST=127.0.0.1 PORT="$port" exec node node_modules/y-websocket/bin/server.js) \
        > "$results/$server.log" 2>&1 &
      args=(--url "ws://127.0.0.1:$port/{map}")
      ;;
    y-sweet)
      "$ysweet" serve --host 127.0.0.1 --port "$port" "$scratch" > "$results/$server.log" 2>&1 &
      args=(--url "ws://127.0.0.1:$port/d/{map}/ws/{map}" --create-url "http://127.0.0.1:$port/doc/new")
      ;;
    hocuspocus)
      (cd "$root/loadtest/peers" && PORT="$port" exec node hocuspocus.mjs) > "$results/$server.log" 2>&1 &
      args=(--url "ws://127.0.0.1:$port/{map}" --framing hocuspocus)
      ;;
    *)
      echo "unknown server $server (known: waymark y-websocket y-sweet hocuspocus)" >&2
      exit 2
      ;;
  esac
  pid=$!
  wait_port "$port"
  echo "==> $scenario against $server (pid $pid, port $port)" >&2
  if "$load" "$scenario" "${args[@]}" --label "$server" --server-pid "$pid" \
      --json "$results/$server.json" "$@" > "$results/$server.txt"; then
    reports+=("$results/$server.json")
  else
    echo "    waymark-load failed against $server; see $results/$server.txt" >&2
  fi
  cleanup
done

echo
if [ ${#reports[@]} -gt 0 ]; then
  "$load" table "${reports[@]}" | tee "$results/table.md"
fi
echo "(reports in ${results#"$root"/})"
