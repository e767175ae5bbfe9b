// SPDX-License-Identifier: LGPL-2.1-or-later
// `shmframe list`: the live feeds in the feed directory.
#include <cstdio>
#include <iostream>
#include <memory>

#include "cli.h"

namespace shmframe::cli {
namespace {

struct ListOptions {
    bool json = false;
    bool names = false;
};

std::string ageText(const FeedInfo& feed) {
    const double age = secondsSinceLastPublish(feed);
    if (age < 0) {
        return "never";
    }
    char text[32];
    std::snprintf(text, sizeof text, "%.1fs ago", age);
    return text;
}

int runList(const ListOptions& options) {
    if (auto trusted = checkFeedDirectory(); !trusted) {
        return reportError("list", trusted.error());
    }
    const std::vector<FeedInfo> feeds = listFeeds();
    if (options.names) {  // for scripts and shell completion
        for (const FeedInfo& feed : feeds) {
            std::cout << feed.name << '\n';
        }
        return kExitOk;
    }
    if (options.json) {
        nlohmann::ordered_json out = nlohmann::ordered_json::array();
        for (const FeedInfo& feed : feeds) {
            out.push_back(feedToJson(feed));
        }
        std::cout << out.dump(2) << '\n';
        return kExitOk;
    }
    if (feeds.empty()) {
        std::cout << "no live feeds in " << feedDirectory() << '\n';
        return kExitOk;
    }
    std::printf("%-20s %-10s %-11s %-10s %-8s %-7s %-10s %s\n", "NAME", "FORMAT", "SIZE", "RATE",
                "WRITER", "READERS", "PUBLISHED", "LAST FRAME");
    for (const FeedInfo& feed : feeds) {
        if (!feed.responding) {
            // Its writer holds the feed but does not answer: stopped or hung.
            std::printf("%-20s %-10s %-11s %-10s %-8d %-7s %-10s %s\n", feed.name.c_str(), "-", "-",
                        "-", static_cast<int>(feed.writerPid), "-", "-", "not responding");
            continue;
        }
        const Format& format = feed.format;
        const std::string size = std::to_string(format.width) + "x" + std::to_string(format.height);
        const std::string rate =
            std::to_string(format.frameRate.num) + "/" + std::to_string(format.frameRate.den);
        std::printf("%-20s %-10s %-11s %-10s %-8d %-7u %-10llu %s%s\n", feed.name.c_str(),
                    std::string(toString(format.pixelFormat)).c_str(), size.c_str(), rate.c_str(),
                    static_cast<int>(feed.writerPid), feed.readers,
                    static_cast<unsigned long long>(feed.published), ageText(feed).c_str(),
                    feed.endOfStream ? " (end of stream)" : "");
    }
    return kExitOk;
}

}  // namespace

void addListCommand(CLI::App& app, Action& action) {
    auto options = std::make_shared<ListOptions>();
    CLI::App* command = app.add_subcommand(
        "list", "List the live feeds (a writer that does not answer shows as not responding)");
    command->add_flag("--json", options->json, "Print the feeds as a JSON array");
    command->add_flag("--names", options->names, "Print only the feed names, one per line");
    command->callback([options, &action] { action = [options] { return runList(*options); }; });
}

}  // namespace shmframe::cli
