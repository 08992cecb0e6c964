// Two schemas from arbitrary bytes (split at the first newline), checked for compatibility both
// ways as Avro (schema resolution) and as JSON Schema (json_schema_compatibility.h): hostile
// schemas, recursive named types included, must give an answer or an error, never a crash or
// unbounded recursion. A schema always reads its own data.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "formats/avro_compatibility.h"
#include "log/schema_registry.h"

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
    const std::string input(reinterpret_cast<const char*>(data), size);
    const std::size_t newline = input.find('\n');
    const std::string first = input.substr(0, newline);
    const std::string second = newline == std::string::npos ? first : input.substr(newline + 1);
    auto a = AvroSchema::parse(first);
    auto b = AvroSchema::parse(second);
    if (a.ok()) FUZZ_ASSERT(!avro_incompatibility((*a)->root(), (*a)->root()).has_value());
    if (a.ok() && b.ok()) {
        (void)avro_incompatibility((*a)->root(), (*b)->root());
        (void)avro_incompatibility((*b)->root(), (*a)->root());
    }
    const std::vector<std::string> self = schema_incompatibilities(SchemaType::kJson, first, first);
    FUZZ_ASSERT(self.empty() || self == std::vector<std::string>{"schema does not parse"});
    (void)schema_incompatibilities(SchemaType::kJson, first, second);
    (void)schema_incompatibilities(SchemaType::kAvro, first, second);
}

}  // namespace
}  // namespace millrace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    millrace::fuzz(data, size);
    return 0;
}
