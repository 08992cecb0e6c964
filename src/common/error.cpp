#include "common/error.h"

#include <utility>

namespace millrace {

std::string_view error_code_name(ErrorCode code) {
    switch (code) {
        case ErrorCode::kInvalidArgument:
            return "invalid_argument";
        case ErrorCode::kParse:
            return "parse";
        case ErrorCode::kConfig:
            return "config";
        case ErrorCode::kTypeMismatch:
            return "type_mismatch";
        case ErrorCode::kNotFound:
            return "not_found";
        case ErrorCode::kAlreadyExists:
            return "already_exists";
        case ErrorCode::kOutOfRange:
            return "out_of_range";
        case ErrorCode::kIo:
            return "io";
        case ErrorCode::kCorruption:
            return "corruption";
        case ErrorCode::kResourceExhausted:
            return "resource_exhausted";
        case ErrorCode::kUnsupported:
            return "unsupported";
        case ErrorCode::kUnavailable:
            return "unavailable";
        case ErrorCode::kInternal:
            return "internal";
    }
    return "unknown";
}

std::string SourceLocation::to_string() const {
    std::string out = file;
    if (line > 0) {
        if (!out.empty()) out += ':';
        out += std::to_string(line);
        if (column > 0) {
            out += ':';
            out += std::to_string(column);
        }
    }
    return out;
}

Error Error::with_context(std::string_view context) && {
    message_ = std::string(context) + ": " + message_;
    return std::move(*this);
}

Error Error::with_location(SourceLocation location) && {
    if (!location_.known()) location_ = std::move(location);
    return std::move(*this);
}

std::string Error::to_string() const {
    std::string where = location_.to_string();
    if (where.empty()) return "error: " + message_;
    return where + ": error: " + message_;
}

SourceLocation location_at(std::string_view text, std::size_t offset, std::string file) {
    int line = 1;
    int column = 1;
    for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    return SourceLocation{std::move(file), line, column};
}

}  // namespace millrace
