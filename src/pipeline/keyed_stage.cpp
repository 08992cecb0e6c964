#include "pipeline/keyed_stage.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <variant>

namespace millrace {

namespace {

using sql::LogicalNode;

bool contains_aggregate(const LogicalNode& node) {
    if (node.kind == LogicalNode::Kind::kAggregate) return true;
    for (const auto& child : node.children)
        if (contains_aggregate(*child)) return true;
    return false;
}

bool is_window_bound(const LogicalNode& aggregate, std::size_t key) {
    const sql::BoundExpr& expr = aggregate.group_keys[key];
    if (expr.type != DataType::kTimestamp) return false;
    auto window_name = [](std::string_view name) {
        return name == "window_start" || name == "window_end";
    };
    return window_name(expr.name) ||
           (key < aggregate.schema->size() && window_name(aggregate.schema->field(key).name));
}

/// A queue of at most `capacity` items between threads; close() wakes every waiter and makes
/// push and pop fail from then on (the stage stopping).
template <typename T>
class BoundedQueue {
public:
    explicit BoundedQueue(std::size_t capacity) : capacity_(capacity) {}

    /// Waits for room; false once closed.
    bool push(T item) {
        std::unique_lock lock(mutex_);
        not_full_.wait(lock, [&] { return closed_ || items_.size() < capacity_; });
        if (closed_) return false;
        items_.push_back(std::move(item));
        not_empty_.notify_one();
        return true;
    }
    /// Moves `item` in when there is room within `wait`; false (item untouched) otherwise.
    bool push_for(T& item, std::chrono::microseconds wait) {
        std::unique_lock lock(mutex_);
        if (!not_full_.wait_for(lock, wait, [&] { return closed_ || items_.size() < capacity_; }))
            return false;
        if (closed_) return false;
        items_.push_back(std::move(item));
        not_empty_.notify_one();
        return true;
    }
    /// Waits for an item; nullopt once closed.
    std::optional<T> pop() {
        std::unique_lock lock(mutex_);
        not_empty_.wait(lock, [&] { return closed_ || !items_.empty(); });
        return take(lock);
    }
    /// An item if one comes within `wait`.
    std::optional<T> pop_for(std::chrono::microseconds wait) {
        std::unique_lock lock(mutex_);
        not_empty_.wait_for(lock, wait, [&] { return closed_ || !items_.empty(); });
        return take(lock);
    }
    void close() {
        std::lock_guard lock(mutex_);
        closed_ = true;
        not_full_.notify_all();
        not_empty_.notify_all();
    }
    std::size_t size() const {
        std::lock_guard lock(mutex_);
        return items_.size();
    }

private:
    std::optional<T> take(std::unique_lock<std::mutex>&) {
        if (closed_ || items_.empty()) return std::nullopt;
        T item = std::move(items_.front());
        items_.pop_front();
        not_full_.notify_one();
        return item;
    }
    mutable std::mutex mutex_;
    std::condition_variable not_full_;
    std::condition_variable not_empty_;
    std::deque<T> items_;
    std::size_t capacity_;
    bool closed_ = false;
};

/// Into a subtask: rows with their key groups, or a signal for all its key groups.
struct Message {
    enum class Kind : uint8_t {
        kRows,
        kWatermark,
        kPublish,
        kEarlyFire,
        kBarrier,
        kSnapshot,
        kFinish
    };
    Kind kind = Kind::kRows;
    Batch rows;
    std::vector<uint32_t> groups;  // kRows: the key group of each row
    int64_t watermark = 0;         // kWatermark
    uint64_t checkpoint = 0;       // kBarrier
    bool full = false;             // kBarrier, kSnapshot: every key group's state
    uint64_t round = 0;            // kBarrier, kSnapshot: the stage's snapshots before it
};

/// Out of a subtask, to the run's thread: emitted rows, a dead letter, or the answer to a
/// barrier, snapshot or finish (`done`, with the snapshot or the subtask's failure).
struct Reply {
    std::optional<Batch> rows;
    std::optional<DeadLetterRow> dead_letter;
    bool done = false;
    std::vector<KeyGroupSnapshot> snapshots;
    std::optional<Error> failure;
};

template <typename T>
Status status_of(Result<T> result) {
    if (!result.ok()) return std::move(result).error();
    return {};
}

}  // namespace

std::optional<ExchangePoint> find_exchange_point(const LogicalNode& plan) {
    const LogicalNode* node = &plan;
    while (node->kind == LogicalNode::Kind::kProject || node->kind == LogicalNode::Kind::kFilter)
        node = node->children[0].get();
    if (node->kind != LogicalNode::Kind::kAggregate || contains_aggregate(*node->children[0]))
        return std::nullopt;
    ExchangePoint point;
    point.keyed = node;
    for (std::size_t i = 0; i < node->group_keys.size(); ++i) {
        if (is_window_bound(*node, i)) continue;
        const sql::BoundExpr& key = node->group_keys[i];
        if (key.kind != sql::BoundExpr::Kind::kColumn) return std::nullopt;
        point.key_columns.push_back(key.column);
    }
    return point;
}

struct KeyedStage::Impl {
    struct Subtask;

    /// The output of one key group's operators: into its subtask's output, marking the key
    /// group changed. Ends and signals stop here (the stage finishes the output once).
    class KeyGroupOutput final : public BatchSink {
    public:
        KeyGroupOutput(Subtask& subtask, bool& changed) : subtask_(subtask), changed_(changed) {}
        Status push(Batch batch) override {
            changed_ = true;
            return subtask_.emit(std::move(batch));
        }
        Status finish() override { return {}; }

    private:
        Subtask& subtask_;
        bool& changed_;
    };

    struct KeyGroup {
        uint32_t id = 0;
        bool changed = false;
        std::unique_ptr<KeyGroupOutput> output;
        std::unique_ptr<ExecutablePlan> plan;
        BatchSink* entry = nullptr;
    };

    struct Subtask {
        Impl* stage = nullptr;
        KeyGroupRange range;
        ExecContext context;
        std::vector<KeyGroup> groups;  // range.begin + i
        std::unique_ptr<BoundedQueue<Message>> input;
        std::thread thread;
        bool threaded = false;  // set before the thread starts
        bool failed = false;
        // The key groups' state as of the last message handled, for the run's thread to
        // report (state size, keys) while the subtask runs.
        std::atomic<uint64_t> memory_used{0};
        std::atomic<uint64_t> state_keys{0};

        void publish_size() {
            memory_used.store(context.memory_used_bytes, std::memory_order_relaxed);
            uint64_t keys = 0;
            for (const KeyGroup& group : groups) keys += group.plan->state_keys();
            state_keys.store(keys, std::memory_order_relaxed);
        }

        Status emit(Batch batch) {
            stage->stats.records_out.fetch_add(batch.num_rows(), std::memory_order_relaxed);
            if (!threaded) return stage->output->push(std::move(batch));
            Reply reply;
            reply.rows = std::move(batch);
            if (!stage->replies->push(std::move(reply)))
                return Error(ErrorCode::kUnavailable, "the keyed stage stopped");
            return {};
        }

        Result<std::vector<KeyGroupSnapshot>> snapshot(bool full, uint64_t round) {
            std::vector<KeyGroupSnapshot> out;
            for (KeyGroup& group : groups) {
                KeyGroupSnapshot snap{group.id, std::nullopt, {}};
                if (full ||
                    group.id % KeyedStage::kRollingRewrite == round % KeyedStage::kRollingRewrite) {
                    MILLRACE_ASSIGN_OR_RETURN(std::vector<std::string> states,
                                              group.plan->serialize_state());
                    snap.states = std::move(states);
                    group.plan->mark_state_saved();
                } else if (group.changed || group.plan->state_changed_since_save()) {
                    // No row reached a key group whose state TTL stamped or dropped groups
                    // at a watermark: its changes still go out, or a restore would bring the
                    // dropped groups back.
                    MILLRACE_ASSIGN_OR_RETURN(ExecutablePlan::StateChanges changes,
                                              group.plan->serialize_state_changes());
                    snap.states = std::move(changes.states);
                    // No operator wrote changes (windows): a whole state, as before.
                    if (std::any_of(changes.changes.begin(), changes.changes.end(),
                                    [](uint8_t flag) { return flag != 0; }))
                        snap.changes = std::move(changes.changes);
                }
                group.changed = false;
                out.push_back(std::move(snap));
            }
            return out;
        }

        Status rows(const Batch& batch, const std::vector<uint32_t>& of) {
            const uint32_t first = of.empty() ? 0 : of[0];
            bool one_group = true;
            for (uint32_t g : of) one_group = one_group && g == first;
            if (one_group) {
                KeyGroup& group = groups[first - range.begin];
                group.changed = true;
                return group.entry->push(batch);
            }
            std::vector<std::vector<uint32_t>> rows_of(groups.size());
            for (uint32_t row = 0; row < of.size(); ++row)
                rows_of[of[row] - range.begin].push_back(row);
            for (std::size_t i = 0; i < groups.size(); ++i) {
                if (rows_of[i].empty()) continue;
                groups[i].changed = true;
                MILLRACE_TRY(groups[i].entry->push(batch.take(rows_of[i])));
            }
            return {};
        }

        /// Does what `message` asks; a barrier, snapshot or finish returns its snapshot.
        Result<std::vector<KeyGroupSnapshot>> handle(Message& message) {
            Result<std::vector<KeyGroupSnapshot>> done = handle_message(message);
            publish_size();
            return done;
        }

        Result<std::vector<KeyGroupSnapshot>> handle_message(Message& message) {
            switch (message.kind) {
                case Message::Kind::kRows:
                    MILLRACE_TRY(rows(message.rows, message.groups));
                    return std::vector<KeyGroupSnapshot>();
                case Message::Kind::kWatermark:
                    for (KeyGroup& group : groups) {
                        MILLRACE_TRY(
                            group.entry->on_control(ControlSignal::watermark(message.watermark)));
                    }
                    return std::vector<KeyGroupSnapshot>();
                case Message::Kind::kPublish:
                    for (KeyGroup& group : groups)
                        MILLRACE_TRY(group.entry->on_control(ControlSignal::publish()));
                    return std::vector<KeyGroupSnapshot>();
                case Message::Kind::kEarlyFire:
                    for (KeyGroup& group : groups)
                        MILLRACE_TRY(group.entry->on_control(ControlSignal::early_fire()));
                    return std::vector<KeyGroupSnapshot>();
                case Message::Kind::kBarrier:
                    for (KeyGroup& group : groups) {
                        MILLRACE_TRY(
                            group.entry->on_control(ControlSignal::barrier(message.checkpoint)));
                    }
                    return snapshot(message.full, message.round);
                case Message::Kind::kSnapshot:
                    return snapshot(message.full, message.round);
                case Message::Kind::kFinish:
                    for (KeyGroup& group : groups) MILLRACE_TRY(group.entry->finish());
                    return std::vector<KeyGroupSnapshot>();
            }
            return std::vector<KeyGroupSnapshot>();
        }

        void run() {
            while (std::optional<Message> message = input->pop()) {
                if (failed) continue;  // drain, so the run's thread never waits on us
                const bool answers = message->kind != Message::Kind::kRows &&
                                     message->kind != Message::Kind::kWatermark &&
                                     message->kind != Message::Kind::kPublish &&
                                     message->kind != Message::Kind::kEarlyFire;
                Result<std::vector<KeyGroupSnapshot>> done = handle(*message);
                if (!done.ok()) {
                    failed = true;
                    Reply reply;
                    reply.done = true;
                    reply.failure = std::move(done).error();
                    if (!stage->replies->push(std::move(reply))) return;
                    continue;
                }
                if (answers) {
                    Reply reply;
                    reply.done = true;
                    reply.snapshots = std::move(done).value();
                    if (!stage->replies->push(std::move(reply))) return;
                }
            }
        }
    };

    Options options;
    BatchSink* output = nullptr;
    ExecContext* context = nullptr;  // the run's (dead letters of the subtasks go there)
    std::vector<std::size_t> key_columns;
    std::vector<std::unique_ptr<Subtask>> subtasks;
    std::unique_ptr<BoundedQueue<Reply>> replies;
    KeyedStageStats stats;
    std::vector<uint32_t> row_groups;
    std::optional<Error> failure;
    std::size_t answers = 0;  // subtasks that answered the message everyone() sent
    std::vector<KeyGroupSnapshot> answered_snapshots;
    bool snapshotted = false;  // a snapshot was taken: later ones are incremental
    uint64_t rounds = 0;       // snapshots asked of the subtasks (kRollingRewrite)
    std::optional<uint64_t> barrier_id;
    std::vector<KeyGroupSnapshot> barrier_snapshots;
    std::vector<uint64_t> state_sizes;  // per key group, at the last snapshot that had it

    bool threaded() const { return subtasks.size() > 1; }

    ~Impl() { stop(); }

    void stop() {
        if (replies) replies->close();
        for (auto& subtask : subtasks) {
            if (subtask->input) subtask->input->close();
        }
        for (auto& subtask : subtasks) {
            if (subtask->thread.joinable()) subtask->thread.join();
        }
    }

    /// Handles one reply on the run's thread. Answers (to a barrier, snapshot or finish) are
    /// collected in `answers` and `answered_snapshots` whoever drains them: a send() inside
    /// everyone() may drain the answer of a subtask that already got the message.
    Status take(Reply reply) {
        if (reply.rows) return output->push(std::move(*reply.rows));
        if (reply.dead_letter) {
            context->dead_letter(std::move(*reply.dead_letter));
            return {};
        }
        if (reply.failure) {
            failure = std::move(*reply.failure);
            return *failure;
        }
        if (reply.done) {
            ++answers;
            for (KeyGroupSnapshot& snap : reply.snapshots)
                answered_snapshots.push_back(std::move(snap));
        }
        return {};
    }

    Status drain() {
        if (failure) return *failure;
        while (std::optional<Reply> reply = replies->pop_for(std::chrono::microseconds(0)))
            MILLRACE_TRY(take(std::move(*reply)));
        return {};
    }

    void note_fill() {
        uint64_t fill = 0;
        for (auto& subtask : subtasks) fill = std::max<uint64_t>(fill, subtask->input->size());
        stats.queue_fill.store(fill, std::memory_order_relaxed);
        if (fill > stats.queue_peak.load(std::memory_order_relaxed))
            stats.queue_peak.store(fill, std::memory_order_relaxed);
    }

    /// Queues `message` for `subtask`, moving the replies along while its queue is full
    /// (the subtask may be waiting for room in the reply queue).
    Status send(Subtask& subtask, Message message) {
        std::optional<std::chrono::steady_clock::time_point> blocked;
        while (!subtask.input->push_for(message, std::chrono::microseconds(0))) {
            if (!blocked) blocked = std::chrono::steady_clock::now();
            MILLRACE_TRY(drain());
            if (subtask.input->push_for(message, std::chrono::microseconds(1000))) break;
        }
        if (blocked) {
            stats.backpressure_micros.fetch_add(
                std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::steady_clock::now() - *blocked)
                    .count(),
                std::memory_order_relaxed);
        }
        note_fill();
        return {};
    }

    /// Sends `message` (a barrier, snapshot or finish) to every subtask and waits for all the
    /// answers, moving the output along meanwhile.
    Result<std::vector<KeyGroupSnapshot>> everyone(const Message& message) {
        if (!threaded()) {
            Message copy = message;
            return subtasks[0]->handle(copy);
        }
        answers = 0;
        answered_snapshots.clear();
        for (auto& subtask : subtasks) MILLRACE_TRY(send(*subtask, message));
        while (answers < subtasks.size()) {
            if (failure) return *failure;
            std::optional<Reply> reply = replies->pop_for(std::chrono::microseconds(1000));
            if (reply) MILLRACE_TRY(take(std::move(*reply)));
        }
        return std::move(answered_snapshots);
    }

    void count_state(const std::vector<KeyGroupSnapshot>& snapshots) {
        for (const KeyGroupSnapshot& snap : snapshots) {
            if (!snap.states) continue;
            uint64_t bytes = 0;
            for (const std::string& state : *snap.states) bytes += state.size();
            state_sizes[snap.key_group] = bytes;
        }
        uint64_t total = 0;
        for (uint64_t bytes : state_sizes) total += bytes;
        stats.state_bytes.store(total, std::memory_order_relaxed);
    }
};

KeyedStage::KeyedStage(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KeyedStage::~KeyedStage() = default;

Result<std::unique_ptr<KeyedStage>> KeyedStage::create(const sql::LogicalNode& plan,
                                                       const ExchangePoint& point,
                                                       BatchSink& output, ExecContext& context,
                                                       const std::string& origin, PlanMode mode,
                                                       const Options& options) {
    auto impl = std::make_unique<Impl>();
    Impl& s = *impl;
    s.options = options;
    s.options.max_key_groups = std::max<uint32_t>(options.max_key_groups, 1);
    s.options.parallelism = std::clamp<uint32_t>(options.parallelism, 1, s.options.max_key_groups);
    s.output = &output;
    s.context = &context;
    s.key_columns = point.key_columns;
    s.state_sizes.assign(s.options.max_key_groups, 0);
    const uint32_t parallelism = s.options.parallelism;
    s.replies = std::make_unique<BoundedQueue<Reply>>(options.queue_capacity * parallelism);
    const int64_t statement_time = context.statement_time_micros();
    for (uint32_t t = 0; t < parallelism; ++t) {
        auto subtask = std::make_unique<Impl::Subtask>();
        Impl::Subtask* raw = subtask.get();
        raw->stage = &s;
        raw->range = key_group_range(t, parallelism, s.options.max_key_groups);
        raw->context.clock = context.clock;
        raw->context.row_error_policy = context.row_error_policy;
        raw->context.memory_limit_bytes = context.memory_limit_bytes / parallelism;
        raw->context.limit_name = context.limit_name;
        raw->context.set_statement_time_micros(statement_time);
        if (parallelism == 1) {
            raw->context.dead_letter = context.dead_letter;
        } else {
            Impl* stage = &s;
            raw->context.dead_letter = [stage](DeadLetterRow row) {
                Reply reply;
                reply.dead_letter = std::move(row);
                (void)stage->replies->push(std::move(reply));
            };
        }
        raw->input = std::make_unique<BoundedQueue<Message>>(
            std::max<std::size_t>(options.queue_capacity, 1));
        raw->groups.resize(raw->range.size());
        PlanOptions keyed_options = options.plan_options;
        keyed_options.exchange_below = point.keyed;
        for (uint32_t i = 0; i < raw->range.size(); ++i) {
            Impl::KeyGroup& group = raw->groups[i];
            group.id = raw->range.begin + i;
            group.output = std::make_unique<Impl::KeyGroupOutput>(*raw, group.changed);
            MILLRACE_ASSIGN_OR_RETURN(group.plan, build_plan(plan, *group.output, raw->context,
                                                             origin, mode, keyed_options));
            for (const ScanInput& input : group.plan->inputs()) {
                if (input.source == kExchangeSource) group.entry = input.entry;
            }
            if (group.entry == nullptr)
                return Error(ErrorCode::kInternal, "a key group's plan has no exchange input");
        }
        s.subtasks.push_back(std::move(subtask));
    }
    if (parallelism > 1) {
        for (auto& subtask : s.subtasks) {
            Impl::Subtask* raw = subtask.get();
            raw->threaded = true;
            raw->thread = std::thread([raw] { raw->run(); });
        }
    }
    return std::unique_ptr<KeyedStage>(new KeyedStage(std::move(impl)));
}

Status KeyedStage::push(Batch batch) {
    Impl& s = *impl_;
    if (batch.num_rows() == 0) return {};
    MILLRACE_TRY(s.drain());
    s.stats.records_in.fetch_add(batch.num_rows(), std::memory_order_relaxed);
    assign_key_groups(batch, s.key_columns, s.options.max_key_groups, s.row_groups);
    if (!s.threaded()) return s.subtasks[0]->rows(batch, s.row_groups);
    const uint32_t parallelism = s.options.parallelism;
    std::vector<std::vector<uint32_t>> rows(parallelism);
    for (uint32_t row = 0; row < s.row_groups.size(); ++row)
        rows[subtask_of(s.row_groups[row], parallelism, s.options.max_key_groups)].push_back(row);
    for (uint32_t t = 0; t < parallelism; ++t) {
        if (rows[t].empty()) continue;
        Message message;
        if (rows[t].size() == batch.num_rows()) {
            message.rows = batch;
            message.groups = s.row_groups;
        } else {
            message.rows = batch.take(rows[t]);
            message.groups.reserve(rows[t].size());
            for (uint32_t row : rows[t]) message.groups.push_back(s.row_groups[row]);
        }
        MILLRACE_TRY(s.send(*s.subtasks[t], std::move(message)));
    }
    return {};
}

Status KeyedStage::on_control(const ControlSignal& signal) {
    Impl& s = *impl_;
    MILLRACE_TRY(s.drain());
    if (signal.kind != ControlSignal::Kind::kBarrier) {
        Message message;
        message.kind = signal.kind == ControlSignal::Kind::kWatermark ? Message::Kind::kWatermark
                       : signal.kind == ControlSignal::Kind::kPublish ? Message::Kind::kPublish
                                                                      : Message::Kind::kEarlyFire;
        message.watermark = signal.watermark_micros;
        if (!s.threaded()) return status_of(s.subtasks[0]->handle(message));
        for (auto& subtask : s.subtasks) MILLRACE_TRY(s.send(*subtask, message));
        return {};
    }
    Message message;
    message.kind = Message::Kind::kBarrier;
    message.checkpoint = signal.checkpoint_id;
    message.full = !s.snapshotted;
    message.round = s.rounds++;
    MILLRACE_ASSIGN_OR_RETURN(s.barrier_snapshots, s.everyone(message));
    s.barrier_id = signal.checkpoint_id;
    return {};
}

Status KeyedStage::finish() {
    Impl& s = *impl_;
    Message message;
    message.kind = Message::Kind::kFinish;
    MILLRACE_TRY(status_of(s.everyone(message)));
    return s.output->finish();
}

Status KeyedStage::poll() {
    Impl& s = *impl_;
    if (s.threaded()) MILLRACE_TRY(s.drain());
    s.note_fill();
    return {};
}

Result<std::vector<KeyGroupSnapshot>> KeyedStage::snapshot(uint64_t id) {
    Impl& s = *impl_;
    std::vector<KeyGroupSnapshot> out;
    if (s.barrier_id == id) {
        out = std::move(s.barrier_snapshots);
        s.barrier_snapshots.clear();
    } else {
        Message message;
        message.kind = Message::Kind::kSnapshot;
        message.full = !s.snapshotted;
        message.round = s.rounds++;
        MILLRACE_ASSIGN_OR_RETURN(out, s.everyone(message));
    }
    s.barrier_id.reset();
    s.snapshotted = true;
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.key_group < b.key_group; });
    s.count_state(out);
    return out;
}

void KeyedStage::request_full_snapshot() { impl_->snapshotted = false; }

Status KeyedStage::restore(uint32_t key_group, const std::vector<std::string>& states) {
    Impl& s = *impl_;
    const uint32_t t = subtask_of(key_group, s.options.parallelism, s.options.max_key_groups);
    Impl::Subtask& subtask = *s.subtasks.at(t);
    return subtask.groups.at(key_group - subtask.range.begin).plan->restore_state(states);
}

Status KeyedStage::apply_changes(uint32_t key_group, const std::vector<std::string>& states,
                                 const std::vector<uint8_t>& changes) {
    Impl& s = *impl_;
    const uint32_t t = subtask_of(key_group, s.options.parallelism, s.options.max_key_groups);
    Impl::Subtask& subtask = *s.subtasks.at(t);
    return subtask.groups.at(key_group - subtask.range.begin)
        .plan->apply_state_changes(ExecutablePlan::StateChanges{states, changes});
}

uint32_t KeyedStage::parallelism() const { return impl_->options.parallelism; }
uint32_t KeyedStage::max_key_groups() const { return impl_->options.max_key_groups; }
std::size_t KeyedStage::queue_capacity() const {
    return std::max<std::size_t>(impl_->options.queue_capacity, 1);
}
const KeyedStageStats& KeyedStage::stats() const { return impl_->stats; }

uint64_t KeyedStage::state_bytes_now() const {
    uint64_t total = 0;
    for (const auto& subtask : impl_->subtasks) {
        total += subtask->memory_used.load(std::memory_order_relaxed);
    }
    return total;
}

uint64_t KeyedStage::state_keys_now() const {
    uint64_t total = 0;
    for (const auto& subtask : impl_->subtasks) {
        total += subtask->state_keys.load(std::memory_order_relaxed);
    }
    return total;
}

}  // namespace millrace
