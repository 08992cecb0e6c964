// Reads arbitrary bytes as Iceberg table metadata JSON and as an Avro manifest and manifest list
// of a lake table: hostile metadata must give an Error, never a crash, an overread or an
// unbounded allocation; data file paths that escape the table are refused.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "lake/iceberg_manifest.h"
#include "lake/iceberg_metadata.h"

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
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    auto metadata = TableMetadata::parse(bytes, "v1.metadata.json");
    if (metadata.ok()) {
        // What parses writes back and parses again to the same table.
        auto again = TableMetadata::parse(metadata->to_json(), "again");
        FUZZ_ASSERT(again.ok());
        FUZZ_ASSERT(again->schema == metadata->schema);
        FUZZ_ASSERT(again->partition_by == metadata->partition_by);
    }
    static const Schema schema({{"id", DataType::kInt64, false},
                                {"ts", DataType::kTimestamp, true},
                                {"s", DataType::kString, true}});
    static const PartitionSpec spec = *PartitionSpec::parse({"date(ts)", "bucket(4, s)"}, schema);
    IcebergManifestCodec codec(schema, spec, "/t");
    IcebergManifestFile manifest;
    manifest.path = "/t/metadata/m.avro";
    auto files = codec.decode_manifest(bytes, manifest);
    if (files.ok()) {
        for (const DataFile& f : *files) {
            FUZZ_ASSERT(!f.path.empty() && f.path.front() != '/');
            FUZZ_ASSERT(f.path.find("../") != 0);
            FUZZ_ASSERT(f.columns.size() == schema.size());
        }
    }
    (void)IcebergManifestCodec::decode_manifest_list(bytes, "list.avro");
}

}  // namespace
}  // namespace millrace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    millrace::fuzz(data, size);
    return 0;
}
