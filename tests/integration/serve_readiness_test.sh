#!/usr/bin/env bash
# `/readyz` against a full disk: the project's data directory on a small tmpfs (needs root to
# mount; skipped when mounting is not possible). Ready at first; with the disk filled, 503 and
# every failing component with the reason; an ingest that cannot append answers 500 with the
# message once (no "error: " inside "error"); ready again once the disk has room. /healthz
# (liveness) says ok throughout.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"

project=$WORK/full
data=$project/data
mkdir -p "$data"
if ! mount -t tmpfs -o size=16m millrace-readyz "$data" 2>/dev/null; then
  echo "ok - skipped: cannot mount a tmpfs here (not root?)"
  finish
  exit 0
fi
trap 'kill9_server; umount "$data" 2>/dev/null || umount -l "$data" 2>/dev/null; rm -rf "$WORK"' EXIT
cat >"$project/millrace.yaml" <<'YAML'
name: full
topics:
  clicks: { partitions: 1, fsync: always }
serving:
  readiness: { min_free_bytes: 1048576 }
YAML
port=$(free_port)
url=http://127.0.0.1:$port
start_server "$project" "$port" "$WORK/serve.log"
call() { curl -s -w ' %{http_code}' "$@" | tr -d '\n'; }

out=$(call "$url/readyz")
expect_contains "$out" '{"status":"ready","components":{"log":{"status":"ok"' "ready with room on the disk"
expect_contains "$out" ' 200' "ready: 200"
expect_contains "$(call -H 'Content-Type: application/x-ndjson' --data-binary '{"a":1}' "$url/v1/ingest/clicks")" ' 200' "ingest works"

# Fill the disk.
dd if=/dev/zero of="$data/filler" bs=1M >/dev/null 2>&1 || true
big=$(head -c 200000 /dev/zero | tr '\0' 'x')
out=$(printf '{"a":"%s"}\n' "$big" | call -H 'Content-Type: application/x-ndjson' --data-binary @- "$url/v1/ingest/clicks")
expect_contains "$out" ' 500' "an append on a full disk: 500"
expect_contains "$out" '{"error":"' "with a JSON error"
if grep -qF '"error":"error:' <<<"$out"; then fail "the message says error twice: $out"; else pass "the message is carried once"; fi
sleep 1.1  # the probes run at most once a second
out=$(call "$url/readyz")
expect_contains "$out" ' 503' "full disk: /readyz 503"
expect_contains "$out" '"status":"not ready"' "full disk: not ready"
expect_contains "$out" '"log":{"status":"failing"' "the log is failing"
expect_contains "$out" '"lake":{"status":"failing"' "the lake is failing"
expect_contains "$out" 'below the floor of 1048576 (serving.readiness.min_free_bytes)' "with the free space"
expect_contains "$out" 'No space left on device' "and the write probe's reason"
expect_contains "$out" '"errors":["last write failed: writing ' "and the failed append"
expect_contains "$out" '"failing":["log","lake"]' "failing components listed"
expect_contains "$(call "$url/healthz")" ' 200' "/healthz stays ok (liveness)"

# Room again: ready again (the probe clears the log's recorded failure).
rm -f "$data/filler"
state=""
for _ in $(seq 1 30); do
  state=$(call "$url/readyz")
  if grep -qF ' 200' <<<"$state"; then break; fi
  sleep 0.2
done
expect_contains "$state" '{"status":"ready"' "ready again once the disk has room"
stop_server
finish
