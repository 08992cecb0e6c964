#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/event_loop.h"
#include "kafka/message.h"

namespace millrace::kafka {

/// The classic consumer-group protocol for one node (KIP-62, KIP-394): members join, the
/// first becomes the leader and gets every member's subscription, the leader's assignment
/// (range, round robin: computed by the client) is relayed to each member by SyncGroup, and
/// heartbeats keep members in. A join, a leave or a session timeout starts a rebalance:
/// heartbeats answer REBALANCE_IN_PROGRESS until every member has joined again or the
/// rebalance timeout drops those that did not.
///
///   Empty --join--> PreparingRebalance --all joined / timeout--> CompletingRebalance
///   CompletingRebalance --leader's SyncGroup--> Stable --join/leave/expiry--> Preparing...
///
/// Groups live in memory (clients rejoin after a restart); committed offsets are durable in the
/// Log's ConsumerOffsets (the broker stores them; generation checks come from here).
///
/// Threads: every member runs on the EventLoop thread it is given (the broker posts to it);
/// answers are the response Structs of apis.h, handed to the callbacks on that thread.
class GroupCoordinator {
public:
    using Reply = std::function<void(Struct)>;

    GroupCoordinator(EventLoop& loop, const Clock& clock,
                     std::chrono::milliseconds initial_rebalance_delay);

    /// Starts the periodic session-expiry check (loop thread).
    void start();

    void join(const Struct& request, int16_t version, const std::string& client_id,
              const std::string& client_host, Reply reply);
    void sync(const Struct& request, Reply reply);
    void heartbeat(const Struct& request, Reply reply);
    void leave(const Struct& request, int16_t version, Reply reply);
    void describe(const Struct& request, Reply reply);
    void list(Reply reply);
    /// KafkaError for an OffsetCommit by (generation, member) of `group`: NONE for a simple
    /// commit (generation -1, no member) or a current member of the current generation.
    int16_t check_commit(const std::string& group, int32_t generation, const std::string& member);

    /// Answers every waiting join and sync (stopping).
    void fail_pending();

private:
    enum class State { kEmpty, kPreparingRebalance, kCompletingRebalance, kStable };
    struct Member {
        std::string id;
        std::optional<std::string> instance_id;
        std::string client_id;
        std::string client_host;
        int32_t session_timeout_ms = 10000;
        int32_t rebalance_timeout_ms = 60000;
        std::vector<std::pair<std::string, std::string>> protocols;  // name, metadata
        std::string assignment;
        int64_t last_seen_micros = 0;
        Reply pending_join;
        int16_t join_version = 0;
        Reply pending_sync;
    };
    struct Group {
        std::string id;
        State state = State::kEmpty;
        int32_t generation = 0;
        std::string protocol_type;
        std::string protocol_name;
        std::string leader;
        std::map<std::string, Member> members;
        std::set<std::string> pending_members;  // ids sent with MEMBER_ID_REQUIRED
        int64_t join_not_before = 0;            // micros: the initial delay of a new group
        uint64_t rebalance_round = 0;           // ignores timers of an earlier round
    };

    static std::string_view state_name(State state);
    void prepare_rebalance(Group& group, bool initial);
    void maybe_complete_join(Group& group, bool timed_out);
    void complete_join(Group& group);
    void remove_member(Group& group, const std::string& member_id);
    void expire_sessions();
    Struct join_error(int16_t error, const std::string& member_id) const;

    EventLoop& loop_;
    const Clock& clock_;
    int64_t initial_delay_micros_;
    std::map<std::string, Group> groups_;
    uint64_t next_member_ = 0;
};

}  // namespace millrace::kafka
