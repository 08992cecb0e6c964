#include "cli/generate_command.h"

#include <cstdio>
#include <memory>

#include "datagen/order_generator.h"
#include "formats/file_format.h"

namespace millrace {

int run_generate(const GenerateOptions& options) {
    if (options.dataset != "orders") {
        std::fprintf(stderr, "millrace generate: unknown dataset `%s` (available: orders)\n",
                     options.dataset.c_str());
        return 1;
    }
    auto format = parse_file_format(options.format);
    if (!format || *format == FileFormat::kParquet) {  // text only: convert makes Parquet
        std::fprintf(stderr, "millrace generate: unknown format `%s` (expected ndjson or csv)\n",
                     options.format.c_str());
        return 1;
    }
    if (!(options.bad_fraction >= 0.0 && options.bad_fraction <= 1.0)) {
        std::fprintf(stderr, "millrace generate: --bad-fraction must be between 0 and 1\n");
        return 1;
    }
    std::FILE* out = stdout;
    if (options.output != "-") {
        out = std::fopen(options.output.c_str(), "wb");
        if (out == nullptr) {
            std::fprintf(stderr, "millrace generate: cannot create %s\n", options.output.c_str());
            return 1;
        }
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
    if (out != stdout) ok = std::fclose(out) == 0 && ok;
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
