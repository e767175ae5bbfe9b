// SPDX-License-Identifier: LGPL-2.1-or-later
// What the `shmframe` commands share: exit codes, error reporting, stop signals,
// value parsing and the JSON form of a feed. Each command lives in its own cmd_*.cpp.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "shmframe/clock.h"
#include "shmframe/error.h"
#include "shmframe/feed.h"
#include "shmframe/format.h"

namespace shmframe::cli {

/// Exit codes, as docs/cli.md documents them.
enum ExitCode : int {
    kExitOk = 0,       ///< done
    kExitRuntime = 1,  ///< the command could not do its job: no writer, timeout, I/O ...
    kExitUsage = 2,    ///< bad command line: unknown option, bad size, format, feed name ...
};

/// What main() runs after parsing: the selected command, bound to its options.
using Action = std::function<int()>;

void addListCommand(CLI::App& app, Action& action);
void addInfoCommand(CLI::App& app, Action& action);
void addStatsCommand(CLI::App& app, Action& action);
void addSnapshotCommand(CLI::App& app, Action& action);
void addPublishCommand(CLI::App& app, Action& action);
void addBenchCommand(CLI::App& app, Action& action);
void addServeCommand(CLI::App& app, Action& action);
void addTopCommand(CLI::App& app, Action& action);
void addWebCommand(CLI::App& app, Action& action);

/// Prints "shmframe <command>: error: <message>" to stderr.
void printError(std::string_view command, std::string_view message);

/// Prints a command-line parse error of CLI11 with the same prefix as ours
/// ("shmframe <command>: error: ...", the command being the one parsed last) and a
/// pointer to its --help; returns kExitUsage.
int reportUsageError(const CLI::App& app, const CLI::ParseError& error);

/// Prints \a error and returns its exit code: kExitUsage for a bad argument or
/// feed name, kExitRuntime for everything else.
int reportError(std::string_view command, const Error& error);

/// SIGINT and SIGTERM set this flag instead of killing the process, so commands
/// can end cleanly (a publisher sends end of stream and removes its socket).
void installStopHandlers();
bool stopRequested();

/// The clock publish times are stamped with (the library's).
using shmframe::monotonicNs;

/// Parses "30", "29.97" or "30000/1001" into a frame rate > 0 and <= 1000.
Result<Fraction> parseFrameRate(std::string_view text);
/// Parses a pixel format name; the error lists the valid ones.
Result<PixelFormat> parsePixelFormat(std::string_view text);
/// "RGBA, BGRA, ..." in enum order.
std::string pixelFormatNames();

/// A feed as JSON (the same keys for list and info).
nlohmann::ordered_json feedToJson(const FeedInfo& feed);
/// The readers a feed's writer listed (FeedInfo::readerTable), or null when its
/// writer predates reader tables; what a reader reports of itself is null when it
/// does not.
nlohmann::ordered_json readerTableToJson(const FeedInfo& feed);
/// A line per reader of a feed (indented, for under the feed's own line).
std::string readerLines(const FeedInfo& feed);

/// Seconds since the feed's last publish, or a negative number if it never published.
double secondsSinceLastPublish(const FeedInfo& feed);

}  // namespace shmframe::cli
