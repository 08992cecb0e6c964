#include "datagen/transaction_generator.h"

#include <gtest/gtest.h>

namespace millrace {
namespace {

Batch generate(TransactionGeneratorOptions options, uint64_t rows) {
    TransactionGenerator generator(options);
    BatchBuilder builder(TransactionGenerator::schema());
    generator.append(builder, rows / 2);
    generator.append(builder, rows - rows / 2);
    return builder.finish();
}

TEST(TransactionGeneratorTest, DeterministicOrderedAndSkewed) {
    TransactionGeneratorOptions options;
    options.accounts = 1000;
    const Batch a = generate(options, 5000);
    ASSERT_EQ(a.num_rows(), 5000u);
    EXPECT_EQ(a.to_string(5000), generate(options, 5000).to_string(5000));
    options.seed = 9;
    EXPECT_NE(a.to_string(50), generate(options, 5000).to_string(50));
    std::size_t low_accounts = 0;
    for (std::size_t row = 0; row < a.num_rows(); ++row) {
        EXPECT_EQ(a.column(0).value<int64_t>(row), static_cast<int64_t>(row + 1));
        if (row > 0) {
            EXPECT_GE(a.column(9).value<int64_t>(row), a.column(9).value<int64_t>(row - 1));
        }
        EXPECT_GT(a.column(6).value<double>(row), 0.0);
        if (a.column(1).string_at(row) < "a-000250") ++low_accounts;
    }
    EXPECT_GT(low_accounts, a.num_rows() / 3);  // a quarter of the accounts, half the traffic
}

}  // namespace
}  // namespace millrace
