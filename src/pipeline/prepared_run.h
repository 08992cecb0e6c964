#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "connectors/dead_letter_topic.h"
#include "connectors/feature_writer.h"
#include "connectors/kafka_transaction.h"
#include "connectors/sink.h"
#include "connectors/source.h"
#include "exec/plan_builder.h"
#include "log/log.h"
#include "online/feature_view.h"
#include "pipeline/checkpoint_store.h"
#include "pipeline/dataset_rules.h"
#include "pipeline/source_fan_out.h"
#include "pipeline/stream_runner.h"
#include "project/project.h"
#include "sql/logical_plan.h"

namespace millrace {

class DeadLetterWriter;

/// What the batch and the streaming runner share: a pipeline's sources, bound checks, sink plans
/// and opened outputs, prepared before any data moves (so setup errors cost nothing).

struct PreparedSource {
    const SourceSpec* spec = nullptr;
    std::unique_ptr<SourceReader> reader;
    std::vector<BoundCheck> checks;
};

struct PreparedSink {
    const SinkSpec* spec = nullptr;
    std::unique_ptr<sql::LogicalNode> plan;
    const FeatureView* feature_view = nullptr;  // kOnline
    /// Opened when the run writes (the online sink once the dead-letter writer exists).
    std::unique_ptr<Sink> output;
    // Declared after `output` and before `executable`, which pushes into it: destroyed in
    // the reverse order.
    std::unique_ptr<SinkInput> input;
    /// The checks of the view the sink reads (none for a source), and the stage applying them
    /// between the plan and `input`.
    std::vector<BoundCheck> checks;
    bool has_rules = false;  // the view has dataset rules (in Prepared::rules)
    std::unique_ptr<CheckedInput> checked;
    std::unique_ptr<ExecutablePlan> executable;
};

/// Aborts every opened sink unless the run committed, so a failed run leaves nothing half
/// done (a transactional sink's target stays as it was).
class AbortUnlessCommitted {
public:
    explicit AbortUnlessCommitted(std::vector<PreparedSink>& sinks) : sinks_(sinks) {}
    ~AbortUnlessCommitted() {
        if (committed_) return;
        for (PreparedSink& sink : sinks_) {
            if (sink.output) sink.output->abort();
        }
    }
    AbortUnlessCommitted(const AbortUnlessCommitted&) = delete;
    AbortUnlessCommitted& operator=(const AbortUnlessCommitted&) = delete;
    void committed() { committed_ = true; }

private:
    std::vector<PreparedSink>& sinks_;
    bool committed_ = false;
};

struct Prepared {
    std::unique_ptr<SystemClock> clock =
        std::make_unique<SystemClock>();  // outlives `log`, survives moves
    std::unique_ptr<Log> owned_log;       // opened when a source or sink is a topic
    Log* log = nullptr;                   // owned_log, or the server's (SharedServices)
    bool log_writable = false;            // `log` was opened for writing (or is the server's)
    /// Opened on the first dead-letter commit when `log` is absent or read-only.
    std::unique_ptr<Log> dead_letter_log;
    /// Declared after the logs it appends to (destroyed before them).
    std::unique_ptr<DeadLetterTopic> dead_letter_topic;
    std::vector<PreparedSource> sources;
    /// A streaming run's one transactional producer for all its `kafka:` sinks, which decides
    /// its checkpoints (docs/kafka.md, "Exactly-once Kafka sinks"). Declared before the sinks
    /// that write through it (destroyed after them).
    std::unique_ptr<KafkaTransaction> kafka_transaction;
    std::vector<PreparedSink> sinks;
    const SinkSpec* dead_letter_sink = nullptr;
    std::vector<std::string> input_files;    // of the file sources
    std::vector<FeatureView> feature_views;  // loaded when a sink is `online`
    OpenedFeatureWriter features;            // opened by runs with an online sink
    /// Per checked view, what its checks did (recorded through the first sink reading it).
    std::map<std::string, CheckCounts> view_checks;
    /// Per source or view with dataset-level rules, those rules (batch runs).
    std::map<std::string, DatasetRules> rules;
};

/// Opens a pipeline's sources (a streaming pipeline's topics unbounded, from its committed
/// offsets), binds its views and checks, plans every sink and, with `open_outputs`, opens them
/// (a streaming pipeline's lake sinks append). The online sinks are opened by the runner, once
/// its dead-letter writer exists.
Result<Prepared> prepare_run(const Project& project, const PipelineSpec& pipeline,
                             bool open_outputs, const std::string& run_tag,
                             const SharedServices& shared = {});

/// Where a streaming pipeline keeps the list of files its watched file source `source` has
/// read: `<data_dir>/state/<pipeline>/files-<source>.progress`.
std::string streaming_file_progress_path(const Project& project, const std::string& pipeline,
                                         const std::string& source);

/// Opens the online sinks (their rejected rows go to `dead_letters`) and builds every sink's
/// plan for `mode`, pushing into its output.
Status build_sink_plans(Prepared& prepared, ExecContext& context, DeadLetterWriter& dead_letters,
                        PlanMode mode, const PlanOptions& options = {});

/// The pipeline's dead-letter topic (its `dead_letter` topic sink, else `dlq.<pipeline>`), in
/// `prepared.dead_letter_topic`, fed every record `dead_letters` writes. The runner commits it
/// with the other sinks, after them.
Status open_dead_letter_topic(Prepared& prepared, const Project& project,
                              const PipelineSpec& pipeline, DeadLetterWriter& dead_letters);

/// The name of the dead-letter topic of `pipeline`.
std::string dead_letter_topic_name(const PipelineSpec& pipeline);

/// Copies the dead-letter topic's outcome into `report` and stops the logs the run opened.
void finish_dead_letter_topic(Prepared& prepared, RunReport& report);

/// The transaction deciding the checkpoint being taken (the run's Kafka transaction, when it
/// holds records of it; empty otherwise): for the checkpoint's metadata, written before it
/// commits.
CheckpointDecision checkpoint_decision(const Prepared& prepared);

/// Commits the deciding transaction of checkpoint `id` after its metadata and before every
/// other sink (a no-op without one). On failure the outcome is unknown: the other sinks keep
/// what they staged and the next run settles the checkpoint from the transaction's marker.
Status commit_checkpoint_decision(Prepared& prepared, uint64_t id);

/// "file out/daily.csv", "lake table t", ... for reports and messages.
std::string sink_target(const SinkSpec& sink);

/// What a committed sink wrote: its rows, columns and each column's source columns.
SinkReport sink_report(const PreparedSink& sink);

}  // namespace millrace
