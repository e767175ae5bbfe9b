// SPDX-License-Identifier: LGPL-2.1-or-later
// `shmframe top`: every live feed with its readers, as JSON for scripts.
#include <gtest/gtest.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <sstream>

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
    // On "second": a reader that skipped frames (it read, waited, read the newest) and
    // one that read a frame and then stopped reading, so that it lags more and more.
    auto skipper = Reader::open("second", {.clientName = "skipper"});
    auto stalled = Reader::open("second", {.clientName = "stalled"});
    ASSERT_TRUE(skipper && stalled);
    auto stalledFrame = stalled->next(20s);
    ASSERT_TRUE(stalledFrame) << stalledFrame.error().message;
    auto skipped = skipper->next(20s);
    ASSERT_TRUE(skipped) << skipped.error().message;
    const std::uint64_t skippedFrom = skipped->meta().sequence;
    ASSERT_TRUE(waitUntil(
        [&] {
            auto info = probeFeed("second");
            return info && info->published >= skippedFrom + 3;
        },
        20s));
    auto newest = skipper->next(20s);
    ASSERT_TRUE(newest) << newest.error().message;
    ASSERT_GT(skipper->stats().skipped, 0u);
    const std::uint64_t skipperDrops = skipper->stats().skipped;

    auto result = runCommand(kCli, {"top", "--json", "--interval", "1"}, 30s);
    ASSERT_EQ(result.exitCode, 0) << result.err;
    const json feeds = json::parse(result.out);
    ASSERT_EQ(feeds.size(), 2u) << result.out;
    EXPECT_EQ(feeds[0]["name"], "first");
    EXPECT_EQ(feeds[1]["name"], "second");
    EXPECT_EQ(feeds[0]["readers"], 0);
    EXPECT_EQ(feeds[1]["readers"], 2);
    EXPECT_EQ(feeds[0]["writer_pid"], first.pid());
    EXPECT_EQ(feeds[1]["writer_pid"], second.pid());
    for (const json& feed : feeds) {
        EXPECT_EQ(feed["format"], "NV12");
        EXPECT_EQ(feed["width"], 64);
        EXPECT_EQ(feed["state"], "live");
        EXPECT_GT(feed["fps"].get<double>(), 0.0) << feed.dump();
        EXPECT_GT(feed["published"].get<int>(), 0);
    }

    // Each reader with its lag and drops.
    EXPECT_EQ(feeds[0]["reader_table"], json::array());
    const json& readers = feeds[1]["reader_table"];
    ASSERT_EQ(readers.size(), 2u) << feeds[1].dump();
    json skipperRow, stalledRow;
    for (const json& reader : readers) {
        EXPECT_EQ(reader["pid"], ::getpid());
        EXPECT_EQ(reader["mode"], "latest");
        (reader["name"] == "skipper" ? skipperRow : stalledRow) = reader;
    }
    ASSERT_EQ(stalledRow["name"], "stalled") << readers.dump();
    ASSERT_EQ(skipperRow["name"], "skipper") << readers.dump();
    EXPECT_EQ(skipperRow["drops"], skipperDrops) << skipperRow.dump();
    EXPECT_EQ(skipperRow["received"], 2);
    EXPECT_EQ(stalledRow["drops"], 0) << stalledRow.dump();
    EXPECT_EQ(stalledRow["received"], 1);
    EXPECT_EQ(stalledRow["leases_held"], 1);  // it still holds its frame
    // It stopped reading before the skipper's frames: at least that far behind (and
    // more, at 20 frames a second during top's interval).
    EXPECT_GE(stalledRow["lag"].get<std::uint64_t>(),
              newest->meta().sequence - stalledFrame->meta().sequence)
        << stalledRow.dump();
    EXPECT_GT(stalledRow["lag"].get<std::uint64_t>(), skipperRow["lag"].get<std::uint64_t>())
        << readers.dump();
}

TEST(CliTop, TopShowsALineForEachReader) {
    TempFeedDir dir;
    Child publisher = startPublisher("cam");
    auto reader = Reader::open("cam", {.clientName = "line-reader"});
    ASSERT_TRUE(reader);
    auto frame = reader->next(20s);
    ASSERT_TRUE(frame) << frame.error().message;
    auto result = runCommand(kCli, {"top", "--once", "--interval", "0.2"}, 30s);
    ASSERT_EQ(result.exitCode, 0) << result.err;
    std::istringstream lines(result.out);
    std::string row;
    while (std::getline(lines, row) && row.find("line-reader") == std::string::npos) {
    }
    ASSERT_NE(row.find("line-reader"), std::string::npos) << result.out;
    EXPECT_NE(row.find("reader"), std::string::npos) << row;
    EXPECT_NE(row.find("lag"), std::string::npos) << row;
    EXPECT_NE(row.find("drops 0"), std::string::npos) << row;
    EXPECT_NE(row.find("holds 1/"), std::string::npos) << row;
}

// `info` shows the same reader table as top, as text and in its JSON (so does list).
TEST(CliTop, InfoListsTheFeedsReaders) {
    TempFeedDir dir;
    Child publisher = startPublisher("cam");
    auto reader = Reader::open("cam", {.clientName = "info-reader"});
    ASSERT_TRUE(reader);
    auto frame = reader->next(20s);
    ASSERT_TRUE(frame) << frame.error().message;

    auto text = runCommand(kCli, {"info", "cam"}, 30s);
    ASSERT_EQ(text.exitCode, 0) << text.err;
    EXPECT_NE(text.out.find("info-reader"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("holds 1/"), std::string::npos) << text.out;

    for (const char* command : {"info", "list"}) {
        std::vector<std::string> args{command};
        if (args[0] == "info") {
            args.push_back("cam");
        }
        args.push_back("--json");
        auto result = runCommand(kCli, args, 30s);
        ASSERT_EQ(result.exitCode, 0) << result.err;
        json feed = json::parse(result.out);
        if (feed.is_array()) {
            ASSERT_EQ(feed.size(), 1u) << result.out;
            feed = feed[0];
        }
        const json& rows = feed["reader_table"];
        ASSERT_EQ(rows.size(), 1u) << result.out;
        EXPECT_EQ(rows[0]["name"], "info-reader");
        EXPECT_EQ(rows[0]["pid"], ::getpid());
        EXPECT_EQ(rows[0]["uid"], ::getuid());
        EXPECT_EQ(rows[0]["leases_held"], 1);
        EXPECT_EQ(rows[0]["received"], 1);
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
