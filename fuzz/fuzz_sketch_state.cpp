// Reads arbitrary bytes as checkpointed sketch state (HyperLogLog and DDSketch), the first
// byte choosing which. What deserializes must behave: estimate/quantile, add, merge with
// itself, and serialize back to the same bytes.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>

#include "sketch/dd_sketch.h"
#include "sketch/hash.h"
#include "sketch/hyper_log_log.h"

namespace millrace {
namespace {

#define FUZZ_ASSERT(condition)                                                                     \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #condition); \
            std::abort();                                                                          \
        }                                                                                          \
    } while (0)

std::span<const uint8_t> as_span(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

void fuzz_hyper_log_log(std::span<const uint8_t> bytes) {
    Result<HyperLogLog> sketch = HyperLogLog::deserialize(bytes);
    if (!sketch.ok()) return;
    const std::string again = sketch->serialize();
    FUZZ_ASSERT(HyperLogLog::deserialize(as_span(again)).ok());
    const uint64_t before = sketch->estimate();
    HyperLogLog copy = *sketch;
    FUZZ_ASSERT(sketch->merge(copy).ok());
    FUZZ_ASSERT(sketch->estimate() == before);  // merging with itself changes nothing
    for (int64_t i = 0; i < 100; ++i) sketch->add_hash(hash_int64(i));
    (void)sketch->estimate();
}

void fuzz_dd_sketch(std::span<const uint8_t> bytes) {
    Result<DDSketch> sketch = DDSketch::deserialize(bytes);
    if (!sketch.ok()) return;
    FUZZ_ASSERT(sketch->serialize() == std::string(bytes.begin(), bytes.end()));
    for (double q : {0.0, 0.5, 1.0})
        FUZZ_ASSERT(sketch->quantile(q).has_value() == !sketch->empty());
    DDSketch copy = *sketch;
    if (sketch->merge(copy).ok()) {
        sketch->add(1.5);
        sketch->add(-1e300);
        (void)sketch->quantile(0.99);
    }
}

}  // namespace
}  // namespace millrace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const std::span<const uint8_t> bytes(data + 1, size - 1);
    if (data[0] & 1) {
        millrace::fuzz_dd_sketch(bytes);
    } else {
        millrace::fuzz_hyper_log_log(bytes);
    }
    return 0;
}
