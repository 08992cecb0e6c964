#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace millrace {

struct GenerateOptions {
    std::string dataset = "orders";
    uint64_t rows = 10'000;
    std::string format;  // ndjson|csv; empty = the dataset's default (orders: ndjson, sales: csv)
    double bad_fraction = 0.0;
    uint64_t seed = 42;
    std::string output = "-";
    // dataset `sales` (retail POS, one CSV per day):
    uint32_t days = 7;
    uint32_t stores = 20;
    uint64_t rows_per_day = 10'000;
    std::string start;  // sales: default 2026-11-01; activity: default `days` days ago
    // dataset `activity` (web and app user events, one CSV per day; also uses days, rows_per_day,
    // start, output_dir):
    uint32_t users = 10'000;
    std::string target_bytes;  // e.g. 1G: sets rows_per_day so all files total about this much
    std::string output_dir = ".";
    // dataset `nexmark` (person.ndjson, auction.ndjson, bid.ndjson in output_dir; `rows` counts
    // the events of all three): the event-time rate, events per second.
    double rate = 10'000'000;
};

/// Parses a byte size: a number with an optional K, M, G or T suffix (powers of 1024), e.g.
/// "1G", "512M", "1000". nullopt when malformed.
std::optional<uint64_t> parse_byte_size(std::string_view text);

/// `millrace generate`: writes deterministic test data (datagen/) to a file or stdout
/// (`orders`), or one CSV file per day into a directory (`sales`, `activity`), or the three
/// relations of the Nexmark benchmark, one NDJSON file each, into a directory (`nexmark`).
int run_generate(const GenerateOptions& options);

}  // namespace millrace
