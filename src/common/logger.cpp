#include "common/logger.h"

#include <fmt/format.h>

#include <atomic>
#include <cctype>
#include <cmath>
#include <iterator>
#include <mutex>

#include "common/json_string.h"

namespace millrace {

std::string_view log_level_name(LogLevel level) {
    switch (level) {
        case LogLevel::kDebug:
            return "debug";
        case LogLevel::kInfo:
            return "info";
        case LogLevel::kWarn:
            return "warn";
        case LogLevel::kError:
            return "error";
    }
    return "unknown";
}

std::optional<LogLevel> parse_log_level(std::string_view name) {
    std::string lower;
    lower.reserve(name.size());
    for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "debug") return LogLevel::kDebug;
    if (lower == "info") return LogLevel::kInfo;
    if (lower == "warn" || lower == "warning") return LogLevel::kWarn;
    if (lower == "error") return LogLevel::kError;
    return std::nullopt;
}

std::optional<LogFormat> parse_log_format(std::string_view name) {
    std::string lower;
    for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "json") return LogFormat::kJson;
    if (lower == "text") return LogFormat::kText;
    return std::nullopt;
}

struct Logger::Core {
    Core(Sink output, LogLevel level, const Clock* external_clock)
        : sink(std::move(output)),
          min_level(level),
          clock(external_clock != nullptr ? external_clock : &system_clock) {}

    Sink sink;
    std::atomic<LogLevel> min_level;
    std::atomic<LogFormat> format{LogFormat::kJson};
    SystemClock system_clock;  // used when no clock is injected
    const Clock* clock;
    std::mutex mutex;  // serializes calls to sink
};

namespace {

void append_value(std::string& out, const LogField::Value& value) {
    if (const auto* text = std::get_if<std::string_view>(&value)) {
        append_json_string(out, *text);
    } else if (const auto* flag = std::get_if<bool>(&value)) {
        out += *flag ? "true" : "false";
    } else if (const auto* signed_number = std::get_if<int64_t>(&value)) {
        fmt::format_to(std::back_inserter(out), "{}", *signed_number);
    } else if (const auto* unsigned_number = std::get_if<uint64_t>(&value)) {
        fmt::format_to(std::back_inserter(out), "{}", *unsigned_number);
    } else {
        const double number = std::get<double>(value);
        if (std::isnan(number)) {
            out += "\"NaN\"";
        } else if (std::isinf(number)) {
            out += number > 0 ? "\"Infinity\"" : "\"-Infinity\"";
        } else {
            fmt::format_to(std::back_inserter(out), "{}", number);
        }
    }
}

void append_fields(std::string& out, std::initializer_list<LogField> fields) {
    for (const LogField& field : fields) {
        out += ',';
        append_json_string(out, field.key);
        out += ':';
        append_value(out, field.value);
    }
}

// ` key=value` pairs: strings as they are unless empty or holding a space, a quote or '=',
// then as JSON strings.
void append_text_fields(std::string& out, std::initializer_list<LogField> fields) {
    for (const LogField& field : fields) {
        out += ' ';
        out += field.key;
        out += '=';
        if (const auto* text = std::get_if<std::string_view>(&field.value)) {
            const bool plain =
                !text->empty() && text->find_first_of(" \"=\n\t") == std::string_view::npos;
            if (plain) {
                out += *text;
            } else {
                append_json_string(out, *text);
            }
        } else {
            append_value(out, field.value);
        }
    }
}

}  // namespace

Logger::Logger(std::FILE* out, LogLevel min_level, const Clock* clock)
    : Logger(
          [out](std::string_view line) {
              std::fwrite(line.data(), 1, line.size(), out);
              std::fflush(out);
          },
          min_level, clock) {}

Logger::Logger(Sink sink, LogLevel min_level, const Clock* clock)
    : core_(std::make_shared<Core>(std::move(sink), min_level, clock)) {}

Logger::Logger(std::shared_ptr<Core> core, std::string fixed_fields, std::string fixed_text)
    : core_(std::move(core)),
      fixed_fields_(std::move(fixed_fields)),
      fixed_text_(std::move(fixed_text)) {}

Logger Logger::with_fields(std::initializer_list<LogField> fields) const {
    std::string fixed = fixed_fields_;
    append_fields(fixed, fields);
    std::string text = fixed_text_;
    append_text_fields(text, fields);
    return Logger(core_, std::move(fixed), std::move(text));
}

void Logger::set_format(LogFormat format) {
    core_->format.store(format, std::memory_order_relaxed);
}

bool Logger::enabled(LogLevel level) const {
    return level >= core_->min_level.load(std::memory_order_relaxed);
}

LogLevel Logger::min_level() const { return core_->min_level.load(std::memory_order_relaxed); }

void Logger::set_min_level(LogLevel level) {
    core_->min_level.store(level, std::memory_order_relaxed);
}

void Logger::log(LogLevel level, std::string_view component, std::string_view message,
                 std::initializer_list<LogField> fields) const {
    if (!enabled(level)) return;
    std::string line;
    line.reserve(128 + message.size() + fixed_fields_.size());
    if (core_->format.load(std::memory_order_relaxed) == LogFormat::kText) {
        append_utc_timestamp(line, core_->clock->now_micros());
        line += fmt::format(" {:<5} {}: {}", log_level_name(level), component, message);
        line += fixed_text_;
        append_text_fields(line, fields);
        line += '\n';
        std::lock_guard<std::mutex> lock(core_->mutex);
        core_->sink(line);
        return;
    }
    line += "{\"ts\":\"";
    append_utc_timestamp(line, core_->clock->now_micros());
    line += "\",\"level\":\"";
    line += log_level_name(level);
    line += "\",\"component\":";
    append_json_string(line, component);
    line += ",\"msg\":";
    append_json_string(line, message);
    line += fixed_fields_;
    append_fields(line, fields);
    line += "}\n";
    std::lock_guard<std::mutex> lock(core_->mutex);
    core_->sink(line);
}

}  // namespace millrace
