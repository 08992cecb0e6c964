#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "common/check.h"
#include "types/column.h"

namespace millrace {

class Value;

/// Appends values to a Column under construction. The append functions are inline because
/// decoders call them once per value; none allocates except to grow its buffers.
///
/// A row that turns out to be bad halfway through can be rolled back with truncate(), which is
/// how decoders keep a Batch consistent when a record fails after some of its fields were
/// appended. Not thread-safe; one builder per thread.
class ColumnBuilder {
public:
    explicit ColumnBuilder(DataType type, std::size_t capacity_hint = 0);

    DataType type() const { return type_; }
    std::size_t size() const { return size_; }

    void append_null() {
        if (validity_.empty()) start_validity();
        ensure_validity_capacity();
        clear_bit(size_);
        ++null_count_;
        if (is_variable_width(type_)) {
            values_.push<uint32_t>(static_cast<uint32_t>(heap_.size()));
        } else {
            append_zero_slot();
        }
        ++size_;
    }

    /// Appends a fixed-width value of the column's physical type.
    template <typename T>
    void append(T value) {
        MILLRACE_DCHECK(sizeof(T) == fixed_width(type_), "physical type mismatch");
        mark_valid();
        values_.push<T>(value);
        ++size_;
    }
    void append_bool(bool value) { append<uint8_t>(value ? 1 : 0); }
    void append_int32(int32_t value) { append<int32_t>(value); }
    void append_int64(int64_t value) { append<int64_t>(value); }
    void append_double(double value) { append<double>(value); }
    void append_timestamp(int64_t micros) { append<int64_t>(micros); }
    void append_date(int32_t days) { append<int32_t>(days); }

    /// Appends a value to a string or bytes column (the bytes are copied into the heap).
    void append_string(std::string_view value) {
        MILLRACE_DCHECK(is_variable_width(type_), "append_string on a fixed-width column");
        mark_valid();
        heap_.append(value.data(), value.size());
        values_.push<uint32_t>(static_cast<uint32_t>(heap_.size()));
        ++size_;
    }

    /// Appends a dynamically typed value; it must be null or of this column's type.
    void append_value(const Value& value);
    /// Appends row `row` of `column`, which must have this builder's type.
    void append_from(const class Column& column, std::size_t row);
    /// Appends rows `rows` of `column` (same type), as append_from() each, in one pass per
    /// buffer when neither has nulls (Batch::take, filters).
    void append_rows(const class Column& column, std::span<const uint32_t> rows);

    /// Drops every row from `rows` on (rows <= size()).
    void truncate(std::size_t rows);

    /// Bytes currently held in the heap of a string/bytes column.
    std::size_t heap_bytes() const { return heap_.size(); }

    /// Hands the built column over and leaves the builder empty, ready for the next batch.
    Column finish();

private:
    void start_validity();
    void ensure_validity_capacity() {
        if ((size_ >> 3) >= validity_.size()) validity_.resize_zeroed(validity_.size() * 2 + 8);
    }
    // Called once per appended value: the common no-nulls case must stay one inlined test.
    void mark_valid() {
        if (!validity_.empty()) [[unlikely]]
            mark_valid_slow();
    }
    void mark_valid_slow();
    void clear_bit(std::size_t row) {
        validity_.data()[row >> 3] &= static_cast<uint8_t>(~(1u << (row & 7)));
    }
    void append_zero_slot();

    DataType type_;
    std::size_t size_ = 0;
    std::size_t null_count_ = 0;
    Buffer validity_;  // empty until the first null
    Buffer values_;
    Buffer heap_;
};

}  // namespace millrace
