// libFuzzer target: arbitrary bytes through the JSON decoder (NDJSON, arrays, the bulk path and
// record-by-record), with a schema of every type and with a schema inferred from the bytes.
// Invariants: no crash, leak or hang; every batch is well formed; the flat single-pass scanner
// and the full simdjson path give the same rows and the same errors.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/check.h"
#include "formats/json_decoder.h"
#include "formats/json_encoder.h"
#include "formats/json_schema_inference.h"

namespace {

using namespace millrace;

std::shared_ptr<const Schema> all_types() {
    static const auto schema = std::make_shared<const Schema>(std::vector<Field>{
        {"b", DataType::kBool, true},
        {"i", DataType::kInt32, true},
        {"l", DataType::kInt64, false},
        {"d", DataType::kFloat64, true},
        {"s", DataType::kString, true},
        {"y", DataType::kBytes, true},
        {"t", DataType::kTimestamp, true},
        {"day", DataType::kDate, true},
        {"_extra", DataType::kString, true},
    });
    return schema;
}

void check_batches(const CollectingSink& sink) {
    for (const Batch& batch : sink.batches) {
        for (std::size_t c = 0; c < batch.num_columns(); ++c) {
            MILLRACE_CHECK(batch.column(c).size() == batch.num_rows(), "column size");
        }
        std::string encoded;
        JsonEncoder().encode(batch, encoded);  // every decoded value must encode
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    JsonOptions options;
    options.decode.batch_rows = 7;
    {
        JsonDecoder decoder(all_types(), options);
        CollectingSink sink;
        (void)decoder.decode(input, sink);
        check_batches(sink);
    }
    {
        // A schema without `_extra`, so the flat scanner serves it, against the full path.
        static const auto flat_schema = std::make_shared<const Schema>(
            std::vector<Field>(all_types()->fields().begin(), all_types()->fields().end() - 1));
        CollectingSink sinks[2];
        for (int fast = 0; fast < 2; ++fast) {
            JsonOptions each = options;
            each.flat_fast_path = fast == 1;
            JsonDecoder decoder(flat_schema, each);
            (void)decoder.decode(input, sinks[fast]);
        }
        MILLRACE_CHECK(sinks[0].rows == sinks[1].rows, "flat scanner: row count");
        MILLRACE_CHECK(sinks[0].errors.size() == sinks[1].errors.size(), "flat scanner: errors");
        for (std::size_t i = 0; i < sinks[0].errors.size(); ++i) {
            MILLRACE_CHECK(sinks[0].errors[i].reason == sinks[1].errors[i].reason,
                           "flat scanner: error reason");
        }
        std::string encoded[2];
        for (int fast = 0; fast < 2; ++fast) {
            for (const Batch& batch : sinks[fast].batches)
                JsonEncoder().encode(batch, encoded[fast]);
        }
        MILLRACE_CHECK(encoded[0] == encoded[1], "flat scanner: values");
    }
    // The bulk path needs ≥ 64 KiB: repeat the input to get there now and then.
    if (size > 0 && size < 2048 && data[0] == '{') {
        std::string big;
        while (big.size() < (70u << 10)) {
            big.append(input);
            big.push_back('\n');
        }
        JsonDecoder bulk(all_types(), options);
        CollectingSink bulk_sink;
        (void)bulk.decode(big, bulk_sink);
        check_batches(bulk_sink);
    }
    auto inferred = infer_json_schema(input, 100);
    if (inferred.ok()) {
        JsonDecoder decoder(std::make_shared<const Schema>(std::move(inferred).value()), options);
        CollectingSink sink;
        (void)decoder.decode(input, sink);
        check_batches(sink);
    }
    return 0;
}
