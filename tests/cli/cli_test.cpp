// SPDX-License-Identifier: LGPL-2.1-or-later
// The `shmframe` command line, run as a real program against real feeds: every
// command with good and bad arguments, its output and its exit code.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include <filesystem>
#include <fstream>

#include "patterns.h"
#include "run_command.h"
#include "shmframe/shmframe.h"
#include "test_support.h"

namespace shmframe::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const std::string kCli = SHMFRAME_CLI_PATH;

RunResult cli(const std::vector<std::string>& args, std::chrono::milliseconds timeout = 30s) {
    return runCommand(kCli, args, timeout);
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

bool hasPublished(const std::string& feed) {
    auto info = probeFeed(feed);
    return info && info->published > 0;
}

// `shmframe publish FEED ARGS...` in the background, once it has published a frame.
Child startPublisher(const std::string& feed, std::vector<std::string> args) {
    args.insert(args.begin(), {"publish", feed, "--quiet"});
    Child child = Child::spawn(kCli, args, true);
    EXPECT_TRUE(waitUntil([&] { return hasPublished(feed); }, 60s))  // a busy machine: failure only
        << "shmframe publish " << feed << " did not start publishing";
    return child;
}

class Cli : public ::testing::Test {
  protected:
    TempFeedDir dir_;
    std::string path(const std::string& name) const { return dir_.path() + "/" + name; }
};

TEST_F(Cli, VersionPrintsTheVersionAndExitsZero) {
    auto result = cli({"--version"});
    EXPECT_EQ(result.exitCode, 0);
    EXPECT_TRUE(contains(result.out, std::string("shmframe ") + SHMFRAME_VERSION_STRING))
        << result.out;
}

TEST_F(Cli, EveryCommandHasHelpThatExitsZero) {
    for (const char* command : {"list", "info", "stats", "snapshot", "publish", "bench"}) {
        auto result = cli({command, "--help"});
        EXPECT_EQ(result.exitCode, 0) << command;
        EXPECT_TRUE(contains(result.out, "Usage")) << command << ": " << result.out;
    }
    auto result = cli({"--help"});
    EXPECT_EQ(result.exitCode, 0);
    EXPECT_TRUE(contains(result.out, "Exit codes")) << result.out;
}

TEST_F(Cli, NoCommandIsAUsageError) {
    auto result = cli({});
    EXPECT_EQ(result.exitCode, 2);
    EXPECT_TRUE(contains(result.err, "a command is required")) << result.err;
}

TEST_F(Cli, UnknownCommandsAndOptionsAreUsageErrors) {
    EXPECT_EQ(cli({"frobnicate"}).exitCode, 2);
    EXPECT_EQ(cli({"list", "--frobnicate"}).exitCode, 2);
    EXPECT_EQ(cli({"info"}).exitCode, 2);              // FEED is required
    EXPECT_EQ(cli({"snapshot", "cam0"}).exitCode, 2);  // FILE is required
}

TEST_F(Cli, ListSaysSoWhenThereAreNoFeeds) {
    auto result = cli({"list"});
    EXPECT_EQ(result.exitCode, 0);
    EXPECT_TRUE(contains(result.out, "no live feeds in " + dir_.path())) << result.out;
    auto asJson = cli({"list", "--json"});
    EXPECT_EQ(asJson.exitCode, 0);
    EXPECT_EQ(json::parse(asJson.out), json::array());
}

TEST_F(Cli, ListShowsEachLiveFeedWithItsFormat) {
    Child first = startPublisher("alpha", {"--format", "NV12", "--size", "320x240"});
    Child second = startPublisher("beta", {"--format", "GRAY8", "--size", "64x32", "--fps", "5"});

    auto table = cli({"list"});
    EXPECT_EQ(table.exitCode, 0);
    auto lines = splitLines(table.out);
    ASSERT_EQ(lines.size(), 3u) << table.out;
    EXPECT_TRUE(contains(lines[1], "alpha") && contains(lines[1], "NV12") &&
                contains(lines[1], "320x240"))
        << lines[1];
    EXPECT_TRUE(contains(lines[2], "beta") && contains(lines[2], "GRAY8")) << lines[2];

    auto listed = json::parse(cli({"list", "--json"}).out);
    ASSERT_EQ(listed.size(), 2u);
    EXPECT_EQ(listed[0]["name"], "alpha");
    EXPECT_EQ(listed[0]["format"], "NV12");
    EXPECT_EQ(listed[0]["width"], 320);
    EXPECT_EQ(listed[0]["height"], 240);
    EXPECT_EQ(listed[0]["writer_pid"], first.pid());
    EXPECT_EQ(listed[1]["name"], "beta");
    EXPECT_EQ(listed[1]["framerate"], "5/1");
    EXPECT_EQ(listed[1]["writer_pid"], second.pid());
}

TEST_F(Cli, DirOptionChoosesTheFeedDirectory) {
    Child publisher = startPublisher("elsewhere", {"--size", "32x32"});
    TempFeedDir other;  // SHMFRAME_DIR now points at an empty dir
    EXPECT_TRUE(contains(cli({"list"}).out, "no live feeds"));
    auto listed = cli({"--dir", dir_.path(), "list", "--json"});
    EXPECT_EQ(listed.exitCode, 0);
    auto feeds = json::parse(listed.out);
    ASSERT_EQ(feeds.size(), 1u);
    EXPECT_EQ(feeds[0]["name"], "elsewhere");
}

TEST_F(Cli, InfoDescribesTheFeedAndItsPlanes) {
    Child publisher = startPublisher(
        "cam0", {"--format", "I420", "--size", "100x50", "--fps", "25", "--slots", "5"});
    auto text = cli({"info", "cam0"});
    EXPECT_EQ(text.exitCode, 0) << text.err;
    EXPECT_TRUE(contains(text.out, "I420 100x50")) << text.out;
    EXPECT_TRUE(contains(text.out, "5 slots")) << text.out;

    auto result = cli({"info", "cam0", "--json"});
    ASSERT_EQ(result.exitCode, 0) << result.err;
    auto info = json::parse(result.out);
    EXPECT_EQ(info["format"], "I420");
    EXPECT_EQ(info["framerate"], "25/1");
    EXPECT_EQ(info["slots"], 5);
    EXPECT_EQ(info["writer_pid"], publisher.pid());
    EXPECT_EQ(info["policy"], "never-block");
    ASSERT_EQ(info["planes"].size(), 3u);
    EXPECT_GE(info["planes"][0]["stride"].get<int>(), 100);
    EXPECT_GE(info["planes"][1]["stride"].get<int>(), 50);
    EXPECT_GT(info["published"].get<int>(), 0);
}

TEST_F(Cli, InfoOfAFeedWithoutWriterFailsWithExitCode1) {
    auto result = cli({"info", "nobody"});
    EXPECT_EQ(result.exitCode, 1);
    EXPECT_TRUE(contains(result.err, "no writer")) << result.err;
}

TEST_F(Cli, AnInvalidFeedNameIsAUsageError) {
    for (const char* command : {"info", "stats"}) {
        auto result = cli({command, "bad name!"});
        EXPECT_EQ(result.exitCode, 2) << command;
        EXPECT_TRUE(contains(result.err, "invalid feed name")) << result.err;
    }
    EXPECT_EQ(cli({"snapshot", "bad/name", path("x.png")}).exitCode, 2);
    EXPECT_EQ(cli({"publish", std::string(65, 'a'), "--frames", "1"}).exitCode, 2);
}

TEST_F(Cli, PublishRejectsBadArgumentsWithExitCode2) {
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"--size", "12"}, "WIDTHxHEIGHT"},
        {{"--size", "0x10"}, ""},
        {{"--size", "100000x10"}, ""},
        {{"--format", "YV12"}, "valid formats"},
        {{"--pattern", "plaid"}, "valid patterns"},
        {{"--pattern", "solid:GG0000"}, "hexadecimal"},
        {{"--pattern", "solid:FF00"}, "6 or 8 hex digits"},
        {{"--fps", "0"}, "frame rate"},
        {{"--fps", "abc"}, "frame rate"},
        {{"--fps", "30/0"}, "frame rate"},
        {{"--policy", "sometimes"}, "never-block or lossless"},
        {{"--slots", "1"}, ""},
        {{"--frames", "-3"}, ""},
    };
    for (const auto& [args, message] : cases) {
        std::vector<std::string> full = {"publish", "cam0", "--frames", "1"};
        full.insert(full.end(), args.begin(), args.end());
        auto result = cli(full);
        EXPECT_EQ(result.exitCode, 2) << args[0] << " " << args.back() << ": " << result.err;
        EXPECT_TRUE(contains(result.err, message)) << result.err;
    }
    EXPECT_FALSE(std::filesystem::exists(path("cam0.sock")));
}

TEST_F(Cli, PublishRefusesASecondWriterNamingTheFirst) {
    Child first = startPublisher("cam0", {"--size", "32x32"});
    auto second = cli({"publish", "cam0", "--frames", "1"});
    EXPECT_EQ(second.exitCode, 1);
    EXPECT_TRUE(contains(second.err, std::to_string(first.pid()))) << second.err;
}

TEST_F(Cli, PublishSendsEveryFrameThenEndOfStreamAndRemovesItsSocket) {
    // The publisher waits for the reader, and lossless waits for it to read each frame,
    // so the reader sees the whole stream.
    auto reader = Reader::open("counted", {.mode = ReadMode::Sequential, .waitForWriter = true});
    ASSERT_TRUE(reader) << reader.error().message;
    CapturedChild publisher(
        kCli, {"publish", "counted", "--frames", "40", "--fps", "200", "--size", "64x48",
               "--format", "BGR", "--policy", "lossless", "--wait-readers", "1", "--quiet"});
    std::uint64_t lastSequence = 0;
    std::uint64_t received = 0;
    bool endOfStream = false;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!endOfStream && std::chrono::steady_clock::now() < deadline) {
        auto frame = reader->next(1s);
        if (frame) {
            EXPECT_GT(frame->meta().sequence, lastSequence);
            EXPECT_EQ(frame->meta().pts,
                      (frame->meta().sequence - 1) * std::uint64_t{1'000'000'000 / 200});
            lastSequence = frame->meta().sequence;
            ++received;
        } else if (frame.error().code == Errc::EndOfStream) {
            endOfStream = true;
        }
    }
    EXPECT_TRUE(endOfStream);
    EXPECT_EQ(lastSequence, 40u);
    EXPECT_EQ(received, 40u);
    EXPECT_EQ(reader->stats().gaps, 0u);
    EXPECT_EQ(publisher.child().wait(20s), 0) << publisher.err();
    EXPECT_TRUE(contains(publisher.out(), "published 40 frames")) << publisher.out();
    EXPECT_FALSE(std::filesystem::exists(path("counted.sock")));
}

TEST_F(Cli, PublishEndsCleanlyOnSigtermAndSigint) {
    for (int signo : {SIGTERM, SIGINT}) {
        CapturedChild publisher(kCli, {"publish", "cam0", "--size", "64x48", "--quiet"});
        ASSERT_TRUE(waitUntil([] { return hasPublished("cam0"); }, 20s)) << publisher.err();
        publisher.child().signal(signo);
        EXPECT_EQ(publisher.child().wait(20s), 0) << publisher.err();
        EXPECT_TRUE(contains(publisher.out(), "published ")) << publisher.out();
        EXPECT_FALSE(std::filesystem::exists(path("cam0.sock"))) << "after signal " << signo;
    }
}

TEST_F(Cli, PublishLingerKeepsTheLastFrameReadable) {
    CapturedChild publisher(kCli, {"publish", "still", "--frames", "3", "--linger", "--pattern",
                                   "solid:00FF00", "--size", "16x16", "--quiet"});
    ASSERT_TRUE(waitUntil(
        [] {
            auto info = probeFeed("still");
            return info && info->published == 3;
        },
        20s));
    auto shot = cli({"snapshot", "still", path("still.png"), "--timeout", "10"});
    EXPECT_EQ(shot.exitCode, 0) << shot.err;
    cv::Mat image = cv::imread(path("still.png"), cv::IMREAD_UNCHANGED);
    ASSERT_FALSE(image.empty());
    EXPECT_EQ(image.at<cv::Vec4b>(8, 8), cv::Vec4b(0, 255, 0, 255));
    publisher.child().signal(SIGTERM);
    EXPECT_EQ(publisher.child().wait(20s), 0);
}

TEST_F(Cli, StatsOnceReportsRateAndCounters) {
    Child publisher = startPublisher("cam0", {"--size", "64x48", "--fps", "50"});
    auto result = cli({"stats", "cam0", "--once", "--json", "--interval", "0.3"});
    ASSERT_EQ(result.exitCode, 0) << result.err;
    auto lines = splitLines(result.out);
    ASSERT_EQ(lines.size(), 1u) << result.out;
    auto stats = json::parse(lines[0]);
    EXPECT_EQ(stats["feed"], "cam0");
    EXPECT_GT(stats["published"].get<int>(), 0);
    EXPECT_GT(stats["fps"].get<double>(), 0.0);
    EXPECT_EQ(stats["writer_pid"], publisher.pid());
    EXPECT_FALSE(stats.contains("reader"));

    auto text = cli({"stats", "cam0", "--once", "--interval", "0.2"});
    EXPECT_EQ(text.exitCode, 0);
    EXPECT_TRUE(contains(text.out, "fps") && contains(text.out, "published")) << text.out;
}

TEST_F(Cli, StatsWithReadCountsWhatTheReaderReceived) {
    Child publisher = startPublisher("cam0", {"--size", "64x48", "--fps", "100"});
    auto result = cli({"stats", "cam0", "--read", "--mode", "sequential", "--count", "2",
                       "--interval", "0.3", "--json"});
    ASSERT_EQ(result.exitCode, 0) << result.err;
    auto lines = splitLines(result.out);
    ASSERT_EQ(lines.size(), 2u) << result.out;
    auto last = json::parse(lines[1]);
    ASSERT_TRUE(last.contains("reader")) << lines[1];
    EXPECT_EQ(last["reader"]["mode"], "sequential");
    EXPECT_GT(last["reader"]["received"].get<int>(), 0);
    EXPECT_GE(last["readers"].get<int>(), 1);  // we were one of them
}

TEST_F(Cli, StatsFailsWithExitCode1WhenTheWriterGoes) {
    EXPECT_EQ(cli({"stats", "nobody", "--once"}).exitCode, 1);

    Child publisher = startPublisher("cam0", {"--size", "32x32"});
    CapturedChild stats(kCli, {"stats", "cam0", "--interval", "0.1", "--json"});
    ASSERT_TRUE(waitUntil([&] { return !stats.out().empty(); }, 20s));
    publisher.kill();
    EXPECT_EQ(stats.child().wait(20s), 1);
    EXPECT_TRUE(contains(stats.err(), "gone")) << stats.err();
}

TEST_F(Cli, StatsRejectsBadOptionsWithExitCode2) {
    EXPECT_EQ(cli({"stats", "cam0", "--interval", "0"}).exitCode, 2);
    EXPECT_EQ(cli({"stats", "cam0", "--interval", "x"}).exitCode, 2);
    EXPECT_EQ(cli({"stats", "cam0", "--read", "--mode", "random"}).exitCode, 2);
}

// A solid colour published in each format comes back from snapshot as that colour.
struct SnapshotCase {
    const char* format;
    const char* pattern;
    int channels;
    int depth;
    cv::Scalar expected;  // B, G, R, A (or gray)
    int tolerance;
    const char* size = "96x64";
};

class SnapshotOfSolidColour : public Cli, public ::testing::WithParamInterface<SnapshotCase> {};

TEST_P(SnapshotOfSolidColour, HasTheColourInEveryPixel) {
    const SnapshotCase& param = GetParam();
    Child publisher = startPublisher(
        "solid", {"--format", param.format, "--pattern", param.pattern, "--size", param.size});
    const std::string file = path("solid.png");
    auto result = cli({"snapshot", "solid", file, "--json"});
    ASSERT_EQ(result.exitCode, 0) << result.err;
    auto described = json::parse(result.out);
    EXPECT_EQ(described["format"], param.format);
    EXPECT_EQ(described["channels"], param.channels);

    cv::Mat image = cv::imread(file, cv::IMREAD_UNCHANGED);
    ASSERT_FALSE(image.empty());
    auto size = parseSize(param.size);
    ASSERT_EQ(image.cols, int(size->first));
    ASSERT_EQ(image.rows, int(size->second));
    ASSERT_EQ(image.channels(), param.channels);
    ASSERT_EQ(image.depth(), param.depth);
    cv::Mat expected(image.size(), image.type(), param.expected);
    cv::Mat difference;
    cv::absdiff(image, expected, difference);
    double worst = 0;
    cv::minMaxLoc(difference.reshape(1), nullptr, &worst);
    EXPECT_LE(worst, param.tolerance) << param.format << " pixel (3,3) is " << image.row(3).col(3);
}

INSTANTIATE_TEST_SUITE_P(
    EveryFormat, SnapshotOfSolidColour,
    ::testing::Values(
        // RGB formats are exact, alpha included.
        SnapshotCase{"RGBA", "solid:FF800040", 4, CV_8U, {0, 128, 255, 64}, 0},
        SnapshotCase{"BGRA", "solid:FF800040", 4, CV_8U, {0, 128, 255, 64}, 0},
        SnapshotCase{"RGBx", "solid:FF8000", 3, CV_8U, {0, 128, 255}, 0},
        SnapshotCase{"BGRx", "solid:FF8000", 3, CV_8U, {0, 128, 255}, 0},
        SnapshotCase{"RGB", "solid:FF8000", 3, CV_8U, {0, 128, 255}, 0},
        SnapshotCase{"BGR", "solid:FF8000", 3, CV_8U, {0, 128, 255}, 0},
        // Gray is the BT.601 luma: 0.299*255 + 0.587*128 = 151.
        SnapshotCase{"GRAY8", "solid:FF8000", 1, CV_8U, {151}, 0},
        SnapshotCase{"GRAY16_LE", "solid:FF8000", 1, CV_16U, {151 * 257}, 0},
        // YUV goes through 8-bit BT.601: close, not exact.
        SnapshotCase{"NV12", "solid:FF8000", 3, CV_8U, {0, 128, 255}, 3},
        SnapshotCase{"I420", "solid:FF8000", 3, CV_8U, {0, 128, 255}, 3},
        SnapshotCase{"YUY2", "solid:FF8000", 3, CV_8U, {0, 128, 255}, 3},
        SnapshotCase{"UYVY", "solid:FF8000", 3, CV_8U, {0, 128, 255}, 3},
        // Odd sizes: chroma planes round up, as GStreamer lays them out.
        SnapshotCase{"NV12", "solid:FF8000", 3, CV_8U, {0, 128, 255}, 3, "95x63"},
        SnapshotCase{"I420", "solid:FF8000", 3, CV_8U, {0, 128, 255}, 3, "95x63"},
        SnapshotCase{"YUY2", "solid:FF8000", 3, CV_8U, {0, 128, 255}, 3, "95x63"},
        SnapshotCase{"RGB", "solid:FF8000", 3, CV_8U, {0, 128, 255}, 0, "95x63"}),
    [](const auto& testInfo) {
        return std::string(testInfo.param.format) + "_" +
               (std::string(testInfo.param.size) == "96x64" ? "even" : "odd");
    });

TEST_F(Cli, SnapshotOfTheMovingPatternIsTheFrameItsSequenceNames) {
    Child publisher =
        startPublisher("moving", {"--format", "BGRx", "--size", "320x240", "--align", "256"});
    const std::string file = path("moving.png");
    auto result = cli({"snapshot", "moving", file, "--json"});
    ASSERT_EQ(result.exitCode, 0) << result.err;
    const auto sequence = json::parse(result.out)["sequence"].get<std::uint64_t>();
    ASSERT_GE(sequence, 1u);

    patterns::PatternGenerator generator(*patterns::parsePattern("moving"), 320, 240);
    patterns::RgbaImage expected;
    generator.render(sequence - 1, expected);  // publish counts frames from 0, sequences from 1
    cv::Mat image = cv::imread(file, cv::IMREAD_COLOR);
    ASSERT_EQ(image.size(), cv::Size(320, 240));
    int wrong = 0;
    for (int y = 0; y < 240; ++y) {
        for (int x = 0; x < 320; ++x) {
            const auto want = expected.at(std::uint32_t(x), std::uint32_t(y));
            if (image.at<cv::Vec3b>(y, x) != cv::Vec3b(want.b, want.g, want.r)) {
                ++wrong;
            }
        }
    }
    EXPECT_EQ(wrong, 0);
}

TEST_F(Cli, SnapshotWithoutWriterFailsWithExitCode1) {
    auto result = cli({"snapshot", "nobody", path("x.png")});
    EXPECT_EQ(result.exitCode, 1);
    EXPECT_TRUE(contains(result.err, "no writer")) << result.err;
    EXPECT_FALSE(std::filesystem::exists(path("x.png")));
}

TEST_F(Cli, SnapshotTimesOutWhenNoFrameIsPublished) {
    auto format = Format::make(PixelFormat::RGBA, 32, 32);
    auto writer = Writer::create("silent", *format);
    ASSERT_TRUE(writer) << writer.error().message;
    auto result = cli({"snapshot", "silent", path("x.png"), "--timeout", "0.3"});
    EXPECT_EQ(result.exitCode, 1);
    EXPECT_TRUE(contains(result.err, "no frame from 'silent' within 0.3 s")) << result.err;
}

TEST_F(Cli, SnapshotWaitsForAWriterWhenAsked) {
    CapturedChild snapshot(kCli,
                           {"snapshot", "later", path("later.png"), "--wait", "--timeout", "20"});
    Child publisher = startPublisher("later", {"--size", "32x32"});
    EXPECT_EQ(snapshot.child().wait(30s), 0) << snapshot.err();
    EXPECT_TRUE(std::filesystem::exists(path("later.png")));
}

TEST_F(Cli, SnapshotRejectsUnwritableFiles) {
    Child publisher = startPublisher("cam0", {"--size", "32x32"});
    auto badExtension = cli({"snapshot", "cam0", path("frame.xyz")});
    EXPECT_EQ(badExtension.exitCode, 2);
    EXPECT_TRUE(contains(badExtension.err, "extension")) << badExtension.err;
    auto missingFolder = cli({"snapshot", "cam0", path("no/such/folder/frame.png")});
    EXPECT_EQ(missingFolder.exitCode, 1);
    EXPECT_TRUE(contains(missingFolder.err, "could not write")) << missingFolder.err;
    EXPECT_EQ(cli({"snapshot", "cam0", path("x.png"), "--timeout", "-1"}).exitCode, 2);
}

TEST_F(Cli, SnapshotReplacesAFileOnlyWithAWholeImageAndLeavesOtherThingsAlone) {
    Child publisher = startPublisher("cam0", {"--size", "32x32"});
    // A file already there is replaced by the whole image...
    const std::string file = path("frame.png");
    { std::ofstream(file) << "an older file"; }
    ASSERT_EQ(cli({"snapshot", "cam0", file}).exitCode, 0);
    EXPECT_EQ(cv::imread(file, cv::IMREAD_UNCHANGED).size(), cv::Size(32, 32));
    // ...a symlink is replaced, not written through (it may point anywhere)...
    const std::string target = path("target.txt");
    { std::ofstream(target) << "keep"; }
    std::filesystem::create_symlink(target, path("link.png"));
    ASSERT_EQ(cli({"snapshot", "cam0", path("link.png")}).exitCode, 0);
    EXPECT_FALSE(std::filesystem::is_symlink(path("link.png")));
    std::ifstream kept(target);
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(kept), {}), "keep");
    // ...and what is not a regular file is left alone, with no temporary file behind.
    std::filesystem::create_directory(path("folder.png"));
    auto folder = cli({"snapshot", "cam0", path("folder.png")});
    EXPECT_EQ(folder.exitCode, 1);
    EXPECT_TRUE(contains(folder.err, "not a regular file")) << folder.err;
    EXPECT_TRUE(std::filesystem::is_directory(path("folder.png")));
    for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
        EXPECT_EQ(entry.path().filename().string().rfind(".shmframe-snapshot", 0),
                  std::string::npos)
            << entry.path();
    }
}

TEST_F(Cli, BenchRunsTheSuiteScriptWithItsArguments) {
    const std::string script = path("run.sh");
    {
        std::ofstream out(script);
        out << "#!/bin/sh\necho \"bench table for: $*\"\nexit 3\n";
    }
    chmod(script.c_str(), 0755);
    setenv("SHMFRAME_BENCH_SCRIPT", script.c_str(), 1);
    auto result = cli({"bench", "--quick", "720p"});
    auto which = cli({"bench", "--which"});
    unsetenv("SHMFRAME_BENCH_SCRIPT");
    EXPECT_EQ(result.exitCode, 3);  // the suite's own exit code
    EXPECT_TRUE(contains(result.out, "bench table for: --quick 720p")) << result.out;
    EXPECT_EQ(which.exitCode, 0);
    EXPECT_EQ(which.out, script + "\n");
}

TEST_F(Cli, BenchWithoutTheSuiteSaysWhereItLooked) {
    setenv("SHMFRAME_BENCH_SCRIPT", path("missing/run.sh").c_str(), 1);
    auto result = cli({"bench"});
    unsetenv("SHMFRAME_BENCH_SCRIPT");
    EXPECT_EQ(result.exitCode, 1);
    EXPECT_TRUE(contains(result.err, "not available")) << result.err;
    EXPECT_TRUE(contains(result.err, path("missing/run.sh"))) << result.err;
}

}  // namespace
}  // namespace shmframe::test
