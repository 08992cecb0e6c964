#include "pipeline/source_fan_out.h"

#include <fmt/format.h>

#include "connectors/dead_letter_writer.h"
#include "exec/operator.h"
#include "pipeline/dataset_rules.h"
#include "sql/binder.h"
#include "sql/parser.h"

namespace millrace {

std::vector<uint8_t> regex_matches(const std::regex& regex, const Column& column,
                                   std::size_t rows) {
    std::vector<uint8_t> out(rows, 1);
    for (std::size_t i = 0; i < rows; ++i) {
        if (column.is_null(i)) continue;
        const std::string_view text = column.string_at(i);
        out[i] = std::regex_search(text.begin(), text.end(), regex) ? 1 : 0;
    }
    return out;
}

Result<std::vector<BoundCheck>> bind_checks(const PipelineSpec& pipeline, const SourceSpec& source,
                                            const Schema& schema) {
    return bind_checks(pipeline, source.name, schema);
}

Result<std::vector<BoundCheck>> bind_checks(const PipelineSpec& pipeline, const std::string& target,
                                            const Schema& schema) {
    const std::string_view kind = pipeline.find_source(target) != nullptr ? "source" : "view";
    std::vector<BoundCheck> out;
    for (const CheckSpec& check : pipeline.checks) {
        if (check.target != target || check.dataset_level()) continue;
        if (check.kind == CheckKind::kNotNull) {
            for (const std::string& column : check.columns) {
                auto index = schema.index_of(column);
                if (!index) {
                    return Error(ErrorCode::kNotFound,
                                 fmt::format("check not_null on {} `{}`: unknown column `{}`", kind,
                                             target, column),
                                 check.location);
                }
                sql::BoundExpr is_null;
                is_null.kind = sql::BoundExpr::Kind::kIsNull;
                is_null.type = DataType::kBool;
                is_null.negated = true;
                is_null.args.push_back(
                    sql::BoundExpr::column_ref(*index, schema.field(*index).type, column));
                std::string label =
                    check.name.empty() ? fmt::format("not_null({})", column) : check.name;
                out.push_back(BoundCheck{label, std::move(is_null), check.on_fail, check.location});
            }
            continue;
        }
        if (check.kind == CheckKind::kRegex) {
            MILLRACE_ASSIGN_OR_RETURN(BoundCheck bound,
                                      bind_regex_check(check, schema, kind, target));
            out.push_back(std::move(bound));
            continue;
        }
        // accepted_values and range are predicates built from their fields.
        MILLRACE_ASSIGN_OR_RETURN(const std::string text,
                                  check_predicate_sql(check, check.column, schema, kind, target));
        auto parsed = sql::parse_expression(text);
        auto map_error = [&](const Error& error) {
            SourceLocation location = error.location();
            if (check.kind != CheckKind::kExpect) {
                location = check.location;
            } else if (location.file.empty() && location.line > 0) {
                location = check.expression.location_of(location.line, location.column);
            }
            return Error(error.code(),
                         fmt::format("check on {} `{}`: {}", kind, target, error.message()),
                         location);
        };
        if (!parsed.ok()) return map_error(parsed.error());
        auto bound = sql::bind_predicate(*parsed.value(), text, schema);
        if (!bound.ok()) return map_error(bound.error());
        std::string label = check.name;
        if (label.empty() && check.kind == CheckKind::kExpect) {
            label = fmt::format("expect({})", check.expression.text);
        } else if (label.empty()) {
            label = fmt::format("{}({})", enum_name(check.kind), check.column);
        }
        out.push_back(BoundCheck{label, std::move(bound).value(), check.on_fail, check.location});
    }
    return out;
}

void SourceFanOut::on_unit_set_aside(const std::string& path, const std::string& reason) {
    report_.bad_files.push_back(SourceReport::BadFile{path, reason});
    dead_letters_.add_bad_file(spec_.name, path, reason);
}

void SourceFanOut::on_error(RowError error) {
    ++report_.rows_rejected;
    switch (spec_.on_error) {
        case OnRecordError::kDeadLetter:
            dead_letters_.add_decode_error(spec_.name, unit_, error.line, error.record_index,
                                           error.reason, error.raw);
            break;
        case OnRecordError::kDrop:
            ++report_.rows_rejected_dropped;
            break;
        case OnRecordError::kFail:
            if (failure_.ok()) {
                failure_ = Error(ErrorCode::kInvalidArgument,
                                 fmt::format("source `{}` (on_error: fail): {} line {}: {}",
                                             spec_.name, unit_, error.line, error.reason),
                                 spec_.location);
            }
            break;
    }
}

Status SourceFanOut::on_batch(Batch batch) {
    MILLRACE_TRY(failure_);
    report_.rows_read += batch.num_rows();
    if (rules_ != nullptr) rules_->observe(batch);
    if (!checks_.empty()) {
        CheckCounts counts;
        MILLRACE_ASSIGN_OR_RETURN(
            batch, apply_row_checks(checks_, std::move(batch), "source", spec_.name, evaluator_,
                                    &dead_letters_, &counts));
        report_.rows_failed_checks += counts.failed;
        report_.rows_dropped_by_checks += counts.dropped;
        report_.check_warnings += counts.warnings;
    }
    report_.rows_out += batch.num_rows();
    if (batch.num_rows() == 0) return {};
    for (const ScanInput* input : inputs_) {
        MILLRACE_TRY(input->entry->push(batch.project(input->columns)));
    }
    return {};
}

Status SourceFanOut::finish() {
    MILLRACE_TRY(failure_);
    for (const ScanInput* input : inputs_) MILLRACE_TRY(input->entry->finish());
    return {};
}

Result<Batch> apply_row_checks(const std::vector<BoundCheck>& checks, Batch batch,
                               std::string_view kind, const std::string& target,
                               ExpressionEvaluator& evaluator, DeadLetterWriter* dead_letters,
                               CheckCounts* counts) {
    const std::size_t n = batch.num_rows();
    std::vector<uint8_t> keep(n, 1);
    RowErrors errors;
    for (const BoundCheck& check : checks) {
        errors.clear();
        ColumnPtr result;
        std::vector<uint8_t> matched;
        if (check.regex) {
            matched = regex_matches(*check.regex, batch.column(check.regex_column), n);
        } else {
            result = evaluator.evaluate(check.predicate, batch, errors);
        }
        for (std::size_t i = 0; i < n; ++i) {
            if (!keep[i]) continue;
            bool passed = check.regex ? matched[i] != 0
                                      : !result->is_null(i) && result->value<uint8_t>(i) != 0;
            if (passed) continue;
            switch (check.action) {
                case CheckAction::kWarn:
                    if (counts != nullptr) ++counts->warnings;
                    break;
                case CheckAction::kDrop:
                    if (counts != nullptr) ++counts->dropped;
                    keep[i] = 0;
                    break;
                case CheckAction::kDeadLetter:
                    keep[i] = 0;
                    if (counts != nullptr) ++counts->failed;
                    if (dead_letters != nullptr) {
                        dead_letters->add_row("check", std::string(kind), target,
                                              fmt::format("check {} failed", check.label),
                                              row_to_json(batch, i), check.label);
                    }
                    break;
                case CheckAction::kFail:
                    return Error(
                        ErrorCode::kInvalidArgument,
                        fmt::format("check {} on {} `{}` failed (on_fail: fail) for row {}",
                                    check.label, kind, target, row_to_json(batch, i)),
                        check.location);
            }
        }
    }
    std::vector<uint32_t> rows;
    for (std::size_t i = 0; i < n; ++i) {
        if (keep[i]) rows.push_back(static_cast<uint32_t>(i));
    }
    if (rows.size() == n) return batch;
    return batch.take(rows);
}

Status CheckedInput::push(Batch batch) {
    if (rules_ != nullptr) rules_->observe(batch);
    MILLRACE_ASSIGN_OR_RETURN(batch, apply_row_checks(checks_, std::move(batch), "view", view_,
                                                      evaluator_, dead_letters_, counts_));
    if (batch.num_rows() == 0) return {};
    return next_.push(std::move(batch));
}

}  // namespace millrace
