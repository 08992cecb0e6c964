#pragma once

#include <cstddef>
#include <string>

#include "common/result.h"

namespace millrace {

/// Reads a whole (small) file into memory: configuration, SQL, reference data for tests.
/// Errors carry the path as their location's file: kNotFound when it does not exist,
/// kResourceExhausted when it is larger than `max_bytes`, kIo for anything else the operating
/// system refuses (a directory, no permission).
Result<std::string> read_text_file(const std::string& path, std::size_t max_bytes);

}  // namespace millrace
