// Opens arbitrary bytes as an Avro object container file and decodes every datum: a hostile
// header, schema, block or varint must give an Error, never a crash, an overread or an unbounded
// allocation. Decoded values are re-encoded with the file's own schema, which must succeed.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "formats/avro_reader.h"
#include "formats/avro_writer.h"

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
    AvroReaderLimits limits;
    limits.max_block_bytes = 1 << 20;
    limits.max_values = 1 << 16;
    auto reader = AvroReader::open(std::string(reinterpret_cast<const char*>(data), size),
                                   "fuzz.avro", limits);
    if (!reader.ok()) {
        FUZZ_ASSERT(reader.error().message().find("fuzz.avro") != std::string::npos);
        return;
    }
    auto values = reader->read_all();
    if (!values.ok()) return;
    for (const AvroValue& value : *values) {
        std::string out;
        FUZZ_ASSERT(avro_encode(reader->schema().root(), value, out).ok());
    }
}

}  // namespace
}  // namespace millrace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    millrace::fuzz(data, size);
    return 0;
}
