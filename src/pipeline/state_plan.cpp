#include "pipeline/state_plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "common/json_string.h"
#include "exec/plan_builder.h"
#include "pipeline/prepared_run.h"
#include "pipeline/stream_runner.h"

namespace millrace {

namespace {

using sql::LogicalNode;

uint64_t fnv1a(std::string_view text) {
    uint64_t hash = 14695981039346656037ull;
    for (char c : text) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 1099511628211ull;
    }
    return hash;
}

std::string types_of(const Schema& schema) {
    std::string out;
    for (std::size_t i = 0; i < schema.size(); ++i) {
        if (i > 0) out += ", ";
        out += fmt::format("{} {}", schema.field(i).name, type_name(schema.field(i).type));
    }
    return out;
}

/// Everything the rows reaching a stateful operator depend on: the subtree as EXPLAIN prints it
/// plus every node's column types (a source whose column changes type changes the state).
void describe_subtree(const LogicalNode& node, std::string& out) {
    out += types_of(*node.schema);
    if (node.kind == LogicalNode::Kind::kScan && node.source_schema) {
        out += " <- ";
        for (std::size_t column : node.columns) {
            if (column < node.source_schema->size())
                out += std::string(type_name(node.source_schema->field(column).type)) + ",";
        }
    }
    out += '\n';
    for (const auto& child : node.children) describe_subtree(*child, out);
}

bool has_session_projection(const LogicalNode& node) {
    if (node.kind == LogicalNode::Kind::kProject && node.session_gap_micros > 0) return true;
    return std::any_of(node.children.begin(), node.children.end(),
                       [](const auto& child) { return has_session_projection(*child); });
}

/// One line per stateful operator (what its saved bytes hold), and the plan text of each,
/// preorder (the order the plan builder creates operators in).
void collect_state(const LogicalNode& node, bool upserting, std::string& layout,
                   std::string& plan) {
    if (node.kind == LogicalNode::Kind::kAggregate) {
        const bool windowed = window_end_key(node).has_value();
        const char* kind = !windowed ? (upserting ? "upserting aggregate" : "aggregate")
                           : has_session_projection(*node.children[0]) ? "session window aggregate"
                                                                       : "window aggregate";
        std::string keys, values;
        for (std::size_t i = 0; i < node.schema->size(); ++i) {
            const Field& field = node.schema->field(i);
            if (i < node.group_keys.size()) {
                keys += fmt::format("{}{} {}", keys.empty() ? "" : ", ", field.name,
                                    type_name(field.type));
                continue;
            }
            const sql::AggregateCall& call = node.aggregates[i - node.group_keys.size()];
            std::string args;
            for (const sql::BoundExpr& arg : call.args)
                args += fmt::format("{}{}", args.empty() ? "" : ", ", type_name(arg.type));
            values += fmt::format("{}{}({}{}) {}", values.empty() ? "" : ", ",
                                  sql::aggregate_name(call.function),
                                  call.distinct ? "DISTINCT " : "", args, type_name(call.type));
        }
        layout += fmt::format("{} keys ({}) values ({})\n", kind, keys, values);
        plan += node.to_string();
        describe_subtree(node, plan);
    } else if (node.kind == LogicalNode::Kind::kJoin) {
        layout += fmt::format("join build ({}) probe ({})\n", types_of(*node.children[1]->schema),
                              types_of(*node.children[0]->schema));
        plan += node.to_string();
        describe_subtree(node, plan);
    } else if (node.kind == LogicalNode::Kind::kSort || node.kind == LogicalNode::Kind::kLimit) {
        layout += fmt::format("{} ({})\n", node.kind == LogicalNode::Kind::kSort ? "sort" : "top-n",
                              types_of(*node.schema));
        plan += node.to_string();
        describe_subtree(node, plan);
    }
    for (const auto& child : node.children) {
        // A stateful node's subtree is in its plan text already; its stateful descendants
        // still add their own layout lines.
        collect_state(*child, upserting, layout, plan);
    }
}

/// "<name>" of an identity "<name>@<fingerprints>" (an identity saved without fingerprints is
/// all name).
std::string_view identity_name(std::string_view identity) {
    const std::size_t at = identity.rfind('@');
    return at == std::string_view::npos ? identity : identity.substr(0, at);
}

/// The layout fingerprint of an identity, "" when it has none.
std::string_view identity_layout(std::string_view identity) {
    const std::size_t at = identity.rfind('@');
    if (at == std::string_view::npos) return {};
    const std::size_t dot = identity.find('.', at);
    return dot == std::string_view::npos ? std::string_view() : identity.substr(dot + 1);
}

std::optional<uint64_t> file_size(const std::string& folder, const std::string& file) {
    std::error_code error;
    const auto size = std::filesystem::file_size(folder + "/" + file, error);
    if (error) return std::nullopt;
    return static_cast<uint64_t>(size);
}

std::string bytes_text(std::optional<uint64_t> bytes) {
    if (!bytes) return "";
    const double value = static_cast<double>(*bytes);
    if (*bytes < 1024) return fmt::format(", {} bytes", *bytes);
    if (*bytes < (1u << 20)) return fmt::format(", {:.1f} KiB", value / 1024);
    if (*bytes < (1u << 30)) return fmt::format(", {:.1f} MiB", value / (1u << 20));
    return fmt::format(", {:.2f} GiB", value / (1u << 30));
}

/// What a saved stateful entry's envelope says its operator is (exec/operator_state.h: "MRST",
/// u16 version, u8 kind).
std::optional<uint8_t> state_kind(const std::string& bytes) {
    if (bytes.size() < 7 || bytes.compare(0, 4, "MRST") != 0) return std::nullopt;
    return static_cast<uint8_t>(bytes[6]);
}

}  // namespace

bool has_unwindowed_aggregate(const LogicalNode& node) {
    if (node.kind == LogicalNode::Kind::kAggregate && !window_end_key(node)) return true;
    return std::any_of(node.children.begin(), node.children.end(),
                       [](const auto& child) { return has_unwindowed_aggregate(*child); });
}

std::string_view enum_name(StateFate fate) {
    switch (fate) {
        case StateFate::kKept:
            return "kept";
        case StateFate::kDropped:
            return "dropped";
        case StateFate::kNew:
            return "new";
        case StateFate::kStateless:
            return "stateless";
    }
    return "new";
}

std::string_view enum_name(DropReason reason) {
    switch (reason) {
        case DropReason::kViewRemoved:
            return "view_removed";
        case DropReason::kSinkRemoved:
            return "sink_removed";
        case DropReason::kSqlChanged:
            return "sql_changed";
        case DropReason::kLayoutChanged:
            return "layout_changed";
    }
    return "sql_changed";
}

SinkStateShape sink_state_shape(const LogicalNode& plan, const SinkSpec& sink) {
    SinkStateShape shape;
    shape.view = sink.from;
    shape.target = sink_target(sink);
    shape.name = fmt::format("{}->{}", shape.view, shape.target);
    shape.upserting = sink_takes_upserts(sink) && has_unwindowed_aggregate(plan);
    std::string plan_text;
    collect_state(plan, shape.upserting, shape.layout, plan_text);
    shape.identity =
        fmt::format("{}@{:016x}.{:016x}", shape.name, fnv1a(plan_text), fnv1a(shape.layout));
    return shape;
}

bool StatePlan::drops_state() const {
    return std::any_of(decisions.begin(), decisions.end(),
                       [](const StateDecision& d) { return d.fate == StateFate::kDropped; });
}

const StateDecision* StatePlan::for_sink(std::size_t index) const {
    for (const StateDecision& decision : decisions)
        if (decision.sink == index) return &decision;
    return nullptr;
}

StatePlan plan_state(const PipelineSpec& pipeline, const std::vector<SinkStateShape>& sinks,
                     const CheckpointMetadata* saved, const std::string& folder) {
    StatePlan plan;
    plan.pipeline = pipeline.name;
    plan.folder = folder;
    if (saved != nullptr) {
        plan.checkpoint = saved->id;
        plan.final = saved->final;
    }
    std::vector<bool> matched(saved != nullptr ? saved->states.size() : 0, false);
    for (std::size_t i = 0; i < sinks.size(); ++i) {
        const SinkStateShape& shape = sinks[i];
        StateDecision decision;
        decision.view = shape.view;
        decision.target = shape.target;
        decision.sink = i;
        const CheckpointState* state = nullptr;
        if (saved != nullptr) {
            for (std::size_t s = 0; s < saved->states.size(); ++s) {
                // Key-group sections belong to the plan's entry (its stateless part) and
                // share its fate.
                if (saved->states[s].key_group || saved->states[s].changes) continue;
                if (!matched[s] && identity_name(saved->states[s].identity) == shape.name) {
                    state = &saved->states[s];
                    matched[s] = true;
                    break;
                }
            }
        }
        if (state != nullptr) {
            decision.saved_identity = state->identity;
            decision.saved_file = state->file;
            decision.bytes = file_size(folder, state->file);
            for (const CheckpointState* changes : saved->find_state_changes(state->identity)) {
                if (decision.bytes)
                    decision.bytes = *decision.bytes + file_size(folder, changes->file).value_or(0);
            }
        }
        if (!shape.stateful()) {
            decision.fate = StateFate::kStateless;
            decision.explanation = "its plan holds no state (filters and projections only)";
        } else if (state == nullptr) {
            decision.fate = StateFate::kNew;
            decision.explanation =
                saved == nullptr ? "no checkpoint yet: starts empty"
                : plan.final && !shape.upserting
                    ? fmt::format(
                          "checkpoint {} was a run's stop, which emitted every window "
                          "and kept no window state: starts empty",
                          saved->id)
                    : fmt::format(
                          "checkpoint {} has no state for it (a new view or sink): "
                          "starts empty",
                          saved->id);
        } else if (state->identity == shape.identity ||
                   identity_name(state->identity) == state->identity) {
            // An identity saved without fingerprints is restored as before them (the restore
            // refuses bytes that do not fit the plan).
            decision.fate = StateFate::kKept;
            decision.explanation = "same view, same plan: restored";
        } else if (identity_layout(state->identity) !=
                   identity_layout(std::string_view(shape.identity))) {
            decision.fate = StateFate::kDropped;
            decision.reason = DropReason::kLayoutChanged;
            std::string layout = shape.layout;
            while (!layout.empty() && layout.back() == '\n') layout.pop_back();
            for (char& c : layout)
                if (c == '\n') c = ';';
            decision.explanation = fmt::format(
                "the key/aggregate layout of its state changed (now: {}); the saved state "
                "cannot be read into it",
                layout);
        } else {
            decision.fate = StateFate::kDropped;
            decision.reason = DropReason::kSqlChanged;
            decision.explanation =
                "the SQL of the view (or of a view or source it reads) changed, so its "
                "identity changed: the saved state was built from other rows";
        }
        plan.decisions.push_back(std::move(decision));
    }
    if (saved != nullptr) {
        for (std::size_t s = 0; s < saved->states.size(); ++s) {
            if (matched[s] || saved->states[s].key_group || saved->states[s].changes) continue;
            const CheckpointState& state = saved->states[s];
            const std::string name(identity_name(state.identity));
            StateDecision decision;
            const std::size_t arrow = name.find("->");
            decision.view = name.substr(0, arrow);
            decision.target = arrow == std::string::npos ? "" : name.substr(arrow + 2);
            decision.saved_identity = state.identity;
            decision.saved_file = state.file;
            decision.bytes = file_size(folder, state.file);
            // A stateless plan saves an entry too; losing it loses nothing.
            const std::string_view layout = identity_layout(state.identity);
            if (layout == fmt::format("{:016x}", fnv1a(""))) continue;
            decision.fate = StateFate::kDropped;
            if (pipeline.find_view(decision.view) != nullptr ||
                pipeline.find_source(decision.view) != nullptr) {
                decision.reason = DropReason::kSinkRemoved;
                decision.explanation = fmt::format("no sink writes `{}` to {} any more",
                                                   decision.view, decision.target);
            } else {
                decision.reason = DropReason::kViewRemoved;
                decision.explanation =
                    fmt::format("the view `{}` was removed from the pipeline", decision.view);
            }
            plan.decisions.push_back(std::move(decision));
        }
        for (const CheckpointSource& source : saved->sources) {
            if (pipeline.find_source(source.name) == nullptr)
                plan.sources_removed.push_back(source.name);
        }
        for (const SourceSpec& source : pipeline.sources) {
            const bool positioned = source.kind == SourceKind::kTopic ||
                                    source.kind == SourceKind::kLake ||
                                    (source.kind == SourceKind::kFile && source.watch);
            if (positioned && saved->find_source(source.name) == nullptr)
                plan.sources_new.push_back(source.name);
        }
    }
    return plan;
}

std::string StatePlan::to_text() const {
    std::string out = fmt::format("pipeline {}: ", pipeline);
    if (!checkpoint) {
        out += "no checkpoint yet; every view starts empty\n";
    } else {
        out += fmt::format("{} {} in {}{}\n",
                           from_savepoint ? "savepoint of checkpoint" : "checkpoint", *checkpoint,
                           folder, final ? " (a run's stop)" : "");
    }
    for (const StateDecision& d : decisions) {
        std::string label = d.target.empty() ? d.view : fmt::format("{} -> {}", d.view, d.target);
        std::string reason = d.reason ? fmt::format(" [{}]", enum_name(*d.reason)) : "";
        out += fmt::format(
            "  {:<16} {}{}{}: {}\n", enum_name(d.fate), label, reason,
            d.fate == StateFate::kKept || d.fate == StateFate::kDropped ? bytes_text(d.bytes) : "",
            d.explanation);
    }
    for (const std::string& source : sources_removed)
        out += fmt::format("  source {}: no longer read; its saved position is dropped\n", source);
    for (const std::string& source : sources_new)
        out += fmt::format("  source {}: new; starts from its start_from\n", source);
    std::size_t kept = 0, dropped = 0;
    for (const StateDecision& d : decisions) {
        kept += d.fate == StateFate::kKept;
        dropped += d.fate == StateFate::kDropped;
    }
    out +=
        fmt::format("{} kept, {} dropped{}\n", kept, dropped,
                    dropped > 0 ? " (incompatible: start with --allow-state-drop to drop it)" : "");
    return out;
}

std::string StatePlan::to_json(bool allowed) const {
    std::string out = "{\"pipeline\":" + json_string(pipeline);
    out += ",\"checkpoint\":" + (checkpoint ? std::to_string(*checkpoint) : std::string("null"));
    out += ",\"folder\":" + json_string(folder);
    out += fmt::format(",\"from_savepoint\":{},\"final\":{}", from_savepoint, final);
    out += fmt::format(",\"compatible\":{},\"allow_state_drop\":{}", !drops_state(), allowed);
    out += ",\"states\":[";
    for (std::size_t i = 0; i < decisions.size(); ++i) {
        const StateDecision& d = decisions[i];
        if (i > 0) out += ',';
        out += "{\"view\":" + json_string(d.view) + ",\"sink\":" + json_string(d.target);
        out += ",\"fate\":" + json_string(enum_name(d.fate));
        out += ",\"reason\":" + (d.reason ? json_string(enum_name(*d.reason)) : "null");
        out += ",\"explanation\":" + json_string(d.explanation);
        out += ",\"saved_identity\":" +
               (d.saved_identity.empty() ? std::string("null") : json_string(d.saved_identity));
        out += ",\"bytes\":" + (d.bytes ? std::to_string(*d.bytes) : std::string("null")) + "}";
    }
    out += "],\"sources_removed\":[";
    for (std::size_t i = 0; i < sources_removed.size(); ++i)
        out += (i > 0 ? "," : "") + json_string(sources_removed[i]);
    out += "],\"sources_new\":[";
    for (std::size_t i = 0; i < sources_new.size(); ++i)
        out += (i > 0 ? "," : "") + json_string(sources_new[i]);
    out += "]}\n";
    return out;
}

std::string StatePlan::refusal() const {
    std::string out = fmt::format("pipeline `{}` would drop saved state of {} {}: ", pipeline,
                                  from_savepoint ? "the savepoint in" : "checkpoint",
                                  from_savepoint ? folder : std::to_string(checkpoint.value_or(0)));
    bool first = true;
    for (const StateDecision& d : decisions) {
        if (d.fate != StateFate::kDropped) continue;
        out += fmt::format("{}`{}` -> {} ({}: {})", first ? "" : "; ", d.view, d.target,
                           enum_name(*d.reason), d.explanation);
        first = false;
    }
    out += fmt::format(
        ". `millrace pipeline plan <project> {}` shows every state; start with "
        "--allow-state-drop (run, serve, pipeline start) to drop it and go on",
        pipeline);
    return out;
}

Result<StatePlan> plan_pipeline_state(const Project& project, const PipelineSpec& pipeline,
                                      const std::optional<std::string>& from_savepoint) {
    if (pipeline.mode != PipelineMode::kStreaming) {
        return Error(ErrorCode::kInvalidArgument,
                     fmt::format("pipeline `{}` is mode: batch; only streaming pipelines keep "
                                 "state between runs",
                                 pipeline.name),
                     pipeline.location);
    }
    MILLRACE_ASSIGN_OR_RETURN(Prepared prepared, prepare_run(project, pipeline, false, ""));
    std::vector<SinkStateShape> shapes;
    for (const PreparedSink& sink : prepared.sinks) {
        Status status = check_streaming_plan(*sink.plan, pipeline, *sink.spec);
        if (!status.ok()) return std::move(status).error().with_location(sink.spec->from_location);
        shapes.push_back(sink_state_shape(*sink.plan, *sink.spec));
    }
    std::optional<CheckpointMetadata> saved;
    std::string folder;
    if (from_savepoint) {
        MILLRACE_ASSIGN_OR_RETURN(saved, CheckpointStore::read_folder(*from_savepoint));
        folder = *from_savepoint;
    } else {
        // Not latest(): it removes incomplete checkpoints, one of which a running pipeline may
        // be writing now.
        CheckpointStore store(project.data_dir, pipeline.name);
        MILLRACE_ASSIGN_OR_RETURN(std::vector<uint64_t> ids, store.complete_ids());
        if (!ids.empty()) {
            folder = store.folder(ids.back());
            MILLRACE_ASSIGN_OR_RETURN(saved, CheckpointStore::read_folder(folder));
        }
    }
    StatePlan plan = plan_state(pipeline, shapes, saved ? &*saved : nullptr, folder);
    plan.from_savepoint = from_savepoint.has_value();
    return plan;
}

Result<std::vector<std::string>> fit_operator_states(const std::vector<std::string>& saved,
                                                     const ExecutablePlan& plan) {
    MILLRACE_ASSIGN_OR_RETURN(std::vector<std::string> fresh, plan.serialize_state());
    if (fresh.size() == saved.size()) return saved;
    std::vector<std::size_t> stateful;
    for (std::size_t i = 0; i < fresh.size(); ++i)
        if (!fresh[i].empty()) stateful.push_back(i);
    std::vector<std::string> fitted(fresh.size());
    std::size_t next = 0;
    for (const std::string& state : saved) {
        if (state.empty()) continue;
        if (next == stateful.size() || state_kind(state) != state_kind(fresh[stateful[next]])) {
            return Error(ErrorCode::kCorruption,
                         fmt::format("the saved state's operators do not pair up with the "
                                     "plan's {} stateful operators",
                                     stateful.size()));
        }
        fitted[stateful[next++]] = state;
    }
    if (next != stateful.size()) {
        return Error(ErrorCode::kCorruption,
                     fmt::format("saved state of {} stateful operators for a plan of {}", next,
                                 stateful.size()));
    }
    return fitted;
}

}  // namespace millrace
