#!/usr/bin/env bash
# Measures the Sigma parser on all active SigmaHQ rules (../shared/sigma/rules*,
# 3 780 files, YAML parsing included): BenchmarkParseSigmaHQ on one core,
# then `rangehunt sigma lint` end to end under /usr/bin/time (GOMAXPROCS=1).
# Prints wall and CPU time per full pass against the 1 s budget; the cores are
# shared, so CPU time is the stable figure.
# Usage: scripts/bench-sigma-parse.sh
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${RANGEHUNT_SHARED:-../shared}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go test -run XXX -bench 'ParseSigmaHQ|ParseCondition' -benchtime 3x -cpu 1 ./internal/sigma | tee "$tmp/bench.txt"
awk '/^BenchmarkParseSigmaHQ/ {
  for (i = 1; i <= NF; i++) { if ($(i+1) == "cpu-ms/all-rules") cpu = $i; if ($(i+1) == "ms/all-rules") wall = $i; if ($(i+1) == "rules/s") rps = $i }
  printf "parse all SigmaHQ rules: %.0f ms CPU, %.0f ms wall, %.0f rules/s (budget 1000 ms)\n", cpu, wall, rps }' "$tmp/bench.txt"

go build -o "$tmp/rangehunt" ./cmd/rangehunt
GOMAXPROCS=1 /usr/bin/time -f '%e %U %S' -o "$tmp/t.txt" \
  "$tmp/rangehunt" sigma lint --no-warnings "$shared"/sigma/rules* >/dev/null 2>"$tmp/err.txt" || true
awk '{ printf "sigma lint rules*: %.2f s wall, %.2f s CPU\n", $1, $2 + $3 }' "$tmp/t.txt"
tail -1 "$tmp/err.txt"
