#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "formats/avro_reader.h"
#include "formats/avro_writer.h"

namespace millrace {
namespace {

// The shape of an Iceberg manifest entry: nested records, optional unions, a map encoded as an
// array of key/value records, bytes, fixed and field ids.
constexpr const char* kSchema = R"({
  "type": "record", "name": "manifest_entry", "fields": [
    {"name": "status", "type": "int", "field-id": 0},
    {"name": "snapshot_id", "type": ["null", "long"], "default": null, "field-id": 1},
    {"name": "data_file", "type": {"type": "record", "name": "r2", "fields": [
      {"name": "file_path", "type": "string", "field-id": 100},
      {"name": "partition", "type": {"type": "record", "name": "r102", "fields": [
        {"name": "day", "type": ["null", {"type": "int", "logicalType": "date"}], "field-id": 1000}]}},
      {"name": "value_counts", "type": ["null", {"type": "array", "logicalType": "map",
        "items": {"type": "record", "name": "k119_v120", "fields": [
          {"name": "key", "type": "int", "field-id": 119},
          {"name": "value", "type": "long", "field-id": 120}]}}], "field-id": 109},
      {"name": "lower", "type": ["null", "bytes"], "field-id": 125},
      {"name": "ratio", "type": "double"},
      {"name": "f", "type": "float"},
      {"name": "flag", "type": "boolean"},
      {"name": "tags", "type": {"type": "map", "values": "string"}},
      {"name": "kind", "type": {"type": "enum", "name": "kind", "symbols": ["A", "B"]}},
      {"name": "id", "type": {"type": "fixed", "name": "uuid16", "size": 16}},
      {"name": "again", "type": ["null", "r102"]}]}, "field-id": 2}]})";

AvroValue entry(int64_t i) {
    AvroValue counts = AvroValue::array(
        {AvroValue::record({AvroValue::of_long(1), AvroValue::of_long(i * 1000000000000ll)})});
    AvroValue tags;
    tags.kind = AvroValue::Kind::kMap;
    tags.keys = {"a"};
    tags.items = {AvroValue::of_bytes("x" + std::to_string(i))};
    AvroValue partition =
        AvroValue::record({i % 3 == 0 ? AvroValue::null() : AvroValue::of_long(-i)});
    return AvroValue::record(
        {AvroValue::of_long(1), i % 2 ? AvroValue::of_long(i) : AvroValue::null(),
         AvroValue::record({AvroValue::of_bytes("day=" + std::to_string(i) + "/f.parquet"),
                            partition, counts, AvroValue::of_bytes(std::string("\0\xff", 2)),
                            AvroValue::of_double(-0.5 * i), AvroValue::of_double(1.5),
                            AvroValue::of_bool(i % 2 == 0), tags, AvroValue::of_long(i % 2),
                            AvroValue::of_bytes(std::string(16, static_cast<char>(i))),
                            partition})});
}

std::string write_file(AvroCodec codec, int rows) {
    auto schema = AvroSchema::parse(kSchema);
    EXPECT_TRUE(schema.ok()) << schema.error().to_string();
    AvroWriter writer(*schema, codec, {{"format-version", "2"}, {"content", "data"}});
    for (int i = 0; i < rows; ++i) EXPECT_TRUE(writer.append(entry(i)).ok());
    auto bytes = writer.finish();
    EXPECT_TRUE(bytes.ok());
    return *bytes;
}

void expect_same(const AvroValue& a, const AvroValue& b) {
    ASSERT_EQ(a.kind, b.kind);
    EXPECT_EQ(a.boolean, b.boolean);
    EXPECT_EQ(a.integer, b.integer);
    EXPECT_EQ(a.real, b.real);
    EXPECT_EQ(a.bytes, b.bytes);
    ASSERT_EQ(a.items.size(), b.items.size());
    for (std::size_t i = 0; i < a.items.size(); ++i) expect_same(a.items[i], b.items[i]);
    EXPECT_EQ(a.keys, b.keys);
}

TEST(AvroTest, RoundTripsEveryTypeWithBothCodecs) {
    for (AvroCodec codec : {AvroCodec::kNull, AvroCodec::kDeflate}) {
        const int rows = 5000;  // more than one block
        auto reader = AvroReader::open(write_file(codec, rows), "t.avro");
        ASSERT_TRUE(reader.ok()) << reader.error().to_string();
        EXPECT_EQ(reader->metadata_value("format-version"), "2");
        EXPECT_EQ(reader->metadata_value("content"), "data");
        EXPECT_EQ(reader->metadata_value("avro.codec"),
                  codec == AvroCodec::kDeflate ? "deflate" : "null");
        const AvroNode& root = reader->schema().root();
        EXPECT_EQ(root.fields[2].field_id, 2);
        EXPECT_EQ(root.fields[2].type->fields[0].field_id, 100);
        EXPECT_EQ(root.fields[2].type->fields[2].type->branches[1]->logical_type, "map");
        auto values = reader->read_all();
        ASSERT_TRUE(values.ok()) << values.error().to_string();
        ASSERT_EQ(values->size(), static_cast<std::size_t>(rows));
        for (int i = 0; i < rows; i += 97) expect_same((*values)[i], entry(i));
        EXPECT_EQ((*values)[1].items[1].branch, 1u);
        EXPECT_EQ((*values)[0].items[1].branch, 0u);
    }
}

TEST(AvroTest, VarintsAtTheExtremes) {
    auto schema = AvroSchema::parse(R"("long")");
    ASSERT_TRUE(schema.ok());
    AvroWriter writer(*schema, AvroCodec::kNull);
    const std::vector<int64_t> values = {0, -1, 1, 63, -64, 64, INT64_MAX, INT64_MIN};
    for (int64_t v : values) ASSERT_TRUE(writer.append(AvroValue::of_long(v)).ok());
    auto reader = AvroReader::open(*writer.finish(), "v.avro");
    ASSERT_TRUE(reader.ok());
    auto read = reader->read_all();
    ASSERT_TRUE(read.ok());
    ASSERT_EQ(read->size(), values.size());
    for (std::size_t i = 0; i < values.size(); ++i) EXPECT_EQ((*read)[i].integer, values[i]);
    // Known encodings from the specification: 1 -> 02, -1 -> 01, 64 -> 80 01.
    std::string out;
    ASSERT_TRUE(avro_encode(schema->get()->root(), AvroValue::of_long(64), out).ok());
    EXPECT_EQ(out, std::string("\x80\x01", 2));
}

TEST(AvroTest, ValuesThatDoNotFitAreRefused) {
    auto schema = AvroSchema::parse(kSchema);
    ASSERT_TRUE(schema.ok());
    AvroWriter writer(*schema, AvroCodec::kNull);
    EXPECT_EQ(writer.append(AvroValue::of_long(1)).error().code(), ErrorCode::kInvalidArgument);
    AvroValue bad = entry(1);
    bad.items[0] = AvroValue::of_long(int64_t{1} << 40);  // int out of range
    EXPECT_FALSE(writer.append(bad).ok());
    EXPECT_TRUE(writer.append(entry(2)).ok());
    auto reader = AvroReader::open(*writer.finish(), "t.avro");
    ASSERT_TRUE(reader.ok());
    EXPECT_EQ(reader->read_all()->size(), 1u);
}

TEST(AvroTest, BadSchemasAreParseErrors) {
    for (const char* text :
         {"", "{", R"("nope")", R"({"type": "record", "fields": []})", R"({"type": "array"})",
          R"([])", R"({"type": "record", "name": "a", "fields": [{"name": "x", "type": "a2"}]})",
          R"({"type": "fixed", "name": "f"})",
          // Duplicate field names (found by fuzz_schema_compatibility: such a schema was not
          // compatible with itself, as resolution by name found the first of the two).
          R"({"type": "record", "name": "r", "fields": [{"name": "n", "type": "long"},
                                                        {"name": "n", "type": "int"}]})"}) {
        auto schema = AvroSchema::parse(text);
        ASSERT_FALSE(schema.ok()) << text;
        EXPECT_EQ(schema.error().code(), ErrorCode::kParse) << text;
    }
    std::string deep;
    for (int i = 0; i < 1000; ++i) deep += R"({"type": "array", "items": )";
    deep += R"("int")";
    for (int i = 0; i < 1000; ++i) deep += "}";
    EXPECT_FALSE(AvroSchema::parse(deep).ok());
}

TEST(AvroTest, TruncatedAndMutatedFilesAreErrorsNotCrashes) {
    for (AvroCodec codec : {AvroCodec::kNull, AvroCodec::kDeflate}) {
        const std::string good = write_file(codec, 20);
        for (std::size_t cut = 0; cut < good.size(); ++cut) {
            auto reader = AvroReader::open(good.substr(0, cut), "cut.avro");
            if (!reader.ok()) continue;
            auto values = reader->read_all();
            // A cut exactly at a block boundary is a shorter valid file.
            if (values.ok()) {
                EXPECT_LT(values->size(), 20u);
            }
        }
        std::mt19937 random(7);
        for (int trial = 0; trial < 3000; ++trial) {
            std::string bad = good;
            for (int flips = 0; flips < 3; ++flips) {
                bad[random() % bad.size()] = static_cast<char>(random());
            }
            auto reader = AvroReader::open(bad, "bad.avro");
            if (reader.ok()) (void)reader->read_all();
        }
    }
}

TEST(AvroTest, HugeCountsOfEmptyValuesAreBounded) {
    // An array of nulls whose block claims 2^61 items: zero bytes each, so only the value budget
    // stops it.
    auto schema = AvroSchema::parse(R"({"type": "array", "items": "null"})");
    ASSERT_TRUE(schema.ok());
    AvroWriter writer(*schema, AvroCodec::kNull);
    ASSERT_TRUE(writer.append(AvroValue::array({AvroValue::null()})).ok());
    std::string file = *writer.finish();
    // The block is: count 1 (02), size 2 (04), then the array: count 1 (02), end (00), sync.
    const std::size_t block = file.size() - 16 - 4;
    ASSERT_EQ(file.substr(block, 4), std::string("\x02\x04\x02\x00", 4));
    std::string huge = file.substr(0, block) + std::string("\x02\x14", 2) +
                       std::string("\x80\x80\x80\x80\x80\x80\x80\x80\x40", 9) +
                       std::string("\x00", 1) + file.substr(file.size() - 16);
    auto reader = AvroReader::open(huge, "huge.avro");
    ASSERT_TRUE(reader.ok());
    auto values = reader->read_all();
    ASSERT_FALSE(values.ok());
    EXPECT_EQ(values.error().code(), ErrorCode::kResourceExhausted);
}

TEST(AvroTest, UnknownCodecIsUnsupported) {
    std::string file = write_file(AvroCodec::kNull, 1);
    const std::size_t at = file.find("null");
    ASSERT_NE(at, std::string::npos);
    file.replace(at, 4, "zstd");
    auto reader = AvroReader::open(file, "z.avro");
    ASSERT_FALSE(reader.ok());
    EXPECT_EQ(reader.error().code(), ErrorCode::kUnsupported);
}

}  // namespace
}  // namespace millrace
