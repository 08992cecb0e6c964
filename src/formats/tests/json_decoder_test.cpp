#include "formats/json_decoder.h"

#include <gtest/gtest.h>

#include <cmath>

#include "formats/json_encoder.h"
#include "types/value.h"

namespace millrace {
namespace {

std::shared_ptr<const Schema> orders_schema() {
    return std::make_shared<const Schema>(std::vector<Field>{
        {"order_id", DataType::kString, false},
        {"amount", DataType::kFloat64, true},
        {"items", DataType::kInt32, true},
        {"ts", DataType::kTimestamp, true},
        {"paid", DataType::kBool, true},
        {"day", DataType::kDate, true},
        {"blob", DataType::kBytes, true},
        {"count", DataType::kInt64, true},
    });
}

struct Decoded {
    std::vector<Batch> batches;
    std::vector<RowError> errors;
    std::size_t rows = 0;
    Value at(std::size_t row, std::string_view column) const {
        for (const Batch& batch : batches) {
            if (row < batch.num_rows()) {
                return batch.value_at(row, *batch.schema().index_of(column));
            }
            row -= batch.num_rows();
        }
        ADD_FAILURE() << "no row";
        return Value();
    }
};

Decoded decode(std::string_view input, std::shared_ptr<const Schema> schema = orders_schema(),
               JsonOptions options = {}) {
    JsonDecoder decoder(std::move(schema), options);
    CollectingSink sink;
    Status status = decoder.decode(input, sink);
    EXPECT_TRUE(status.ok());
    return Decoded{std::move(sink.batches), std::move(sink.errors), sink.rows};
}

TEST(JsonDecoderTest, DecodesNdjsonOfEveryType) {
    Decoded out = decode(
        R"({"order_id":"a","amount":12.5,"items":3,"ts":"2024-01-01T00:00:01Z","paid":true,"day":"2024-01-02","blob":"AAH/","count":9007199254740993})"
        "\n"
        R"({"count":-1,"order_id":"b","items":"7","amount":"2","ts":1700000000,"paid":"false"})"
        "\r\n\n   \n"
        R"({"order_id":"c\u00e9\n","amount":null,"ts":1700000000123})");
    ASSERT_TRUE(out.errors.empty()) << out.errors[0].reason;
    ASSERT_EQ(out.rows, 3u);
    EXPECT_EQ(out.at(0, "order_id"), Value::string("a"));
    EXPECT_EQ(out.at(0, "amount"), Value::float64(12.5));
    EXPECT_EQ(out.at(0, "items"), Value::int32(3));
    EXPECT_EQ(out.at(0, "ts"), Value::timestamp(1704067201'000'000LL));
    EXPECT_EQ(out.at(0, "paid"), Value::boolean(true));
    EXPECT_EQ(out.at(0, "day"), Value::date(19724));
    EXPECT_EQ(out.at(0, "blob"), Value::bytes(std::string("\x00\x01\xff", 3)));
    EXPECT_EQ(out.at(0, "count"), Value::int64(9007199254740993LL));
    EXPECT_EQ(out.at(1, "count"), Value::int64(-1));
    EXPECT_EQ(out.at(1, "items"), Value::int32(7));
    EXPECT_EQ(out.at(1, "amount"), Value::float64(2));
    EXPECT_EQ(out.at(1, "ts"), Value::timestamp(1700000000'000'000LL));
    EXPECT_EQ(out.at(1, "paid"), Value::boolean(false));
    EXPECT_EQ(out.at(1, "day"), Value::null());
    EXPECT_EQ(out.at(2, "order_id"), Value::string("c\xc3\xa9\n"));
    EXPECT_EQ(out.at(2, "amount"), Value::null());
    EXPECT_EQ(out.at(2, "ts"), Value::timestamp(1700000000'123'000LL));
}

TEST(JsonDecoderTest, BadRecordsAreRejectedAndTheRestDecodes) {
    const std::string input =
        "{\"order_id\":\"ok1\"}\n"                     // line 1: good
        "{\"order_id\":\"x\",\"amount\":\"abc\"}\n"    // line 2: wrong type
        "{\"order_id\": \"x\", \n"                     // line 3: malformed
        "{\"amount\":1}\n"                             // line 4: missing required
        "{\"order_id\":\"x\",\"items\":3000000000}\n"  // line 5: int32 overflow
        "{\"order_id\":\"x\",\"order_id\":\"y\"}\n"    // line 6: duplicate key
        "{\"order_id\":\"bad\xff\"}\n"                 // line 7: invalid UTF-8
        "[1,2]\n"                                      // line 8: not an object
        "{\"order_id\":\"x\",\"ts\":\"yesterday\"}\n"  // line 9: bad timestamp
        "{\"order_id\":\"x\"} trailing\n"              // line 10: trailing content
        "{\"order_id\":null}\n"                        // line 11: null in not null
        "{\"order_id\":\"x\",\"items\":1.5}\n"         // line 12: not an integer
        "{\"order_id\":\"x\",\"blob\":\"***\"}\n"      // line 13: bad base64
        "{\"order_id\":\"ok2\"}";                      // line 14: good, no final newline
    Decoded out = decode(input);
    ASSERT_EQ(out.rows, 2u);
    EXPECT_EQ(out.at(0, "order_id"), Value::string("ok1"));
    EXPECT_EQ(out.at(1, "order_id"), Value::string("ok2"));
    ASSERT_EQ(out.errors.size(), 12u);
    for (std::size_t i = 0; i < out.errors.size(); ++i) {
        const RowError& error = out.errors[i];
        EXPECT_EQ(error.line, i + 2) << error.reason;
        EXPECT_EQ(error.record_index, i + 1) << error.reason;
        const std::size_t line_start = [&] {
            std::size_t pos = 0;
            for (uint64_t l = 1; l < error.line; ++l) pos = input.find('\n', pos) + 1;
            return pos;
        }();
        EXPECT_EQ(error.byte_offset, line_start);
        EXPECT_EQ(error.raw, input.substr(line_start, input.find('\n', line_start) - line_start));
    }
    EXPECT_NE(out.errors[0].reason.find("field `amount`: expected double"), std::string::npos)
        << out.errors[0].reason;
    EXPECT_NE(out.errors[1].reason.find("malformed JSON"), std::string::npos);
    EXPECT_NE(out.errors[2].reason.find("missing required field `order_id`"), std::string::npos);
    EXPECT_NE(out.errors[3].reason.find("int32"), std::string::npos);
    EXPECT_NE(out.errors[4].reason.find("duplicate field"), std::string::npos);
    EXPECT_NE(out.errors[5].reason.find("UTF"), std::string::npos) << out.errors[5].reason;
    EXPECT_NE(out.errors[6].reason.find("expected a JSON object, got array"), std::string::npos);
    EXPECT_NE(out.errors[7].reason.find("not a timestamp"), std::string::npos);
    EXPECT_NE(out.errors[9].reason.find("declared not null"), std::string::npos);
}

TEST(JsonDecoderTest, DecodesAJsonArray) {
    Decoded out = decode(
        " [ {\"order_id\":\"a\",\"items\":1},\n {\"order_id\":\"b\",\"items\":\"x\"},"
        "\n {\"order_id\":\"c\"} ] ");
    ASSERT_EQ(out.rows, 2u);
    EXPECT_EQ(out.at(1, "order_id"), Value::string("c"));
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_EQ(out.errors[0].record_index, 1u);
    EXPECT_EQ(out.errors[0].line, 2u);
    EXPECT_EQ(out.errors[0].raw, "{\"order_id\":\"b\",\"items\":\"x\"}");
}

TEST(JsonDecoderTest, BrokenArrayKeepsTheRecordsBeforeTheBreak) {
    Decoded out = decode("[{\"order_id\":\"a\"},{\"order_id\":\"b\"},{\"order_id\":");
    EXPECT_GE(out.rows, 1u);
    ASSERT_FALSE(out.errors.empty());
    EXPECT_NE(out.errors.back().reason.find("malformed JSON array"), std::string::npos);
}

TEST(JsonDecoderTest, KeepsUnknownFieldsInExtra) {
    auto schema = std::make_shared<const Schema>(
        std::vector<Field>{{"id", DataType::kInt64, true}, {"_extra", DataType::kString, true}});
    Decoded out = decode("{\"id\":1,\"x\":[1, 2],\"y\":\"s\"}\n{\"id\":2}\n", schema);
    ASSERT_EQ(out.rows, 2u);
    EXPECT_EQ(out.at(0, "_extra"), Value::string("{\"x\":[1, 2],\"y\":\"s\"}"));
    EXPECT_EQ(out.at(1, "_extra"), Value::null());
}

TEST(JsonDecoderTest, NonStringValuesIntoStringColumnsKeepTheirJson) {
    auto schema =
        std::make_shared<const Schema>(std::vector<Field>{{"v", DataType::kString, true}});
    Decoded out = decode("{\"v\":{\"a\":[1,{}]}}\n{\"v\":12.50}\n{\"v\":true}\n", schema);
    ASSERT_EQ(out.rows, 3u);
    EXPECT_EQ(out.at(0, "v"), Value::string("{\"a\":[1,{}]}"));
    EXPECT_EQ(out.at(1, "v"), Value::string("12.50"));
    EXPECT_EQ(out.at(2, "v"), Value::string("true"));
}

TEST(JsonDecoderTest, SplitsIntoBatchesAndDecodesRecordsOneByOne) {
    JsonOptions options;
    options.decode.batch_rows = 2;
    JsonDecoder decoder(orders_schema(), options);
    CollectingSink sink;
    for (int i = 0; i < 5; ++i) {
        auto accepted =
            decoder.decode_record("{\"order_id\":\"" + std::to_string(i) + "\"}", i, 0, sink);
        ASSERT_TRUE(accepted.ok());
        EXPECT_TRUE(*accepted);
    }
    auto rejected = decoder.decode_record("{", 5, 0, sink);
    ASSERT_TRUE(rejected.ok());
    EXPECT_FALSE(*rejected);
    EXPECT_EQ(sink.batches.size(), 2u);
    ASSERT_TRUE(decoder.flush(sink).ok());
    ASSERT_EQ(sink.batches.size(), 3u);
    EXPECT_EQ(sink.batches[2].num_rows(), 1u);
    EXPECT_EQ(sink.rows, 5u);
    EXPECT_EQ(sink.errors.size(), 1u);
}

TEST(JsonDecoderTest, EpochUnits) {
    auto schema =
        std::make_shared<const Schema>(std::vector<Field>{{"t", DataType::kTimestamp, true}});
    JsonOptions millis;
    millis.epoch_unit = EpochUnit::kMilliseconds;
    Decoded out = decode("{\"t\":1500}\n{\"t\":1.5}\n", schema, millis);
    ASSERT_EQ(out.rows, 2u);
    EXPECT_EQ(out.at(0, "t"), Value::timestamp(1'500'000));
    EXPECT_EQ(out.at(1, "t"), Value::timestamp(1'500));
    Decoded automatic = decode("{\"t\":1700000000.25}\n{\"t\":1700000000000000}\n", schema);
    EXPECT_EQ(automatic.at(0, "t"), Value::timestamp(1700000000'250'000LL));
    EXPECT_EQ(automatic.at(1, "t"), Value::timestamp(1700000000'000'000LL));
    Decoded overflow = decode("{\"t\":9223372036854775807}\n{\"t\":1e300}\n", schema, [] {
        JsonOptions o;
        o.epoch_unit = EpochUnit::kSeconds;
        return o;
    }());
    EXPECT_EQ(overflow.rows, 0u);
    EXPECT_EQ(overflow.errors.size(), 2u);
}

TEST(JsonDecoderTest, EncoderOutputDecodesToTheSameBatch) {
    Decoded original = decode(
        "{\"order_id\":\"q\\\"\\\\\\u0001é\",\"amount\":0.1,\"items\":-5,\"ts\":\"1969-12-31T23:59:"
        "59.999999Z\","
        "\"paid\":false,\"day\":\"0001-01-01\",\"blob\":\"\",\"count\":-9223372036854775808}\n"
        "{\"order_id\":\"n\",\"amount\":\"NaN\"}\n{\"order_id\":\"i\",\"amount\":\"-Infinity\"}\n");
    ASSERT_TRUE(original.errors.empty()) << original.errors[0].reason;
    std::string encoded;
    JsonEncoder().encode(original.batches[0], encoded);
    Decoded again = decode(encoded);
    ASSERT_TRUE(again.errors.empty()) << again.errors[0].reason << "\n" << encoded;
    ASSERT_EQ(again.rows, original.rows);
    const auto schema = orders_schema();
    for (std::size_t row = 0; row < again.rows; ++row) {
        for (const Field& field : schema->fields()) {
            Value a = original.at(row, field.name);
            Value b = again.at(row, field.name);
            if (field.type == DataType::kFloat64 && !a.is_null() && std::isnan(a.as_double())) {
                EXPECT_TRUE(std::isnan(b.as_double()));
            } else {
                EXPECT_EQ(a, b) << field.name << " row " << row << "\n" << encoded;
            }
        }
    }
}

}  // namespace
}  // namespace millrace

namespace millrace {
namespace {

TEST(JsonDecoderArrayTest, OneBrokenElementCostsOnlyItself) {
    auto schema = std::make_shared<const Schema>(std::vector<Field>{{"a", DataType::kInt64, true}});
    JsonDecoder decoder(schema);
    CollectingSink sink;
    ASSERT_TRUE(decoder.decode("[{\"a\":1}, {\"a\": }, , {\"a\":\"x]\"}, {\"a\":3}]", sink).ok());
    EXPECT_EQ(sink.rows, 2u);
    ASSERT_EQ(sink.errors.size(), 3u);
    EXPECT_EQ(sink.errors[0].raw, "{\"a\": }");
    EXPECT_NE(sink.errors[1].reason.find("empty element"), std::string::npos);
    EXPECT_EQ(sink.errors[2].raw, "{\"a\":\"x]\"}");

    CollectingSink empty;
    ASSERT_TRUE(decoder.decode(" [ ] ", empty).ok());
    EXPECT_EQ(empty.rows, 0u);
    EXPECT_TRUE(empty.errors.empty());

    CollectingSink unterminated;
    ASSERT_TRUE(decoder.decode("[{\"a\":1},{\"a\":2", unterminated).ok());
    EXPECT_EQ(unterminated.rows, 1u);
    ASSERT_EQ(unterminated.errors.size(), 1u);
    EXPECT_NE(unterminated.errors[0].reason.find("unterminated"), std::string::npos);

    CollectingSink trailing;
    ASSERT_TRUE(decoder.decode("[{\"a\":1}] x", trailing).ok());
    EXPECT_EQ(trailing.rows, 1u);
    EXPECT_EQ(trailing.errors.size(), 1u);
}

}  // namespace
}  // namespace millrace

#include "datagen/order_generator.h"

namespace millrace {
namespace {

// Large inputs take the bulk (iterate_many) path; its results must be exactly those of decoding
// every line on its own, bad records included.
TEST(JsonDecoderBulkTest, BulkDecodingEqualsRecordByRecord) {
    OrderGeneratorOptions options;
    options.bad_fraction = 0.03;
    OrderGenerator generator(options);
    std::string input;
    generator.append_ndjson(input, 30'000);  // ~5 MB: more than one bulk window
    input += "{\"order_id\":\"x\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"amount\":1} {\"a\":1}\n";
    input += "\n  \n{\"order_id\":\"y\",\"timestamp\":\"2026-01-01T00:00:00Z\",\n\"amount\":1}\n";
    input += "  {\"order_id\":\"z\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"amount\":2}  \r\n";
    generator.append_ndjson(input, 1'000);

    JsonDecoder bulk(OrderGenerator::schema());
    CollectingSink bulk_sink;
    ASSERT_TRUE(bulk.decode(input, bulk_sink).ok());

    JsonDecoder single(OrderGenerator::schema());
    CollectingSink single_sink;
    std::vector<uint64_t> lines;
    std::size_t pos = 0;
    uint64_t record = 0;
    uint64_t line = 1;
    while (pos < input.size()) {
        std::size_t end = input.find('\n', pos);
        if (end == std::string::npos) end = input.size();
        std::string_view text(input.data() + pos, end - pos);
        if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
        if (text.find_first_not_of(" \t") != std::string_view::npos) {
            ASSERT_TRUE(single.decode_record(text, record++, pos, single_sink).ok());
            lines.push_back(line);
        }
        ++line;
        pos = end + 1;
    }
    ASSERT_TRUE(single.flush(single_sink).ok());

    EXPECT_GT(bulk_sink.errors.size(), 500u);
    ASSERT_EQ(bulk_sink.rows, single_sink.rows);
    ASSERT_EQ(bulk_sink.errors.size(), single_sink.errors.size());
    for (std::size_t i = 0; i < bulk_sink.errors.size(); ++i) {
        const RowError& a = bulk_sink.errors[i];
        const RowError& b = single_sink.errors[i];
        ASSERT_EQ(a.record_index, b.record_index) << a.reason;
        EXPECT_EQ(a.byte_offset, b.byte_offset);
        EXPECT_EQ(a.line, lines[b.record_index]);
        EXPECT_EQ(a.reason, b.reason);
        EXPECT_EQ(a.raw, b.raw);
    }
    std::size_t row = 0;
    std::size_t single_batch = 0, single_row = 0;
    for (const Batch& batch : bulk_sink.batches) {
        for (std::size_t r = 0; r < batch.num_rows(); ++r, ++row) {
            while (single_row >= single_sink.batches[single_batch].num_rows()) {
                ++single_batch;
                single_row = 0;
            }
            for (std::size_t c = 0; c < batch.num_columns(); ++c) {
                ASSERT_EQ(batch.value_at(r, c),
                          single_sink.batches[single_batch].value_at(single_row, c))
                    << "row " << row;
            }
            ++single_row;
        }
    }
}

}  // namespace
}  // namespace millrace

namespace millrace {
namespace {

// Strings are copied raw unless they hold a backslash; the check works on 8-byte words, so put
// an escape at every position around the word boundaries.
TEST(JsonDecoderStringTest, EscapesAtEveryPositionAreUnescaped) {
    auto schema =
        std::make_shared<const Schema>(std::vector<Field>{{"s", DataType::kString, true}});
    std::string input;
    std::vector<std::string> expected;
    for (std::size_t length = 0; length <= 20; ++length) {
        for (std::size_t at = 0; at <= length; ++at) {
            std::string raw(length, 'a');
            std::string want(length, 'a');
            if (at < length) {
                raw.replace(at, 1, "\\n");
                want[at] = '\n';
            }
            input += "{\"s\":\"" + raw + "\"}\n";
            expected.push_back(want);
        }
    }
    JsonDecoder decoder(schema);
    CollectingSink sink;
    ASSERT_TRUE(decoder.decode(input, sink).ok());
    ASSERT_TRUE(sink.errors.empty());
    ASSERT_EQ(sink.rows, expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(sink.batches[0].value_at(i, 0), Value::string(expected[i])) << i;
    }
}

}  // namespace
}  // namespace millrace

namespace millrace {
namespace {

// Found by fuzz_json_decoder: malformed NDJSON repeated past the bulk threshold made simdjson's
// document stream misbehave (undefined behaviour under UBSan) inside decode_window.
TEST(JsonDecoderFuzzRegression, MalformedLinesOnTheBulkPath) {
    const std::string record = "{\"lx\" {\n:}1\"l\":\n[1,2]\n{\"l[!\":1,\"l\":1}\n";
    std::string big;
    std::size_t reps = 0;
    while (big.size() < (70u << 10)) {
        big += record;
        big.push_back('\n');
        ++reps;
    }
    auto schema =
        std::make_shared<const Schema>(std::vector<Field>{{"l", DataType::kInt64, false}});
    JsonOptions options;
    options.decode.batch_rows = 7;
    JsonDecoder bulk(schema, options);
    CollectingSink bulk_sink;
    ASSERT_TRUE(bulk.decode(big, bulk_sink).ok());
    ASSERT_TRUE(bulk.flush(bulk_sink).ok());
    // Per repetition, as line-by-line decoding sees it: one good row, three bad lines.
    EXPECT_EQ(bulk_sink.rows, reps);
    EXPECT_EQ(bulk_sink.errors.size(), 3 * reps);
}

}  // namespace
}  // namespace millrace
