#!/usr/bin/env bash
# Measures `rangehunt hunt` over a large file of realistic ECS process
# events against the 248 SigmaHQ Linux rules (ecs_linux + event kind):
# generates the NDJSON file (BENCH_MB, default 200 MB), times
# `--workers 1` and `--workers 2` under /usr/bin/time and prints MB/s of
# wall time and of CPU time (the machine's cores may be shared: CPU time is
# the stable per-core figure), then runs BenchmarkHunt (evaluator only).
# Usage: scripts/bench-hunt.sh
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${RANGEHUNT_SHARED:-../shared}
mb=${BENCH_MB:-200}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go build -o "$tmp/rangehunt" ./cmd/rangehunt
# The SigmaHQ Linux rules (logsource product: linux), copied flat.
mkdir "$tmp/rules"
n=0
while IFS= read -r f; do
  n=$((n + 1))
  cp "$f" "$tmp/rules/$n-$(basename "$f")"
done < <(grep -rlE '^\s+product:\s*linux\s*$' "$shared"/sigma/rules* | sort)
echo "rules: $n SigmaHQ Linux rule files"

go test ./internal/hunt -run '^TestWriteBenchEvents$' -count=1 -args -bench-out="$tmp/events.ndjson" -bench-mb="$mb" >/dev/null
size=$(stat -c %s "$tmp/events.ndjson")
echo "events: $(wc -l <"$tmp/events.ndjson") lines, $((size / 1000000)) MB"

for w in 1 2; do
  /usr/bin/time -f '%e %U %S %M' -o "$tmp/t.txt" \
    "$tmp/rangehunt" hunt --quiet --workers "$w" --rules "$tmp/rules" --logs "$tmp/events.ndjson" \
    >"$tmp/out-$w.jsonl" 2>"$tmp/err-$w.txt"
  read -r wall user sys rss <"$tmp/t.txt"
  awk -v s="$size" -v w="$wall" -v u="$user" -v y="$sys" -v r="$rss" -v n="$w" 'BEGIN {
    printf "hunt --workers %d: %.1f MB/s wall (%.2fs), %.1f MB/s per CPU-second (%.2fs CPU), max RSS %d MB\n",
      n, s/1e6/w, w, s/1e6/(u+y), u+y, r/1024 }'
  grep -E '^(rules|events):' "$tmp/err-$w.txt" | sed 's/^/  /'
done
if cmp -s "$tmp/out-1.jsonl" "$tmp/out-2.jsonl"; then
  echo "outputs of --workers 1 and 2 are identical ($(wc -l <"$tmp/out-1.jsonl") matches)"
else
  echo "ERROR: outputs of --workers 1 and 2 differ" >&2
  exit 1
fi
go test ./internal/hunt -run '^$' -bench '^BenchmarkHunt$' -benchtime 20x -count=1 | grep -E '^Benchmark'
