#include "types/batch.h"

#include "types/value.h"

namespace millrace {

Batch::Batch(std::shared_ptr<const Schema> schema,
             std::vector<std::shared_ptr<const Column>> columns, std::size_t num_rows)
    : schema_(std::move(schema)), columns_(std::move(columns)), num_rows_(num_rows) {
    MILLRACE_CHECK(schema_ != nullptr, "a Batch needs a schema");
    MILLRACE_CHECK(columns_.size() == schema_->size(), "Batch: column count != schema size");
    for (std::size_t i = 0; i < columns_.size(); ++i) {
        MILLRACE_CHECK(columns_[i]->size() == num_rows_,
                       "Batch: column " + schema_->field(i).name + " has a different row count");
        MILLRACE_CHECK(columns_[i]->type() == schema_->field(i).type,
                       "Batch: column " + schema_->field(i).name + " type differs from schema");
    }
}

Batch Batch::empty(std::shared_ptr<const Schema> schema) {
    BatchBuilder builder(std::move(schema));
    return builder.finish();
}

Value Batch::value_at(std::size_t row, std::size_t column_index) const {
    const Column& column = *columns_[column_index];
    if (column.is_null(row)) return Value::null();
    switch (column.type()) {
        case DataType::kBool:
            return Value::boolean(column.value<uint8_t>(row) != 0);
        case DataType::kInt32:
            return Value::int32(column.value<int32_t>(row));
        case DataType::kInt64:
            return Value::int64(column.value<int64_t>(row));
        case DataType::kFloat64:
            return Value::float64(column.value<double>(row));
        case DataType::kString:
            return Value::string(std::string(column.string_at(row)));
        case DataType::kBytes:
            return Value::bytes(std::string(column.string_at(row)));
        case DataType::kTimestamp:
            return Value::timestamp(column.value<int64_t>(row));
        case DataType::kDate:
            return Value::date(column.value<int32_t>(row));
    }
    return Value::null();
}

Batch Batch::project(std::span<const std::size_t> indices) const {
    std::vector<Field> fields;
    std::vector<std::shared_ptr<const Column>> columns;
    fields.reserve(indices.size());
    columns.reserve(indices.size());
    for (std::size_t index : indices) {
        fields.push_back(schema_->field(index));
        columns.push_back(columns_[index]);
    }
    return Batch(std::make_shared<const Schema>(std::move(fields)), std::move(columns), num_rows_);
}

Column take_rows(const Column& column, std::span<const uint32_t> rows) {
    ColumnBuilder builder(column.type(), rows.size());
    builder.append_rows(column, rows);
    return builder.finish();
}

Batch Batch::take(std::span<const uint32_t> rows) const {
    std::vector<std::shared_ptr<const Column>> columns;
    columns.reserve(columns_.size());
    for (const auto& column : columns_) {
        columns.push_back(std::make_shared<const Column>(take_rows(*column, rows)));
    }
    return Batch(schema_, std::move(columns), rows.size());
}

std::size_t Batch::memory_bytes() const {
    std::size_t bytes = 0;
    for (const auto& column : columns_) bytes += column->memory_bytes();
    return bytes;
}

std::string Batch::to_string(std::size_t max_rows) const {
    std::string out;
    for (std::size_t row = 0; row < num_rows_ && row < max_rows; ++row) {
        for (std::size_t c = 0; c < columns_.size(); ++c) {
            if (c > 0) out += ", ";
            out += schema_->field(c).name;
            out += '=';
            out += value_at(row, c).to_string();
        }
        out += '\n';
    }
    if (num_rows_ > max_rows) out += "... (" + std::to_string(num_rows_) + " rows)\n";
    return out;
}

BatchBuilder::BatchBuilder(std::shared_ptr<const Schema> schema, std::size_t capacity_hint)
    : schema_(std::move(schema)) {
    MILLRACE_CHECK(schema_ != nullptr, "a BatchBuilder needs a schema");
    columns_.reserve(schema_->size());
    for (const Field& field : schema_->fields()) columns_.emplace_back(field.type, capacity_hint);
}

void BatchBuilder::rollback_row() {
    for (ColumnBuilder& column : columns_) {
        if (column.size() > num_rows_) column.truncate(num_rows_);
    }
}

std::size_t BatchBuilder::memory_bytes() const {
    std::size_t bytes = 0;
    for (const ColumnBuilder& column : columns_) {
        bytes += column.size() * (fixed_width(column.type()) + 4) + column.heap_bytes();
    }
    return bytes;
}

Batch BatchBuilder::finish() {
    std::vector<std::shared_ptr<const Column>> columns;
    columns.reserve(columns_.size());
    for (ColumnBuilder& column : columns_) {
        MILLRACE_CHECK(column.size() == num_rows_, "BatchBuilder::finish with a partial row in " +
                                                       std::string(type_name(column.type())) +
                                                       " column");
        columns.push_back(std::make_shared<const Column>(column.finish()));
    }
    std::size_t rows = num_rows_;
    num_rows_ = 0;
    return Batch(schema_, std::move(columns), rows);
}

}  // namespace millrace
