// SPDX-License-Identifier: LGPL-2.1-or-later
// A writer changes size and pixel format mid-stream (Writer::reconfigure): readers move
// to each new pool generation, frames they hold from old ones stay valid, nothing tears.
#include <signal.h>

#include <deque>
#include <map>

#include "robustness_support.h"

using namespace shmframe;
using namespace shmframe::robust;

namespace {
class FormatChange : public RobustnessTest {};
}  // namespace

TEST_F(FormatChange, ReadersFollowSizeAndPixelFormatChangesAndKeepOldFramesValid) {
    const std::vector<Format> formats = {
        smallFormat(PixelFormat::RGBA, 64, 48),      smallFormat(PixelFormat::NV12, 96, 64),
        smallFormat(PixelFormat::GRAY16_LE, 33, 17), smallFormat(PixelFormat::I420, 160, 120),
        smallFormat(PixelFormat::YUY2, 40, 30),      smallFormat(PixelFormat::BGR, 7, 5),
    };
    constexpr int kChanges = 24;
    constexpr int kFramesPerFormat = 20;

    auto writer = Writer::create("morph", formats[0]);
    ASSERT_TRUE(writer) << writer.error().message;
    // A reader in another process checks every frame it gets.
    auto peer =
        startPeer({"reader", "morph", "--timeout-ms", "500", "--mode", "sequential", "--verbose"});
    ASSERT_TRUE(peer.waitReady());
    ASSERT_TRUE(test::waitUntil([&] { return writer->stats().readers == 1; }));
    ReaderOptions options;
    options.mode = ReadMode::Sequential;
    auto reader = Reader::open("morph", options);
    ASSERT_TRUE(reader) << reader.error().message;

    std::deque<Frame> heldOldFrames;                   // the last frame of every generation
    std::map<std::uint32_t, std::string> generations;  // as the peer saw them
    std::uint64_t k = 0;
    std::uint32_t lastGeneration = 0;
    for (int change = 0; change <= kChanges; ++change) {
        const Format& format = formats[static_cast<std::size_t>(change) % formats.size()];
        SCOPED_TRACE(format.describe());
        if (change > 0) {
            // A frame loaned from the old pool can no longer be published.
            auto stale = writer->loan();
            ASSERT_TRUE(stale);
            ASSERT_TRUE(writer->reconfigure(format));
            auto refused = writer->publish(std::move(*stale));
            ASSERT_FALSE(refused);
            EXPECT_EQ(refused.error().code, Errc::InvalidArgument);
        }
        EXPECT_EQ(writer->format(), format);
        for (int i = 0; i < kFramesPerFormat; ++i) {
            ASSERT_TRUE(publishPattern(*writer, ++k));
            auto frame = reader->next(5s);
            ASSERT_TRUE(frame) << frame.error().message;
            ASSERT_EQ(frame->meta().pts, k) << "sequential reader skipped or repeated a frame";
            ASSERT_EQ(frame->format(), format) << "a frame of the old format after the change";
            ASSERT_TRUE(test::hasPattern(frame->bytes(), k));
            ASSERT_EQ(frame->bytes().size(), format.frameSize);
            if (i == kFramesPerFormat - 1) {
                EXPECT_GT(frame->generation(), lastGeneration);
                lastGeneration = frame->generation();
                heldOldFrames.push_back(std::move(*frame));
            }
        }
        EXPECT_EQ(reader->format(), format);
        // The other process reaches the last frame of this generation too.
        bool reached = false;
        while (auto line = peer.out.waitFor("frame ", 10s)) {
            auto frame = parseFrameLine(*line);
            ASSERT_TRUE(frame) << *line;
            EXPECT_TRUE(frame->intact) << *line;
            generations[frame->generation] = frame->format;
            if (frame->pts == k) {
                reached = true;
                break;
            }
        }
        ASSERT_TRUE(reached) << "the peer reader did not reach frame " << k;
    }
    EXPECT_EQ(writer->stats().generation, static_cast<std::uint32_t>(kChanges + 1));
    EXPECT_EQ(reader->stats().formatChanges, static_cast<std::uint64_t>(kChanges));
    EXPECT_EQ(reader->stats().gaps, 0u);

    // Frames held from every old generation are intact and keep their own format.
    for (std::size_t i = 0; i < heldOldFrames.size(); ++i) {
        const Frame& frame = heldOldFrames[i];
        EXPECT_EQ(frame.format(), formats[i % formats.size()]);
        EXPECT_TRUE(test::hasPattern(frame.bytes(), frame.meta().pts));
        EXPECT_EQ(frame.generation(), i + 1);
    }
    heldOldFrames.clear();

    // The other process saw every generation, and no torn frame.
    EXPECT_EQ(generations.size(), static_cast<std::size_t>(kChanges + 1));
    peer.child.signal(SIGTERM);
    auto summary = readSummary(peer.out);
    ASSERT_TRUE(summary);
    EXPECT_EQ(summary->bad, 0);
    EXPECT_EQ(peer.stop(), 0) << "the peer reader saw a torn frame";
}

TEST_F(FormatChange, AWriterChangingFormatEveryFewFramesNeverTearsAFrameInAnotherProcess) {
    // The writer and two readers are all separate processes; the writer flips between
    // RGBA 64x48 and NV12 96x64 every 7 frames at 400 frames per second.
    auto writer =
        startPeer({"writer", "flip", "--fps", "400", "--frames", "1500", "--reconfigure-every", "7",
                   "--alt-format", "NV12", "--alt-size", "96x64"});
    ASSERT_TRUE(writer.waitReady());
    auto latest = startPeer({"reader", "flip", "--timeout-ms", "2000", "--frames", "100000"});
    auto sequential = startPeer(
        {"reader", "flip", "--mode", "sequential", "--timeout-ms", "2000", "--frames", "100000"});
    ASSERT_TRUE(latest.waitReady());
    ASSERT_TRUE(sequential.waitReady());
    // Both stop by themselves 2 s after the last frame (the writer stays for them).
    auto latestSummary = readSummary(latest.out, 60s);
    auto sequentialSummary = readSummary(sequential.out, 60s);
    ASSERT_TRUE(latestSummary);
    ASSERT_TRUE(sequentialSummary);
    EXPECT_EQ(latestSummary->bad, 0);
    EXPECT_EQ(sequentialSummary->bad, 0);
    EXPECT_GT(latestSummary->received, 100);
    EXPECT_GT(sequentialSummary->received, 300);
    EXPECT_EQ(latest.stop(), 0);
    EXPECT_EQ(sequential.stop(), 0);
    EXPECT_EQ(writer.stop(), 0);
}
