#!/usr/bin/env bash
# The project's test command: installs what the tests need (tshark, a real
# OpenSearch from Maven Central), starts it, runs every Go test, stops it.
# Usage: scripts/test.sh [go test flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
if [ -x scripts/opensearch.sh ] && [ "${RANGEHUNT_NO_OPENSEARCH:-}" != 1 ]; then
  scripts/opensearch.sh start
  export OPENSEARCH_URL=${OPENSEARCH_URL:-http://127.0.0.1:9200}
  trap 'scripts/opensearch.sh stop || true' EXIT
fi
go vet ./...
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt needed: $unformatted" >&2; exit 1; fi
go test -count=1 -timeout 60m "$@" ./...
