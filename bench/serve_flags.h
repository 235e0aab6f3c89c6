// The flags a benchmark passes on to the `muster serve` it starts, declared once for
// every benchmark:
//
//   ServeFlags serve;
//   serve.Add(app);                        // --io-threads, --cpu-policy, --cpu-idle
//   CLI11_PARSE(app, argc, argv);
//   MusterProcess muster({..., ..., serve.Args("warn")});
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace muster::bench {

struct ServeFlags {
  int io_threads = 0;                // 0: the serve's default
  std::string cpu_policy = "batch";  // the serve's default
  std::string cpu_idle = "sleep";    // the serve's default

  // `policy_note` ends the --cpu-policy help: what else the benchmark runs at it.
  void Add(CLI::App& app, const std::string& policy_note = "") {
    app.add_option("--io-threads", io_threads, "--io-threads of the muster serve it starts")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--cpu-policy", cpu_policy,
                   "--cpu-policy of the muster serve it starts" + policy_note)
        ->check(CLI::IsMember({"batch", "normal"}))
        ->capture_default_str();
    app.add_option("--cpu-idle", cpu_idle,
                   "--cpu-idle of the muster serve it starts (poll: this machine's idle CPUs "
                   "spin instead of halting while it serves; needs root)")
        ->check(CLI::IsMember({"sleep", "poll"}))
        ->capture_default_str();
  }

  // The serve's arguments, at `log_level`.
  std::vector<std::string> Args(const std::string& log_level) const {
    std::vector<std::string> args = {"--log-level", log_level};
    args.insert(args.end(), {"--cpu-policy", cpu_policy, "--cpu-idle", cpu_idle});
    if (io_threads > 0) args.insert(args.end(), {"--io-threads", std::to_string(io_threads)});
    return args;
  }
};

}  // namespace muster::bench
