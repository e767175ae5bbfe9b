// SPDX-License-Identifier: LGPL-2.1-or-later
// Writers that die (kill -9) or exit cleanly, and come back: readers follow by
// themselves, and what they hold from the old writer stays readable.
#include <signal.h>

#include <deque>
#include <set>

#include "robustness_support.h"

using namespace shmframe;
using namespace shmframe::robust;

namespace {

class WriterRestart : public RobustnessTest {};

bool sameShape(const Format& a, const Format& b) {
    return a.pixelFormat == b.pixelFormat && a.width == b.width && a.height == b.height;
}

std::vector<std::string> writerArgs(const std::string& feed, const Format& format) {
    return {"writer",   feed,
            "--format", std::string(toString(format.pixelFormat)),
            "--size",   std::to_string(format.width) + "x" + std::to_string(format.height),
            "--fps",    "200",
            "--no-eos"};
}

// The next frame of a writer session other than \a oldSession, skipping the outcomes a
// restart produces on the way (writer gone, waits).
std::optional<Frame> frameOfNewSession(Reader& reader, std::uint64_t oldSession,
                                       std::vector<Errc>& outcomes) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
        auto frame = reader.next(500ms);
        if (!frame) {
            outcomes.push_back(frame.error().code);
            continue;
        }
        if (frame->writerSession() != oldSession) {
            return std::move(*frame);
        }
    }
    return std::nullopt;
}

}  // namespace

TEST_F(WriterRestart, ReadersReconnectByThemselvesWhenAWriterIsKilledAndRestartedFiftyTimes) {
    constexpr int kRestarts = 50;
    const Format rgba = smallFormat(PixelFormat::RGBA, 64, 48);
    const Format nv12 = smallFormat(PixelFormat::NV12, 96, 64);

    auto writer = startPeer(writerArgs("cam", rgba));
    ASSERT_TRUE(writer.waitReady());
    // A second reader in its own process, sequential, printing every frame it gets.
    auto peerReader =
        startPeer({"reader", "cam", "--timeout-ms", "500", "--mode", "sequential", "--verbose"});
    ASSERT_TRUE(peerReader.waitReady());

    ReaderOptions options;
    options.waitForWriter = true;
    auto reader = Reader::open("cam", options);
    ASSERT_TRUE(reader) << reader.error().message;

    std::deque<Frame> heldFromDeadWriters;  // one frame of every killed writer
    std::set<std::uint64_t> sessions;
    std::uint64_t session = 0;
    long baselineRss = -1;
    int fdsWhileRunning = -1;
    std::vector<Errc> outcomes;
    int formatChangesSeen = 0;
    std::uint64_t peerSession = 0;

    for (int restart = 0; restart <= kRestarts; ++restart) {
        SCOPED_TRACE("writer #" + std::to_string(restart));
        const Format& expected = (restart % 5 == 4) ? nv12 : rgba;
        auto frame = frameOfNewSession(*reader, session, outcomes);
        ASSERT_TRUE(frame) << "no frame from the new writer";
        EXPECT_TRUE(sameShape(frame->format(), expected)) << frame->format().describe();
        EXPECT_TRUE(test::hasPattern(frame->bytes(), frame->meta().pts));
        ASSERT_TRUE(reader->format());
        EXPECT_TRUE(sameShape(*reader->format(), expected));
        if (restart > 0 && !sameShape(frame->format(), heldFromDeadWriters.back().format())) {
            ++formatChangesSeen;
        }
        session = frame->writerSession();
        EXPECT_TRUE(sessions.insert(session).second) << "a session id came back";

        // The peer reader reaches the new writer too, on its own.
        bool peerFollowed = false;
        while (auto line = peerReader.out.waitFor("frame ", 20s)) {
            auto parsed = parseFrameLine(*line);
            ASSERT_TRUE(parsed) << *line;
            ASSERT_TRUE(parsed->intact) << *line;
            if (parsed->session != peerSession) {
                peerSession = parsed->session;
                peerFollowed = true;
                break;
            }
        }
        ASSERT_TRUE(peerFollowed) << "the peer reader did not reach writer #" << restart;

        // Read a few more frames of this writer, then keep the last one.
        for (int i = 0; i < 3; ++i) {
            auto more = reader->next(5s);
            if (more && more->writerSession() == session) {
                EXPECT_TRUE(test::hasPattern(more->bytes(), more->meta().pts));
                frame = std::move(*more);
            }
        }
        heldFromDeadWriters.push_back(std::move(*frame));

        if (restart == 5) {
            baselineRss = residentKb();
        }
        if (restart == kRestarts) {
            break;
        }
        writer.child.kill();  // SIGKILL: no clean-up at all
        writer = startPeer(writerArgs("cam", (restart % 5 == 3) ? nv12 : rgba));
        ASSERT_TRUE(writer.waitReady());
        if (restart == 10) {
            fdsWhileRunning = test::countOpenFds();
        }
    }

    const auto stats = reader->stats();
    EXPECT_EQ(stats.reconnects, static_cast<std::uint64_t>(kRestarts));
    EXPECT_EQ(stats.writerGone, static_cast<std::uint64_t>(kRestarts));
    EXPECT_GE(stats.formatChanges, static_cast<std::uint64_t>(formatChangesSeen));
    EXPECT_GT(formatChangesSeen, 10);
    EXPECT_EQ(std::count(outcomes.begin(), outcomes.end(), Errc::WriterGone), kRestarts);

    // Every frame held from a killed writer is still there, pixel-exact.
    ASSERT_EQ(heldFromDeadWriters.size(), static_cast<std::size_t>(kRestarts + 1));
    for (const auto& held : heldFromDeadWriters) {
        EXPECT_TRUE(held.valid());
        EXPECT_TRUE(test::hasPattern(held.bytes(), held.meta().pts));
    }
    // Each held frame keeps its dead writer's pool and control block: releasing them
    // gives every fd and mapping back.
    const int fdsHolding = test::countOpenFds();
    heldFromDeadWriters.clear();
    EXPECT_LT(test::countOpenFds(), fdsHolding);
    EXPECT_LE(test::countOpenFds(), fdsWhileRunning) << "fds grew over the restarts";
    const long rss = residentKb();
    if (kRssIsMeaningful) {
        EXPECT_LT(rss - baselineRss, 8 * 1024)
            << "RSS grew from " << baselineRss << " to " << rss << " KiB over the restarts";
    }

    // The peer reader counted every restart too and never saw a torn frame.
    EXPECT_EQ(writer.stop(), 0);
    peerReader.child.signal(SIGTERM);
    auto summary = readSummary(peerReader.out, 20s);
    EXPECT_EQ(peerReader.stop(), 0);
    ASSERT_TRUE(summary);
    EXPECT_EQ(summary->reconnects, kRestarts);
    EXPECT_EQ(summary->bad, 0);
    EXPECT_GT(summary->received, kRestarts);
}

TEST_F(WriterRestart, ACleanExitGivesEndOfStreamThenWriterGoneThenTheNextWriter) {
    const Format format = smallFormat();
    ReaderOptions options;
    options.waitForWriter = true;
    auto reader = Reader::open("clean", options);
    ASSERT_TRUE(reader);

    std::vector<Errc> outcomes;
    for (int round = 0; round < 3; ++round) {
        SCOPED_TRACE("writer #" + std::to_string(round));
        auto writer = Writer::create("clean", format);
        ASSERT_TRUE(writer) << writer.error().message;
        for (std::uint64_t k = 1; k <= 5; ++k) {
            ASSERT_TRUE(publishPattern(*writer, k));
        }
        auto frame = reader->next(5s);
        ASSERT_TRUE(frame) << frame.error().message;
        EXPECT_EQ(frame->meta().sequence, 5u);  // latest mode: the newest one
        Frame kept = std::move(*frame);
        writer->close();

        // EOS first, then the hang-up, each exactly once, then nothing until a writer returns.
        outcomes.clear();
        for (int i = 0; i < 3; ++i) {
            auto next = reader->next(500ms);
            ASSERT_FALSE(next) << "a frame after the writer closed";
            outcomes.push_back(next.error().code);
        }
        EXPECT_EQ(outcomes,
                  (std::vector<Errc>{Errc::EndOfStream, Errc::WriterGone, Errc::Timeout}));
        EXPECT_EQ(reader->state(), ReaderState::WaitingForWriter);
        EXPECT_TRUE(test::hasPattern(kept.bytes(), 5));
        EXPECT_TRUE(dir_.entries().empty()) << "a clean writer leaves nothing behind";
    }
    // Back again: the reader connects without being asked.
    auto writer = Writer::create("clean", format);
    ASSERT_TRUE(writer);
    ASSERT_TRUE(publishPattern(*writer, 1));
    auto frame = reader->next(5s);
    ASSERT_TRUE(frame) << frame.error().message;
    EXPECT_TRUE(test::hasPattern(frame->bytes(), 1));
    const auto stats = reader->stats();
    EXPECT_EQ(stats.reconnects, 3u);
    EXPECT_EQ(stats.endOfStreams, 3u);
    EXPECT_EQ(stats.writerGone, 3u);
}

TEST_F(WriterRestart, AWriterExitsPromptlyWhileReadersHoldItsFrames) {
    for (const char* policy : {"never-block", "lossless"}) {
        SCOPED_TRACE(policy);
        auto writer = startPeer({"writer", "hold", "--policy", policy, "--fps", "300"});
        ASSERT_TRUE(writer.waitReady());
        // One reader keeps its last two frames leased and stays; another is stopped
        // (SIGSTOP) in sequential mode while holding a frame.
        auto holder = startPeer({"reader", "hold", "--frames", "20", "--hold", "2", "--keep"});
        auto stopped = startPeer({"reader", "hold", "--timeout-ms", "500", "--mode", "sequential",
                                  "--hold", "1", "--verbose"});
        ASSERT_TRUE(holder.waitReady());
        ASSERT_TRUE(stopped.waitReady());
        auto summary = readSummary(holder.out);
        ASSERT_TRUE(summary);
        EXPECT_EQ(summary->received, 20);
        ASSERT_TRUE(stopped.out.waitFor("frame ", 10s));
        stopped.child.signal(SIGSTOP);

        // SIGTERM: the writer ends the stream and exits without waiting for anyone.
        EXPECT_EQ(writer.stop(30s), 0) << "the writer hung on exit";
        EXPECT_TRUE(test::waitUntil([&] { return dir_.entries().empty(); }));

        EXPECT_EQ(holder.stop(), 0);
        EXPECT_EQ(stopped.stop(), 0);
    }
}
