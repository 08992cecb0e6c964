#include "formats/csv_encoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "types/time_codec.h"
#include "types/value.h"

namespace millrace {
namespace {

std::shared_ptr<const Schema> all_types_schema() {
    return std::make_shared<const Schema>(std::vector<Field>{
        {"b", DataType::kBool, true},
        {"i", DataType::kInt32, true},
        {"l", DataType::kInt64, true},
        {"d", DataType::kFloat64, true},
        {"s", DataType::kString, true},
        {"y", DataType::kBytes, true},
        {"t", DataType::kTimestamp, true},
        {"day", DataType::kDate, true},
    });
}

Batch make_batch(std::shared_ptr<const Schema> schema,
                 const std::vector<std::vector<Value>>& rows) {
    BatchBuilder builder(std::move(schema));
    for (const auto& row : rows) {
        for (std::size_t c = 0; c < row.size(); ++c) builder.column(c).append_value(row[c]);
        builder.commit_row();
    }
    return builder.finish();
}

std::string encode(const Batch& batch, CsvOptions options = {}, bool header = true) {
    CsvEncoder encoder(std::move(options));
    std::string out;
    if (header) encoder.write_header(batch.schema(), out);
    encoder.encode(batch, out);
    return out;
}

// Same values, with doubles compared bit for bit (so NaN equals NaN and -0 differs from 0).
void expect_same_values(const Batch& expected, const Batch& actual) {
    ASSERT_EQ(expected.schema(), actual.schema());
    ASSERT_EQ(expected.num_rows(), actual.num_rows());
    for (std::size_t r = 0; r < expected.num_rows(); ++r) {
        for (std::size_t c = 0; c < expected.num_columns(); ++c) {
            const Value a = expected.value_at(r, c);
            const Value b = actual.value_at(r, c);
            if (!a.is_null() && a.type() == DataType::kFloat64 && !b.is_null()) {
                const double x = a.as_double(), y = b.as_double();
                EXPECT_EQ(std::memcmp(&x, &y, sizeof x), 0) << "row " << r << " column " << c;
            } else {
                EXPECT_EQ(a, b) << "row " << r << " column " << c << ": " << a.to_string() << " vs "
                                << b.to_string();
            }
        }
    }
}

// Encodes, decodes with the same options, and expects the same batch back.
void expect_round_trip(const Batch& batch, CsvOptions options = {}) {
    const std::string text = encode(batch, options, options.header);
    CsvDecoder decoder(batch.schema_ptr(), options);
    CollectingSink sink;
    Status status = decoder.decode(text, sink);
    ASSERT_TRUE(status.ok()) << status.error().to_string();
    ASSERT_TRUE(sink.errors.empty()) << sink.errors[0].reason << "\n" << text;
    if (batch.num_rows() == 0) {
        EXPECT_TRUE(sink.batches.empty());
        return;
    }
    ASSERT_EQ(sink.batches.size(), 1u) << text;
    expect_same_values(batch, sink.batches[0]);
}

Value str(std::string_view text) { return Value::string(std::string(text)); }

TEST(CsvEncoderTest, WritesHeaderQuotingNamesWhenNeeded) {
    Schema schema(std::vector<Field>{{"id", DataType::kInt64, true},
                                     {"a,b", DataType::kString, true},
                                     {"say \"hi\"", DataType::kString, true},
                                     {" padded", DataType::kString, true}});
    CsvEncoder encoder({});
    std::string out;
    encoder.write_header(schema, out);
    EXPECT_EQ(out, "id,\"a,b\",\"say \"\"hi\"\"\",\" padded\"\n");
}

TEST(CsvEncoderTest, QuotesOnlyWhenNeeded) {
    auto schema =
        std::make_shared<const Schema>(std::vector<Field>{{"s", DataType::kString, true}});
    Batch batch = make_batch(schema, {{str("plain")},
                                      {str("")},
                                      {Value::null()},
                                      {str("a,b")},
                                      {str("q\"q")},
                                      {str("line\nbreak")},
                                      {str("cr\r")},
                                      {str(" lead")},
                                      {str("trail\t")},
                                      {str("in side")},
                                      {str("naïve 中文")}});
    EXPECT_EQ(encode(batch, {}, false),
              "plain\n\"\"\n\n\"a,b\"\n\"q\"\"q\"\n\"line\nbreak\"\n\"cr\r\"\n\" lead\"\n"
              "\"trail\t\"\nin side\nnaïve 中文\n");
}

TEST(CsvEncoderTest, FormatsEveryType) {
    Batch batch = make_batch(
        all_types_schema(),
        {{Value::boolean(true), Value::int32(-5), Value::int64(9000000000), Value::float64(0.1),
          str("x"), Value::bytes("foo"), Value::timestamp(*parse_timestamp("2024-03-05T14:07:09Z")),
          Value::date(*parse_date("2024-03-05"))},
         {Value::boolean(false), Value::int32(0), Value::int64(-1), Value::float64(1e21), str("y"),
          Value::bytes(""), Value::timestamp(1'500'000), Value::date(0)},
         {Value::null(), Value::null(), Value::null(), Value::null(), Value::null(), Value::null(),
          Value::null(), Value::null()}});
    EXPECT_EQ(encode(batch),
              "b,i,l,d,s,y,t,day\n"
              "true,-5,9000000000,0.1,x,Zm9v,2024-03-05T14:07:09Z,2024-03-05\n"
              "false,0,-1,1e+21,y,\"\",1970-01-01T00:00:01.500000Z,1970-01-01\n"
              ",,,,,,,\n");
}

TEST(CsvEncoderTest, WritesShortestDoubles) {
    auto schema =
        std::make_shared<const Schema>(std::vector<Field>{{"d", DataType::kFloat64, true}});
    Batch batch = make_batch(schema, {{Value::float64(1.0)},
                                      {Value::float64(2.5)},
                                      {Value::float64(1.0 / 3)},
                                      {Value::float64(-0.0)},
                                      {Value::float64(std::numeric_limits<double>::infinity())},
                                      {Value::float64(-std::numeric_limits<double>::infinity())},
                                      {Value::float64(5e-324)}});
    EXPECT_EQ(encode(batch, {}, false), "1\n2.5\n0.3333333333333333\n-0\ninf\n-inf\n5e-324\n");
}

TEST(CsvEncoderTest, NullsUseFirstMarkerAndMarkerTextIsQuoted) {
    auto schema = std::make_shared<const Schema>(
        std::vector<Field>{{"s", DataType::kString, true}, {"n", DataType::kInt32, true}});
    CsvOptions options;
    options.null_markers = {"NULL", ""};
    Batch batch = make_batch(schema, {{Value::null(), Value::null()},
                                      {str("NULL"), Value::int32(1)},
                                      {str(""), Value::int32(2)}});
    EXPECT_EQ(encode(batch, options, false), "NULL,NULL\n\"NULL\",1\n\"\",2\n");
    expect_round_trip(batch, options);
}

TEST(CsvEncoderTest, RoundTripsEveryType) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    Batch batch = make_batch(
        all_types_schema(),
        {{Value::boolean(true), Value::int32(std::numeric_limits<int32_t>::min()),
          Value::int64(std::numeric_limits<int64_t>::min()), Value::float64(0.1),
          str("say \"hi\", then\r\nleave"), Value::bytes(std::string("\0\xff\x01", 3)),
          Value::timestamp(*parse_timestamp("0001-01-01T00:00:00Z")),
          Value::date(*parse_date("0001-01-01"))},
         {Value::boolean(false), Value::int32(std::numeric_limits<int32_t>::max()),
          Value::int64(std::numeric_limits<int64_t>::max()),
          Value::float64(std::numeric_limits<double>::max()), str(""), Value::bytes(""),
          Value::timestamp(*parse_timestamp("9999-12-31T23:59:59.999999Z")),
          Value::date(*parse_date("9999-12-31"))},
         {Value::null(), Value::null(), Value::null(), Value::null(), Value::null(), Value::null(),
          Value::null(), Value::null()},
         {Value::boolean(true), Value::int32(0), Value::int64(0), Value::float64(nan),
          str("中文 ünïcödé 🚀"), Value::bytes("NULL"), Value::timestamp(-1), Value::date(-1)},
         {Value::boolean(false), Value::int32(-1), Value::int64(1), Value::float64(-0.0),
          str(" spaced "), Value::bytes(std::string(100, '\xab')), Value::timestamp(0),
          Value::date(1)},
         {Value::null(), Value::int32(7), Value::null(),
          Value::float64(-std::numeric_limits<double>::infinity()), str("\""), Value::null(),
          Value::timestamp(1), Value::null()}});
    expect_round_trip(batch);
    CsvOptions no_header;
    no_header.header = false;
    expect_round_trip(batch, no_header);
    CsvOptions markers;
    markers.null_markers = {"NULL"};
    expect_round_trip(batch, markers);
}

TEST(CsvEncoderTest, RoundTripsOneColumnWithNullsAndEmptyStrings) {
    auto schema =
        std::make_shared<const Schema>(std::vector<Field>{{"s", DataType::kString, true}});
    Batch batch = make_batch(
        schema, {{Value::null()}, {str("")}, {Value::null()}, {str("a")}, {Value::null()}});
    expect_round_trip(batch);
    CsvOptions no_header;
    no_header.header = false;
    expect_round_trip(batch, no_header);
}

TEST(CsvEncoderTest, QuotesValuesThatHoldAnUnusualDelimiter) {
    Batch batch = make_batch(all_types_schema(),
                             {{Value::boolean(true), Value::int32(-5), Value::int64(-9),
                               Value::float64(-1.5e-7), str("a-b.c:d"), Value::bytes("\xfb\xff"),
                               Value::timestamp(*parse_timestamp("2024-03-05T14:07:09.25Z")),
                               Value::date(*parse_date("2024-03-05"))}});
    for (char delimiter : {'-', '.', ':', 'e', '/', '+', '=', 'T'}) {
        CsvOptions options;
        options.delimiter = delimiter;
        SCOPED_TRACE(std::string(1, delimiter));
        expect_round_trip(batch, options);
    }
    CsvOptions quote;
    quote.quote = '-';
    expect_round_trip(batch, quote);
}

TEST(CsvEncoderTest, RoundTripsRandomText) {
    std::mt19937 random(42);
    const std::string_view alphabet[] = {"a", "b",  "Z",  "0",    " ",  "\t", ",",
                                         ";", "|",  "\"", "'",    "\n", "\r", "\r\n",
                                         "é", "中", "🚀",  "NULL", "\\N"};
    auto random_text = [&] {
        std::string text;
        // Mostly short texts, some long enough to cross the decoder's 64-byte scan windows.
        const int length = static_cast<int>(random() % 8 == 0 ? random() % 120 : random() % 12);
        for (int i = 0; i < length; ++i) text += alphabet[random() % std::size(alphabet)];
        return text;
    };
    auto schema = std::make_shared<const Schema>(std::vector<Field>{
        {"a", DataType::kString, true},
        {"b", DataType::kString, true},
        {"c", DataType::kBytes, true},
    });
    struct Dialect {
        char delimiter;
        char quote;
        std::vector<std::string> markers;
    };
    const Dialect dialects[] = {
        {',', '"', {""}},
        {'\t', '"', {"\\N"}},
        {';', '\'', {"NULL", ""}},
        {'|', '"', {"", "NULL"}},
    };
    for (const Dialect& dialect : dialects) {
        std::vector<std::vector<Value>> rows;
        for (int r = 0; r < 300; ++r) {
            std::vector<Value> row;
            for (int c = 0; c < 3; ++c) {
                if (random() % 7 == 0) {
                    row.push_back(Value::null());
                } else if (c == 2) {
                    row.push_back(Value::bytes(random_text()));
                } else {
                    row.push_back(str(random_text()));
                }
            }
            rows.push_back(std::move(row));
        }
        CsvOptions options;
        options.delimiter = dialect.delimiter;
        options.quote = dialect.quote;
        options.null_markers = dialect.markers;
        SCOPED_TRACE(std::string(1, dialect.delimiter));
        expect_round_trip(make_batch(schema, rows), options);
    }
}

TEST(CsvEncoderTest, EmptyBatchWritesNothing) {
    std::string out;
    CsvEncoder encoder({});
    encoder.encode(Batch::empty(all_types_schema()), out);
    EXPECT_EQ(out, "");
}

TEST(CsvEncoderTest, AppendsAcrossBatches) {
    auto schema = std::make_shared<const Schema>(std::vector<Field>{{"n", DataType::kInt64, true}});
    CsvEncoder encoder({});
    std::string out;
    encoder.write_header(*schema, out);
    encoder.encode(make_batch(schema, {{Value::int64(1)}}), out);
    encoder.encode(make_batch(schema, {{Value::int64(2)}, {Value::int64(3)}}), out);
    EXPECT_EQ(out, "n\n1\n2\n3\n");
}

}  // namespace
}  // namespace millrace
