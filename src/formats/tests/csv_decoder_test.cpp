#include "formats/csv_decoder.h"

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "types/time_codec.h"
#include "types/value.h"

namespace millrace {
namespace {

std::shared_ptr<const Schema> make_schema(std::vector<Field> fields) {
    return std::make_shared<const Schema>(std::move(fields));
}

std::shared_ptr<const Schema> orders_schema() {
    return make_schema({
        {"id", DataType::kInt64, false},
        {"name", DataType::kString, true},
        {"amount", DataType::kFloat64, true},
    });
}

CollectingSink decode(std::string_view input, std::shared_ptr<const Schema> schema,
                      CsvOptions options = {}) {
    CsvDecoder decoder(std::move(schema), std::move(options));
    CollectingSink sink;
    Status status = decoder.decode(input, sink);
    EXPECT_TRUE(status.ok()) << status.error().to_string();
    return sink;
}

// All rows of all batches, as Values, for compact assertions.
std::vector<std::vector<Value>> rows_of(const CollectingSink& sink) {
    std::vector<std::vector<Value>> rows;
    for (const Batch& batch : sink.batches) {
        for (std::size_t r = 0; r < batch.num_rows(); ++r) {
            std::vector<Value> row;
            for (std::size_t c = 0; c < batch.num_columns(); ++c)
                row.push_back(batch.value_at(r, c));
            rows.push_back(std::move(row));
        }
    }
    return rows;
}

std::vector<Value> column_values(const CollectingSink& sink, std::size_t column) {
    std::vector<Value> values;
    for (const auto& row : rows_of(sink)) values.push_back(row[column]);
    return values;
}

Value str(std::string_view text) { return Value::string(std::string(text)); }

TEST(CsvDecoderTest, DecodesEveryType) {
    auto schema = make_schema({
        {"b", DataType::kBool, true},
        {"i", DataType::kInt32, true},
        {"l", DataType::kInt64, true},
        {"d", DataType::kFloat64, true},
        {"s", DataType::kString, true},
        {"y", DataType::kBytes, true},
        {"t", DataType::kTimestamp, true},
        {"day", DataType::kDate, true},
    });
    CollectingSink sink = decode(
        "b,i,l,d,s,y,t,day\n"
        "true,-7,9000000000,2.5,héllo,AAH/,2024-03-05T14:07:09.5Z,2024-03-05\n"
        ",,,,,,,\n",
        schema);
    ASSERT_EQ(sink.errors.size(), 0u) << sink.errors[0].reason;
    ASSERT_EQ(sink.batches.size(), 1u);
    const Batch& batch = sink.batches[0];
    ASSERT_EQ(batch.num_rows(), 2u);
    EXPECT_EQ(batch.schema(), *schema);
    EXPECT_EQ(batch.value_at(0, 0), Value::boolean(true));
    EXPECT_EQ(batch.value_at(0, 1), Value::int32(-7));
    EXPECT_EQ(batch.value_at(0, 2), Value::int64(9000000000));
    EXPECT_EQ(batch.value_at(0, 3), Value::float64(2.5));
    EXPECT_EQ(batch.value_at(0, 4), str("héllo"));
    EXPECT_EQ(batch.value_at(0, 5), Value::bytes(std::string("\0\1\xff", 3)));
    EXPECT_EQ(batch.value_at(0, 6), Value::timestamp(*parse_timestamp("2024-03-05T14:07:09.5Z")));
    EXPECT_EQ(batch.value_at(0, 7), Value::date(*parse_date("2024-03-05")));
    for (std::size_t c = 0; c < 8; ++c) EXPECT_TRUE(batch.value_at(1, c).is_null()) << c;
}

TEST(CsvDecoderTest, QuotedFieldsFollowRfc4180) {
    auto schema = make_schema({{"a", DataType::kString, true}, {"b", DataType::kString, true}});
    CollectingSink sink = decode(
        "a,b\n"
        "\"x,y\",\"say \"\"hi\"\"\"\n"
        "\"line1\nline2\",\"cr\rcrlf\r\nend\"\n"
        "\"\",\"\"\"\"\n"
        "plain,\"\"\"quoted start\"\n",
        schema);
    ASSERT_EQ(sink.errors.size(), 0u) << sink.errors[0].reason;
    auto rows = rows_of(sink);
    ASSERT_EQ(rows.size(), 4u);
    EXPECT_EQ(rows[0][0], str("x,y"));
    EXPECT_EQ(rows[0][1], str("say \"hi\""));
    EXPECT_EQ(rows[1][0], str("line1\nline2"));
    EXPECT_EQ(rows[1][1], str("cr\rcrlf\r\nend"));
    EXPECT_EQ(rows[2][0], str(""));  // quoted empty: an empty string, not null
    EXPECT_EQ(rows[2][1], str("\""));
    EXPECT_EQ(rows[3][0], str("plain"));
    EXPECT_EQ(rows[3][1], str("\"quoted start"));
}

TEST(CsvDecoderTest, AcceptsCrlfLfAndCrRowEnds) {
    for (std::string_view input :
         {"id,name\r\n1,a\r\n2,b\r\n", "id,name\n1,a\n2,b\n", "id,name\r1,a\r2,b\r",
          "id,name\n1,a\r\n2,b", "id,name\n1,a\n2,b"}) {
        CollectingSink sink = decode(input, orders_schema());
        EXPECT_EQ(sink.errors.size(), 0u) << input;
        EXPECT_EQ(rows_of(sink),
                  (std::vector<std::vector<Value>>{{Value::int64(1), str("a"), Value::null()},
                                                   {Value::int64(2), str("b"), Value::null()}}))
            << input;
    }
}

TEST(CsvDecoderTest, QuotedLastFieldWithoutFinalNewline) {
    CollectingSink sink = decode("id,name\n1,\"a\nb\"", orders_schema());
    EXPECT_EQ(sink.errors.size(), 0u);
    EXPECT_EQ(column_values(sink, 1), std::vector<Value>{str("a\nb")});
}

TEST(CsvDecoderTest, SkipsByteOrderMark) {
    CollectingSink sink = decode("\xEF\xBB\xBFid,name\n1,a\nx,b\n", orders_schema());
    EXPECT_EQ(column_values(sink, 0), std::vector<Value>{Value::int64(1)});
    ASSERT_EQ(sink.errors.size(), 1u);
    EXPECT_EQ(sink.errors[0].byte_offset, 15u);  // offsets count the BOM's bytes
    EXPECT_EQ(sink.errors[0].line, 3u);
}

TEST(CsvDecoderTest, MatchesHeaderByNameInAnyOrder) {
    auto schema = make_schema({
        {"id", DataType::kInt64, false},
        {"name", DataType::kString, true},
        {"missing", DataType::kFloat64, true},
    });
    CollectingSink sink = decode("extra,name,id\nzz,alice,1\nyy,bob,2\n", schema);
    EXPECT_EQ(sink.errors.size(), 0u);
    EXPECT_EQ(rows_of(sink),
              (std::vector<std::vector<Value>>{{Value::int64(1), str("alice"), Value::null()},
                                               {Value::int64(2), str("bob"), Value::null()}}));
}

TEST(CsvDecoderTest, MissingNotNullColumnIsSetupError) {
    CsvDecoder decoder(orders_schema(), {});
    CollectingSink sink;
    Status status = decoder.decode("name,amount\na,1\n", sink);
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().code(), ErrorCode::kNotFound);
    EXPECT_NE(status.error().message().find("`id`"), std::string::npos);
    EXPECT_EQ(status.error().location().line, 1);
    EXPECT_TRUE(sink.batches.empty());
    EXPECT_TRUE(sink.errors.empty());
}

TEST(CsvDecoderTest, DuplicateOrMalformedHeaderIsParseError) {
    for (std::string_view input :
         {"id,name,id\n1,a,2\n", "id,na\"me\n", "id,\"name\n1,a\n", "id,\"name\"x\n"}) {
        CsvDecoder decoder(orders_schema(), {});
        CollectingSink sink;
        Status status = decoder.decode(input, sink);
        ASSERT_FALSE(status.ok()) << input;
        EXPECT_EQ(status.error().code(), ErrorCode::kParse) << input;
    }
    // A repeated column the schema does not use is harmless.
    CollectingSink sink = decode("id,x,x\n1,a,b\n", orders_schema());
    EXPECT_EQ(sink.rows, 1u);
}

TEST(CsvDecoderTest, EmptyHeaderCellIsPositional) {
    auto schema =
        make_schema({{"column_1", DataType::kInt64, true}, {"v", DataType::kString, true}});
    CollectingSink sink = decode(",v\n7,a\n", schema);
    EXPECT_EQ(rows_of(sink), (std::vector<std::vector<Value>>{{Value::int64(7), str("a")}}));
}

TEST(CsvDecoderTest, WithoutHeaderFieldsArePositional) {
    CsvOptions options;
    options.header = false;
    CollectingSink sink = decode("1,a,2.5\n2,b,\n", orders_schema(), options);
    EXPECT_EQ(sink.errors.size(), 0u);
    EXPECT_EQ(rows_of(sink),
              (std::vector<std::vector<Value>>{{Value::int64(1), str("a"), Value::float64(2.5)},
                                               {Value::int64(2), str("b"), Value::null()}}));
}

TEST(CsvDecoderTest, NullMarkers) {
    auto schema = make_schema({
        {"s", DataType::kString, true},
        {"n", DataType::kInt32, true},
        {"y", DataType::kBytes, true},
    });
    CsvOptions options;
    options.header = false;
    // Default marker "": unquoted empty is null; quoted empty is an empty string (or null for a
    // non-text column, as quote-everything writers put it).
    CollectingSink sink = decode(",,\n\"\",\"\",\"\"\n", schema, options);
    EXPECT_EQ(sink.errors.size(), 0u);
    EXPECT_EQ(rows_of(sink),
              (std::vector<std::vector<Value>>{{Value::null(), Value::null(), Value::null()},
                                               {str(""), Value::null(), Value::bytes("")}}));

    options.null_markers = {"NULL", "\\N"};
    sink = decode("NULL,\\N,NULL\n\"NULL\",\"NULL\",\nx,,\n", schema, options);
    ASSERT_EQ(sink.errors.size(), 1u);  // an empty int is not null under these markers
    EXPECT_EQ(sink.errors[0].record_index, 2u);
    EXPECT_EQ(rows_of(sink),
              (std::vector<std::vector<Value>>{{Value::null(), Value::null(), Value::null()},
                                               {str("NULL"), Value::null(), Value::bytes("")}}));

    options.null_markers = {};
    sink = decode(",1,\n", schema, options);
    EXPECT_EQ(rows_of(sink),
              (std::vector<std::vector<Value>>{{str(""), Value::int32(1), Value::bytes("")}}));
}

TEST(CsvDecoderTest, ConvertsValues) {
    auto schema = make_schema({
        {"b", DataType::kBool, true},
        {"i", DataType::kInt32, true},
        {"d", DataType::kFloat64, true},
        {"t", DataType::kTimestamp, true},
    });
    CsvOptions options;
    options.header = false;
    CollectingSink sink = decode(
        "TRUE,+12, 1e3 ,2024-03-05 14:07:09\n"
        "f,-2147483648,-.5,2024-03-05T14:07:09+01:00\n"
        "Yes,2147483647,inf,1709647629\n"
        " no ,0,-Infinity,-1\n"
        "1,00012,NaN,2024-03-05\n"
        "0,-0,+4.25,0\n",
        schema, options);
    ASSERT_EQ(sink.errors.size(), 0u) << sink.errors[0].reason;
    EXPECT_EQ(
        column_values(sink, 0),
        (std::vector<Value>{Value::boolean(true), Value::boolean(false), Value::boolean(true),
                            Value::boolean(false), Value::boolean(true), Value::boolean(false)}));
    EXPECT_EQ(
        column_values(sink, 1),
        (std::vector<Value>{Value::int32(12), Value::int32(std::numeric_limits<int32_t>::min()),
                            Value::int32(std::numeric_limits<int32_t>::max()), Value::int32(0),
                            Value::int32(12), Value::int32(0)}));
    auto doubles = column_values(sink, 2);
    EXPECT_EQ(doubles[0], Value::float64(1000));
    EXPECT_EQ(doubles[1], Value::float64(-0.5));
    EXPECT_EQ(doubles[2], Value::float64(std::numeric_limits<double>::infinity()));
    EXPECT_EQ(doubles[3], Value::float64(-std::numeric_limits<double>::infinity()));
    EXPECT_TRUE(std::isnan(doubles[4].as_double()));
    EXPECT_EQ(doubles[5], Value::float64(4.25));
    auto times = column_values(sink, 3);
    const int64_t base = *parse_timestamp("2024-03-05T14:07:09Z");
    EXPECT_EQ(times[0], Value::timestamp(base));
    EXPECT_EQ(times[1], Value::timestamp(base - 3600'000'000));
    EXPECT_EQ(times[2], Value::timestamp(1709647629'000'000));
    EXPECT_EQ(times[3], Value::timestamp(-1'000'000));
    EXPECT_EQ(times[4], Value::timestamp(*parse_timestamp("2024-03-05")));
    EXPECT_EQ(times[5], Value::timestamp(0));
}

TEST(CsvDecoderTest, DoublesMatchFromChars) {
    // The decoder has a fast path for plain decimals; it must agree with std::from_chars.
    std::mt19937_64 random(7);
    auto schema = make_schema({{"d", DataType::kFloat64, true}});
    CsvOptions options;
    options.header = false;
    std::string input;
    std::vector<std::string> texts;
    for (int i = 0; i < 5000; ++i) {
        std::string text = random() % 2 == 0 ? "-" : "";
        const int int_digits = static_cast<int>(random() % 12);
        const int fraction_digits = static_cast<int>(random() % 10);
        for (int d = 0; d < int_digits; ++d) text.push_back(static_cast<char>('0' + random() % 10));
        if (fraction_digits > 0 || int_digits == 0) {
            text.push_back('.');
            for (int d = 0; d < std::max(fraction_digits, 1); ++d) {
                text.push_back(static_cast<char>('0' + random() % 10));
            }
        }
        texts.push_back(text);
        input += text + "\n";
    }
    CollectingSink sink = decode(input, schema, options);
    ASSERT_EQ(sink.errors.size(), 0u) << sink.errors[0].reason;
    auto values = column_values(sink, 0);
    ASSERT_EQ(values.size(), texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i) {
        double expected = 0;
        std::from_chars(texts[i].data(), texts[i].data() + texts[i].size(), expected);
        const double actual = values[i].as_double();
        EXPECT_EQ(std::memcmp(&expected, &actual, sizeof actual), 0) << texts[i];
    }
}

struct BadValueCase {
    DataType type;
    std::string_view text;
};

TEST(CsvDecoderTest, RejectsUnconvertibleValues) {
    const BadValueCase cases[] = {
        {DataType::kBool, "maybe"},
        {DataType::kBool, "2"},
        {DataType::kInt32, "2147483648"},
        {DataType::kInt32, "-2147483649"},
        {DataType::kInt32, "1.5"},
        {DataType::kInt32, "+-1"},
        {DataType::kInt32, "+"},
        {DataType::kInt32, "1 2"},
        {DataType::kInt64, "9223372036854775808"},
        {DataType::kInt64, "0x10"},
        {DataType::kFloat64, "abc"},
        {DataType::kFloat64, "1e999"},
        {DataType::kFloat64, "+-1"},
        {DataType::kFloat64, "1.5x"},
        {DataType::kTimestamp, "2024-13-01"},
        {DataType::kTimestamp, "99999999999999"},
        {DataType::kTimestamp, "yesterday"},
        {DataType::kTimestamp, "0001-01-01T00:00:00+01:00"},  // before year 1 in UTC
        {DataType::kTimestamp, "9999-12-31T23:30:00-01:00"},  // after year 9999 in UTC
        {DataType::kDate, "2024-02-30"},
        {DataType::kDate, "2024-02-03T00:00:00"},
        {DataType::kBytes, "abc"},
        {DataType::kBytes, "ab=c"},
        {DataType::kBytes, "Zh=="},
    };
    for (const BadValueCase& c : cases) {
        auto schema = make_schema({{"v", c.type, true}, {"k", DataType::kInt32, true}});
        CsvOptions options;
        options.header = false;
        std::string input = "\"" + std::string(c.text) + "\",1\n,2\n";
        CollectingSink sink = decode(input, schema, options);
        ASSERT_EQ(sink.errors.size(), 1u) << c.text;
        EXPECT_EQ(sink.errors[0].raw, input.substr(0, input.find('\n'))) << c.text;
        EXPECT_NE(sink.errors[0].reason.find("field `v`"), std::string::npos)
            << sink.errors[0].reason;
        EXPECT_NE(sink.errors[0].reason.find(type_name(c.type)), std::string::npos)
            << sink.errors[0].reason;
        // The bad row was rolled back entirely; the next one decodes.
        EXPECT_EQ(rows_of(sink),
                  (std::vector<std::vector<Value>>{{Value::null(), Value::int32(2)}}))
            << c.text;
    }
}

TEST(CsvDecoderTest, ConversionErrorNamesColumnTypeAndText) {
    CollectingSink sink = decode("id,name,amount\n1,a,abc\n", orders_schema());
    ASSERT_EQ(sink.errors.size(), 1u);
    EXPECT_EQ(sink.errors[0].reason, "field `amount`: expected double, got \"abc\"");
    sink = decode("id,name,amount\n99999999999999999999,a,1\n", orders_schema());
    ASSERT_EQ(sink.errors.size(), 1u);
    EXPECT_EQ(sink.errors[0].reason, "field `id`: int64 out of range: \"99999999999999999999\"");
}

TEST(CsvDecoderTest, ReportsEveryRowErrorKindAndContinues) {
    const std::string input =
        "id,name,amount\n"       // line 1
        "1,ok,1.5\n"             // line 2, record 0
        "2,ragged\n"             // line 3, record 1: too few fields
        "3,a,1,extra\n"          // line 4, record 2: too many fields
        "x,a,1\n"                // line 5, record 3: not an int64
        ",a,1\n"                 // line 6, record 4: null in a not-null column
        "5,\xff\xfe,1\n"         // line 7, record 5: invalid UTF-8
        "6,ab\"c,1\n"            // line 8, record 6: quote inside an unquoted field
        "7,\"ab\"c,1\n"          // line 9, record 7: text after a closing quote
        "8,\"multi\nline\",2\n"  // lines 10-11, record 8: fine
        "\n"                     // line 12: blank, skipped
        "9,\"open,1\nmore\n";    // lines 13-14, record 9: unterminated quote to the end
    CollectingSink sink = decode(input, orders_schema());
    EXPECT_EQ(column_values(sink, 0), (std::vector<Value>{Value::int64(1), Value::int64(8)}));
    struct Expected {
        uint64_t record_index;
        uint64_t line;
        std::string raw;
        std::string_view reason_part;
    };
    const Expected expected[] = {
        {1, 3, "2,ragged", "expected 3 fields, got 2"},
        {2, 4, "3,a,1,extra", "expected 3 fields, got 4"},
        {3, 5, "x,a,1", "field `id`: expected int64"},
        {4, 6, ",a,1", "field `id` is null but declared not null"},
        {5, 7, "5,\xff\xfe,1", "field `name`: invalid UTF-8 at byte 0"},
        {6, 8, "6,ab\"c,1", "field 2 (`name`): quote inside an unquoted field"},
        {7, 9, "7,\"ab\"c,1", "field 2 (`name`): text after a closing quote"},
        {9, 13, "9,\"open,1\nmore\n", "field 2 (`name`): unterminated quoted field"},
    };
    ASSERT_EQ(sink.errors.size(), std::size(expected));
    for (std::size_t i = 0; i < std::size(expected); ++i) {
        const RowError& error = sink.errors[i];
        SCOPED_TRACE(error.reason);
        EXPECT_EQ(error.record_index, expected[i].record_index);
        EXPECT_EQ(error.line, expected[i].line);
        EXPECT_EQ(error.raw, expected[i].raw);
        EXPECT_EQ(error.byte_offset, input.find("\n" + expected[i].raw) + 1);
        EXPECT_NE(error.reason.find(expected[i].reason_part), std::string::npos);
    }
}

TEST(CsvDecoderTest, ErrorReasonsAreValidUtf8) {
    auto schema = make_schema({{"v", DataType::kInt32, true}});
    CsvOptions options;
    options.header = false;
    CollectingSink sink = decode("\xff\x01\"\n", schema, options);
    ASSERT_EQ(sink.errors.size(), 1u);
    sink = decode("\"\xff\x01\"\"\"\n", schema, options);
    ASSERT_EQ(sink.errors.size(), 1u);
    EXPECT_EQ(sink.errors[0].reason, "field `v`: expected int32, got \"\\xff\\x01\\\"\"");
}

TEST(CsvDecoderTest, CutsRawBytes) {
    CsvOptions options;
    options.decode.max_raw_bytes = 4;
    CollectingSink sink = decode("id,name,amount\n1,a,b,c,d\n", orders_schema(), options);
    ASSERT_EQ(sink.errors.size(), 1u);
    EXPECT_EQ(sink.errors[0].raw, "1,a,");
}

TEST(CsvDecoderTest, SplitsBatches) {
    CsvOptions options;
    options.decode.batch_rows = 2;
    CollectingSink sink = decode("id,name,amount\n1,a,1\n2,b,2\nbad,c,3\n3,c,3\n4,d,4\n5,e,5\n",
                                 orders_schema(), options);
    ASSERT_EQ(sink.batches.size(), 3u);
    EXPECT_EQ(sink.batches[0].num_rows(), 2u);
    EXPECT_EQ(sink.batches[1].num_rows(), 2u);
    EXPECT_EQ(sink.batches[2].num_rows(), 1u);
    EXPECT_EQ(sink.batches[1].value_at(0, 0), Value::int64(3));
    EXPECT_EQ(sink.batches[2].value_at(0, 1), str("e"));
    EXPECT_EQ(sink.errors.size(), 1u);
    EXPECT_EQ(sink.rows, 5u);
}

TEST(CsvDecoderTest, ManyRowsAcrossBatches) {
    std::string input = "id,name,amount\n";
    for (int i = 0; i < 20000; ++i) {
        input += std::to_string(i) + ",name-" + std::string(i % 40, 'x') + "," + std::to_string(i) +
                 ".25\n";
    }
    CollectingSink sink = decode(input, orders_schema());
    EXPECT_EQ(sink.errors.size(), 0u);
    ASSERT_EQ(sink.rows, 20000u);
    EXPECT_EQ(sink.batches.size(), 3u);  // 8192 + 8192 + 3616
    std::size_t row = 0;
    for (const Batch& batch : sink.batches) {
        for (std::size_t r = 0; r < batch.num_rows(); ++r, ++row) {
            ASSERT_EQ(batch.column(0).value<int64_t>(r), static_cast<int64_t>(row));
            ASSERT_EQ(batch.column(1).string_at(r), "name-" + std::string(row % 40, 'x'));
            ASSERT_EQ(batch.column(2).value<double>(r), static_cast<double>(row) + 0.25);
        }
    }
}

TEST(CsvDecoderTest, SkipsBlankLinesAndCountsLines) {
    const std::string input = "\n\r\nid,name,amount\n\n1,a,1\r\n\r\n\rbad,b,2\n\n";
    CollectingSink sink = decode(input, orders_schema());
    EXPECT_EQ(sink.rows, 1u);
    ASSERT_EQ(sink.errors.size(), 1u);
    EXPECT_EQ(sink.errors[0].record_index, 1u);
    EXPECT_EQ(sink.errors[0].line, 8u);
    EXPECT_EQ(sink.errors[0].byte_offset, input.find("bad"));
}

TEST(CsvDecoderTest, BlankLineInOneColumnFileIsNull) {
    auto schema = make_schema({{"v", DataType::kString, true}});
    CollectingSink sink = decode("v\na\n\n\"\"\nb\n", schema);
    EXPECT_EQ(column_values(sink, 0),
              (std::vector<Value>{str("a"), Value::null(), str(""), str("b")}));
    // Unless the empty text is not a null marker: then blank lines are skipped as usual.
    CsvOptions options;
    options.null_markers = {"NULL"};
    sink = decode("v\na\n\n\"\"\nNULL\n\n", schema, options);
    EXPECT_EQ(column_values(sink, 0), (std::vector<Value>{str("a"), str(""), Value::null()}));
}

TEST(CsvDecoderTest, SkipRowsSkipsLinesBeforeHeader) {
    CsvOptions options;
    options.skip_rows = 2;
    CollectingSink sink = decode("# export of \"orders\nsecond\r\nid,name,amount\n1,a,1\nx,b,2\n",
                                 orders_schema(), options);
    EXPECT_EQ(sink.rows, 1u);
    ASSERT_EQ(sink.errors.size(), 1u);
    EXPECT_EQ(sink.errors[0].line, 5u);
    EXPECT_EQ(sink.errors[0].record_index, 1u);
}

TEST(CsvDecoderTest, EmptyInputsDecodeToNothing) {
    for (std::string_view input : {"", "\n\n", "\xEF\xBB\xBF", "id,name,amount\n"}) {
        CollectingSink sink = decode(input, orders_schema());
        EXPECT_TRUE(sink.batches.empty()) << input;
        EXPECT_TRUE(sink.errors.empty()) << input;
    }
}

TEST(CsvDecoderTest, OtherDelimiterAndQuote) {
    CsvOptions options;
    options.delimiter = '\t';
    options.quote = '\'';
    CollectingSink sink =
        decode("id\tname\tamount\n1\t'a\tb ''c'''\t2\n", orders_schema(), options);
    EXPECT_EQ(sink.errors.size(), 0u);
    EXPECT_EQ(
        rows_of(sink),
        (std::vector<std::vector<Value>>{{Value::int64(1), str("a\tb 'c'"), Value::float64(2)}}));
}

TEST(CsvDecoderTest, RejectsBadOptions) {
    auto check = [](CsvOptions options) {
        CsvDecoder decoder(orders_schema(), std::move(options));
        CollectingSink sink;
        Status status = decoder.decode("id\n1\n", sink);
        ASSERT_FALSE(status.ok());
        EXPECT_EQ(status.error().code(), ErrorCode::kInvalidArgument);
    };
    CsvOptions same;
    same.delimiter = '"';
    check(same);
    CsvOptions newline;
    newline.delimiter = '\n';
    check(newline);
    CsvOptions rows;
    rows.decode.batch_rows = 0;
    check(rows);
}

class FailingSink final : public DecodeSink {
public:
    Status on_batch(Batch) override {
        ++batches;
        return Error(ErrorCode::kIo, "disk full");
    }
    void on_error(RowError) override {}
    int batches = 0;
};

TEST(CsvDecoderTest, SinkErrorStopsDecoding) {
    CsvOptions options;
    options.decode.batch_rows = 1;
    CsvDecoder decoder(orders_schema(), options);
    FailingSink sink;
    Status status = decoder.decode("id,name,amount\n1,a,1\n2,b,2\n", sink);
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().code(), ErrorCode::kIo);
    EXPECT_EQ(sink.batches, 1);
}

TEST(CsvDecoderTest, DecoderIsReusable) {
    CsvDecoder decoder(orders_schema(), {});
    for (int i = 0; i < 2; ++i) {
        CollectingSink sink;
        ASSERT_TRUE(decoder.decode("id,name,amount\n1,a,1\nx,b,2\n", sink).ok());
        EXPECT_EQ(sink.rows, 1u);
        ASSERT_EQ(sink.errors.size(), 1u);
        EXPECT_EQ(sink.errors[0].record_index, 1u);
        EXPECT_EQ(sink.errors[0].line, 3u);
    }
}

TEST(CsvDecoderTest, LongFieldsWithSpecialsAtEveryPosition) {
    // Exercises the 16-byte scanning path: a delimiter or line end at every offset of a chunk.
    auto schema = make_schema({{"a", DataType::kString, true}, {"b", DataType::kString, true}});
    CsvOptions options;
    options.header = false;
    std::string input;
    std::vector<std::vector<Value>> expected;
    for (std::size_t n = 0; n < 40; ++n) {
        std::string a(n, 'a');
        std::string b(39 - n, 'b');
        input += a + "," + b + (n % 2 == 0 ? "\n" : "\r\n");
        expected.push_back(
            {a.empty() ? Value::null() : str(a), b.empty() ? Value::null() : str(b)});
    }
    CollectingSink sink = decode(input, schema, options);
    EXPECT_EQ(sink.errors.size(), 0u);
    EXPECT_EQ(rows_of(sink), expected);
}

// ---------------------------------------------------------------------------------------------

TEST(InferCsvSchemaTest, InfersTypesFromValues) {
    Result<Schema> schema = infer_csv_schema(
        "b,i,d,day,ts,s,n,mixed,zero_one\n"
        "true,1,1.5,2024-01-01,2024-01-01T10:00:00Z,x,,1,0\n"
        "F,-20,2,2024-01-02,2024-01-02,\"y\",,2024-01-01,1\n"
        "yes,,,,,,,,\n",
        {});
    ASSERT_TRUE(schema.ok()) << schema.error().to_string();
    EXPECT_EQ(schema->to_string(), Schema(std::vector<Field>{
                                              {"b", DataType::kBool, true},
                                              {"i", DataType::kInt64, true},
                                              {"d", DataType::kFloat64, true},
                                              {"day", DataType::kDate, true},
                                              {"ts", DataType::kTimestamp, true},
                                              {"s", DataType::kString, true},
                                              {"n", DataType::kString, true},
                                              {"mixed", DataType::kString, true},
                                              {"zero_one", DataType::kInt64, true},
                                          })
                                       .to_string());
}

TEST(InferCsvSchemaTest, WithoutHeaderNamesColumnsByPosition) {
    CsvOptions options;
    options.header = false;
    Result<Schema> schema = infer_csv_schema("1,a\n2,b\n", options);
    ASSERT_TRUE(schema.ok());
    EXPECT_EQ(*schema, Schema(std::vector<Field>{{"column_1", DataType::kInt64, true},
                                                 {"column_2", DataType::kString, true}}));
}

TEST(InferCsvSchemaTest, IgnoresNullMarkersRaggedRowsAndCutRecords) {
    CsvOptions options;
    options.null_markers = {"NA", ""};
    Result<Schema> schema = infer_csv_schema(
        "\xEF\xBB\xBF"
        "a,b\nNA,1\n2,\"\"\nx,y,z\n3,\"cut",
        options);
    ASSERT_TRUE(schema.ok());
    EXPECT_EQ(*schema, Schema(std::vector<Field>{{"a", DataType::kInt64, true},
                                                 {"b", DataType::kInt64, true}}));
}

TEST(InferCsvSchemaTest, InferredSchemaDecodesTheSample) {
    const std::string sample =
        "order_id,ts,amount,paid,city\n"
        "o-1,2024-03-05T14:07:09Z,12.50,true,Paris\n"
        "o-2,2024-03-05 14:08:00,8,false,\n";
    Result<Schema> schema = infer_csv_schema(sample, {});
    ASSERT_TRUE(schema.ok());
    CollectingSink sink = decode(sample, std::make_shared<const Schema>(*schema));
    EXPECT_EQ(sink.errors.size(), 0u);
    EXPECT_EQ(sink.rows, 2u);
}

TEST(InferCsvSchemaTest, Errors) {
    EXPECT_EQ(infer_csv_schema("", {}).error().code(), ErrorCode::kParse);
    EXPECT_EQ(infer_csv_schema("\n\n", {}).error().code(), ErrorCode::kParse);
    EXPECT_EQ(infer_csv_schema("a,a\n1,2\n", {}).error().code(), ErrorCode::kParse);
    EXPECT_EQ(infer_csv_schema("a,\"b\n", {}).error().code(), ErrorCode::kParse);
    CsvOptions bad;
    bad.quote = ',';
    EXPECT_EQ(infer_csv_schema("a\n", bad).error().code(), ErrorCode::kInvalidArgument);
    // A header without data rows: every column is a string.
    Result<Schema> schema = infer_csv_schema("a,b\n", {});
    ASSERT_TRUE(schema.ok());
    EXPECT_EQ(schema->field(1).type, DataType::kString);
}

}  // namespace
}  // namespace millrace
