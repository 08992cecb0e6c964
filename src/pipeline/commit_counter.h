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

/// Takes `count` consecutive ids at once (the first is returned; the file then holds the
/// last), so that a streaming run checkpointing every few milliseconds does not pay a lock and
/// two fsyncs per checkpoint. Ids of a block that a run did not use are skipped: the next run
/// starts after the block.
Result<uint64_t> reserve_commit_ids(const std::string& data_dir, const std::string& pipeline,
                                    uint64_t count);

}  // namespace millrace
