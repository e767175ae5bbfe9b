// SPDX-License-Identifier: LGPL-2.1-or-later
// A writer for the viewer's script tests and benchmark: publishes colour bars on a
// feed at a steady rate until killed or --frames are out.
//
//   viewer_test_writer --feed NAME [--format RGBA] [--size 320x240] [--fps 30]
//                      [--frames 0] [--slots 4]
//
// Each slot is filled once, the first time it is loaned: the writer's own cost per
// frame stays tiny, so a benchmark measures the viewer, not the pattern.
#include <time.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include <shmframe/shmframe.h>

#include "test_pattern.h"

namespace {

std::atomic<bool> stopRequested{false};

void onSignal(int) {
    stopRequested = true;
}

bool parseNumber(std::string_view text, unsigned long long max, unsigned long long& out) {
    if (text.empty() || text.size() > 12)
        return false;
    char* end = nullptr;
    const std::string copy(text);
    const unsigned long long value = std::strtoull(copy.c_str(), &end, 10);
    if (*end != '\0' || value > max)
        return false;
    out = value;
    return true;
}

int usage(const char* message) {
    std::fprintf(stderr,
                 "viewer_test_writer: %s\nusage: viewer_test_writer --feed NAME [--format F] "
                 "[--size WxH] [--fps N] [--frames N] [--slots N]\n",
                 message);
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::string feed;
    shmframe::PixelFormat pixelFormat = shmframe::PixelFormat::RGBA;
    std::uint32_t width = 320;
    std::uint32_t height = 240;
    unsigned long long fps = 30;
    unsigned long long frames = 0;
    unsigned long long slots = 4;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (i + 1 >= argc)
            return usage("every option needs a value");
        const std::string_view value = argv[++i];
        if (arg == "--feed") {
            feed = value;
        } else if (arg == "--format") {
            auto parsed = shmframe::pixelFormatFromString(value);
            if (!parsed)
                return usage("unknown --format");
            pixelFormat = *parsed;
        } else if (arg == "--size") {
            auto size = shmframe::parseSize(value);
            if (!size)
                return usage(size.error().message.c_str());
            width = size->first;
            height = size->second;
        } else if (arg == "--fps") {
            if (!parseNumber(value, 1000, fps) || fps == 0)
                return usage("--fps must be 1 to 1000");
        } else if (arg == "--frames") {
            if (!parseNumber(value, 1'000'000'000ull, frames))
                return usage("--frames must be 0 (forever) to 1000000000");
        } else if (arg == "--slots") {
            if (!parseNumber(value, 64, slots) || slots < 3)
                return usage("--slots must be 3 to 64");
        } else {
            return usage("unknown option");
        }
    }
    if (feed.empty())
        return usage("--feed is required");

    auto format =
        shmframe::Format::make(pixelFormat, width, height, {static_cast<std::int32_t>(fps), 1});
    if (!format) {
        std::fprintf(stderr, "viewer_test_writer: %s\n", format.error().message.c_str());
        return 1;
    }
    shmframe::WriterOptions options;
    options.slotCount = static_cast<std::uint32_t>(slots);
    auto writer = shmframe::Writer::create(feed, *format, options);
    if (!writer) {
        std::fprintf(stderr, "viewer_test_writer: %s\n", writer.error().message.c_str());
        return 1;
    }
    std::signal(SIGTERM, onSignal);
    std::signal(SIGINT, onSignal);
    std::printf("ready %s %s\n", feed.c_str(), format->describe().c_str());
    std::fflush(stdout);

    std::set<std::uint32_t> filled;
    const long periodNs = static_cast<long>(1'000'000'000ull / fps);
    timespec next{};
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (unsigned long long n = 0; !stopRequested && (frames == 0 || n < frames); ++n) {
        auto loan = writer->loan();
        if (loan) {
            if (filled.insert(loan->slotIndex()).second) {
                shmframe::viewer::test::WritablePlanes planes{};
                for (std::uint32_t p = 0; p < format->planeCount; ++p)
                    planes[p] = loan->plane(p);
                shmframe::viewer::test::fillBars(*format, planes);
            }
            if (auto published = writer->publish(std::move(*loan)); !published)
                std::fprintf(stderr, "viewer_test_writer: publish: %s\n",
                             published.error().message.c_str());
        }
        next.tv_nsec += periodNs;
        while (next.tv_nsec >= 1'000'000'000L) {
            next.tv_nsec -= 1'000'000'000L;
            ++next.tv_sec;
        }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
    }
    writer->close();
    return 0;
}
