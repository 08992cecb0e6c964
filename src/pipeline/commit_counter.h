#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"

namespace millrace {

/// Hands out the commit ids of a pipeline's runs: 1, 2, 3, ... persisted in
/// `<data_dir>/pipelines/<pipeline>/commit_id`, so ids keep growing across runs, processes and
/// clock changes (a wall clock can step back; this counter cannot). Concurrent runs of one
/// pipeline (a backfill) take turns under an flock on `commit_id.lock` and never share an id.
/// The new value is written through a temporary file and a rename, so a crash leaves the old
/// value or the new one.
Result<uint64_t> next_commit_id(const std::string& data_dir, const std::string& pipeline);

/// `<data_dir>/pipelines/<pipeline>`: the folder of a pipeline's commit state (the commit id
/// above, the snapshots its incremental lake sources processed). Characters other than letters,
/// digits, `-`, `_` and `.` in the name become `-`.
std::string pipeline_state_folder(const std::string& data_dir, const std::string& pipeline);

}  // namespace millrace
