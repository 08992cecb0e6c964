#!/usr/bin/env bash
# kcat (librdkafka 2.0) against `millrace serve`'s Kafka listener: N keyed records produced with
# each compression codec come back exactly N times, in order per partition and per key, from
# kcat, from the HTTP consume API and from `millrace topic consume` (which must decompress the
# batches kcat sent); four idempotent producers at once store every record once and in order;
# HTTP-ingested records reach kcat; a kcat consumer group's committed offsets show in the
# topic's description and are the ones `millrace topic consume --consumer` resumes from.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"

command -v kcat >/dev/null || { echo "SKIP: kcat is not installed (scripts/install-deps.sh)"; exit 0; }

project=$WORK/shop
mkdir -p "$project"
port=$(free_port)
kport=$(free_port)
codecs="none gzip snappy lz4 zstd"
{
  echo "name: shop"
  echo "listen: { kafka: 127.0.0.1:$kport }"
  echo "kafka: { initial_rebalance_delay: 0s }"
  echo "topics:"
  for z in $codecs; do echo "  orders_$z: { partitions: 3 }"; done
} > "$project/millrace.yaml"
start_server "$project" "$port" "$WORK/serve.log"
broker=127.0.0.1:$kport
n=300

for z in $codecs; do
  for i in $(seq 1 $n); do echo "customer-$((i % 17)):$z-$i"; done > "$WORK/in_$z.txt"
  timeout 60 kcat -b "$broker" -P -t "orders_$z" -K: -z "$z" -l "$WORK/in_$z.txt"
  timeout 60 kcat -b "$broker" -C -t "orders_$z" -o beginning -e -q -f '%p %o %k %s\n' > "$WORK/out_$z.txt"
  expect_eq "$(wc -l < "$WORK/out_$z.txt")" "$n" "-z $z: kcat consumed exactly $n records"
  # Offsets run 0, 1, 2... in every partition; a key stays in one partition, its records in
  # the order they were produced.
  check=$(awk -v z="$z" '
    { if ($2 != next_offset[$1] + 0) bad = bad " offset " $1 ":" $2; next_offset[$1] = $2 + 1
      if (($3 in part) && part[$3] != $1) bad = bad " key " $3 " moved"; part[$3] = $1
      split($4, v, "-"); if (v[1] != z || v[2] + 0 <= last[$3] + 0) bad = bad " order " $4; last[$3] = v[2] }
    END { print bad == "" ? "ordered" : bad }' "$WORK/out_$z.txt")
  expect_eq "$check" "ordered" "-z $z: dense offsets, per-key partition and order"
  values=$(cut -d' ' -f4 "$WORK/out_$z.txt" | sort -t- -k2,2n | tr '\n' ' ')
  expect_eq "$values" "$(cut -d: -f2 "$WORK/in_$z.txt" | tr '\n' ' ')" "-z $z: every value once"
done

# Four idempotent producers at once into one topic: every record exactly once, each producer's
# records in order within a partition.
pids=()
for p in 1 2 3 4; do
  seq 1 20000 | sed "s/^/p$p-/" > "$WORK/producer_$p.txt"
  timeout 120 kcat -b "$broker" -P -t orders_none -X enable.idempotence=true -z lz4 \
    -l "$WORK/producer_$p.txt" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
timeout 60 kcat -b "$broker" -C -t orders_none -o beginning -e -q -f '%p %s\n' | grep ' p[1-4]-' > "$WORK/concurrent.txt"
check=$(awk '{ split($2, v, "-"); k = $1 " " v[1]; if (v[2] + 0 <= last[k] + 0) bad++; last[k] = v[2]; seen[$2]++ }
  END { for (r in seen) { n++; if (seen[r] > 1) dup++ } print n, dup + 0, bad + 0 }' "$WORK/concurrent.txt")
expect_eq "$check" "80000 0 0" "4 concurrent idempotent producers: all records once, in order"

# The log keeps the batches as kcat sent them (compressed) and serves them decompressed.
total=0
for p in 0 1 2; do
  got=$(curl -s "http://127.0.0.1:$port/v1/topics/orders_lz4/records?partition=$p&offset=0&max=1000" |
    grep -o '"value":"lz4-[0-9]*"' | wc -l)
  total=$((total + got))
done
expect_eq "$total" "$n" "HTTP consume API decodes the lz4 batches"

# The other way round: records ingested over HTTP are read by a Kafka consumer.
curl -s -H 'Content-Type: application/x-ndjson' --data-binary $'{"key":"a","n":1}\n{"key":"b","n":2}' \
  "http://127.0.0.1:$port/v1/ingest/orders_none" >/dev/null
got=$(timeout 60 kcat -b "$broker" -C -t orders_none -o beginning -e -q -f '%s\n' | grep -c '"n":')
expect_eq "$got" "2" "kcat reads records ingested over HTTP"

# A consumer group: kcat -G reads all of orders_gzip and commits on close.
timeout 90 kcat -b "$broker" -G billing orders_gzip -o beginning -e -q -f '%s\n' > "$WORK/group.txt"
expect_eq "$(wc -l < "$WORK/group.txt")" "$n" "kcat -G consumed every record"
for i in 1 2 3 4 5; do echo "late-$i"; done | timeout 60 kcat -b "$broker" -P -t orders_gzip -z gzip
# Millrace's own view of the group: its committed offsets and the lag of the five later records.
described=$(curl -s "http://127.0.0.1:$port/v1/topics/orders_gzip")
committed=$(grep -oE '"consumer":"billing","partitions":\[[^]]*\]' <<<"$described" |
  grep -oE '"offset":[0-9]+' | awk -F: '{ sum += $2 } END { print sum }')
lag=$(grep -oE '"consumer":"billing","partitions":\[[^]]*\]' <<<"$described" |
  grep -oE '"lag":[0-9]+' | awk -F: '{ sum += $2 } END { print sum }')
expect_eq "$committed $lag" "$n 5" "GET /v1/topics/{t} shows the group's committed offsets and lag"
stop_server

for z in $codecs; do
  got=$("$MILLRACE" topic consume "orders_$z" -p "$project" | grep -c "^$z-" || true)
  expect_eq "$got" "$n" "millrace topic consume reads the $z batches"
done
# The group's commits are Millrace's consumer offsets: only the five later records remain.
rest=$("$MILLRACE" topic consume orders_gzip -p "$project" --consumer billing | sort | tr '\n' ' ')
expect_eq "$rest" "late-1 late-2 late-3 late-4 late-5 " "topic consume --consumer resumes at the group's commits"
finish
