// SPDX-License-Identifier: LGPL-2.1-or-later
// The bounded churn test: a writer at a high frame rate (changing format now and then)
// while readers in other processes join, leave, are killed (SIGKILL) and stopped
// (SIGSTOP) at random. Every frame a reader gets is checked against the pattern its
// pts names (zero torn frames); the writer's fds and memory, this process's fds and
// the feed dir stay flat.
//
// SHMFRAME_CHURN_SECONDS sets how long the churn lasts (default 120: the two minutes the
// robustness issue asks for; the sanitizer run uses 30).
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>

#include "robustness_support.h"

using namespace shmframe;
using namespace shmframe::robust;

namespace {

class Churn : public RobustnessTest {};

struct ChurnReader {
    Peer peer;
    bool stopped = false;
};

std::chrono::seconds churnDuration() {
    const char* text = std::getenv("SHMFRAME_CHURN_SECONDS");
    const long seconds = text ? std::atol(text) : 120;
    return std::chrono::seconds(seconds > 0 ? seconds : 120);
}

}  // namespace

TEST_F(Churn, ReadersJoiningLeavingDyingAndStoppingNeverSeeATornFrameAndLeaveNothingBehind) {
    const auto duration = churnDuration();
    auto writer =
        startPeer({"writer", "churn", "--size", "160x120", "--fps", "400", "--slots", "6",
                   "--reconfigure-every", "800", "--alt-format", "NV12", "--alt-size", "176x144"});
    ASSERT_TRUE(writer.waitReady());
    const pid_t writerPid = writer.child.pid();
    const auto readersNow = [] {
        auto info = probeFeed("churn");
        return info ? static_cast<int>(info->readers) : -1;
    };

    // One reader in this process runs through the whole churn, checking every frame.
    std::atomic<bool> stopWatcher{false};
    std::atomic<std::uint64_t> watched{0};
    std::atomic<std::uint64_t> watchedTorn{0};
    std::atomic<std::uint64_t> watchedFormats{0};
    ReaderOptions options;
    options.mode = ReadMode::Sequential;
    auto watcherReader = Reader::open("churn", options);
    ASSERT_TRUE(watcherReader) << watcherReader.error().message;
    struct JoinOnExit {
        std::atomic<bool>& stop;
        std::thread& thread;
        ~JoinOnExit() {
            stop.store(true);
            if (thread.joinable()) {
                thread.join();
            }
        }
    };
    std::thread watcher;
    JoinOnExit joinWatcher{stopWatcher, watcher};
    watcher = std::thread([&] {
        std::uint32_t generation = 0;
        while (!stopWatcher.load()) {
            auto frame = watcherReader->next(200ms);
            if (!frame) {
                continue;
            }
            watched.fetch_add(1);
            if (!test::hasPattern(frame->bytes(), frame->meta().pts) && frame->leaseIntact()) {
                watchedTorn.fetch_add(1);
            }
            if (frame->generation() != generation) {
                generation = frame->generation();
                watchedFormats.fetch_add(1);
            }
        }
    });

    // The writer's numbers with only the watcher connected, after a warm-up.
    ASSERT_TRUE(test::waitUntil([&] { return watched.load() > 100; }));
    ASSERT_TRUE(test::waitUntil([&] { return readersNow() == 1; }));
    std::this_thread::sleep_for(100ms);  // the writer closes the last probe's socket
    const int writerFdsBefore = openFdCount(writerPid);
    const long writerRssBefore = residentKb(writerPid);
    const int ourFdsBefore = test::countOpenFds();
    const long ourRssBefore = residentKb();

    std::mt19937 random(20240611);
    std::vector<ChurnReader> readers;
    long spawned = 0;
    long killed = 0;
    long stoppedCount = 0;
    long graceful = 0;
    long receivedByGraceful = 0;
    long tornByGraceful = 0;
    long inProcessCycles = 0;
    const auto stopGracefully = [&](ChurnReader& reader) {
        reader.peer.child.signal(SIGCONT);
        // SIGTERM before the reader installed its handler would kill it outright (a
        // slow start, e.g. under TSan); "ready" comes after the handler.
        EXPECT_TRUE(reader.peer.waitReady(20s)) << "a reader never got ready";
        reader.peer.child.signal(SIGTERM);
        auto summary = readSummary(reader.peer.out, 20s);
        const int code = reader.peer.child.wait(20s);
        EXPECT_TRUE(summary) << "a reader gave no summary";
        EXPECT_EQ(code, 0) << "a reader exited with " << code;
        if (summary) {
            ++graceful;
            receivedByGraceful += summary->received;
            tornByGraceful += summary->bad;
        }
    };

    const auto end = std::chrono::steady_clock::now() + duration;
    while (std::chrono::steady_clock::now() < end) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50 + random() % 150));
        const auto action = random() % 10;
        if (readers.size() < 3 || (action < 3 && readers.size() < 8)) {
            std::vector<std::string> args{"reader",       "churn",
                                          "--timeout-ms", "300",
                                          "--mode",       random() % 2 ? "latest" : "sequential",
                                          "--hold",       std::to_string(random() % 4)};
            readers.push_back(ChurnReader{startPeer(args), false});
            ++spawned;
            continue;
        }
        const std::size_t index = random() % readers.size();
        auto& reader = readers[index];
        if (action < 5) {
            reader.peer.child.kill();  // SIGKILL, leases and all
            ++killed;
            readers.erase(readers.begin() + static_cast<long>(index));
        } else if (action < 7) {
            stopGracefully(reader);
            readers.erase(readers.begin() + static_cast<long>(index));
        } else if (action < 9) {
            reader.peer.child.signal(reader.stopped ? SIGCONT : SIGSTOP);
            stoppedCount += reader.stopped ? 0 : 1;
            reader.stopped = !reader.stopped;
        } else {
            // A short-lived reader in this process.
            auto visitor = Reader::open("churn");
            ASSERT_TRUE(visitor) << visitor.error().message;
            for (int i = 0; i < 5; ++i) {
                auto frame = visitor->next(2s);
                ASSERT_TRUE(frame) << frame.error().message;
                EXPECT_TRUE(test::hasPattern(frame->bytes(), frame->meta().pts) ||
                            !frame->leaseIntact());
            }
            ++inProcessCycles;
        }
    }
    for (auto& reader : readers) {
        stopGracefully(reader);
    }
    readers.clear();

    // The writer never failed and is still publishing.
    ASSERT_TRUE(writer.child.running()) << "the writer died during the churn";
    const auto before = watched.load();
    ASSERT_TRUE(test::waitUntil([&] { return watched.load() > before + 100; }));
    EXPECT_EQ(watchedTorn.load(), 0u);
    EXPECT_EQ(tornByGraceful, 0);
    EXPECT_GT(watchedFormats.load(), 2u) << "the writer never changed format";

    // Back to only the watcher: the writer holds exactly the fds it held before, and
    // its memory did not grow; nor did ours.
    ASSERT_TRUE(test::waitUntil([&] { return readersNow() == 1; }, 30s));
    EXPECT_TRUE(test::waitUntil([&] { return openFdCount(writerPid) == writerFdsBefore; }, 5s))
        << "the writer holds " << openFdCount(writerPid) << " fds, " << writerFdsBefore
        << " before";
    const long writerRssAfter = residentKb(writerPid);
    if (kRssIsMeaningful) {
        EXPECT_LT(writerRssAfter - writerRssBefore, 4096)
            << "writer RSS " << writerRssBefore << " -> " << writerRssAfter << " KiB";
    }
    EXPECT_EQ(test::countOpenFds(), ourFdsBefore);
    const long ourRssAfter = residentKb();
    if (kRssIsMeaningful) {
        EXPECT_LT(ourRssAfter - ourRssBefore, 8192)
            << "our RSS " << ourRssBefore << " -> " << ourRssAfter << " KiB";
    }
    EXPECT_EQ(dir_.entries(), (std::vector<std::string>{"churn.lock", "churn.sock"}));

    stopWatcher.store(true);
    watcher.join();
    std::printf(
        "churn: %lld s, %ld readers started, %ld killed, %ld stopped, %ld ended cleanly having "
        "received %ld frames, %ld in-process visits; watcher got %llu frames across %llu "
        "formats; writer fds %d, RSS %ld -> %ld KiB\n",
        static_cast<long long>(duration.count()), spawned, killed, stoppedCount, graceful,
        receivedByGraceful, inProcessCycles, static_cast<unsigned long long>(watched.load()),
        static_cast<unsigned long long>(watchedFormats.load()), writerFdsBefore, writerRssBefore,
        writerRssAfter);
    EXPECT_GT(spawned, 20);
    EXPECT_GT(killed, 3);
    watcherReader = Error::make(Errc::NoWriter, "closed");
    EXPECT_EQ(writer.stop(), 0);
}
