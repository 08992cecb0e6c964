#include "connectors/source.h"

#include <fmt/format.h>

#include <charconv>

namespace millrace {

std::string SourcePosition::to_string() const {
    return fmt::format("{}:{}:{}", unit, offset, line);
}

Result<SourcePosition> SourcePosition::parse(const std::string& text) {
    SourcePosition position;
    const char* at = text.data();
    const char* end = text.data() + text.size();
    auto number = [&](auto& out, bool last) {
        auto [next, error] = std::from_chars(at, end, out);
        if (error != std::errc() || next == at) return false;
        at = next;
        if (last) return at == end;
        if (at == end || *at != ':') return false;
        ++at;
        return true;
    };
    if (!number(position.unit, false) || !number(position.offset, false) ||
        !number(position.line, true)) {
        return Error(ErrorCode::kInvalidArgument,
                     fmt::format("`{}` is not a source position (unit:offset:line)", text));
    }
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
