// SPDX-License-Identifier: LGPL-2.1-or-later
// `shmframe info FEED`: everything a probe of one feed tells.
#include <cstdio>
#include <iostream>
#include <memory>

#include "cli.h"

namespace shmframe::cli {
namespace {

struct InfoOptions {
    std::string feed;
    bool json = false;
};

int runInfo(const InfoOptions& options) {
    auto probed = probeFeed(options.feed);
    if (!probed) {
        return reportError("info", probed.error());
    }
    const FeedInfo& feed = *probed;
    if (options.json) {
        std::cout << feedToJson(feed).dump(2) << '\n';
        return kExitOk;
    }
    const Format& format = feed.format;
    std::printf("feed        %s\n", feed.name.c_str());
    std::printf("socket      %s\n", feed.socketPath.c_str());
    std::printf("writer      pid %d, policy %s\n", static_cast<int>(feed.writerPid),
                feed.policy.c_str());
    std::printf("format      %s\n", format.describe().c_str());
    for (std::uint32_t i = 0; i < format.planeCount && i < Format::kMaxPlanes; ++i) {
        std::printf("plane %u     offset %llu, stride %u, %llu bytes\n", i,
                    static_cast<unsigned long long>(format.planes[i].offset),
                    format.planes[i].stride,
                    static_cast<unsigned long long>(format.planes[i].size));
    }
    std::printf("colour      %s\n", format.colorimetry.describe().c_str());
    std::printf("frame size  %llu bytes\n", static_cast<unsigned long long>(format.frameSize));
    std::printf("pool        %u slots, lease limit %u, generation %u, %.1f MiB\n", feed.slotCount,
                feed.leaseLimit, feed.generation, double(feed.poolBytes) / (1024.0 * 1024.0));
    std::printf("caps        %s\n", format.caps.empty() ? "(none)" : format.caps.c_str());
    const double age = secondsSinceLastPublish(feed);
    if (age < 0) {
        std::printf("published   %llu frames, none yet\n",
                    static_cast<unsigned long long>(feed.published));
    } else {
        std::printf("published   %llu frames, last %.2f s ago\n",
                    static_cast<unsigned long long>(feed.published), age);
    }
    std::printf("readers     %u\n", feed.readers);
    std::fputs(readerLines(feed).c_str(), stdout);
    std::printf("state       %s\n", feed.endOfStream ? "end of stream" : "streaming");
    return kExitOk;
}

}  // namespace

void addInfoCommand(CLI::App& app, Action& action) {
    auto options = std::make_shared<InfoOptions>();
    CLI::App* command =
        app.add_subcommand("info", "Show a feed's format, planes, pool, writer and counters");
    command->add_option("FEED", options->feed, "Feed name (or absolute socket path)")->required();
    command->add_flag("--json", options->json, "Print the feed as a JSON object");
    command->callback([options, &action] { action = [options] { return runInfo(*options); }; });
}

}  // namespace shmframe::cli
