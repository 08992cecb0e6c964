#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace millrace {

/// What kind of failure an Error is. Tests match these codes, never the wording of messages.
enum class ErrorCode {
    kInvalidArgument,  // a caller passed something unusable (bad flag, bad option value)
    kParse,            // text that does not follow its grammar (JSON, CSV, YAML, a type spec)
    kConfig,           // a project file that parses but says something wrong
    kTypeMismatch,     // a value or expression of the wrong type
    kNotFound,         // a file, table, column, topic... that does not exist
    kAlreadyExists,
    kOutOfRange,
    kIo,                 // the operating system said no
    kCorruption,         // stored bytes fail their checks
    kResourceExhausted,  // a configured limit was reached
    kUnsupported,
    kUnavailable,  // held by another process or not running (a lock, a server)
    kInternal,
};

std::string_view error_code_name(ErrorCode code);

/// Where in a user's input an error is: file, 1-based line and column. Empty when unknown.
struct SourceLocation {
    std::string file;
    int line = 0;    // 1-based; 0 = unknown
    int column = 0;  // 1-based; 0 = unknown

    bool known() const { return !file.empty() || line > 0; }
    /// "file:line:column", "file:line", "file" or "" depending on what is known.
    std::string to_string() const;
};

/// The 1-based line and column of byte `offset` of `text` (a column counts bytes), in `file`.
SourceLocation location_at(std::string_view text, std::size_t offset, std::string file);

/// An expected failure, as a value: code, message, and where in the user's input it comes from.
/// Cheap to move; returned through Result<T>.
class [[nodiscard]] Error {
public:
    Error(ErrorCode code, std::string message, SourceLocation location = {})
        : code_(code), message_(std::move(message)), location_(std::move(location)) {}

    ErrorCode code() const { return code_; }
    const std::string& message() const { return message_; }
    const SourceLocation& location() const { return location_; }

    /// Returns this error with `context` put in front of the message ("reading x.csv: ...").
    Error with_context(std::string_view context) &&;
    /// Returns this error with a location, when it has none yet.
    Error with_location(SourceLocation location) &&;

    /// "file:line:column: error: message" (the compiler-style line users know), or just the
    /// message when there is no location.
    std::string to_string() const;

private:
    ErrorCode code_;
    std::string message_;
    SourceLocation location_;
};

}  // namespace millrace
