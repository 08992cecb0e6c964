#include "pipeline/commit_counter.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <random>

#include "common/durable_file.h"
#include "common/file_lock.h"
#include "common/mapped_file.h"

namespace millrace {

std::string pipeline_state_folder(const std::string& data_dir, const std::string& pipeline) {
    std::string folder_name;
    for (char c : pipeline) {
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        folder_name += plain ? c : '-';
    }
    if (folder_name.empty() || folder_name == "." || folder_name == "..") folder_name = "-";
    return fmt::format("{}/pipelines/{}", data_dir, folder_name);
}

Result<std::string> pipeline_folder(const std::string& data_dir, const std::string& pipeline) {
    std::string folder = pipeline_state_folder(data_dir, pipeline);
    MILLRACE_TRY(create_directories_durably(folder));
    return folder;
}

Result<FileLock> lock_streaming_run(const std::string& data_dir, const std::string& pipeline) {
    MILLRACE_ASSIGN_OR_RETURN(const std::string folder, pipeline_folder(data_dir, pipeline));
    const std::string path = folder + "/streaming.lock";
    Result<FileLock> lock =
        FileLock::try_acquire(path, fmt::format("millrace: streaming pipeline {}", pipeline));
    if (!lock.ok()) {
        return Error(ErrorCode::kUnavailable,
                     fmt::format("pipeline `{}` is already running on this data directory in {}: "
                                 "stop it first (a second run would checkpoint over its state)",
                                 pipeline, FileLock::describe_holder(FileLock::read_holder(path))));
    }
    return lock;
}

Result<uint64_t> next_commit_id(const std::string& data_dir, const std::string& pipeline) {
    return reserve_commit_ids(data_dir, pipeline, 1);
}

Result<uint64_t> reserve_commit_ids(const std::string& data_dir, const std::string& pipeline,
                                    uint64_t count) {
    MILLRACE_ASSIGN_OR_RETURN(const std::string folder, pipeline_folder(data_dir, pipeline));
    std::error_code error;
    const std::string lock_path = folder + "/commit_id.lock";
    MILLRACE_ASSIGN_OR_RETURN(FileLock lock, FileLock::acquire_waiting(lock_path, "commit id"));
    const std::string path = folder + "/commit_id";
    uint64_t last = 0;
    if (std::filesystem::exists(path, error)) {
        MILLRACE_ASSIGN_OR_RETURN(std::string text, read_file(path));
        while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
        auto [end, parsed] = std::from_chars(text.data(), text.data() + text.size(), last);
        if (parsed != std::errc() || end != text.data() + text.size()) {
            return Error(ErrorCode::kCorruption,
                         fmt::format("{} does not hold a commit id (`{}`); it is rewritten by "
                                     "the next run once removed",
                                     path, text));
        }
    }
    const uint64_t next = last + 1;
    MILLRACE_TRY(
        write_file_durably(path, fmt::format("{}\n", last + std::max<uint64_t>(count, 1))));
    return next;
}

Result<std::string> kafka_transactional_id(const std::string& data_dir,
                                           const std::string& pipeline) {
    MILLRACE_ASSIGN_OR_RETURN(const std::string folder, pipeline_folder(data_dir, pipeline));
    const std::string path = folder + "/kafka_transactional_id";
    std::error_code error;
    if (std::filesystem::exists(path, error)) {
        MILLRACE_ASSIGN_OR_RETURN(std::string text, read_file(path));
        while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
        if (text.empty() || text.find_first_of(" \n") != std::string::npos) {
            return Error(ErrorCode::kCorruption,
                         fmt::format("{} does not hold a transactional.id (`{}`)", path, text));
        }
        return text;
    }
    std::random_device random;
    const uint64_t suffix = (static_cast<uint64_t>(random()) << 32) | random();
    std::string id = fmt::format("millrace-{}-{:016x}",
                                 std::filesystem::path(folder).filename().string(), suffix);
    MILLRACE_TRY(write_file_durably(path, id + "\n"));
    return id;
}

}  // namespace millrace
