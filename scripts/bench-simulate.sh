#!/usr/bin/env bash
# Measures the reference simulator.
#  1. BenchmarkSimulate (no disk I/O): events/s and packets/s, wall and per
#     CPU second, for the florama mix, a process-only and a network-only
#     background (target: >= 1 million events/s and packets/s).
#  2. `rangehunt simulate` to disk: 1 h of florama at the defaults (the
#     size of the bundled demo); with BIG=1 also two large runs under
#     /usr/bin/time with their peak memory, to show that huge runs stream
#     in constant memory: >= 10 million packets (florama, 6 h, ~5 GB) and
#     >= 10 million events (process-only background, 6 h, ~11 GB).
# Usage: scripts/bench-simulate.sh        BIG=1 scripts/bench-simulate.sh
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/rangehunt" ./cmd/rangehunt

echo "== BenchmarkSimulate (one simulated hour per op, output discarded)"
go test ./internal/simulate -run '^$' -bench Simulate -benchtime 2x | tee "$tmp/bench.txt" | grep '^Benchmark' |
  awk '{ name=$1; for (i = 2; i < NF; i++) m[$(i+1)] = $i;
         printf "%-40s %10.0f events/s %10.0f packets/s (per CPU second: %.0f events, %.0f packets)\n",
           name, m["events/s"], m["packets/s"], m["events/cpu-s"], m["packets/cpu-s"] }'

run() { # label, args...
  local label=$1; shift
  rm -rf "$tmp/out"
  /usr/bin/time -f '%e %U %S %M' -o "$tmp/time.txt" "$tmp/rangehunt" simulate --quiet --out "$tmp/out" "$@" >"$tmp/summary.txt"
  read -r wall user sys rss <"$tmp/time.txt"
  head -n 1 "$tmp/summary.txt"
  awk -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v l="$label" \
    'NR == 1 { for (i = 1; i <= NF; i++) { if ($(i+1) == "events,") e = $i; if ($(i+1) == "packets,") p = $i }
      printf "%s: %.2f s wall, %.2f s CPU, peak RSS %.0f MiB; %.0f events/s, %.0f packets/s (to disk)\n",
        l, w, u + s, r / 1024, e / w, p / w }' "$tmp/summary.txt"
  du -sh "$tmp/out"/{logs,pcaps,truth} "$tmp/out/scenario.yaml" | sed 's|'"$tmp"'/out/||'
}

echo
echo "== 1 h of florama at the defaults"
run "florama 1h"

if [ "${BIG:-0}" = 1 ]; then
  echo
  echo "== large run: florama 6 h, 12 workstations, benign rate 20"
  run "florama 6h rate 20" --duration 6h --hosts 12 --benign-rate 20
  echo
  echo "== large run: process-only background 6 h, 12 workstations, benign rate 400"
  run "process 6h rate 400" --benign-only --workload process --duration 6h --hosts 12 --benign-rate 400
fi
