#include "exec/key_encoder.h"

#include <cmath>
#include <cstring>

namespace millrace {

bool KeyEncoder::encode(const std::vector<const Column*>& columns, std::size_t row,
                        std::string& out) {
    bool all_valid = true;
    for (const Column* column : columns) {
        if (column->is_null(row)) {
            out.push_back(0);
            out.append(fixed_width(column->type()), '\0');  // 0 bytes for string/bytes
            all_valid = false;
            continue;
        }
        out.push_back(1);
        switch (column->type()) {
            case DataType::kBool:
                out.push_back(static_cast<char>(column->value<uint8_t>(row)));
                break;
            case DataType::kInt32:
            case DataType::kDate: {
                int32_t v = column->value<int32_t>(row);
                out.append(reinterpret_cast<const char*>(&v), 4);
                break;
            }
            case DataType::kInt64:
            case DataType::kTimestamp: {
                int64_t v = column->value<int64_t>(row);
                out.append(reinterpret_cast<const char*>(&v), 8);
                break;
            }
            case DataType::kFloat64: {
                double v = column->value<double>(row);
                if (v == 0) v = 0;  // -0.0 groups with 0.0
                if (std::isnan(v)) v = std::numeric_limits<double>::quiet_NaN();
                out.append(reinterpret_cast<const char*>(&v), 8);
                break;
            }
            case DataType::kString:
            case DataType::kBytes: {
                std::string_view s = column->string_at(row);
                uint32_t length = static_cast<uint32_t>(s.size());
                out.append(reinterpret_cast<const char*>(&length), 4);
                out.append(s);
                break;
            }
        }
    }
    return all_valid;
}

std::size_t KeyEncoder::fixed_row_width(const std::vector<const Column*>& columns) {
    std::size_t width = 0;
    for (const Column* column : columns) {
        if (is_variable_width(column->type())) return 0;
        width += 1 + fixed_width(column->type());
    }
    return width;
}

void KeyEncoder::encode_fixed(const std::vector<const Column*>& columns, std::size_t rows,
                              std::size_t stride, char* out) {
    std::size_t offset = 0;
    for (const Column* column : columns) {
        const std::size_t width = fixed_width(column->type());
        const char* values = reinterpret_cast<const char*>(column->values<uint8_t>().data());
        char* dst = out + offset;
        if (column->type() == DataType::kFloat64) {
            for (std::size_t i = 0; i < rows; ++i, dst += stride) {
                double v = column->value<double>(i);
                if (v == 0) v = 0;
                if (std::isnan(v)) v = std::numeric_limits<double>::quiet_NaN();
                dst[0] = 1;
                std::memcpy(dst + 1, &v, 8);
            }
        } else {
            for (std::size_t i = 0; i < rows; ++i, dst += stride) {
                dst[0] = 1;
                std::memcpy(dst + 1, values + i * width, width);
            }
        }
        if (column->has_nulls()) {
            dst = out + offset;
            for (std::size_t i = 0; i < rows; ++i, dst += stride) {
                if (column->is_null(i)) {
                    dst[0] = 0;
                    std::memset(dst + 1, 0, width);  // the value slot of a null is zero (Column)
                }
            }
        }
        offset += 1 + width;
    }
}

void KeyEncoder::decode(std::string_view key, std::vector<ColumnBuilder>& builders) {
    std::size_t pos = 0;
    for (ColumnBuilder& builder : builders) {
        if (key[pos++] == 0) {
            builder.append_null();
            pos += fixed_width(builder.type());
            continue;
        }
        switch (builder.type()) {
            case DataType::kBool:
                builder.append_bool(key[pos++] != 0);
                break;
            case DataType::kInt32:
            case DataType::kDate: {
                int32_t v;
                std::memcpy(&v, key.data() + pos, 4);
                pos += 4;
                builder.append<int32_t>(v);
                break;
            }
            case DataType::kInt64:
            case DataType::kTimestamp:
            case DataType::kFloat64: {
                int64_t v;
                std::memcpy(&v, key.data() + pos, 8);
                pos += 8;
                builder.append<int64_t>(v);
                break;
            }
            case DataType::kString:
            case DataType::kBytes: {
                uint32_t length;
                std::memcpy(&length, key.data() + pos, 4);
                pos += 4;
                builder.append_string(key.substr(pos, length));
                pos += length;
                break;
            }
        }
    }
}

}  // namespace millrace
