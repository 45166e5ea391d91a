#!/usr/bin/env bash
# Measures bulk ingest into the local single-node OpenSearch and prints
# events/s and the node's settings. Starts the node with
# scripts/opensearch.sh when none answers at $OPENSEARCH_URL.
# Usage: scripts/bench-ingest.sh [iterations]   (default 3: the first warms the JVM;
# the figure is the last iteration's rate)
set -euo pipefail
cd "$(dirname "$0")/.."
URL=${OPENSEARCH_URL:-http://127.0.0.1:9200}
export OPENSEARCH_URL=$URL
if ! curl -fsS --max-time 2 "$URL" >/dev/null 2>&1; then
  scripts/opensearch.sh start
fi
n=${1:-3}
out=$(go test -count=1 -run '^$' -bench '^BenchmarkIngest$' -benchtime "${n}x" ./internal/opensearch/)
echo "$out" | grep -E '^(Benchmark|cpu:)' || { echo "$out" >&2; exit 1; }
rate=$(echo "$out" | awk '/^BenchmarkIngest/ { for (i = 1; i < NF; i++) if ($(i+1) == "events/s") print $i }')
echo "ingest: ${rate} events/s (100,000 ECS events per run, 2 bulk workers x 5000 docs, LoadFiles incl. refresh + count check)"
echo "node:"
curl -fsS "$URL/_nodes/_local/jvm,os,settings?filter_path=nodes.*.version,nodes.*.jvm.version,nodes.*.jvm.mem.heap_max_in_bytes,nodes.*.os.available_processors,nodes.*.settings.discovery,nodes.*.settings.cluster.routing" |
  python3 -c 'import json,sys
d=json.load(sys.stdin)
for n in d["nodes"].values():
    print("  opensearch", n["version"], "| java", n["jvm"]["version"], "| heap", n["jvm"]["mem"]["heap_max_in_bytes"]//(1<<20), "MiB | cpus", n["os"]["available_processors"])
    print("  settings:", json.dumps(n.get("settings", {}), sort_keys=True))' 2>/dev/null || true
echo "  index: 1 shard, 0 replicas, refresh_interval 1s, translog durability request, lower-cased keywords with .cased, catch-all rangehunt.all (the rangehunt template)"
echo "  load average: $(cut -d' ' -f1-3 /proc/loadavg) (the machine's 2 cores are shared)"
