// libFuzzer target: arbitrary bytes as what an S3-compatible server answers (list pages,
// initiate-multipart answers, error bodies), read by storage/s3_object_store.h's XML helpers.
// Invariants: no crash; every value found lies within the input (entities only shrink text).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/check.h"
#include "storage/s3_object_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    for (const char* tag : {"Contents", "Key", "Size", "UploadId", "Code", "Message"}) {
        for (const std::string& value : millrace::xml_values(input, tag)) {
            MILLRACE_CHECK(value.size() <= input.size(), "a value longer than the input");
            (void)millrace::xml_values(value, "Key");
        }
    }
    const millrace::Error error = millrace::s3_error("S3 GET s3://b/k", 500, input);
    MILLRACE_CHECK(!error.message().empty(), "an error without a message");
    return 0;
}
