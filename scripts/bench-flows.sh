#!/usr/bin/env bash
# Measures the flow meter end to end: builds a >= 1,000,000-packet capture by
# concatenating the shared captures with shifted times, runs
# `rangehunt flows extract` on it under /usr/bin/time -v, and prints
# packets/s and peak RSS; then runs BenchmarkExtract (pkts/s, allocs).
# Usage: scripts/bench-flows.sh [workers...]   (default: 1 2)
set -euo pipefail
cd "$(dirname "$0")/.."
workers=("$@")
[ ${#workers[@]} -gt 0 ] || workers=(1 2)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/rangehunt" ./cmd/rangehunt
go test -count=1 -run '^TestWriteBenchCapture$' ./internal/flow -args -benchcap="$tmp/bench.pcap" >/dev/null
size=$(stat -c %s "$tmp/bench.pcap")
for w in "${workers[@]}"; do
  /usr/bin/time -v "$tmp/rangehunt" flows extract -q --workers "$w" -o "$tmp/flows.csv" "$tmp/bench.pcap" 2>"$tmp/err.txt"
  read_pkts=$(awk '/^packets read:/ {print $3}' "$tmp/err.txt")
  flows=$(awk '/^flows written:/ {print $3}' "$tmp/err.txt")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$tmp/err.txt")
  secs=$(echo "$wall" | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
  user=$(awk -F': ' '/User time/ {print $2}' "$tmp/err.txt")
  sys=$(awk -F': ' '/System time/ {print $2}' "$tmp/err.txt")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/err.txt")
  rate=$(awk -v p="$read_pkts" -v s="$secs" 'BEGIN { if (s > 0) printf "%.0f", p / s; else print "inf" }')
  cpu_rate=$(awk -v p="$read_pkts" -v u="$user" -v y="$sys" 'BEGIN { if (u + y > 0) printf "%.0f", p / (u + y); else print "inf" }')
  echo "flows extract --workers $w: ${read_pkts} packets ($((size / 1000000)) MB) -> ${flows} flows in ${secs}s wall: ${rate} packets/s wall, ${cpu_rate} packets/s per CPU-second; peak RSS $((rss / 1024)) MiB"
done
out=$(go test -count=1 -run '^$' -bench '^BenchmarkExtract$' -benchtime 2x ./internal/flow/)
echo "$out" | grep -E '^(Benchmark|cpu:)' || { echo "$out" >&2; exit 1; }
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (the machine's cores are shared)"
