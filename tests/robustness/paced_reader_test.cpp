// SPDX-License-Identifier: LGPL-2.1-or-later
// Paced readers (WaitMode::Paced) against writers in other processes: every frame in
// order, and bounds on the CPU they spend when the writer stops or turns irregular.
// The CPU bounds are bounds on failure (a reader that spins where it should sleep
// spends all of the wall time), not speed measurements: they are far above what a
// paced reader spends.
#include <signal.h>
#include <time.h>

#include "robustness_support.h"

using namespace shmframe;
using namespace shmframe::robust;

namespace {

class PacedReader : public RobustnessTest {};

std::uint64_t threadCpuNs() {
    timespec now{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return std::uint64_t(now.tv_sec) * 1'000'000'000ull + std::uint64_t(now.tv_nsec);
}

Reader openPaced(const char* feed, ReadMode mode) {
    ReaderOptions options;
    options.mode = mode;
    options.wait = WaitMode::Paced;
    options.reconnect = false;
    auto reader = Reader::open(feed, options);
    if (!reader) {
        ADD_FAILURE() << reader.error().message;
        std::abort();
    }
    return std::move(*reader);
}

// Reads until end of stream; checks order and pixels; calls \a onFrame with each one.
template <typename OnFrame>
std::uint64_t readToEndOfStream(Reader& reader, OnFrame onFrame) {
    std::uint64_t last = 0;
    std::uint64_t received = 0;
    for (;;) {
        auto frame = reader.next(10s);
        if (!frame) {
            EXPECT_EQ(frame.error().code, Errc::EndOfStream) << frame.error().message;
            return received;
        }
        if (last != 0) {
            EXPECT_EQ(frame->meta().sequence, last + 1) << "a frame lost or out of order";
        }
        EXPECT_TRUE(test::hasPattern(frame->bytes(), frame->meta().pts))
            << "frame " << frame->meta().sequence;
        last = frame->meta().sequence;
        ++received;
        onFrame(*frame);
    }
}

TEST_F(PacedReader, GetsEveryFrameOfAFixedRateWriterInOrderWithExactPixels) {
    Peer writer = startPeer({"writer", "steady", "--fps", "100", "--frames", "300", "--slots", "16",
                             "--lease-limit", "4"});
    ASSERT_TRUE(writer.waitReady());
    Reader reader = openPaced("steady", ReadMode::Sequential);
    const std::uint64_t received = readToEndOfStream(reader, [](const Frame&) {});
    // From where the writer admitted us to its last frame, nothing missing.
    EXPECT_GE(received, 200u);
    EXPECT_EQ(reader.stats().gaps, 0u);
    EXPECT_EQ(reader.stats().received, received);
    EXPECT_EQ(writer.stop(), 0);
}

TEST_F(PacedReader, AStoppedWriterDoesNotMakeItBurnCpu) {
    Peer writer = startPeer({"writer", "stops", "--fps", "100", "--slots", "8"});
    ASSERT_TRUE(writer.waitReady());
    Reader reader = openPaced("stops", ReadMode::Latest);
    for (int i = 0; i < 100; ++i) {  // a second of frames: the pacer knows the period
        auto frame = reader.next(10s);
        ASSERT_TRUE(frame) << frame.error().message;
    }
    writer.child.signal(SIGSTOP);
    // Whatever was published before the stop.
    while (reader.next(50ms)) {
    }
    const std::uint64_t cpuBefore = threadCpuNs();
    const std::uint64_t wallBefore = monotonicNs();
    int timeouts = 0;
    while (monotonicNs() - wallBefore < 1'500'000'000ull) {
        auto frame = reader.next(100ms);
        ASSERT_FALSE(frame) << "a frame from a stopped writer";
        EXPECT_EQ(frame.error().code, Errc::Timeout) << frame.error().message;
        ++timeouts;
    }
    const std::uint64_t cpu = threadCpuNs() - cpuBefore;
    const std::uint64_t wall = monotonicNs() - wallBefore;
    writer.child.signal(SIGCONT);
    EXPECT_GE(timeouts, 10);
    EXPECT_LT(cpu, wall / 5) << "the reader spent " << cpu / 1000 << " us of CPU in " << wall / 1000
                             << " us of a stopped writer";
    // And it reads on when the writer does.
    auto frame = reader.next(10s);
    EXPECT_TRUE(frame) << frame.error().message;
    EXPECT_EQ(writer.stop(), 0);
}

TEST_F(PacedReader, ARateChangeAndIrregularIntervalsFallBackToBlocking) {
    // 100 fps as the format says, then 40 fps, then gaps of 5 to 30 ms at random.
    Peer writer = startPeer({"writer", "uneven", "--fps", "100", "--slots", "16", "--lease-limit",
                             "4", "--schedule", "150@10,60@25,150@5-30"});
    ASSERT_TRUE(writer.waitReady());
    Reader reader = openPaced("uneven", ReadMode::Sequential);
    const std::uint64_t start = monotonicNs();
    const std::uint64_t cpuStart = threadCpuNs();
    std::uint64_t irregularFrom = 0, cpuIrregular = 0, missesIrregular = 0;
    const std::uint64_t received = readToEndOfStream(reader, [&](const Frame& frame) {
        if (frame.meta().sequence == 230) {  // 20 frames into the random gaps
            irregularFrom = monotonicNs();
            cpuIrregular = threadCpuNs();
            missesIrregular = reader.stats().pacedMisses;
        }
    });
    const std::uint64_t end = monotonicNs();
    const std::uint64_t cpuEnd = threadCpuNs();
    EXPECT_GE(received, 300u);
    EXPECT_EQ(reader.stats().gaps, 0u);
    ASSERT_NE(irregularFrom, 0u);
    // Irregular intervals: the pacer blocks, so windows are not missed frame after
    // frame, and the reader sleeps like a blocking one.
    EXPECT_LE(reader.stats().pacedMisses - missesIrregular, 8u);
    EXPECT_LT(cpuEnd - cpuIrregular, (end - irregularFrom) / 5);
    // The whole run: at most a quarter of each period is ever spent spinning.
    EXPECT_LT(cpuEnd - cpuStart, (end - start) / 3);
    EXPECT_EQ(writer.stop(), 0);
}

}  // namespace
