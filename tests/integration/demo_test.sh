#!/usr/bin/env bash
# `make demo` must keep working: run the demo script and check what it reports.
source "$(dirname "$0")/lib/common.sh"

out=$(bash "$ROOT/examples/demo/run.sh" "$MILLRACE" 2>&1); rc=$?
expect_eq "$rc" "0" "the demo exits 0"
expect_contains "$out" "project \`order-monitoring\` is valid" "the demo validates its project"
expect_contains "$out" "pipeline daily_sales (batch)" "the demo runs the retail pipeline"
expect_contains "$out" "350000 sales records" "the demo generates a week of sales"
expect_contains "$out" "(7 rows)" "the demo queries the lake table: one row per day"
sales_read=$(grep -oE '[0-9]+ rows read' <<<"$out" | head -1 | cut -d' ' -f1)
sales_rejected=$(grep -oE 'rows read, [0-9]+ rejected' <<<"$out" | head -1 | grep -oE '[0-9]+ rejected' | cut -d' ' -f1)
expect_eq "$((sales_read + sales_rejected))" "350000" "retail counts add up"
expect_contains "$out" "500000 records read" "the demo converts every generated record"
convert_line=$(grep -E '^convert: .*orders.ndjson .* records read' <<<"$out" | head -1)
written=$(grep -oE '[0-9]+ rows written' <<<"$convert_line" | cut -d' ' -f1)
rejected=$(grep -oE '[0-9]+ rejected' <<<"$convert_line" | cut -d' ' -f1)
expect_eq "$((written + rejected))" "500000" "demo counts add up"
expect_contains "$out" "$written records read, $written rows written, 0 rejected" "the round trip keeps every row"
expect_contains "$out" "Where to look" "the demo says where to look"
finish
