#include "formats/json_encoder.h"

#include <charconv>
#include <cmath>
#include <vector>

#include "common/json_string.h"
#include "formats/base64.h"
#include "types/batch.h"
#include "types/time_codec.h"

namespace millrace {

namespace {

void append_double(std::string& out, double value) {
    if (std::isnan(value)) {
        out += "\"NaN\"";
    } else if (std::isinf(value)) {
        out += value > 0 ? "\"Infinity\"" : "\"-Infinity\"";
    } else {
        char buffer[32];
        auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
        out.append(buffer, end);
    }
}

template <typename T>
void append_integer(std::string& out, T value) {
    char buffer[24];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
    out.append(buffer, end);
}

}  // namespace

void JsonEncoder::encode(const Batch& batch, std::string& out) const {
    const Schema& schema = batch.schema();
    // The `"name":` prefixes are the same for every row: build them once.
    std::vector<std::string> prefixes;
    prefixes.reserve(schema.size());
    for (std::size_t c = 0; c < schema.size(); ++c) {
        std::string prefix = c == 0 ? "{" : ",";
        append_json_string(prefix, schema.field(c).name);
        prefix.push_back(':');
        prefixes.push_back(std::move(prefix));
    }
    for (std::size_t row = 0; row < batch.num_rows(); ++row) {
        if (schema.empty()) out.push_back('{');
        for (std::size_t c = 0; c < schema.size(); ++c) {
            out += prefixes[c];
            const Column& column = batch.column(c);
            if (column.is_null(row)) {
                out += "null";
                continue;
            }
            switch (column.type()) {
                case DataType::kBool:
                    out += column.value<uint8_t>(row) != 0 ? "true" : "false";
                    break;
                case DataType::kInt32:
                    append_integer(out, column.value<int32_t>(row));
                    break;
                case DataType::kInt64:
                    append_integer(out, column.value<int64_t>(row));
                    break;
                case DataType::kFloat64:
                    append_double(out, column.value<double>(row));
                    break;
                case DataType::kString:
                    append_json_string(out, column.string_at(row));
                    break;
                case DataType::kBytes:
                    out.push_back('"');
                    append_base64(out, column.string_at(row));
                    out.push_back('"');
                    break;
                case DataType::kTimestamp:
                    out.push_back('"');
                    append_timestamp(out, column.value<int64_t>(row));
                    out.push_back('"');
                    break;
                case DataType::kDate:
                    out.push_back('"');
                    append_date(out, column.value<int32_t>(row));
                    out.push_back('"');
                    break;
            }
        }
        out += "}\n";
    }
}

}  // namespace millrace
