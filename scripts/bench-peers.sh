#!/usr/bin/env bash
# Runs the peer isolate benchmarks (isolated-vm's fresh V8 isolate and Node's
# vm context, from ../shared/peers) beside airlock's BenchmarkFreshIsolate and
# BenchmarkWorkflowStep on the same machine, and prints the p50 latencies and
# the ratios airlock/peer for both workloads (below 1: airlock is faster).
#
# Usage: scripts/bench-peers.sh [COUNT]
#   COUNT        airlock benchmark runs (-count), median taken; default 5
# Environment:
#   AIRLOCK_SHARED     the shared/ directory (default: next to the repository)
#   AIRLOCK_PEERS_DIR  where isolated-vm is built and cached
#                      (default: ~/.cache/airlock-peers/isolated-vm)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shared=${AIRLOCK_SHARED:-$root/../shared}
peers=$shared/peers
dir=${AIRLOCK_PEERS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/airlock-peers/isolated-vm}
count=${1:-5}

for f in setup-isolated-vm.sh bench-isolated-vm.js; do
  [ -f "$peers/$f" ] || { echo "bench-peers: $peers/$f not found (set AIRLOCK_SHARED)" >&2; exit 2; }
done
command -v node >/dev/null || { echo "bench-peers: node is required" >&2; exit 2; }

echo "== isolated-vm setup ($dir)" >&2
bash "$peers/setup-isolated-vm.sh" "$dir" >&2

echo "== peers: node bench-isolated-vm.js" >&2
peer_json=$(node --no-node-snapshot "$peers/bench-isolated-vm.js" "$dir")
echo "$peer_json" >&2

echo "== airlock: go test -bench 'FreshIsolate|WorkflowStep' -count $count" >&2
air_out=$(cd "$root" && go test -run '^$' -bench 'FreshIsolate|WorkflowStep' -count "$count" ./internal/isolate/)
echo "$air_out" >&2

# Median over the runs of the p50-ms metric of one benchmark.
air_p50() {
  echo "$air_out" | awk -v name="Benchmark$1-" '
    index($1, name) == 1 { for (i = 2; i < NF; i++) if ($(i+1) == "p50-ms") v[n++] = $i }
    END {
      if (n == 0) exit 1
      for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
      print v[int(n / 2)]
    }'
}
peer_p50() { node -e 'console.log(JSON.parse(process.argv[1])[process.argv[2]].p50)' "$peer_json" "$1"; }

fresh=$(air_p50 FreshIsolate) || { echo "bench-peers: no FreshIsolate result" >&2; exit 1; }
workflow=$(air_p50 WorkflowStep) || { echo "bench-peers: no WorkflowStep result" >&2; exit 1; }

echo
printf '%-16s %12s %16s %12s %20s %16s\n' workload "airlock p50" "isolated-vm p50" "node-vm p50" "airlock/isolated-vm" "airlock/node-vm"
row() {
  local name=$1 air=$2 ivm node
  ivm=$(peer_p50 "isolated_vm_fresh_$3_ms")
  node=$(peer_p50 "node_vm_context_$3_ms")
  awk -v n="$name" -v a="$air" -v i="$ivm" -v v="$node" 'BEGIN {
    printf "%-16s %9.3f ms %13.3f ms %9.3f ms %20.3f %16.3f\n", n, a, i, v, a / i, a / v }'
}
row "fresh 1+1" "$fresh" trivial
row "workflow step" "$workflow" workflow
