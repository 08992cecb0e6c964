#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "lineage/run_event.h"

namespace millrace {

/// What one delivery pass did.
struct LineageDelivery {
    std::size_t delivered = 0;  // acknowledged with a 2xx, moved to sent/
    std::size_t rejected = 0;   // refused with a 4xx (not 408/429), moved to rejected/
    std::size_t pending = 0;    // still in the outbox afterwards
    /// Why the pass stopped early (the receiver is down, answered 5xx...); "" when it emptied
    /// the outbox or another process was delivering.
    std::string error;
};

/// The durable outbox of OpenLineage run events. Every event is first a file, written with
/// the durable-write protocol (common/durable_file.h) before anything is sent, so no event is
/// lost while a collector is down or a process dies:
///
///   <data_dir>/lineage/
///     outbox/<event time µs, 20 digits>-<pid>-<seq>.json   waiting (one RunEvent JSON each)
///     sent/<same name>                                     acknowledged by the collector
///     rejected/<same name>                                 refused by it (4xx), kept to look at
///     deliver.lock                                         held by the process delivering
///
/// Names sort in the order the events were written (a run's START before its COMPLETE), and
/// delivery goes oldest first, one event per POST, stopping at the first failure so the order
/// holds. Without a collector (`lineage:` has no url) the outbox is the record: `millrace
/// lineage` reads it. sent/ keeps the newest kSentKept events.
///
/// Several processes may add events at once (names are unique per pid); one delivers at a time
/// (deliver.lock, not waited for). Threads: add() and deliver() may run concurrently.
class LineageOutbox {
public:
    static constexpr std::size_t kSentKept = 10'000;

    explicit LineageOutbox(std::string data_dir);

    /// Writes the event durably into outbox/.
    Status add(const RunEvent& event);

    /// POSTs waiting events to `url` (http://host:port/path), oldest first, at most
    /// `max_events`, each with `timeout`. Not an error when the receiver is down: that is in
    /// the result, and the events wait for the next pass.
    Result<LineageDelivery> deliver(const std::string& url, std::chrono::milliseconds timeout,
                                    std::size_t max_events = SIZE_MAX);

    /// Events waiting in outbox/.
    std::size_t depth() const;
    /// The files of every event kept (sent, then waiting), oldest first.
    std::vector<std::string> event_files() const;

    const std::string& directory() const { return directory_; }

private:
    std::string directory_;  // <data_dir>/lineage
};

}  // namespace millrace
