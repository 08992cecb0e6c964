#include "connectors/source.h"

#include <fmt/format.h>

#include <charconv>
#include <string_view>
#include <vector>

namespace millrace {

std::string SourcePosition::to_string() const {
    if (origin_micros) return fmt::format("{}:{}:{}:{}", unit, offset, line, *origin_micros);
    return fmt::format("{}:{}:{}", unit, offset, line);
}

Result<SourcePosition> SourcePosition::parse(const std::string& text) {
    std::vector<std::string_view> fields;
    std::string_view rest = text;
    while (true) {
        const std::size_t colon = rest.find(':');
        fields.push_back(rest.substr(0, colon));
        if (colon == std::string_view::npos) break;
        rest.remove_prefix(colon + 1);
    }
    auto number = [](std::string_view field, auto& out) {
        const char* end = field.data() + field.size();
        auto [next, error] = std::from_chars(field.data(), end, out);
        return error == std::errc() && next == end && !field.empty();
    };
    SourcePosition position;
    int64_t origin = 0;
    if ((fields.size() != 3 && fields.size() != 4) || !number(fields[0], position.unit) ||
        !number(fields[1], position.offset) || !number(fields[2], position.line) ||
        (fields.size() == 4 && !number(fields[3], origin))) {
        return Error(
            ErrorCode::kInvalidArgument,
            fmt::format("`{}` is not a source position (unit:offset:line[:origin])", text));
    }
    if (fields.size() == 4) position.origin_micros = origin;
    return position;
}

Status SourceReader::read_to_end(DecodeSink& sink, Listener* listener) {
    constexpr std::size_t kPollRecords = 8192;
    while (true) {
        MILLRACE_ASSIGN_OR_RETURN(PollResult result, poll(sink, kPollRecords, listener));
        // A bounded source never idles; an unbounded one is not read to its end.
        if (result != PollResult::kData) return {};
    }
}

}  // namespace millrace
