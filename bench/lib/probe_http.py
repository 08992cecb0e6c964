"""HTTP helpers shared by the freshness probes (bench/pipeline/*freshness.sh).

One keep-alive connection per role (ingest, serve, topic), so a probe's timing is the server's
answer and not a TCP handshake, opened again when the server closed an idle one.
"""
import http.client


class Probe:
    def __init__(self, port, timeout=10):
        self.port = port
        self.timeout = timeout
        self.connections = {}

    def call(self, name, method, target, body=None, content_type="application/json"):
        """(status, body bytes); status 599 when the connection failed twice."""
        for attempt in (0, 1):
            if name not in self.connections:
                self.connections[name] = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=self.timeout)
            try:
                headers = {"Content-Type": content_type} if body else {}
                self.connections[name].request(method, target, body, headers)
                reply = self.connections[name].getresponse()
                return reply.status, reply.read()
            except (OSError, http.client.HTTPException):
                self.connections.pop(name).close()
                if attempt:
                    return 599, b""
        return 599, b""


def summary(latencies_ms):
    """p50, p99 and max of a list of latencies in milliseconds (None when empty)."""
    ordered = sorted(latencies_ms)
    if not ordered:
        return {"p50_ms": None, "p99_ms": None, "max_ms": None}
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]
    return {"p50_ms": pick(0.5), "p99_ms": pick(0.99), "max_ms": ordered[-1]}
