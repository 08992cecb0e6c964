"""The handler time of one route over a run, from two scrapes of /metrics.

Usage: handler_quantiles.py <before.txt> <after.txt> <route>
Prints a JSON object {"requests": n, "p50_le": us, "p99_le": us, "p99_9_le": us}: for each
quantile the upper bound of the millrace_http_request_seconds bucket it falls in (the
histogram's buckets double from 100 us), over the requests between the two scrapes. The
histogram times a request from the route's start to the response handed to the connection: the
server's own work, without the socket wake-ups, reads and writes around it.
"""
import json
import re
import sys


def buckets(path, route):
    pattern = re.compile(
        r'^millrace_http_request_seconds_bucket\{route="' + re.escape(route) +
        r'",le="([^"]+)"\} (\S+)$')
    out = {}
    with open(path) as lines:
        for line in lines:
            match = pattern.match(line.strip())
            if match:
                out[match.group(1)] = float(match.group(2))
    return out


before = buckets(sys.argv[1], sys.argv[3])
after = buckets(sys.argv[2], sys.argv[3])
bounds = sorted((float("inf") if le == "+Inf" else float(le), after[le] - before.get(le, 0))
                for le in after)
total = bounds[-1][1] if bounds else 0
result = {"requests": int(total)}
for name, q in (("p50_le", 0.5), ("p99_le", 0.99), ("p99_9_le", 0.999)):
    bound = None
    for le, count in bounds:
        if total > 0 and count >= q * total:
            bound = None if le == float("inf") else round(le * 1e6)
            break
    result[name] = bound
print(json.dumps(result))
