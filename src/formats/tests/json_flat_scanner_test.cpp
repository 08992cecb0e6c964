#include "formats/json_flat_scanner.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "datagen/order_generator.h"
#include "formats/json_decoder.h"
#include "types/value.h"

namespace millrace {
namespace {

std::shared_ptr<const Schema> every_type() {
    return std::make_shared<const Schema>(std::vector<Field>{
        {"s", DataType::kString, false},
        {"d", DataType::kFloat64, true},
        {"i", DataType::kInt32, true},
        {"l", DataType::kInt64, true},
        {"t", DataType::kTimestamp, true},
        {"b", DataType::kBool, true},
        {"day", DataType::kDate, true},
        {"y", DataType::kBytes, true},
    });
}

// Decodes with and without the flat scanner and requires the same rows and the same errors.
void expect_same_as_full_path(const std::string& input, std::shared_ptr<const Schema> schema) {
    CollectingSink sinks[2];
    for (int fast = 0; fast < 2; ++fast) {
        JsonOptions options;
        options.flat_fast_path = fast == 1;
        options.decode.batch_rows = 100;
        JsonDecoder decoder(schema, options);
        ASSERT_TRUE(decoder.decode(input, sinks[fast]).ok());
    }
    ASSERT_EQ(sinks[0].rows, sinks[1].rows);
    ASSERT_EQ(sinks[0].errors.size(), sinks[1].errors.size());
    for (std::size_t i = 0; i < sinks[0].errors.size(); ++i) {
        EXPECT_EQ(sinks[0].errors[i].record_index, sinks[1].errors[i].record_index);
        EXPECT_EQ(sinks[0].errors[i].line, sinks[1].errors[i].line);
        EXPECT_EQ(sinks[0].errors[i].reason, sinks[1].errors[i].reason);
    }
    ASSERT_EQ(sinks[0].batches.size(), sinks[1].batches.size());
    for (std::size_t b = 0; b < sinks[0].batches.size(); ++b) {
        const Batch& full = sinks[0].batches[b];
        const Batch& flat = sinks[1].batches[b];
        ASSERT_EQ(full.num_rows(), flat.num_rows());
        for (std::size_t r = 0; r < full.num_rows(); ++r) {
            for (std::size_t c = 0; c < full.num_columns(); ++c) {
                const Value a = full.value_at(r, c);
                const Value z = flat.value_at(r, c);
                ASSERT_EQ(a, z) << "batch " << b << " row " << r << " column " << c;
                if (!a.is_null() && a.type() == DataType::kFloat64) {
                    ASSERT_EQ(std::signbit(a.as_double()), std::signbit(z.as_double()));
                }
            }
        }
    }
}

const char* const kRecords[] = {
    R"({"s":"a","d":1.5,"i":7,"l":-9,"t":"2026-01-01T00:00:00Z","b":true,"day":"2026-01-02"})",
    R"(  { "s" : "spaced" , "d" : 2 , "i" : 0 }  )",
    R"({"s":"x"})",
    R"({"s":"x","d":null,"i":null,"t":null,"b":null,"day":null,"y":null})",
    R"({"s":null})",
    R"({"d":1})",
    R"({})",
    R"({"s":"dup","s":"dup"})",
    R"({"s":"esc\"aped"})",
    R"({"s":"uni\u00e9"})",
    R"({"s":"caf\u00e9 \u2603 naïve ☃"})",
    R"({"s":"nested","d":{"x":1}})",
    R"({"s":{"x":[1,2]}})",
    R"({"s":[1,2,3]})",
    R"({"s":12345})",
    R"({"s":-1.5e3})",
    R"({"s":true})",
    R"({"s":false,"b":false})",
    R"({"s":"n","d":-0})",
    R"({"s":"n","d":-0.0})",
    R"({"s":"n","l":-0})",
    R"({"s":"n","d":1e400})",
    R"({"s":"n","d":1e-400})",
    R"({"s":"n","d":123456789012345678901234567890})",
    R"({"s":"n","d":0.1,"l":9223372036854775807})",
    R"({"s":"n","l":9223372036854775808})",
    R"({"s":"n","l":-9223372036854775808})",
    R"({"s":"n","i":2147483648})",
    R"({"s":"n","i":-2147483648})",
    R"({"s":"n","i":1.0})",
    R"({"s":"n","i":1e2})",
    R"({"s":"n","i":012})",
    R"({"s":"n","d":1.})",
    R"({"s":"n","d":.5})",
    R"({"s":"n","d":-})",
    R"({"s":"n","d":1e})",
    R"({"s":"n","d":"2.5"})",
    R"({"s":"n","i":"42"})",
    R"({"s":"n","b":"true"})",
    R"({"s":"n","b":tru})",
    R"({"s":"n","b":nul})",
    R"({"s":"n","t":1767225600})",
    R"({"s":"n","t":"2026-02-30T25:00:00Z"})",
    R"({"s":"n","t":"2026-03-05 14:07:09.123456+08:00"})",
    R"({"s":"n","day":"2026-13-01"})",
    R"({"s":"n","y":"aGVsbG8="})",
    R"({"s":"n","other":"x","more":[1],"z":{"a":1}})",
    R"({"s":"n","other":1,"x":true,"y2":null,"w":-3.5e-2})",
    R"({"s":"n","ot\"her":1})",
    R"({"s\u0000":"n"})",
    R"({"s":"n"} trailing)",
    R"({"s":"n"}})",
    R"({"s":"n",})",
    R"({"s":"n" "d":1})",
    R"({"s":"n","d":1)",
    R"({"s":"cut)",
    R"({"s")",
    R"({)",
    R"([1,2])",
    R"("just a string")",
    R"(42)",
    R"(null)",
    R"({"s":"tab	inside"})",
    R"({"s":"n","d":1,"d":2})",
    R"({"i":1,"s":"reordered","l":2,"d":3})",
};

TEST(FlatJsonScannerTest, EveryRecordDecodesAsTheFullPathDecodesIt) {
    std::string input;
    for (const char* record : kRecords) {
        input += record;
        input += '\n';
    }
    input += "{\"s\":\"bad utf8 \xC3\x28\"}\n";
    input += "{\"s\":\"control \x01 char\"}\n";
    input += "{\"s\":\"crlf\"}\r\n";
    expect_same_as_full_path(input, every_type());
}

TEST(FlatJsonScannerTest, EveryRecordAtEveryCutEqualsTheFullPath) {
    // Every prefix of every record: the scanner must give up wherever the grammar is unfinished.
    std::string input;
    for (const char* record : kRecords) {
        const std::string text(record);
        for (std::size_t cut = 1; cut <= text.size(); ++cut) {
            input.append(text, 0, cut);
            input += '\n';
        }
    }
    expect_same_as_full_path(input, every_type());
}

TEST(FlatJsonScannerTest, BulkWindowsOfGeneratedOrdersEqualTheFullPath) {
    OrderGeneratorOptions options;
    options.bad_fraction = 0.05;
    OrderGenerator generator(options);
    std::string input;
    generator.append_ndjson(input, 40'000);  // several bulk windows
    // Byte-level mutations here and there, as the fuzzer would make them.
    std::mt19937 random(7);
    for (int i = 0; i < 2000; ++i) {
        const std::size_t at = random() % input.size();
        const char replacements[] = {'"', '\\', '{', '}', ',', ':', ' ', '0', '-', 'e', '.'};
        input[at] = replacements[random() % sizeof(replacements)];
    }
    expect_same_as_full_path(input, OrderGenerator::schema());
}

TEST(FlatJsonScannerTest, MostlyNestedInputStillDecodes) {
    // Lines the scanner cannot take send the windows to simdjson's bulk path; results stay equal.
    std::string input;
    for (int i = 0; i < 20'000; ++i) {
        input += "{\"s\":{\"k\":" + std::to_string(i) + "},\"l\":" + std::to_string(i) + "}\n";
    }
    expect_same_as_full_path(input, every_type());
}

TEST(FlatJsonScannerTest, RandomNumbersReadAsTheFullPathReadsThem) {
    // Doubles of every digit count and scale, on both sides of the single-pass number route
    // (at most 15 digits, no exponent) and integers up to the int64 limits.
    std::mt19937_64 random(11);
    std::string input;
    for (int i = 0; i < 50'000; ++i) {
        const int digits = 1 + static_cast<int>(random() % 19);
        std::string number = random() % 2 ? "-" : "";
        std::string mantissa = std::to_string(random() % 9 + 1);
        for (int d = 1; d < digits; ++d) mantissa += static_cast<char>('0' + random() % 10);
        const int point = static_cast<int>(random() % (digits + 2));
        if (point == 0) {
            number += "0." + mantissa;
        } else if (point < digits) {
            number += mantissa.substr(0, point) + "." + mantissa.substr(point);
        } else {
            number += mantissa;
        }
        if (random() % 8 == 0) number += "e" + std::to_string(static_cast<int>(random() % 40) - 20);
        const std::string integer = (random() % 2 ? "-" : "") + mantissa;
        input += "{\"s\":\"n\",\"d\":" + number + ",\"l\":" + integer + "}\n";
    }
    expect_same_as_full_path(input, every_type());
}

TEST(FlatJsonScannerTest, SchemasWithAnExtraColumnAreLeftToTheFullPath) {
    auto schema = std::make_shared<const Schema>(std::vector<Field>{
        {"a", DataType::kString, true},
        {"_extra", DataType::kString, true},
    });
    EXPECT_FALSE(FlatJsonScanner(schema).enabled());
    EXPECT_TRUE(FlatJsonScanner(every_type()).enabled());
}

}  // namespace
}  // namespace millrace
