#!/usr/bin/env python3
"""Writes card transactions as NDJSON, one a line, deterministically.

2,000 accounts pay at 300 merchants from a few devices each; event times start at
2026-01-01T00:00:00Z, about 60 ms apart, and arrive up to 2 s out of order. A few accounts
("a-00007", "a-00042") go on a spree: many payments at new merchants from new devices.

  make_transactions.py --rows 20000 --seed 3 > transactions.ndjson
"""
import argparse
import datetime
import json
import random


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    rnd = random.Random(args.seed)
    base = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc).timestamp()
    out = []
    for i in range(args.rows):
        t = base + i * 0.06 + rnd.random() * 0.06
        spree = rnd.random() < 0.03
        account = rnd.choice([7, 42]) if spree else rnd.randrange(2000)
        out.append((t + rnd.random() * 2, {
            "txn_id": f"t-{i:07d}",
            "account_id": f"a-{account:05d}",
            "merchant_id": f"m-{rnd.randrange(300) if spree else (account * 7 + rnd.randrange(4)) % 300:03d}",
            "device_id": f"d-{rnd.randrange(10**6) if spree else account * 3 + rnd.randrange(2)}",
            "amount": round(rnd.lognormvariate(3.5, 1.0), 2),
            "ts": datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
                "%Y-%m-%dT%H:%M:%S.%fZ"),
        }))
    out.sort(key=lambda e: e[0])
    for _, txn in out:
        print(json.dumps(txn))


if __name__ == "__main__":
    main()
