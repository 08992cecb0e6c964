#!/usr/bin/env bash
# docs/kafka.md's "Supported APIs and versions" table lists exactly what the listener
# advertises: an ApiVersions v0 request over a raw socket, each (key, min, max) compared with the
# table's rows (every advertised API documented, every documented API advertised, same ranges).
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"

project=$WORK/shop
mkdir -p "$project"
port=$(free_port)
kport=$(free_port)
printf 'name: shop\nlisten: { kafka: 127.0.0.1:%s }\n' "$kport" >"$project/millrace.yaml"
start_server "$project" "$port" "$WORK/serve.log"

advertised=$(PORT=$kport timeout 30 /usr/bin/python3 - <<'PY'
import os, socket, struct
s = socket.create_connection(("127.0.0.1", int(os.environ["PORT"])), timeout=10)
client = b"docs"
body = struct.pack(">hhih", 18, 0, 1, len(client)) + client      # ApiVersions v0, header v1
s.sendall(struct.pack(">i", len(body)) + body)
def read(n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise SystemExit("connection closed")
        data += chunk
    return data
size, = struct.unpack(">i", read(4))
frame = read(size)
correlation, error, count = struct.unpack(">ihi", frame[:10])
assert correlation == 1 and error == 0, (correlation, error)
for i in range(count):
    key, low, high = struct.unpack(">hhh", frame[10 + 6 * i:16 + 6 * i])
    print(f"{key} {low} {high}")
PY
)
# The table's rows: "| Produce (0) | 3–7 (0–2 advertised, …) | …" gives "0 0 7".
documented=$(sed -n '/^## Supported APIs and versions/,/^## /p' "$ROOT/docs/kafka.md" |
  grep -E '^\| [A-Za-z]+ \([0-9]+\) \|' | /usr/bin/python3 -c '
import re, sys
for line in sys.stdin:
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    key = int(re.search(r"\((\d+)\)", cells[0]).group(1))
    numbers = [int(n) for n in re.findall(r"\d+", cells[1])]
    print(key, min(numbers), max(numbers))')
expect_eq "$(sort -n <<<"$documented")" "$(sort -n <<<"$advertised")" \
  "docs/kafka.md lists every advertised API with its advertised versions"
expect_eq "$(wc -l <<<"$advertised")" "22" "22 APIs are advertised"
stop_server
finish
