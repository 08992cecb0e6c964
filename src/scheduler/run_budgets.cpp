#include "scheduler/run_budgets.h"

#include <algorithm>

namespace millrace {

std::string RunBudgets::key_of(const ActiveRun& run) {
    return run.record.job + (run.record.lane == "backfill" ? "/backfill" : "/live");
}

void RunBudgets::queue_run(const ActiveRun& run, const FindRun& find,
                           const std::function<void(ActiveRun&)>& start) {
    const std::string key = key_of(run);
    budgets_[key].waiting_runs.push_back(run.record.run_id);
    admit(key, find, start);
}

void RunBudgets::finish_run(const ActiveRun& run, const FindRun& find,
                            const std::function<void(ActiveRun&)>& start) {
    const std::string key = key_of(run);
    if (run.admitted) --budgets_[key].active_runs;
    admit(key, find, start);
}

void RunBudgets::admit(const std::string& key, const FindRun& find,
                       const std::function<void(ActiveRun&)>& start) {
    Budget& budget = budgets_[key];
    while (!budget.waiting_runs.empty()) {
        ActiveRun* run = find(budget.waiting_runs.front());
        if (run == nullptr) {
            budget.waiting_runs.pop_front();
            continue;
        }
        const int limit =
            run->record.lane == "backfill" ? backfill_max_active_runs_ : run->job->max_active_runs;
        if (budget.active_runs >= limit) break;
        budget.waiting_runs.pop_front();
        ++budget.active_runs;
        run->admitted = true;
        start(*run);
    }
}

void RunBudgets::push_ready(const ActiveRun& run, std::size_t task) {
    const std::string key = key_of(run);
    budgets_[key].ready.push_back(ReadyTask{run.record.run_id, task});
    dirty_.insert(key);
}

void RunBudgets::dispatch(const FindRun& find,
                          const std::function<void(ActiveRun&, std::size_t)>& launch) {
    while (!dirty_.empty()) {
        const std::string key = *dirty_.begin();
        dirty_.erase(dirty_.begin());
        Budget& budget = budgets_[key];
        std::size_t blocked = 0;
        while (budget.ready.size() > blocked) {
            ReadyTask ready = budget.ready[blocked];
            ActiveRun* run = find(ready.run_id);
            if (run == nullptr) {
                budget.ready.erase(budget.ready.begin() + static_cast<std::ptrdiff_t>(blocked));
                continue;
            }
            if (budget.active_tasks >= run->job->max_active_tasks) break;
            const TaskDefinition& task = run->job->tasks[ready.task];
            if (!task.pool.empty() && !pool_has_room(task.pool)) {
                ++blocked;  // another task of this budget may use another pool
                continue;
            }
            budget.ready.erase(budget.ready.begin() + static_cast<std::ptrdiff_t>(blocked));
            ++budget.active_tasks;
            if (!task.pool.empty()) ++pool_used_[task.pool];
            run->tasks[ready.task].queued = false;
            launch(*run, ready.task);
        }
    }
}

bool RunBudgets::pool_has_room(const std::string& pool) {
    int size = 0;
    for (const auto& [name, job] : jobs_) {
        if (auto it = job->pools.find(pool); it != job->pools.end()) {
            size = std::max(size, it->second);
        }
    }
    if (size == 0) size = 1;  // a pool no job sizes: one slot
    return pool_used_[pool] < size;
}

void RunBudgets::release_task(const ActiveRun& run, std::size_t task) {
    const std::string key = key_of(run);
    --budgets_[key].active_tasks;
    dirty_.insert(key);
    const std::string& pool = run.job->tasks[task].pool;
    if (!pool.empty()) {
        --pool_used_[pool];
        // Other budgets may wait for this pool.
        for (auto& [other, budget] : budgets_) {
            if (!budget.ready.empty()) dirty_.insert(other);
        }
    }
}

}  // namespace millrace
