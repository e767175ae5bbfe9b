// SPDX-License-Identifier: LGPL-2.1-or-later
// The transport's promises, writer and readers in one process (multi-process and
// hostile-peer cases live in tests/robustness).
#include <gtest/gtest.h>
#include <poll.h>

#include <cstring>
#include <mutex>
#include <optional>

#include <atomic>
#include <thread>
#include <type_traits>
#include <vector>

#include "shmframe/shmframe.h"
#include "test_support.h"

using namespace shmframe;
using namespace std::chrono_literals;
using shmframe::test::fillPattern;
using shmframe::test::hasPattern;

namespace {

class Transport : public ::testing::Test {
  protected:
    void SetUp() override { fdsBefore_ = test::countOpenFds(); }
    void TearDown() override {
        EXPECT_TRUE(dir_.entries().empty()) << "feed dir not clean: " << dir_.entries().front();
        EXPECT_EQ(test::countOpenFds(), fdsBefore_) << "fd leak";
    }

    Writer makeWriter(const char* feed, PixelFormat pixelFormat = PixelFormat::RGBA,
                      WriterOptions options = {}, std::uint32_t width = 64,
                      std::uint32_t height = 48) {
        auto format = Format::make(pixelFormat, width, height, {30, 1});
        EXPECT_TRUE(format);
        auto writer = Writer::create(feed, *format, std::move(options));
        if (!writer) {
            ADD_FAILURE() << writer.error().message;
            std::abort();
        }
        return std::move(*writer);
    }

    Reader openReader(const char* feed, ReaderOptions options = {}) {
        auto reader = Reader::open(feed, std::move(options));
        if (!reader) {
            ADD_FAILURE() << reader.error().message;
            std::abort();
        }
        return std::move(*reader);
    }

    static void publish(Writer& writer, std::uint64_t seed) {
        auto frame = writer.loan();
        ASSERT_TRUE(frame) << frame.error().message;
        fillPattern(frame->bytes(), seed);
        FrameMeta meta;
        meta.pts = seed * 1000;
        meta.duration = 33;
        ASSERT_TRUE(writer.publish(std::move(*frame), meta));
    }

    test::TempFeedDir dir_;
    int fdsBefore_ = 0;
};

}  // namespace

TEST_F(Transport, EveryFormatArrivesPixelExactWithItsLayoutAndCaps) {
    for (const auto pixelFormat : allPixelFormats()) {
        SCOPED_TRACE(std::string(toString(pixelFormat)));
        auto format = Format::make(pixelFormat, 66, 34, {25, 1}, 16);
        ASSERT_TRUE(format);
        format->caps = "video/x-raw, format=(string)" + std::string(toString(pixelFormat));
        auto writer = Writer::create("fmt", *format);
        ASSERT_TRUE(writer) << writer.error().message;
        auto reader = openReader("fmt");
        publish(*writer, 7);
        auto frame = reader.next(2s);
        ASSERT_TRUE(frame) << frame.error().message;
        EXPECT_EQ(frame->format(), *format);
        EXPECT_EQ(frame->format().caps, format->caps);
        EXPECT_TRUE(hasPattern(frame->bytes(), 7));
        EXPECT_EQ(frame->meta().pts, 7000u);
        EXPECT_EQ(frame->meta().duration, 33u);
        EXPECT_EQ(frame->meta().sequence, 1u);
        EXPECT_GT(frame->meta().publishTimeNs, 0u);
        EXPECT_FALSE(frame->isCopy());
        for (std::uint32_t p = 0; p < format->planeCount; ++p) {
            EXPECT_EQ(frame->plane(p).data(), frame->bytes().data() + format->planes[p].offset);
        }
    }
}

TEST_F(Transport, LatestModeGivesTheNewestFrameAndCountsTheSkipped) {
    auto writer = makeWriter("latest");
    auto reader = openReader("latest");
    for (std::uint64_t i = 1; i <= 5; ++i) {
        publish(writer, i);
    }
    auto frame = reader.next(1s);
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->meta().sequence, 5u);
    EXPECT_TRUE(hasPattern(frame->bytes(), 5));
    EXPECT_EQ(reader.stats().skipped, 4u);
    EXPECT_EQ(reader.tryNext().error().code, Errc::WouldBlock);
}

TEST_F(Transport, SequentialModeDeliversInOrderAndCountsGaps) {
    WriterOptions options;
    options.slotCount = 6;
    auto writer = makeWriter("seq", PixelFormat::GRAY8, options);
    auto reader = openReader("seq", {.mode = ReadMode::Sequential});
    for (std::uint64_t i = 1; i <= 3; ++i) {
        publish(writer, i);
    }
    for (std::uint64_t i = 1; i <= 3; ++i) {
        auto frame = reader.next(1s);
        ASSERT_TRUE(frame);
        EXPECT_EQ(frame->meta().sequence, i);
        EXPECT_TRUE(hasPattern(frame->bytes(), i));
    }
    // Twenty more while the reader looks away: only the last few fit in the pool.
    for (std::uint64_t i = 4; i <= 23; ++i) {
        publish(writer, i);
    }
    std::uint64_t previous = 3;
    std::uint64_t received = 0;
    while (auto frame = reader.tryNext()) {
        EXPECT_GT(frame->meta().sequence, previous);
        EXPECT_TRUE(hasPattern(frame->bytes(), frame->meta().sequence));
        previous = frame->meta().sequence;
        ++received;
    }
    EXPECT_EQ(previous, 23u);
    EXPECT_GE(received, 4u);
    EXPECT_EQ(reader.stats().gaps + received, 20u);
    EXPECT_GT(reader.stats().gaps, 0u);
}

TEST_F(Transport, EightReadersAllSeeEveryPublishedFrame) {
    auto writer = makeWriter("fanout");
    std::vector<Reader> readers;
    for (int i = 0; i < 8; ++i) {
        readers.push_back(openReader("fanout", {.mode = ReadMode::Sequential}));
    }
    ASSERT_TRUE(test::waitUntil([&] { return writer.stats().readers == 8; }));
    for (std::uint64_t i = 1; i <= 3; ++i) {
        publish(writer, i);
        for (auto& reader : readers) {
            auto frame = reader.next(1s);
            ASSERT_TRUE(frame);
            EXPECT_TRUE(hasPattern(frame->bytes(), i));
        }
    }
    EXPECT_EQ(readers[0].writer()->readers, 8u);
}

TEST_F(Transport, AReaderThatNeverReadsDoesNotHoldTheWriterBack) {
    auto writer = makeWriter("idle");
    auto idle = openReader("idle", {.mode = ReadMode::Sequential});
    for (std::uint64_t i = 1; i <= 500; ++i) {
        publish(writer, i);
    }
    EXPECT_EQ(writer.stats().published, 500u);
    EXPECT_EQ(writer.stats().loanFailures, 0u);
    EXPECT_EQ(writer.stats().revokedLeases, 0u);
    auto frame = idle.next(1s);  // it still gets a recent frame, and says what it missed
    ASSERT_TRUE(frame);
    EXPECT_GT(idle.stats().gaps, 400u);
}

TEST_F(Transport, FramesHeldPastTheLeaseLimitArePrivateCopies) {
    WriterOptions options;
    options.leaseLimit = 2;
    options.slotCount = 6;
    auto writer = makeWriter("copies", PixelFormat::RGBA, options);
    auto reader = openReader("copies", {.mode = ReadMode::Sequential});
    std::vector<Frame> held;
    for (std::uint64_t i = 1; i <= 3; ++i) {
        publish(writer, i);
        auto frame = reader.next(1s);
        ASSERT_TRUE(frame);
        held.push_back(std::move(*frame));
    }
    EXPECT_FALSE(held[0].isCopy());
    EXPECT_FALSE(held[1].isCopy());
    EXPECT_TRUE(held[2].isCopy());
    EXPECT_TRUE(hasPattern(held[2].bytes(), 3));
    EXPECT_EQ(reader.stats().copies, 1u);
    held.clear();
    publish(writer, 4);
    auto frame = reader.next(1s);
    ASSERT_TRUE(frame);
    EXPECT_FALSE(frame->isCopy());  // releasing gave the leases back
}

TEST_F(Transport, AReaderThatAsksForMoreLeasesHoldsThatManyFramesWithoutCopies) {
    WriterOptions options;
    options.leaseLimit = 2;
    options.slotCount = 8;
    auto writer = makeWriter("asks", PixelFormat::RGBA, options);
    auto reader = openReader("asks", {.mode = ReadMode::Sequential, .leases = 16});
    auto other = openReader("asks", {.mode = ReadMode::Sequential});
    std::vector<Frame> held;
    for (std::uint64_t i = 1; i <= 7; ++i) {
        publish(writer, i);
        auto frame = reader.next(1s);
        ASSERT_TRUE(frame);
        held.push_back(std::move(*frame));
    }
    // Granted slots - 2: the newest frame and one slot to write stay free.
    ASSERT_TRUE(reader.writer().has_value());
    EXPECT_EQ(reader.writer()->leaseLimit, 6u);
    EXPECT_EQ(other.writer()->leaseLimit, 2u);  // a reader that does not ask gets the limit
    for (std::size_t i = 0; i < 6; ++i) {
        EXPECT_FALSE(held[i].isCopy()) << "frame " << i + 1;
    }
    EXPECT_TRUE(held[6].isCopy());
    EXPECT_EQ(reader.stats().copies, 1u);
}

TEST_F(Transport, WhenReadersPinEverySlotTheWriterTakesOneBackInsteadOfBlocking) {
    WriterOptions options;
    options.slotCount = 3;
    options.leaseLimit = 2;
    auto writer = makeWriter("pinned", PixelFormat::GRAY8, options);
    auto reader = openReader("pinned");
    publish(writer, 1);
    auto first = reader.next(1s);
    publish(writer, 2);
    auto second = reader.next(1s);
    ASSERT_TRUE(first && second);
    publish(writer, 3);  // the third slot was free
    publish(writer, 4);  // every other slot is leased or latest: revoke the oldest
    EXPECT_EQ(writer.stats().revokedLeases, 1u);
    EXPECT_FALSE(first->leaseIntact());
    EXPECT_TRUE(second->leaseIntact());
    first->release();
    EXPECT_EQ(reader.stats().revoked, 1u);
}

TEST_F(Transport, LosslessWriterWaitsForASequentialReaderAndLosesNothing) {
    WriterOptions options;
    options.slotCount = 3;
    options.policy = WriterPolicy::Lossless;
    options.losslessTimeout = 5s;
    auto writer = makeWriter("lossless", PixelFormat::GRAY8, options);
    auto reader = openReader("lossless", {.mode = ReadMode::Sequential});
    constexpr std::uint64_t kFrames = 60;
    std::atomic<std::uint64_t> received{0};
    std::atomic<bool> torn{false};
    std::thread consumer([&] {
        while (received < kFrames) {
            auto frame = reader.next(5s);
            if (!frame) {
                break;
            }
            torn = torn || !hasPattern(frame->bytes(), frame->meta().pts / 1000);
            ++received;
            std::this_thread::sleep_for(1ms);  // slower than the writer
        }
    });
    for (std::uint64_t i = 1; i <= kFrames; ++i) {
        publish(writer, i);
    }
    consumer.join();
    EXPECT_EQ(received.load(), kFrames);
    EXPECT_FALSE(torn.load());
    EXPECT_EQ(reader.stats().gaps, 0u);
    EXPECT_EQ(writer.stats().readersDropped, 0u);
}

TEST_F(Transport, LosslessWriterDropsAReaderThatStopsReadingAfterItsTimeout) {
    WriterOptions options;
    options.slotCount = 3;
    options.policy = WriterPolicy::Lossless;
    options.losslessTimeout = 200ms;
    std::vector<ReaderEvent> events;
    std::mutex eventsMutex;
    options.onReaderEvent = [&](const ReaderEvent& event) {
        std::lock_guard lock(eventsMutex);
        events.push_back(event);
    };
    auto writer = makeWriter("drop", PixelFormat::GRAY8, options);
    auto reader = openReader("drop", {.mode = ReadMode::Sequential, .reconnect = false});
    ASSERT_TRUE(test::waitUntil([&] { return writer.stats().readers == 1; }));
    for (std::uint64_t i = 1; i <= 6; ++i) {
        publish(writer, i);
    }
    EXPECT_EQ(writer.stats().readersDropped, 1u);
    EXPECT_EQ(writer.stats().published, 6u);
    std::lock_guard lock(eventsMutex);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back().kind, ReaderEvent::Kind::Dropped);
    EXPECT_NE(events.back().reason.find("lossless"), std::string::npos);
    // The reader still gets the frames it was sent, then learns why it was dropped.
    Errc last = Errc::WouldBlock;
    for (int i = 0; i < 10; ++i) {
        auto frame = reader.next(200ms);
        if (!frame) {
            last = frame.error().code;
            if (last == Errc::Dropped) {
                EXPECT_NE(frame.error().message.find("lossless"), std::string::npos);
                break;
            }
        }
    }
    EXPECT_EQ(last, Errc::Dropped);
}

// A reader let go gets its slots taken back: a frame it still holds must read as
// revoked once its slot is written over, and what it reads of the old pool before it
// learns it was let go comes as checked copies (a stopped reader, continued, was
// seeing torn frames whose leases still read as intact).
TEST_F(Transport, FramesOfAReaderThatWasLetGoReadAsRevokedAndItTakesNoNewLease) {
    WriterOptions options;
    options.slotCount = 3;
    options.policy = WriterPolicy::Lossless;
    options.losslessTimeout = 100ms;
    auto writer = makeWriter("letgo", PixelFormat::GRAY8, options);
    auto reader = openReader("letgo", {.mode = ReadMode::Sequential, .reconnect = false});
    ASSERT_TRUE(test::waitUntil([&] { return writer.stats().readers == 1; }));
    publish(writer, 1);
    auto held = reader.next(1s);
    ASSERT_TRUE(held);
    EXPECT_FALSE(held->isCopy());
    EXPECT_TRUE(held->leaseIntact());
    for (std::uint64_t i = 2; i <= 4; ++i) {
        publish(writer, i);  // the fourth waits for the reader, then drops it
    }
    ASSERT_EQ(writer.stats().readersDropped, 1u);
    EXPECT_FALSE(held->leaseIntact()) << "the writer took the slot back";
    // Every slot but the newest frame's written over: the held frame's too.
    std::vector<LoanedFrame> loans;
    for (int i = 0; i < 2; ++i) {
        auto loan = writer.loan();
        ASSERT_TRUE(loan) << loan.error().message;
        fillPattern(loan->bytes(), 99);
        loans.push_back(std::move(*loan));
    }
    for (auto& loan : loans) {
        ASSERT_TRUE(writer.publish(std::move(loan)));
    }
    EXPECT_FALSE(hasPattern(held->bytes(), 1))
        << "its slot was not reused: the test proves nothing";
    EXPECT_FALSE(held->leaseIntact());
    held = Result<Frame>(Error::make(Errc::WouldBlock, "released"));  // a closed lease stays closed
    Errc last = Errc::WouldBlock;
    for (int i = 0; i < 10 && last != Errc::Dropped; ++i) {
        auto frame = reader.next(200ms);
        if (!frame) {
            last = frame.error().code;
            continue;
        }
        EXPECT_TRUE(frame->isCopy()) << "a lease taken after the reader was let go";
        EXPECT_TRUE(hasPattern(frame->bytes(), frame->meta().pts / 1000) ||
                    hasPattern(frame->bytes(), 99));
    }
    EXPECT_EQ(last, Errc::Dropped);
}

TEST_F(Transport, EndOfStreamComesAfterTheLastFrameThenWriterGone) {
    auto writer = std::make_unique<Writer>(makeWriter("eos"));
    auto reader = openReader("eos", {.mode = ReadMode::Sequential, .reconnect = false});
    for (std::uint64_t i = 1; i <= 3; ++i) {
        publish(*writer, i);
    }
    ASSERT_TRUE(writer->endOfStream());
    for (std::uint64_t i = 1; i <= 3; ++i) {
        auto frame = reader.next(1s);
        ASSERT_TRUE(frame);
        EXPECT_EQ(frame->meta().sequence, i);
    }
    auto eos = reader.next(1s);
    ASSERT_FALSE(eos);
    EXPECT_EQ(eos.error().code, Errc::EndOfStream);
    EXPECT_EQ(reader.state(), ReaderState::EndOfStream);
    EXPECT_EQ(reader.tryNext().error().code, Errc::WouldBlock);  // reported once

    auto held = std::move(*writer);  // frames outlive the writer
    writer.reset();
    held.close();
    auto gone = reader.next(1s);
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().code, Errc::WriterGone);
    EXPECT_EQ(reader.next(10ms).error().code, Errc::NoWriter);
}

TEST_F(Transport, FramesStayReadableAfterTheWriterIsGone) {
    auto writer = std::make_unique<Writer>(makeWriter("afterlife"));
    auto reader = openReader("afterlife");
    publish(*writer, 42);
    auto frame = reader.next(1s);
    ASSERT_TRUE(frame);
    writer.reset();
    EXPECT_TRUE(hasPattern(frame->bytes(), 42));
}

TEST_F(Transport, FormatChangeMovesReadersAndOldFramesStayValid) {
    auto writer = makeWriter("change");
    auto reader = openReader("change");
    publish(writer, 1);
    auto old = reader.next(1s);
    ASSERT_TRUE(old);
    auto nv12 = Format::make(PixelFormat::NV12, 32, 16, {60, 1});
    ASSERT_TRUE(writer.reconfigure(*nv12));
    EXPECT_EQ(writer.stats().generation, 2u);
    publish(writer, 2);
    auto fresh = reader.next(1s);
    ASSERT_TRUE(fresh) << fresh.error().message;
    EXPECT_EQ(fresh->format(), *nv12);
    EXPECT_EQ(fresh->generation(), 2u);
    EXPECT_TRUE(hasPattern(fresh->bytes(), 2));
    EXPECT_TRUE(hasPattern(old->bytes(), 1));
    EXPECT_EQ(old->format().pixelFormat, PixelFormat::RGBA);
    EXPECT_EQ(reader.stats().formatChanges, 1u);
    EXPECT_EQ(reader.format()->pixelFormat, PixelFormat::NV12);
}

TEST_F(Transport, TheReaderFdBecomesReadableWhenAFrameIsPublished) {
    auto writer = makeWriter("pollable");
    auto reader = openReader("pollable");
    ASSERT_EQ(reader.tryNext().error().code, Errc::WouldBlock);  // arms the wake-up
    pollfd pfd{reader.fd(), POLLIN, 0};
    EXPECT_EQ(::poll(&pfd, 1, 0), 0);
    publish(writer, 9);
    ASSERT_EQ(::poll(&pfd, 1, 5000), 1);
    auto frame = reader.tryNext();
    ASSERT_TRUE(frame);
    EXPECT_TRUE(hasPattern(frame->bytes(), 9));
}

TEST_F(Transport, BlockingNextWakesUpForAFramePublishedByAnotherThread) {
    auto writer = makeWriter("wake");
    auto reader = openReader("wake");
    std::thread publisher([&] {
        std::this_thread::sleep_for(50ms);
        publish(writer, 3);
    });
    auto frame = reader.next(10s);
    publisher.join();
    ASSERT_TRUE(frame);
    EXPECT_TRUE(hasPattern(frame->bytes(), 3));
}

TEST_F(Transport, EightSleepingReadersAllWakeForOnePublish) {
    auto writer = makeWriter("fanwake");
    std::vector<Reader> readers;
    for (int i = 0; i < 8; ++i) {
        readers.push_back(openReader("fanwake"));
    }
    ASSERT_TRUE(test::waitUntil([&] { return writer.stats().readers == 8; }));
    // Each in its own thread, blocked in next() (or about to be): one publish must
    // reach all of them.
    std::atomic<int> waiting{0};
    std::vector<std::optional<Result<Frame>>> got(readers.size());
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < readers.size(); ++i) {
        threads.emplace_back([&, i] {
            waiting.fetch_add(1);
            got[i] = readers[i].next(20s);
        });
    }
    ASSERT_TRUE(test::waitUntil([&] { return waiting.load() == 8; }));
    publish(writer, 5);
    for (auto& thread : threads) {
        thread.join();
    }
    for (const auto& frame : got) {
        ASSERT_TRUE(frame.has_value());
        ASSERT_TRUE(*frame) << frame->error().message;
        EXPECT_TRUE(hasPattern((*frame)->bytes(), 5));
    }
    // And event-loop readers: each fd armed, none readable, all readable after one.
    std::vector<pollfd> fds;
    for (auto& reader : readers) {
        ASSERT_EQ(reader.tryNext().error().code, Errc::WouldBlock);
        fds.push_back({reader.fd(), POLLIN, 0});
    }
    for (auto& pfd : fds) {
        EXPECT_EQ(::poll(&pfd, 1, 0), 0);
    }
    publish(writer, 6);
    for (std::size_t i = 0; i < readers.size(); ++i) {
        ASSERT_EQ(::poll(&fds[i], 1, 10000), 1) << "reader " << i << " was not woken";
        auto frame = readers[i].tryNext();
        ASSERT_TRUE(frame) << frame.error().message;
        EXPECT_TRUE(hasPattern(frame->bytes(), 6));
    }
}

TEST_F(Transport, TheReaderFdKeepsWakingAcrossAWriterRestartAndStaysTheSameFd) {
    auto reader = openReader("restart", {.waitForWriter = true});
    const int fd = reader.fd();
    for (int round = 1; round <= 3; ++round) {
        SCOPED_TRACE("writer " + std::to_string(round));
        auto writer = makeWriter("restart");
        // Connected again (the first time already); then take a frame the usual way.
        publish(writer, 100 + static_cast<std::uint64_t>(round));
        std::optional<Frame> first;
        ASSERT_TRUE(test::waitUntil([&] {
            auto frame = reader.next(100ms);
            if (frame && frame->meta().pts == (100u + static_cast<unsigned>(round)) * 1000u) {
                first.emplace(std::move(*frame));
            }
            return first.has_value();
        }));
        first.reset();
        ASSERT_EQ(reader.tryNext().error().code, Errc::WouldBlock);  // arms the wake-up
        pollfd pfd{reader.fd(), POLLIN, 0};
        EXPECT_EQ(::poll(&pfd, 1, 0), 0);
        publish(writer, 200 + static_cast<std::uint64_t>(round));
        ASSERT_EQ(::poll(&pfd, 1, 10000), 1);
        auto frame = reader.tryNext();
        ASSERT_TRUE(frame) << frame.error().message;
        EXPECT_TRUE(hasPattern(frame->bytes(), 200 + static_cast<std::uint64_t>(round)));
        EXPECT_EQ(reader.fd(), fd);
    }
}

TEST_F(Transport, SpinModeReceivesFrames) {
    auto writer = makeWriter("spin");
    auto reader = openReader("spin", {.wait = WaitMode::Spin});
    std::thread publisher([&] {
        std::this_thread::sleep_for(20ms);
        publish(writer, 5);
    });
    auto frame = reader.next(10s);
    publisher.join();
    ASSERT_TRUE(frame);
    EXPECT_TRUE(hasPattern(frame->bytes(), 5));
}

TEST_F(Transport, UserMetadataTravelsWithTheFrame) {
    WriterOptions options;
    options.userMetaSize = 32;
    auto writer = makeWriter("usermeta", PixelFormat::GRAY8, options);
    auto reader = openReader("usermeta");
    auto frame = writer.loan();
    ASSERT_TRUE(frame);
    ASSERT_EQ(frame->userMeta().size(), 32u);
    std::memcpy(frame->userMeta().data(), "exposure=10ms", 13);
    frame->setUserMetaLength(13);
    ASSERT_TRUE(writer.publish(std::move(*frame)));
    auto got = reader.next(1s);
    ASSERT_TRUE(got);
    ASSERT_EQ(got->userMeta().size(), 13u);
    EXPECT_EQ(std::memcmp(got->userMeta().data(), "exposure=10ms", 13), 0);
}

TEST_F(Transport, AReaderCanWaitForAWriterThatStartsLater) {
    auto reader = openReader("later", {.waitForWriter = true});
    EXPECT_EQ(reader.state(), ReaderState::WaitingForWriter);
    EXPECT_FALSE(reader.format());
    std::optional<Writer> writer;
    std::thread starter([&] {
        std::this_thread::sleep_for(50ms);
        writer.emplace(makeWriter("later"));
        publish(*writer, 11);
    });
    starter.join();
    auto frame = reader.next(10s);
    ASSERT_TRUE(frame) << frame.error().message;
    EXPECT_TRUE(hasPattern(frame->bytes(), 11));
    EXPECT_EQ(reader.state(), ReaderState::Connected);
}

TEST_F(Transport, LoanedFramesDroppedUnpublishedGoBackToThePool) {
    WriterOptions options;
    options.slotCount = 3;
    auto writer = makeWriter("drops", PixelFormat::GRAY8, options);
    for (int i = 0; i < 100; ++i) {
        auto frame = writer.loan();
        ASSERT_TRUE(frame) << i;
    }
    auto a = writer.loan();
    auto b = writer.loan();
    auto c = writer.loan();
    ASSERT_TRUE(a && b && c);
    auto d = writer.loan();  // all three slots are out on loan
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error().code, Errc::WouldBlock);
}

TEST_F(Transport, ALoanedFrameStaysWritableAfterAFormatChangeAndAfterItsWriterIsGone) {
    WriterOptions options;
    options.slotCount = 3;
    std::optional<LoanedFrame> kept;
    {
        auto writer = makeWriter("outlives", PixelFormat::GRAY8, options);
        auto old = writer.loan();
        ASSERT_TRUE(old);
        auto nv12 = Format::make(PixelFormat::NV12, 32, 16, {60, 1});
        ASSERT_TRUE(writer.reconfigure(*nv12));
        // A loan of the replaced pool is refused, and every slot of the new one is free.
        auto refused = writer.publish(std::move(*old));
        ASSERT_FALSE(refused);
        EXPECT_EQ(refused.error().code, Errc::InvalidArgument);
        auto a = writer.loan();
        auto b = writer.loan();
        auto c = writer.loan();
        ASSERT_TRUE(a && b && c);
        kept.emplace(std::move(*a));
    }
    // The writer is gone; the frame's pool is still mapped and writable.
    ASSERT_TRUE(kept->valid());
    fillPattern(kept->bytes(), 7);
    EXPECT_TRUE(hasPattern(kept->bytes(), 7));
    EXPECT_EQ(kept->format().pixelFormat, PixelFormat::NV12);
    kept.reset();
}

TEST_F(Transport, ProbingAndListingShowTheLiveFeeds) {
    auto writer = makeWriter("listed", PixelFormat::BGRx);
    auto other = makeWriter("also-listed", PixelFormat::NV12);
    publish(writer, 1);
    const auto feeds = listFeeds();
    ASSERT_EQ(feeds.size(), 2u);
    EXPECT_EQ(feeds[0].name, "also-listed");
    EXPECT_EQ(feeds[1].name, "listed");
    EXPECT_EQ(feeds[1].format.pixelFormat, PixelFormat::BGRx);
    EXPECT_EQ(feeds[1].published, 1u);
    EXPECT_EQ(feeds[1].writerPid, ::getpid());
    EXPECT_EQ(writer.stats().readers, 0u);  // a probe is not a reader
}

TEST_F(Transport, ASecondWriterOnALiveFeedIsToldThePidOfTheFirst) {
    auto writer = makeWriter("taken");
    auto format = Format::make(PixelFormat::RGBA, 8, 8);
    auto second = Writer::create("taken", *format);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, Errc::WriterExists);
    EXPECT_NE(second.error().message.find(std::to_string(::getpid())), std::string::npos);
}

TEST_F(Transport, AReaderWithoutAWriterIsToldWhereItLooked) {
    auto reader = Reader::open("nobody-here");
    ASSERT_FALSE(reader);
    EXPECT_EQ(reader.error().code, Errc::NoWriter);
    EXPECT_NE(reader.error().message.find("no writer for feed 'nobody-here'"), std::string::npos);
    EXPECT_NE(reader.error().message.find(dir_.path()), std::string::npos);
}

TEST_F(Transport, FeedNamesOutsideTheAllowedSetAreRefused) {
    auto format = Format::make(PixelFormat::RGBA, 8, 8);
    for (const char* bad :
         {"", "a/b", "..", "cam 0", "cam0;rm", "ß",
          "a123456789012345678901234567890123456789012345678901234567890123456"}) {
        auto writer = Writer::create(bad, *format);
        ASSERT_FALSE(writer) << bad;
        EXPECT_EQ(writer.error().code, Errc::InvalidFeedName) << bad;
        auto reader = Reader::open(bad);
        ASSERT_FALSE(reader) << bad;
        EXPECT_EQ(reader.error().code, Errc::InvalidFeedName) << bad;
    }
}

TEST_F(Transport, AnAbsoluteSocketPathWorksAsAFeedName) {
    const std::string path = dir_.path() + "/custom.sock";
    auto writer = makeWriter(path.c_str());
    auto reader = openReader(path.c_str());
    publish(writer, 4);
    auto frame = reader.next(1s);
    ASSERT_TRUE(frame);
    EXPECT_TRUE(hasPattern(frame->bytes(), 4));
}

TEST_F(Transport, ARetainedPublishKeepsTheSlotPinnedUntilTheFrameIsDropped) {
    WriterOptions options;
    options.slotCount = 3;
    auto writer = makeWriter("retained", PixelFormat::GRAY8, options);
    auto reader = openReader("retained");
    auto kept = writer.loan();
    ASSERT_TRUE(kept);
    fillPattern(kept->bytes(), 1);
    auto retained = writer.publishRetained(std::move(*kept));
    ASSERT_TRUE(retained) << retained.error().message;
    EXPECT_TRUE(retained->valid());
    EXPECT_FALSE(writer.publishRetained(std::move(*kept)));  // once only: the loan moved on
    // A published frame offers read-only planes only.
    static_assert(std::is_same_v<decltype(retained->plane(0)), std::span<const std::byte>>);
    static_assert(std::is_same_v<decltype(retained->bytes()), std::span<const std::byte>>);
    // Many publishes later the retained frame is still intact: its slot was never reused.
    for (std::uint64_t i = 2; i <= 20; ++i) {
        publish(writer, i);
    }
    EXPECT_TRUE(hasPattern(retained->bytes(), 1));
    auto frame = reader.next(1s);
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->meta().sequence, 20u);
    // Two slots for everything else; dropping the retained frame gives its slot back.
    auto a = writer.loan();
    ASSERT_TRUE(a);
    EXPECT_FALSE(writer.loan());
    retained = Error::make(Errc::InvalidArgument, "dropped");
    EXPECT_TRUE(writer.loan());
}

TEST_F(Transport, InterruptCutsABlockingWaitShortFromAnotherThread) {
    auto writer = makeWriter("interrupt");
    auto reader = openReader("interrupt");
    std::thread interrupter([&] {
        std::this_thread::sleep_for(50ms);
        reader.interrupt();
    });
    auto frame = reader.next(60s);
    interrupter.join();
    ASSERT_FALSE(frame);
    EXPECT_EQ(frame.error().code, Errc::Interrupted);
    publish(writer, 8);  // the reader works on as before
    auto next = reader.next(1s);
    ASSERT_TRUE(next);
    EXPECT_TRUE(hasPattern(next->bytes(), 8));
}

// The writer admits a reader at one sequence: frames published right after it welcomed
// the reader, while the reader still sets itself up, are the reader's to read.
TEST_F(Transport, ASequentialReaderWaitingForItsWriterGetsEveryFramePublishedOnceItIsConnected) {
    for (int round = 0; round < 200; ++round) {
        auto reader = openReader(
            "seqwake", {.mode = ReadMode::Sequential, .waitForWriter = true, .reconnect = false});
        std::atomic<bool> connected{false};
        WriterOptions options;
        options.policy = round % 2 ? WriterPolicy::Lossless : WriterPolicy::NeverBlock;
        options.onReaderEvent = [&](const ReaderEvent& event) {
            if (event.kind == ReaderEvent::Kind::Connected) {
                connected = true;
            }
        };
        auto writer = std::make_unique<Writer>(makeWriter("seqwake", PixelFormat::RGBA, options));
        std::vector<std::uint64_t> got;
        std::thread consumer([&] {
            while (got.size() < 3) {
                auto frame = reader.next(5s);
                if (!frame) {
                    return;
                }
                got.push_back(frame->meta().sequence);
            }
        });
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (!connected && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::yield();
        }
        for (std::uint64_t i = 1; i <= 3; ++i) {
            publish(*writer, i);
        }
        consumer.join();
        ASSERT_TRUE(connected) << "round " << round;
        ASSERT_EQ(got, (std::vector<std::uint64_t>{1, 2, 3}))
            << "round " << round << ", gaps " << reader.stats().gaps;
        writer.reset();
    }
}

// A clean close() right after the last publish: every frame, then EndOfStream, then
// WriterGone, although the hang-up may be there before the reader looks at the pool.
TEST_F(Transport, AWriterThatClosesRightAfterItsLastFrameEndsItsStreamBeforeItHangsUp) {
    for (int round = 0; round < 200; ++round) {
        auto writer = std::make_unique<Writer>(makeWriter("lastwords"));
        auto reader = openReader("lastwords", {.mode = ReadMode::Sequential, .reconnect = false});
        std::vector<std::uint64_t> got;
        Errc end = Errc::WouldBlock;
        std::thread consumer([&] {
            for (;;) {
                auto frame = reader.next(5s);
                if (!frame) {
                    end = frame.error().code;
                    return;
                }
                got.push_back(frame->meta().sequence);
            }
        });
        for (std::uint64_t i = 1; i <= 3; ++i) {
            publish(*writer, i);
        }
        writer.reset();  // close(): end of stream, then the hang-up
        consumer.join();
        ASSERT_EQ(got, (std::vector<std::uint64_t>{1, 2, 3})) << "round " << round;
        ASSERT_EQ(end, Errc::EndOfStream) << "round " << round;
        EXPECT_EQ(reader.next(1s).error().code, Errc::WriterGone) << "round " << round;
    }
}
