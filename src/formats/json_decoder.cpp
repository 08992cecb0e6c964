#include "formats/json_decoder.h"

#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_map>

#include "common/json_string.h"
#include "formats/base64.h"
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
        case od::json_type::array: return "array";
        case od::json_type::object: return "object";
        case od::json_type::number: return "number";
        case od::json_type::string: return "string";
        case od::json_type::boolean: return "boolean";
        case od::json_type::null: return "null";
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
    for (char c : text) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
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

// Epoch number → microseconds; false on overflow.
bool epoch_to_micros(int64_t value, EpochUnit unit, int64_t* micros) {
    if (unit == EpochUnit::kAuto) {
        const int64_t magnitude = value < 0 ? -(value + 1) : value;
        unit = magnitude < 100'000'000'000LL      ? EpochUnit::kSeconds
               : magnitude < 100'000'000'000'000LL ? EpochUnit::kMilliseconds
                                                   : EpochUnit::kMicroseconds;
    }
    const int64_t scale = unit == EpochUnit::kSeconds ? 1'000'000
                          : unit == EpochUnit::kMilliseconds ? 1'000
                                                             : 1;
    return !__builtin_mul_overflow(value, scale, micros);
}

bool epoch_to_micros(double value, EpochUnit unit, int64_t* micros) {
    if (!std::isfinite(value)) return false;
    if (unit == EpochUnit::kAuto) {
        const double magnitude = std::fabs(value);
        unit = magnitude < 1e11   ? EpochUnit::kSeconds
               : magnitude < 1e14 ? EpochUnit::kMilliseconds
                                  : EpochUnit::kMicroseconds;
    }
    const double scale = unit == EpochUnit::kSeconds ? 1e6
                         : unit == EpochUnit::kMilliseconds ? 1e3
                                                            : 1.0;
    const double scaled = std::floor(value * scale);
    if (!(scaled >= -9.2e18 && scaled <= 9.2e18)) return false;
    *micros = static_cast<int64_t>(scaled);
    return true;
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

    Result<bool> decode_record(std::string_view record, uint64_t record_index,
                               uint64_t byte_offset, uint64_t line, DecodeSink& sink) {
        return decode_padded(padded_copy(record), record, record_index, byte_offset, line, sink);
    }

    Status flush(DecodeSink& sink) {
        if (builder_.num_rows() == 0) return {};
        return sink.on_batch(builder_.finish());
    }

private:
    Status decode_lines(std::string_view input, std::size_t pos, DecodeSink& sink) {
        const char* data = input.data();
        const std::size_t size = input.size();
        uint64_t record_index = 0;
        uint64_t line = 1;
        while (pos < size) {
            const void* newline = std::memchr(data + pos, '\n', size - pos);
            const std::size_t end =
                newline ? static_cast<std::size_t>(static_cast<const char*>(newline) - data)
                        : size;
            std::size_t length = end - pos;
            if (length > 0 && data[pos + length - 1] == '\r') --length;
            std::string_view text(data + pos, length);
            if (!is_blank(text)) {
                // Bytes after the line belong to the input, so they can serve as simdjson's
                // padding; only lines near the end of the buffer need a copy.
                simdjson::padded_string_view view =
                    pos + length + simdjson::SIMDJSON_PADDING <= size
                        ? simdjson::padded_string_view(data + pos, length, size - pos)
                        : padded_copy(text);
                MILLRACE_TRY(decode_padded(view, text, record_index, pos, line, sink));
                ++record_index;
            }
            ++line;
            pos = end + 1;
        }
        return {};
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
            error.raw = std::string(input.substr(offset, std::min(end - offset,
                                                                  options_.decode.max_raw_bytes)));
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
                report(start, size, "malformed JSON array: unterminated, the input ends inside "
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
        return simdjson::padded_string_view(scratch_.data(), scratch_.size(),
                                            scratch_.capacity());
    }

    Result<bool> decode_padded(simdjson::padded_string_view view, std::string_view text,
                               uint64_t record_index, uint64_t byte_offset, uint64_t line,
                               DecodeSink& sink) {
        reason_.clear();
        if (decode_object(view)) {
            builder_.commit_row();
            if (builder_.num_rows() >= options_.decode.batch_rows) MILLRACE_TRY(flush(sink));
            return true;
        }
        builder_.rollback_row();
        RowError error;
        error.record_index = record_index;
        error.byte_offset = byte_offset;
        error.line = line;
        error.reason = std::move(reason_);
        error.raw = std::string(text.substr(0, options_.decode.max_raw_bytes));
        sink.on_error(std::move(error));
        return false;
    }

    bool malformed(simdjson::error_code error) {
        reason_ = std::string("malformed JSON: ") + simdjson::error_message(error);
        return false;
    }

    // Appends one row from the object in `view`; on false, reason_ says why and the caller rolls
    // the partial row back.
    bool decode_object(simdjson::padded_string_view view) {
        if (++generation_ == 0) {  // wrapped: forget every stamp
            std::fill(seen_.begin(), seen_.end(), 0);
            generation_ = 1;
        }
        od::document document;
        if (auto error = parser_.iterate(view).get(document)) return malformed(error);
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
            if (predicted < fast_names_.size() && fast_names_[predicted] &&
                field.key() == schema_->field(predicted).name) {
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
        if (has_trailing_content(document)) {
            reason_ = "malformed JSON: unexpected content after the object";
            return false;
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

    bool convert(std::size_t index, od::value& value) {
        const Field& field = schema_->field(index);
        ColumnBuilder& column = builder_.column(index);
        od::json_type type;
        if (auto error = value.type().get(type)) return malformed(error);
        if (type == od::json_type::null) {
            bool is_null = false;
            if (auto error = value.is_null().get(is_null)) return malformed(error);
            if (!is_null) return malformed(simdjson::N_ATOM_ERROR);
            if (!field.nullable) {
                reason_ = "field `" + field.name + "` is null but declared not null";
                return false;
            }
            column.append_null();
            return true;
        }
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

    std::shared_ptr<const Schema> schema_;
    JsonOptions options_;
    BatchBuilder builder_;
    od::parser parser_;
    od::parser array_parser_;  // iterates a JSON array while parser_ decodes its elements
    std::unordered_map<std::string, std::size_t, StringHash, std::equal_to<>> index_;
    std::vector<bool> fast_names_;
    std::vector<uint32_t> seen_;  // seen_[i] == generation_ when field i was in this record
    uint32_t generation_ = 0;
    std::size_t required_fields_ = 0;
    std::optional<std::size_t> extra_column_;
    std::string extra_;
    std::string scratch_;
    std::string bytes_;
    std::string reason_;
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
