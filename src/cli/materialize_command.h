#pragma once

#include <string>
#include <vector>

namespace millrace {

struct MaterializeCommandOptions {
    std::string project_dir;
    std::vector<std::string> views;  // empty = every view whose source is a lake table
    std::string since;               // RFC 3339 timestamp or a duration back from now ("7d")
    bool rebuild = false;
};

/// `millrace materialize <project> [view...] [--since T] [--rebuild]`: loads feature views from
/// their lake tables into the online store (`<data_dir>/online`). When a `millrace serve`
/// holds the store, asks that server to do it (`POST /v1/admin/materialize/{view}`). --rebuild
/// drops the views' rows first (needed after a view's features changed), and moves a corrupt
/// store aside to start a new one. Exit 0 on success, 1 on any error.
int run_materialize_command(const MaterializeCommandOptions& options);

}  // namespace millrace
