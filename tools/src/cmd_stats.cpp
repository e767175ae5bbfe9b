// SPDX-License-Identifier: LGPL-2.1-or-later
// `shmframe stats FEED`: a live line of a feed's rate and counters, like top.
// The writer's side comes from probes (published count, readers); with --read we
// also read the feed and report what a reader sees (received, skipped, gaps, latency).
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>

#include "cli.h"
#include "shmframe/reader.h"

namespace shmframe::cli {
namespace {

struct StatsOptions {
    std::string feed;
    bool once = false;
    bool json = false;
    bool read = false;
    std::string mode = "latest";
    double interval = 1.0;
    std::uint64_t count = 0;
};

// What the reader saw during one interval.
struct ReadWindow {
    std::uint64_t frames = 0;
    std::uint64_t latencySumNs = 0;
    std::uint64_t latencyMaxNs = 0;
    bool writerGone = false;
    bool endOfStream = false;

    void add(std::uint64_t latencyNs) {
        ++frames;
        latencySumNs += latencyNs;
        latencyMaxNs = std::max(latencyMaxNs, latencyNs);
    }
    double averageMs() const { return frames ? double(latencySumNs) / double(frames) / 1e6 : 0; }
    double maxMs() const { return double(latencyMaxNs) / 1e6; }
};

void sleepNs(std::uint64_t ns) {
    timespec delay{static_cast<time_t>(ns / 1'000'000'000u),
                   static_cast<long>(ns % 1'000'000'000u)};
    nanosleep(&delay, nullptr);  // EINTR is fine: the caller checks the stop flag
}

// Waits out one interval; reads frames meanwhile when a reader is given.
// Returns an error only for what ends the command (the writer dropped us, a bad pool).
// Frames published before \a sinceNs (the one waiting when we connected) count as
// received but not in the latency, which they would only inflate.
Result<ReadWindow> waitInterval(std::optional<Reader>& reader, std::uint64_t deadlineNs,
                                std::uint64_t sinceNs) {
    constexpr std::uint64_t kSliceNs = 100'000'000;  // check the stop flag this often
    ReadWindow window;
    for (std::uint64_t now = monotonicNs(); now < deadlineNs && !stopRequested();
         now = monotonicNs()) {
        const std::uint64_t slice = std::min(deadlineNs - now, kSliceNs);
        if (!reader) {
            sleepNs(slice);
            continue;
        }
        auto frame = reader->next(std::chrono::nanoseconds(slice));
        if (frame) {
            const std::uint64_t received = monotonicNs();
            const std::uint64_t published = frame->meta().publishTimeNs;
            if (published >= sinceNs) {
                window.add(received > published ? received - published : 0);
            }
            continue;
        }
        switch (frame.error().code) {
            case Errc::Timeout:
            case Errc::WouldBlock:
                break;
            case Errc::WriterGone:
            case Errc::NoWriter:
                window.writerGone = true;
                break;
            case Errc::EndOfStream:
                window.endOfStream = true;
                break;
            default:
                return std::move(frame).error();
        }
    }
    return window;
}

nlohmann::ordered_json toJson(const FeedInfo& feed, double fps, double elapsed,
                              const std::optional<Reader>& reader, const ReadWindow& window,
                              double intervalSeconds, ReadMode mode) {
    nlohmann::ordered_json out = {
        {"feed", feed.name},
        {"time", elapsed},
        {"format", std::string(toString(feed.format.pixelFormat))},
        {"width", feed.format.width},
        {"height", feed.format.height},
        {"fps", fps},
        {"published", feed.published},
        {"readers", feed.readers},
        {"writer_pid", feed.writerPid},
        {"end_of_stream", feed.endOfStream},
        {"responding", true},
    };
    if (reader) {
        const ReaderStats stats = reader->stats();
        out["reader"] = {
            {"mode", std::string(toString(mode))},
            {"received", stats.received},
            {"skipped", stats.skipped},
            {"gaps", stats.gaps},
            {"copies", stats.copies},
            {"revoked", stats.revoked},
            {"reconnects", stats.reconnects},
            {"writer_gone", stats.writerGone},
            {"end_of_streams", stats.endOfStreams},
            {"fps", intervalSeconds > 0 ? double(window.frames) / intervalSeconds : 0.0},
            {"latency_avg_ms", window.averageMs()},
            {"latency_max_ms", window.maxMs()},
        };
    }
    return out;
}

std::string toLine(const FeedInfo& feed, double fps, const std::optional<Reader>& reader,
                   const ReadWindow& window) {
    char text[512];
    int length = std::snprintf(
        text, sizeof text, "%s  %s %ux%u  %6.1f fps  published %llu  readers %u  pid %d",
        feed.name.c_str(), std::string(toString(feed.format.pixelFormat)).c_str(),
        feed.format.width, feed.format.height, fps, static_cast<unsigned long long>(feed.published),
        feed.readers, static_cast<int>(feed.writerPid));
    if (reader && length > 0 && std::size_t(length) < sizeof text) {
        const ReaderStats stats = reader->stats();
        length += std::snprintf(text + length, sizeof text - std::size_t(length),
                                "  | received %llu skipped %llu gaps %llu  latency %.2f ms "
                                "(max %.2f)",
                                static_cast<unsigned long long>(stats.received),
                                static_cast<unsigned long long>(stats.skipped),
                                static_cast<unsigned long long>(stats.gaps), window.averageMs(),
                                window.maxMs());
    }
    std::string line = text;
    if (feed.endOfStream || window.endOfStream) {
        line += "  [end of stream]";
    }
    return line;
}

// One update for a writer that holds the feed but did not answer the probe.
void reportNotResponding(const StatsOptions& options, const std::string& why, double elapsed,
                         bool liveLine) {
    if (options.json) {
        std::cout << nlohmann::ordered_json{{"feed", options.feed},
                                            {"time", elapsed},
                                            {"responding", false},
                                            {"error", why}}
                         .dump()
                  << std::endl;
    } else if (liveLine) {
        std::cout << "\r\033[K" << options.feed << "  not responding: " << why << std::flush;
    } else {
        std::cout << options.feed << "  not responding: " << why << std::endl;
    }
}

int runStats(const StatsOptions& options) {
    if (!(options.interval >= 0.05 && options.interval <= 3600)) {
        printError("stats", "--interval must be between 0.05 and 3600 seconds");
        return kExitUsage;
    }
    auto mode = readModeFromString(options.mode);
    if (!mode) {
        printError("stats", "unknown --mode '" + options.mode + "' (use latest or sequential)");
        return kExitUsage;
    }
    if (auto valid = validateFeedName(options.feed); !valid) {
        return reportError("stats", valid.error());
    }
    installStopHandlers();

    const std::uint64_t startNs = monotonicNs();
    auto first = probeFeed(options.feed);
    // A writer that does not answer is reported each interval until it does (or goes).
    if (!first && first.error().code != Errc::Timeout) {
        return reportError("stats", first.error());
    }
    std::optional<Reader> reader;
    if (options.read) {
        auto opened = Reader::open(options.feed, {.mode = *mode, .clientName = "shmframe stats"});
        if (!opened) {
            return reportError("stats", opened.error());
        }
        reader.emplace(std::move(*opened));
    }

    const bool liveLine = !options.json && !options.once && isatty(STDOUT_FILENO);
    const auto intervalNs = static_cast<std::uint64_t>(options.interval * 1e9);
    // What the last answer said; none yet while the writer did not answer.
    std::optional<FeedInfo> previous;
    if (first) {
        previous = std::move(*first);
    }
    std::uint64_t previousNs = startNs;
    std::uint64_t updates = 0;
    int exitCode = kExitOk;

    while (!stopRequested()) {
        auto window = waitInterval(reader, previousNs + intervalNs, startNs);
        if (!window) {
            exitCode = reportError("stats", window.error());
            break;
        }
        if (stopRequested()) {
            break;
        }
        auto current = probeFeed(options.feed);
        const std::uint64_t nowNs = monotonicNs();
        if (!current && current.error().code == Errc::Timeout) {
            reportNotResponding(options, current.error().message, double(nowNs - startNs) / 1e9,
                                liveLine);
            ++updates;
            if (options.once || (options.count != 0 && updates >= options.count)) {
                break;
            }
            previous.reset();
            previousNs = nowNs;
            continue;
        }
        if (!current) {
            if (liveLine) {
                std::cout << '\n';
            }
            // A writer that ends cleanly signals end of stream and removes its socket;
            // one that dies leaves the socket behind.
            auto socketPath = socketPathFor(options.feed);
            const bool socketGone = socketPath && access(socketPath->c_str(), F_OK) != 0;
            const bool ended =
                current.error().code == Errc::NoWriter &&
                ((previous && previous->endOfStream) || window->endOfStream || socketGone);
            if (ended) {
                std::cout << options.feed << ": end of stream (the writer ended the feed)"
                          << std::endl;
                break;
            }
            printError("stats", current.error().code == Errc::NoWriter
                                    ? "the writer of '" + options.feed + "' is gone"
                                    : current.error().message);
            exitCode = kExitRuntime;
            break;
        }
        const double seconds = double(nowNs - previousNs) / 1e9;
        // A new writer session restarts the count.
        const bool sameWriter = previous && current->writerPid == previous->writerPid &&
                                current->published >= previous->published;
        // A new writer session restarts the count; after no answer, the rate restarts.
        const std::uint64_t delta = !previous    ? 0
                                    : sameWriter ? current->published - previous->published
                                                 : current->published;
        const double fps = seconds > 0 ? double(delta) / seconds : 0.0;

        if (options.json) {
            std::cout << toJson(*current, fps, double(nowNs - startNs) / 1e9, reader, *window,
                                seconds, *mode)
                             .dump()
                      << std::endl;
        } else if (liveLine) {
            std::cout << "\r\033[K" << toLine(*current, fps, reader, *window) << std::flush;
        } else {
            std::cout << toLine(*current, fps, reader, *window) << std::endl;
        }
        ++updates;
        if (options.once || (options.count != 0 && updates >= options.count)) {
            break;
        }
        previous = std::move(*current);
        previousNs = nowNs;
    }
    if (liveLine) {
        std::cout << '\n';
    }
    return exitCode;
}

}  // namespace

void addStatsCommand(CLI::App& app, Action& action) {
    auto options = std::make_shared<StatsOptions>();
    CLI::App* command = app.add_subcommand(
        "stats", "Watch a feed's frame rate and counters, one line per interval (like top)");
    command->add_option("FEED", options->feed, "Feed name (or absolute socket path)")->required();
    command->add_flag("--once", options->once, "Measure one interval, print one line and exit");
    command->add_flag("--json", options->json, "Print one JSON object per line");
    command->add_flag("--read", options->read,
                      "Also read the feed: received/skipped/gaps and publish-to-read latency");
    command->add_option("--mode", options->mode, "Read mode with --read: latest or sequential")
        ->capture_default_str();
    command->add_option("--interval", options->interval, "Seconds between updates (0.05 to 3600)")
        ->capture_default_str();
    command->add_option("--count", options->count, "Stop after this many updates (0: until Ctrl-C)")
        ->capture_default_str();
    command->callback([options, &action] { action = [options] { return runStats(*options); }; });
}

}  // namespace shmframe::cli
