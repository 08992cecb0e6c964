#include "exec/operator.h"

#include <cmath>

#include "common/json_string.h"
#include "types/value.h"
#include "types/value_cast.h"

namespace millrace {

std::string row_to_json(const Batch& batch, std::size_t row) {
    std::string out = "{";
    for (std::size_t c = 0; c < batch.num_columns(); ++c) {
        if (c > 0) out += ",";
        append_json_string(out, batch.schema().field(c).name);
        out += ":";
        Value v = batch.value_at(row, c);
        if (v.is_null()) {
            out += "null";
            continue;
        }
        switch (v.type()) {
            case DataType::kBool:
                out += v.as_bool() ? "true" : "false";
                break;
            case DataType::kInt32:
            case DataType::kInt64:
                out += v.to_string();
                break;
            case DataType::kFloat64: {
                double d = v.as_double();
                if (std::isfinite(d)) {
                    append_double_text(out, d);
                } else {
                    append_json_string(out, v.to_string());
                }
                break;
            }
            default:
                append_json_string(out, v.to_string());
                break;
        }
    }
    out += "}";
    return out;
}

Batch concat_batches(const std::shared_ptr<const Schema>& schema,
                     const std::vector<Batch>& batches) {
    if (batches.size() == 1) return batches[0];
    std::size_t rows = 0;
    for (const Batch& b : batches) rows += b.num_rows();
    std::vector<std::shared_ptr<const Column>> columns;
    for (std::size_t c = 0; c < schema->size(); ++c) {
        ColumnBuilder builder(schema->field(c).type, rows);
        for (const Batch& b : batches) {
            const Column& column = b.column(c);
            for (std::size_t r = 0; r < b.num_rows(); ++r) builder.append_from(column, r);
        }
        columns.push_back(std::make_shared<const Column>(builder.finish()));
    }
    return Batch(schema, std::move(columns), rows);
}

}  // namespace millrace
