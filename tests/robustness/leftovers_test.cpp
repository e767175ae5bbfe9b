// SPDX-License-Identifier: LGPL-2.1-or-later
// Nothing left behind: a killed writer's socket and lock are cleaned by the next
// reader or listing, pools are memfds (never files in /dev/shm), and a writer's fds
// and memory stay flat while readers come and go.
#include <signal.h>

#include <algorithm>
#include <thread>

#include "robustness_support.h"

using namespace shmframe;
using namespace shmframe::robust;

namespace {
class Leftovers : public RobustnessTest {};
using Names = std::vector<std::string>;
}  // namespace

TEST_F(Leftovers, AReaderRemovesTheSocketAndLockOfAKilledWriter) {
    auto writer = startPeer({"writer", "gone"});
    ASSERT_TRUE(writer.waitReady());
    ReaderOptions options;
    options.waitForWriter = true;
    auto reader = Reader::open("gone", options);
    ASSERT_TRUE(reader);
    auto frame = reader->next(5s);
    ASSERT_TRUE(frame) << frame.error().message;
    EXPECT_EQ(dir_.entries(), (Names{"gone.lock", "gone.sock"}));

    writer.child.kill();
    EXPECT_EQ(dir_.entries(), (Names{"gone.lock", "gone.sock"})) << "SIGKILL cleans nothing";
    // The reader notices the hang-up, finds the writer's lock free and removes both.
    EXPECT_TRUE(test::waitUntil([&] {
        [[maybe_unused]] auto next = reader->next(50ms);
        return dir_.entries().empty();
    })) << "left: "
        << dir_.entries().size() << " files";
    EXPECT_TRUE(test::hasPattern(frame->bytes(), frame->meta().pts));
}

TEST_F(Leftovers, ListingFeedsRemovesWhatKilledWritersLeftAndKeepsTheLiveOnes) {
    auto a = startPeer({"writer", "a"});
    auto b = startPeer({"writer", "b"});
    auto c = startPeer({"writer", "c"});
    ASSERT_TRUE(a.waitReady() && b.waitReady() && c.waitReady());
    EXPECT_EQ(listFeeds().size(), 3u);
    a.child.kill();
    c.child.kill();
    EXPECT_EQ(dir_.entries().size(), 6u);
    const auto feeds = listFeeds();
    ASSERT_EQ(feeds.size(), 1u);
    EXPECT_EQ(feeds[0].name, "b");
    EXPECT_EQ(feeds[0].writerPid, b.child.pid());
    EXPECT_EQ(dir_.entries(), (Names{"b.lock", "b.sock"}));
    // A new writer takes over the name of a killed one without complaint.
    auto again = startPeer({"writer", "a"});
    ASSERT_TRUE(again.waitReady());
    EXPECT_EQ(listFeeds().size(), 2u);
    EXPECT_EQ(again.stop(), 0);
    EXPECT_EQ(b.stop(), 0);
    EXPECT_TRUE(dir_.entries().empty());
}

TEST_F(Leftovers, PoolsAreMemfdsAndNeverFilesInDevShm) {
    const auto devShm = devShmEntries();
    auto writer = startPeer({"writer", "mem", "--reconfigure-every", "20", "--fps", "500"});
    ASSERT_TRUE(writer.waitReady());
    auto reader = Reader::open("mem");
    ASSERT_TRUE(reader) << reader.error().message;
    for (int i = 0; i < 60; ++i) {  // across a few format changes
        auto frame = reader->next(5s);
        ASSERT_TRUE(frame) << frame.error().message;
    }
    EXPECT_FALSE(mapsLines(writer.child.pid(), "/memfd:shmframe:mem").empty());
    EXPECT_TRUE(mapsLines(writer.child.pid(), "/dev/shm").empty());
    EXPECT_FALSE(mapsLines(0, "/memfd:shmframe:mem").empty());
    EXPECT_TRUE(mapsLines(0, "/dev/shm").empty());
    EXPECT_EQ(devShmEntries(), devShm);
    writer.child.kill();
    EXPECT_EQ(devShmEntries(), devShm) << "a killed writer left a file in /dev/shm";
    listFeeds();  // clean the killed writer's socket and lock
}

TEST_F(Leftovers, AWritersFdsAndMemoryStayFlatWhileReadersComeAndGo) {
    auto writer = startPeer({"writer", "flat", "--fps", "500"});
    ASSERT_TRUE(writer.waitReady());
    const pid_t pid = writer.child.pid();
    const auto probeReaders = [] {
        auto info = probeFeed("flat");
        return info ? static_cast<int>(info->readers) : -1;
    };

    // Warm up, then take the writer's numbers with no reader connected.
    for (int i = 0; i < 20; ++i) {
        auto reader = Reader::open("flat");
        ASSERT_TRUE(reader);
        ASSERT_TRUE(reader->next(5s));
    }
    ASSERT_TRUE(test::waitUntil([&] { return probeReaders() == 0; }));
    std::this_thread::sleep_for(100ms);  // the writer closes the last probe's socket
    const int fdsBefore = openFdCount(pid);
    const long rssBefore = residentKb(pid);

    // 300 readers in this process, some holding frames when they go, and 20 in other
    // processes killed with SIGKILL.
    for (int i = 0; i < 300; ++i) {
        ReaderOptions options;
        options.mode = i % 2 ? ReadMode::Sequential : ReadMode::Latest;
        auto reader = Reader::open("flat", options);
        ASSERT_TRUE(reader) << reader.error().message;
        auto frame = reader->next(5s);
        ASSERT_TRUE(frame) << frame.error().message;
        ASSERT_TRUE(test::hasPattern(frame->bytes(), frame->meta().pts));
    }
    for (int i = 0; i < 20; ++i) {
        auto peer = startPeer({"reader", "flat", "--hold", "2"});
        ASSERT_TRUE(peer.waitReady());
        ASSERT_TRUE(test::waitUntil([&] { return probeReaders() == 1; }));
        peer.child.kill();
    }
    ASSERT_TRUE(test::waitUntil([&] { return probeReaders() == 0; }));
    EXPECT_TRUE(test::waitUntil([&] { return openFdCount(pid) == fdsBefore; }, 5s))
        << "the writer holds " << openFdCount(pid) << " fds, " << fdsBefore << " before";
    const long rssAfter = residentKb(pid);
    if (kRssIsMeaningful) {
        EXPECT_LT(rssAfter - rssBefore, 2048)
            << "writer RSS " << rssBefore << " -> " << rssAfter << " KiB";
    }
    RecordProperty("writerFds", fdsBefore);
    RecordProperty("writerRssKb", static_cast<int>(rssAfter));
    EXPECT_EQ(writer.stop(), 0);
}
