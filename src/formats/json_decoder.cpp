#include "formats/json_decoder.h"

#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_map>

#include "common/json_string.h"
#include "formats/base64.h"
#include "formats/json_flat_scanner.h"
#include "types/time_codec.h"

namespace millrace {

namespace {

namespace od = simdjson::ondemand;

struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

std::string_view json_type_name(od::json_type type) {
    switch (type) {
        case od::json_type::array:
            return "array";
        case od::json_type::object:
            return "object";
        case od::json_type::number:
            return "number";
        case od::json_type::string:
            return "string";
        case od::json_type::boolean:
            return "boolean";
        case od::json_type::null:
            return "null";
    }
    return "value";
}

std::string_view trim_right(std::string_view text) {
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' ||
                             text.back() == '\n')) {
        text.remove_suffix(1);
    }
    return text;
}

bool is_blank(std::string_view text) {
    for (char c : text) {
        if (c != ' ' && c != '\t' && c != '\r') return false;
    }
    return true;
}

std::string excerpt(std::string_view token) {
    token = trim_right(token);
    constexpr std::size_t kMax = 48;
    if (token.size() <= kMax) return std::string(token);
    return std::string(token.substr(0, kMax)) + "...";
}

template <typename T>
bool parse_full(std::string_view text, T* out) {
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, *out);
    return ec == std::errc() && ptr == end;
}

bool parse_double_text(std::string_view text, double* out) {
    if (parse_full(text, out)) return true;
    // from_chars takes "inf"/"nan" but not a leading '+' or "Infinity" in every spelling.
    std::string lower;
    for (char c : text)
        lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (lower == "infinity" || lower == "+infinity" || lower == "+inf") {
        *out = std::numeric_limits<double>::infinity();
        return true;
    }
    if (lower == "-infinity") {
        *out = -std::numeric_limits<double>::infinity();
        return true;
    }
    return false;
}

// Timestamps must lie in years 0001..9999, the range of their text form, so that every decoded
// value can be written out and read back (CsvDecoder applies the same bounds).
constexpr int64_t kMinTimestampMicros = -62'135'596'800'000'000LL;  // 0001-01-01T00:00:00Z
constexpr int64_t kMaxTimestampMicros = 253'402'300'799'999'999LL;  // 9999-12-31T23:59:59.999999Z

bool in_timestamp_range(int64_t micros) {
    return micros >= kMinTimestampMicros && micros <= kMaxTimestampMicros;
}

// Epoch number → microseconds; false on overflow or outside years 0001..9999.
bool epoch_to_micros(int64_t value, EpochUnit unit, int64_t* micros) {
    if (unit == EpochUnit::kAuto) {
        const int64_t magnitude = value < 0 ? -(value + 1) : value;
        unit = magnitude < 100'000'000'000LL       ? EpochUnit::kSeconds
               : magnitude < 100'000'000'000'000LL ? EpochUnit::kMilliseconds
                                                   : EpochUnit::kMicroseconds;
    }
    const int64_t scale = unit == EpochUnit::kSeconds        ? 1'000'000
                          : unit == EpochUnit::kMilliseconds ? 1'000
                                                             : 1;
    return !__builtin_mul_overflow(value, scale, micros) && in_timestamp_range(*micros);
}

bool epoch_to_micros(double value, EpochUnit unit, int64_t* micros) {
    if (!std::isfinite(value)) return false;
    if (unit == EpochUnit::kAuto) {
        const double magnitude = std::fabs(value);
        unit = magnitude < 1e11   ? EpochUnit::kSeconds
               : magnitude < 1e14 ? EpochUnit::kMilliseconds
                                  : EpochUnit::kMicroseconds;
    }
    const double scale = unit == EpochUnit::kSeconds        ? 1e6
                         : unit == EpochUnit::kMilliseconds ? 1e3
                                                            : 1.0;
    const double scaled = std::floor(value * scale);
    if (!(scaled >= -9.2e18 && scaled <= 9.2e18)) return false;
    *micros = static_cast<int64_t>(scaled);
    return in_timestamp_range(*micros);
}

// The JSON text of any value: objects and arrays whole (consuming them), scalars as their token.
simdjson::error_code raw_value(od::value& value, std::string_view* out) {
    od::json_type type;
    if (auto error = value.type().get(type)) return error;
    if (type == od::json_type::object) {
        od::object object;
        if (auto error = value.get_object().get(object)) return error;
        return object.raw_json().get(*out);
    }
    if (type == od::json_type::array) {
        od::array array;
        if (auto error = value.get_array().get(array)) return error;
        return array.raw_json().get(*out);
    }
    std::string_view token = value.raw_json_token();
    *out = trim_right(token);
    return simdjson::SUCCESS;
}

// Whether text[0, size) holds a backslash, eight bytes at a time (the "has zero byte" trick on
// text xor '\\'). Reads up to 7 bytes past the end: only for text inside simdjson's padded
// buffers. A borrow can only flag bytes above a real match, so masking the tail stays exact.
inline bool contains_backslash(const char* text, std::size_t size) {
    constexpr uint64_t kOnes = 0x0101010101010101ULL;
    constexpr uint64_t kHigh = 0x8080808080808080ULL;
    constexpr uint64_t kBackslashes = 0x5cULL * kOnes;
    std::size_t i = 0;
    for (; i + 8 <= size; i += 8) {
        uint64_t word;
        std::memcpy(&word, text + i, 8);
        word ^= kBackslashes;
        if (((word - kOnes) & ~word & kHigh) != 0) return true;
    }
    if (i == size) return false;
    uint64_t word;
    std::memcpy(&word, text + i, 8);
    word ^= kBackslashes;
    const uint64_t hits = (word - kOnes) & ~word & kHigh;
    return (hits & ((uint64_t{1} << ((size - i) * 8)) - 1)) != 0;
}

// True when the document has bytes left after the value just iterated.
bool has_trailing_content(od::document& document) {
    const char* location = nullptr;
    return !document.current_location().get(location);
}

}  // namespace

class JsonDecoder::Impl {
public:
    Impl(std::shared_ptr<const Schema> schema, JsonOptions options)
        : schema_(std::move(schema)),
          options_(options),
          builder_(schema_, options_.decode.batch_rows),
          flat_(schema_),
          flat_enabled_(options_.flat_fast_path && flat_.enabled()),
          seen_(schema_->size(), 0) {
        for (std::size_t i = 0; i < schema_->size(); ++i) {
            const Field& field = schema_->field(i);
            if (field.name == "_extra" && field.type == DataType::kString) {
                extra_column_ = i;
                continue;
            }
            index_.emplace(field.name, i);
            // Names with quotes or backslashes never take the raw-key fast path (see match_key).
            fast_names_.push_back(field.name.find_first_of("\"\\") == std::string::npos);
        }
        if (extra_column_) fast_names_.insert(fast_names_.begin() + *extra_column_, false);
        for (const Field& field : schema_->fields()) raw_keys_.emplace_back(field.name);
        required_fields_ = schema_->size() - (extra_column_ ? 1 : 0);
    }

    Status decode(std::string_view input, DecodeSink& sink) {
        std::size_t start = 0;
        if (input.substr(0, 3) == "\xEF\xBB\xBF") start = 3;  // UTF-8 byte order mark
        std::size_t first = start;
        while (first < input.size() && (input[first] == ' ' || input[first] == '\t' ||
                                        input[first] == '\r' || input[first] == '\n')) {
            ++first;
        }
        if (first < input.size() && input[first] == '[') {
            MILLRACE_TRY(decode_array(input, first, sink));
        } else {
            MILLRACE_TRY(decode_lines(input, start, sink));
        }
        return flush(sink);
    }

    Result<bool> decode_record(std::string_view record, uint64_t record_index, uint64_t byte_offset,
                               uint64_t line, DecodeSink& sink) {
        return decode_padded(padded_copy(record), record, record_index, byte_offset, line, sink);
    }

    Status flush(DecodeSink& sink) {
        if (builder_.num_rows() == 0) return {};
        return sink.on_batch(builder_.finish());
    }

private:
    // NDJSON in bulk: windows of whole lines are copied into a padded buffer and walked with
    // simdjson's iterate_many, which finds all documents of a window in one stage-1 pass (the
    // per-line iterate() pays that setup once per record). Each document must be exactly one
    // line; wherever that does not hold (trailing content, a record cut short, a stage-1 error
    // such as invalid UTF-8), the affected lines are decoded one by one instead, so the results
    // are those of decode_lines in every case.
    Status decode_bulk(std::string_view input, std::size_t pos, DecodeSink& sink) {
        uint64_t record_index = 0;
        uint64_t line = 1;
        while (pos < input.size()) {
            std::size_t end = std::min(input.size(), pos + kWindowBytes);
            if (end < input.size()) {
                const std::size_t last_newline = input.rfind('\n', end - 1);
                end = last_newline == std::string_view::npos || last_newline < pos
                          ? input.find('\n', end)  // one huge line
                          : last_newline + 1;
                if (end == std::string_view::npos) end = input.size();
            }
            // Windows of flat records go line by line through the single-pass scanner, which
            // beats iterate_many's structural pass; when too many lines miss it (nested or
            // escaped values), windows go to iterate_many instead, retrying now and then. The
            // scanner reads the input where it lies (a line it misses is parsed in place when
            // enough of the input follows it to stand for simdjson's padding, else copied);
            // iterate_many gets a padded copy of the window.
            if (flat_enabled_ && flat_windows_ &&
                simdjson::validate_utf8(input.data() + pos, end - pos)) {
                const uint64_t first_record = record_index;
                flat_misses_ = 0;
                window_utf8_valid_ = true;
                Status status = decode_lines_in(input.data(), pos, end, input.size(), 0,
                                                &record_index, &line, sink);
                window_utf8_valid_ = false;
                MILLRACE_TRY(status);
                flat_windows_ = flat_misses_ * 8 <= record_index - first_record;
            } else {
                window_.reserve(end - pos + simdjson::SIMDJSON_PADDING);
                window_.assign(input.data() + pos, end - pos);
                MILLRACE_TRY(decode_window(pos, &record_index, &line, sink));
                if (flat_enabled_ && !flat_windows_ && ++bulk_windows_ % 16 == 0) {
                    flat_windows_ = true;
                }
            }
            pos = end;
        }
        return {};
    }

    // A document's row stays uncommitted until the next document's start (or the window's end)
    // shows its line held exactly that document: only blank lines may lie between the two.
    struct Pending {
        bool active = false;
        std::size_t line_start = 0;
        std::size_t newline = 0;
        bool accepted = false;
        std::string reason;
    };

    Status decode_window(std::size_t base, uint64_t* record_index, uint64_t* line,
                         DecodeSink& sink) {
        const char* data = window_.data();
        const std::size_t size = window_.size();
        std::size_t cursor = 0;  // start of the first line not yet accounted for
        Pending pending;

        // Accounts for the pending record if the bytes up to `next` (the next document's start,
        // or the window's end) are only blank lines; false if they are not.
        auto settle = [&](std::size_t next) -> Result<bool> {
            if (!pending.active) return true;
            std::size_t pos = pending.newline + 1;
            uint64_t blank_lines = 0;
            if (pending.newline < size && next != pos) {  // the common case needs no scan
                while (pos < next) {
                    const std::size_t newline = find_newline(data, pos, size);
                    const std::size_t stop = std::min(newline, next);
                    if (!is_blank(std::string_view(data + pos, stop - pos))) return false;
                    if (newline >= next) break;
                    ++blank_lines;
                    pos = newline + 1;
                }
            }
            if (next < pending.newline + 1 && next < size) return false;  // same line
            std::size_t length = pending.newline - pending.line_start;
            if (length > 0 && data[pending.line_start + length - 1] == '\r') --length;
            reason_ = std::move(pending.reason);
            MILLRACE_TRY(finish_record(pending.accepted,
                                       std::string_view(data + pending.line_start, length),
                                       *record_index, base + pending.line_start, *line, sink));
            ++*record_index;
            *line += 1 + blank_lines;
            cursor = std::min(size, pending.newline + 1);
            cursor = pos > cursor ? pos : cursor;
            pending.active = false;
            return true;
        };
        // Gives up on the bulk path for the rest of the window.
        auto fall_back = [&]() -> Status {
            std::size_t from = cursor;
            if (pending.active) {
                if (pending.accepted) builder_.rollback_row();
                from = pending.line_start;
                pending.active = false;
            }
            return decode_lines_in(window_.data(), from, size, window_.capacity(), base,
                                   record_index, line, sink);
        };

        od::document_stream stream;
        if (bulk_parser_.iterate_many(data, size, std::max<std::size_t>(size, 1 << 16))
                .get(stream)) {
            return fall_back();
        }
        for (auto it = stream.begin(); it != stream.end(); ++it) {
            const std::size_t offset = it.current_index();
            MILLRACE_ASSIGN_OR_RETURN(bool settled, settle(offset));
            if (!settled || offset >= size) return fall_back();
            // Blank lines before the document.
            std::size_t newline = find_newline(data, cursor, size);
            while (newline < offset) {
                if (!is_blank(std::string_view(data + cursor, newline - cursor))) {
                    return fall_back();
                }
                cursor = newline + 1;
                ++*line;
                newline = find_newline(data, cursor, size);
            }
            if (!is_blank(std::string_view(data + cursor, offset - cursor))) return fall_back();
            auto document = *it;
            od::document_reference reference;
            if (document.error() || std::move(document).get(reference)) return fall_back();
            reason_.clear();
            pending.active = true;
            pending.line_start = cursor;
            pending.newline = newline;
            pending.accepted = decode_document(reference);
            if (!pending.accepted) {
                builder_.rollback_row();
                pending.reason = std::move(reason_);
            }
            // simdjson 3.0.1 advances the stream with skip_child() on the current document's
            // iterator, which dereferences a null parser when a syntax error killed that
            // iterator (found by fuzz_json_decoder). Such a window goes on line by line.
            if (!static_cast<od::document&>(reference).is_alive()) return fall_back();
        }
        if (stream.truncated_bytes() > 0) return fall_back();
        MILLRACE_ASSIGN_OR_RETURN(bool settled, settle(size));
        if (!settled) return fall_back();
        if (cursor < size) {
            return decode_lines_in(window_.data(), cursor, size, window_.capacity(), base,
                                   record_index, line, sink);
        }
        return {};
    }

    static std::size_t find_newline(const char* data, std::size_t from, std::size_t size) {
        const void* found = std::memchr(data + from, '\n', size - from);
        return found ? static_cast<std::size_t>(static_cast<const char*>(found) - data) : size;
    }

    // Decodes the lines of data[from, to) one by one. `readable` bytes from `data` may be read:
    // bytes after a line serve as simdjson's padding, so only a line within the padding of the
    // end is copied (never, for the padded bulk window). `base` is data's offset in the input.
    Status decode_lines_in(const char* data, std::size_t from, std::size_t to, std::size_t readable,
                           std::size_t base, uint64_t* record_index, uint64_t* line,
                           DecodeSink& sink) {
        std::size_t pos = from;
        while (pos < to) {
            const std::size_t end = find_newline(data, pos, to);
            std::size_t length = end - pos;
            if (length > 0 && data[pos + length - 1] == '\r') --length;
            std::string_view text(data + pos, length);
            if (!is_blank(text)) {
                simdjson::padded_string_view view =
                    pos + length + simdjson::SIMDJSON_PADDING <= readable
                        ? simdjson::padded_string_view(data + pos, length, readable - pos)
                        : padded_copy(text);
                MILLRACE_TRY(decode_padded(view, text, *record_index, base + pos, *line, sink));
                ++*record_index;
            }
            ++*line;
            pos = end + 1;
        }
        return {};
    }

    Status decode_lines(std::string_view input, std::size_t pos, DecodeSink& sink) {
        if (input.size() - pos >= kBulkMinimumBytes) return decode_bulk(input, pos, sink);
        uint64_t record_index = 0;
        uint64_t line = 1;
        return decode_lines_in(input.data(), pos, input.size(), input.size(), 0, &record_index,
                               &line, sink);
    }

    // Splits the top-level array into elements with a string-aware bracket scan and decodes each
    // element as its own record, so one broken element costs only itself, as a line does in
    // NDJSON. Elements are decoded in place in a padded copy of the input.
    Status decode_array(std::string_view input, std::size_t first, DecodeSink& sink) {
        simdjson::padded_string whole(input);
        const char* base = whole.data();
        const std::size_t size = whole.size();
        const std::size_t capacity = size + simdjson::SIMDJSON_PADDING;
        uint64_t record_index = 0;
        uint64_t line = 1;
        std::size_t counted_to = 0;
        auto line_of = [&](std::size_t offset) {
            for (; counted_to < offset; ++counted_to) line += base[counted_to] == '\n' ? 1 : 0;
            return line;
        };
        auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
        auto report = [&](std::size_t offset, std::size_t end, std::string reason) {
            RowError error;
            error.record_index = record_index++;
            error.byte_offset = offset;
            error.line = line_of(offset);
            error.reason = std::move(reason);
            error.raw = std::string(
                input.substr(offset, std::min(end - offset, options_.decode.max_raw_bytes)));
            sink.on_error(std::move(error));
        };
        std::size_t pos = first + 1;
        bool closed = false;
        while (pos < size) {
            while (pos < size && is_space(base[pos])) ++pos;
            if (pos >= size) break;
            if (base[pos] == ']' && record_index == 0) {  // []
                closed = true;
                ++pos;
                break;
            }
            const std::size_t start = pos;
            int depth = 0;
            bool in_string = false;
            bool ended = false;  // found the ',' or ']' that ends this element
            for (; pos < size; ++pos) {
                const char c = base[pos];
                if (in_string) {
                    if (c == '\\') {
                        ++pos;
                    } else if (c == '"') {
                        in_string = false;
                    }
                } else if (c == '"') {
                    in_string = true;
                } else if (c == '{' || c == '[') {
                    ++depth;
                } else if ((c == '}' || c == ']') && depth > 0) {
                    --depth;
                } else if ((c == ',' || c == ']') && depth == 0) {
                    ended = true;
                    break;
                }
            }
            if (pos > size) pos = size;
            std::size_t end = pos;
            while (end > start && is_space(base[end - 1])) --end;
            if (!ended) {
                report(start, size,
                       "malformed JSON array: unterminated, the input ends inside "
                       "this element");
                return {};
            }
            if (end == start) {
                report(start, pos + 1, "malformed JSON array: empty element");
            } else {
                std::string_view raw(base + start, end - start);
                simdjson::padded_string_view view(raw.data(), raw.size(), capacity - start);
                MILLRACE_TRY(decode_padded(view, raw, record_index, start, line_of(start), sink));
                ++record_index;
            }
            if (base[pos] == ']') {
                closed = true;
                ++pos;
                break;
            }
            ++pos;  // past ','
        }
        while (pos < size && is_space(base[pos])) ++pos;
        if (!closed) {
            report(std::min(pos, size), size, "malformed JSON array: missing the closing `]`");
        } else if (pos < size) {
            report(pos, size, "malformed JSON: unexpected content after the array");
        }
        return {};
    }

    simdjson::padded_string_view padded_copy(std::string_view text) {
        scratch_.reserve(text.size() + simdjson::SIMDJSON_PADDING);
        scratch_.assign(text.data(), text.size());
        return simdjson::padded_string_view(scratch_.data(), scratch_.size(), scratch_.capacity());
    }

    Result<bool> decode_padded(simdjson::padded_string_view view, std::string_view text,
                               uint64_t record_index, uint64_t byte_offset, uint64_t line,
                               DecodeSink& sink) {
        reason_.clear();
        const bool accepted = decode_object(view);
        MILLRACE_TRY(finish_record(accepted, text, record_index, byte_offset, line, sink));
        return accepted;
    }

    // Commits the row just decoded, or rolls it back and reports the record as a RowError.
    Status finish_record(bool accepted, std::string_view text, uint64_t record_index,
                         uint64_t byte_offset, uint64_t line, DecodeSink& sink) {
        if (accepted) {
            builder_.commit_row();
            // Cut by rows, and by bytes too: string offsets are 32-bit, and huge records must
            // not pile up in memory.
            const std::size_t rows = builder_.num_rows();
            if (rows >= options_.decode.batch_rows ||
                ((rows & 63) == 0 && builder_.memory_bytes() >= kMaxBatchBytes)) {
                MILLRACE_TRY(flush(sink));
            }
            return {};
        }
        builder_.rollback_row();
        RowError error;
        error.record_index = record_index;
        error.byte_offset = byte_offset;
        error.line = line;
        error.reason = std::move(reason_);
        error.raw = std::string(text.substr(0, options_.decode.max_raw_bytes));
        sink.on_error(std::move(error));
        return {};
    }

    bool malformed(simdjson::error_code error) {
        reason_ = std::string("malformed JSON: ") + simdjson::error_message(error);
        return false;
    }

    // Appends one row from the object in `view`; on false, reason_ says why and the caller rolls
    // the partial row back.
    bool decode_object(simdjson::padded_string_view view) {
        if (flat_enabled_ &&
            (window_utf8_valid_ || simdjson::validate_utf8(view.data(), view.length()))) {
            if (flat_.scan(view.data(), view.data() + view.length(), builder_)) return true;
            builder_.rollback_row();
            ++flat_misses_;
        }
        od::document document;
        if (auto error = parser_.iterate(view).get(document)) return malformed(error);
        if (!decode_document(document)) return false;
        if (has_trailing_content(document)) {
            reason_ = "malformed JSON: unexpected content after the object";
            return false;
        }
        return true;
    }

    template <typename Document>
    bool decode_document(Document& document) {
        if (++generation_ == 0) {  // wrapped: forget every stamp
            std::fill(seen_.begin(), seen_.end(), 0);
            generation_ = 1;
        }
        od::object object;
        if (auto error = document.get_object().get(object)) {
            od::json_type type;
            if (error == simdjson::INCORRECT_TYPE && !document.type().get(type)) {
                reason_ = "expected a JSON object, got " + std::string(json_type_name(type));
                return false;
            }
            return malformed(error);
        }
        extra_.clear();
        std::size_t seen_count = 0;
        std::size_t predicted = 0;
        for (auto field_result : object) {
            od::field field;
            if (auto error = std::move(field_result).get(field)) return malformed(error);
            std::size_t index = kUnknown;
            // Records of one source nearly always list fields in the same order: try the field
            // after the last one matched, comparing the raw key bytes, before any hashing.
            if (predicted < fast_names_.size() && fast_names_[predicted] != 0 &&
                raw_keys_[predicted].matches(field.key().raw())) {
                index = predicted;
            } else {
                std::string_view key;
                if (auto error = field.unescaped_key().get(key)) return malformed(error);
                auto found = index_.find(key);
                if (found != index_.end()) {
                    index = found->second;
                } else {
                    if (extra_column_ && !keep_extra(key, field.value())) return false;
                    continue;
                }
            }
            if (seen_[index] == generation_) {
                reason_ = "duplicate field `" + schema_->field(index).name + "`";
                return false;
            }
            seen_[index] = generation_;
            ++seen_count;
            od::value value = field.value();
            if (!convert(index, value)) return false;
            predicted = index + 1;
        }
        if (seen_count != required_fields_) {
            for (std::size_t i = 0; i < seen_.size(); ++i) {
                if (seen_[i] == generation_ || (extra_column_ && i == *extra_column_)) continue;
                if (!schema_->field(i).nullable) {
                    reason_ = "missing required field `" + schema_->field(i).name + "`";
                    return false;
                }
                builder_.column(i).append_null();
            }
        }
        if (extra_column_) {
            ColumnBuilder& column = builder_.column(*extra_column_);
            if (extra_.empty()) {
                column.append_null();
            } else {
                extra_.push_back('}');
                column.append_string(extra_);
            }
        }
        return true;
    }

    bool keep_extra(std::string_view key, od::value value) {
        std::string_view raw;
        if (auto error = raw_value(value, &raw)) return malformed(error);
        extra_.push_back(extra_.empty() ? '{' : ',');
        append_json_string(extra_, key);
        extra_.push_back(':');
        extra_.append(trim_right(raw));
        return true;
    }

    bool mismatch(std::size_t index, std::string_view expected, od::value& value,
                  od::json_type type) {
        std::string_view token = value.raw_json_token();
        reason_ = "field `" + schema_->field(index).name + "`: expected " + std::string(expected) +
                  ", got " + std::string(json_type_name(type));
        if (!token.empty()) reason_ += " " + excerpt(token);
        return false;
    }

    bool bad_value(std::size_t index, std::string_view what, std::string_view text) {
        reason_ = "field `" + schema_->field(index).name + "`: " + std::string(what) + " " +
                  excerpt(text);
        return false;
    }

    bool append_null_or_fail(std::size_t index, od::value& value) {
        bool is_null = false;
        if (auto error = value.is_null().get(is_null)) return malformed(error);
        if (!is_null) return malformed(simdjson::N_ATOM_ERROR);
        if (!schema_->field(index).nullable) {
            reason_ = "field `" + schema_->field(index).name + "` is null but declared not null";
            return false;
        }
        builder_.column(index).append_null();
        return true;
    }

    bool convert(std::size_t index, od::value& value) {
        const Field& field = schema_->field(index);
        ColumnBuilder& column = builder_.column(index);
        // Fast path: the value has the column's natural JSON type. Only when the typed getter
        // fails is the value's JSON type looked at (null, coercions, errors).
        switch (field.type) {
            case DataType::kString: {
                // Strings without escapes are copied straight from the input; only the rare
                // escaped ones are unescaped by simdjson first.
                std::string_view raw = value.raw_json_token();
                if (raw.size() >= 2 && raw[0] == '"') {
                    std::size_t end = raw.size() - 1;
                    while (raw[end] != '"') --end;  // drop whitespace after the token
                    std::string_view content = raw.substr(1, end - 1);
                    if (end > 0 && !contains_backslash(content.data(), content.size())) {
                        column.append_string(content);
                        return true;
                    }
                }
                std::string_view text;
                if (!value.get_string().get(text)) {
                    column.append_string(text);
                    return true;
                }
                break;
            }
            case DataType::kFloat64: {
                double v = 0;
                if (!value.get_double().get(v)) {
                    column.append_double(v);
                    return true;
                }
                break;
            }
            case DataType::kInt64: {
                int64_t v = 0;
                if (!value.get_int64().get(v)) {
                    column.append_int64(v);
                    return true;
                }
                break;
            }
            case DataType::kTimestamp: {
                std::string_view text;
                if (!value.get_string().get(text)) {
                    auto parsed = timestamps_.parse(text);
                    if (!parsed) return bad_value(index, "not a timestamp:", text);
                    column.append_timestamp(*parsed);
                    return true;
                }
                break;
            }
            default:
                break;
        }
        od::json_type type;
        if (auto error = value.type().get(type)) return malformed(error);
        if (type == od::json_type::null) return append_null_or_fail(index, value);
        std::string_view text;
        switch (field.type) {
            case DataType::kBool: {
                if (type == od::json_type::boolean) {
                    bool v = false;
                    if (auto error = value.get_bool().get(v)) return malformed(error);
                    column.append_bool(v);
                    return true;
                }
                if (type == od::json_type::string) {
                    if (auto error = value.get_string().get(text)) return malformed(error);
                    if (text == "true" || text == "false") {
                        column.append_bool(text == "true");
                        return true;
                    }
                    return bad_value(index, "expected bool, got string", text);
                }
                return mismatch(index, "bool", value, type);
            }
            case DataType::kInt32:
            case DataType::kInt64: {
                int64_t v = 0;
                if (type == od::json_type::number) {
                    if (auto error = value.get_int64().get(v)) {
                        if (error != simdjson::INCORRECT_TYPE &&
                            error != simdjson::NUMBER_OUT_OF_RANGE &&
                            error != simdjson::NUMBER_ERROR) {
                            return malformed(error);
                        }
                        std::string_view token = value.raw_json_token();
                        return bad_value(index,
                                         error == simdjson::INCORRECT_TYPE
                                             ? "expected an integer, got"
                                             : "integer out of range:",
                                         token);
                    }
                } else if (type == od::json_type::string) {
                    if (auto error = value.get_string().get(text)) return malformed(error);
                    if (!parse_full(text, &v)) {
                        return bad_value(index, "expected an integer, got string", text);
                    }
                } else {
                    return mismatch(index, type_name(field.type), value, type);
                }
                if (field.type == DataType::kInt32) {
                    if (v < std::numeric_limits<int32_t>::min() ||
                        v > std::numeric_limits<int32_t>::max()) {
                        return bad_value(index, "out of range for int32:", std::to_string(v));
                    }
                    column.append_int32(static_cast<int32_t>(v));
                } else {
                    column.append_int64(v);
                }
                return true;
            }
            case DataType::kFloat64: {
                double v = 0;
                if (type == od::json_type::number) {
                    if (auto error = value.get_double().get(v)) return malformed(error);
                } else if (type == od::json_type::string) {
                    if (auto error = value.get_string().get(text)) return malformed(error);
                    if (!parse_double_text(text, &v)) {
                        return bad_value(index, "expected double, got string", text);
                    }
                } else {
                    return mismatch(index, "double", value, type);
                }
                column.append_double(v);
                return true;
            }
            case DataType::kString: {
                if (type == od::json_type::string) {
                    if (auto error = value.get_string().get(text)) return malformed(error);
                } else {
                    // Numbers, booleans, objects and arrays keep their JSON text.
                    if (auto error = raw_value(value, &text)) return malformed(error);
                }
                column.append_string(text);
                return true;
            }
            case DataType::kBytes: {
                if (type != od::json_type::string) return mismatch(index, "bytes", value, type);
                if (auto error = value.get_string().get(text)) return malformed(error);
                bytes_.clear();
                if (!decode_base64(text, &bytes_)) {
                    return bad_value(index, "expected base64 bytes, got", text);
                }
                column.append_string(bytes_);
                return true;
            }
            case DataType::kTimestamp: {
                int64_t micros = 0;
                if (type == od::json_type::string) {
                    if (auto error = value.get_string().get(text)) return malformed(error);
                    auto parsed = parse_timestamp(text);
                    if (!parsed) return bad_value(index, "not a timestamp:", text);
                    micros = *parsed;
                } else if (type == od::json_type::number) {
                    int64_t integer = 0;
                    double real = 0;
                    bool ok = false;
                    if (!value.get_int64().get(integer)) {
                        ok = epoch_to_micros(integer, options_.epoch_unit, &micros);
                    } else if (!value.get_double().get(real)) {
                        ok = epoch_to_micros(real, options_.epoch_unit, &micros);
                    }
                    if (!ok) {
                        std::string_view token = value.raw_json_token();
                        return bad_value(index, "epoch timestamp out of range:", token);
                    }
                } else {
                    return mismatch(index, "timestamp", value, type);
                }
                column.append_timestamp(micros);
                return true;
            }
            case DataType::kDate: {
                if (type != od::json_type::string) return mismatch(index, "date", value, type);
                if (auto error = value.get_string().get(text)) return malformed(error);
                auto days = parse_date(text);
                if (!days) return bad_value(index, "not a date (YYYY-MM-DD):", text);
                column.append_date(*days);
                return true;
            }
        }
        return mismatch(index, type_name(field.type), value, type);
    }

    static constexpr std::size_t kUnknown = static_cast<std::size_t>(-1);
    static constexpr std::size_t kMaxBatchBytes = 256 << 20;    // cut a batch past this size
    static constexpr std::size_t kWindowBytes = 4 << 20;        // bulk NDJSON window
    static constexpr std::size_t kBulkMinimumBytes = 64 << 10;  // smaller inputs go per line

    std::shared_ptr<const Schema> schema_;
    JsonOptions options_;
    BatchBuilder builder_;
    FlatJsonScanner flat_;
    bool flat_enabled_ = false;
    bool flat_windows_ = true;        // bulk windows try the flat scanner first
    bool window_utf8_valid_ = false;  // the current window was validated as a whole
    uint64_t flat_misses_ = 0;
    uint64_t bulk_windows_ = 0;
    od::parser parser_;
    od::parser bulk_parser_;  // iterate_many over NDJSON windows
    std::string window_;      // padded copy of the current NDJSON window
    std::unordered_map<std::string, std::size_t, StringHash, std::equal_to<>> index_;
    std::vector<uint8_t> fast_names_;  // 1 when field i may take the raw-key fast path
    std::vector<JsonRawKey> raw_keys_;
    std::vector<uint32_t> seen_;  // seen_[i] == generation_ when field i was in this record
    uint32_t generation_ = 0;
    std::size_t required_fields_ = 0;
    std::optional<std::size_t> extra_column_;
    std::string extra_;
    std::string scratch_;
    std::string bytes_;
    std::string reason_;
    CachedTimestampParser timestamps_;
};

JsonDecoder::JsonDecoder(std::shared_ptr<const Schema> schema, JsonOptions options)
    : impl_(std::make_unique<Impl>(std::move(schema), options)) {}

JsonDecoder::~JsonDecoder() = default;

Status JsonDecoder::decode(std::string_view input, DecodeSink& sink) {
    return impl_->decode(input, sink);
}

Result<bool> JsonDecoder::decode_record(std::string_view record, uint64_t record_index,
                                        uint64_t byte_offset, DecodeSink& sink) {
    return impl_->decode_record(record, record_index, byte_offset, 1, sink);
}

Status JsonDecoder::flush(DecodeSink& sink) { return impl_->flush(sink); }

}  // namespace millrace
