#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace millrace {

/// fsyncs a folder, so that the entries created, renamed or removed in it survive a crash.
/// (log/atomic_file.h has the same helpers for the log; the two could move to common/.)
Status sync_folder(const std::string& path);

/// Creates `path` and its missing parents, syncing each parent that gained an entry.
Status create_directories_durably(const std::string& path);

/// Writes a temporary file unique to this call (`<path>.tmp-<pid>-<n>`), fsyncs it, renames it
/// over `path` and fsyncs the folder, so that after a crash the file holds either its old or its
/// new bytes and the rename is not lost, and concurrent writers of one path never collide.
Status write_file_durably(const std::string& path, std::string_view bytes);

/// rename(2) then fsync of the destination's folder (and the source's when it differs).
Status rename_durably(const std::string& from, const std::string& to);

}  // namespace millrace
