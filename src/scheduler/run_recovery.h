#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "scheduler/active_run.h"
#include "scheduler/state_store.h"

namespace millrace {

/// Which tasks of a stored run to run again.
enum class ResumeMode {
    kRecover,      // a run whose scheduler died: keep failures, deal with orphaned attempts
    kRerunFailed,  // `rerun`: failed and upstream-failed tasks and their downstream
    kRerunTask,    // `rerun --task`: that task and its downstream
};

/// Rebuilds the task slots of a stored run (interrupted, or finished for a re-run) from the
/// state store, for a run whose `job`, `zone` and `record` are set and whose slots are fresh:
///   - tasks chosen for a re-run go back to pending with a fresh retry budget;
///   - on recovery, an attempt left `running` by a scheduler that is gone is an orphan: its
///     process group is killed, the attempt stored as `orphaned`, and the task retried or
///     failed per the job's `on_orphan`;
///   - anything else not finished goes back to pending.
/// Then the DAG counters (waiting upstream, unfinished) are recomputed from the states.
/// Writes the orphaned attempts; a failed write is returned (the caller stops scheduling).
Status rebuild_run_from_store(ActiveRun& run, StateStore& store, ResumeMode mode,
                              const std::string& rerun_task, const Clock& clock,
                              const std::function<void(const std::string&)>& emit);

}  // namespace millrace
