#include "datagen/activity_generator.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace millrace {
namespace {

std::string generate(ActivityGeneratorOptions options, uint64_t rows) {
    ActivityGenerator generator(options);
    generator.begin_day(0, rows);
    std::string out;
    while (generator.append_csv(out, 100) > 0) {
    }
    return out;
}

TEST(ActivityGeneratorTest, DeterministicRowsOfEightFields) {
    ActivityGeneratorOptions options;
    options.users = 50;
    const std::string a = generate(options, 1000);
    EXPECT_EQ(a, generate(options, 1000));
    EXPECT_EQ(std::count(a.begin(), a.end(), '\n'), 1000);
    std::size_t start = 0;
    int clicks = 0;
    while (start < a.size()) {
        const std::size_t end = a.find('\n', start);
        const std::string line = a.substr(start, end - start);
        EXPECT_EQ(std::count(line.begin(), line.end(), ','), 7) << line;
        if (line.find(",click,") != std::string::npos) ++clicks;
        start = end + 1;
    }
    EXPECT_GT(clicks, 100);  // about 20%
    EXPECT_LT(clicks, 300);
    EXPECT_EQ(ActivityGenerator::file_name(20'758), "activity_20261101.csv");
    EXPECT_EQ(ActivityGenerator::schema()->size(), 8u);
}

TEST(ActivityGeneratorTest, BadFractionMakesMalformedRows) {
    ActivityGeneratorOptions options;
    options.bad_fraction = 0.1;
    ActivityGenerator generator(options);
    generator.begin_day(0, 5000);
    std::string out;
    while (generator.append_csv(out, 1000) > 0) {
    }
    EXPECT_GT(generator.bad(), 350u);
    EXPECT_LT(generator.bad(), 650u);
    EXPECT_EQ(generator.generated(), 5000u);
}

}  // namespace
}  // namespace millrace
