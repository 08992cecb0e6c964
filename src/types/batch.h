#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "types/column.h"
#include "types/column_builder.h"
#include "types/schema.h"

namespace millrace {

class Value;

/// A set of rows in columnar form: one Column per schema field, all of num_rows() values. The
/// unit of work of every decoder, operator and encoder (docs/architecture.md §1), typically 1–8k
/// rows. Batches are immutable values that share their schema and columns, so projecting,
/// renaming or passing a Batch between threads never copies data.
///
/// Stream control (checkpoint barriers, watermarks) is not part of a Batch: the streaming runtime
/// carries it beside Batches in its own envelope, so batch and streaming mode share operators.
class Batch {
public:
    Batch() = default;
    Batch(std::shared_ptr<const Schema> schema, std::vector<std::shared_ptr<const Column>> columns,
          std::size_t num_rows);

    /// An empty batch (zero rows) of a schema.
    static Batch empty(std::shared_ptr<const Schema> schema);

    const Schema& schema() const { return *schema_; }
    const std::shared_ptr<const Schema>& schema_ptr() const { return schema_; }
    std::size_t num_rows() const { return num_rows_; }
    std::size_t num_columns() const { return columns_.size(); }
    const Column& column(std::size_t index) const { return *columns_[index]; }
    const std::shared_ptr<const Column>& column_ptr(std::size_t index) const {
        return columns_[index];
    }

    /// The value at (row, column) as a dynamically typed Value: slow, for tests and printing.
    Value value_at(std::size_t row, std::size_t column) const;

    /// A batch of the given columns, in that order (no data is copied).
    Batch project(std::span<const std::size_t> columns) const;

    /// A batch of the rows at `rows` (ascending or not, repeats allowed), copied.
    Batch take(std::span<const uint32_t> rows) const;

    /// Bytes held by all columns.
    std::size_t memory_bytes() const;

    /// Rows as text, one per line, `a=1, b=x` (for tests and debugging).
    std::string to_string(std::size_t max_rows = 20) const;

private:
    std::shared_ptr<const Schema> schema_;
    std::vector<std::shared_ptr<const Column>> columns_;
    std::size_t num_rows_ = 0;
};

/// The rows at `rows` of a column (any order, repeats allowed), copied: typed loops, the fast
/// path of Batch::take and of operators that gather rows.
Column take_rows(const Column& column, std::span<const uint32_t> rows);

/// Builds Batches row by row for a schema: append one value to every column builder, then
/// commit_row(). rollback_row() discards a partly appended row.
class BatchBuilder {
public:
    explicit BatchBuilder(std::shared_ptr<const Schema> schema, std::size_t capacity_hint = 0);

    const Schema& schema() const { return *schema_; }
    const std::shared_ptr<const Schema>& schema_ptr() const { return schema_; }
    std::size_t num_rows() const { return num_rows_; }
    ColumnBuilder& column(std::size_t index) { return columns_[index]; }

    /// Marks the values appended since the last commit as one complete row.
    void commit_row() { ++num_rows_; }
    /// Drops the values appended since the last commit.
    void rollback_row();

    /// Bytes held so far (to cut batches by size as well as rows).
    std::size_t memory_bytes() const;

    /// The rows committed so far as a Batch; the builder starts over, empty.
    Batch finish();

private:
    std::shared_ptr<const Schema> schema_;
    std::vector<ColumnBuilder> columns_;
    std::size_t num_rows_ = 0;
};

}  // namespace millrace
