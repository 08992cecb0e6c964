// Opens arbitrary bytes as a Parquet file and reads every row group, checking that what comes
// out is consistent: a hostile footer or page must give an Error, never a crash, an overread or
// an unbounded allocation. Page checksums are not verified, so mutations reach the decoders.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "formats/parquet/parquet_reader.h"

namespace millrace {
namespace {

#define FUZZ_ASSERT(condition)                                                                     \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #condition); \
            std::abort();                                                                          \
        }                                                                                          \
    } while (0)

void fuzz(const uint8_t* data, std::size_t size) {
    ParquetReaderOptions options;
    options.max_row_group_rows = 1 << 16;
    options.verify_checksums = false;
    auto reader = ParquetReader::from_bytes(
        "fuzz.parquet", std::string(reinterpret_cast<const char*>(data), size), options);
    if (!reader.ok()) {
        FUZZ_ASSERT(reader.error().message().find("fuzz.parquet") != std::string::npos);
        return;
    }
    const ParquetReader& r = **reader;
    for (std::size_t g = 0; g < r.num_row_groups(); ++g) {
        for (std::size_t c = 0; c < r.schema()->size(); ++c) (void)r.row_group_statistics(g, c);
        auto batch = r.read_row_group(g);
        if (!batch.ok()) continue;
        FUZZ_ASSERT(batch->num_rows() == r.row_group_rows(g));
        for (std::size_t c = 0; c < batch->num_columns(); ++c) {
            const Column& column = batch->column(c);
            FUZZ_ASSERT(column.size() == batch->num_rows());
            FUZZ_ASSERT(column.type() == r.schema()->field(c).type);
            if (!r.schema()->field(c).nullable) FUZZ_ASSERT(!column.has_nulls());
        }
    }
}

}  // namespace
}  // namespace millrace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    millrace::fuzz(data, size);
    return 0;
}
