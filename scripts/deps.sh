#!/usr/bin/env bash
# Installs the Debian packages the tests need: tshark (an oracle for the
# pcap code), Maven and Java 17 (a real OpenSearch). Once.
# Safe to run repeatedly; does nothing when everything is present.
set -euo pipefail
need=()
command -v tshark >/dev/null 2>&1 || need+=(tshark)
command -v unzip >/dev/null 2>&1 || need+=(unzip)
command -v curl >/dev/null 2>&1 || need+=(curl)
# OpenSearch for the integration tests comes from Maven Central (mvn) and
# runs on Java 17.
command -v mvn >/dev/null 2>&1 || need+=(maven)
if ! ls /usr/lib/jvm/java-17-openjdk-*/bin/java >/dev/null 2>&1; then need+=(openjdk-17-jre-headless); fi
if [ ${#need[@]} -gt 0 ]; then
  echo "deps: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture; answer no.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
