#include "pipeline/dataset_rules.h"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>

#include "common/durable_file.h"
#include "common/file_lock.h"
#include "common/json_string.h"
#include "common/mapped_file.h"
#include "exec/operator.h"
#include "pipeline/lake_query.h"
#include "pipeline/source_fan_out.h"
#include "sql/binder.h"
#include "sql/parser.h"

namespace millrace {

namespace {

std::string sql_string(const std::string& text) {
    std::string out = "'";
    for (char c : text) {
        if (c == '\'') out += '\'';
        out += c;
    }
    return out + "'";
}

bool is_number(const std::string& text) {
    char* end = nullptr;
    (void)std::strtod(text.c_str(), &end);
    return !text.empty() && end == text.c_str() + text.size();
}

Result<std::size_t> column_index(const CheckSpec& check, const std::string& column,
                                 const Schema& schema, std::string_view kind,
                                 const std::string& target) {
    auto index = schema.index_of(column);
    if (!index) {
        return Error(ErrorCode::kNotFound,
                     fmt::format("check {} on {} `{}`: unknown column `{}`", enum_name(check.kind),
                                 kind, target, column),
                     check.column_location.known() ? check.column_location : check.location);
    }
    return *index;
}

Result<sql::BoundExpr> bind_sql(const std::string& text, const Schema& schema,
                                const CheckSpec& check, std::string_view kind,
                                const std::string& target) {
    auto map_error = [&](const Error& error) {
        SourceLocation location = error.location();
        if (check.kind == CheckKind::kExpect && location.file.empty() && location.line > 0) {
            location = check.expression.location_of(location.line, location.column);
        } else if (location.file.empty()) {
            location = check.location;
        }
        return Error(error.code(),
                     fmt::format("check on {} `{}`: {}", kind, target, error.message()), location);
    };
    auto parsed = sql::parse_expression(text);
    if (!parsed.ok()) return map_error(parsed.error());
    auto bound = sql::bind_predicate(*parsed.value(), text, schema);
    if (!bound.ok()) return map_error(bound.error());
    return std::move(bound).value();
}

}  // namespace

Result<std::string> check_predicate_sql(const CheckSpec& check, const std::string& column,
                                        const Schema& schema, std::string_view kind,
                                        const std::string& target) {
    switch (check.kind) {
        case CheckKind::kNotNull: {
            MILLRACE_TRY(column_index(check, column, schema, kind, target));
            return fmt::format("\"{}\" IS NOT NULL", column);
        }
        case CheckKind::kExpect:
            return check.expression.text;
        case CheckKind::kAcceptedValues: {
            MILLRACE_ASSIGN_OR_RETURN(std::size_t index,
                                      column_index(check, column, schema, kind, target));
            const DataType type = schema.field(index).type;
            std::string list;
            for (const std::string& value : check.values) {
                if (!list.empty()) list += ", ";
                if (type == DataType::kString) {
                    list += sql_string(value);
                } else if (is_numeric(type) && is_number(value)) {
                    list += value;
                } else {
                    return Error(ErrorCode::kInvalidArgument,
                                 fmt::format("check accepted_values on {} `{}`: value `{}` does "
                                             "not fit column `{}` of type {}",
                                             kind, target, value, column, type_name(type)),
                                 check.location);
                }
            }
            return fmt::format("\"{}\" IS NULL OR \"{}\" IN ({})", column, column, list);
        }
        case CheckKind::kRange: {
            MILLRACE_ASSIGN_OR_RETURN(std::size_t index,
                                      column_index(check, column, schema, kind, target));
            if (!is_numeric(schema.field(index).type)) {
                return Error(ErrorCode::kInvalidArgument,
                             fmt::format("check range on {} `{}`: column `{}` is {}, not a number",
                                         kind, target, column, type_name(schema.field(index).type)),
                             check.location);
            }
            std::string text = fmt::format("\"{}\" IS NULL OR (TRUE", column);
            if (check.min_value) text += fmt::format(" AND \"{}\" >= {}", column, *check.min_value);
            if (check.max_value) text += fmt::format(" AND \"{}\" <= {}", column, *check.max_value);
            return text + ")";
        }
        default:
            break;
    }
    return Error(ErrorCode::kInternal, "not a row-level check", check.location);
}

Result<BoundCheck> bind_regex_check(const CheckSpec& check, const Schema& schema,
                                    std::string_view kind, const std::string& target) {
    MILLRACE_ASSIGN_OR_RETURN(std::size_t index,
                              column_index(check, check.column, schema, kind, target));
    if (schema.field(index).type != DataType::kString) {
        return Error(ErrorCode::kInvalidArgument,
                     fmt::format("check regex on {} `{}`: column `{}` is {}, not a string", kind,
                                 target, check.column, type_name(schema.field(index).type)),
                     check.column_location.known() ? check.column_location : check.location);
    }
    BoundCheck out;
    out.label = check.name.empty() ? fmt::format("regex({})", check.column) : check.name;
    out.action = check.on_fail;
    out.location = check.location;
    out.regex = std::make_shared<const std::regex>(check.pattern);
    out.regex_column = index;
    return out;
}

Result<DatasetRules> DatasetRules::bind(const PipelineSpec& pipeline, const std::string& target,
                                        const Schema& schema) {
    const std::string_view kind = pipeline.find_source(target) != nullptr ? "source" : "view";
    DatasetRules out;
    out.dataset_ = target;
    for (const CheckSpec& check : pipeline.checks) {
        if (check.target != target || !check.dataset_level()) continue;
        if (check.mostly) {
            // One rule per not_null column; one for every other kind.
            std::vector<std::string> columns =
                check.kind == CheckKind::kNotNull ? check.columns : std::vector{check.column};
            for (const std::string& column : columns) {
                Rule rule;
                rule.spec = &check;
                if (check.kind == CheckKind::kRegex) {
                    MILLRACE_ASSIGN_OR_RETURN(BoundCheck bound,
                                              bind_regex_check(check, schema, kind, target));
                    rule.label = bound.label;
                    rule.regex = bound.regex;
                    rule.regex_column = bound.regex_column;
                    out.rules_.push_back(std::move(rule));
                    continue;
                }
                MILLRACE_ASSIGN_OR_RETURN(std::string text,
                                          check_predicate_sql(check, column, schema, kind, target));
                MILLRACE_ASSIGN_OR_RETURN(rule.predicate,
                                          bind_sql(text, schema, check, kind, target));
                std::string what;
                switch (check.kind) {
                    case CheckKind::kExpect:
                        what = fmt::format("expect({})", check.expression.text);
                        break;
                    default:
                        what = fmt::format("{}({})", enum_name(check.kind), column);
                        break;
                }
                rule.label = check.name.empty() ? what : check.name;
                out.rules_.push_back(std::move(rule));
            }
            continue;
        }
        Rule rule;
        rule.spec = &check;
        if (check.kind == CheckKind::kRowCount) {
            rule.label = "row_count";
        } else if (check.kind == CheckKind::kUnique) {
            std::string names;
            for (const std::string& column : check.columns) {
                MILLRACE_ASSIGN_OR_RETURN(std::size_t index,
                                          column_index(check, column, schema, kind, target));
                rule.columns.push_back(index);
                names += (names.empty() ? "" : ", ") + column;
            }
            rule.label = fmt::format("unique({})", names);
        } else if (check.kind == CheckKind::kFreshness) {
            MILLRACE_ASSIGN_OR_RETURN(std::size_t index,
                                      column_index(check, check.column, schema, kind, target));
            if (schema.field(index).type != DataType::kTimestamp) {
                return Error(
                    ErrorCode::kInvalidArgument,
                    fmt::format("check freshness on {} `{}`: column `{}` is {}, not a "
                                "timestamp",
                                kind, target, check.column, type_name(schema.field(index).type)),
                    check.column_location.known() ? check.column_location : check.location);
            }
            rule.columns.push_back(index);
            rule.label = fmt::format("freshness({})", check.column);
        } else if (check.kind == CheckKind::kReferential) {
            MILLRACE_ASSIGN_OR_RETURN(std::size_t index,
                                      column_index(check, check.column, schema, kind, target));
            rule.columns.push_back(index);
            rule.label = fmt::format("referential({} in {}.{})", check.column, check.ref_table,
                                     check.ref_column);
        }
        if (!check.name.empty()) rule.label = check.name;
        out.rules_.push_back(std::move(rule));
    }
    return out;
}

void DatasetRules::fold(int64_t statement_time_micros) {
    for (Rule& rule : rules_) {
        if (rule.predicate) fold_constants(*rule.predicate, statement_time_micros);
    }
}

namespace {

// One value of a one-column batch as JSON text, the form referential keys are compared in
// (so an int32 column matches an int64 key of the same number).
std::string value_json(const Batch& one_column, std::size_t row) {
    const std::string object = row_to_json(one_column, row);  // {"name":value}
    const std::size_t start = json_string(one_column.schema().field(0).name).size() + 2;
    return object.substr(start, object.size() - start - 1);
}

// A SQL identifier quoted as written ("a""b" for a"b), whatever its case.
std::string quote_identifier(const std::string& name) {
    std::string out = "\"";
    for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

/// Collects the values of the one column a query returns.
class KeyCollector final : public BatchSink {
public:
    explicit KeyCollector(std::unordered_set<std::string>& keys) : keys_(keys) {}
    Status push(Batch batch) override {
        for (std::size_t i = 0; i < batch.num_rows(); ++i) {
            if (!batch.column(0).is_null(i)) keys_.insert(value_json(batch, i));
        }
        return {};
    }
    Status finish() override { return {}; }

private:
    std::unordered_set<std::string>& keys_;
};

}  // namespace

Status DatasetRules::load_references(const std::string& data_dir) {
    for (Rule& rule : rules_) {
        if (rule.spec->kind != CheckKind::kReferential) continue;
        const CheckSpec& spec = *rule.spec;
        auto keys = std::make_shared<std::unordered_set<std::string>>();
        KeyCollector collector(*keys);
        const std::string sql =
            fmt::format("SELECT DISTINCT {} FROM {}", quote_identifier(spec.ref_column),
                        quote_identifier(spec.ref_table));
        Status read = query_lake(
            data_dir, sql, [](const Schema&) -> Status { return {}; }, collector);
        if (!read.ok()) {
            return Error(
                ErrorCode::kNotFound,
                fmt::format("check referential on `{}`: cannot read `{}` of lake table "
                            "`{}`: {}",
                            dataset_, spec.ref_column, spec.ref_table, read.error().message()),
                spec.location);
        }
        rule.referenced = std::move(keys);
    }
    return {};
}

void DatasetRules::observe(const Batch& batch) {
    const std::size_t n = batch.num_rows();
    rows_ += n;
    RowErrors errors;
    for (Rule& rule : rules_) {
        if (rule.regex) {
            for (uint8_t passed : regex_matches(*rule.regex, batch.column(rule.regex_column), n))
                rule.passing += passed;
        } else if (rule.predicate) {
            errors.clear();
            ColumnPtr result = evaluator_.evaluate(*rule.predicate, batch, errors);
            for (std::size_t i = 0; i < n; ++i) {
                if (!result->is_null(i) && result->value<uint8_t>(i) != 0) ++rule.passing;
            }
        } else if (rule.spec->kind == CheckKind::kUnique) {
            const Batch key = batch.project(rule.columns);
            for (std::size_t i = 0; i < n; ++i) {
                bool has_null = false;
                for (std::size_t c = 0; c < key.num_columns(); ++c)
                    has_null = has_null || key.column(c).is_null(i);
                if (has_null) continue;  // as in SQL, a null key equals nothing
                if (!rule.seen.insert(row_to_json(key, i)).second) ++rule.duplicates;
            }
        } else if (rule.spec->kind == CheckKind::kReferential) {
            if (!rule.referenced) continue;  // not loaded: validate binds, never observes
            const Batch value = batch.project(rule.columns);
            for (std::size_t i = 0; i < n; ++i) {
                if (value.column(0).is_null(i))
                    continue;  // as a foreign key, null refers to nothing
                std::string key = value_json(value, i);
                if (rule.referenced->count(key) > 0) continue;
                if (rule.missing++ == 0) rule.first_missing = std::move(key);
            }
        } else if (rule.spec->kind == CheckKind::kFreshness) {
            const Column& column = batch.column(rule.columns[0]);
            for (std::size_t i = 0; i < n; ++i) {
                if (column.is_null(i)) continue;
                const int64_t at = column.value<int64_t>(i);
                if (!rule.newest || at > *rule.newest) rule.newest = at;
            }
        }
    }
}

std::string format_age(int64_t micros) {
    const bool negative = micros < 0;
    int64_t seconds = (negative ? -micros : micros) / 1'000'000;
    std::string out;
    const int64_t days = seconds / 86400;
    const int64_t hours = seconds % 86400 / 3600;
    const int64_t minutes = seconds % 3600 / 60;
    seconds %= 60;
    if (days > 0) out += fmt::format("{}d", days);
    if (hours > 0) out += fmt::format("{}{}h", out.empty() ? "" : " ", hours);
    if (minutes > 0) out += fmt::format("{}{}m", out.empty() ? "" : " ", minutes);
    if (seconds > 0 || out.empty()) out += fmt::format("{}{}s", out.empty() ? "" : " ", seconds);
    return negative ? "-" + out : out;
}

std::vector<RuleResult> DatasetRules::results(int64_t now_micros) const {
    std::vector<RuleResult> out;
    for (const Rule& rule : rules_) {
        const CheckSpec& spec = *rule.spec;
        RuleResult result;
        result.dataset = dataset_;
        result.rule = rule.label;
        result.severity = spec.severity;
        result.location = spec.location;
        if (rule.predicate || rule.regex) {
            // No rows: nothing fails.
            const double fraction =
                rows_ == 0 ? 1.0 : static_cast<double>(rule.passing) / static_cast<double>(rows_);
            result.observed =
                fmt::format("{:.4g} passing ({} of {} rows)", fraction, rule.passing, rows_);
            result.bound = fmt::format("mostly >= {:g}", *spec.mostly);
            result.passed = fraction >= *spec.mostly;
        } else if (spec.kind == CheckKind::kRowCount) {
            result.observed = fmt::format("{} rows", rows_);
            std::string bound;
            if (spec.min_rows) bound = fmt::format("min {}", *spec.min_rows);
            if (spec.max_rows)
                bound += fmt::format("{}max {}", bound.empty() ? "" : ", ", *spec.max_rows);
            result.bound = bound;
            result.passed = (!spec.min_rows || static_cast<int64_t>(rows_) >= *spec.min_rows) &&
                            (!spec.max_rows || static_cast<int64_t>(rows_) <= *spec.max_rows);
        } else if (spec.kind == CheckKind::kUnique) {
            result.observed = fmt::format("{} duplicate rows", rule.duplicates);
            result.bound = "0 duplicates";
            result.passed = rule.duplicates == 0;
        } else if (spec.kind == CheckKind::kReferential) {
            result.observed = rule.missing == 0
                                  ? "0 rows with an unknown value"
                                  : fmt::format("{} rows with an unknown value (first {})",
                                                rule.missing, rule.first_missing);
            result.bound = fmt::format("every value in {}.{}", spec.ref_table, spec.ref_column);
            result.passed = rule.missing == 0;
        } else if (spec.kind == CheckKind::kFreshness) {
            result.bound = fmt::format("max_age {}", format_age(spec.max_age.count()));
            if (!rule.newest) {
                result.observed = "no rows with a time";
                result.passed = false;
            } else {
                const int64_t age = now_micros - *rule.newest;
                result.observed = fmt::format("age {}", format_age(age));
                result.passed = age <= spec.max_age.count();
            }
        }
        out.push_back(std::move(result));
    }
    return out;
}

Status record_rule_results(const std::string& data_dir, const std::string& pipeline,
                           const std::string& run_at, const std::vector<RuleResult>& results) {
    const std::string dir = data_dir + "/checks";
    std::error_code error;
    std::filesystem::create_directories(dir, error);
    if (error) {
        return Error(ErrorCode::kIo, fmt::format("creating {}: {}", dir, error.message()));
    }
    const std::string path = fmt::format("{}/{}.ndjson", dir, pipeline);
    // Runs of one pipeline at once (a backfill with concurrency) take turns, so no run's lines
    // are lost to another's rewrite and run numbers stay distinct.
    MILLRACE_ASSIGN_OR_RETURN(FileLock lock,
                              FileLock::acquire_waiting(path + ".lock", "check results"));
    std::string text;
    if (std::filesystem::exists(path)) {
        MILLRACE_ASSIGN_OR_RETURN(text, read_file(path));
    }
    // Runs are numbered in the file: one more than the last line's.
    uint64_t run = 1;
    if (!text.empty()) {
        const std::size_t start = text.rfind('\n', text.size() - 2);
        const std::string_view last =
            std::string_view(text).substr(start == std::string::npos ? 0 : start + 1);
        constexpr std::string_view kPrefix = "{\"run\":";
        if (last.substr(0, kPrefix.size()) == kPrefix) {
            run = std::strtoull(last.data() + kPrefix.size(), nullptr, 10) + 1;
        }
    }
    for (const RuleResult& result : results) {
        text += fmt::format("{{\"run\":{},\"at\":", run);
        append_json_string(text, run_at);
        text += ",\"pipeline\":";
        append_json_string(text, pipeline);
        text += ",\"dataset\":";
        append_json_string(text, result.dataset);
        text += ",\"rule\":";
        append_json_string(text, result.rule);
        text += ",\"observed\":";
        append_json_string(text, result.observed);
        text += ",\"bound\":";
        append_json_string(text, result.bound);
        text += fmt::format(",\"passed\":{},\"severity\":\"{}\"}}\n", result.passed,
                            enum_name(result.severity));
    }
    return write_file_durably(path, text);
}

}  // namespace millrace
