// SPDX-License-Identifier: LGPL-2.1-or-later
// `shmframe top`: every live feed with its readers, as JSON for scripts.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "run_command.h"
#include "shmframe/shmframe.h"
#include "test_support.h"

namespace shmframe::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const std::string kCli = SHMFRAME_CLI_PATH;

Child startPublisher(const std::string& feed) {
    Child child = Child::spawn(
        kCli, {"publish", feed, "--quiet", "--size", "64x48", "--format", "NV12", "--fps", "20"},
        true);
    EXPECT_TRUE(waitUntil(
        [&] {
            auto info = probeFeed(feed);
            return info && info->published > 0;
        },
        20s))
        << feed << " did not start publishing";
    return child;
}

TEST(CliTop, TopJsonListsEveryLiveFeedWithItsReaders) {
    TempFeedDir dir;
    Child first = startPublisher("first");
    Child second = startPublisher("second");
    auto reader = Reader::open("second");
    ASSERT_TRUE(reader) << reader.error().message;
    ASSERT_TRUE(waitUntil(
        [] {
            auto info = probeFeed("second");
            return info && info->readers == 1;
        },
        20s));

    auto result = runCommand(kCli, {"top", "--json", "--interval", "1"}, 30s);
    ASSERT_EQ(result.exitCode, 0) << result.err;
    const json feeds = json::parse(result.out);
    ASSERT_EQ(feeds.size(), 2u) << result.out;
    EXPECT_EQ(feeds[0]["name"], "first");
    EXPECT_EQ(feeds[1]["name"], "second");
    EXPECT_EQ(feeds[0]["readers"], 0);
    EXPECT_EQ(feeds[1]["readers"], 1);
    EXPECT_EQ(feeds[0]["writer_pid"], first.pid());
    EXPECT_EQ(feeds[1]["writer_pid"], second.pid());
    for (const json& feed : feeds) {
        EXPECT_EQ(feed["format"], "NV12");
        EXPECT_EQ(feed["width"], 64);
        EXPECT_EQ(feed["state"], "live");
        EXPECT_GT(feed["fps"].get<double>(), 0.0) << feed.dump();
        EXPECT_GT(feed["published"].get<int>(), 0);
    }
}

TEST(CliTop, TopOnceWithoutFeedsSaysSo) {
    TempFeedDir dir;
    auto result = runCommand(kCli, {"top", "--once", "--interval", "0.1"}, 30s);
    EXPECT_EQ(result.exitCode, 0) << result.err;
    EXPECT_NE(result.out.find("no live feeds"), std::string::npos) << result.out;
}

}  // namespace
}  // namespace shmframe::test
