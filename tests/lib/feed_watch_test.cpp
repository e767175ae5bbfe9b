// SPDX-License-Identifier: LGPL-2.1-or-later
// The feed watch reports feeds appearing, changing and going, through one fd.
#include <gtest/gtest.h>
#include <poll.h>

#include "shmframe/shmframe.h"
#include "test_support.h"

using namespace shmframe;
using namespace std::chrono_literals;

namespace {

// Waits on the watch's fd (deadline for failure only) until an event of \a kind
// for \a feed arrives; returns it, or nothing.
std::optional<FeedEvent> waitFor(FeedWatch& watch, FeedEvent::Kind kind, const std::string& feed) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
        pollfd pfd{watch.fd(), POLLIN, 0};
        if (::poll(&pfd, 1, 1000) <= 0) {
            continue;
        }
        for (auto& event : watch.update()) {
            if (event.kind == kind && event.feed.name == feed) {
                return event;
            }
        }
    }
    return std::nullopt;
}

Writer makeWriter(const char* feed, std::uint32_t width) {
    auto format = Format::make(PixelFormat::RGBA, width, 48, {30, 1});
    auto writer = Writer::create(feed, *format);
    if (!writer) {
        ADD_FAILURE() << writer.error().message;
        std::abort();
    }
    return std::move(*writer);
}

}  // namespace

TEST(FeedWatch, ReportsFeedsAppearingChangingAndGoingThroughOneFd) {
    test::TempFeedDir dir;
    const int fdsBefore = test::countOpenFds();
    {
        auto watch = FeedWatch::open({.rescanInterval = 100ms});
        ASSERT_TRUE(watch) << watch.error().message;
        EXPECT_EQ(watch->directory(), feedDirectory());
        EXPECT_TRUE(watch->update().empty());

        std::optional<Writer> writer = makeWriter("watched", 64);
        auto appeared = waitFor(*watch, FeedEvent::Kind::Appeared, "watched");
        ASSERT_TRUE(appeared);
        EXPECT_EQ(appeared->feed.format.width, 64u);
        ASSERT_EQ(watch->feeds().size(), 1u);

        auto format = Format::make(PixelFormat::RGBA, 128, 48, {30, 1});
        ASSERT_TRUE(writer->reconfigure(*format));
        auto changed = waitFor(*watch, FeedEvent::Kind::Changed, "watched");
        ASSERT_TRUE(changed);
        EXPECT_EQ(changed->feed.format.width, 128u);

        writer.reset();
        auto gone = waitFor(*watch, FeedEvent::Kind::Gone, "watched");
        ASSERT_TRUE(gone);
        EXPECT_EQ(gone->feed.format.width, 128u);
        EXPECT_TRUE(watch->feeds().empty());
    }
    EXPECT_EQ(test::countOpenFds(), fdsBefore) << "fd leak";
}

TEST(FeedWatch, WorksBeforeTheFeedDirExists) {
    test::TempFeedDir dir;
    const std::string sub = feedDirectory() + "/later";
    ::setenv("SHMFRAME_DIR", sub.c_str(), 1);
    auto watch = FeedWatch::open({.rescanInterval = 50ms});
    ASSERT_TRUE(watch) << watch.error().message;
    EXPECT_TRUE(watch->update().empty());
    {
        auto writer = makeWriter("late", 32);
        EXPECT_TRUE(waitFor(*watch, FeedEvent::Kind::Appeared, "late"));
    }
    EXPECT_TRUE(waitFor(*watch, FeedEvent::Kind::Gone, "late"));
    ::rmdir(sub.c_str());
    ::setenv("SHMFRAME_DIR", dir.path().c_str(), 1);
}
