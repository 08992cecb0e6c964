#!/usr/bin/env bash
# `make demo` must keep working: run the demo script and check what it reports.
source "$(dirname "$0")/lib/common.sh"

out=$(bash "$ROOT/examples/demo/run.sh" "$MILLRACE" 2>&1); rc=$?
expect_eq "$rc" "0" "the demo exits 0"
expect_contains "$out" "project \`order-monitoring\` is valid" "the demo validates its project"
expect_contains "$out" "500000 records read" "the demo converts every generated record"
written=$(grep -oE '[0-9]+ rows written' <<<"$out" | head -1 | cut -d' ' -f1)
rejected=$(grep -oE '[0-9]+ rejected' <<<"$out" | head -1 | cut -d' ' -f1)
expect_eq "$((written + rejected))" "500000" "demo counts add up"
expect_contains "$out" "$written records read, $written rows written, 0 rejected" "the round trip keeps every row"
expect_contains "$out" "Where to look" "the demo says where to look"
finish
