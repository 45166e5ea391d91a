#!/usr/bin/env bash
# The main job on the bundled example scenario, end to end on files:
#   1. simulate the florama attack with benign background (seeded)
#   2. generate Sigma rules from the attack metadata and lint them
#   3. hunt the generated rules over the ECS logs
#   4. convert them to Lucene for OpenSearch
#   5. extract network flows with CICFlowMeter features
#   6. when OPENSEARCH_URL is set: ingest the logs, hunt there, tag the hits
# Usage: scripts/demo.sh [OUT_DIR]   (default: out/demo)
# For step 6 with the project's own local node:
#   scripts/opensearch.sh start && OPENSEARCH_URL=http://127.0.0.1:9200 scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out/demo}
mkdir -p bin "$out"
echo "== build" >&2
go build -o bin/rangehunt ./cmd/rangehunt
rh=bin/rangehunt
rm -rf "$out"/*
echo "== simulate florama (seed 1, 1h)" >&2
$rh simulate --scenario florama --seed 1 --duration 1h --out "$out/run"
echo "== generate Sigma rules from $out/run/scenario.yaml" >&2
$rh rules generate --scenario "$out/run/scenario.yaml" --out "$out/rules"
$rh sigma lint "$out/rules"
echo "== hunt generated rules over the logs" >&2
$rh hunt --rules "$out/rules" --logs "$out"/run/logs/*.ndjson > "$out/matches.ndjson"
echo "   $(wc -l < "$out/matches.ndjson") matching events -> $out/matches.ndjson" >&2
echo "== rule quality (inside vs outside each procedure's window)" >&2
$rh rules check --scenario "$out/run/scenario.yaml" --rules "$out/rules" --logs "$out"/run/logs/*.ndjson | tee "$out/rules-check.txt"
echo "== convert to Lucene for OpenSearch" >&2
$rh sigma convert --pipeline none --json "$out/rules" > "$out/lucene.jsonl"
echo "   $(wc -l < "$out/lucene.jsonl") rules converted -> $out/lucene.jsonl" >&2
echo "== extract flows" >&2
$rh flows extract --format csv -o "$out/flows.csv" "$out"/run/pcaps/*.pcap
echo "   $(($(wc -l < "$out/flows.csv") - 1)) flows -> $out/flows.csv" >&2
if [ -n "${OPENSEARCH_URL:-}" ]; then
  echo "== OpenSearch at $OPENSEARCH_URL: ingest, hunt, tag" >&2
  $rh opensearch ingest --index rangehunt-demo "$out"/run/logs/*.ndjson
  $rh hunt --backend opensearch --index rangehunt-demo --pipeline none --rules "$out/rules" --tag > "$out/matches-opensearch.ndjson"
  echo "   $(wc -l < "$out/matches-opensearch.ndjson") matching events -> $out/matches-opensearch.ndjson" >&2
fi
echo "done: results in $out" >&2
