#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/result.h"
#include "exec/expression_evaluator.h"
#include "project/project.h"
#include "sql/bound_expr.h"
#include "types/batch.h"

namespace millrace {

/// The outcome of one dataset-level rule in one run: what `checks/<pipeline>.ndjson` stores and
/// the run report prints.
struct RuleResult {
    std::string dataset;   // a source or view
    std::string rule;      // row_count, unique(id), not_null(amount) mostly 0.95, freshness(ts)
    std::string observed;  // "3 rows", "0.8 passing", "2 duplicate rows", "age 2h 5m"
    std::string bound;     // "min 1, max 10", ">= 0.95", "0 duplicates", "<= 1h"
    bool passed = true;
    CheckSeverity severity = CheckSeverity::kError;
    SourceLocation location;
};

/// The text of a row-level check as a SQL predicate over `schema`: `expect` as written,
/// accepted_values and range built from their fields (a null value passes both). Unknown
/// columns and values that do not fit the column's type are errors at the check.
Result<std::string> check_predicate_sql(const CheckSpec& check, const std::string& column,
                                        const Schema& schema, std::string_view kind,
                                        const std::string& target);

/// The dataset-level rules of one source or view: fed every row of the dataset (before its
/// row-level checks remove any), then judged once at the end of the run.
class DatasetRules {
public:
    /// Binds the rules of `pipeline` on `target` against `schema`; errors point at the rule.
    static Result<DatasetRules> bind(const PipelineSpec& pipeline, const std::string& target,
                                     const Schema& schema);

    bool empty() const { return rules_.empty(); }
    const std::string& dataset() const { return dataset_; }
    /// Pins now() and current_date in the predicates to the run's instant.
    void fold(int64_t statement_time_micros);
    /// Reads the keys `referential` rules look values up in: the distinct values of each
    /// referenced lake table's column under `data_dir` (held in memory for the run). Runs call
    /// it after bind(); validate does not (the table may not exist yet). kNotFound, at the
    /// rule, for a table or column that does not exist.
    Status load_references(const std::string& data_dir);
    void observe(const Batch& batch);
    /// Each rule's result, `now_micros` being the run's clock (freshness).
    std::vector<RuleResult> results(int64_t now_micros) const;

private:
    struct Rule {
        const CheckSpec* spec = nullptr;
        std::string label;
        std::optional<sql::BoundExpr> predicate;  // rules with `mostly`
        std::shared_ptr<const std::regex> regex;  // a regex rule with `mostly`
        std::size_t regex_column = 0;
        std::vector<std::size_t> columns;  // unique: the key; freshness: the time
        uint64_t passing = 0;
        uint64_t duplicates = 0;
        std::unordered_set<std::string> seen;  // unique: the keys so far
        std::optional<int64_t> newest;         // freshness: micros
        /// referential: the referenced keys (values as JSON text), loaded by
        /// load_references(); rows whose non-null value is not among them.
        std::shared_ptr<const std::unordered_set<std::string>> referenced;
        uint64_t missing = 0;
        std::string first_missing;
    };

    std::string dataset_;
    std::vector<Rule> rules_;
    uint64_t rows_ = 0;
    ExpressionEvaluator evaluator_;
};

/// Appends one NDJSON line per result to `<data_dir>/checks/<pipeline>.ndjson` (run number,
/// the run's time `run_at`, dataset, rule, observed, bound, passed, severity), durably, before
/// the run commits or fails. Runs are numbered 1, 2, ... in the file.
Status record_rule_results(const std::string& data_dir, const std::string& pipeline,
                           const std::string& run_at, const std::vector<RuleResult>& results);

/// "1h", "2h 5m", "45s": an age for messages.
std::string format_age(int64_t micros);

}  // namespace millrace
