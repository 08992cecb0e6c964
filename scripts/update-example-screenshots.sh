#!/usr/bin/env bash
# Refreshes the dashboard screenshots the READMEs show (docs/images/) from the browser tests'
# artifacts: run after `make build`, needs Debian chromium and the repository's node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build/release}
bash tests/integration/example_screenshots_test.sh "$build/src/cli/millrace"
bash tests/integration/dashboard_browser_test.sh "$build/src/cli/millrace"
mkdir -p docs/images/examples
cp "$build"/artifacts/examples/*.png docs/images/examples/
for page in pipelines pipeline lineage dead-letters catalog failed-run; do
  cp "$build/artifacts/dashboard/$page.png" "docs/images/dashboard-$page.png"
done
cp "$build/artifacts/dashboard/phone-pipelines.png" docs/images/dashboard-phone.png
