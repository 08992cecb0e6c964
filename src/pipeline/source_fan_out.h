#pragma once

#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "common/result.h"
#include "connectors/source.h"
#include "exec/expression_evaluator.h"
#include "exec/plan_builder.h"
#include "formats/decode_sink.h"
#include "pipeline/batch_runner.h"
#include "project/project.h"
#include "sql/bound_expr.h"

namespace millrace {

class DeadLetterWriter;
class DatasetRules;

/// A check of a source, bound: rows where `predicate` is not true fail it.
struct BoundCheck {
    std::string label;  // not_null(amount), expect(amount >= 0)
    sql::BoundExpr predicate;
    CheckAction action = CheckAction::kDeadLetter;
    SourceLocation location;
    /// A regex check: rows whose string `regex_column` has no match fail (null passes); the
    /// predicate is unused then.
    std::shared_ptr<const std::regex> regex;
    std::size_t regex_column = 0;
};

/// A regex check bound to `schema`: its column must exist and hold strings.
Result<BoundCheck> bind_regex_check(const CheckSpec& check, const Schema& schema,
                                    std::string_view kind, const std::string& target);

/// Per row of `column`, whether `regex` finds a match in it (a null passes).
std::vector<uint8_t> regex_matches(const std::regex& regex, const Column& column, std::size_t rows);

/// The checks of `pipeline` on `source`, bound against the source's schema; SQL errors point
/// into the pipeline file.
Result<std::vector<BoundCheck>> bind_checks(const PipelineSpec& pipeline, const SourceSpec& source,
                                            const Schema& schema);
/// The checks of `pipeline` on the source or view `target`, bound against `schema` (a view's
/// output schema).
Result<std::vector<BoundCheck>> bind_checks(const PipelineSpec& pipeline, const std::string& target,
                                            const Schema& schema);

/// What row-level checks did to the rows of one source or view.
struct CheckCounts {
    uint64_t failed = 0;   // dead-lettered
    uint64_t dropped = 0;  // on_fail: drop
    uint64_t warnings = 0;
};

/// Applies `checks` to `batch` and returns the rows that survive. `kind` ("source" or "view")
/// and `target` name the dataset in dead letters and errors. With `dead_letters` null the
/// failing rows are removed but neither recorded nor counted: a view read by several sinks
/// records its failures once, through its first sink.
Result<Batch> apply_row_checks(const std::vector<BoundCheck>& checks, Batch batch,
                               std::string_view kind, const std::string& target,
                               ExpressionEvaluator& evaluator, DeadLetterWriter* dead_letters,
                               CheckCounts* counts);

/// The end of a plan reading a checked view: applies the view's checks to its rows before
/// they reach the sink.
class CheckedInput final : public BatchSink {
public:
    /// `rules`: the view's dataset rules, fed every row the plan produces (null: none, or
    /// another sink feeds them).
    CheckedInput(const std::vector<BoundCheck>& checks, std::string view, BatchSink& next,
                 DeadLetterWriter* dead_letters, CheckCounts* counts, DatasetRules* rules)
        : checks_(checks),
          view_(std::move(view)),
          next_(next),
          dead_letters_(dead_letters),
          counts_(counts),
          rules_(rules) {}
    Status push(Batch batch) override;
    Status finish() override { return next_.finish(); }
    Status on_control(const ControlSignal& signal) override { return next_.on_control(signal); }

private:
    const std::vector<BoundCheck>& checks_;
    std::string view_;
    BatchSink& next_;
    DeadLetterWriter* dead_letters_;
    CheckCounts* counts_;
    DatasetRules* rules_;
    ExpressionEvaluator evaluator_;
};

/// Feeds a source's decoded batches through its checks into every plan input that scans it.
class SourceFanOut final : public DecodeSink, public SourceReader::Listener {
public:
    SourceFanOut(const SourceSpec& spec, const std::vector<BoundCheck>& checks,
                 std::vector<const ScanInput*> inputs, DeadLetterWriter& dead_letters,
                 SourceReport& report)
        : spec_(spec),
          checks_(checks),
          inputs_(std::move(inputs)),
          dead_letters_(dead_letters),
          report_(report) {}

    void on_unit_start(const std::string& where) override { unit_ = where; }
    void on_unit_set_aside(const std::string& path, const std::string& reason) override;
    void on_error(RowError error) override;
    /// Applies the checks, then pushes the surviving rows into every plan input.
    Status on_batch(Batch batch) override;
    /// The source's dataset rules, fed every decoded row before the checks.
    void set_rules(DatasetRules* rules) { rules_ = rules; }

    /// End of the source: finishes every plan input it feeds.
    Status finish();
    /// The error of an `on_error: fail` source once a record failed (ok until then): a streaming
    /// run checks it after every poll, since its source has no end to report it at.
    Status failure() const { return failure_; }

private:
    const SourceSpec& spec_;
    const std::vector<BoundCheck>& checks_;
    std::vector<const ScanInput*> inputs_;
    DeadLetterWriter& dead_letters_;
    SourceReport& report_;
    std::string unit_;  // the file or topic partition being read
    Status failure_;    // the first bad record of an `on_error: fail` source
    ExpressionEvaluator evaluator_;
    RowErrors errors_;
    DatasetRules* rules_ = nullptr;
};

}  // namespace millrace
