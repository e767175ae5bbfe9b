// SPDX-License-Identifier: LGPL-2.1-or-later
// `shmframe bench`: runs the benchmark suite's script (tests/bench/run.sh), which
// prints its own table. Found through $SHMFRAME_BENCH_SCRIPT, the installed suite
// (libexec/shmframe/bench, relative to this executable), or the source tree this
// binary was built from.
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <memory>
#include <vector>

#include "cli.h"
#include "tools_config.h"

namespace shmframe::cli {
namespace {

struct BenchOptions {
    std::vector<std::string> args;
    bool dryRun = false;
};

bool isFile(const std::string& path) {
    struct stat info {};
    return stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

std::string selfPath() {
    char path[PATH_MAX];
    const ssize_t length = readlink("/proc/self/exe", path, sizeof path - 1);
    if (length <= 0) {
        return {};
    }
    return std::string(path, static_cast<std::size_t>(length));
}

std::string parentOf(const std::string& path) {
    const auto slash = path.find_last_of('/');
    return slash == std::string::npos ? "." : path.substr(0, slash);
}

std::vector<std::string> candidateScripts() {
    std::vector<std::string> candidates;
    if (const char* fromEnv = getenv("SHMFRAME_BENCH_SCRIPT"); fromEnv && *fromEnv) {
        candidates.emplace_back(fromEnv);
        return candidates;  // asked for explicitly: no fallback that would hide a typo
    }
    const std::string self = selfPath();
    if (!self.empty()) {
        candidates.push_back(parentOf(self) + "/" + SHMFRAME_TOOLS_BENCH_FROM_BINDIR + "/run.sh");
    }
    candidates.push_back(std::string(SHMFRAME_TOOLS_SOURCE_DIR) + "/tests/bench/run.sh");
    return candidates;
}

int runBench(const BenchOptions& options) {
    const std::vector<std::string> candidates = candidateScripts();
    std::string script;
    for (const std::string& candidate : candidates) {
        if (isFile(candidate)) {
            script = candidate;
            break;
        }
    }
    if (script.empty()) {
        std::string looked;
        for (const std::string& candidate : candidates) {
            looked += "\n  " + candidate;
        }
        printError("bench",
                   "the benchmark suite is not available: no run.sh found. Looked at:" + looked +
                       "\nSet SHMFRAME_BENCH_SCRIPT to the suite's run.sh, or build "
                       "shmframe from a source tree that has tests/bench/run.sh.");
        return kExitRuntime;
    }
    if (options.dryRun) {
        std::cout << script << '\n';
        return kExitOk;
    }
    // The suite finds the binaries of the build this CLI belongs to through these.
    const std::string self = selfPath();
    if (!self.empty()) {
        setenv("SHMFRAME_CLI", self.c_str(), 0);
        if (parentOf(self) == std::string(SHMFRAME_TOOLS_BINARY_DIR) + "/tools") {
            setenv("SHMFRAME_BUILD_DIR", SHMFRAME_TOOLS_BINARY_DIR, 0);
        }
    }
    // Run it by its own #! line when executable, else with sh.
    const bool executable = access(script.c_str(), X_OK) == 0;
    std::vector<std::string> argvStrings = {executable ? script : "/bin/sh"};
    if (!executable) {
        argvStrings.push_back(script);
    }
    argvStrings.insert(argvStrings.end(), options.args.begin(), options.args.end());
    std::vector<char*> argv;
    for (std::string& arg : argvStrings) {
        argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    std::cout.flush();
    execv(argvStrings[0].c_str(), argv.data());
    printError("bench", "could not run " + script + ": " + std::strerror(errno));
    return kExitRuntime;
}

}  // namespace

void addBenchCommand(CLI::App& app, Action& action) {
    auto options = std::make_shared<BenchOptions>();
    CLI::App* command = app.add_subcommand(
        "bench",
        "Run the benchmark suite (tests/bench/run.sh) and print its table; extra "
        "arguments go to the suite: --quick (seconds, one size), --out DIR, --runs N, "
        "--update-doc (docs/benchmarks.md), --check. See docs/benchmarks.md");
    command->add_flag("--which", options->dryRun, "Only print which script would run");
    command->fallthrough(false);
    command->allow_extras();
    command->callback([options, command, &action] {
        options->args = command->remaining();
        action = [options] { return runBench(*options); };
    });
}

}  // namespace shmframe::cli
