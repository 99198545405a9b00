#!/usr/bin/env bash
# The benchmark suite behind BENCHMARKS.md: every scenario against Waymark and its peers, at the
# sizes the targets are stated for. Takes about 20 minutes; run it on an otherwise idle machine.
#
#   loadtest/bench.sh            all scenarios
#   loadtest/bench.sh fanout     only some (fanout overload idle join awareness reconnect)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
declare -A args=(
  [fanout]="--maps 50 --editors 10 --rate 2 --duration 30"
  [overload]="--maps 50 --editors 10 --rate 4 --factor 2 --duration 8 --max-steps 8"
  [idle]="--connections 10000 --maps 100 --hold 10"
  [join]="--clients 50 --size-mib 10"
  [awareness]="--clients 500 --rate 1 --duration 20"
  [reconnect]="--clients 2000 --maps 100"
)
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(fanout overload idle join awareness reconnect)
for s in "${scenarios[@]}"; do
  [ -n "${args[$s]:-}" ] || { echo "unknown scenario $s" >&2; exit 2; }
  echo "### $s: waymark-load $s ${args[$s]}"
  # shellcheck disable=SC2086
  "$here/compare.sh" "$s" ${args[$s]} --quiet
  echo
done
