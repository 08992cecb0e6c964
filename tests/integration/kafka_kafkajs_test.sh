#!/usr/bin/env bash
# kafkajs 2.2 (npm, a pure-JavaScript client without flexible versions) against
# `millrace serve`'s Kafka listener: admin CreateTopics and metadata, a gzip producer, a
# consumer group (JoinGroup v5 with MEMBER_ID_REQUIRED) reading every record in per-key order,
# committed offsets fetched back through the admin API and seen by `millrace topic consume`.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"

if [ ! -d "$ROOT/node_modules/kafkajs" ]; then
  echo "SKIP: kafkajs is not installed (npm install in the repository)"; exit 0
fi
project=$WORK/shop
mkdir -p "$project"
port=$(free_port)
kport=$(free_port)
cat > "$project/millrace.yaml" <<YAML
name: shop
listen: { kafka: 127.0.0.1:$kport }
kafka: { initial_rebalance_delay: 0s }
YAML
start_server "$project" "$port" "$WORK/serve.log"

out=$(BROKER=127.0.0.1:$kport timeout 120 node "$ROOT/tests/integration/lib/kafkajs_client.mjs" 2>&1)
expect_contains "$out" '"created":true,"partitions":3' "kafkajs admin creates a topic with 3 partitions"
expect_contains "$out" '"consumed":150,"inOrder":true' "kafkajs group reads every record in per-key order"
expect_contains "$out" '"committed":150' "kafkajs commits are fetched back"
stop_server
left=$("$MILLRACE" topic consume signups -p "$project" --consumer onboarding | wc -l)
expect_eq "$left" "0" "the kafkajs group's commits are Millrace's consumer offsets"
expect_eq "$("$MILLRACE" topic consume signups -p "$project" | wc -l)" "150" "millrace reads the gzip batches"
finish
