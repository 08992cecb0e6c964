# Helpers for tests that run `millrace serve`: sourced after common.sh.
free_port() { node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

SERVER_PID=
# start_server <project-dir> <port> <log-file>: starts serve in the background, waits for /healthz.
start_server() {
  "$MILLRACE" serve "$1" --listen "127.0.0.1:$2" >>"$3" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    if curl -sf "http://127.0.0.1:$2/healthz" >/dev/null 2>&1; then return 0; fi
    sleep 0.05
  done
  echo "server did not come up; log:"; cat "$3"; return 1
}
# start_kafka_cluster <log-file> <topic: partitions>...: a second Millrace as the external Kafka
# cluster (its Kafka listener, groups rebalancing at once, the given topics) in $WORK/cluster,
# started with start_server; sets `broker` (host:port of its Kafka listener).
start_kafka_cluster() {
  local log=$1 topic
  shift
  local cluster=$WORK/cluster
  mkdir -p "$cluster"
  local port kport
  port=$(free_port)
  kport=$(free_port)
  {
    printf 'name: cluster\nlisten: { kafka: 127.0.0.1:%s }\n' "$kport"
    printf 'kafka: { initial_rebalance_delay: 0s }\ntopics:\n'
    for topic in "$@"; do printf '  %s: { partitions: %s }\n' "${topic%%:*}" "${topic#*:}"; done
  } >"$cluster/millrace.yaml"
  start_server "$cluster" "$port" "$log"
  broker=127.0.0.1:$kport
}
stop_server() {  # SIGTERM, wait
  if [ -n "$SERVER_PID" ]; then kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=; fi
}
kill9_server() {
  if [ -n "$SERVER_PID" ]; then kill -9 "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=; fi
}
trap 'kill9_server; rm -rf "$WORK"' EXIT
