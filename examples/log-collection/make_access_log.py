#!/usr/bin/env python3
"""Writes a web server's access log as NDJSON, one page view a line, deterministically.

Each view has the client's IP and User-Agent, the URL, the user (a cookie id), the HTTP
status and the page load time in milliseconds. Event times start at 2026-01-01T00:00:00Z, about
30 ms apart, and arrive up to 3 s out of order. With --bad-fraction some views are broken the
way real logs are: a client IP that is not an address, a line cut short.

  make_access_log.py --rows 20000 --seed 7 [--bad-fraction 0.005] > access.ndjson
"""
import argparse
import datetime
import json
import random

AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.43 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.61",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "curl/8.4.0",
]
# The networks of the example's GeoIP database (make_geo_db.pl), and some it does not know.
NETWORKS = ["81.2.69.", "89.160.20.", "5.9.3.", "203.0.113.", "198.51.100.", "192.0.2."]
PAGES = ["/", "/menu", "/cart", "/checkout", "/account", "/search"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--bad-fraction", type=float, default=0.0)
    args = parser.parse_args()
    rnd = random.Random(args.seed)
    base = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc).timestamp()
    views = []
    for i in range(args.rows):
        t = base + i * 0.03 + rnd.random() * 0.03
        arrive = t + rnd.random() * 3
        user = rnd.randrange(1500)
        page = PAGES[min(int(rnd.expovariate(0.6)), len(PAGES) - 1)]
        view = {
            "ts": datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
                "%Y-%m-%dT%H:%M:%S.%fZ"),
            "client_ip": NETWORKS[user % len(NETWORKS)] + str(user % 250 + 1),
            "user_agent": AGENTS[user % len(AGENTS)],
            "url": f"https://shop.example.com{page}?ref={rnd.choice(['ad', 'mail', 'direct'])}",
            "user_id": f"c-{user:05d}",
            "status": 200 if rnd.random() < 0.97 else 500,
            "load_ms": round(rnd.lognormvariate(5.3, 0.5), 1),
        }
        line = json.dumps(view)
        if args.bad_fraction > 0 and rnd.random() < args.bad_fraction:
            if rnd.random() < 0.5:
                view["client_ip"] = "999.1.2.3"  # not an address: ip_country() rejects it
                line = json.dumps(view)
            else:
                line = line[: len(line) // 2]  # cut short: malformed JSON
        views.append((arrive, line))
    views.sort(key=lambda v: v[0])
    for _, line in views:
        print(line)


if __name__ == "__main__":
    main()
