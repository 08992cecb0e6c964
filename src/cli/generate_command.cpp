#include "cli/generate_command.h"

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <system_error>

#include "connectors/staged_output.h"
#include "datagen/activity_generator.h"
#include "datagen/nexmark_generator.h"
#include "datagen/order_generator.h"
#include "datagen/pos_sales_generator.h"
#include "formats/file_format.h"
#include "types/time_codec.h"

namespace millrace {

namespace {

bool write_all(std::FILE* out, const std::string& chunk) {
    return std::fwrite(chunk.data(), 1, chunk.size(), out) == chunk.size();
}

/// Writes `days` CSV files (one per day, named by the generator) of `rows_per_day` rows each into
/// options.output_dir; returns the bytes written, or nullopt after printing the error. Works with
/// any generator with begin_day/day/append_csv/file_name/kCsvHeader (sales, activity).
template <typename Generator>
std::optional<uint64_t> write_day_files(const GenerateOptions& options, Generator& generator,
                                        uint64_t rows_per_day) {
    std::error_code ec;
    std::filesystem::create_directories(options.output_dir, ec);
    if (ec) {
        std::fprintf(stderr, "millrace generate: cannot create directory %s: %s\n",
                     options.output_dir.c_str(), ec.message().c_str());
        return std::nullopt;
    }
    std::string chunk;
    constexpr uint64_t kChunkRows = 16'384;
    uint64_t total_bytes = 0;
    for (uint32_t d = 0; d < options.days; ++d) {
        generator.begin_day(d, rows_per_day);
        const std::string path =
            (std::filesystem::path(options.output_dir) / Generator::file_name(generator.day()))
                .string();
        auto staged = StagedOutput::create(path);
        auto stream = staged.ok() ? staged->stream() : Result<std::FILE*>(staged.error());
        if (!stream.ok()) {
            std::fprintf(stderr, "millrace generate: %s\n", stream.error().message().c_str());
            return std::nullopt;
        }
        std::FILE* out = *stream;
        chunk.assign(Generator::kCsvHeader);
        bool ok = true;
        while (ok) {
            const uint64_t appended = generator.append_csv(chunk, kChunkRows);
            ok = write_all(out, chunk);
            total_bytes += chunk.size();
            chunk.clear();
            if (appended == 0) break;
        }
        ok = ok && staged->commit().ok();
        if (!ok) {
            std::fprintf(stderr, "millrace generate: writing %s failed\n", path.c_str());
            return std::nullopt;
        }
    }
    return total_bytes;
}

int run_generate_sales(const GenerateOptions& options) {
    const std::optional<int32_t> start =
        parse_date(options.start.empty() ? "2026-11-01" : options.start);
    if (!start) {
        std::fprintf(stderr, "millrace generate: --start must be a date YYYY-MM-DD, got `%s`\n",
                     options.start.c_str());
        return 1;
    }
    if (options.days == 0 || options.stores == 0) {
        std::fprintf(stderr, "millrace generate: --days and --stores must be at least 1\n");
        return 1;
    }
    if (!options.format.empty() && options.format != "csv") {
        std::fprintf(stderr, "millrace generate: dataset `sales` is written as csv only\n");
        return 1;
    }
    PosSalesGeneratorOptions generator_options;
    generator_options.seed = options.seed;
    generator_options.bad_fraction = options.bad_fraction;
    generator_options.start_day = *start;
    generator_options.stores = options.stores;
    uint64_t rows_per_day = options.rows_per_day;
    if (!options.target_bytes.empty()) {
        const std::optional<uint64_t> target = parse_byte_size(options.target_bytes);
        if (!target || *target == 0) {
            std::fprintf(stderr,
                         "millrace generate: --target-bytes must be a size like 1G or 500M, got "
                         "`%s`\n",
                         options.target_bytes.c_str());
            return 1;
        }
        // Measure the mean row size on a sample drawn the same way.
        PosSalesGenerator sample(generator_options);
        constexpr uint64_t kSampleRows = 20'000;
        sample.begin_day(0, kSampleRows);
        std::string text;
        sample.append_csv(text, kSampleRows);
        const double bytes_per_row = static_cast<double>(text.size()) / kSampleRows;
        const double per_day = static_cast<double>(*target) / options.days -
                               static_cast<double>(PosSalesGenerator::kCsvHeader.size());
        rows_per_day = std::max<uint64_t>(1, static_cast<uint64_t>(per_day / bytes_per_row));
        // sale_id grows with the row count: correct for its typical width over the whole run.
        const auto digits = [](uint64_t v) { return v < 10 ? 1.0 : std::floor(std::log10(v)) + 1; };
        const double wider = digits(rows_per_day * options.days / 2) - digits(kSampleRows / 2);
        rows_per_day = std::max<uint64_t>(
            1, static_cast<uint64_t>(per_day / (bytes_per_row + std::max(0.0, wider))));
    }
    PosSalesGenerator generator(generator_options);
    const std::optional<uint64_t> total_bytes = write_day_files(options, generator, rows_per_day);
    if (!total_bytes) return 1;
    std::fprintf(stderr,
                 "generate: %llu sales records (%llu deliberately bad, %llu null store_id, %llu "
                 "null amount) in %u files, %llu bytes -> %s\n",
                 static_cast<unsigned long long>(generator.generated()),
                 static_cast<unsigned long long>(generator.bad()),
                 static_cast<unsigned long long>(generator.null_store()),
                 static_cast<unsigned long long>(generator.null_amount()), options.days,
                 static_cast<unsigned long long>(*total_bytes), options.output_dir.c_str());
    return 0;
}

int run_generate_activity(const GenerateOptions& options) {
    std::optional<int32_t> start;
    if (options.start.empty()) {  // the last `days` days, ending yesterday
        const int64_t today = std::chrono::duration_cast<std::chrono::hours>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count() /
                              24;
        start = static_cast<int32_t>(today - options.days);
    } else {
        start = parse_date(options.start);
    }
    if (!start) {
        std::fprintf(stderr, "millrace generate: --start must be a date YYYY-MM-DD, got `%s`\n",
                     options.start.c_str());
        return 1;
    }
    if (options.days == 0 || options.users == 0) {
        std::fprintf(stderr, "millrace generate: --days and --users must be at least 1\n");
        return 1;
    }
    if (!options.format.empty() && options.format != "csv") {
        std::fprintf(stderr, "millrace generate: dataset `activity` is written as csv only\n");
        return 1;
    }
    ActivityGeneratorOptions generator_options;
    generator_options.seed = options.seed;
    generator_options.bad_fraction = options.bad_fraction;
    generator_options.start_day = *start;
    generator_options.users = options.users;
    ActivityGenerator generator(generator_options);
    const std::optional<uint64_t> total_bytes =
        write_day_files(options, generator, options.rows_per_day);
    if (!total_bytes) return 1;
    std::fprintf(stderr,
                 "generate: %llu activity events (%llu deliberately bad) of %u users in %u "
                 "files, %llu bytes -> %s\n",
                 static_cast<unsigned long long>(generator.generated()),
                 static_cast<unsigned long long>(generator.bad()), options.users, options.days,
                 static_cast<unsigned long long>(*total_bytes), options.output_dir.c_str());
    return 0;
}

/// person.ndjson, auction.ndjson and bid.ndjson: the first `rows` events of the Nexmark
/// sequence, the rows a `generator: { kind: nexmark, seed, rate, limit: rows }` source of each
/// relation makes (so a batch run over the files can check a streaming run over the generator).
int run_generate_nexmark(const GenerateOptions& options) {
    if (!(options.rate > 0)) {
        std::fprintf(stderr, "millrace generate: --rate must be more than 0 events per second\n");
        return 1;
    }
    std::error_code ec;
    std::filesystem::create_directories(options.output_dir, ec);
    NexmarkGeneratorOptions generator_options;
    generator_options.seed = options.seed;
    generator_options.events_per_second = options.rate;
    for (NexmarkRelation relation :
         {NexmarkRelation::kPerson, NexmarkRelation::kAuction, NexmarkRelation::kBid}) {
        const std::string path = (std::filesystem::path(options.output_dir) /
                                  (std::string(nexmark_relation_name(relation)) + ".ndjson"))
                                     .string();
        auto created = StagedOutput::create(path);
        auto stream = created.ok() ? created->stream() : Result<std::FILE*>(created.error());
        if (!stream.ok()) {
            std::fprintf(stderr, "millrace generate: %s\n", stream.error().message().c_str());
            return 1;
        }
        NexmarkGenerator generator(relation, generator_options);
        std::string chunk;
        constexpr uint64_t kChunkEvents = 50'000;
        bool ok = true;
        for (uint64_t done = 0; done < options.rows && ok; done += kChunkEvents) {
            chunk.clear();
            generator.append_ndjson(chunk, std::min(kChunkEvents, options.rows - done));
            ok = write_all(*stream, chunk);
        }
        ok = ok && std::fflush(*stream) == 0 && created->commit().ok();
        if (!ok) {
            std::fprintf(stderr, "millrace generate: writing %s failed\n", path.c_str());
            return 1;
        }
    }
    std::fprintf(stderr,
                 "generate: %llu nexmark events (%llu people, %llu auctions, %llu bids) -> %s\n",
                 static_cast<unsigned long long>(options.rows),
                 static_cast<unsigned long long>(
                     NexmarkGenerator::count_in(NexmarkRelation::kPerson, options.rows)),
                 static_cast<unsigned long long>(
                     NexmarkGenerator::count_in(NexmarkRelation::kAuction, options.rows)),
                 static_cast<unsigned long long>(
                     NexmarkGenerator::count_in(NexmarkRelation::kBid, options.rows)),
                 options.output_dir.c_str());
    return 0;
}

}  // namespace

std::optional<uint64_t> parse_byte_size(std::string_view text) {
    uint64_t value = 0;
    const char* end = text.data() + text.size();
    auto [rest, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || rest == text.data()) return std::nullopt;
    std::string_view suffix(rest, static_cast<std::size_t>(end - rest));
    if (!suffix.empty() && (suffix.back() == 'B' || suffix.back() == 'b')) suffix.remove_suffix(1);
    int shift = 0;
    if (suffix.size() > 1) return std::nullopt;
    if (suffix.size() == 1) {
        switch (suffix[0]) {
            case 'k':
            case 'K':
                shift = 10;
                break;
            case 'm':
            case 'M':
                shift = 20;
                break;
            case 'g':
            case 'G':
                shift = 30;
                break;
            case 't':
            case 'T':
                shift = 40;
                break;
            default:
                return std::nullopt;
        }
    }
    if (shift > 0 && value > (~uint64_t{0} >> shift)) return std::nullopt;
    return value << shift;
}

int run_generate(const GenerateOptions& options) {
    if (!(options.bad_fraction >= 0.0 && options.bad_fraction <= 1.0)) {
        std::fprintf(stderr, "millrace generate: --bad-fraction must be between 0 and 1\n");
        return 1;
    }
    if (options.dataset == "sales") return run_generate_sales(options);
    if (options.dataset == "activity") return run_generate_activity(options);
    if (options.dataset == "nexmark") return run_generate_nexmark(options);
    if (options.dataset != "orders") {
        std::fprintf(stderr,
                     "millrace generate: unknown dataset `%s` (available: orders, sales, "
                     "activity, nexmark)\n",
                     options.dataset.c_str());
        return 1;
    }
    auto format = parse_file_format(options.format.empty() ? "ndjson" : options.format);
    if (!format || *format == FileFormat::kParquet) {  // text only: convert makes Parquet
        std::fprintf(stderr, "millrace generate: unknown format `%s` (expected ndjson or csv)\n",
                     options.format.c_str());
        return 1;
    }
    if (!(options.bad_fraction >= 0.0 && options.bad_fraction <= 1.0)) {
        std::fprintf(stderr, "millrace generate: --bad-fraction must be between 0 and 1\n");
        return 1;
    }
    // A file is staged and renamed into place when complete: a failed run leaves no half file.
    std::FILE* out = stdout;
    std::optional<StagedOutput> staged;
    if (options.output != "-") {
        auto created = StagedOutput::create(options.output);
        auto stream = created.ok() ? created->stream() : Result<std::FILE*>(created.error());
        if (!stream.ok()) {
            std::fprintf(stderr, "millrace generate: %s\n", stream.error().message().c_str());
            return 1;
        }
        out = *stream;
        staged.emplace(std::move(created).value());
    }
    OrderGeneratorOptions generator_options;
    generator_options.seed = options.seed;
    generator_options.bad_fraction = options.bad_fraction;
    OrderGenerator generator(generator_options);
    std::string chunk;
    constexpr uint64_t kChunkRows = 16'384;
    bool ok = true;
    for (uint64_t done = 0; done < options.rows && ok; done += kChunkRows) {
        chunk.clear();
        const uint64_t rows = std::min(kChunkRows, options.rows - done);
        if (*format == FileFormat::kCsv) {
            generator.append_csv(chunk, rows, done == 0);
        } else {
            generator.append_ndjson(chunk, rows);
        }
        ok = std::fwrite(chunk.data(), 1, chunk.size(), out) == chunk.size();
    }
    if (options.rows == 0 && *format == FileFormat::kCsv) generator.append_csv(chunk, 0, true);
    ok = ok && std::fflush(out) == 0;
    if (staged) ok = ok && staged->commit().ok();
    if (!ok) {
        std::fprintf(stderr, "millrace generate: writing %s failed\n", options.output.c_str());
        return 1;
    }
    std::fprintf(stderr, "generate: %llu %s records (%llu deliberately bad) -> %s\n",
                 static_cast<unsigned long long>(generator.generated()), options.dataset.c_str(),
                 static_cast<unsigned long long>(generator.bad()), options.output.c_str());
    return 0;
}

}  // namespace millrace
