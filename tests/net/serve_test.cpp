// SPDX-License-Identifier: LGPL-2.1-or-later
// `shmframe serve` seen from RTSP clients, and the rtsp-to-feed sample, on 127.0.0.1.
#include <arpa/inet.h>
#include <gst/rtsp/gstrtspconnection.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "rtsp_client.h"
#include "run_command.h"
#include "shmframe/feed.h"
#include "shmframe/reader.h"
#include "test_support.h"

namespace shmframe::test {
namespace {

using namespace std::chrono_literals;

const std::string kCli = SHMFRAME_CLI_PATH;
// Upper bounds against hangs only; on a busy 2-core machine an RTSP session with an
// encoder takes a few seconds to start.
constexpr auto kStartTimeout = 60s;
// One RTSP request and its answer; DESCRIBE waits for the encoder to preroll.
constexpr gint64 kRtspTimeoutUs = 60 * G_USEC_PER_SEC;
constexpr auto kFramesTimeout = 30s;

struct ServeProcess {
    Child child;
    LineReader lines;
    std::string base;  // "rtsp://127.0.0.1:PORT/"

    // The URL of the next "serving" line for \a feed, or "" if none came in time.
    std::string waitForServing(const std::string& feed, std::chrono::milliseconds timeout) {
        return waitFor("serving ", feed, timeout);
    }
    std::string waitForStopped(const std::string& feed, std::chrono::milliseconds timeout) {
        return waitFor("stopped ", feed, timeout);
    }

  private:
    std::string waitFor(const std::string& prefix, const std::string& feed,
                        std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (true) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                return "";
            }
            auto line = lines.waitFor(prefix, left);
            if (!line) {
                return "";
            }
            const std::string url = line->substr(prefix.size());
            if (url == base + feed) {
                return url;
            }
        }
    }
};

// `shmframe serve --port 0 ARGS...`, once it listens.
ServeProcess startServe(std::vector<std::string> args = {}) {
    args.insert(args.begin(), {"serve", "--port", "0"});
    int stdoutFd = -1;
    ServeProcess serve;
    serve.child = Child::spawnPiped(kCli, args, &stdoutFd);
    serve.lines = LineReader(stdoutFd);
    const std::string prefix = "listening on ";
    auto line = serve.lines.waitFor(prefix, kStartTimeout);
    if (line) {
        // "listening on rtsp://127.0.0.1:PORT/ (feeds of DIR)"
        const std::string rest = line->substr(prefix.size());
        serve.base = rest.substr(0, rest.find(' '));
    }
    return serve;
}

Child startWriter(const std::string& feed, const std::string& size, const std::string& colour) {
    return Child::spawn(
        kCli,
        {"publish", feed, "--size", size, "--fps", "30", "--pattern", "solid:" + colour, "--quiet"},
        true);
}

bool feedIsLive(const std::string& feed) {
    auto info = probeFeed(feed);
    return info && !info->endOfStream;
}

auto red(int width, int height) {
    return [=](const DecodedFrame& frame) { return looksLike(frame, width, height, 255, 0, 0); };
}
auto blue(int width, int height) {
    return [=](const DecodedFrame& frame) { return looksLike(frame, width, height, 0, 0, 255); };
}

TEST(Serve, ServedFeedReachesAnRtspClientAtItsSizeAndColour) {
    TempFeedDir dir;
    Child writer = startWriter("cam0", "320x240", "FF0000");
    ASSERT_TRUE(waitUntil([] { return feedIsLive("cam0"); }, kStartTimeout));

    ServeProcess serve = startServe();
    ASSERT_EQ(serve.base.rfind("rtsp://127.0.0.1:", 0), 0u) << serve.base;
    const std::string url = serve.waitForServing("cam0", kStartTimeout);
    ASSERT_EQ(url, serve.base + "cam0");

    {
        RtspClient client(url);
        EXPECT_EQ(client.countFrames(red(320, 240), 10, kFramesTimeout), 10) << client.errors();
    }

    // SIGTERM ends serve cleanly: exit code 0, and its reader leaves the writer.
    serve.child.signal(SIGTERM);
    EXPECT_EQ(serve.child.wait(10s), 0);
    EXPECT_TRUE(waitUntil(
        [] {
            auto info = probeFeed("cam0");
            return info && info->readers == 0;
        },
        10s));
}

// The local addresses ("0100007F:8000" style, as /proc/net/udp prints them) of the
// UDP sockets \a pid has open.
std::vector<std::string> udpAddressesOf(pid_t pid) {
    std::set<std::string> inodes;
    const std::string fdDir = "/proc/" + std::to_string(pid) + "/fd";
    std::error_code ignored;
    for (const auto& entry : std::filesystem::directory_iterator(fdDir, ignored)) {
        const std::string target = std::filesystem::read_symlink(entry.path(), ignored).string();
        if (target.rfind("socket:[", 0) == 0) {
            inodes.insert(target.substr(8, target.size() - 9));
        }
    }
    std::vector<std::string> addresses;
    for (const char* table : {"/proc/net/udp", "/proc/net/udp6"}) {
        std::ifstream in(table);
        std::string line;
        std::getline(in, line);  // header
        while (std::getline(in, line)) {
            std::istringstream fields(line);
            std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
            fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
                timeout >> inode;
            if (inodes.count(inode)) {
                addresses.push_back(local);
            }
        }
    }
    return addresses;
}

// Asks \a url for RTP over UDP (DESCRIBE, then SETUP of its first stream) as a client
// would, without binding a UDP port ourselves: the ports named are never opened.
// Returns the SETUP answer's Transport header, or what went wrong.
std::string setUpUdpTransport(const std::string& url) {
    GstRTSPUrl* parsed = nullptr;
    if (gst_rtsp_url_parse(url.c_str(), &parsed) != GST_RTSP_OK) {
        return "error: bad url";
    }
    GstRTSPConnection* connection = nullptr;
    std::string result = "error: connect";
    if (gst_rtsp_connection_create(parsed, &connection) == GST_RTSP_OK &&
        gst_rtsp_connection_connect_usec(connection, kRtspTimeoutUs) == GST_RTSP_OK) {
        auto exchange = [&](GstRTSPMethod method, const std::string& uri, int cseq,
                            const char* transport, GstRTSPMessage* response) {
            GstRTSPMessage* request = nullptr;
            gst_rtsp_message_new_request(&request, method, uri.c_str());
            gst_rtsp_message_add_header(request, GST_RTSP_HDR_CSEQ, std::to_string(cseq).c_str());
            if (transport) {
                gst_rtsp_message_add_header(request, GST_RTSP_HDR_TRANSPORT, transport);
            }
            const bool ok =
                gst_rtsp_connection_send_usec(connection, request, kRtspTimeoutUs) == GST_RTSP_OK &&
                gst_rtsp_connection_receive_usec(connection, response, kRtspTimeoutUs) ==
                    GST_RTSP_OK;
            gst_rtsp_message_free(request);
            return ok;
        };
        GstRTSPMessage describe = {};
        gst_rtsp_message_init(&describe);
        if (exchange(GST_RTSP_DESCRIBE, url, 1, nullptr, &describe)) {
            guint8* body = nullptr;
            guint bodySize = 0;
            gst_rtsp_message_get_body(&describe, &body, &bodySize);
            const std::string sdp(reinterpret_cast<const char*>(body), bodySize);
            gchar* base = nullptr;
            gst_rtsp_message_get_header(&describe, GST_RTSP_HDR_CONTENT_BASE, &base, 0);
            const std::string contentBase = base ? base : url + "/";
            const auto control = sdp.find("a=control:stream=");
            const std::string streamUrl =
                contentBase +
                (control == std::string::npos
                     ? "stream=0"
                     : sdp.substr(control + 10, sdp.find_first_of("\r\n", control) - control - 10));
            GstRTSPMessage setup = {};
            gst_rtsp_message_init(&setup);
            result = "error: SETUP";
            if (exchange(GST_RTSP_SETUP, streamUrl, 2, "RTP/AVP;unicast;client_port=40000-40001",
                         &setup)) {
                gchar* transport = nullptr;
                gst_rtsp_message_get_header(&setup, GST_RTSP_HDR_TRANSPORT, &transport, 0);
                result = transport ? transport : "error: no Transport header";
            }
            gst_rtsp_message_unset(&setup);
        } else {
            result = "error: DESCRIBE";
        }
        gst_rtsp_message_unset(&describe);
    }
    if (connection) {
        gst_rtsp_connection_free(connection);
    }
    gst_rtsp_url_free(parsed);
    return result;
}

TEST(Serve, RtpOverUdpStaysOnTheServeAddress) {
    TempFeedDir dir;
    Child writer = startWriter("cam0", "160x120", "FF0000");
    ASSERT_TRUE(waitUntil([] { return feedIsLive("cam0"); }, kStartTimeout));
    ServeProcess serve = startServe();
    const std::string url = serve.waitForServing("cam0", kStartTimeout);
    ASSERT_FALSE(url.empty());

    const std::string transport = setUpUdpTransport(url);
    EXPECT_NE(transport.find("server_port="), std::string::npos) << transport;
    const std::vector<std::string> addresses = udpAddressesOf(serve.child.pid());
    EXPECT_FALSE(addresses.empty()) << "serve opened no UDP port for RTP";
    for (const std::string& address : addresses) {
        EXPECT_EQ(address.substr(0, 9), "0100007F:") << "a UDP socket bound to " << address;
    }
}

TEST(Serve, RtspClientFollowsAWriterRestartedWithAnotherSize) {
    TempFeedDir dir;
    Child writer = startWriter("cam0", "320x240", "FF0000");
    ASSERT_TRUE(waitUntil([] { return feedIsLive("cam0"); }, kStartTimeout));
    ServeProcess serve = startServe();
    const std::string url = serve.waitForServing("cam0", kStartTimeout);
    ASSERT_FALSE(url.empty());

    RtspClient client(url);
    ASSERT_EQ(client.countFrames(red(320, 240), 5, kFramesTimeout), 5) << client.errors();

    writer.kill();
    Child restarted = startWriter("cam0", "160x120", "0000FF");
    EXPECT_EQ(client.countFrames(blue(160, 120), 5, kFramesTimeout), 5) << client.errors();

    // A client that comes after the restart gets the new writer's frames too.
    RtspClient late(url);
    EXPECT_EQ(late.countFrames(blue(160, 120), 5, kFramesTimeout), 5) << late.errors();
}

TEST(Serve, OddSizedFeedIsServedWithoutItsLastColumnAndRow) {
    // H.264 in 4:2:0 needs even sizes; shmframe allows odd ones for RGB formats.
    TempFeedDir dir;
    Child writer = startWriter("odd", "161x121", "FF0000");
    ASSERT_TRUE(waitUntil([] { return feedIsLive("odd"); }, kStartTimeout));
    ServeProcess serve = startServe();
    const std::string url = serve.waitForServing("odd", kStartTimeout);
    ASSERT_FALSE(url.empty());

    RtspClient client(url);
    EXPECT_EQ(client.countFrames(red(160, 120), 5, kFramesTimeout), 5) << client.errors();
}

TEST(Serve, FeedsAreServedAndStoppedAsWritersComeAndGo) {
    TempFeedDir dir;
    ServeProcess serve = startServe();
    ASSERT_FALSE(serve.base.empty());

    Child writer = startWriter("late", "64x48", "00FF00");
    EXPECT_EQ(serve.waitForServing("late", kStartTimeout), serve.base + "late");

    // SIGKILL leaves the socket behind: the periodic listing notices the dead writer.
    writer.kill();
    EXPECT_EQ(serve.waitForStopped("late", kStartTimeout), serve.base + "late");

    Child again = startWriter("late", "64x48", "00FF00");
    EXPECT_EQ(serve.waitForServing("late", kStartTimeout), serve.base + "late");
    again.signal(SIGTERM);
    EXPECT_EQ(again.wait(10s), 0);
    EXPECT_EQ(serve.waitForStopped("late", kStartTimeout), serve.base + "late");
}

TEST(Serve, OnlyTheNamedFeedsAreServed) {
    TempFeedDir dir;
    Child cam0 = startWriter("cam0", "64x48", "FF0000");
    Child cam1 = startWriter("cam1", "64x48", "0000FF");
    ASSERT_TRUE(waitUntil([] { return feedIsLive("cam0") && feedIsLive("cam1"); }, kStartTimeout));

    ServeProcess serve = startServe({"cam1"});
    // Lines come in name order, so a served cam0 would come first.
    auto first = serve.lines.waitFor("serving ", kStartTimeout);
    ASSERT_TRUE(first);
    EXPECT_EQ(*first, "serving " + serve.base + "cam1");

    RtspClient unserved(serve.base + "cam0");
    EXPECT_TRUE(unserved.waitForError(kFramesTimeout)) << "cam0 was served";
    EXPECT_FALSE(unserved.pull(0ms));
}

TEST(Serve, RtspStreamIsPublishedIntoALocalFeedBySample) {
    TempFeedDir dir;
    Child writer = startWriter("camera", "320x240", "FF0000");
    ASSERT_TRUE(waitUntil([] { return feedIsLive("camera"); }, kStartTimeout));
    ServeProcess serve = startServe();
    const std::string url = serve.waitForServing("camera", kStartTimeout);
    ASSERT_FALSE(url.empty());

    // The sample finds the plugin through SHMFRAME_PLUGIN_DIR; RTP over the RTSP
    // connection keeps everything on 127.0.0.1:port.
    setenv("SHMFRAME_PLUGIN_DIR", SHMFRAME_TEST_PLUGIN_DIR, 1);
    setenv("PROTOCOLS", "tcp", 1);
    Child bridge = Child::spawn(
        "/bin/sh", {std::string(SHMFRAME_SOURCE_PIPELINES_DIR) + "/rtsp-to-feed.sh", url, "copy"},
        true);
    unsetenv("PROTOCOLS");
    unsetenv("SHMFRAME_PLUGIN_DIR");

    ReaderOptions options;
    options.waitForWriter = true;
    auto reader = Reader::open("copy", options);
    ASSERT_TRUE(reader) << reader.error().message;
    int rightSize = 0;
    int redCentre = 0;
    const auto deadline = std::chrono::steady_clock::now() + kFramesTimeout;
    while (rightSize < 5 && std::chrono::steady_clock::now() < deadline) {
        auto frame = reader->next(1s);
        if (!frame) {
            ASSERT_TRUE(frame.error().code == Errc::Timeout ||
                        frame.error().code == Errc::WriterGone)
                << frame.error().message;
            continue;
        }
        const Format& format = frame->format();
        if (format.width != 320 || format.height != 240) {
            continue;
        }
        ++rightSize;
        // Decoded H.264 comes as I420: red is luma 81, V 240 (BT.601 limited range).
        if (format.pixelFormat == PixelFormat::I420) {
            const auto luma = frame->plane(0)[std::size_t(120) * format.planes[0].stride + 160];
            const auto v = frame->plane(2)[std::size_t(60) * format.planes[2].stride + 80];
            if (std::abs(int(luma) - 81) <= 30 && std::abs(int(v) - 240) <= 30) {
                ++redCentre;
            }
        }
    }
    EXPECT_EQ(rightSize, 5);
    EXPECT_EQ(redCentre, 5) << "the copy is "
                            << (reader->format() ? reader->format()->describe() : "?")
                            << ", not I420 with the writer's red";
}

TEST(Serve, NetworkSampleScriptsAreValidAndExplainTheirUsage) {
    const std::string dir = SHMFRAME_SOURCE_PIPELINES_DIR;
    for (const char* name : {"rtsp-to-feed.sh", "serve.sh"}) {
        EXPECT_EQ(runCommand("/bin/sh", {"-n", dir + "/" + name}).exitCode, 0) << name;
    }
    const RunResult usage = runCommand("/bin/sh", {dir + "/rtsp-to-feed.sh", "rtsp://x/y"});
    EXPECT_EQ(usage.exitCode, 2);
    EXPECT_NE(usage.err.find("usage:"), std::string::npos) << usage.err;
}

TEST(Serve, BadCommandLinesAreRefusedWithExitCode2) {
    TempFeedDir dir;
    struct BadCase {
        std::vector<std::string> args;
        std::string says;  // part of the message on stderr
    };
    const std::vector<BadCase> cases = {
        {{"serve", "--port", "70000"}, "not in range"},
        {{"serve", "bad/name"}, "invalid feed name 'bad/name'"},
        {{"serve", "/tmp/feed.sock"}, "is a path; serve takes feed names"},
        {{"serve", "cam0", "cam0"}, "feed 'cam0' is named twice"},
        {{"serve", "--port", "0", "--encoder", "videoconvert"}, "payloader named pay0"},
        {{"serve", "--port", "0", "--encoder", "nosuchelement ! x"}, "bad --encoder"},
    };
    for (const BadCase& bad : cases) {
        const RunResult result = runCommand(kCli, bad.args, 30s);
        EXPECT_EQ(result.exitCode, 2) << bad.says << "\n" << result.err;
        EXPECT_NE(result.err.find(bad.says), std::string::npos) << result.err;
        EXPECT_TRUE(result.out.empty()) << result.out;
    }
}

TEST(Serve, APortInUseIsReportedWithExitCode1) {
    TempFeedDir dir;
    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(listener, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    ASSERT_EQ(::listen(listener, 1), 0);
    ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);
    const std::string port = std::to_string(ntohs(address.sin_port));

    const RunResult result = runCommand(kCli, {"serve", "--port", port}, 30s);
    ::close(listener);
    EXPECT_EQ(result.exitCode, 1) << result.err;
    EXPECT_NE(result.err.find("cannot listen on 127.0.0.1 port " + port), std::string::npos)
        << result.err;
}

}  // namespace
}  // namespace shmframe::test
