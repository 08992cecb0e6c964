#include "datagen/pos_sales_generator.h"

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "types/time_codec.h"

namespace millrace {
namespace {

std::vector<std::string> split(const std::string& line, char separator) {
    std::vector<std::string> fields;
    std::stringstream stream(line);
    std::string field;
    while (std::getline(stream, field, separator)) fields.push_back(field);
    if (!line.empty() && line.back() == separator) fields.emplace_back();
    return fields;
}

std::vector<std::string> lines_of(std::string text) {
    if (!text.empty() && text.back() == '\n') text.pop_back();
    return split(text, '\n');
}

std::optional<double> parse_number(const std::string& text) {
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

std::string one_day(PosSalesGeneratorOptions options, uint64_t rows, uint32_t day_index = 0) {
    PosSalesGenerator generator(options);
    generator.begin_day(day_index, rows);
    std::string out;
    while (generator.append_csv(out, 333) > 0) {
    }
    return out;
}

TEST(PosSalesGeneratorTest, FileNamesAndSchema) {
    EXPECT_EQ(PosSalesGenerator::file_name(20'758), "sales_20261101.csv");
    EXPECT_EQ(PosSalesGenerator::file_name(20'758 + 30), "sales_20261201.csv");
    EXPECT_EQ(PosSalesGenerator::schema()->size(), 9u);
    EXPECT_EQ(split(std::string(PosSalesGenerator::kCsvHeader.substr(
                        0, PosSalesGenerator::kCsvHeader.size() - 1)),
                    ',')
                  .size(),
              9u);
}

TEST(PosSalesGeneratorTest, DeterministicPerSeed) {
    PosSalesGeneratorOptions options;
    options.bad_fraction = 0.02;
    EXPECT_EQ(one_day(options, 5'000), one_day(options, 5'000));
    PosSalesGeneratorOptions other = options;
    other.seed = 7;
    EXPECT_NE(one_day(options, 5'000), one_day(other, 5'000));
}

TEST(PosSalesGeneratorTest, ChunkingDoesNotChangeTheOutput) {
    PosSalesGenerator a;
    PosSalesGenerator b;
    a.begin_day(0, 1'000);
    b.begin_day(0, 1'000);
    std::string whole;
    std::string pieces;
    EXPECT_EQ(a.append_csv(whole, 5'000), 1'000u);
    while (b.append_csv(pieces, 7) > 0) {
    }
    EXPECT_EQ(whole, pieces);
}

TEST(PosSalesGeneratorTest, CleanRowsAreValidAndConsistent) {
    PosSalesGeneratorOptions options;
    options.stores = 12;
    const uint32_t day_index = 3;
    const std::string text = one_day(options, 20'000, day_index);
    const int64_t day_start = static_cast<int64_t>(options.start_day + day_index) * 86'400'000'000;
    int64_t previous = 0;
    uint64_t null_store = 0;
    uint64_t null_amount = 0;
    std::set<std::string> stores;
    std::map<std::string, std::pair<std::string, std::string>> products;
    for (const std::string& line : lines_of(text)) {
        const std::vector<std::string> f = split(line, ',');
        ASSERT_EQ(f.size(), 9u) << line;
        std::optional<int64_t> sold_at = parse_timestamp(f[2]);
        ASSERT_TRUE(sold_at.has_value()) << line;
        EXPECT_GE(*sold_at, day_start + 8 * 3'600'000'000LL);
        EXPECT_LT(*sold_at, day_start + 22 * 3'600'000'000LL);
        EXPECT_GE(*sold_at, previous);  // rising through the day
        previous = *sold_at;
        if (f[1].empty()) {
            ++null_store;
        } else {
            stores.insert(f[1]);
            EXPECT_GE(std::stoi(f[1]), 1);
            EXPECT_LE(std::stoi(f[1]), 12);
        }
        const double quantity = *parse_number(f[5]);
        const double unit_price = *parse_number(f[6]);
        if (f[7].empty()) {
            ++null_amount;
        } else {
            EXPECT_NEAR(*parse_number(f[7]), std::round(quantity * unit_price * 100) / 100, 1e-9);
        }
        // A product always has the same category and price.
        auto [it, inserted] = products.emplace(f[3], std::pair{f[4], f[6]});
        if (!inserted) {
            EXPECT_EQ(it->second, (std::pair{f[4], f[6]})) << f[3];
        }
    }
    EXPECT_EQ(stores.size(), 12u);
    // ~1% nulls each.
    EXPECT_GT(null_store, 100u);
    EXPECT_LT(null_store, 300u);
    EXPECT_GT(null_amount, 100u);
    EXPECT_LT(null_amount, 300u);
}

TEST(PosSalesGeneratorTest, BadRowsAreCountedAndMalformed) {
    PosSalesGeneratorOptions options;
    options.bad_fraction = 0.05;
    PosSalesGenerator generator(options);
    generator.begin_day(0, 10'000);
    std::string text;
    generator.append_csv(text, 10'000);
    uint64_t malformed = 0;
    for (const std::string& line : lines_of(text)) {
        const std::vector<std::string> f = split(line, ',');
        const bool bad = f.size() != 9 || !parse_timestamp(f[2]).has_value() ||
                         (!f[7].empty() && !parse_number(f[7]).has_value());
        malformed += bad ? 1 : 0;
    }
    EXPECT_EQ(malformed, generator.bad());
    EXPECT_GT(generator.bad(), 400u);
    EXPECT_LT(generator.bad(), 600u);
    EXPECT_EQ(generator.generated(), 10'000u);
}

}  // namespace
}  // namespace millrace
