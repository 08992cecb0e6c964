#!/usr/bin/env bash
# Every command of README.md, docs/*.md and examples/*/README.md runs as written, in order, on a
# fresh copy of the repository: the ```sh blocks of each file become one script (see
# tests/integration/README.md for the conventions: the binary under test at
# build/release/src/cli/millrace and on PATH, `serve` lines in the background, ports remapped to
# free ones, `# illustrative` lines skipped and listed). The first failing command fails the
# test with its file and line. DOCS="README.md docs/project.md" runs only those files.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"

cd "$ROOT"
docs=${DOCS:-$(ls README.md docs/*.md examples/*/README.md)}
for doc in $docs; do
  copy=$WORK/$(tr '/.' '__' <<<"$doc")
  mkdir -p "$copy"
  # A fresh clone's files: no build outputs, no generated example data.
  tar -C "$ROOT" --exclude=./build --exclude=./.git --exclude=node_modules \
    --exclude='./examples/*/data' --exclude='./examples/*/incoming' --exclude='./examples/*/out' \
    -cf - . | tar -C "$copy" -xf -
  mkdir -p "$copy/build/release/src/cli" "$copy/.docs-test/bin" "$copy/.docs-test/logs"
  ln -s "$MILLRACE" "$copy/build/release/src/cli/millrace"
  ln -s "$MILLRACE" "$copy/.docs-test/bin/millrace"
  # Ports: a project without `listen` serves on 127.0.0.1:8080; every port the document names
  # becomes a free one, in the document and in the example projects.
  for yaml in "$copy"/examples/*/millrace.yaml; do
    grep -q '^listen:' "$yaml" || printf 'listen: { http: 127.0.0.1:8080 }\n' >>"$yaml"
  done
  for port in $(grep -oE '(localhost|127\.0\.0\.1):[0-9]{4,5}' "$copy/$doc" | cut -d: -f2 | sort -u); do
    new=$(free_port)
    grep -rlE "(localhost|127\.0\.0\.1):$port\b" "$copy/$doc" "$copy/examples" --include='*.md' --include='*.yaml' |
      xargs -r sed -i -E "s/(localhost|127\.0\.0\.1):$port\b/\1:$new/g"
  done
  node "$ROOT/tests/integration/lib/docs_to_script.mjs" "$copy/$doc" "$doc" >"$copy/.docs-test/script.sh"
  echo "=== $doc"
  if (cd "$copy" && PATH="$copy/.docs-test/bin:$PATH" __logs="$copy/.docs-test/logs" \
      bash -c 'source "$1"; source "$2"' _ "$ROOT/tests/integration/lib/docs_prelude.sh" \
      "$copy/.docs-test/script.sh"); then
    pass "$doc: every command ran"
  else
    fail "$doc: a command failed (see FAILED above)"
  fi
  # A job a document triggered may still run in its own process group after the server
  # stopped (task processes outlive their scheduler by design): end whatever still works in
  # this copy before removing it.
  pkill -TERM -f -- "$copy" 2>/dev/null || true
  for _ in $(seq 1 50); do
    pgrep -f -- "$copy" >/dev/null 2>&1 || break
    sleep 0.1
  done
  pkill -KILL -f -- "$copy" 2>/dev/null || true
  rm -rf "$copy" 2>/dev/null || { sleep 0.5; rm -rf "$copy"; }
done
finish
