// SPDX-License-Identifier: LGPL-2.1-or-later
// `shmframe`: list, inspect, watch, snapshot and publish shmframe feeds.
#include <signal.h>
#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "cli.h"
#include "shmframe/version.h"

int main(int argc, char** argv) {
    using namespace shmframe::cli;

    CLI::App app{"shmframe: list, inspect, watch, snapshot and publish shared-memory video feeds",
                 "shmframe"};
    app.set_version_flag("--version", std::string("shmframe ") + SHMFRAME_VERSION_STRING +
                                          " (protocol " +
                                          std::to_string(shmframe::kProtocolVersion) + ")");
    std::string feedDir;
    app.add_option("--dir", feedDir,
                   "Feed directory to use instead of $SHMFRAME_DIR, $XDG_RUNTIME_DIR/shmframe "
                   "or ${TMPDIR:-/tmp}/shmframe-UID");
    app.footer(
        "Exit codes: 0 ok, 1 runtime error (no writer, timeout, I/O), 2 usage error.\n"
        "Run 'shmframe COMMAND --help' for the options of a command.\n");
    // Options of the main app (--dir) are accepted after the command name too.
    app.fallthrough();

    Action action;
    addListCommand(app, action);
    addInfoCommand(app, action);
    addStatsCommand(app, action);
    addSnapshotCommand(app, action);
    addPublishCommand(app, action);
    addBenchCommand(app, action);
    addServeCommand(app, action);
    addTopCommand(app, action);
    addWebCommand(app, action);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        return reportUsageError(app, e);
    }
    if (!action) {
        std::cerr << app.help() << "\nshmframe: error: a command is required\n";
        return kExitUsage;
    }
    if (!feedDir.empty()) {
        setenv("SHMFRAME_DIR", feedDir.c_str(), 1);
    }
    // A reader that vanishes must not kill us through a write to its socket.
    signal(SIGPIPE, SIG_IGN);
    const int status = action();
    // Output that could not be written (stdout closed, a full disk) is an error, not
    // success; a pipe whose reader left early (`| head`) is not worth a message.
    errno = 0;
    std::cout.flush();
    if (!std::cout && errno != EPIPE) {
        std::cerr << "shmframe: error: could not write to standard output"
                  << (errno ? std::string(": ") + std::strerror(errno) : std::string()) << '\n';
        return status == 0 ? kExitRuntime : status;
    }
    return status;
}
