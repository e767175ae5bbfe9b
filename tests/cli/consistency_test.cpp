// SPDX-License-Identifier: LGPL-2.1-or-later
// What every `shmframe` command has in common: errors, CLI11's own included, carry the
// documented "shmframe <command>: error:" prefix and exit code; a stream that ends
// cleanly is not an error.
#include <gtest/gtest.h>

#include "run_command.h"
#include "shmframe/shmframe.h"
#include "test_support.h"

namespace shmframe::test {
namespace {

using namespace std::chrono_literals;

const std::string kCli = SHMFRAME_CLI_PATH;

RunResult cli(const std::vector<std::string>& args) {
    return runCommand(kCli, args, 30s);
}

bool startsWith(const std::string& text, const std::string& prefix) {
    return text.rfind(prefix, 0) == 0;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

class CliConsistency : public ::testing::Test {
  protected:
    TempFeedDir dir_;
};

TEST_F(CliConsistency, ParseErrorsOfEveryKindHaveTheDocumentedPrefixAndExitCode2) {
    struct Case {
        std::vector<std::string> args;
        std::string prefix;
        std::string mentions;
    };
    const std::vector<Case> cases = {
        {{"frobnicate"}, "shmframe: error: ", "frobnicate"},
        {{"list", "--frobnicate"}, "shmframe list: error: ", "--frobnicate"},
        {{"info"}, "shmframe info: error: ", "FEED"},
        {{"info", "cam0", "extra"}, "shmframe info: error: ", "extra"},
        {{"stats", "cam0", "--interval", "x"}, "shmframe stats: error: ", "interval"},
        {{"publish", "cam0", "--frames"}, "shmframe publish: error: ", "frames"},
    };
    for (const Case& c : cases) {
        auto result = cli(c.args);
        EXPECT_EQ(result.exitCode, 2) << c.args[0];
        EXPECT_TRUE(startsWith(result.err, c.prefix)) << result.err;
        EXPECT_TRUE(contains(result.err, c.mentions)) << result.err;
        EXPECT_TRUE(contains(result.err, "--help")) << result.err;
    }
}

TEST_F(CliConsistency, OurOwnErrorsHaveTheSamePrefix) {
    auto result = cli({"info", "bad/name"});
    EXPECT_EQ(result.exitCode, 2);
    EXPECT_TRUE(startsWith(result.err, "shmframe info: error: ")) << result.err;
    result = cli({"info", "nobody"});
    EXPECT_EQ(result.exitCode, 1);
    EXPECT_TRUE(startsWith(result.err, "shmframe info: error: ")) << result.err;
}

TEST_F(CliConsistency, OutputThatCannotBeWrittenIsAnError) {
    // stdout closed: the listing is lost, so the command must not report success.
    auto closed = runCommand("/bin/sh", {"-c", "exec >&-; exec \"$0\" list", kCli}, 30s);
    EXPECT_EQ(closed.exitCode, 1) << closed.err;
    EXPECT_TRUE(contains(closed.err, "could not write to standard output")) << closed.err;
}

TEST_F(CliConsistency, StatsExitsZeroAndSaysSoWhenTheStreamEnds) {
    // A publisher that ends by itself after a few frames: end of stream, socket removed.
    Child publisher = Child::spawn(
        kCli, {"publish", "ending", "--quiet", "--size", "32x32", "--fps", "20", "--frames", "100"},
        true);
    ASSERT_TRUE(waitUntil([] { return probeFeed("ending").hasValue(); }, 20s));
    CapturedChild stats(kCli, {"stats", "ending", "--interval", "0.1"});
    EXPECT_EQ(stats.child().wait(30s), 0) << stats.err();
    EXPECT_TRUE(contains(stats.out(), "end of stream")) << stats.out();
    EXPECT_EQ(publisher.wait(20s), 0);
}

}  // namespace
}  // namespace shmframe::test
