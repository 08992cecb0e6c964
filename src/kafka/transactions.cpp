#include "kafka/transactions.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <optional>
#include <sstream>
#include <tuple>

#include "common/durable_file.h"
#include "kafka/producer_states.h"
#include "log/consumer_offsets.h"
#include "log/log.h"
#include "log/partition.h"
#include "log/topic.h"

namespace millrace::kafka {

namespace {

constexpr std::string_view kMagic = "millrace-transactions 1";
constexpr int32_t kMaxTimeoutMs = 900000;  // Kafka's transaction.max.timeout.ms default

/// Ids, topics and groups may hold any byte; the state file is split on spaces and lines.
std::string escape(const std::string& text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (std::isalnum(byte) != 0 || c == '.' || c == '_' || c == '-') {
            out.push_back(c);
        } else {
            out.push_back('%');
            out.push_back(kHex[byte >> 4]);
            out.push_back(kHex[byte & 0xf]);
        }
    }
    return out;
}

std::optional<std::string> unescape(const std::string& text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out.push_back(text[i]);
            continue;
        }
        if (i + 2 >= text.size()) return std::nullopt;
        const std::string hex = text.substr(i + 1, 2);
        if (hex.find_first_not_of("0123456789ABCDEFabcdef") != std::string::npos)
            return std::nullopt;
        out.push_back(static_cast<char>(std::stoi(hex, nullptr, 16)));
        i += 2;
    }
    return out;
}

std::string_view state_name(int state) {
    static constexpr std::string_view kNames[] = {"empty", "ongoing", "commit", "abort"};
    return kNames[state];
}

}  // namespace

TransactionCoordinator::TransactionCoordinator(Log& log, ProducerStates& producers,
                                               const Clock& clock, const Logger& logger)
    : log_(log),
      producers_(producers),
      clock_(clock),
      logger_(logger),
      path_(log.dir() + "/_kafka/transactions") {}

Status TransactionCoordinator::load() {
    std::lock_guard lock(mutex_);
    std::ifstream in(path_);
    if (in) {
        std::string line;
        if (!std::getline(in, line) || line != kMagic) {
            return Error(ErrorCode::kCorruption, path_ + " is damaged (bad first line)");
        }
        Transaction* current = nullptr;
        int number = 1;
        while (std::getline(in, line)) {
            ++number;
            if (line.empty()) continue;
            std::istringstream fields(line);
            std::string kind;
            fields >> kind;
            bool ok = false;
            if (kind == "txn") {
                std::string id;
                std::string state;
                int epoch = 0;
                Transaction txn;
                fields >> id >> txn.producer_id >> epoch >> txn.timeout_ms >> state;
                txn.epoch = static_cast<int16_t>(epoch);
                const std::optional<std::string> name = unescape(id);
                for (int s = 0; s < 4; ++s) {
                    if (state == state_name(s)) {
                        txn.state = static_cast<State>(s);
                        ok = name.has_value() && !fields.fail();
                    }
                }
                if (ok) current = &(transactions_[*name] = std::move(txn));
            } else if (kind == "part" && current != nullptr) {
                std::string topic;
                PartitionId partition = 0;
                fields >> topic >> partition;
                const std::optional<std::string> name = unescape(topic);
                ok = name.has_value() && !fields.fail();
                if (ok) current->partitions.insert({*name, partition});
            } else if (kind == "offset" && current != nullptr) {
                std::string group;
                std::string topic;
                PartitionId partition = 0;
                Offset offset = 0;
                fields >> group >> topic >> partition >> offset;
                const std::optional<std::string> group_name = unescape(group);
                const std::optional<std::string> topic_name = unescape(topic);
                ok = group_name && topic_name && !fields.fail();
                if (ok) current->offsets[{*group_name, *topic_name, partition}] = offset;
            }
            if (!ok) {
                return Error(ErrorCode::kCorruption, path_ + ":" + std::to_string(number) +
                                                         " is damaged: \"" + line + "\"");
            }
        }
    }
    // Whatever was ending is finished; an open transaction is aborted (and its producer fenced,
    // as if it had timed out): its producer cannot carry on with a coordinator that restarted.
    bool changed = false;
    for (auto& [id, txn] : transactions_) {
        if (txn.state == State::kEmpty) continue;
        const bool commit = txn.state == State::kCommitting;
        if (txn.state == State::kOngoing) {
            txn.state = State::kAborting;
            if (txn.epoch < INT16_MAX - 1) ++txn.epoch;
        }
        logger_.info("kafka",
                     commit ? "committing a transaction left ending by a restart"
                            : "aborting a transaction left open by a restart",
                     {{"transactional_id", id}, {"producer_id", txn.producer_id}});
        MILLRACE_TRY(complete_locked(id, txn, commit));
        changed = true;
    }
    if (changed) MILLRACE_TRY(save_locked());
    return {};
}

Status TransactionCoordinator::save_locked() {
    std::string text = std::string(kMagic) + "\n";
    for (const auto& [id, txn] : transactions_) {
        text += "txn " + escape(id) + " " + std::to_string(txn.producer_id) + " " +
                std::to_string(txn.epoch) + " " + std::to_string(txn.timeout_ms) + " " +
                std::string(state_name(static_cast<int>(txn.state))) + "\n";
        for (const auto& [topic, partition] : txn.partitions) {
            text += "part " + escape(topic) + " " + std::to_string(partition) + "\n";
        }
        for (const auto& [key, offset] : txn.offsets) {
            const auto& [group, topic, partition] = key;
            text += "offset " + escape(group) + " " + escape(topic) + " " +
                    std::to_string(partition) + " " + std::to_string(offset) + "\n";
        }
    }
    MILLRACE_TRY(create_parent_directories_durably(path_));
    return write_file_durably(path_, text);
}

Status TransactionCoordinator::complete_locked(const std::string& id, Transaction& txn,
                                               bool commit) {
    const int64_t now_ms = clock_.now_micros() / 1000;
    for (const auto& [name, index] : txn.partitions) {
        std::shared_ptr<Topic> topic = log_.find_topic(name);
        if (!topic || index < 0 || index >= topic->partition_count()) continue;  // deleted
        auto marker =
            topic->partition(index)->append_marker(txn.producer_id, txn.epoch, commit, now_ms);
        if (!marker.ok()) {
            logger_.warn("kafka", "cannot write a transaction marker",
                         {{"transactional_id", id},
                          {"topic", name},
                          {"partition", static_cast<int64_t>(index)},
                          {"error", marker.error().to_string()}});
            return marker.error();
        }
    }
    if (commit) {
        for (const auto& [key, offset] : txn.offsets) {
            const auto& [group, topic, partition] = key;
            if (!log_.find_topic(topic)) continue;
            MILLRACE_TRY(log_.consumer_offsets().commit(group, topic, partition, offset));
        }
    }
    txn.partitions.clear();
    txn.offsets.clear();
    txn.state = State::kEmpty;
    return {};
}

TransactionalProducer TransactionCoordinator::init_producer(const std::string& id,
                                                            int32_t timeout_ms) {
    TransactionalProducer out;
    if (timeout_ms <= 0 || timeout_ms > kMaxTimeoutMs) {
        out.error = KafkaError::kInvalidTransactionTimeout;
        return out;
    }
    std::lock_guard lock(mutex_);
    auto found = transactions_.find(id);
    const bool known = found != transactions_.end();
    Transaction& txn = known ? found->second : transactions_[id];
    if (known && txn.state != State::kEmpty) {
        // The previous incarnation's transaction: fence it (new epoch) and abort it.
        const bool commit = txn.state == State::kCommitting;
        txn.state = commit ? State::kCommitting : State::kAborting;
        if (!save_locked().ok() || !complete_locked(id, txn, commit).ok()) {
            out.error = KafkaError::kCoordinatorNotAvailable;  // the client retries
            return out;
        }
    }
    if (!known || txn.epoch >= INT16_MAX - 1) {
        auto producer = producers_.new_producer();
        if (!producer.ok()) {
            logger_.warn("kafka", "cannot allocate a producer id",
                         {{"error", producer.error().to_string()}});
            if (!known) transactions_.erase(id);
            out.error = KafkaError::kUnknownServerError;
            return out;
        }
        txn.producer_id = *producer;
        txn.epoch = 0;
    } else {
        ++txn.epoch;
    }
    txn.timeout_ms = timeout_ms;
    if (Status saved = save_locked(); !saved.ok()) {
        logger_.warn("kafka", "cannot save transaction state",
                     {{"error", saved.error().to_string()}});
        out.error = KafkaError::kUnknownServerError;
        return out;
    }
    out.producer_id = txn.producer_id;
    out.epoch = txn.epoch;
    return out;
}

KafkaError TransactionCoordinator::check_locked(const std::string& id, int64_t producer_id,
                                                int16_t epoch, Transaction*& out) {
    auto found = transactions_.find(id);
    if (found == transactions_.end() || found->second.producer_id != producer_id) {
        return KafkaError::kInvalidProducerIdMapping;
    }
    if (found->second.epoch != epoch) return KafkaError::kInvalidProducerEpoch;
    out = &found->second;
    return KafkaError::kNone;
}

std::vector<KafkaError> TransactionCoordinator::add_partitions(
    const std::string& id, int64_t producer_id, int16_t epoch,
    const std::vector<std::pair<std::string, PartitionId>>& partitions) {
    std::lock_guard lock(mutex_);
    Transaction* txn = nullptr;
    KafkaError error = check_locked(id, producer_id, epoch, txn);
    if (error == KafkaError::kNone && txn->state != State::kEmpty &&
        txn->state != State::kOngoing) {
        error = KafkaError::kConcurrentTransactions;
    }
    std::vector<KafkaError> out(partitions.size(), error);
    if (error != KafkaError::kNone) return out;
    bool unknown = false;
    for (std::size_t i = 0; i < partitions.size(); ++i) {
        const auto& [name, index] = partitions[i];
        std::shared_ptr<Topic> topic = log_.find_topic(name);
        if (!topic || index < 0 || index >= topic->partition_count()) {
            out[i] = KafkaError::kUnknownTopicOrPartition;
            unknown = true;
        }
    }
    if (unknown) {
        // Kafka adds none of them: the others were not attempted.
        for (KafkaError& e : out) {
            if (e == KafkaError::kNone) e = KafkaError::kOperationNotAttempted;
        }
        return out;
    }
    if (txn->state == State::kEmpty) {
        txn->state = State::kOngoing;
        txn->started_micros = clock_.now_micros();
    }
    txn->partitions.insert(partitions.begin(), partitions.end());
    if (Status saved = save_locked(); !saved.ok()) {
        logger_.warn("kafka", "cannot save transaction state",
                     {{"error", saved.error().to_string()}});
        std::fill(out.begin(), out.end(), KafkaError::kUnknownServerError);
    }
    return out;
}

KafkaError TransactionCoordinator::add_offsets(const std::string& id, int64_t producer_id,
                                               int16_t epoch, const std::string& group) {
    if (group.empty()) return KafkaError::kInvalidGroupId;
    std::lock_guard lock(mutex_);
    Transaction* txn = nullptr;
    if (KafkaError error = check_locked(id, producer_id, epoch, txn); error != KafkaError::kNone)
        return error;
    if (txn->state != State::kEmpty && txn->state != State::kOngoing)
        return KafkaError::kConcurrentTransactions;
    if (txn->state == State::kEmpty) {
        txn->state = State::kOngoing;
        txn->started_micros = clock_.now_micros();
        if (!save_locked().ok()) return KafkaError::kUnknownServerError;
    }
    return KafkaError::kNone;
}

KafkaError TransactionCoordinator::txn_offset_commit(
    const std::string& id, int64_t producer_id, int16_t epoch,
    const std::vector<TransactionOffset>& offsets) {
    std::lock_guard lock(mutex_);
    Transaction* txn = nullptr;
    if (KafkaError error = check_locked(id, producer_id, epoch, txn); error != KafkaError::kNone)
        return error;
    if (txn->state != State::kOngoing) return KafkaError::kInvalidTxnState;
    for (const TransactionOffset& offset : offsets) {
        txn->offsets[{offset.group, offset.topic, offset.partition}] = offset.offset;
    }
    if (!save_locked().ok()) return KafkaError::kUnknownServerError;
    return KafkaError::kNone;
}

KafkaError TransactionCoordinator::end(const std::string& id, int64_t producer_id, int16_t epoch,
                                       bool commit) {
    std::lock_guard lock(mutex_);
    Transaction* txn = nullptr;
    if (KafkaError error = check_locked(id, producer_id, epoch, txn); error != KafkaError::kNone)
        return error;
    switch (txn->state) {
        case State::kEmpty:
            return KafkaError::kNone;  // nothing was sent, or a retry of an end that completed
        case State::kCommitting:
        case State::kAborting:
            // An end that failed half-way: only the same decision may finish it.
            if ((txn->state == State::kCommitting) != commit) return KafkaError::kInvalidTxnState;
            break;
        case State::kOngoing:
            txn->state = commit ? State::kCommitting : State::kAborting;
            // The decision is durable before any marker: a restart finishes it the same way.
            if (!save_locked().ok()) {
                txn->state = State::kOngoing;
                return KafkaError::kUnknownServerError;
            }
            break;
    }
    if (!complete_locked(id, *txn, commit).ok()) return KafkaError::kUnknownServerError;
    if (!save_locked().ok()) return KafkaError::kUnknownServerError;
    return KafkaError::kNone;
}

KafkaError TransactionCoordinator::produce(const std::string& id, int64_t producer_id,
                                           int16_t epoch, const std::string& topic,
                                           PartitionId partition,
                                           const std::function<void()>& append) {
    std::lock_guard lock(mutex_);
    Transaction* txn = nullptr;
    if (KafkaError error = check_locked(id, producer_id, epoch, txn); error != KafkaError::kNone)
        return error;
    if (txn->state != State::kOngoing || !txn->partitions.contains({topic, partition})) {
        return KafkaError::kInvalidTxnState;
    }
    append();
    return KafkaError::kNone;
}

int TransactionCoordinator::abort_expired() {
    std::lock_guard lock(mutex_);
    const int64_t now = clock_.now_micros();
    int aborted = 0;
    for (auto& [id, txn] : transactions_) {
        if (txn.state != State::kOngoing ||
            now - txn.started_micros < int64_t{txn.timeout_ms} * 1000) {
            continue;
        }
        // Fence the producer that let it expire, then abort.
        if (txn.epoch < INT16_MAX - 1) ++txn.epoch;
        txn.state = State::kAborting;
        logger_.info("kafka", "aborting a transaction past its timeout",
                     {{"transactional_id", id}, {"producer_id", txn.producer_id}});
        if (!save_locked().ok() || !complete_locked(id, txn, false).ok()) continue;
        ++aborted;
    }
    if (aborted > 0) {
        if (Status saved = save_locked(); !saved.ok()) {
            logger_.warn("kafka", "cannot save transaction state",
                         {{"error", saved.error().to_string()}});
        }
    }
    return aborted;
}

}  // namespace millrace::kafka
