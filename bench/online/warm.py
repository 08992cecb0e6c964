"""Warms a feature view for the steady-state serving figures (bench/online/run.sh): looks up
every key in [0, KEYS) once, in batches of 1000 over one keep-alive connection, so the online
store's caches hold what the measured runs read (nginx and redis serve from memory too).
Usage: warm.py <port> <view> <keys>; prints the keys looked up and the seconds taken."""
import http.client
import json
import sys
import time

port, view, keys = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
start = time.monotonic()
for first in range(0, keys, 1000):
    body = json.dumps({"keys": list(range(first, min(first + 1000, keys)))})
    connection.request("POST", f"/v1/features/{view}/batch", body,
                       {"Content-Type": "application/json"})
    reply = connection.getresponse()
    reply.read()
    if reply.status != 200:
        sys.exit(f"warm-up: batch from key {first} answered {reply.status}")
print(f"{keys} keys looked up in {time.monotonic() - start:.1f} s")
