#!/usr/bin/env bash
# Installs every Debian package Millrace and its tests use, and the npm test tools from the
# committed package-lock.json. Idempotent and non-interactive: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  # toolchain
  build-essential g++ cmake ninja-build ccache pkg-config git
  clang libclang-rt-14-dev llvm
  # libraries
  libsimdjson-dev libyaml-cpp-dev libcli11-dev libfmt-dev
  libpg-query-dev libboost-dev libzstd-dev libsnappy-dev zlib1g-dev libsqlite3-dev
  librocksdb-dev
  libssl-dev  # SHA-256 and HMAC of the lake's S3 requests (AWS SigV4, src/storage/sigv4.cpp)
  liblz4-dev  # lz4-compressed Kafka record batches (src/log/batch_compression.cpp)
  libssl-dev  # @confluentinc/kafka-javascript's librdkafka is built here against it (below)
  librdkafka-dev  # kafka: sources and sinks on an external cluster (src/connectors/kafka_*.cpp)
  libre2-dev uap-core  # ua_browser()/ua_os()/ua_device(): uap-core's regexes run by RE2 (src/exec/user_agent_parser.cpp)
  libmaxminddb-dev  # ip_country()/ip_city() read MaxMind .mmdb files (src/exec/geoip_database.cpp)
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  wrk nats-server redis-server nginx-light
  nodejs
  libmaxmind-db-writer-perl  # tests write a tiny GeoIP database (examples/log-collection/make_geo_db.pl)
  # Kafka clients for tests/integration/kafka_*_test.sh
  kcat python3-kafka python3-confluent-kafka librdkafka-dev
  chromium chromium-driver  # the dashboard's browser test (tests/integration/dashboard_browser_test.sh)
  python3-requests  # confluent_kafka.schema_registry (tests/integration/schema_registry_test.sh)
  # the OpenLineage test validates events with jsonschema (tests/integration/lineage_test.sh)
  python3-jsonschema
  # promtool checks /metrics and a real Prometheus scrapes it (tests/integration/metrics_test.sh)
  prometheus
  # the commands of the README and docs (tests/integration/docs_commands_test.sh)
  curl make tar coreutils procps
)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# Debian's nodejs ships without npm; other builds of nodejs (nodesource) bundle it and conflict.
if ! command -v npm >/dev/null 2>&1 && ! printf '%s\n' "${missing[@]+"${missing[@]}"}" | grep -qx npm; then
  missing+=(npm)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm test tools (DuckDB as the oracle engine, ...), pinned by package-lock.json.
if [ -f package-lock.json ]; then
  stamp=node_modules/.millrace-lock-stamp
  if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
    # `npm ci` would refuse this lock: it lists only the platform bindings the registry serves
    # here (linux-x64), not every optional one. `npm install --no-save` installs the locked
    # versions with their integrity hashes and leaves the lock untouched.
    echo "install-deps: npm install (from package-lock.json)"
    # CKJS_LINKING=dynamic: @confluentinc/kafka-javascript builds its bundled librdkafka
    # against the system's OpenSSL, zlib, zstd and lz4; its default (a prebuilt binary, else
    # a static build) downloads from outside the npm registry, which fails offline.
    CKJS_LINKING=dynamic npm install --no-save --no-audit --no-fund --loglevel=error
    cp package-lock.json "$stamp"
  fi
fi
echo "install-deps: ok"
