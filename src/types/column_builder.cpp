#include "types/column_builder.h"

#include <algorithm>
#include <cstring>

#include "types/value.h"

namespace millrace {

ColumnBuilder::ColumnBuilder(DataType type, std::size_t capacity_hint) : type_(type) {
    if (is_variable_width(type_)) {
        values_.reserve((capacity_hint + 1) * sizeof(uint32_t));
        values_.push<uint32_t>(0);
    } else {
        values_.reserve(capacity_hint * fixed_width(type_));
    }
}

void ColumnBuilder::start_validity() {
    // Every row so far was valid.
    validity_.resize_zeroed(size_ / 8 + 8);
    std::fill(validity_.data(), validity_.data() + size_ / 8, 0xff);
    for (std::size_t row = size_ / 8 * 8; row < size_; ++row) {
        validity_.data()[row >> 3] |= static_cast<uint8_t>(1u << (row & 7));
    }
}

void ColumnBuilder::mark_valid_slow() {
    ensure_validity_capacity();
    validity_.data()[size_ >> 3] |= static_cast<uint8_t>(1u << (size_ & 7));
}

void ColumnBuilder::append_zero_slot() {
    const std::size_t width = fixed_width(type_);
    const std::size_t old = values_.size();
    values_.resize(old + width);
    std::memset(values_.data() + old, 0, width);
}

void ColumnBuilder::append_value(const Value& value) {
    if (value.is_null()) {
        append_null();
        return;
    }
    MILLRACE_CHECK(value.type() == type_, "append_value: value type " +
                                              std::string(type_name(value.type())) +
                                              " into a column of " + std::string(type_name(type_)));
    switch (type_) {
        case DataType::kBool:
            append_bool(value.as_bool());
            break;
        case DataType::kInt32:
        case DataType::kDate:
            append<int32_t>(value.as_int32());
            break;
        case DataType::kInt64:
        case DataType::kTimestamp:
            append<int64_t>(value.as_int64());
            break;
        case DataType::kFloat64:
            append_double(value.as_double());
            break;
        case DataType::kString:
        case DataType::kBytes:
            append_string(value.as_string());
            break;
    }
}

namespace {

template <typename T>
void gather_into(uint8_t* out, const Column& column, std::span<const uint32_t> rows) {
    const T* values = column.values<T>().data();
    for (std::size_t i = 0; i < rows.size(); ++i)
        std::memcpy(out + i * sizeof(T), &values[rows[i]], sizeof(T));
}

}  // namespace

void ColumnBuilder::append_rows(const Column& column, std::span<const uint32_t> rows) {
    MILLRACE_DCHECK(column.type() == type_, "append_rows: type mismatch");
    if (column.has_nulls() || !validity_.empty()) {
        for (uint32_t row : rows) append_from(column, row);
        return;
    }
    const std::size_t width = fixed_width(type_);
    if (width == 0) {
        const uint32_t* offsets = column.offsets().data();
        std::size_t bytes = 0;
        for (uint32_t row : rows) bytes += offsets[row + 1] - offsets[row];
        heap_.reserve(heap_.size() + bytes);
        values_.reserve(values_.size() + rows.size() * sizeof(uint32_t));
        const char* heap = column.heap().data();
        for (uint32_t row : rows) {
            heap_.append(heap + offsets[row], offsets[row + 1] - offsets[row]);
            values_.push<uint32_t>(static_cast<uint32_t>(heap_.size()));
        }
        size_ += rows.size();
        return;
    }
    const std::size_t old = values_.size();
    values_.resize(old + rows.size() * width);
    uint8_t* out = values_.data() + old;
    switch (width) {
        case 1:
            gather_into<uint8_t>(out, column, rows);
            break;
        case 4:
            gather_into<uint32_t>(out, column, rows);
            break;
        default:
            gather_into<uint64_t>(out, column, rows);
            break;
    }
    size_ += rows.size();
}

void ColumnBuilder::append_from(const Column& column, std::size_t row) {
    MILLRACE_DCHECK(column.type() == type_, "append_from: type mismatch");
    if (column.is_null(row)) {
        append_null();
        return;
    }
    switch (fixed_width(type_)) {
        case 0:
            append_string(column.string_at(row));
            break;
        case 1:
            append<uint8_t>(column.value<uint8_t>(row));
            break;
        case 4:
            append<int32_t>(column.value<int32_t>(row));
            break;
        default:
            append<int64_t>(column.value<int64_t>(row));
            break;
    }
}

void ColumnBuilder::truncate(std::size_t rows) {
    MILLRACE_CHECK(rows <= size_, "truncate beyond the end");
    if (rows == size_) return;
    if (null_count_ > 0) {
        for (std::size_t row = rows; row < size_; ++row) {
            if ((validity_.data()[row >> 3] & (1u << (row & 7))) == 0) --null_count_;
        }
    }
    if (is_variable_width(type_)) {
        values_.resize((rows + 1) * sizeof(uint32_t));
        heap_.resize(values_.as<uint32_t>()[rows]);
    } else {
        values_.resize(rows * fixed_width(type_));
    }
    // Clear the validity bits of dropped rows so a later append_null/mark_valid starts clean.
    if (!validity_.empty()) {
        for (std::size_t row = rows; row < size_; ++row) clear_bit(row);
    }
    size_ = rows;
}

Column ColumnBuilder::finish() {
    // The next batch is likely as large as this one: reserve as much up front.
    const std::size_t values_bytes = values_.size();
    const std::size_t heap_bytes = heap_.size();
    Column column;
    column.type_ = type_;
    column.size_ = size_;
    column.null_count_ = null_count_;
    if (null_count_ > 0) column.validity_ = std::move(validity_);
    column.values_ = std::move(values_);
    column.heap_ = std::move(heap_);
    validity_ = Buffer();
    values_ = Buffer();
    heap_ = Buffer();
    size_ = 0;
    null_count_ = 0;
    values_.reserve(values_bytes);
    heap_.reserve(heap_bytes);
    if (is_variable_width(type_)) values_.push<uint32_t>(0);
    return column;
}

}  // namespace millrace
