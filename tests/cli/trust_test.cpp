// SPDX-License-Identifier: LGPL-2.1-or-later
// The attacks of docs/security.md, done for real against the real `shmframe` program:
// a stderr nobody reads, a pool larger than memory, another user squatting the feed
// dir or publishing in our name, a stopped writer.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

#include "run_command.h"
#include "shmframe/shmframe.h"
#include "test_support.h"

namespace shmframe::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const std::string kCli = SHMFRAME_CLI_PATH;
constexpr uid_t kNobody = 65534;
constexpr gid_t kNogroup = 65534;

RunResult cli(const std::vector<std::string>& args, std::chrono::milliseconds timeout = 60s) {
    return runCommand(kCli, args, timeout);
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

bool hasPublished(const std::string& feed) {
    auto info = probeFeed(feed);
    return info && info->published > 0;
}

// Sets (or unsets, with nullopt) an environment variable for one test.
class ScopedEnv {
  public:
    ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
        if (const char* old = std::getenv(name)) {
            previous_ = old;
        }
        if (value) {
            ::setenv(name, value->c_str(), 1);
        } else {
            ::unsetenv(name);
        }
    }
    ~ScopedEnv() {
        if (previous_) {
            ::setenv(name_, previous_->c_str(), 1);
        } else {
            ::unsetenv(name_);
        }
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

  private:
    const char* name_;
    std::optional<std::string> previous_;
};

// Connects to \a socketPath and sends one message that is not a Hello: the writer
// logs a warning line about it and hangs up, which we wait for (so that this is not
// a flood of connections, only of log lines).
void sendGarbage(const std::string& socketPath) {
    const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, socketPath.c_str(), sizeof(address.sun_path) - 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
        const char garbage[] = "not a hello at all";
        [[maybe_unused]] auto sent = ::send(fd, garbage, sizeof(garbage), MSG_NOSIGNAL);
        pollfd hangUp{fd, POLLIN, 0};
        EXPECT_EQ(::poll(&hangUp, 1, 20'000), 1) << "the writer did not close a bad Hello";
    }
    ::close(fd);
}

// Reads what is in the pipe \a fd now, without waiting.
std::string drainPipe(int fd) {
    std::string text;
    char buffer[4096];
    pollfd ready{fd, POLLIN, 0};
    while (::poll(&ready, 1, 0) == 1 && (ready.revents & POLLIN)) {
        const ssize_t got = ::read(fd, buffer, sizeof(buffer));
        if (got <= 0) {
            break;
        }
        text.append(buffer, static_cast<std::size_t>(got));
    }
    return text;
}

class Trust : public ::testing::Test {
  protected:
    TempFeedDir dir_;
    std::string path(const std::string& name) const { return dir_.path() + "/" + name; }
};

// --- Logging never blocks the transport ---------------------------------------------

TEST_F(Trust, AWriterWhoseStderrNobodyReadsKeepsAcceptingReadersAndStopsOnSigterm) {
    int stderrPipe[2];
    ASSERT_EQ(::pipe2(stderrPipe, O_CLOEXEC), 0);
    // The smallest pipe, filled up before the writer starts: its first log line blocks.
    ::fcntl(stderrPipe[1], F_SETPIPE_SZ, 4096);
    ::fcntl(stderrPipe[1], F_SETFL, O_NONBLOCK);
    const std::string filler(4096, 'x');
    while (::write(stderrPipe[1], filler.data(), filler.size()) > 0) {
    }
    ::fcntl(stderrPipe[1], F_SETFL, 0);  // the writer gets a plain blocking stderr

    Child::Streams streams;
    streams.out = Child::Streams::kDevNull;
    streams.err = stderrPipe[1];
    // SHMFRAME_DEBUG=1: the writer logs a line for every reader that comes and goes.
    ::setenv("SHMFRAME_DEBUG", "1", 1);
    Child writer =
        Child::spawnWith(kCli, {"publish", "cam0", "--size", "64x48", "--quiet"}, streams);
    ::unsetenv("SHMFRAME_DEBUG");
    ::close(stderrPipe[1]);
    ASSERT_TRUE(waitUntil([] { return hasPublished("cam0"); }, 60s));

    // Hundreds of log lines, none of which stderr takes: bad Hellos (logged at a
    // bounded rate) and readers coming and going (two lines each).
    for (int i = 0; i < 300; ++i) {
        sendGarbage(path("cam0.sock"));
    }
    for (int i = 0; i < 300; ++i) {
        auto reader = Reader::open("cam0");
        ASSERT_TRUE(reader) << "reader " << i << ": " << reader.error().message;
    }
    for (int i = 0; i < 5; ++i) {
        auto reader = Reader::open("cam0");
        ASSERT_TRUE(reader) << "reader " << i << ": " << reader.error().message;
        auto frame = reader->next(30s);
        EXPECT_TRUE(frame) << frame.error().message;
    }

    // Once someone reads stderr again, the writer says how many lines it dropped.
    std::string logged;
    EXPECT_TRUE(waitUntil(
        [&] {
            logged += drainPipe(stderrPipe[0]);
            return contains(logged, "log lines dropped");
        },
        60s))
        << logged.substr(logged.find_first_not_of('x') == std::string::npos
                             ? logged.size()
                             : logged.find_first_not_of('x'));

    // Stuck again, and SIGTERM still ends the writer cleanly.
    for (int i = 0; i < 100; ++i) {
        sendGarbage(path("cam0.sock"));
    }
    writer.signal(SIGTERM);
    EXPECT_EQ(writer.wait(60s), 0);
    EXPECT_FALSE(std::filesystem::exists(path("cam0.sock")));
    EXPECT_FALSE(std::filesystem::exists(path("cam0.lock")));
    ::close(stderrPipe[0]);
}

// --- Memory admitted before it is taken -----------------------------------------------

std::optional<std::uint64_t> memAvailable() {
    std::ifstream meminfo("/proc/meminfo");
    std::string key;
    std::uint64_t kib = 0;
    std::string unit;
    while (meminfo >> key >> kib >> unit) {
        if (key == "MemAvailable:") {
            return kib * 1024;
        }
    }
    return std::nullopt;
}

TEST_F(Trust, APoolLargerThanTheAvailableMemoryIsRefusedAtOnceSayingHowMuch) {
    const auto available = memAvailable();
    ASSERT_TRUE(available);
    // 16384x16384 RGBA is 1 GiB a slot: ask for more slots than there are GiB.
    constexpr std::uint64_t kSlotBytes = 16384ull * 16384 * 4;
    const std::uint64_t slots = *available / kSlotBytes + 2;
    if (slots > 64) {
        GTEST_SKIP() << "more than 62 GiB available: 64 slots of 1 GiB would fit";
    }
    const auto result =
        cli({"publish", "huge", "--size", "16384x16384", "--format", "RGBA", "--slots",
             std::to_string(std::max<std::uint64_t>(slots, 3)), "--frames", "1", "--quiet"});
    EXPECT_EQ(result.exitCode, 1) << result.err;
    EXPECT_TRUE(contains(result.err, "needs ") && contains(result.err, " GiB") &&
                contains(result.err, "available"))
        << result.err;
    EXPECT_TRUE(dir_.entries().empty()) << "left behind: " << dir_.entries().front();
}

// --- Readers trust only what they should ------------------------------------------------

// Root only: the attacker is a process running as nobody.
class OtherUser : public Trust {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) {
            GTEST_SKIP() << "needs root to run the attacker as nobody (uid 65534); runs as uid "
                         << ::geteuid();
        }
        std::string pattern =
            (std::filesystem::temp_directory_path() / "shmframe-tmp-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        tmp_ = pattern;
        ::chmod(tmp_.c_str(), 01777);  // a /tmp of our own, shared like /tmp
    }
    void TearDown() override {
        attacker_.kill();
        if (!tmp_.empty()) {
            std::error_code ignored;
            std::filesystem::remove_all(tmp_, ignored);
        }
    }

    // `shmframe publish FEED` as nobody, with \a feedDir as its SHMFRAME_DIR.
    void publishAsNobody(const std::string& feedDir, const std::string& feed) {
        attacker_ = Child::fork([&] {
            const int devNull = ::open("/dev/null", O_WRONLY);
            ::dup2(devNull, STDOUT_FILENO);
            ::dup2(devNull, STDERR_FILENO);
            if (::setgroups(0, nullptr) != 0 || ::setgid(kNogroup) != 0 || ::setuid(kNobody) != 0) {
                return 98;
            }
            ::setenv("SHMFRAME_DIR", feedDir.c_str(), 1);
            ::execl(kCli.c_str(), kCli.c_str(), "publish", feed.c_str(), "--size", "32x32",
                    "--access", "any", "--quiet", static_cast<char*>(nullptr));
            return 97;
        });
        ASSERT_TRUE(
            waitUntil([&] { return std::filesystem::exists(feedDir + "/" + feed + ".sock"); }, 60s))
            << "the attacker did not start (exit " << attacker_.wait(0ms) << ")";
    }

    std::string tmp_;
    Child attacker_;
};

TEST_F(OtherUser, AFallbackFeedDirMadeByAnotherUserIsRefusedByEveryReader) {
    // The victim has no SHMFRAME_DIR nor XDG_RUNTIME_DIR: its feeds would live in
    // $TMPDIR/shmframe-<uid>, which nobody made first and publishes in.
    const std::string squatted = tmp_ + "/shmframe-" + std::to_string(::getuid());
    Child mkdirAsNobody = Child::fork([&] {
        return ::setgid(kNogroup) == 0 && ::setuid(kNobody) == 0 &&
                       ::mkdir(squatted.c_str(), 0755) == 0
                   ? 0
                   : 1;
    });
    ASSERT_EQ(mkdirAsNobody.wait(30s), 0);
    publishAsNobody(squatted, "cam0");

    ScopedEnv noDir("SHMFRAME_DIR", std::nullopt);
    ScopedEnv noRuntime("XDG_RUNTIME_DIR", std::nullopt);
    ScopedEnv tmpdir("TMPDIR", tmp_);
    ASSERT_EQ(feedDirectory(), squatted);

    const std::string uidText = "uid " + std::to_string(kNobody);
    auto list = cli({"list"});
    EXPECT_EQ(list.exitCode, 1) << list.out;
    EXPECT_TRUE(contains(list.err, squatted) && contains(list.err, uidText)) << list.err;
    EXPECT_FALSE(contains(list.out, "cam0")) << list.out;

    auto info = cli({"info", "cam0"});
    EXPECT_EQ(info.exitCode, 1) << info.out;
    EXPECT_TRUE(contains(info.err, uidText)) << info.err;

    auto snapshot = cli({"snapshot", "cam0", path("stolen.png"), "--timeout", "5"});
    EXPECT_EQ(snapshot.exitCode, 1);
    EXPECT_TRUE(contains(snapshot.err, uidText)) << snapshot.err;
    EXPECT_FALSE(std::filesystem::exists(path("stolen.png")));

    auto reader = Reader::open("cam0");
    ASSERT_FALSE(reader);
    EXPECT_EQ(reader.error().code, Errc::PermissionDenied) << reader.error().message;
    auto waiting = Reader::open("cam0", {.waitForWriter = true});
    ASSERT_FALSE(waiting);
    EXPECT_EQ(waiting.error().code, Errc::PermissionDenied) << waiting.error().message;
    EXPECT_TRUE(listFeeds().empty());

    // Our own writer refuses that dir too.
    auto publish = cli({"publish", "mine", "--frames", "1", "--quiet"});
    EXPECT_EQ(publish.exitCode, 1);
    EXPECT_TRUE(contains(publish.err, uidText)) << publish.err;
}

TEST_F(OtherUser, AWriterOfAnotherUidIsRefusedUnlessTrusted) {
    // A dir shared on purpose (SHMFRAME_DIR, world-writable and sticky like /tmp): the
    // dir is fine, but the writer there runs as nobody.
    const std::string shared = tmp_;
    ScopedEnv sharedDir("SHMFRAME_DIR", shared);
    publishAsNobody(shared, "cam0");

    auto reader = Reader::open("cam0");
    ASSERT_FALSE(reader);
    EXPECT_EQ(reader.error().code, Errc::PermissionDenied);
    EXPECT_TRUE(contains(reader.error().message, "uid " + std::to_string(kNobody)) &&
                contains(reader.error().message, shared))
        << reader.error().message;
    auto probed = probeFeed("cam0");
    ASSERT_FALSE(probed);
    EXPECT_EQ(probed.error().code, Errc::PermissionDenied);
    auto absolute = Reader::open(shared + "/cam0.sock");
    ASSERT_FALSE(absolute);
    EXPECT_EQ(absolute.error().code, Errc::PermissionDenied);

    auto info = cli({"info", "cam0"});
    EXPECT_EQ(info.exitCode, 1);
    EXPECT_TRUE(contains(info.err, "uid " + std::to_string(kNobody))) << info.err;
    auto snapshot = cli({"snapshot", "cam0", path("stolen.png"), "--timeout", "5"});
    EXPECT_EQ(snapshot.exitCode, 1);
    EXPECT_FALSE(std::filesystem::exists(path("stolen.png")));

    ReaderOptions trusting;
    trusting.trustedWriterUids = {kNobody};
    auto trusted = Reader::open("cam0", trusting);
    ASSERT_TRUE(trusted) << trusted.error().message;
    EXPECT_TRUE(trusted->next(30s));

    // The environment trusts it for programs that have no option for it: the CLI here
    // (the viewer, shmframesrc and Python read the same variable in the library).
    const std::string nobody = std::to_string(kNobody);
    for (const std::string& list : std::vector<std::string>{nobody, "4242," + nobody, "any"}) {
        ScopedEnv trust("SHMFRAME_TRUSTED_WRITERS", list);
        auto trustedInfo = cli({"info", "cam0"});
        EXPECT_EQ(trustedInfo.exitCode, 0) << list << ": " << trustedInfo.err;
        EXPECT_TRUE(probeFeed("cam0")) << list;
    }
    // Garbage trusts nobody, and the refusal says why the variable did not count.
    for (const std::string& bad :
         std::vector<std::string>{nobody + ",", "-1", nobody + " ", "1,,2", "4294967295",
                                  "99999999999", "ANY", "4242"}) {
        ScopedEnv trust("SHMFRAME_TRUSTED_WRITERS", bad);
        auto refused = cli({"info", "cam0"});
        EXPECT_EQ(refused.exitCode, 1) << bad;
        EXPECT_TRUE(contains(refused.err, "SHMFRAME_TRUSTED_WRITERS"))
            << bad << ": " << refused.err;
        auto probedBad = probeFeed("cam0");
        ASSERT_FALSE(probedBad) << bad;
        EXPECT_EQ(probedBad.error().code, Errc::PermissionDenied) << bad;
    }
}

// --- A stopped writer is visible --------------------------------------------------------

TEST_F(Trust, AStoppedWriterIsListedAsNotRespondingAndStatsKeepsReportingIt) {
    Child writer = Child::spawn(kCli, {"publish", "cam0", "--size", "64x48", "--quiet"}, true);
    ASSERT_TRUE(waitUntil([] { return hasPublished("cam0"); }, 60s));
    CapturedChild stats(kCli, {"stats", "cam0", "--read", "--interval", "0.2", "--json"});
    ASSERT_TRUE(waitUntil([&] { return contains(stats.out(), "\"responding\":true"); }, 60s))
        << stats.err();

    writer.signal(SIGSTOP);
    struct Resume {
        Child& child;
        ~Resume() { child.signal(SIGCONT); }
    } resume{writer};
    ASSERT_TRUE(waitUntil([&] { return writer.stopped(); }, 30s));

    auto list = cli({"list"});
    EXPECT_EQ(list.exitCode, 0) << list.err;
    EXPECT_TRUE(contains(list.out, "cam0") && contains(list.out, "not responding") &&
                contains(list.out, std::to_string(writer.pid())))
        << list.out;
    auto listJson = cli({"list", "--json"});
    ASSERT_EQ(listJson.exitCode, 0) << listJson.err;
    auto feeds = json::parse(listJson.out);
    ASSERT_EQ(feeds.size(), 1u) << listJson.out;
    EXPECT_EQ(feeds[0]["responding"], false);
    EXPECT_EQ(feeds[0]["writer_pid"], writer.pid());

    auto info = cli({"info", "cam0"});
    EXPECT_EQ(info.exitCode, 1);
    EXPECT_TRUE(contains(info.err, "not responding") &&
                contains(info.err, "pid " + std::to_string(writer.pid())))
        << info.err;
    auto reader = Reader::open("cam0");
    ASSERT_FALSE(reader);
    EXPECT_TRUE(contains(reader.error().message, "not responding")) << reader.error().message;

    EXPECT_TRUE(waitUntil([&] { return contains(stats.out(), "\"responding\":false"); }, 60s))
        << stats.out() << stats.err();
    EXPECT_TRUE(stats.child().running()) << stats.err();

    writer.signal(SIGCONT);
    const auto stoppedAt = stats.out().rfind("\"responding\":false");
    EXPECT_TRUE(waitUntil(
        [&] {
            const std::string out = stats.out();
            return out.find("\"responding\":true", stoppedAt) != std::string::npos;
        },
        60s))
        << stats.out();
    stats.child().signal(SIGTERM);
    EXPECT_EQ(stats.child().wait(60s), 0) << stats.err();
}

}  // namespace
}  // namespace shmframe::test
