#pragma once

#include <cstdint>
#include <string>

namespace millrace {

struct GenerateOptions {
    std::string dataset = "orders";
    uint64_t rows = 10'000;
    std::string format = "ndjson";  // ndjson|csv
    double bad_fraction = 0.0;
    uint64_t seed = 42;
    std::string output = "-";
};

/// `millrace generate`: writes deterministic test data (datagen/) to a file or stdout.
int run_generate(const GenerateOptions& options);

}  // namespace millrace
