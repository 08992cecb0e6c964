#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace millrace {

// Every file and folder change that must survive a crash goes through these functions: the log's
// metadata, the lake's manifests and staged files, consumer offsets and the outputs users name.
// The protocol is always the same: write a temporary file beside the target, fsync it, rename it
// over the target, fsync the folder (a rename is only durable once its folder is). Folders created
// on the way are fsynced into their parents. Outputs too large to hold in memory stream into a
// temporary file of their own (connectors/staged_output.h) and finish with sync_file() and
// rename_durably().

/// An Error of kind kIo for the current errno: "<what>: <strerror>".
Error io_error(std::string_view what);

/// The folder holding `path`: "." for a bare name, "/" for an entry of the root.
std::string parent_directory(const std::string& path);

/// fsyncs a folder, so that the entries created, renamed or removed in it survive a crash.
Status sync_directory(const std::string& path);

/// Creates `path` and its missing parents (like mkdir -p), syncing each folder that gained an
/// entry.
Status create_directories_durably(const std::string& path);

/// Creates the missing folders above the file `path` (nothing for a bare file name).
Status create_parent_directories_durably(const std::string& path);

/// `<path>.tmp-<pid>-<n>`: a temporary name beside `path`, unique to this call, so that
/// concurrent writers of one path (two processes creating one table) never rename each other's
/// half-written file, and the final rename never crosses file systems.
std::string unique_temporary_path(const std::string& path);

/// fsyncs the file at `path` (written by name by another writer, such as the Parquet writer).
Status sync_file(const std::string& path);

/// Replaces the file at `path` with `bytes` so that after a crash it holds either the old or the
/// new bytes, never a mix: writes unique_temporary_path(path), fsyncs it, renames it over `path`
/// and fsyncs the folder. The temporary file is removed on failure.
Status write_file_durably(const std::string& path, std::string_view bytes);

/// rename(2), then fsync of the destination's folder (and of the source's when it differs).
Status rename_durably(const std::string& from, const std::string& to);

}  // namespace millrace
