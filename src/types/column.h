#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "types/buffer.h"
#include "types/data_type.h"

namespace millrace {

/// An immutable column of `size()` values of one DataType, built by ColumnBuilder.
///
/// Layout (the Arrow layout, so encoders and operators can work on whole buffers):
///
///   validity  bit i (LSB-first in byte i/8) = 1 when row i is not null; empty buffer when
///             the column has no nulls at all
///   values    fixed-width types: size() values of the physical type (see data_type.h);
///             string/bytes: size()+1 uint32 offsets into heap, value i = heap[off[i], off[i+1])
///   heap      string/bytes payload (the string arena), empty for fixed-width types
///
/// The value slot of a null row holds a zero (fixed-width) or an empty range (string/bytes).
/// Columns are shared between Batches through std::shared_ptr<const Column> and never change,
/// so any number of threads may read one concurrently.
class Column {
public:
    Column() = default;
    Column(Column&&) = default;
    Column& operator=(Column&&) = default;

    DataType type() const { return type_; }
    std::size_t size() const { return size_; }
    std::size_t null_count() const { return null_count_; }
    bool has_nulls() const { return null_count_ > 0; }

    bool is_null(std::size_t row) const {
        return null_count_ > 0 && (validity_.data()[row >> 3] & (1u << (row & 7))) == 0;
    }
    bool is_valid(std::size_t row) const { return !is_null(row); }
    /// The validity bitmap, or nullptr when the column has no nulls.
    const uint8_t* validity() const { return null_count_ > 0 ? validity_.data() : nullptr; }

    /// The values of a fixed-width column as their physical type T.
    template <typename T>
    std::span<const T> values() const {
        return {values_.as<T>(), size_};
    }
    template <typename T>
    T value(std::size_t row) const {
        return values_.as<T>()[row];
    }

    /// Value `row` of a string or bytes column.
    std::string_view string_at(std::size_t row) const {
        const uint32_t* offsets = values_.as<uint32_t>();
        return {reinterpret_cast<const char*>(heap_.data()) + offsets[row],
                offsets[row + 1] - offsets[row]};
    }
    std::span<const uint32_t> offsets() const { return {values_.as<uint32_t>(), size_ + 1}; }
    std::string_view heap() const {
        return {reinterpret_cast<const char*>(heap_.data()), heap_.size()};
    }

    /// Bytes held by the column's buffers (for memory accounting and metrics).
    std::size_t memory_bytes() const { return validity_.size() + values_.size() + heap_.size(); }

private:
    friend class ColumnBuilder;

    DataType type_ = DataType::kInt64;
    std::size_t size_ = 0;
    std::size_t null_count_ = 0;
    Buffer validity_;
    Buffer values_;
    Buffer heap_;
};

}  // namespace millrace
