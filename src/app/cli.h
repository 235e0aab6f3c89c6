// The `muster` command line: one executable, a verb per subcommand.
#pragma once

namespace muster::app {

// Parses argv, runs the verb, returns the process exit code.
int RunCli(int argc, char** argv);

}  // namespace muster::app
