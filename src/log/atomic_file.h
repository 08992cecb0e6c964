#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace millrace {

/// Replaces the file at `path` with `contents` so that after a crash it holds either the old or
/// the new contents, never a mix: writes `<path>.tmp`, fsyncs it, renames it over `path` and
/// fsyncs the directory.
Status write_file_atomically(const std::string& path, std::string_view contents);

/// fsyncs a directory, making the creation, rename or removal of its entries durable.
Status sync_directory(const std::string& path);

/// An Error of kind kIo for the current errno: "<what>: <strerror>".
Error io_error(std::string_view what);

}  // namespace millrace
