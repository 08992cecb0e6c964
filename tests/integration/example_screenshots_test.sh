#!/usr/bin/env bash
# The dashboard on every example (examples/*/README.md shows these): `millrace serve` on a fresh
# copy of the example, and its pipeline's lineage page in headless Chromium with no console
# errors, kept as build/<tree>/artifacts/examples/<example>.png. docs/images/examples/ holds
# the committed copies (scripts/update-example-screenshots.sh refreshes them from here).
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"

if [ ! -x /usr/bin/chromium ] || [ ! -d "$ROOT/node_modules/playwright-core" ]; then
  echo "not ok - needs /usr/bin/chromium and playwright-core (scripts/install-deps.sh installs both)"
  exit 1
fi
shots="$(cd "$(dirname "$MILLRACE")/../.." && pwd)/artifacts/examples"
mkdir -p "$shots"
for readme in "$ROOT"/examples/*/README.md; do
  example=$(basename "$(dirname "$readme")")
  # The pipeline the README's screenshot shows.
  pipeline=$(grep -oE '!\[The lineage of [a-z0-9_]+ ' "$readme" | awk '{print $4}' | head -1)
  if [ -z "$pipeline" ]; then fail "$example: its README shows no dashboard screenshot"; continue; fi
  copy=$WORK/$example
  cp -r "$ROOT/examples/$example" "$copy"
  rm -rf "$copy/data" "$copy/out"
  port=$(free_port)
  start_server "$copy" "$port" "$WORK/$example.log"
  profile=$(mktemp -d "$WORK/profile.XXXXXX")
  if out=$(node "$ROOT/tests/integration/lib/example_screenshot.mjs" "http://127.0.0.1:$port" \
      "#/lineage?pipeline=$pipeline" "$shots/$example.png" "$profile" 2>&1); then
    pass "$example: the lineage of $pipeline renders with no console errors"
  else
    fail "$example: $out"
    tail -n 20 "$WORK/$example.log"
  fi
  stop_server
done
finish
