#pragma once

#include <cstdint>

#include "connectors/sink.h"

namespace millrace {

/// pre_commit then commit, as a run does for a sink of its own.
inline Status commit_once(Sink& sink, uint64_t commit_id = 1) {
    MILLRACE_TRY(sink.pre_commit(commit_id));
    return sink.commit(commit_id);
}

}  // namespace millrace
