#!/usr/bin/env bash
# Measures the ECS event reader (internal/ecs) on in-memory Auditbeat-like
# process start events (~970 bytes a line): Next alone (split + validate),
# Next+Extract of 31 fields (with and without collecting every leaf for
# keyword searches), Extract alone, and encoding/json into map[string]any
# (the rejected option); then whole inputs, NDJSON and gzip. Runs on one core
# (GOMAXPROCS=1) and prints MB/s by the wall clock and per CPU-second (the
# steadier figure when other processes share the cores), and allocs per event
# (per whole input for ReaderFile).
# Usage: scripts/bench-ecs.sh [duration per benchmark]   (default 1s)
# Compare two runs with benchstat: run with -count 5 into files, then
#   benchstat old.txt new.txt
set -euo pipefail
cd "$(dirname "$0")/.."
benchtime=${1:-1s}
case $benchtime in *x) echo "bench-ecs.sh: give a duration such as 2s, not an iteration count" >&2; exit 2 ;; esac
out=$(GOMAXPROCS=1 go test -count=1 -run '^$' -bench '^Benchmark(ReaderExtract|ReaderFile)$' -benchtime "$benchtime" -benchmem ./internal/ecs/)
echo "$out" | grep -E '^(cpu:|Benchmark)' || { echo "$out" >&2; exit 1; }
echo
printf '%-45s %12s %16s %10s\n' benchmark "MB/s (wall)" "MB/s per CPU-s" allocs/op
echo "$out" | awk '/^Benchmark/ {
  name = $1; sub(/^Benchmark/, "", name); sub(/-[0-9]+$/, "", name)
  mbs = ""; cpu = "-"; allocs = ""
  for (i = 2; i < NF; i++) {
    if ($(i+1) == "MB/s") mbs = $i
    if ($(i+1) == "MB/cpu-s") cpu = $i
    if ($(i+1) == "allocs/op") allocs = $i
  }
  printf "%-45s %12s %16s %10s\n", name, mbs, cpu, allocs
}'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (the machine's cores are shared; figures drop under load)"
