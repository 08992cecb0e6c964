#include "online/feature_row_codec.h"

#include <cstring>

#include "online/online_store.h"
#include "types/column.h"

namespace millrace {

namespace {

constexpr uint8_t kRowVersion = 1;
constexpr std::size_t kHeaderBytes = 1 + 8 + 8 + 2;

void put_varint(std::string& out, uint64_t value) {
    while (value >= 0x80) {
        out.push_back(static_cast<char>((value & 0x7F) | 0x80));
        value >>= 7;
    }
    out.push_back(static_cast<char>(value));
}

template <typename T>
void put_le(std::string& out, T value) {
    char bytes[sizeof(T)];
    std::memcpy(bytes, &value, sizeof(T));
    out.append(bytes, sizeof(T));
}

void put_key_int(std::string& out, int64_t value) {
    uint64_t bits = static_cast<uint64_t>(value) ^ (uint64_t{1} << 63);
    char bytes[8];
    for (int i = 7; i >= 0; --i) {
        bytes[i] = static_cast<char>(bits & 0xFF);
        bits >>= 8;
    }
    out.append(bytes, 8);
}

class Reader {
public:
    explicit Reader(std::string_view bytes) : data_(bytes) {}
    bool ok() const { return ok_; }
    bool at_end() const { return pos_ == data_.size(); }

    template <typename T>
    T le() {
        T value{};
        if (data_.size() - pos_ < sizeof(T)) {
            ok_ = false;
            return value;
        }
        std::memcpy(&value, data_.data() + pos_, sizeof(T));
        pos_ += sizeof(T);
        return value;
    }
    std::string_view bytes() {
        uint64_t length = 0;
        for (int shift = 0;; shift += 7) {
            if (pos_ >= data_.size() || shift > 63) {
                ok_ = false;
                return {};
            }
            const auto byte = static_cast<uint8_t>(data_[pos_++]);
            length |= uint64_t{byte & 0x7Fu} << shift;
            if ((byte & 0x80) == 0) break;
        }
        if (data_.size() - pos_ < length) {
            ok_ = false;
            return {};
        }
        std::string_view out = data_.substr(pos_, length);
        pos_ += length;
        return out;
    }
    std::string_view raw(std::size_t n) {
        if (data_.size() - pos_ < n) {
            ok_ = false;
            return {};
        }
        std::string_view out = data_.substr(pos_, n);
        pos_ += n;
        return out;
    }

private:
    std::string_view data_;
    std::size_t pos_ = 0;
    bool ok_ = true;
};

}  // namespace

void append_key_value(std::string& out, DataType type, const Value& value) {
    switch (type) {
        case DataType::kBool:
            out.push_back(value.as_bool() ? 1 : 0);
            return;
        case DataType::kInt32:
        case DataType::kDate:
            put_key_int(out, value.as_int32());
            return;
        case DataType::kInt64:
        case DataType::kTimestamp:
            put_key_int(out, value.as_int64());
            return;
        case DataType::kFloat64:
            put_le(out, value.as_double());
            return;
        case DataType::kString:
        case DataType::kBytes:
            put_varint(out, value.as_string().size());
            out += value.as_string();
            return;
    }
}

void append_key_cell(std::string& out, DataType type, const Column& column, std::size_t row) {
    switch (type) {
        case DataType::kBool:
            out.push_back(column.values<uint8_t>()[row] != 0 ? 1 : 0);
            return;
        case DataType::kInt32:
        case DataType::kDate:
            put_key_int(out, column.values<int32_t>()[row]);
            return;
        case DataType::kInt64:
        case DataType::kTimestamp:
            put_key_int(out, column.values<int64_t>()[row]);
            return;
        case DataType::kFloat64:
            put_le(out, column.values<double>()[row]);
            return;
        case DataType::kString:
        case DataType::kBytes: {
            std::string_view text = column.string_at(row);
            put_varint(out, text.size());
            out += text;
            return;
        }
    }
}

std::optional<RowTimes> peek_row_times(std::string_view bytes) {
    if (bytes.size() < kHeaderBytes || static_cast<uint8_t>(bytes[0]) != kRowVersion) {
        return std::nullopt;
    }
    RowTimes times{};
    std::memcpy(&times.event_time_us, bytes.data() + 1, 8);
    std::memcpy(&times.write_time_us, bytes.data() + 9, 8);
    return times;
}

void RowEncoder::begin(int64_t event_time_us, int64_t write_time_us, std::size_t feature_count) {
    out_.clear();
    out_.push_back(static_cast<char>(kRowVersion));
    put_le(out_, event_time_us);
    put_le(out_, write_time_us);
    put_le(out_, static_cast<uint16_t>(feature_count));
    bitmap_offset_ = out_.size();
    out_.append((feature_count + 7) / 8, '\0');
}

void RowEncoder::append_null(std::size_t) {}

void RowEncoder::append_value(std::size_t feature, DataType type, const Value& value) {
    out_[bitmap_offset_ + feature / 8] =
        static_cast<char>(out_[bitmap_offset_ + feature / 8] | (1 << (feature % 8)));
    switch (type) {
        case DataType::kBool:
            out_.push_back(value.as_bool() ? 1 : 0);
            return;
        case DataType::kInt32:
        case DataType::kDate:
            put_le(out_, value.as_int32());
            return;
        case DataType::kInt64:
        case DataType::kTimestamp:
            put_le(out_, value.as_int64());
            return;
        case DataType::kFloat64:
            put_le(out_, value.as_double());
            return;
        case DataType::kString:
        case DataType::kBytes:
            put_varint(out_, value.as_string().size());
            out_ += value.as_string();
            return;
    }
}

void RowEncoder::append_cell(std::size_t feature, DataType type, const Column& column,
                             std::size_t row) {
    out_[bitmap_offset_ + feature / 8] =
        static_cast<char>(out_[bitmap_offset_ + feature / 8] | (1 << (feature % 8)));
    switch (type) {
        case DataType::kBool:
            out_.push_back(column.values<uint8_t>()[row] != 0 ? 1 : 0);
            return;
        case DataType::kInt32:
        case DataType::kDate:
            put_le(out_, column.values<int32_t>()[row]);
            return;
        case DataType::kInt64:
        case DataType::kTimestamp:
            put_le(out_, column.values<int64_t>()[row]);
            return;
        case DataType::kFloat64:
            put_le(out_, column.values<double>()[row]);
            return;
        case DataType::kString:
        case DataType::kBytes: {
            std::string_view text = column.string_at(row);
            put_varint(out_, text.size());
            out_ += text;
            return;
        }
    }
}

std::optional<FeatureRow> decode_row(const FeatureView& view, std::string_view bytes) {
    Reader reader(bytes);
    if (reader.le<uint8_t>() != kRowVersion) return std::nullopt;
    FeatureRow row;
    row.event_time_us = reader.le<int64_t>();
    row.write_time_us = reader.le<int64_t>();
    const auto count = reader.le<uint16_t>();
    if (!reader.ok() || count != view.features.size()) return std::nullopt;
    std::string_view bitmap = reader.raw((count + 7) / 8);
    if (!reader.ok()) return std::nullopt;
    row.values.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
        if ((static_cast<uint8_t>(bitmap[i / 8]) & (1 << (i % 8))) == 0) continue;
        switch (view.features[i].type) {
            case DataType::kBool:
                row.values[i] = Value::boolean(reader.le<uint8_t>() != 0);
                break;
            case DataType::kInt32:
                row.values[i] = Value::int32(reader.le<int32_t>());
                break;
            case DataType::kDate:
                row.values[i] = Value::date(reader.le<int32_t>());
                break;
            case DataType::kInt64:
                row.values[i] = Value::int64(reader.le<int64_t>());
                break;
            case DataType::kTimestamp:
                row.values[i] = Value::timestamp(reader.le<int64_t>());
                break;
            case DataType::kFloat64:
                row.values[i] = Value::float64(reader.le<double>());
                break;
            case DataType::kString:
                row.values[i] = Value::string(std::string(reader.bytes()));
                break;
            case DataType::kBytes:
                row.values[i] = Value::bytes(std::string(reader.bytes()));
                break;
        }
        if (!reader.ok()) return std::nullopt;
    }
    if (!reader.at_end()) return std::nullopt;
    return row;
}

}  // namespace millrace
