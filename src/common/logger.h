#pragma once

#include <concepts>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/clock.h"

namespace millrace {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

/// How a Logger writes a line: a JSON object (the default, for machines) or text for people,
/// `2026-11-23T18:56:21.123456Z info  serve: ready port=8080 project="my shop"`.
enum class LogFormat { kJson, kText };

/// "json" or "text" (case-insensitive); nullopt otherwise.
std::optional<LogFormat> parse_log_format(std::string_view name);

/// "debug", "info", "warn", "error": the `level` value of a log line.
std::string_view log_level_name(LogLevel level);
/// Parses a level name case-insensitively ("warning" is accepted for warn).
std::optional<LogLevel> parse_log_level(std::string_view name);

/// One `"key": value` pair of a log line. It borrows its key and string value: build fields in the
/// call that logs them (`logger.info("cli", "loaded", {{"pipelines", 3}, {"dir", dir}})`), never
/// keep them.
struct LogField {
    using Value = std::variant<int64_t, uint64_t, double, bool, std::string_view>;

    LogField(std::string_view field_key, std::string_view text) : key(field_key), value(text) {}
    LogField(std::string_view field_key, const char* text)
        : key(field_key), value(std::string_view(text == nullptr ? "" : text)) {}
    LogField(std::string_view field_key, const std::string& text)
        : key(field_key), value(std::string_view(text)) {}
    LogField(std::string_view field_key, bool flag) : key(field_key), value(flag) {}
    template <std::signed_integral T>
    LogField(std::string_view field_key, T number)
        : key(field_key), value(static_cast<int64_t>(number)) {}
    template <std::unsigned_integral T>
    requires(!std::same_as<T, bool>) LogField(std::string_view field_key, T number)
        : key(field_key), value(static_cast<uint64_t>(number)) {}
    template <std::floating_point T>
    LogField(std::string_view field_key, T number)
        : key(field_key), value(static_cast<double>(number)) {}

    std::string_view key;
    Value value;
};

/// Structured logging: one JSON object per line,
///
///   {"ts":"2026-11-23T18:56:21.123456Z","level":"info","component":"cli","msg":"...",
///    <fixed fields of the logger>, <fields of the call>}
///
/// Numbers are written as JSON numbers (non-finite doubles as the strings "NaN", "Infinity",
/// "-Infinity"), strings are escaped and made valid UTF-8 (append_json_string).
///
/// Ownership and threads: a Logger is a cheap handle. Copies and the children made by
/// with_fields() share one output, one minimum level and one mutex, so lines from many threads
/// never interleave. A line is formatted outside the mutex; only the write is under it. The
/// Clock passed in must outlive the logger and all its children; without one, the logger reads
/// the system clock.
class Logger {
public:
    /// Receives each complete line, terminated by '\n'. Called under the logger's mutex.
    using Sink = std::function<void(std::string_view line)>;

    /// Writes to `out` (not owned; stays open) and flushes after each line.
    explicit Logger(std::FILE* out = stderr, LogLevel min_level = LogLevel::kInfo,
                    const Clock* clock = nullptr);
    /// Hands each line to `sink` (tests, or a log file the caller owns).
    explicit Logger(Sink sink, LogLevel min_level = LogLevel::kInfo, const Clock* clock = nullptr);

    /// A logger writing to the same output that adds `fields` to every line, after the fixed
    /// fields of this one (e.g. pipeline and run_id for everything a run logs).
    Logger with_fields(std::initializer_list<LogField> fields) const;

    /// Whether a line of this level would be written; check it before costly field building.
    bool enabled(LogLevel level) const;
    LogLevel min_level() const;
    /// Changes the minimum level of this logger, its copies and its children.
    void set_min_level(LogLevel level);
    /// Changes the format of this logger, its copies and its children (JSON by default).
    void set_format(LogFormat format);

    void log(LogLevel level, std::string_view component, std::string_view message,
             std::initializer_list<LogField> fields = {}) const;
    void debug(std::string_view component, std::string_view message,
               std::initializer_list<LogField> fields = {}) const {
        log(LogLevel::kDebug, component, message, fields);
    }
    void info(std::string_view component, std::string_view message,
              std::initializer_list<LogField> fields = {}) const {
        log(LogLevel::kInfo, component, message, fields);
    }
    void warn(std::string_view component, std::string_view message,
              std::initializer_list<LogField> fields = {}) const {
        log(LogLevel::kWarn, component, message, fields);
    }
    void error(std::string_view component, std::string_view message,
               std::initializer_list<LogField> fields = {}) const {
        log(LogLevel::kError, component, message, fields);
    }

private:
    struct Core;

    Logger(std::shared_ptr<Core> core, std::string fixed_fields, std::string fixed_text);

    std::shared_ptr<Core> core_;
    std::string fixed_fields_;  // pre-rendered `,"key":value` pairs
    std::string fixed_text_;    // the same as ` key=value` pairs, for LogFormat::kText
};

}  // namespace millrace
