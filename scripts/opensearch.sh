#!/usr/bin/env bash
# Runs a real single-node OpenSearch for the integration tests.
#
#   scripts/opensearch.sh start    fetch (once), unpack (once), start, wait for health
#   scripts/opensearch.sh stop     stop the node started by this script
#   scripts/opensearch.sh status   print whether it is up (exit 1 when not)
#
# Route: the integ-test distribution zip from Maven Central
# (org.opensearch.distribution.integ-test-zip:opensearch:<v>:zip, fetched with
# `mvn dependency:get`), run on the system Java 17 as a non-root user
# (OpenSearch refuses to run as root), bound to 127.0.0.1 only.
#
# Environment (all optional):
#   OPENSEARCH_VERSION    2.19.x to run (default 2.19.6, the newest 2.19 on Maven Central that runs on Java 17)
#   OPENSEARCH_BASE       cache and state directory (default /var/tmp/rangehunt-opensearch)
#   OPENSEARCH_PORT       HTTP port (default 9200; transport is PORT+100)
#   OPENSEARCH_HEAP       JVM heap (default 1g)
#   OPENSEARCH_JAVA_HOME  Java 17 home (default: the Debian openjdk-17)
#   OPENSEARCH_KEEP_DATA  1 keeps the data directory between starts (default: wiped on start)
#   OPENSEARCH_WAIT       seconds to wait for health (default 180)
set -euo pipefail

VER=${OPENSEARCH_VERSION:-2.19.6}
BASE=${OPENSEARCH_BASE:-/var/tmp/rangehunt-opensearch}
PORT=${OPENSEARCH_PORT:-9200}
HEAP=${OPENSEARCH_HEAP:-1g}
WAIT=${OPENSEARCH_WAIT:-180}
RUN_USER=${OPENSEARCH_USER:-rangehunt-os}
URL="http://127.0.0.1:${PORT}"
HOME_DIR="$BASE/opensearch-$VER"
DATA="$BASE/data-$PORT"
LOGS="$BASE/logs-$PORT"
PIDFILE="$BASE/opensearch-$PORT.pid"

log() { echo "opensearch.sh: $*" >&2; }

find_java() {
  if [ -n "${OPENSEARCH_JAVA_HOME:-}" ]; then echo "$OPENSEARCH_JAVA_HOME"; return; fi
  for d in /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/java-17-openjdk-arm64 /usr/lib/jvm/java-17-openjdk; do
    if [ -x "$d/bin/java" ]; then echo "$d"; return; fi
  done
  if command -v java >/dev/null 2>&1; then
    dirname "$(dirname "$(readlink -f "$(command -v java)")")"
    return
  fi
  log "no Java 17 found (install openjdk-17-jre-headless or set OPENSEARCH_JAVA_HOME)"
  exit 1
}

healthy() {
  curl -fsS --max-time 2 "$URL/_cluster/health?wait_for_status=yellow&timeout=1s" >/dev/null 2>&1
}

running_pid() {
  [ -f "$PIDFILE" ] || return 1
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

fetch() {
  local zip="$HOME/.m2/repository/org/opensearch/distribution/integ-test-zip/opensearch/$VER/opensearch-$VER.zip"
  if [ ! -f "$zip" ]; then
    command -v mvn >/dev/null 2>&1 || { log "mvn not found (apt-get install maven)"; exit 1; }
    log "fetching org.opensearch.distribution.integ-test-zip:opensearch:$VER:zip from Maven Central"
    mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.6.1:get \
      -Dartifact="org.opensearch.distribution.integ-test-zip:opensearch:$VER:zip" -Dtransitive=false >&2
  fi
  if [ ! -x "$HOME_DIR/bin/opensearch" ]; then
    command -v unzip >/dev/null 2>&1 || { log "unzip not found"; exit 1; }
    log "unpacking into $HOME_DIR"
    rm -rf "$HOME_DIR.tmp" && mkdir -p "$HOME_DIR.tmp"
    unzip -q "$zip" -d "$HOME_DIR.tmp"
    mv "$HOME_DIR.tmp/opensearch-$VER" "$HOME_DIR"
    rm -rf "$HOME_DIR.tmp"
  fi
}

configure() {
  # The node's settings; rewritten on every start so edits here take effect.
  cat >"$HOME_DIR/config/opensearch.yml" <<EOF
cluster.name: rangehunt-test
node.name: rangehunt-0
discovery.type: single-node
network.host: 127.0.0.1
http.port: $PORT
transport.port: $((PORT + 100))
path.data: $DATA
path.logs: $LOGS
cluster.routing.allocation.disk.threshold_enabled: false
action.destructive_requires_name: false
# Sigma rules with hundreds of values make long query strings with many
# clauses (SigmaHQ's Shai-Hulud package list: 39 kB, ~800 clauses).
search.query.max_query_string_length: 1000000
indices.query.bool.max_clause_count: 16384
EOF
}

start() {
  if healthy; then
    log "already running at $URL"
    return 0
  fi
  if pid=$(running_pid); then
    log "node (pid $pid) is starting; waiting for health"
  else
    local javahome started
    javahome=$(find_java)
    mkdir -p "$BASE"
    chmod 755 "$BASE"
    fetch
    configure
    if [ "${OPENSEARCH_KEEP_DATA:-0}" != 1 ]; then rm -rf "$DATA"; fi
    mkdir -p "$DATA" "$LOGS"
    local -a run=()
    if [ "$(id -u)" = 0 ]; then
      id "$RUN_USER" >/dev/null 2>&1 || useradd -r -M -d "$BASE" -s /usr/sbin/nologin "$RUN_USER"
      chown -R "$RUN_USER" "$BASE"
      run=(runuser -u "$RUN_USER" --)
    fi
    log "starting OpenSearch $VER on $URL (heap $HEAP, java $javahome)"
    started=$(date +%s%N)
    rm -f "$PIDFILE"
    "${run[@]}" env JAVA_HOME="$javahome" OPENSEARCH_JAVA_HOME="$javahome" \
      OPENSEARCH_JAVA_OPTS="-Xms$HEAP -Xmx$HEAP" OPENSEARCH_PATH_CONF="$HOME_DIR/config" \
      "$HOME_DIR/bin/opensearch" -d -p "$PIDFILE" >"$BASE/console-$PORT.log" 2>&1 || {
      log "start failed; console output:"; cat "$BASE/console-$PORT.log" >&2
      tail -n 50 "$LOGS"/*.log >&2 2>/dev/null || true
      exit 1
    }
  fi
  local i
  for ((i = 0; i < WAIT; i++)); do
    if healthy; then
      if [ -n "${started:-}" ]; then
        local ms=$((($(date +%s%N) - started) / 1000000))
        log "up after $((ms / 1000)).$(printf '%03d' $((ms % 1000)))s"
      else
        log "up"
      fi
      return 0
    fi
    # The pid file appears some seconds after the launcher returns; the
    # node has died when the file is there but its process is not, or
    # when no file appeared within a minute.
    if { [ -f "$PIDFILE" ] || [ "$i" -gt 60 ]; } && ! running_pid >/dev/null; then
      log "node exited during start-up; last log lines:"
      tail -n 60 "$LOGS"/rangehunt-test.log >&2 2>/dev/null || true
      exit 1
    fi
    sleep 1
  done
  log "not healthy after ${WAIT}s; last log lines:"
  tail -n 60 "$LOGS"/rangehunt-test.log >&2 2>/dev/null || true
  exit 1
}

stop() {
  local pid i
  if ! pid=$(running_pid); then
    log "not running"
    rm -f "$PIDFILE"
    return 0
  fi
  kill "$pid"
  for ((i = 0; i < 60; i++)); do
    kill -0 "$pid" 2>/dev/null || { log "stopped (pid $pid)"; rm -f "$PIDFILE"; return 0; }
    sleep 1
  done
  log "pid $pid did not stop in 60s; killing"
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$PIDFILE"
}

status() {
  if healthy; then
    curl -fsS --max-time 2 "$URL/_cluster/health?pretty"
    return 0
  fi
  if pid=$(running_pid); then
    log "pid $pid is running but $URL is not healthy yet"
  else
    log "not running"
  fi
  return 1
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
*)
  echo "usage: $0 start|stop|status" >&2
  exit 2
  ;;
esac
