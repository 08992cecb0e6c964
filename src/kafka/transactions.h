#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/logger.h"
#include "common/result.h"
#include "kafka/apis.h"
#include "log/fwd.h"

namespace millrace::kafka {

class ProducerStates;

/// What InitProducerId hands a transactional producer.
struct TransactionalProducer {
    KafkaError error = KafkaError::kNone;
    int64_t producer_id = -1;
    int16_t epoch = -1;
};

/// One offset a transaction commits for a consumer group when it commits.
struct TransactionOffset {
    std::string group;
    std::string topic;
    PartitionId partition = 0;
    Offset offset = 0;
};

/// The transaction coordinator (KIP-98) of the single broker: per transactional id, the
/// producer id and epoch, the state of its transaction, the partitions it wrote to and the
/// group offsets it commits.
///
/// InitProducerId gives a transactional id its producer id (a new one the first time) and the
/// next epoch, aborting a transaction the previous incarnation left open: a zombie with the
/// older epoch is fenced (INVALID_PRODUCER_EPOCH on everything it sends). EndTxn writes the
/// COMMIT or ABORT marker to every partition of the transaction (Partition::append_marker) and,
/// on commit, stores its group offsets in the log's ConsumerOffsets; it answers once they are
/// written. A transaction open longer than its timeout is aborted and its producer fenced.
///
/// The state is kept in `<log dir>/_kafka/transactions`, rewritten atomically (fsynced) on
/// every change before the change is acknowledged:
///
///   millrace-transactions 1\n
///   txn <id> <producer id> <epoch> <timeout ms> <state: empty|ongoing|commit|abort>\n
///   part <topic> <partition>\n                          partitions of the txn above
///   offset <group> <topic> <partition> <offset>\n       its pending group offsets
///
/// (ids, topics and groups percent-encoded). After a restart, a transaction that was ending
/// (commit, abort) is finished and an ongoing one is aborted (its producer is gone or will
/// be fenced).
///
/// Threads: safe from any thread; requests are serialized by one mutex (markers and the state
/// file are written under it).
class TransactionCoordinator {
public:
    /// `log`, `producers`, `clock` and `logger` must outlive the coordinator.
    TransactionCoordinator(Log& log, ProducerStates& producers, const Clock& clock,
                           const Logger& logger);

    /// Loads the state and finishes the transactions a previous process left ending or open.
    Status load();

    TransactionalProducer init_producer(const std::string& id, int32_t timeout_ms);
    /// Per partition of `partitions` (topic, partition) the error of adding it.
    std::vector<KafkaError> add_partitions(
        const std::string& id, int64_t producer_id, int16_t epoch,
        const std::vector<std::pair<std::string, PartitionId>>& partitions);
    KafkaError add_offsets(const std::string& id, int64_t producer_id, int16_t epoch,
                           const std::string& group);
    /// Keeps `offsets` (of one group) to be committed with the transaction.
    KafkaError txn_offset_commit(const std::string& id, int64_t producer_id, int16_t epoch,
                                 const std::vector<TransactionOffset>& offsets);
    KafkaError end(const std::string& id, int64_t producer_id, int16_t epoch, bool commit);
    /// Runs `append` when a transactional Produce of (producer id, epoch) may write to the
    /// partition (its transaction is ongoing and holds it), under the coordinator's lock: no
    /// marker can come between the check and the append (a batch after its transaction's
    /// marker would open a transaction no one ends). The error otherwise.
    KafkaError produce(const std::string& id, int64_t producer_id, int16_t epoch,
                       const std::string& topic, PartitionId partition,
                       const std::function<void()>& append);
    /// Aborts the transactions open longer than their timeout; returns how many.
    int abort_expired();

private:
    enum class State : uint8_t { kEmpty, kOngoing, kCommitting, kAborting };
    struct Transaction {
        int64_t producer_id = -1;
        int16_t epoch = 0;
        int32_t timeout_ms = 60000;
        State state = State::kEmpty;
        int64_t started_micros = 0;
        std::set<std::pair<std::string, PartitionId>> partitions;
        std::map<std::tuple<std::string, std::string, PartitionId>, Offset> offsets;
    };

    KafkaError check_locked(const std::string& id, int64_t producer_id, int16_t epoch,
                            Transaction*& out);
    /// Writes the markers and (commit) the offsets, then empties the transaction.
    Status complete_locked(const std::string& id, Transaction& txn, bool commit);
    Status save_locked();

    Log& log_;
    ProducerStates& producers_;
    const Clock& clock_;
    const Logger& logger_;
    std::string path_;
    std::mutex mutex_;
    std::map<std::string, Transaction> transactions_;
};

}  // namespace millrace::kafka
