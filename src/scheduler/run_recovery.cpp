#include "scheduler/run_recovery.h"

#include "scheduler/child_process.h"
#include "scheduler/http_tasks.h"

namespace millrace {

Status rebuild_run_from_store(ActiveRun& run, StateStore& store, ResumeMode mode,
                              const std::string& rerun_task, const Clock& clock,
                              const std::function<void(const std::string&)>& emit) {
    const JobDefinition& job = *run.job;
    MILLRACE_ASSIGN_OR_RETURN(std::vector<TaskRecord> stored,
                              store.tasks_of_run(run.record.run_id));
    MILLRACE_ASSIGN_OR_RETURN(std::vector<AttemptRecord> attempts,
                              store.attempts_of_run(run.record.run_id));
    std::vector<bool> reset(job.tasks.size(), false);
    if (mode != ResumeMode::kRecover) {
        // The tasks to run again: failed ones (or the named one) and all their downstream.
        std::vector<std::size_t> stack;
        for (const TaskRecord& t : stored) {
            auto index = job.task_index(t.task);
            if (!index) continue;
            const bool chosen =
                mode == ResumeMode::kRerunFailed
                    ? (t.state == TaskState::kFailed || t.state == TaskState::kUpstreamFailed)
                    : t.task == rerun_task;
            if (chosen) stack.push_back(*index);
        }
        while (!stack.empty()) {
            const std::size_t i = stack.back();
            stack.pop_back();
            if (reset[i]) continue;
            reset[i] = true;
            for (std::size_t d : job.tasks[i].downstream) stack.push_back(d);
        }
    }
    for (const TaskRecord& t : stored) {
        auto index = job.task_index(t.task);
        if (!index) continue;
        TaskSlot& slot = run.tasks[*index];
        slot.attempt = t.attempts;
        slot.first_attempt = t.attempts + 1;
        slot.started = t.started_at;
        slot.finished = t.finished_at;
        slot.log_path = t.log_path;
        slot.message = t.message;
        slot.state = t.state;
        if (reset[*index]) {
            slot.state = TaskState::kPending;
            slot.message.clear();
            continue;
        }
        if (t.state == TaskState::kRunning) {
            // Its scheduler died: kill what it left running, then retry or fail.
            for (const AttemptRecord& a : attempts) {
                if (a.task != t.task || a.attempt != t.attempts ||
                    a.state != AttemptState::kRunning) {
                    continue;
                }
                if (a.pid > 0 && kill_process_group(static_cast<pid_t>(a.pid))) {
                    append_log(a.log_path,
                               "millrace: scheduler restarted; killed the orphaned process group");
                }
                AttemptRecord orphaned = a;
                orphaned.state = AttemptState::kOrphaned;
                orphaned.finished_at = clock.now_micros();
                orphaned.message = "the scheduler stopped while this attempt ran";
                MILLRACE_TRY(store.save_attempt(orphaned));
            }
            if (job.on_orphan == OrphanPolicy::kRetry) {
                slot.state = TaskState::kPending;
                emit("task " + t.task + " of " + run.record.run_id +
                     " was orphaned by a stopped scheduler; retrying");
            } else {
                slot.state = TaskState::kFailed;
                slot.message = "orphaned: the scheduler stopped while it ran";
            }
        } else if (!is_terminal(t.state)) {
            slot.state = TaskState::kPending;
        }
    }
    // Recompute the DAG counters from the states.
    run.unfinished = 0;
    for (std::size_t i = 0; i < run.tasks.size(); ++i) {
        TaskSlot& slot = run.tasks[i];
        slot.waiting_upstream = 0;
        for (std::size_t u : job.tasks[i].upstream) {
            if (!is_satisfied(run.tasks[u].state)) ++slot.waiting_upstream;
        }
        if (!is_terminal(slot.state)) ++run.unfinished;
    }
    return {};
}

}  // namespace millrace
