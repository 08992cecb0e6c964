#include "connectors/sink.h"

#include <fmt/format.h>

namespace millrace {

std::string_view delivery_guarantee_name(DeliveryGuarantee guarantee) {
    switch (guarantee) {
        case DeliveryGuarantee::kTransactional:
            return "transactional";
        case DeliveryGuarantee::kIdempotent:
            return "idempotent";
        case DeliveryGuarantee::kAtLeastOnce:
            return "at-least-once";
    }
    return "?";
}

Status CommitIds::check_pre_commit(uint64_t id) const {
    if (id == 0 || id <= committed_) {
        return Error(
            ErrorCode::kInvalidArgument,
            fmt::format("commit id {} is not newer than the last commit ({})", id, committed_));
    }
    return {};
}

Result<bool> CommitIds::check_commit(uint64_t id) const {
    if (id != 0 && id == committed_) return true;
    if (id == 0 || id != pre_committed_) {
        return Error(ErrorCode::kInvalidArgument,
                     fmt::format("commit {} was not pre-committed", id));
    }
    return false;
}

}  // namespace millrace
