// SPDX-License-Identifier: LGPL-2.1-or-later
// Readers that die holding leases or stop (SIGSTOP): the writer and the other readers
// go on; lossless drops the laggard with a reason.
#include <signal.h>

#include "robustness_support.h"

using namespace shmframe;
using namespace shmframe::robust;

namespace {

class ReaderFailure : public RobustnessTest {};

// Lines a peer has printed so far, without waiting for more.
std::vector<FrameLine> drainFrameLines(test::LineReader& out) {
    std::vector<FrameLine> frames;
    while (auto line = out.next(300ms)) {
        if (auto frame = parseFrameLine(*line)) {
            frames.push_back(*frame);
        }
    }
    return frames;
}

// Loans every slot but the newest at once; returns how many loans succeeded.
int loanAllButNewest(Writer& writer, std::uint32_t slots) {
    std::vector<LoanedFrame> loans;
    for (std::uint32_t i = 0; i + 1 < slots; ++i) {
        auto frame = writer.loan();
        if (!frame) {
            break;
        }
        loans.push_back(std::move(*frame));
    }
    return static_cast<int>(loans.size());
}

}  // namespace

TEST_F(ReaderFailure, AKilledReadersLeasesReturnToThePoolAtOnce) {
    WriterOptions options;
    options.slotCount = 4;
    options.leaseLimit = 2;
    auto writer = Writer::create("lease", smallFormat(), options);
    ASSERT_TRUE(writer) << writer.error().message;

    // A reader that takes two frames, keeps both leased and stays.
    const auto startHolder = [&] {
        auto holder = startPeer({"reader", "lease", "--frames", "2", "--hold", "2", "--keep"});
        EXPECT_TRUE(holder.waitReady());
        Publisher publisher(*writer, 2ms);
        auto summary = readSummary(holder.out);
        publisher.stop();
        EXPECT_TRUE(summary && summary->received == 2 && summary->bad == 0);
        // Two more frames, so that neither held frame is the newest.
        for (std::uint64_t k = 1; k <= 2; ++k) {
            EXPECT_TRUE(publishPattern(*writer, k));
        }
        return holder;
    };

    // While it lives, its two leases pin two slots: loaning all three non-newest slots
    // at once takes leases back.
    {
        auto holder = startHolder();
        const auto before = writer->stats().revokedLeases;
        EXPECT_EQ(loanAllButNewest(*writer, options.slotCount), 3);
        EXPECT_EQ(writer->stats().revokedLeases, before + 2) << "the held slots were not pinned";
        EXPECT_EQ(holder.stop(), 0);
    }
    ASSERT_TRUE(test::waitUntil([&] { return writer->stats().readers == 0; }));

    // Killed with SIGKILL while holding them: the slots come back without revoking.
    auto holder = startHolder();
    ASSERT_EQ(writer->stats().readers, 1u);
    const auto revokedBefore = writer->stats().revokedLeases;
    const auto publishedBefore = writer->stats().published;
    holder.child.kill();
    ASSERT_TRUE(test::waitUntil([&] { return writer->stats().readers == 0; }))
        << "the writer did not notice the dead reader";
    EXPECT_EQ(loanAllButNewest(*writer, options.slotCount), 3);
    for (std::uint64_t k = 1; k <= 200; ++k) {
        ASSERT_TRUE(publishPattern(*writer, k));
    }
    const auto stats = writer->stats();
    EXPECT_EQ(stats.revokedLeases, revokedBefore) << "a dead reader's lease still pinned a slot";
    EXPECT_EQ(stats.published, publishedBefore + 200);
    EXPECT_EQ(stats.loanFailures, 0u);
    EXPECT_EQ(stats.readersDropped, 0u);
}

TEST_F(ReaderFailure, AStoppedReaderDoesNotHoldBackANeverBlockWriterOrTheOtherReaders) {
    WriterOptions options;
    options.slotCount = 4;
    auto writer = Writer::create("stop", smallFormat(), options);
    ASSERT_TRUE(writer) << writer.error().message;
    Publisher publisher(*writer, 2ms);

    auto latest = startPeer({"reader", "stop", "--timeout-ms", "500", "--verbose"});
    auto sequential =
        startPeer({"reader", "stop", "--timeout-ms", "500", "--mode", "sequential", "--verbose"});
    ASSERT_TRUE(latest.waitReady());
    ASSERT_TRUE(sequential.waitReady());
    auto firstLatest = latest.out.waitFor("frame ", 10s);
    auto firstSequential = sequential.out.waitFor("frame ", 10s);
    ASSERT_TRUE(firstLatest && firstSequential);
    latest.child.signal(SIGSTOP);
    sequential.child.signal(SIGSTOP);
    auto lastLatest = drainFrameLines(latest.out);
    auto lastSequential = drainFrameLines(sequential.out);
    lastLatest.insert(lastLatest.begin(), *parseFrameLine(*firstLatest));
    lastSequential.insert(lastSequential.begin(), *parseFrameLine(*firstSequential));

    // While they are stopped, another reader gets frame after frame, all pixel-exact,
    // and the writer publishes on.
    ReaderOptions readerOptions;
    readerOptions.mode = ReadMode::Sequential;
    auto other = Reader::open("stop", readerOptions);
    ASSERT_TRUE(other) << other.error().message;
    const auto publishedAtStop = writer->stats().published;
    int received = 0;
    while (received < 300) {
        auto frame = other->next(5s);
        ASSERT_TRUE(frame) << frame.error().message;
        ASSERT_TRUE(test::hasPattern(frame->bytes(), frame->meta().pts));
        received += frame->meta().sequence > publishedAtStop ? 1 : 0;
    }
    EXPECT_GE(writer->stats().published, publishedAtStop + 300);
    EXPECT_EQ(publisher.error(), "");
    EXPECT_EQ(writer->stats().readers, 3u);

    // Continued: the latest-mode reader's next frame is one published after this point
    // (the newest), and its skipped count grew by exactly the frames it missed.
    const auto publishedAtContinue = writer->stats().published;
    latest.child.signal(SIGCONT);
    sequential.child.signal(SIGCONT);
    FrameLine previous = lastLatest.back();
    bool sawNewest = false;
    for (int i = 0; i < 3 && !sawNewest; ++i) {  // one frame may have been in flight
        auto line = latest.out.waitFor("frame ", 10s);
        ASSERT_TRUE(line);
        auto frame = parseFrameLine(*line);
        ASSERT_TRUE(frame && frame->intact) << *line;
        EXPECT_EQ(frame->skipped - previous.skipped, frame->sequence - previous.sequence - 1);
        if (frame->sequence >= publishedAtContinue) {
            sawNewest = true;
            EXPECT_GE(frame->sequence - previous.sequence - 1, 300u);
        }
        previous = *frame;
    }
    EXPECT_TRUE(sawNewest) << "the continued reader did not jump to the newest frame";

    // The sequential one resumes at the oldest frame still in the pool and counts the
    // gap; from there it goes in order.
    previous = lastSequential.back();
    bool sawGap = false;
    for (int i = 0; i < 6; ++i) {
        auto line = sequential.out.waitFor("frame ", 10s);
        ASSERT_TRUE(line);
        auto frame = parseFrameLine(*line);
        ASSERT_TRUE(frame && frame->intact) << *line;
        EXPECT_GT(frame->sequence, previous.sequence);
        EXPECT_EQ(frame->gaps - previous.gaps, frame->sequence - previous.sequence - 1);
        sawGap |= frame->sequence - previous.sequence - 1 >= 300;
        previous = *frame;
    }
    EXPECT_TRUE(sawGap);

    publisher.stop();
    EXPECT_EQ(latest.stop(), 0);
    EXPECT_EQ(sequential.stop(), 0);
}

TEST_F(ReaderFailure, ALosslessWriterDropsAStoppedReaderAfterItsTimeoutAndGoesOn) {
    LogCapture log;
    EventLog events;
    WriterOptions options;
    options.slotCount = 4;
    options.policy = WriterPolicy::Lossless;
    options.losslessTimeout = 300ms;
    options.onReaderEvent = events.handler();
    auto writer = Writer::create("lossless", smallFormat(), options);
    ASSERT_TRUE(writer) << writer.error().message;

    ReaderOptions readerOptions;
    readerOptions.mode = ReadMode::Sequential;
    auto keeper = Reader::open("lossless", readerOptions);  // keeps up all along
    ASSERT_TRUE(keeper);
    auto laggard = startPeer(
        {"reader", "lossless", "--timeout-ms", "500", "--mode", "sequential", "--verbose"});
    ASSERT_TRUE(laggard.waitReady());
    ASSERT_TRUE(test::waitUntil([&] { return writer->stats().readers == 2; }));

    Publisher publisher(*writer, 2ms);
    ASSERT_TRUE(laggard.out.waitFor("frame ", 10s));
    laggard.child.signal(SIGSTOP);

    // The keeper reads on; the writer waits for the laggard, then drops it and goes on.
    std::uint64_t expected = 0;
    std::uint64_t publishedAtDrop = 0;  // as far as the keeper has read then
    int framesAfterDrop = 0;
    while (framesAfterDrop < 200) {
        auto frame = keeper->next(10s);
        ASSERT_TRUE(frame) << frame.error().message;
        ASSERT_TRUE(test::hasPattern(frame->bytes(), frame->meta().pts));
        if (expected != 0) {
            ASSERT_EQ(frame->meta().sequence, expected + 1) << "lossless lost a frame";
        }
        expected = frame->meta().sequence;
        if (publishedAtDrop == 0 && events.first(ReaderEvent::Kind::Dropped)) {
            publishedAtDrop = frame->meta().sequence;
        }
        if (publishedAtDrop != 0 && frame->meta().sequence > publishedAtDrop) {
            ++framesAfterDrop;
        }
    }
    EXPECT_EQ(keeper->stats().gaps, 0u);
    EXPECT_EQ(publisher.error(), "");

    auto dropped = events.first(ReaderEvent::Kind::Dropped);
    ASSERT_TRUE(dropped);
    EXPECT_EQ(dropped->pid, laggard.child.pid());
    EXPECT_NE(dropped->reason.find("lossless"), std::string::npos) << dropped->reason;
    EXPECT_NE(dropped->reason.find("300 ms"), std::string::npos) << dropped->reason;
    EXPECT_TRUE(log.contains("dropped reader")) << "the drop was not logged";
    EXPECT_EQ(writer->stats().readersDropped, 1u);
    EXPECT_GE(writer->stats().published, publishedAtDrop + 200);

    // Continued, the laggard learns why it was dropped, then comes back as a new reader.
    laggard.child.signal(SIGCONT);
    auto told = laggard.out.waitFor("event code=dropped", 10s);
    ASSERT_TRUE(told);
    EXPECT_NE(told->find("lossless"), std::string::npos) << *told;
    ASSERT_TRUE(laggard.out.waitFor("frame ", 10s)) << "the dropped reader did not come back";
    publisher.stop();
    EXPECT_EQ(laggard.stop(), 0);
}

TEST_F(ReaderFailure, ALosslessWriterDropsAReaderWhoseLeasesPinEverySlot) {
    EventLog events;
    WriterOptions options;
    options.slotCount = 3;
    options.leaseLimit = 2;
    options.policy = WriterPolicy::Lossless;
    options.losslessTimeout = 300ms;
    options.onReaderEvent = events.handler();
    auto writer = Writer::create("pin", smallFormat(), options);
    ASSERT_TRUE(writer) << writer.error().message;

    // A latest-mode reader (not one lossless waits for) holding two frames: with three
    // slots, nothing is left to loan but what it pins.
    auto holder = startPeer({"reader", "pin", "--frames", "2", "--hold", "2", "--keep"});
    ASSERT_TRUE(holder.waitReady());
    std::optional<ReaderSummary> summary;
    {
        Publisher publisher(*writer, 20ms);
        summary = readSummary(holder.out);
    }
    ASSERT_TRUE(summary);
    ASSERT_EQ(summary->received, 2);
    const auto publishedBefore = writer->stats().published;

    // The writer waits its timeout, drops the pinning reader with a reason, and goes on.
    for (std::uint64_t k = 4; k <= 50; ++k) {
        ASSERT_TRUE(publishPattern(*writer, k)) << "frame " << k;
    }
    auto dropped = events.first(ReaderEvent::Kind::Dropped);
    ASSERT_TRUE(dropped);
    EXPECT_EQ(dropped->pid, holder.child.pid());
    EXPECT_FALSE(dropped->reason.empty());
    EXPECT_EQ(writer->stats().published, publishedBefore + 47);
    EXPECT_EQ(holder.stop(), 0);
}
