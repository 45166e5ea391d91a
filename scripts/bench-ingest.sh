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
metric() { echo "$out" | awk -v u="$1" '/^BenchmarkIngest/ { for (i = 1; i < NF; i++) if ($(i+1) == u) print $i }'; }
echo "ingest: $(metric events/s) events/s (100,000 ECS events of ~550 bytes per run, 2 bulk workers x 5000 docs, LoadFiles incl. refresh + count check)"
echo "  cpu per event: node $(metric server-us/event) us, client $(metric client-us/event) us (node CPU also counts other clients of the node)"
echo "node:"
curl -fsS "$URL/_nodes/_local/jvm,os,settings?filter_path=nodes.*.version,nodes.*.jvm.version,nodes.*.jvm.mem.heap_max_in_bytes,nodes.*.os.available_processors,nodes.*.settings.discovery,nodes.*.settings.cluster.routing" |
  python3 -c 'import json,sys
d=json.load(sys.stdin)
for n in d["nodes"].values():
    print("  opensearch", n["version"], "| java", n["jvm"]["version"], "| heap", n["jvm"]["mem"]["heap_max_in_bytes"]//(1<<20), "MiB | cpus", n["os"]["available_processors"])
    print("  settings:", json.dumps(n.get("settings", {}), sort_keys=True))' 2>/dev/null || true
echo "  index: 1 shard, 0 replicas, refresh_interval 1s, translog durability request (the rangehunt template, opensearch.IndexBody)"
echo "  mapping: keywords lower-cased with doc values + .cased (norms, no doc values); catch-all rangehunt.all (copy_to of every event value; norms, no doc values)"
echo "  load average: $(cut -d' ' -f1-3 /proc/loadavg) (the machine's 2 cores are shared)"
