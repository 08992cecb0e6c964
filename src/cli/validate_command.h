#pragma once

#include <string>
#include <vector>

namespace millrace {

/// `millrace validate <project-dir>`: loads the project and every included file, prints every
/// error as file:line:column, returns 1 when there is any.
int run_validate(const std::string& project_dir, const std::vector<std::string>& vars = {});

}  // namespace millrace
