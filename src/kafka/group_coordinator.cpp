#include "kafka/group_coordinator.h"

#include <algorithm>

#include "kafka/apis.h"

namespace millrace::kafka {

namespace {

constexpr int64_t kMicrosPerMilli = 1000;
constexpr int64_t kExpiryCheckMicros = 200 * kMicrosPerMilli;

const Schema& response_schema(ApiKey key) { return find_api(static_cast<int16_t>(key))->response; }

int16_t code(KafkaError error) { return static_cast<int16_t>(error); }

Struct error_reply(ApiKey key, KafkaError error) {
    Struct reply(response_schema(key));
    reply.set("ErrorCode", code(error));
    return reply;
}

}  // namespace

GroupCoordinator::GroupCoordinator(EventLoop& loop, const Clock& clock,
                                   std::chrono::milliseconds initial_rebalance_delay)
    : loop_(loop),
      clock_(clock),
      initial_delay_micros_(initial_rebalance_delay.count() * kMicrosPerMilli) {}

void GroupCoordinator::start() {
    loop_.add_timer(clock_.now_micros() + kExpiryCheckMicros, [this] { expire_sessions(); });
}

std::string_view GroupCoordinator::state_name(State state) {
    switch (state) {
        case State::kEmpty:
            return "Empty";
        case State::kPreparingRebalance:
            return "PreparingRebalance";
        case State::kCompletingRebalance:
            return "CompletingRebalance";
        case State::kStable:
            return "Stable";
    }
    return "Dead";
}

Struct GroupCoordinator::join_error(int16_t error, const std::string& member_id) const {
    Struct reply(response_schema(ApiKey::kJoinGroup));
    reply.set("ErrorCode", error);
    reply.set("MemberId", member_id);
    return reply;
}

void GroupCoordinator::join(const Struct& request, int16_t version, const std::string& client_id,
                            const std::string& client_host, Reply reply) {
    const std::string& group_id = request.string("GroupId");
    if (group_id.empty()) {
        reply(join_error(code(KafkaError::kInvalidGroupId), ""));
        return;
    }
    const auto session_timeout = static_cast<int32_t>(request.integer("SessionTimeoutMs"));
    if (session_timeout < 1000 || session_timeout > 30 * 60 * 1000) {
        reply(join_error(code(KafkaError::kInvalidSessionTimeout), request.string("MemberId")));
        return;
    }
    Group& group = groups_[group_id];
    group.id = group_id;
    const std::string& protocol_type = request.string("ProtocolType");
    if (!group.members.empty() && group.protocol_type != protocol_type) {
        reply(join_error(code(KafkaError::kInconsistentGroupProtocol), request.string("MemberId")));
        return;
    }
    std::string member_id = request.string("MemberId");
    if (member_id.empty()) {
        member_id = (client_id.empty() ? std::string("member") : client_id) + "-" +
                    std::to_string(++next_member_) + "-" +
                    std::to_string(clock_.now_micros() % 1000000);
        if (version >= 4) {
            // KIP-394: the member learns its id first and joins again with it; until then it
            // is not part of the group.
            group.pending_members.insert(member_id);
            reply(join_error(code(KafkaError::kMemberIdRequired), member_id));
            return;
        }
    } else if (!group.members.contains(member_id)) {
        // An id we handed out with MEMBER_ID_REQUIRED joins now; anything else is unknown.
        if (group.pending_members.erase(member_id) == 0) {
            reply(join_error(code(KafkaError::kUnknownMemberId), member_id));
            return;
        }
    }
    Member& member = group.members[member_id];
    member.id = member_id;
    member.client_id = client_id;
    member.client_host = client_host;
    member.session_timeout_ms = session_timeout;
    const auto rebalance_timeout = static_cast<int32_t>(request.integer("RebalanceTimeoutMs"));
    member.rebalance_timeout_ms = rebalance_timeout > 0 ? rebalance_timeout : session_timeout;
    if (!request.is_null("GroupInstanceId")) member.instance_id = request.string("GroupInstanceId");
    std::vector<std::pair<std::string, std::string>> protocols;
    for (const Struct& protocol : request.array("Protocols"))
        protocols.emplace_back(protocol.string("Name"), protocol.string("Metadata"));
    member.protocols = std::move(protocols);
    member.last_seen_micros = clock_.now_micros();
    if (member.pending_join) {
        // A retried join replaces the earlier one.
        member.pending_join(join_error(code(KafkaError::kRebalanceInProgress), member_id));
    }
    member.pending_join = std::move(reply);
    member.join_version = version;
    group.protocol_type = protocol_type;
    if (group.state != State::kPreparingRebalance) {
        prepare_rebalance(group, group.state == State::kEmpty);
    }
    maybe_complete_join(group, false);
}

void GroupCoordinator::prepare_rebalance(Group& group, bool initial) {
    // Members waiting for their assignment must join again.
    for (auto& [id, member] : group.members) {
        if (member.pending_sync) {
            member.pending_sync(error_reply(ApiKey::kSyncGroup, KafkaError::kRebalanceInProgress));
            member.pending_sync = nullptr;
        }
    }
    group.state = State::kPreparingRebalance;
    const int64_t now = clock_.now_micros();
    int64_t timeout_ms = 0;
    for (const auto& [id, member] : group.members)
        timeout_ms = std::max<int64_t>(timeout_ms, member.rebalance_timeout_ms);
    group.join_not_before = initial ? now + initial_delay_micros_ : now;
    const uint64_t round = ++group.rebalance_round;
    const std::string id = group.id;
    auto on_timer = [this, id, round](bool timed_out) {
        auto found = groups_.find(id);
        if (found == groups_.end() || found->second.rebalance_round != round ||
            found->second.state != State::kPreparingRebalance) {
            return;
        }
        maybe_complete_join(found->second, timed_out);
    };
    if (initial && initial_delay_micros_ > 0) {
        loop_.add_timer(group.join_not_before, [on_timer] { on_timer(false); });
    }
    loop_.add_timer(now + std::max<int64_t>(timeout_ms, 1) * kMicrosPerMilli,
                    [on_timer] { on_timer(true); });
}

void GroupCoordinator::maybe_complete_join(Group& group, bool timed_out) {
    if (group.state != State::kPreparingRebalance) return;
    if (clock_.now_micros() < group.join_not_before && !timed_out) return;
    bool all_joined = true;
    for (const auto& [id, member] : group.members) {
        if (!member.pending_join) all_joined = false;
    }
    if (!all_joined && !timed_out) return;
    if (timed_out) {
        std::vector<std::string> gone;
        for (const auto& [id, member] : group.members) {
            if (!member.pending_join) gone.push_back(id);
        }
        for (const std::string& id : gone) group.members.erase(id);
    }
    complete_join(group);
}

void GroupCoordinator::complete_join(Group& group) {
    if (group.members.empty()) {
        group.state = State::kEmpty;
        group.leader.clear();
        group.protocol_name.clear();
        return;
    }
    ++group.generation;
    if (!group.members.contains(group.leader)) group.leader = group.members.begin()->first;
    // The first protocol of the leader's list that every member supports.
    group.protocol_name.clear();
    for (const auto& leader_protocol : group.members.at(group.leader).protocols) {
        const std::string& name = leader_protocol.first;
        bool everyone = true;
        for (const auto& [id, member] : group.members) {
            if (std::none_of(member.protocols.begin(), member.protocols.end(),
                             [&](const auto& protocol) { return protocol.first == name; })) {
                everyone = false;
            }
        }
        if (everyone) {
            group.protocol_name = name;
            break;
        }
    }
    if (group.protocol_name.empty()) {
        for (auto& [id, member] : group.members) {
            if (member.pending_join) {
                member.pending_join(
                    join_error(code(KafkaError::kInconsistentGroupProtocol), member.id));
            }
        }
        group.members.clear();
        group.state = State::kEmpty;
        return;
    }
    group.state = State::kCompletingRebalance;
    const int64_t now = clock_.now_micros();
    for (auto& [id, member] : group.members) {
        member.last_seen_micros = now;
        Struct reply(response_schema(ApiKey::kJoinGroup));
        reply.set("GenerationId", group.generation);
        reply.set("ProtocolName", group.protocol_name);
        reply.set("Leader", group.leader);
        reply.set("MemberId", id);
        if (id == group.leader) {
            for (const auto& [other_id, other] : group.members) {
                Struct& entry = reply.add("Members");
                entry.set("MemberId", other_id);
                if (other.instance_id) entry.set("GroupInstanceId", *other.instance_id);
                for (const auto& [name, metadata] : other.protocols) {
                    if (name == group.protocol_name) entry.set("Metadata", metadata);
                }
            }
        }
        Reply pending = std::move(member.pending_join);
        member.pending_join = nullptr;
        pending(std::move(reply));
    }
}

void GroupCoordinator::sync(const Struct& request, Reply reply) {
    auto found = groups_.find(request.string("GroupId"));
    if (found == groups_.end() || !found->second.members.contains(request.string("MemberId"))) {
        reply(error_reply(ApiKey::kSyncGroup, KafkaError::kUnknownMemberId));
        return;
    }
    Group& group = found->second;
    Member& member = group.members.at(request.string("MemberId"));
    member.last_seen_micros = clock_.now_micros();
    if (request.integer("GenerationId") != group.generation) {
        reply(error_reply(ApiKey::kSyncGroup, KafkaError::kIllegalGeneration));
        return;
    }
    if (group.state == State::kPreparingRebalance) {
        reply(error_reply(ApiKey::kSyncGroup, KafkaError::kRebalanceInProgress));
        return;
    }
    if (group.state == State::kStable) {
        Struct answer(response_schema(ApiKey::kSyncGroup));
        answer.set("Assignment", member.assignment);
        reply(std::move(answer));
        return;
    }
    if (member.pending_sync) {
        member.pending_sync(error_reply(ApiKey::kSyncGroup, KafkaError::kRebalanceInProgress));
    }
    member.pending_sync = std::move(reply);
    if (member.id != group.leader) return;
    for (auto& [id, other] : group.members) other.assignment.clear();
    for (const Struct& assignment : request.array("Assignments")) {
        auto target = group.members.find(assignment.string("MemberId"));
        if (target != group.members.end())
            target->second.assignment = assignment.string("Assignment");
    }
    group.state = State::kStable;
    for (auto& [id, other] : group.members) {
        if (!other.pending_sync) continue;
        Struct answer(response_schema(ApiKey::kSyncGroup));
        answer.set("Assignment", other.assignment);
        Reply pending = std::move(other.pending_sync);
        other.pending_sync = nullptr;
        pending(std::move(answer));
    }
}

void GroupCoordinator::heartbeat(const Struct& request, Reply reply) {
    auto found = groups_.find(request.string("GroupId"));
    if (found == groups_.end() || !found->second.members.contains(request.string("MemberId"))) {
        reply(error_reply(ApiKey::kHeartbeat, KafkaError::kUnknownMemberId));
        return;
    }
    Group& group = found->second;
    group.members.at(request.string("MemberId")).last_seen_micros = clock_.now_micros();
    if (request.integer("GenerationId") != group.generation) {
        reply(error_reply(ApiKey::kHeartbeat, KafkaError::kIllegalGeneration));
    } else if (group.state == State::kPreparingRebalance) {
        reply(error_reply(ApiKey::kHeartbeat, KafkaError::kRebalanceInProgress));
    } else {
        reply(error_reply(ApiKey::kHeartbeat, KafkaError::kNone));
    }
}

void GroupCoordinator::leave(const Struct& request, int16_t version, Reply reply) {
    Struct answer(response_schema(ApiKey::kLeaveGroup));
    auto found = groups_.find(request.string("GroupId"));
    std::vector<std::string> leaving;
    if (version <= 2) {
        leaving.push_back(request.string("MemberId"));
    } else {
        for (const Struct& member : request.array("Members"))
            leaving.push_back(member.string("MemberId"));
    }
    bool any_unknown = false;
    for (const std::string& id : leaving) {
        const bool known = found != groups_.end() && found->second.members.contains(id);
        if (!known) any_unknown = true;
        if (version >= 3) {
            Struct& entry = answer.add("Members");
            entry.set("MemberId", id);
            entry.set("ErrorCode", code(known ? KafkaError::kNone : KafkaError::kUnknownMemberId));
        }
        if (known) remove_member(found->second, id);
    }
    if (version <= 2 && any_unknown) answer.set("ErrorCode", code(KafkaError::kUnknownMemberId));
    reply(std::move(answer));
}

void GroupCoordinator::remove_member(Group& group, const std::string& member_id) {
    auto member = group.members.find(member_id);
    if (member == group.members.end()) return;
    if (member->second.pending_join) {
        member->second.pending_join(join_error(code(KafkaError::kUnknownMemberId), member_id));
    }
    if (member->second.pending_sync) {
        member->second.pending_sync(error_reply(ApiKey::kSyncGroup, KafkaError::kUnknownMemberId));
    }
    group.members.erase(member);
    if (group.members.empty()) {
        group.state = State::kEmpty;
        group.leader.clear();
        ++group.rebalance_round;  // forget pending timers
        return;
    }
    if (group.state == State::kPreparingRebalance) {
        maybe_complete_join(group, false);
    } else {
        prepare_rebalance(group, false);
    }
}

void GroupCoordinator::expire_sessions() {
    const int64_t now = clock_.now_micros();
    for (auto& [group_id, group] : groups_) {
        std::vector<std::string> expired;
        for (const auto& [id, member] : group.members) {
            // A member waiting in a join is bounded by the rebalance timeout instead.
            if (!member.pending_join &&
                now - member.last_seen_micros > member.session_timeout_ms * kMicrosPerMilli) {
                expired.push_back(id);
            }
        }
        for (const std::string& id : expired) remove_member(group, id);
    }
    loop_.add_timer(now + kExpiryCheckMicros, [this] { expire_sessions(); });
}

void GroupCoordinator::describe(const Struct& request, Reply reply) {
    Struct answer(response_schema(ApiKey::kDescribeGroups));
    for (const std::string& group_id : request.strings("Groups")) {
        Struct& entry = answer.add("Groups");
        entry.set("GroupId", group_id);
        auto found = groups_.find(group_id);
        if (found == groups_.end()) {
            entry.set("GroupState", std::string("Dead"));
            continue;
        }
        const Group& group = found->second;
        entry.set("GroupState", std::string(state_name(group.state)));
        entry.set("ProtocolType", group.protocol_type);
        entry.set("ProtocolData", group.protocol_name);
        for (const auto& [id, member] : group.members) {
            Struct& described = entry.add("Members");
            described.set("MemberId", id);
            if (member.instance_id) described.set("GroupInstanceId", *member.instance_id);
            described.set("ClientId", member.client_id);
            described.set("ClientHost", member.client_host);
            for (const auto& [name, metadata] : member.protocols) {
                if (name == group.protocol_name) described.set("MemberMetadata", metadata);
            }
            described.set("MemberAssignment", member.assignment);
        }
    }
    reply(std::move(answer));
}

void GroupCoordinator::list(Reply reply) {
    Struct answer(response_schema(ApiKey::kListGroups));
    for (const auto& [id, group] : groups_) {
        Struct& entry = answer.add("Groups");
        entry.set("GroupId", id);
        entry.set("ProtocolType", group.protocol_type);
    }
    reply(std::move(answer));
}

int16_t GroupCoordinator::check_commit(const std::string& group_id, int32_t generation,
                                       const std::string& member_id) {
    auto found = groups_.find(group_id);
    if (generation < 0 && member_id.empty()) {
        // A consumer without membership (assign(), kcat -C): allowed unless the group is in use.
        if (found == groups_.end() || found->second.members.empty()) return 0;
        return code(KafkaError::kUnknownMemberId);
    }
    if (found == groups_.end() || !found->second.members.contains(member_id)) {
        return code(KafkaError::kUnknownMemberId);
    }
    Group& group = found->second;
    group.members.at(member_id).last_seen_micros = clock_.now_micros();
    if (generation != group.generation) return code(KafkaError::kIllegalGeneration);
    if (group.state == State::kCompletingRebalance) return code(KafkaError::kRebalanceInProgress);
    return 0;
}

void GroupCoordinator::fail_pending() {
    for (auto& [group_id, group] : groups_) {
        for (auto& [id, member] : group.members) {
            if (member.pending_join) {
                member.pending_join(join_error(code(KafkaError::kCoordinatorNotAvailable), id));
                member.pending_join = nullptr;
            }
            if (member.pending_sync) {
                member.pending_sync(
                    error_reply(ApiKey::kSyncGroup, KafkaError::kCoordinatorNotAvailable));
                member.pending_sync = nullptr;
            }
        }
    }
}

}  // namespace millrace::kafka
