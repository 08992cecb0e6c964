#pragma once

#include <memory>
#include <string_view>

#include "types/column.h"
#include "types/value.h"

namespace millrace {

/// An evaluated argument of a kernel: a column of the batch's length, or a one-row column
/// standing for a constant (so constants are never expanded to full columns).
struct Operand {
    std::shared_ptr<const Column> col;
    bool constant = false;

    std::size_t row(std::size_t i) const { return constant ? 0 : i; }
    bool null(std::size_t i) const { return col->is_null(row(i)); }
    template <typename T>
    T get(std::size_t i) const {
        return col->value<T>(row(i));
    }
    std::string_view str(std::size_t i) const { return col->string_at(row(i)); }
    /// Slow path: the value as a Value.
    Value value(std::size_t i) const;
};

}  // namespace millrace
