#pragma once

#include <cstdio>
#include <span>
#include <string>

#include "common/result.h"

namespace millrace {

/// A file a user names as an output, which appears whole or not at all. Bytes go to a temporary
/// file in the output's own folder (`<path>.tmp-<pid>-<n>`, so the final rename never crosses
/// file systems); commit() flushes and fsyncs it, renames it over the path and fsyncs the folder.
/// Destroyed without commit() (a failed or interrupted run), it removes the temporary file and
/// leaves whatever was at the path untouched.
///
/// create() refuses an output that is one of the inputs (the same device and inode: the same
/// name, a symlink or a hard link to it), since writing it would destroy the data being read.
/// A symlink as the output is followed: its target is replaced, the link stays.
///
/// Move-only; one thread at a time.
class StagedOutput {
public:
    static Result<StagedOutput> create(const std::string& path,
                                       std::span<const std::string> inputs = {});
    StagedOutput(StagedOutput&& other) noexcept;
    StagedOutput& operator=(StagedOutput&& other) = delete;
    StagedOutput(const StagedOutput&) = delete;
    StagedOutput& operator=(const StagedOutput&) = delete;
    ~StagedOutput();

    /// The path given to create().
    const std::string& path() const { return path_; }
    /// Where to write, for writers that open files by name (Parquet); they must close it
    /// before commit().
    const std::string& temp_path() const { return temp_path_; }
    /// Opens the temporary file as a stream (once; later calls return the same stream).
    Result<std::FILE*> stream();
    /// Makes the output visible: closes the stream if open (flush, fsync), renames, fsyncs the
    /// folder.
    Status commit();

private:
    StagedOutput(std::string path, std::string target, std::string temp_path)
        : path_(std::move(path)), target_(std::move(target)), temp_path_(std::move(temp_path)) {}

    std::string path_;
    std::string target_;  // path_ with symlinks resolved
    std::string temp_path_;
    std::FILE* file_ = nullptr;
    bool committed_ = false;
    bool moved_ = false;
};

/// kInvalidArgument when `output` exists and is one of `inputs` (the same device and inode, so
/// a symlink or hard link to an input counts). "-" (a standard stream) is never a match.
Status refuse_input_as_output(const std::string& output, std::span<const std::string> inputs);

}  // namespace millrace
