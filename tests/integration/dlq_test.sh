#!/usr/bin/env bash
# The dead-letter queue end to end. A batch pipeline over a file with bad rows and a streaming
# pipeline over a topic with undecodable, failing and late records both put an envelope per
# rejected record in their dead-letter topic (dlq.<pipeline>), and their run reports add up:
# records in = out + filtered + dead-lettered + late. `dlq count` and `dlq inspect` show the
# reasons; `dlq replay --from` sends corrected records back to the source topic, a re-run of the
# streaming pipeline picks them up, and a second replay sends nothing again. A failed batch run
# publishes no dead letters; a run beside `millrace serve` publishes them through the server.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"

project=$WORK/dq
mkdir -p "$project/pipelines" "$project/in"
printf 'name: dq\ndata_dir: ./data\ninclude: [pipelines/*.yaml]\n' >"$project/millrace.yaml"
cat >"$project/pipelines/daily.yaml" <<'YAML'
name: daily
mode: batch
sources:
  sales:
    file: { path: in/sales.csv, format: csv }
    schema: { id: int64 not null, amount: double, status: string }
checks:
  sales:
    - expect: "amount >= 0"
    - accepted_values: { column: status, values: [paid, refunded] }
      on_fail: drop
views:
  paid: SELECT id, amount FROM sales WHERE status = 'paid'
sinks:
  - { from: paid, file: { path: out/paid.csv, format: csv } }
YAML
printf 'id,amount,status\n1,10,paid\n2,abc,paid\n3,-4,paid\n4,7,lost\n5,8,refunded\n6,9,paid\nx,1,paid\n' \
  >"$project/in/sales.csv"

# --- batch: 7 records = 3 out + 1 filtered + 3 dead-lettered (2 decode, 1 check) + 0 late
out=$("$MILLRACE" run "$project" daily) && rc=0 || rc=$?
expect_eq "$rc" "0" "the batch pipeline with bad rows runs"
expect_contains "$out" "records 7 in = 3 out + 1 filtered + 3 dead-lettered + 0 late" \
  "the batch run report accounts for every record"
expect_contains "$out" "-> dlq.daily" "the run report names the dead-letter topic"
count=$("$MILLRACE" dlq count "$project" daily)
expect_contains "$count" "3 dead letters in topic \`dlq.daily\`" "dlq count sees the 3 dead letters"
expect_contains "$count" "check expect(amount >= 0) failed" "dlq count groups by reason"
json=$("$MILLRACE" dlq count "$project" daily --json)
expect_eq "$(/usr/bin/python3 -c 'import json,sys; c=json.load(sys.stdin); print(c["total"], c["by_stage"]["decode"], c["by_stage"]["check"], c["by_source"]["sales"])' <<<"$json")" \
  "3 2 1 3" "dlq count --json has the same counts"
decode=$(grep -E '^ +2 +decode$' <<<"$count" | wc -l)
expect_eq "$decode" "1" "dlq count groups by stage (2 decode errors)"
inspect=$("$MILLRACE" dlq inspect "$project" daily --stage decode --json)
expect_eq "$(wc -l <<<"$inspect")" "2" "inspect --stage decode --json prints the 2 decode errors"
fields=$(/usr/bin/python3 -c '
import json, sys
for line in sys.stdin:
    e = json.loads(line)
    print(",".join(k for k in ("dlq_partition", "dlq_offset", "pipeline", "source", "file", "line",
                               "stage", "reason", "raw", "time") if k in e))
' <<<"$inspect" | sort -u)
expect_eq "$fields" "dlq_partition,dlq_offset,pipeline,source,file,line,stage,reason,raw,time" \
  "an envelope has its place, pipeline, source, file:line, stage, reason, raw bytes and time"
text=$("$MILLRACE" dlq inspect "$project" daily --reason amount --limit 1)
expect_contains "$text" "raw: 2,abc,paid" "inspect prints the original bytes"

# A failed run (a dataset rule at severity error) publishes no dead letters.
cat >>"$project/pipelines/daily.yaml" <<'YAML'
  - { from: sales, file: { path: out/all.csv, format: csv } }
YAML
sed -i 's/      on_fail: drop/      on_fail: drop\n    - row_count: { max: 2 }/' "$project/pipelines/daily.yaml"
failed=$("$MILLRACE" run "$project" daily 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "a run failing a dataset rule fails"
expect_contains "$failed" "rule row_count on \`sales\` failed" "it fails on the row_count rule"
count=$("$MILLRACE" dlq count "$project" daily)
expect_contains "$count" "3 dead letters in topic" "the failed run added no dead letters"

# --- streaming over a topic: undecodable, failing and late records
cat >"$project/pipelines/live.yaml" <<'YAML'
name: live
mode: streaming
checkpoint_interval: 1s
sources:
  events:
    topic: events
    schema: { id: string not null, amount: double not null, ts: timestamp not null }
    event_time: ts
    watermark_delay: 1s
    # The re-run restores the watermark from its checkpoint: the replayed records (minutes
    # behind it) must fall within the allowed lateness; e4, an hour behind, stays late.
    allowed_lateness: 30m
    idle_timeout: 1s
checks:
  events:
    - expect: "amount >= 0"
sinks:
  - { from: events, topic: clean }
YAML
cat >"$WORK/events.ndjson" <<'EOF2'
{"id":"e1","amount":1,"ts":"2026-01-01T10:00:00Z"}
{"id":"e2","amount":"two","ts":"2026-01-01T10:00:01Z"}
{"id":"e3","amount":3,"ts":"2026-01-01T10:05:00Z"}
{"id":"e4","amount":4,"ts":"2026-01-01T09:00:00Z"}
{"id":"e5","amount":-5,"ts":"2026-01-01T10:05:01Z"}
{"id":"e6","amount":"six","ts":"2026-01-01T10:05:02Z"}
{"id":"e7","amount":7,"ts":"2026-01-01T10:06:00Z"}
EOF2
"$MILLRACE" topic create events -p "$project" >/dev/null
"$MILLRACE" topic produce events -p "$project" -i "$WORK/events.ndjson" >/dev/null 2>&1
out=$("$MILLRACE" run "$project" live --until-idle --idle 1s) && rc=0 || rc=$?
expect_eq "$rc" "0" "the streaming pipeline runs until idle"
expect_contains "$out" "records 7 in = 3 out + 0 filtered + 3 dead-lettered + 1 late" \
  "the streaming run report accounts for every record, late ones included"
count=$("$MILLRACE" dlq count "$project" live)
expect_contains "$count" "4 dead letters in topic \`dlq.live\`" "dlq count: 2 decode + 1 check + 1 late"
late=$(grep -cE '^ +1 +late$' <<<"$count" || true)
expect_eq "$late" "2" "one late record, counted by reason and by stage"
"$MILLRACE" dlq inspect "$project" live --json --stage decode >"$WORK/edited.ndjson"
expect_eq "$(wc -l <"$WORK/edited.ndjson")" "2" "inspect selects the decode errors"
expect_contains "$(head -1 "$WORK/edited.ndjson")" '"topic":"events","partition":0,"offset":1' \
  "a decode error names its topic, partition and offset"
expect_contains "$("$MILLRACE" dlq inspect "$project" live --json --stage late)" \
  '"source":"events","topic":"events","partition":0,"stage":"late","reason":"late","row":{"id":"e4"' \
  "a late record names its topic and partition and keeps its row"
sed -i -e 's/\\"two\\"/2/' -e 's/\\"six\\"/6/' "$WORK/edited.ndjson"
replay=$("$MILLRACE" dlq replay "$project" live --from "$WORK/edited.ndjson")
expect_contains "$replay" "replayed 2 records to topic \`events\`" "replay sends the corrected records"
replay=$("$MILLRACE" dlq replay "$project" live --from "$WORK/edited.ndjson")
expect_contains "$replay" "skipped 2 already replayed" "a second replay does not send them again"
replay=$("$MILLRACE" dlq replay "$project" live --stage decode)
expect_contains "$replay" "skipped 2 already replayed" "nor does a replay of the originals"
out=$("$MILLRACE" run "$project" live --until-idle --idle 1s) && rc=0 || rc=$?
expect_eq "$rc" "0" "the re-run succeeds"
expect_contains "$out" "records 2 in = 2 out + 0 filtered + 0 dead-lettered + 0 late" \
  "the re-run picks up exactly the two replayed records"
clean=$("$MILLRACE" topic consume clean -p "$project" | grep -c '"id":"e[26]"' || true)
expect_eq "$clean" "2" "the corrected records reach the sink"

# With `millrace serve` holding the log, a command-line run sends its dead letters through the
# server's ingest API.
sed -i '/row_count/d' "$project/pipelines/daily.yaml"
port=$(free_port)
start_server "$project" "$port" "$WORK/serve.log"
out=$("$MILLRACE" run "$project" daily 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "the batch pipeline runs beside the server"
expect_contains "$out" "3 -> dlq.daily" "its 3 dead letters reach the topic through the server"
count=$("$MILLRACE" dlq count "$project" daily)
expect_contains "$count" "6 dead letters in topic \`dlq.daily\`" "dlq count reads beside the server"
# The server runs `live`: its accounting is exported at /metrics at every commit.
printf '%s\n' '{"id":"s1","amount":1,"ts":"2026-01-01T11:00:00Z"}' \
  '{"id":"s2","amount":"bad","ts":"2026-01-01T11:00:01Z"}' |
  curl -sf -X POST -H 'Content-Type: application/x-ndjson' --data-binary @- \
    "http://127.0.0.1:$port/v1/ingest/events" >/dev/null
metrics=""
for _ in $(seq 1 300); do
  metrics=$(curl -sf "http://127.0.0.1:$port/metrics" || true)
  grep -q 'millrace_pipeline_records_total{pipeline="live",source="events",outcome="in"} 2' \
    <<<"$metrics" && break
  sleep 0.1
done
expect_contains "$metrics" 'millrace_pipeline_records_total{pipeline="live",source="events",outcome="in"} 2' \
  "the served streaming pipeline counts the records in"
expect_contains "$metrics" 'outcome="out"} 1' "one out"
expect_contains "$metrics" 'outcome="dead_lettered"} 1' "one dead-lettered"
expect_contains "$metrics" 'millrace_pipeline_dead_letter_rate{pipeline="live",source="events"} 0.5' \
  "and the dead-letter rate"
stop_server
count=$("$MILLRACE" dlq count "$project" live)
expect_contains "$count" "5 dead letters in topic \`dlq.live\`" \
  "the served pipeline's dead letter is in its topic"

# A bad record longer than the 64 KiB a decoder keeps is not replayed from its cut bytes.
/usr/bin/python3 -c 'print("{\"id\":\"%s\",\"amount\":\"x\",\"ts\":\"2026-01-01T12:00:00Z\"}" % ("a" * 70000))' \
  >"$WORK/long.ndjson"
"$MILLRACE" topic produce events -p "$project" -i "$WORK/long.ndjson" >/dev/null 2>&1
"$MILLRACE" run "$project" live --until-idle --idle 1s >/dev/null
replay=$("$MILLRACE" dlq replay "$project" live --stage decode --dry-run)
expect_contains "$replay" "original bytes may be cut at 65536 bytes" "a cut record is not replayed"

# A file source's dead letters go back only to a topic named with --to.
replay=$("$MILLRACE" dlq replay "$project" daily --stage decode --dry-run)
expect_contains "$replay" "is not a topic source of the pipeline (use --to TOPIC)" \
  "replaying a file source's dead letters asks for --to"
replay=$("$MILLRACE" dlq replay "$project" daily --stage decode --to events --dry-run)
expect_contains "$replay" "would replay 4 records to topic \`events\`" "--to names the topic"

# Errors: an unknown pipeline, an action that is not one.
"$MILLRACE" dlq count "$project" nope >/dev/null 2>&1 && rc=0 || rc=$?
expect_eq "$rc" "1" "an unknown pipeline is an error"
"$MILLRACE" dlq purge "$project" live >/dev/null 2>&1 && rc=0 || rc=$?
expect_eq "$rc" "1" "an unknown action is an error"
finish
