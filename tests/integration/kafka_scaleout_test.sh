#!/usr/bin/env bash
# Scale-out on an external Kafka cluster: two `millrace serve` instances (two projects, two data
# directories) run the same streaming pipeline whose `kafka:` source is in one consumer group
# on a third Millrace's Kafka listener (the "cluster"). The group splits the topic's partitions
# between them; each writes what it processed, tagged with its name, to a topic of the cluster
# through a `kafka:` sink. Every record is processed exactly once across the two, none twice;
# after one leaves (SIGTERM) the other takes its partitions over from the committed offsets.
# kcat (librdkafka, a tool no one here wrote) produces the input and reads the output.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"

command -v kcat >/dev/null || { echo "SKIP: kcat is not installed (scripts/install-deps.sh)"; exit 0; }

start_kafka_cluster "$WORK/cluster.log" events:4 processed:1

# worker <name>: a project whose streaming pipeline reads `events` in group `workers`.
worker_pids=()
declare -A worker_pid
start_worker() {
  local name=$1 dir=$WORK/$1 wport
  mkdir -p "$dir/pipelines"
  wport=$(free_port)
  printf 'name: %s\ndata_dir: ./data\ninclude: [pipelines/*.yaml]\n' "$name" >"$dir/millrace.yaml"
  cat >"$dir/pipelines/work.yaml" <<YAML
name: work
mode: streaming
checkpoint_interval: 1s
sources:
  events:
    kafka: { brokers: $broker, topic: events, group: workers, start_from: earliest }
    schema: { id: int64 not null, ts: timestamp not null }
    event_time: ts
    watermark_delay: 1h
views:
  done: SELECT id, '$name' AS worker FROM events
sinks:
  - { from: done, kafka: { brokers: $broker, topic: processed, key: worker } }
YAML
  "$MILLRACE" serve "$dir" --listen "127.0.0.1:$wport" >>"$WORK/$name.log" 2>&1 &
  worker_pid[$name]=$!
  worker_pids+=($!)
}
stop_worker() { kill -TERM "${worker_pid[$1]}" 2>/dev/null || true; wait "${worker_pid[$1]}" 2>/dev/null || true; }
trap 'for p in "${worker_pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; kill9_server; rm -rf "$WORK"' EXIT
# assigned <name>: the partitions the group last assigned to that worker ("0, 1").
assigned() { { grep -o 'assigned partitions \[[0-9, ]*\]' "$WORK/$1.log" || true; } | tail -1 | tr -d '[]a-z '; }
# processed: the cluster's `processed` topic as "worker id" lines.
processed() {
  timeout 60 kcat -b "$broker" -C -t processed -o beginning -e -q -f '%k %s\n' |
    sed -E 's/^([a-z]+) .*"id":([0-9]+).*/\1 \2/'
}
events() {  # <first> <count>: JSON events, keyed by id, for kcat -K'|'
  for i in $(seq "$1" $(($1 + $2 - 1))); do
    printf '%d|{"id":%d,"ts":"2026-01-01T00:00:%02dZ"}\n' "$i" "$i" $((i % 60))
  done
}

start_worker alpha
start_worker beta
# Both joined: the group gave each two of the four partitions.
for _ in $(seq 1 600); do
  a=$(assigned alpha); b=$(assigned beta)
  if [ -n "$a" ] && [ -n "$b" ] && [ "$(echo "$a,$b" | tr ',' '\n' | sort -n | tr '\n' ' ')" = "0 1 2 3 " ]; then break; fi
  sleep 0.1
done
expect_eq "$(echo "$a,$b" | tr ',' '\n' | sort -n | tr '\n' ' ')" "0 1 2 3 " \
  "the group splits the 4 partitions between the two instances (alpha [$a], beta [$b])"

n=400
events 1 $n | timeout 60 kcat -b "$broker" -P -t events -K'|'
for _ in $(seq 1 600); do
  [ "$(processed | wc -l)" -ge "$n" ] && break
  sleep 0.2
done
out=$(processed)
expect_eq "$(wc -l <<<"$out")" "$n" "the two instances processed $n records between them"
expect_eq "$(cut -d' ' -f2 <<<"$out" | sort -u | wc -l)" "$n" "each record once, none twice"
expect_eq "$(cut -d' ' -f1 <<<"$out" | sort -u | tr '\n' ' ')" "alpha beta " "both instances did some of the work"

# alpha leaves; beta takes its partitions over and processes what comes next, once.
stop_worker alpha
for _ in $(seq 1 600); do
  [ "$(assigned beta)" = "0,1,2,3" ] && break
  sleep 0.1
done
expect_eq "$(assigned beta)" "0,1,2,3" "after alpha left, beta was assigned every partition"
events $((n + 1)) $n | timeout 60 kcat -b "$broker" -P -t events -K'|'
for _ in $(seq 1 600); do
  [ "$(processed | wc -l)" -ge $((2 * n)) ] && break
  sleep 0.2
done
sleep 3  # beta's next checkpoints: records read twice would show by now
out=$(processed)
expect_eq "$(wc -l <<<"$out")" "$((2 * n))" "every record processed after the hand-over too"
expect_eq "$(cut -d' ' -f2 <<<"$out" | sort -u | wc -l)" "$((2 * n))" "still each record once"
expect_eq "$(awk -v n=$n '$2 > n { print $1 }' <<<"$out" | sort -u | tr '\n' ' ')" "beta " \
  "beta processed everything produced after alpha left"
stop_worker beta
stop_server
finish
