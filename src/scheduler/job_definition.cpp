#include "scheduler/job_definition.h"

namespace millrace {

std::string_view enum_name(TaskKind kind) {
    switch (kind) {
        case TaskKind::kPipeline:
            return "pipeline";
        case TaskKind::kShell:
            return "shell";
        case TaskKind::kHttp:
            return "http";
        case TaskKind::kWaitForFile:
            return "wait_for_file";
        case TaskKind::kMaterialize:
            return "materialize";
        case TaskKind::kCompact:
            return "compact";
    }
    return "?";
}

const TaskDefinition* JobDefinition::find_task(std::string_view task_name) const {
    for (const TaskDefinition& task : tasks) {
        if (task.name == task_name) return &task;
    }
    return nullptr;
}

std::optional<std::size_t> JobDefinition::task_index(std::string_view task_name) const {
    for (std::size_t i = 0; i < tasks.size(); ++i) {
        if (tasks[i].name == task_name) return i;
    }
    return std::nullopt;
}

}  // namespace millrace
