// SPDX-License-Identifier: LGPL-2.1-or-later
// `shmframe top`: every live feed, one row each, refreshed in place on a terminal,
// with a line for each of its readers (how far behind it is, what it dropped).
// The feeds come from a FeedWatch (feeds appear and go as their writers do); the
// frame rate is measured from the published count between two refreshes; the
// readers are the table each writer hands its probe (FeedInfo::readerTable).
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>

#include "cli.h"
#include "shmframe/clock.h"
#include "shmframe/feed_watch.h"

namespace shmframe::cli {
namespace {

struct TopOptions {
    double interval = 1.0;
    bool json = false;
    bool once = false;
};

// The last probe of a feed, to measure its rate at the next refresh.
struct Sample {
    pid_t writerPid = 0;
    std::uint64_t published = 0;
    std::uint64_t takenNs = 0;
};

// One row of the table.
struct FeedRow {
    FeedInfo feed;
    double fps = 0;  ///< measured over the last refresh interval
    std::string state;
};

// "ended" after end of stream, "waiting" before the first frame, "stalled" when no
// frame came for 2 s and 3 frame periods, else "live".
std::string stateOf(const FeedInfo& feed) {
    if (feed.endOfStream) {
        return "ended";
    }
    const double age = secondsSinceLastPublish(feed);
    if (age < 0) {
        return "waiting";
    }
    const double nominal = feed.format.frameRate.toDouble();
    const double stallAfter = std::max(2.0, nominal > 0 ? 3.0 / nominal : 0.0);
    return age > stallAfter ? "stalled" : "live";
}

class FeedTable {
  public:
    std::vector<FeedRow> refresh(const std::vector<FeedInfo>& feeds) {
        const std::uint64_t now = shmframe::monotonicNs();
        std::map<std::string, Sample> next;
        std::vector<FeedRow> rows;
        for (const FeedInfo& feed : feeds) {
            FeedRow row{feed, 0.0, stateOf(feed)};
            auto previous = samples_.find(feed.name);
            if (previous != samples_.end() && previous->second.writerPid == feed.writerPid &&
                feed.published >= previous->second.published && now > previous->second.takenNs) {
                row.fps = double(feed.published - previous->second.published) /
                          (double(now - previous->second.takenNs) / 1e9);
            }
            next[feed.name] = {feed.writerPid, feed.published, now};
            rows.push_back(std::move(row));
        }
        samples_ = std::move(next);
        return rows;
    }

  private:
    std::map<std::string, Sample> samples_;
};

nlohmann::ordered_json toJson(const FeedRow& row) {
    const FeedInfo& feed = row.feed;
    const double age = secondsSinceLastPublish(feed);
    return {
        {"name", feed.name},
        {"format", std::string(toString(feed.format.pixelFormat))},
        {"width", feed.format.width},
        {"height", feed.format.height},
        {"fps", row.fps},
        {"nominal_fps", feed.format.frameRate.toDouble()},
        {"readers", feed.readers},
        {"published", feed.published},
        {"writer_pid", feed.writerPid},
        {"state", row.state},
        {"seconds_since_publish",
         age < 0 ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(age)},
        {"reader_table", readerTableToJson(feed)},
    };
}

void printTable(const std::vector<FeedRow>& rows, const std::string& directory, bool inPlace) {
    std::string text;
    char line[512];
    std::snprintf(line, sizeof line, "shmframe top - %zu feed%s in %s\n\n", rows.size(),
                  rows.size() == 1 ? "" : "s", directory.c_str());
    text += line;
    std::snprintf(line, sizeof line, "%-20s %-10s %-11s %8s %8s %7s %10s %8s %s\n", "FEED",
                  "FORMAT", "SIZE", "FPS", "NOMINAL", "READERS", "PUBLISHED", "PID", "STATE");
    text += line;
    for (const FeedRow& row : rows) {
        const FeedInfo& feed = row.feed;
        const std::string size =
            std::to_string(feed.format.width) + "x" + std::to_string(feed.format.height);
        std::snprintf(line, sizeof line, "%-20s %-10s %-11s %8.1f %8.2f %7u %10llu %8d %s\n",
                      feed.name.c_str(), std::string(toString(feed.format.pixelFormat)).c_str(),
                      size.c_str(), row.fps, feed.format.frameRate.toDouble(), feed.readers,
                      static_cast<unsigned long long>(feed.published),
                      static_cast<int>(feed.writerPid), row.state.c_str());
        text += line;
        text += readerLines(feed);
    }
    if (rows.empty()) {
        text += "(no live feeds)\n";
    }
    if (inPlace) {
        // Home, draw, clear what an earlier, longer table left below.
        std::cout << "\033[H" << text << "\033[J" << std::flush;
    } else {
        std::cout << text << std::endl;
    }
}

// Waits until the watch has news or \a deadlineNs passes (or Ctrl-C).
void waitUntil(const FeedWatch& watch, std::uint64_t deadlineNs) {
    for (std::uint64_t now = shmframe::monotonicNs(); now < deadlineNs && !stopRequested();
         now = shmframe::monotonicNs()) {
        pollfd fd{watch.fd(), POLLIN, 0};
        const auto timeoutMs = static_cast<int>((deadlineNs - now + 999'999) / 1'000'000);
        if (poll(&fd, 1, timeoutMs) > 0) {
            return;
        }
    }
}

int runTop(const TopOptions& options) {
    if (!(options.interval >= 0.1 && options.interval <= 3600)) {
        printError("top", "--interval must be between 0.1 and 3600 seconds");
        return kExitUsage;
    }
    auto watch = FeedWatch::open();
    if (!watch) {
        return reportError("top", watch.error());
    }
    installStopHandlers();
    const auto intervalNs = static_cast<std::uint64_t>(options.interval * 1e9);
    FeedTable table;

    // The rate needs two probes: --json and --once print after one interval.
    watch->update();
    const std::vector<FeedRow> firstRows = table.refresh(watch->feeds());
    if (options.json || options.once) {
        std::uint64_t deadline = shmframe::monotonicNs() + intervalNs;
        while (shmframe::monotonicNs() < deadline && !stopRequested()) {
            waitUntil(*watch, deadline);
            watch->update();
        }
        const std::vector<FeedRow> rows = table.refresh(watch->feeds());
        if (options.json) {
            nlohmann::ordered_json out = nlohmann::ordered_json::array();
            for (const FeedRow& row : rows) {
                out.push_back(toJson(row));
            }
            std::cout << out.dump(2) << '\n';
        } else {
            printTable(rows, watch->directory(), false);
        }
        return kExitOk;
    }

    const bool inPlace = isatty(STDOUT_FILENO);
    if (inPlace) {
        std::cout << "\033[?1049h\033[?25l";  // alternate screen, cursor hidden
    }
    std::uint64_t nextRefresh = shmframe::monotonicNs() + intervalNs;
    printTable(firstRows, watch->directory(), inPlace);
    while (!stopRequested()) {
        waitUntil(*watch, nextRefresh);
        const bool feedsChanged = !watch->update().empty();
        if (shmframe::monotonicNs() >= nextRefresh || feedsChanged) {
            printTable(table.refresh(watch->feeds()), watch->directory(), inPlace);
            nextRefresh = shmframe::monotonicNs() + intervalNs;
        }
    }
    if (inPlace) {
        std::cout << "\033[?25h\033[?1049l" << std::flush;
    }
    return kExitOk;
}

}  // namespace

void addTopCommand(CLI::App& app, Action& action) {
    auto options = std::make_shared<TopOptions>();
    CLI::App* command = app.add_subcommand(
        "top", "Show every live feed, one row each, refreshed in place (Ctrl-C ends)");
    command->add_option("--interval", options->interval, "Seconds between refreshes (0.1 to 3600)")
        ->capture_default_str();
    command->add_flag("--json", options->json,
                      "Measure one interval, print the feeds as a JSON array and exit");
    command->add_flag("--once", options->once, "Measure one interval, print the table and exit");
    command->callback([options, &action] { action = [options] { return runTop(*options); }; });
}

}  // namespace shmframe::cli
