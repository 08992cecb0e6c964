"""Validates OpenLineage run events (one JSON per line) against the essentials schema beside
this file, and checks what must hold across events: every run has one START and one COMPLETE or
FAIL, run ids are UUIDv7. Prints one summary line per job (name, event types in order) and
exits 1 listing every problem. Usage: python3 check_openlineage.py <events.ndjson>"""
import json
import os
import re
import sys

import jsonschema

schema = json.load(open(os.path.join(os.path.dirname(__file__), "openlineage_run_event.schema.json")))
validator = jsonschema.Draft202012Validator(schema)
problems = []
runs = {}
jobs = {}
for number, line in enumerate(open(sys.argv[1]), 1):
    if not line.strip():
        continue
    try:
        event = json.loads(line)
    except ValueError as error:
        problems.append(f"line {number}: not JSON: {error}")
        continue
    for error in validator.iter_errors(event):
        problems.append(f"line {number}: {error.json_path}: {error.message}")
    run_id = event.get("run", {}).get("runId", "")
    if not re.match(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", run_id):
        problems.append(f"line {number}: runId {run_id} is not a UUIDv7")
    runs.setdefault(run_id, []).append(event.get("eventType"))
    name = event.get("job", {}).get("name", "?")
    jobs.setdefault(name, []).append(event.get("eventType"))
for run_id, types in runs.items():
    ends = [t for t in types if t in ("COMPLETE", "FAIL", "ABORT")]
    if types.count("START") != 1 or len(ends) != 1 or types[0] != "START":
        problems.append(f"run {run_id}: events {types}, expected START then one end")
for name in sorted(jobs):
    print(name, " ".join(jobs[name]))
for problem in problems:
    print("PROBLEM", problem)
sys.exit(1 if problems else 0)
