#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace millrace {

/// A folder under `<table>/_staging/` that one live writer owns. The owner holds an flock() on
/// `<folder>/.owner` for the object's life; the kernel drops it when the process dies (even by
/// kill -9), so a folder whose lock can be taken has no live owner:
///
///   _staging/<writer_id>/             named: the same writer id claims it again after a
///                                     restart and finishes or aborts what it pre-committed
///                                     (two-phase-commit recovery). Claiming it while another
///                                     live writer holds it fails with kUnavailable.
///   _staging/_tx-<label>-<token>/     private: one writer object's own files. Removed when the
///                                     object ends, and by sweep_abandoned() once its owner is
///                                     gone. Its files are never adopted by another commit.
///   _staging/.new-<token>/            a private folder being set up (locked, then renamed).
///
/// Move-only. Objects are independent: two in one process conflict as two processes would.
class StagingFolder {
public:
    static Result<StagingFolder> claim_named(const std::string& table_path,
                                             const std::string& writer_id);
    static Result<StagingFolder> claim_private(const std::string& table_path,
                                               std::string_view label);
    /// Removes the private folders of writers that are gone (crashed, killed, failed).
    static Status sweep_abandoned(const std::string& table_path);

    StagingFolder(StagingFolder&& other) noexcept;
    StagingFolder& operator=(StagingFolder&& other) noexcept;
    StagingFolder(const StagingFolder&) = delete;
    StagingFolder& operator=(const StagingFolder&) = delete;
    /// Releases the lock; a private folder is removed first.
    ~StagingFolder();

    const std::string& path() const { return path_; }

private:
    StagingFolder(std::string path, int fd, bool is_private)
        : path_(std::move(path)), fd_(fd), private_(is_private) {}
    void release();

    std::string path_;
    int fd_ = -1;
    bool private_ = false;
};

}  // namespace millrace
