#pragma once

namespace millrace {

/// The `millrace` command line: parses argv, runs the subcommand, returns the exit code.
int run_cli(int argc, char** argv);

}  // namespace millrace
