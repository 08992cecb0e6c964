// libFuzzer target: arbitrary bytes as an ingest request body through the record splitter.
// Invariants: no crash; every record is a trimmed sub-view of the body; NDJSON records never
// contain a newline.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/check.h"
#include "server/record_splitter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    auto records = millrace::split_json_records(body);
    if (!records.ok()) return 0;
    const bool array = body.find_first_not_of(" \t\r\n") != std::string_view::npos &&
                       body[body.find_first_not_of(" \t\r\n")] == '[';
    for (std::string_view record : *records) {
        if (record.empty()) continue;
        MILLRACE_CHECK(record.data() >= body.data() &&
                           record.data() + record.size() <= body.data() + body.size(),
                       "record outside the body");
        MILLRACE_CHECK(record.front() != ' ' && record.back() != ' ', "record not trimmed");
        if (!array) MILLRACE_CHECK(record.find('\n') == std::string_view::npos, "newline in line");
    }
    return 0;
}
