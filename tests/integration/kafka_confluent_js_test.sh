#!/usr/bin/env bash
# @confluentinc/kafka-javascript (npm, a newer librdkafka bundled in a Node.js binding) against
# `millrace serve`'s Kafka listener: one process produces N keyed records with each compression
# codec (none, gzip, snappy, lz4, zstd), another reads them in a consumer group: exactly N of
# each, none twice, per-partition offsets and per-key order kept; the compressed batches are
# stored compressed; the group's commits are Millrace's consumer offsets.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"

cd "$ROOT"  # node resolves the package from the repository's node_modules
if ! node -e 'require("@confluentinc/kafka-javascript")' 2>/dev/null; then
  # Built from source by scripts/install-deps.sh (CKJS_LINKING=dynamic: Debian's libssl, zstd,
  # lz4, zlib); without it there is nothing to test here.
  echo "SKIP: @confluentinc/kafka-javascript is not installed (scripts/install-deps.sh)"; exit 0
fi
project=$WORK/shop
mkdir -p "$project"
port=$(free_port)
kport=$(free_port)
cat > "$project/millrace.yaml" <<YAML
name: shop
listen: { kafka: 127.0.0.1:$kport }
kafka: { initial_rebalance_delay: 0s }
topics:
  cjs_none: { partitions: 3 }
  cjs_gzip: { partitions: 3 }
  cjs_snappy: { partitions: 3 }
  cjs_lz4: { partitions: 3 }
  cjs_zstd: { partitions: 3 }
YAML
start_server "$project" "$port" "$WORK/serve.log"

n=200
out=$(BROKER=127.0.0.1:$kport N=$n timeout 180 node tests/integration/lib/confluent_js_client.mjs produce 2>&1) || true
expect_contains "$out" "\"produced\":$((n * 5))" "the producer sends $n records with each codec"
out=$(BROKER=127.0.0.1:$kport N=$n timeout 240 node tests/integration/lib/confluent_js_client.mjs consume 2>&1) || true
expect_contains "$out" "\"consumed\":$((n * 5)),\"distinct\":$((n * 5)),\"duplicates\":0,\"complete\":true" \
  "another process's group reads exactly $n of each codec, none twice"
expect_contains "$out" '"offsetsInOrder":true,"keysInOrder":true,"wrongCodec":0,"partitions":15' \
  "per-partition offsets and per-key order are kept on all 15 partitions"
expect_contains "$out" "\"byCodec\":{\"none\":$n,\"gzip\":$n,\"snappy\":$n,\"lz4\":$n,\"zstd\":$n}" \
  "every codec's records come back"

stop_server
# The batches were stored as the client compressed them: each codec's topic is far smaller on
# disk than the uncompressed one (librdkafka silently sends uncompressed when it believes the
# broker cannot take a codec).
none_bytes=$(du -sb "$project/data/log/cjs_none" | cut -f1)
for codec in gzip snappy lz4 zstd; do
  bytes=$(du -sb "$project/data/log/cjs_$codec" | cut -f1)
  if [ "$((bytes * 2))" -lt "$none_bytes" ]; then pass "$codec batches are stored compressed ($bytes < $none_bytes bytes)"
  else fail "$codec batches are not stored compressed: $bytes vs $none_bytes bytes uncompressed"; fi
done
for codec in none gzip snappy lz4 zstd; do
  expect_eq "$("$MILLRACE" topic consume "cjs_$codec" -p "$project" | wc -l)" "$n" "millrace reads the $codec batches"
  expect_eq "$("$MILLRACE" topic consume "cjs_$codec" -p "$project" --consumer cjs-audit | wc -l)" "0" \
    "the group's commits on cjs_$codec are Millrace's consumer offsets"
done
finish
