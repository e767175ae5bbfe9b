// SPDX-License-Identifier: LGPL-2.1-or-later
// The reader table a writer hands its probe (FeedInfo::readerTable, what `shmframe top`
// shows): each reader's mode, leases, lag and drops, as the reader left them. A reader
// that keeps up, one that skips, one that stopped reading and one stopped for real
// (SIGSTOP, in another process) each show what happened to them.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <optional>

#include "robustness_support.h"

using namespace shmframe;
using namespace shmframe::robust;

namespace {

class ReaderTable : public RobustnessTest {};

const FeedReader* rowNamed(const FeedInfo& info, const std::string& name) {
    auto it = std::find_if(info.readerTable.begin(), info.readerTable.end(),
                           [&](const FeedReader& reader) { return reader.clientName == name; });
    return it == info.readerTable.end() ? nullptr : &*it;
}

}  // namespace

TEST_F(ReaderTable, AProbeSeesEachReadersModeLagAndDrops) {
    WriterOptions options;
    options.slotCount = 4;
    auto writer = Writer::create("table", smallFormat(), options);
    ASSERT_TRUE(writer) << writer.error().message;
    auto keeping = Reader::open("table", {.clientName = "keeps up"});
    auto stopped = Reader::open("table", {.clientName = "stopped reading"});
    auto sequential =
        Reader::open("table", {.mode = ReadMode::Sequential, .clientName = "sequential"});
    ASSERT_TRUE(keeping && stopped && sequential);
    std::optional<Reader> stoppedReader(std::move(*stopped));

    ASSERT_TRUE(publishPattern(*writer, 1));
    auto first = keeping->next(5s);
    auto held = stoppedReader->next(5s);
    auto firstInOrder = sequential->next(5s);
    ASSERT_TRUE(first && held && firstInOrder);
    std::optional<Frame> kept(std::move(*first));
    std::optional<Frame> heldFrame(std::move(*held));  // a lease in use
    for (std::uint64_t k = 2; k <= 8; ++k) {
        ASSERT_TRUE(publishPattern(*writer, k));
    }
    // The latest reader skips to frame 8; the sequential one finds frames it never read
    // overwritten (4 slots, one pinned by frame 1), reads the oldest left and stays behind.
    auto newest = keeping->next(5s);
    ASSERT_TRUE(newest) << newest.error().message;
    EXPECT_EQ(newest->meta().sequence, 8u);
    kept = std::move(*newest);  // lets frame 1 go: one lease held
    auto inOrder = sequential->next(5s);
    ASSERT_TRUE(inOrder) << inOrder.error().message;
    const std::uint64_t sequentialAt = inOrder->meta().sequence;
    ASSERT_GT(sequentialAt, 2u);
    ASSERT_LT(sequentialAt, 8u);

    auto info = probeFeed("table");
    ASSERT_TRUE(info) << info.error().message;
    ASSERT_TRUE(info->readerTableKnown);
    ASSERT_EQ(info->readers, 3u);
    ASSERT_EQ(info->readerTable.size(), 3u);
    for (const FeedReader& row : info->readerTable) {
        EXPECT_EQ(row.pid, ::getpid()) << row.clientName;
        EXPECT_EQ(row.uid, ::getuid()) << row.clientName;
        EXPECT_TRUE(row.reportsProgress) << row.clientName;
        EXPECT_GE(row.leaseLimit, 1u) << row.clientName;
        EXPECT_NE(row.id, 0u) << row.clientName;
    }
    const FeedReader* keepsUp = rowNamed(*info, "keeps up");
    const FeedReader* stalled = rowNamed(*info, "stopped reading");
    const FeedReader* ordered = rowNamed(*info, "sequential");
    ASSERT_TRUE(keepsUp && stalled && ordered);

    EXPECT_FALSE(keepsUp->sequential);
    EXPECT_EQ(keepsUp->lag, 0u);
    EXPECT_EQ(keepsUp->drops, 6u);  // frames 2 to 7
    EXPECT_EQ(keepsUp->drops, keeping->stats().skipped);
    EXPECT_EQ(keepsUp->received, 2u);
    EXPECT_EQ(keepsUp->leasesHeld, 1u);

    EXPECT_EQ(stalled->lag, 7u);  // frames 2 to 8, none taken
    EXPECT_EQ(stalled->drops, 0u);
    EXPECT_EQ(stalled->received, 1u);
    EXPECT_EQ(stalled->leasesHeld, 1u);

    EXPECT_TRUE(ordered->sequential);
    EXPECT_EQ(ordered->lag, 8u - sequentialAt);
    EXPECT_EQ(ordered->drops, sequential->stats().gaps);
    EXPECT_EQ(ordered->drops, sequentialAt - 2);  // what it never read of 2..sequentialAt-1
    EXPECT_EQ(ordered->received, 2u);

    // A reader that goes is gone from the table.
    heldFrame.reset();
    stoppedReader.reset();
    ASSERT_TRUE(test::waitUntil(
        [] {
            auto now = probeFeed("table");
            return now && now->readerTable.size() == 2 && !rowNamed(*now, "stopped reading");
        },
        10s));
}

TEST_F(ReaderTable, AReaderStoppedWithSigstopShowsItsLagGrowing) {
    auto writer = Writer::create("stop", smallFormat());
    ASSERT_TRUE(writer) << writer.error().message;
    Publisher publisher(*writer, 5ms);
    auto peer = startPeer({"reader", "stop", "--timeout-ms", "2000"});
    ASSERT_TRUE(peer.waitReady());
    const pid_t peerPid = peer.child.pid();
    auto rowOf = [&]() -> std::optional<FeedReader> {
        auto info = probeFeed("stop");
        if (!info) {
            return std::nullopt;
        }
        for (const FeedReader& row : info->readerTable) {
            if (row.pid == peerPid) {
                return row;
            }
        }
        return std::nullopt;
    };
    // Reading: it takes frames.
    ASSERT_TRUE(test::waitUntil(
        [&] {
            auto row = rowOf();
            return row && row->received > 0;
        },
        20s));
    ASSERT_EQ(::kill(peerPid, SIGSTOP), 0);
    auto before = rowOf();
    ASSERT_TRUE(before);
    // Stopped: what it took stays, what it lags grows with every frame published.
    ASSERT_TRUE(test::waitUntil(
        [&] {
            auto row = rowOf();
            return row && row->lag >= before->lag + 10;
        },
        20s))
        << "lag stayed at " << before->lag;
    auto after = rowOf();
    ASSERT_TRUE(after);
    EXPECT_EQ(after->received, before->received);
    ::kill(peerPid, SIGCONT);
    EXPECT_EQ(peer.stop(), 0);
    publisher.stop();
    EXPECT_EQ(publisher.error(), "");
}
