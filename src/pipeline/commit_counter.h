#pragma once

#include <cstdint>
#include <string>

#include "common/file_lock.h"
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

/// pipeline_state_folder(), created if missing.
Result<std::string> pipeline_folder(const std::string& data_dir, const std::string& pipeline);

/// Taken by a streaming run for as long as it runs (`streaming.lock` in the pipeline's folder):
/// a second run of the same pipeline on the same data directory (another `millrace run`, a
/// `serve` running it) would restore, checkpoint and commit over the first's, so it is refused
/// (kUnavailable, naming the process that runs it). A killed run's lock goes with it.
Result<FileLock> lock_streaming_run(const std::string& data_dir, const std::string& pipeline);

/// Takes `count` consecutive ids at once (the first is returned; the file then holds the
/// last), so that a streaming run checkpointing every few milliseconds does not pay a lock and
/// two fsyncs per checkpoint. Ids of a block that a run did not use are skipped: the next run
/// starts after the block.
Result<uint64_t> reserve_commit_ids(const std::string& data_dir, const std::string& pipeline,
                                    uint64_t count);

/// The transactional.id of the pipeline's Kafka transaction (connectors/kafka_transaction.h):
/// `millrace-<pipeline>-<16 hex digits>`, made up by the first streaming run that writes a
/// `kafka:` sink and kept in `<data_dir>/pipelines/<pipeline>/kafka_transactional_id`. Stable
/// across runs, so a restart fences the dead run's producer and ends its transaction; distinct
/// per data directory, so processes scaled out with their own data directories (and the same
/// pipeline) never fence each other.
Result<std::string> kafka_transactional_id(const std::string& data_dir,
                                           const std::string& pipeline);

}  // namespace millrace
