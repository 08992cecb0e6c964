#include "lake/catalog_requests.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "lake/iceberg_metadata.h"
#include "lake/lake_table.h"
#include "lake/lake_writer.h"
#include "types/column_builder.h"

namespace millrace {
namespace {

const std::string kPath = "/lake/t/metadata/v2.metadata.json";

std::string metadata_json() {
    TableMetadata m;
    m.table_uuid = "11111111-2222-4333-8444-555555555555";
    m.location = "/lake/t";
    m.last_sequence_number = 1;
    m.last_updated_ms = 1000;
    m.schema = Schema({{"id", DataType::kInt64, false}, {"name", DataType::kString, true}});
    m.partition_by = {"name"};
    m.properties = {{"keep", "1"}, {"drop", "2"}};
    m.current_snapshot_id = 1;
    IcebergSnapshot s;
    s.snapshot_id = 1;
    s.sequence_number = 1;
    s.manifest_list = "/lake/t/metadata/snap-1.avro";
    m.snapshots.push_back(s);
    return m.to_json();
}

const std::string kAddColumn = R"({
  "requirements": [{"type": "assert-current-schema-id", "current-schema-id": 0},
                   {"type": "assert-table-uuid", "uuid": "11111111-2222-4333-8444-555555555555"},
                   {"type": "assert-ref-snapshot-id", "ref": "main", "snapshot-id": 1},
                   {"type": "assert-last-assigned-field-id", "last-assigned-field-id": 2},
                   {"type": "assert-default-spec-id", "default-spec-id": 0},
                   {"type": "assert-last-assigned-partition-id", "last-assigned-partition-id": 1000},
                   {"type": "assert-default-sort-order-id", "default-sort-order-id": 0}],
  "updates": [{"action": "add-schema", "schema": {"type": "struct", "schema-id": 1, "fields": [
                 {"id": 1, "name": "id", "required": true, "type": "long"},
                 {"id": 2, "name": "name", "required": false, "type": "string"},
                 {"id": 3, "name": "score", "required": false, "type": "double"}]}},
              {"action": "set-current-schema", "schema-id": -1},
              {"action": "set-properties", "updates": {"owner": "ana"}},
              {"action": "remove-properties", "removals": ["drop", "absent"]}]})";

ErrorCode commit_error(std::string_view request) {
    auto result = apply_table_commit(metadata_json(), request, kPath, 2000);
    EXPECT_FALSE(result.ok()) << request;
    return result.ok() ? ErrorCode::kInternal : result.error().code();
}

TEST(CatalogRequests, AddsAColumnAndKeepsTheOlderSchemaThroughLaterCommits) {
    auto result = apply_table_commit(metadata_json(), kAddColumn, kPath, 2000);
    ASSERT_TRUE(result.ok()) << result.error().to_string();
    EXPECT_TRUE(result->changed);
    auto parsed = TableMetadata::parse(result->metadata_json, "v3");
    ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
    EXPECT_EQ(parsed->schema.size(), 3u);
    EXPECT_EQ(parsed->schema.field(2).name, "score");
    EXPECT_EQ(parsed->schema_id, 1);
    EXPECT_EQ(parsed->last_column_id, 3);
    ASSERT_EQ(parsed->other_schemas.size(), 1u);
    EXPECT_EQ(parsed->properties.at("owner"), "ana");
    EXPECT_EQ(parsed->properties.count("drop"), 0u);
    EXPECT_EQ(parsed->properties.at("keep"), "1");
    EXPECT_EQ(parsed->last_updated_ms, 2000);
    ASSERT_EQ(parsed->metadata_log.size(), 1u);
    EXPECT_EQ(parsed->metadata_log[0].second, kPath);
    EXPECT_EQ(parsed->partition_by, std::vector<std::string>{"name"});

    // Millrace's own commits rewrite the metadata: schema 1 stays current and schema 0 stays
    // listed, so no schema id ever names two different schemas.
    const std::string again = parsed->to_json();
    auto reparsed = TableMetadata::parse(again, "v4");
    ASSERT_TRUE(reparsed.ok());
    EXPECT_EQ(reparsed->schema_id, 1);
    EXPECT_EQ(reparsed->schema.size(), 3u);
    EXPECT_EQ(reparsed->other_schemas, parsed->other_schemas);
    EXPECT_NE(again.find("\"current-schema-id\": 1"), std::string::npos);

    // The same request on the new metadata: its requirements are stale now.
    auto stale = apply_table_commit(result->metadata_json, kAddColumn, kPath, 3000);
    ASSERT_FALSE(stale.ok());
    EXPECT_EQ(stale.error().code(), ErrorCode::kUnavailable);
}

// An Iceberg `float` column (read as double, remembered in float_ids) widens to double through
// add-schema; a double column never becomes float.
TEST(CatalogRequests, FloatColumnsWidenToDoubleAndNeverNarrow) {
    TableMetadata m;
    m.table_uuid = "11111111-2222-4333-8444-555555555555";
    m.location = "/lake/f";
    m.schema = Schema({{"id", DataType::kInt64, false},
                       {"x", DataType::kFloat64, true},
                       {"y", DataType::kFloat64, true}});
    m.float_ids = {2};
    const std::string json = m.to_json();
    EXPECT_NE(json.find(R"("name": "x", "required": false, "type": "float")"), std::string::npos);
    EXPECT_NE(json.find(R"("name": "y", "required": false, "type": "double")"), std::string::npos);
    auto schema_update = [](const char* x, const char* y) {
        return std::string(R"({"updates": [{"action": "add-schema", "schema": {"type": "struct",
            "schema-id": 1, "fields": [{"id": 1, "name": "id", "required": true, "type": "long"},
            {"id": 2, "name": "x", "required": false, "type": ")") +
               x + R"("}, {"id": 3, "name": "y", "required": false, "type": ")" + y +
               R"("}]}}, {"action": "set-current-schema", "schema-id": -1}]})";
    };
    auto widened = apply_table_commit(json, schema_update("double", "double"), kPath, 2000);
    ASSERT_TRUE(widened.ok()) << widened.error().to_string();
    auto parsed = TableMetadata::parse(widened->metadata_json, "v2");
    ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
    EXPECT_TRUE(parsed->float_ids.empty());
    EXPECT_EQ(parsed->schema.field(1).type, DataType::kFloat64);
    // Narrowing double to float is refused, naming the column and both types.
    auto narrowed = apply_table_commit(json, schema_update("float", "float"), kPath, 2000);
    ASSERT_FALSE(narrowed.ok());
    EXPECT_EQ(narrowed.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(narrowed.error().message().find("column `y` (field id 3) changes type from double "
                                              "to float"),
              std::string::npos)
        << narrowed.error().message();
    // Keeping float is no change of type.
    EXPECT_TRUE(apply_table_commit(json, schema_update("float", "double"), kPath, 2000).ok());
    // A CreateTableRequest with a float column.
    auto create = parse_create_table_request(R"({"name": "f", "schema": {"type": "struct",
        "fields": [{"id": 1, "name": "x", "required": false, "type": "float"}]}})");
    ASSERT_TRUE(create.ok()) << create.error().to_string();
    EXPECT_EQ(create->schema.field(0).type, DataType::kFloat64);
    EXPECT_EQ(create->float_columns, std::vector<std::string>{"x"});
}

TEST(CatalogRequests, FailedRequirementsAreConflicts) {
    EXPECT_EQ(commit_error(R"({"requirements": [{"type": "assert-create"}]})"),
              ErrorCode::kUnavailable);
    EXPECT_EQ(commit_error(R"({"requirements": [{"type": "assert-table-uuid", "uuid": "x"}]})"),
              ErrorCode::kUnavailable);
    EXPECT_EQ(commit_error(R"({"requirements": [{"type": "assert-ref-snapshot-id",
                                                  "ref": "main", "snapshot-id": 7}]})"),
              ErrorCode::kUnavailable);
    EXPECT_EQ(commit_error(R"({"requirements": [{"type": "assert-ref-snapshot-id",
                                                  "ref": "main", "snapshot-id": null}]})"),
              ErrorCode::kUnavailable);
    EXPECT_EQ(commit_error(R"({"requirements": [{"type": "assert-ref-snapshot-id",
                                                  "ref": "audit", "snapshot-id": 1}]})"),
              ErrorCode::kUnavailable);
    EXPECT_EQ(commit_error(R"({"requirements": [{"type": "assert-current-schema-id",
                                                  "current-schema-id": 4}]})"),
              ErrorCode::kUnavailable);
    EXPECT_EQ(commit_error(R"({"requirements": [{"type": "assert-default-spec-id",
                                                  "default-spec-id": 1}]})"),
              ErrorCode::kUnavailable);
    // A ref that must not exist and does not.
    auto ok = apply_table_commit(metadata_json(), R"({"requirements": [
        {"type": "assert-ref-snapshot-id", "ref": "audit", "snapshot-id": null}], "updates": []})",
                                 kPath, 2000);
    ASSERT_TRUE(ok.ok());
    EXPECT_FALSE(ok->changed);
    EXPECT_EQ(ok->metadata_json, metadata_json());
}

TEST(CatalogRequests, MalformedAndUnsupportedRequestsAreErrors) {
    EXPECT_EQ(commit_error("{bad"), ErrorCode::kParse);
    EXPECT_EQ(commit_error("[]"), ErrorCode::kParse);
    EXPECT_EQ(commit_error(R"({"requirements": {}})"), ErrorCode::kParse);
    EXPECT_EQ(commit_error(R"({"updates": 3})"), ErrorCode::kParse);
    EXPECT_EQ(commit_error(R"({"requirements": [{"type": "assert-everything"}]})"),
              ErrorCode::kParse);
    EXPECT_EQ(commit_error(R"({"requirements": [{"type": "assert-current-schema-id"}]})"),
              ErrorCode::kParse);
    EXPECT_EQ(commit_error(R"({"updates": [{"no-action": 1}]})"), ErrorCode::kParse);
    EXPECT_EQ(commit_error(R"({"updates": [{"action": "add-snapshot", "snapshot": {}}]})"),
              ErrorCode::kUnsupported);
    EXPECT_EQ(commit_error(R"({"updates": [{"action": "assign-uuid", "uuid": "other"}]})"),
              ErrorCode::kUnsupported);
    EXPECT_EQ(commit_error(R"({"updates": [{"action": "set-location", "location": "/x"}]})"),
              ErrorCode::kUnsupported);
    EXPECT_EQ(commit_error(R"({"updates": [{"action": "set-current-schema", "schema-id": -1}]})"),
              ErrorCode::kInvalidArgument);
    EXPECT_EQ(commit_error(R"({"updates": [{"action": "set-current-schema", "schema-id": 9}]})"),
              ErrorCode::kInvalidArgument);
    EXPECT_EQ(commit_error(R"({"updates": [{"action": "set-properties", "updates": {"a": 1}}]})"),
              ErrorCode::kParse);
    EXPECT_EQ(commit_error(R"({"updates": [{"action": "add-schema", "schema": {"fields": [
                                 {"name": "x", "type": "long"}]}}]})"),
              ErrorCode::kParse);
    // Schemas Millrace cannot read, or that would misread older files, are refused, not
    // committed: a nested type, a type change that is no widening, a reused field id, an
    // unknown type.
    EXPECT_EQ(commit_error(R"({"updates": [{"action": "add-schema", "schema": {"fields": [
                 {"id": 1, "name": "id", "required": true, "type": "long"},
                 {"id": 3, "name": "tags", "required": false,
                  "type": {"type": "list", "element-id": 4, "element": "string",
                           "element-required": false}}]}},
                 {"action": "set-current-schema", "schema-id": -1}]})"),
              ErrorCode::kInvalidArgument);
    EXPECT_EQ(commit_error(R"({"updates": [{"action": "add-schema", "schema": {"fields": [
                 {"id": 1, "name": "id", "required": true, "type": "long"},
                 {"id": 2, "name": "name", "required": false, "type": "long"}]}},
                 {"action": "set-current-schema", "schema-id": -1}]})"),
              ErrorCode::kInvalidArgument);
    EXPECT_EQ(commit_error(R"({"updates": [{"action": "add-schema", "schema": {"fields": [
                 {"id": 1, "name": "id", "required": true, "type": "long"},
                 {"id": 2, "name": "other", "required": false, "type": "string"},
                 {"id": 2, "name": "again", "required": false, "type": "string"}]}},
                 {"action": "set-current-schema", "schema-id": -1}]})"),
              ErrorCode::kInvalidArgument);
    // Reordered columns and an added one (ids 2, 1, 3 after 1, 2): evolution by id. Dropping
    // `name`, the partition column, is refused.
    EXPECT_EQ(commit_error(R"({"updates": [{"action": "add-schema", "schema": {"fields": [
                 {"id": 1, "name": "id", "required": true, "type": "long"}]}},
                 {"action": "set-current-schema", "schema-id": -1}]})"),
              ErrorCode::kInvalidArgument);
    auto dropped =
        apply_table_commit(metadata_json(),
                           R"({"updates": [{"action": "add-schema", "schema": {"fields": [
                 {"id": 2, "name": "name", "required": false, "type": "string"},
                 {"id": 1, "name": "id", "required": true, "type": "long"},
                 {"id": 3, "name": "added", "required": false, "type": "string"}]}},
                 {"action": "set-current-schema", "schema-id": -1}]})",
                           kPath, 2000);
    EXPECT_TRUE(dropped.ok()) << dropped.error().to_string();
    auto reused = apply_table_commit(metadata_json(),
                                     R"({"updates": [{"action": "add-schema", "schema": {"fields": [
                 {"id": 1, "name": "id", "required": true, "type": "long"},
                 {"id": 2, "name": "name", "required": false, "type": "string"}]}},
                 {"action": "set-current-schema", "schema-id": -1}]})",
                                     kPath, 2000);
    EXPECT_TRUE(reused.ok());
    EXPECT_EQ(commit_error(R"j({"updates": [{"action": "add-schema", "schema": {"fields": [
                 {"id": 1, "name": "id", "required": true, "type": "long"},
                 {"id": 2, "name": "name", "required": false, "type": "string"},
                 {"id": 3, "name": "d", "required": false, "type": "decimal(9,2)"}]}},
                 {"action": "set-current-schema", "schema-id": -1}]})j"),
              ErrorCode::kInvalidArgument);
    // No-op updates change nothing.
    auto same = apply_table_commit(metadata_json(), R"({"updates": [
        {"action": "upgrade-format-version", "format-version": 2},
        {"action": "assign-uuid", "uuid": "11111111-2222-4333-8444-555555555555"}]})",
                                   kPath, 2000);
    ASSERT_TRUE(same.ok());
    EXPECT_FALSE(same->changed);
}

TEST(CatalogRequests, ParsesCreateTableRequests) {
    auto parsed = parse_create_table_request(R"({"name": "events",
        "schema": {"type": "struct", "fields": [
            {"id": 1, "name": "at", "required": true, "type": "timestamptz"},
            {"id": 2, "name": "user", "required": false, "type": "string"},
            {"id": 3, "name": "n", "required": false, "type": "int"}]},
        "partition-spec": {"spec-id": 0, "fields": [
            {"source-id": 1, "field-id": 1000, "name": "at_day", "transform": "day"},
            {"source-id": 2, "field-id": 1001, "name": "user_bucket", "transform": "bucket[8]"}]},
        "write-order": {"order-id": 0, "fields": []},
        "properties": {"owner": "ana"}})");
    ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
    EXPECT_EQ(parsed->name, "events");
    EXPECT_EQ(parsed->schema.size(), 3u);
    EXPECT_FALSE(parsed->schema.field(0).nullable);
    EXPECT_EQ(parsed->schema.field(2).type, DataType::kInt32);
    EXPECT_EQ(parsed->partition_by,
              (std::vector<std::string>{"date(at) as at_day", "bucket(8, user) as user_bucket"}));
    EXPECT_EQ(parsed->properties.at("owner"), "ana");

    auto code = [](std::string_view body) {
        auto result = parse_create_table_request(body);
        return result.ok() ? ErrorCode::kInternal : result.error().code();
    };
    EXPECT_EQ(code("nope"), ErrorCode::kParse);
    EXPECT_EQ(code(R"({"schema": {"fields": []}})"), ErrorCode::kParse);
    EXPECT_EQ(code(R"({"name": "t"})"), ErrorCode::kParse);
    EXPECT_EQ(code(R"({"name": "t", "schema": {"fields": [{"id": 1, "name": "u",
                       "required": false, "type": "uuid"}]}})"),
              ErrorCode::kUnsupported);
    EXPECT_EQ(code(R"({"name": "t", "schema": {"fields": [{"id": 1, "name": "u",
                       "required": false, "type": "string"}]},
                       "partition-spec": {"fields": [{"source-id": 9, "transform": "identity"}]}})"),
              ErrorCode::kInvalidArgument);
    EXPECT_EQ(code(R"({"name": "t", "schema": {"fields": [{"id": 1, "name": "u",
                       "required": false, "type": "string"}]},
                       "partition-spec": {"fields": [{"source-id": 1, "transform": "void"}]}})"),
              ErrorCode::kUnsupported);
    EXPECT_EQ(code(R"({"name": "t", "schema": {"fields": [{"id": 1, "name": "u",
                       "required": false, "type": "string"}]},
                       "write-order": {"fields": [{"source-id": 1}]}})"),
              ErrorCode::kUnsupported);
}

// Files written before a column was added read it as nulls (they were refused before).
TEST(CatalogRequests, ScanReadsAnAddedColumnAsNullsInOlderFiles) {
    const std::string dir =
        (std::filesystem::temp_directory_path() / ("catalog_requests_" + std::to_string(getpid())))
            .string();
    std::filesystem::remove_all(dir);
    Schema schema({{"id", DataType::kInt64, false}});
    auto table = LakeTable::create(dir, "t", schema);
    ASSERT_TRUE(table.ok()) << table.error().to_string();
    ColumnBuilder ids(DataType::kInt64);
    ids.append_int64(1);
    ids.append_int64(2);
    std::vector<std::shared_ptr<const Column>> columns = {
        std::make_shared<const Column>(ids.finish())};
    {
        auto writer = LakeWriter::open(*table);
        ASSERT_TRUE(writer.ok());
        ASSERT_TRUE((*writer)->write(Batch(table->schema(), columns, 2)).ok());
        ASSERT_TRUE((*writer)->pre_commit(1).ok());
        ASSERT_TRUE((*writer)->commit(1).ok());
    }
    auto file = table->current_metadata_file();
    ASSERT_TRUE(file.ok());
    EXPECT_EQ(file->version, 2);
    auto committed = apply_table_commit(file->json, R"({"updates": [
        {"action": "add-schema", "schema": {"type": "struct", "fields": [
            {"id": 1, "name": "id", "required": true, "type": "long"},
            {"id": 2, "name": "note", "required": false, "type": "string"}]}},
        {"action": "set-current-schema", "schema-id": -1}]})",
                                        file->path, 5000);
    ASSERT_TRUE(committed.ok()) << committed.error().to_string();
    auto created = table->commit_metadata_file(3, committed->metadata_json);
    ASSERT_TRUE(created.ok());
    EXPECT_TRUE(*created);
    auto again = table->commit_metadata_file(3, committed->metadata_json);
    ASSERT_TRUE(again.ok());
    EXPECT_FALSE(*again) << "an existing version is never replaced";
    auto reopened = LakeTable::open(dir, "t");
    ASSERT_TRUE(reopened.ok()) << reopened.error().to_string();
    ASSERT_EQ(reopened->schema()->size(), 2u);
    std::size_t rows = 0, nulls = 0;
    LakeTable::ScanOptions scan;
    scan.predicates = {{"note", CompareOp::kEq, Value::string("x")}};
    auto stats = reopened->scan(scan, [&](Batch batch) {
        EXPECT_EQ(batch.num_columns(), 2u);
        rows += batch.num_rows();
        nulls += batch.column(1).null_count();
        return Status();
    });
    ASSERT_TRUE(stats.ok()) << stats.error().to_string();
    EXPECT_EQ(rows, 2u);
    EXPECT_EQ(nulls, 2u);
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace millrace
