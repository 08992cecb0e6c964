// Reads arbitrary bytes as the Iceberg REST catalog's request bodies (a CommitTableRequest
// against a lake table's metadata, the same bytes as that metadata, and a CreateTableRequest):
// hostile requests must give an Error, never a crash, and a commit that succeeds must leave
// metadata Millrace reads, with the table's uuid and location unchanged.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "lake/catalog_requests.h"
#include "lake/iceberg_metadata.h"
#include "lake/partition_spec.h"

namespace millrace {
namespace {

#define FUZZ_ASSERT(condition)                                                                     \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #condition); \
            std::abort();                                                                          \
        }                                                                                          \
    } while (0)

const std::string& base_metadata() {
    static const std::string json = [] {
        TableMetadata m;
        m.table_uuid = "11111111-2222-4333-8444-555555555555";
        m.location = "/lake/t";
        m.schema = Schema({{"id", DataType::kInt64, false}, {"name", DataType::kString, true}});
        m.partition_by = {"name"};
        m.properties = {{"a", "1"}};
        return m.to_json();
    }();
    return json;
}

void fuzz(const uint8_t* data, std::size_t size) {
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    auto committed = apply_table_commit(base_metadata(), bytes, "/lake/t/metadata/v1.json", 1);
    if (committed.ok() && committed->changed) {
        auto parsed = TableMetadata::parse(committed->metadata_json, "v2");
        FUZZ_ASSERT(parsed.ok());
        FUZZ_ASSERT(parsed->table_uuid == "11111111-2222-4333-8444-555555555555");
        FUZZ_ASSERT(parsed->location == "/lake/t");
        // Millrace's own next commit rewrites it and still reads it.
        FUZZ_ASSERT(TableMetadata::parse(parsed->to_json(), "v3").ok());
    }
    // The bytes as the metadata a commit applies to (a corrupt file on disk).
    (void)apply_table_commit(
        bytes, R"({"updates": [{"action": "set-properties", "updates": {"k": "v"}}]})", "v1", 1);
    auto create = parse_create_table_request(bytes);
    if (create.ok()) {
        // What `LakeTable::create` is then given: the partitioning either fits or is an Error.
        FUZZ_ASSERT(!create->name.empty());
        (void)PartitionSpec::parse(create->partition_by, create->schema);
    }
}

}  // namespace
}  // namespace millrace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    millrace::fuzz(data, size);
    return 0;
}
