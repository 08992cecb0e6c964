#include "formats/avro_json.h"

#include <gtest/gtest.h>

#include <limits>

#include "formats/avro_reader.h"
#include "formats/avro_writer.h"

namespace millrace {
namespace {

TEST(AvroJson, RecordsUnionsEnumsArraysAndMapsBecomeTheJsonJsonDecoderReads) {
    auto schema = AvroSchema::parse(R"({"type":"record","name":"Payment","fields":[
        {"name":"id","type":"long"},
        {"name":"note","type":["null","string"]},
        {"name":"kind","type":{"type":"enum","name":"Kind","symbols":["CARD","CASH"]}},
        {"name":"tags","type":{"type":"array","items":"string"}},
        {"name":"extra","type":{"type":"map","values":"double"}},
        {"name":"ratio","type":"float"},
        {"name":"ok","type":"boolean"}]})");
    ASSERT_TRUE(schema.ok());
    AvroValue note = AvroValue::of_bytes("say \"hi\"");
    note.branch = 1;
    AvroValue extra;
    extra.kind = AvroValue::Kind::kMap;
    extra.keys = {"fee"};
    extra.items = {AvroValue::of_double(0.25)};
    AvroValue value = AvroValue::record(
        {AvroValue::of_long(-7), note, AvroValue::of_long(1),
         AvroValue::array({AvroValue::of_bytes("a"), AvroValue::of_bytes("b")}), extra,
         AvroValue::of_double(std::numeric_limits<double>::infinity()), AvroValue::of_bool(true)});
    // Through the binary encoding and back, as a topic source sees it.
    std::string bytes;
    ASSERT_TRUE(avro_encode((*schema)->root(), value, bytes).ok());
    std::string_view input = bytes;
    std::size_t budget = 1000;
    auto decoded = avro_decode((*schema)->root(), input, budget);
    ASSERT_TRUE(decoded.ok());
    std::string json;
    avro_to_json((*schema)->root(), *decoded, json);
    EXPECT_EQ(json,
              R"({"id":-7,"note":"say \"hi\"","kind":"CASH","tags":["a","b"],"extra":{"fee":0.25},)"
              R"("ratio":null,"ok":true})");
}

}  // namespace
}  // namespace millrace
