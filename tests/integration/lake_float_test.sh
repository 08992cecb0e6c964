#!/usr/bin/env bash
# Iceberg `float` columns: a table created through the REST catalog with float columns (as
# PyIceberg or Spark would) gets rows from `lake import`; its data files hold Parquet FLOAT
# (DuckDB reads their schema), values rounded to float precision. icebird (an Iceberg reader no
# one here wrote) reads the same values as `millrace query`. Then one float column widens to
# double with `lake alter` and the other with the catalog's add-schema; after a second import,
# old FLOAT files and new DOUBLE files read together, icebird and `millrace query` still agree,
# and predicates on the widened columns (pruning by the old files' 4-byte bounds) give the
# right rows. Narrowing double to float through the catalog is a 400.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"

icebird() { node "$ROOT/tests/integration/lib/icebird_read.mjs" "$@"; }
project=$WORK/p
mkdir -p "$project"
echo "name: p" > "$project/millrace.yaml"
port=$(free_port)
base=http://127.0.0.1:$port/iceberg/v1
start_server "$project" "$port" "$WORK/serve.log"
status() { curl -s -o "$WORK/body" -w '%{http_code}' "$@"; }
expect_eq "$(status -X POST -d '{"name":"m","schema":{"type":"struct","fields":[
    {"id":1,"name":"id","required":true,"type":"long"},
    {"id":2,"name":"x","required":false,"type":"float"},
    {"id":3,"name":"z","required":false,"type":"float"},
    {"id":4,"name":"d","required":false,"type":"double"}]}}' \
  "$base/namespaces/default/tables")" "200" "the catalog creates a table with float columns"
expect_contains "$(cat "$WORK/body")" '"name": "x", "required": false, "type": "float"' "its metadata says float"
table=$project/data/lake/m

# Rows with values that are no floats (x = z = d), a NaN-free range with a null every 10th row.
/usr/bin/python3 - "$WORK" <<'PY'
import json, sys
work = sys.argv[1]
for name, first, n in (("first", 0, 3000), ("second", 3000, 2000)):
    with open(f"{work}/{name}.ndjson", "w") as out:
        for i in range(first, first + n):
            v = None if i % 10 == 7 else (i * 0.37 - 500.123456789)
            out.write(json.dumps({"id": i, "x": v, "z": v, "d": v}) + "\n")
PY
schema="id: int64 not null, x: double, z: double, d: double"
"$MILLRACE" lake import m -d "$project/data" -i "$WORK/first.ndjson" --schema "$schema" >/dev/null 2>&1 || fail "first import"
expect_contains "$("$MILLRACE" lake describe m -d "$project/data")" "x                    float" "lake describe shows the float column"

# Physical types of the data files, as DuckDB reads their Parquet schema.
types() {  # <file>: name:type of x, z, d
  duckdb "SELECT string_agg(name || ':' || type, ',' ORDER BY name) AS t FROM parquet_schema('$1') WHERE name IN ('x', 'z', 'd')"
}
first_file=$(icebird "$table" --files | head -1)
expect_eq "$(types "$first_file")" '{"t":"d:DOUBLE,x:FLOAT,z:FLOAT"}' "the data file holds FLOAT for the float columns"

# icebird and millrace query agree value for value; float columns hold the source rounded to
# float, the double column the source exactly.
check() {  # <what> <rows> <first id written as double, for x> <first id written as double, for z>
  icebird "$table" > "$WORK/icebird.ndjson"
  "$MILLRACE" query -d "$project/data" -f json "SELECT * FROM m" > "$WORK/millrace.ndjson"
  got=$(/usr/bin/python3 - "$WORK" "$3" "$4" <<'PY'
import json, struct, sys
work, x_double, z_double = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
f32 = lambda v: None if v is None else struct.unpack("<f", struct.pack("<f", v))[0]
source = {}
for name in ("first", "second"):
    for line in open(f"{work}/{name}.ndjson"):
        r = json.loads(line)
        source[r["id"]] = r
def rows(path):
    out = {}
    for line in open(path):
        r = json.loads(line)
        out[int(r["id"])] = (r["x"], r["z"], r["d"])
    return out
ice, mill = rows(f"{work}/icebird.ndjson"), rows(f"{work}/millrace.ndjson")
bad = 0
for i, (x, z, d) in mill.items():
    s = source[i]["x"]
    want_x = s if i >= x_double else f32(s)
    want_z = s if i >= z_double else f32(s)
    if (x, z, d) != (want_x, want_z, s) or ice.get(i) != (x, z, d):
        bad += 1
rounded = sum(1 for i, (x, z, d) in mill.items() if x is not None and x != d)
print(len(mill), len(ice), bad, "rounded" if rounded > 0 else "exact")
PY
)
  expect_eq "$got" "$2 $2 0 rounded" "$1: icebird and millrace query read the same $2 rows, float values rounded to float"
}
check "float columns" 3000 999999 999999

# Widening: x with lake alter, z with the catalog's add-schema; d cannot narrow to float.
out=$("$MILLRACE" lake alter m -d "$project/data" --widen-column "x: float" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "--widen-column to float is refused"
expect_contains "$out" "widen a float column to double: 'x: double'" "saying how to widen"
out=$("$MILLRACE" lake alter m -d "$project/data" --widen-column "x: double" 2>&1) || fail "lake alter: $out"
expect_contains "$("$MILLRACE" lake describe m -d "$project/data")" "x                    double" "lake alter widens x to double"
schema_json() {  # <z type> <d type>
  echo '{"updates":[{"action":"add-schema","schema":{"type":"struct","fields":[
    {"id":1,"name":"id","required":true,"type":"long"},
    {"id":2,"name":"x","required":false,"type":"double"},
    {"id":3,"name":"z","required":false,"type":"'"$1"'"},
    {"id":4,"name":"d","required":false,"type":"'"$2"'"}]}},{"action":"set-current-schema","schema-id":-1}]}'
}
expect_eq "$(status -X POST -d "$(schema_json float float)" "$base/namespaces/default/tables/m")" "400" \
  "add-schema narrowing double to float: 400"
expect_contains "$(cat "$WORK/body")" "changes type from double to float" "naming the change"
expect_eq "$(status -X POST -d "$(schema_json double double)" "$base/namespaces/default/tables/m")" "200" \
  "add-schema widens z from float to double"
expect_contains "$("$MILLRACE" lake describe m -d "$project/data")" "z                    double" "z is double now"

"$MILLRACE" lake import m -d "$project/data" -i "$WORK/second.ndjson" --schema "$schema" >/dev/null 2>&1 || fail "second import"
new_file=$(icebird "$table" --files | grep -v "$first_file" | head -1)
expect_eq "$(types "$new_file")" '{"t":"d:DOUBLE,x:DOUBLE,z:DOUBLE"}' "files written after the widening hold DOUBLE"
expect_eq "$(types "$first_file")" '{"t":"d:DOUBLE,x:FLOAT,z:FLOAT"}' "the older file still holds FLOAT"
check "after widening" 5000 3000 3000

# Predicates on the widened column: the older file's 4-byte bounds prune it, the rows are right.
want=$(/usr/bin/python3 -c "
import json, struct
f32 = lambda v: struct.unpack('<f', struct.pack('<f', v))[0]
n = 0
for name, conv in (('first', f32), ('second', lambda v: v)):
    for line in open('$WORK/' + name + '.ndjson'):
        v = json.loads(line)['x']
        n += v is not None and conv(v) > 600
print(n)")
expect_eq "$("$MILLRACE" query -d "$project/data" -f json "SELECT count(*) AS n FROM m WHERE x > 600")" "{\"n\":$want}" \
  "a predicate on x over FLOAT and DOUBLE files counts $want rows"
expect_eq "$("$MILLRACE" query -d "$project/data" -f json "SELECT count(*) AS n FROM m WHERE x < -499")" "{\"n\":4}" \
  "and one that only the older file's rows match"

# A Parquet file another writer made with a FLOAT column (DuckDB's REAL) reads as the doubles of
# its floats.
duckdb "COPY (SELECT i::BIGINT AS id, (i / 10)::REAL AS x FROM range(5) t(i)) TO '$WORK/duck.parquet' (FORMAT parquet)" >/dev/null
expect_eq "$(types "$WORK/duck.parquet")" '{"t":"x:FLOAT"}' "DuckDB writes REAL as FLOAT"
"$MILLRACE" lake import duck -d "$project/data" -i "$WORK/duck.parquet" --create >/dev/null 2>&1 || fail "import of the DuckDB file"
expect_eq "$("$MILLRACE" query -d "$project/data" -f json "SELECT x FROM duck WHERE id = 1")" '{"x":0.10000000149011612}' \
  "its values read as the doubles of the floats"
stop_server
finish
