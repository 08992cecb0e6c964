#include "formats/csv_encoder.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>

#include "formats/base64.h"
#include "types/time_codec.h"

namespace millrace {

namespace {

// Characters that formatted bools, numbers, timestamps, dates and base64 text can contain.
bool may_occur_in_plain_value(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '+' ||
           c == '-' || c == '.' || c == ':' || c == '/' || c == '=';
}

template <typename T>
void append_number(std::string& out, T value) {
    char buffer[32];
    const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
    out.append(buffer, result.ptr);
}

// Appends the text of a value that is not a string or bytes.
void append_plain_value(std::string& out, const Column& column, std::size_t row) {
    switch (column.type()) {
        case DataType::kBool:
            out.append(column.value<uint8_t>(row) != 0 ? "true" : "false");
            break;
        case DataType::kInt32:
            append_number(out, column.value<int32_t>(row));
            break;
        case DataType::kInt64:
            append_number(out, column.value<int64_t>(row));
            break;
        case DataType::kFloat64:
            append_number(out, column.value<double>(row));
            break;
        case DataType::kTimestamp:
            append_timestamp(out, column.value<int64_t>(row));
            break;
        case DataType::kDate:
            append_date(out, column.value<int32_t>(row));
            break;
        case DataType::kString:
        case DataType::kBytes:
            break;
    }
}

}  // namespace

CsvEncoder::CsvEncoder(CsvOptions options) : options_(std::move(options)) {
    special_[static_cast<unsigned char>(options_.delimiter)] = true;
    special_[static_cast<unsigned char>(options_.quote)] = true;
    special_['\n'] = true;
    special_['\r'] = true;
    if (!options_.null_markers.empty()) null_text_ = options_.null_markers.front();
    for (const std::string& marker : options_.null_markers) {
        longest_marker_ = std::max(longest_marker_, marker.size());
    }
    check_plain_values_ =
        may_occur_in_plain_value(options_.delimiter) || may_occur_in_plain_value(options_.quote);
}

bool CsvEncoder::needs_quotes(std::string_view text, bool textual) const {
    if (textual) {
        if (text.empty()) return true;
        const char first = text.front();
        const char last = text.back();
        if (first == ' ' || first == '\t' || last == ' ' || last == '\t') return true;
        // At the start of a file a decoder would take these bytes for a byte order mark.
        if (text.starts_with("\xEF\xBB\xBF")) return true;
        if (text.size() <= longest_marker_) {
            for (const std::string& marker : options_.null_markers) {
                if (text == marker) return true;
            }
        }
    }
    // Eight bytes at a time: a byte equal to c is a zero byte of word ^ (c * 0x0101...).
    constexpr uint64_t kOnes = 0x0101010101010101ull;
    constexpr uint64_t kHighs = 0x8080808080808080ull;
    auto has_zero_byte = [](uint64_t v) { return ((v - kOnes) & ~v & kHighs) != 0; };
    const uint64_t delimiter = kOnes * static_cast<unsigned char>(options_.delimiter);
    const uint64_t quote = kOnes * static_cast<unsigned char>(options_.quote);
    const char* data = text.data();
    std::size_t i = 0;
    for (; i + 8 <= text.size(); i += 8) {
        uint64_t word;
        std::memcpy(&word, data + i, 8);
        if (has_zero_byte(word ^ delimiter) || has_zero_byte(word ^ quote) ||
            has_zero_byte(word ^ (kOnes * '\n')) || has_zero_byte(word ^ (kOnes * '\r'))) {
            return true;
        }
    }
    for (; i < text.size(); ++i) {
        if (special_[static_cast<unsigned char>(data[i])]) return true;
    }
    return false;
}

void CsvEncoder::append_field(std::string& out, std::string_view text, bool textual) {
    if ((!textual && !check_plain_values_) || !needs_quotes(text, textual)) {
        out.append(text);
        return;
    }
    const char quote = options_.quote;
    out.push_back(quote);
    while (!text.empty()) {
        const std::size_t at = text.find(quote);
        if (at == std::string_view::npos) {
            out.append(text);
            break;
        }
        out.append(text.substr(0, at + 1));
        out.push_back(quote);  // the quote doubled
        text.remove_prefix(at + 1);
    }
    out.push_back(quote);
}

void CsvEncoder::write_header(const Schema& schema, std::string& out) {
    for (std::size_t i = 0; i < schema.size(); ++i) {
        if (i > 0) out.push_back(options_.delimiter);
        append_field(out, schema.field(i).name, true);
    }
    out.push_back('\n');
}

void CsvEncoder::encode(const Batch& batch, std::string& out) {
    const std::size_t rows = batch.num_rows();
    const std::size_t columns = batch.num_columns();
    if (rows == 0) return;
    // One reservation per batch: payload plus a generous guess for formatted values.
    std::size_t estimate = rows;
    for (std::size_t c = 0; c < columns; ++c) {
        const Column& column = batch.column(c);
        estimate += column.type() == DataType::kBytes ? column.heap().size() * 4 / 3 + rows * 4
                                                      : column.heap().size() + rows * 12;
    }
    out.reserve(out.size() + estimate);

    for (std::size_t row = 0; row < rows; ++row) {
        for (std::size_t c = 0; c < columns; ++c) {
            if (c > 0) out.push_back(options_.delimiter);
            const Column& column = batch.column(c);
            if (column.is_null(row)) {
                out.append(null_text_);
                continue;
            }
            switch (column.type()) {
                case DataType::kString:
                    append_field(out, column.string_at(row), true);
                    break;
                case DataType::kBytes:
                    // Textual: empty bytes must be quoted, and base64 text can equal a marker.
                    scratch_.clear();
                    append_base64(scratch_, column.string_at(row));
                    append_field(out, scratch_, true);
                    break;
                default: {
                    const std::size_t start = out.size();
                    append_plain_value(out, column, row);
                    if (check_plain_values_) {
                        scratch_.assign(out, start);
                        out.resize(start);
                        append_field(out, scratch_, false);
                    }
                    break;
                }
            }
        }
        out.push_back('\n');
    }
}

}  // namespace millrace
