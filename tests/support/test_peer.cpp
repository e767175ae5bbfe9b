// SPDX-License-Identifier: LGPL-2.1-or-later
// A writer or reader in its own process, for multi-process tests.
//
//   test_peer writer FEED [--format F] [--size WxH] [--frames N] [--fps N] [--slots N]
//                         [--policy never-block|lossless] [--lease-limit N] [--no-eos]
//                         [--access SPEC] [--lossless-timeout-ms N]
//                         [--reconfigure-every N --alt-format F --alt-size WxH]
//                         [--schedule N@MS,N@LO-HI,...]
//   test_peer reader FEED [--mode latest|sequential] [--frames N] [--hold N] [--stall]
//                         [--timeout-ms N] [--verbose] [--keep]
//
// The writer fills frame k (pts = k) with fillPattern(seed k); the reader checks every
// frame against its pts and prints "received=R skipped=S gaps=G bad=B reconnects=C",
// exiting 0 only if no frame was torn. --hold N keeps the last N frames leased;
// --stall connects and never reads; --keep stays (holding its frames) after --frames N
// until signalled; --verbose prints a "frame seq=..." line per frame and an
// "event code=..." line per other outcome of next(). --reconfigure-every N makes the
// writer switch between its format and the --alt-format/--alt-size one every N frames.
// --schedule publishes N frames MS ms apart, then the next segment (LO-HI: a random gap
// in that range each time), and replaces --frames; the format's rate stays --fps.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "shmframe/shmframe.h"
#include "test_support.h"

using namespace shmframe;
using namespace std::chrono_literals;

namespace {

std::atomic<bool> stopRequested{false};

void onSignal(int) {
    stopRequested = true;
}

const char* option(int argc, char** argv, const char* name, const char* fallback) {
    for (int i = 3; i + 1 < argc; ++i) {
        if (std::strcmp(argv[i], name) == 0) {
            return argv[i + 1];
        }
    }
    return fallback;
}

bool flag(int argc, char** argv, const char* name) {
    for (int i = 3; i < argc; ++i) {
        if (std::strcmp(argv[i], name) == 0) {
            return true;
        }
    }
    return false;
}

// One segment of --schedule: `frames` frames, each `loMs` to `hiMs` after the last.
struct Segment {
    long frames = 0;
    long loMs = 0;
    long hiMs = 0;
};

std::optional<std::vector<Segment>> parseSchedule(const char* text) {
    std::vector<Segment> segments;
    for (const char* at = text; *at;) {
        Segment segment;
        char* end = nullptr;
        segment.frames = std::strtol(at, &end, 10);
        if (*end != '@') {
            return std::nullopt;
        }
        segment.loMs = std::strtol(end + 1, &end, 10);
        segment.hiMs = *end == '-' ? std::strtol(end + 1, &end, 10) : segment.loMs;
        if (segment.frames <= 0 || segment.loMs < 0 || segment.hiMs < segment.loMs ||
            (*end != ',' && *end != '\0')) {
            return std::nullopt;
        }
        segments.push_back(segment);
        at = *end == ',' ? end + 1 : end;
    }
    return segments;
}

int runWriter(const std::string& feed, int argc, char** argv) {
    auto pixelFormat = pixelFormatFromString(option(argc, argv, "--format", "RGBA"));
    auto size = parseSize(option(argc, argv, "--size", "64x48"));
    if (!pixelFormat || !size) {
        std::fprintf(stderr, "test_peer: bad --format or --size\n");
        return 2;
    }
    long frames = std::atol(option(argc, argv, "--frames", "0"));
    const long fps = std::atol(option(argc, argv, "--fps", "200"));
    std::vector<Segment> schedule;
    if (const char* text = option(argc, argv, "--schedule", nullptr)) {
        auto parsed = parseSchedule(text);
        if (!parsed) {
            std::fprintf(stderr, "test_peer: bad --schedule '%s'\n", text);
            return 2;
        }
        schedule = std::move(*parsed);
        frames = 0;
        for (const Segment& segment : schedule) {
            frames += segment.frames;
        }
    }
    std::minstd_rand random(static_cast<unsigned>(::getpid()));
    auto format = Format::make(*pixelFormat, size->first, size->second, {int(fps), 1});
    WriterOptions options;
    options.slotCount = static_cast<std::uint32_t>(std::atoi(option(argc, argv, "--slots", "4")));
    options.leaseLimit =
        static_cast<std::uint32_t>(std::atoi(option(argc, argv, "--lease-limit", "2")));
    options.policy = *writerPolicyFromString(option(argc, argv, "--policy", "never-block"));
    options.losslessTimeout =
        std::chrono::milliseconds(std::atol(option(argc, argv, "--lossless-timeout-ms", "1000")));
    if (const char* access = option(argc, argv, "--access", nullptr)) {
        auto policy = AccessPolicy::parse(access);
        if (!policy) {
            std::fprintf(stderr, "test_peer: %s\n", policy.error().message.c_str());
            return 2;
        }
        options.access = *policy;
    }
    const long reconfigureEvery = std::atol(option(argc, argv, "--reconfigure-every", "0"));
    std::optional<Format> altFormat;
    if (reconfigureEvery > 0) {
        auto altPixelFormat = pixelFormatFromString(option(argc, argv, "--alt-format", "NV12"));
        auto altSize = parseSize(option(argc, argv, "--alt-size", "96x64"));
        auto alt =
            altPixelFormat && altSize
                ? Format::make(*altPixelFormat, altSize->first, altSize->second, {int(fps), 1})
                : Result<Format>(Error::make(Errc::InvalidArgument, "bad --alt-format"));
        if (!alt) {
            std::fprintf(stderr, "test_peer: %s\n", alt.error().message.c_str());
            return 2;
        }
        altFormat = *alt;
    }
    auto writer = Writer::create(feed, *format, options);
    if (!writer) {
        std::fprintf(stderr, "test_peer: %s\n", writer.error().message.c_str());
        return 3;
    }
    std::printf("ready\n");
    std::fflush(stdout);
    const auto period = std::chrono::microseconds(fps > 0 ? 1'000'000 / fps : 0);
    auto next = std::chrono::steady_clock::now();
    for (long k = 1; (frames == 0 || k <= frames) && !stopRequested; ++k) {
        if (altFormat && k > 1 && (k - 1) % reconfigureEvery == 0) {
            const bool useAlt = ((k - 1) / reconfigureEvery) % 2 == 1;
            if (auto changed = writer->reconfigure(useAlt ? *altFormat : *format); !changed) {
                std::fprintf(stderr, "test_peer: reconfigure: %s\n",
                             changed.error().message.c_str());
                return 4;
            }
        }
        auto frame = writer->loan();
        if (!frame) {
            std::fprintf(stderr, "test_peer: loan: %s\n", frame.error().message.c_str());
            return 4;
        }
        test::fillPattern(frame->bytes(), static_cast<std::uint64_t>(k));
        FrameMeta meta;
        meta.pts = static_cast<std::uint64_t>(k);
        if (auto published = writer->publish(std::move(*frame), meta); !published) {
            std::fprintf(stderr, "test_peer: publish: %s\n", published.error().message.c_str());
            return 4;
        }
        auto gap = std::chrono::duration_cast<std::chrono::steady_clock::duration>(period);
        long segmentEnd = 0;
        for (const Segment& segment : schedule) {
            segmentEnd += segment.frames;
            if (k < segmentEnd || &segment == &schedule.back()) {
                gap = std::chrono::milliseconds(
                    segment.loMs + long(random() % std::uint64_t(segment.hiMs - segment.loMs + 1)));
                break;
            }
        }
        next += gap;
        std::this_thread::sleep_until(next);
    }
    if (!flag(argc, argv, "--no-eos")) {
        [[maybe_unused]] auto eos = writer->endOfStream();
    }
    if (frames != 0) {
        // Stay until asked to go, so readers can drain; tests signal us.
        while (!stopRequested) {
            std::this_thread::sleep_for(10ms);
        }
    }
    return 0;
}

int runReader(const std::string& feed, int argc, char** argv) {
    ReaderOptions options;
    options.mode = *readModeFromString(option(argc, argv, "--mode", "latest"));
    options.waitForWriter = true;
    auto reader = Reader::open(feed, options);
    if (!reader) {
        std::fprintf(stderr, "test_peer: %s\n", reader.error().message.c_str());
        return 3;
    }
    std::printf("ready\n");
    std::fflush(stdout);
    if (flag(argc, argv, "--stall")) {
        while (!stopRequested) {
            std::this_thread::sleep_for(10ms);
        }
        return 0;
    }
    const long frames = std::atol(option(argc, argv, "--frames", "0"));
    const std::size_t hold = static_cast<std::size_t>(std::atol(option(argc, argv, "--hold", "0")));
    const auto timeout =
        std::chrono::milliseconds(std::atol(option(argc, argv, "--timeout-ms", "5000")));
    const bool verbose = flag(argc, argv, "--verbose");
    std::deque<Frame> held;
    long received = 0;
    long bad = 0;
    while (!stopRequested && (frames == 0 || received < frames)) {
        auto frame = reader->next(timeout);
        if (!frame) {
            if (verbose) {
                std::printf("event code=%s message=%s\n",
                            std::string(toString(frame.error().code)).c_str(),
                            frame.error().message.c_str());
                std::fflush(stdout);
            }
            if (frame.error().code == Errc::Timeout && frames != 0) {
                break;
            }
            continue;
        }
        ++received;
        const bool intact = test::hasPattern(frame->bytes(), frame->meta().pts);
        if (!intact && frame->leaseIntact()) {
            ++bad;
        }
        if (verbose) {
            const auto stats = reader->stats();
            std::printf(
                "frame seq=%llu pts=%llu session=%llx gen=%u format=%s skipped=%llu "
                "gaps=%llu ok=%d\n",
                static_cast<unsigned long long>(frame->meta().sequence),
                static_cast<unsigned long long>(frame->meta().pts),
                static_cast<unsigned long long>(frame->writerSession()), frame->generation(),
                frame->format().describe().c_str(), static_cast<unsigned long long>(stats.skipped),
                static_cast<unsigned long long>(stats.gaps), intact ? 1 : 0);
            std::fflush(stdout);
        }
        if (hold > 0) {
            held.push_back(std::move(*frame));
            if (held.size() > hold) {
                held.pop_front();
            }
        }
    }
    const auto stats = reader->stats();
    std::printf("received=%ld skipped=%llu gaps=%llu bad=%ld reconnects=%llu\n", received,
                static_cast<unsigned long long>(stats.skipped),
                static_cast<unsigned long long>(stats.gaps), bad,
                static_cast<unsigned long long>(stats.reconnects));
    std::fflush(stdout);
    if (flag(argc, argv, "--keep")) {
        // Hold the frames (and their leases) until told to go.
        while (!stopRequested) {
            std::this_thread::sleep_for(10ms);
        }
    }
    return bad == 0 ? 0 : 5;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: test_peer writer|reader FEED [options]\n");
        return 2;
    }
    ::signal(SIGTERM, onSignal);
    ::signal(SIGINT, onSignal);
    const std::string role = argv[1];
    if (role == "writer") {
        return runWriter(argv[2], argc, argv);
    }
    if (role == "reader") {
        return runReader(argv[2], argc, argv);
    }
    std::fprintf(stderr, "test_peer: unknown role %s\n", role.c_str());
    return 2;
}
