#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "scheduler/active_run.h"

namespace millrace {

/// Concurrency accounting: active runs and tasks per job and lane class (backfill runs have a
/// budget of their own, so they never starve scheduled runs), and slots per pool. Runs wait
/// for admission in arrival order; ready tasks wait for a slot. Only budgets that changed
/// since the last dispatch() are looked at, so nothing rescans all tasks.
///
/// Threads: the event loop's only.
class RunBudgets {
public:
    using JobMap = std::map<std::string, std::shared_ptr<const JobDefinition>>;
    using FindRun = std::function<ActiveRun*(const std::string& run_id)>;

    RunBudgets(const JobMap& jobs, int backfill_max_active_runs)
        : jobs_(jobs), backfill_max_active_runs_(backfill_max_active_runs) {}

    /// Queues a run for admission and admits what its budget has room for.
    void queue_run(const ActiveRun& run, const FindRun& find,
                   const std::function<void(ActiveRun&)>& start);
    /// A run ended: frees its slot and admits the next waiting ones.
    void finish_run(const ActiveRun& run, const FindRun& find,
                    const std::function<void(ActiveRun&)>& start);
    /// Queues a ready task for a slot.
    void push_ready(const ActiveRun& run, std::size_t task);
    /// Starts ready tasks while their job and pool have room.
    void dispatch(const FindRun& find, const std::function<void(ActiveRun&, std::size_t)>& launch);
    /// A task attempt ended: frees its slots.
    void release_task(const ActiveRun& run, std::size_t task);

private:
    struct ReadyTask {
        std::string run_id;
        std::size_t task;
    };
    struct Budget {
        int active_runs = 0;
        int active_tasks = 0;
        std::deque<std::string> waiting_runs;
        std::deque<ReadyTask> ready;
    };

    static std::string key_of(const ActiveRun& run);
    void admit(const std::string& key, const FindRun& find,
               const std::function<void(ActiveRun&)>& start);
    bool pool_has_room(const std::string& pool);

    const JobMap& jobs_;
    int backfill_max_active_runs_;
    std::map<std::string, Budget> budgets_;
    std::set<std::string> dirty_;
    std::map<std::string, int> pool_used_;
};

}  // namespace millrace
