#include "exec/operator.h"

#include <fmt/format.h>

#include <cmath>

#include "common/json_string.h"
#include "types/value.h"
#include "types/value_cast.h"

namespace millrace {

Status ExecContext::row_error(DeadLetterRow row) {
    if (row_error_policy == RowErrorPolicy::kFail) {
        return Error(ErrorCode::kInvalidArgument,
                     fmt::format("{} (in {}, row {})", row.reason, row.origin, row.row_json));
    }
    dead_letter(std::move(row));
    return {};
}

int64_t ExecContext::statement_time_micros() {
    if (!statement_time_)
        statement_time_ = clock != nullptr ? clock->now_micros() : SystemClock().now_micros();
    return *statement_time_;
}

Status Operator::restore_state(std::string_view bytes) {
    if (bytes.empty()) return {};
    return Error(ErrorCode::kCorruption, "state given to an operator that keeps none");
}

Status Operator::merge_state(std::string_view bytes) {
    if (bytes.empty()) return {};
    return Error(ErrorCode::kUnsupported, "this operator's state cannot be merged");
}

Status Operator::apply_state_changes(std::string_view bytes) {
    if (bytes.empty()) return {};
    return Error(ErrorCode::kCorruption, "state changes given to an operator that writes none");
}

MemoryReservation::MemoryReservation(ExecContext& context, std::string holder, std::string advice)
    : context_(context), holder_(std::move(holder)), advice_(std::move(advice)) {}

MemoryReservation::~MemoryReservation() { release(); }

Status MemoryReservation::resize(std::size_t bytes) {
    if (bytes <= bytes_) {
        context_.memory_used_bytes -= bytes_ - bytes;
        bytes_ = bytes;
        return {};
    }
    const std::size_t more = bytes - bytes_;
    const std::size_t others = context_.memory_used_bytes - bytes_;
    if (context_.memory_used_bytes + more > context_.memory_limit_bytes) {
        std::string message =
            fmt::format("memory limit of {} reached: {} needs {}",
                        format_bytes(context_.memory_limit_bytes), holder_, format_bytes(bytes));
        if (others > 0)
            message +=
                fmt::format(" while other operators of the run hold {}", format_bytes(others));
        message += fmt::format("; {}, or raise the limit ({})", advice_, context_.limit_name);
        return Error(ErrorCode::kResourceExhausted, std::move(message));
    }
    context_.memory_used_bytes += more;
    bytes_ = bytes;
    context_.memory_peak_bytes = std::max(context_.memory_peak_bytes, context_.memory_used_bytes);
    return {};
}

void MemoryReservation::release() {
    if (bytes_ == 0) return;
    context_.memory_used_bytes -= bytes_;
    bytes_ = 0;
}

std::string format_bytes(std::size_t bytes) {
    const double value = static_cast<double>(bytes);
    if (bytes >= (std::size_t{1} << 30)) return fmt::format("{:.4g} GiB", value / (1 << 30));
    if (bytes >= (std::size_t{1} << 20)) return fmt::format("{:.4g} MiB", value / (1 << 20));
    if (bytes >= (std::size_t{1} << 10)) return fmt::format("{:.4g} KiB", value / (1 << 10));
    return fmt::format("{} bytes", bytes);
}

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
