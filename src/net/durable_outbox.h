#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace millrace {

/// What one delivery pass did.
struct OutboxDelivery {
    std::size_t delivered = 0;  // acknowledged with a 2xx, moved to sent/
    std::size_t rejected = 0;   // refused with a 4xx (not 408/429), moved to rejected/
    std::size_t pending = 0;    // still in the outbox afterwards
    /// Why the pass stopped early (the receiver is down, answered 5xx...); "" when it emptied
    /// the outbox or another process was delivering.
    std::string error;
};

/// A durable outbox of JSON messages for an HTTP receiver (lineage events, alert
/// notifications). Every message is first a file, written with the durable-write protocol
/// (common/durable_file.h) before anything is sent, so none is lost while the receiver is down
/// or a process dies:
///
///   <directory>/
///     outbox/<time µs, 20 digits>-<pid>-<seq>.json   waiting (one message each)
///     sent/<same name>                               acknowledged by the receiver
///     rejected/<same name>                           refused by it (4xx), kept to look at
///     deliver.lock                                   held by the process delivering
///
/// Names sort in the order the messages were written, and delivery goes oldest first, one
/// message per POST, stopping at the first failure so the order holds. sent/ keeps the newest
/// kSentKept messages.
///
/// Several processes may add messages at once (names are unique per pid); one delivers at a
/// time (deliver.lock, not waited for). Threads: add() and deliver() may run concurrently.
class DurableOutbox {
public:
    static constexpr std::size_t kSentKept = 10'000;

    explicit DurableOutbox(std::string directory);

    /// Writes `body` durably into outbox/, named after `time_micros`.
    Status add(std::string_view body, int64_t time_micros);

    /// POSTs waiting messages to `url` (http://host:port/path), oldest first, at most
    /// `max_messages`, each with `timeout`. Not an error when the receiver is down: that is in
    /// the result, and the messages wait for the next pass.
    Result<OutboxDelivery> deliver(const std::string& url, std::chrono::milliseconds timeout,
                                   std::size_t max_messages = SIZE_MAX);

    /// Messages waiting in outbox/.
    std::size_t depth() const;
    /// The files of every message kept (sent, then waiting), oldest first.
    std::vector<std::string> message_files() const;

    const std::string& directory() const { return directory_; }

private:
    std::string directory_;
};

}  // namespace millrace
