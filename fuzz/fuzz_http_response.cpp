// libFuzzer target: arbitrary bytes as what a server sends back to the load engine and to
// `millrace replay` (HttpResponseParser), and as a captured record / topic records page.
// Invariants: no crash; the parser gives the same verdict, status and body whether the bytes
// arrive at once or split at an arbitrary point (the way a socket delivers them).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/check.h"
#include "net/http_response_parser.h"
#include "replay/captured_request.h"

namespace {

struct Outcome {
    bool ok = true;
    bool done = false;
    int status = 0;
    std::string body;
};

Outcome parse_in_two(std::string_view input, std::size_t split) {
    millrace::HttpResponseParser parser(true);
    std::string pending;
    Outcome outcome;
    for (std::string_view piece : {input.substr(0, split), input.substr(split)}) {
        if (parser.done()) break;
        pending.append(piece);
        auto used = parser.parse(pending);
        if (!used.ok()) {
            outcome.ok = false;
            return outcome;
        }
        MILLRACE_CHECK(*used <= pending.size(), "consumed more than it was given");
        pending.erase(0, *used);
    }
    if (!parser.done() && !parser.finish_at_eof().ok()) outcome.ok = false;
    outcome.done = parser.done();
    outcome.status = parser.status();
    outcome.body = parser.body();
    return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const Outcome whole = parse_in_two(input, input.size());
    const Outcome split = parse_in_two(input, size == 0 ? 0 : data[0] % (size + 1));
    // A parse error may surface earlier with a split (a header block over the limit is seen
    // sooner), but a complete response must be the same response.
    if (whole.ok && split.ok && whole.done && split.done) {
        MILLRACE_CHECK(whole.status == split.status, "status depends on the split");
        MILLRACE_CHECK(whole.body == split.body, "body depends on the split");
    }
    (void)millrace::parse_captured_request(input);
    (void)millrace::parse_topic_records_page(input);
    (void)millrace::parse_topic_description(input);
    return 0;
}
