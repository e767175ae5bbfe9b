// SPDX-License-Identifier: LGPL-2.1-or-later
// What the crash, restart and hostile-peer tests share: a fixture that checks nothing is
// left behind, process inspection (/proc), test_peer processes with their output, a
// publisher thread, a log capture, and the pieces fake writers and fake readers are
// built from (raw sockets, hand-made pools and control blocks).
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "mapping.h"
#include "pool_layout.h"
#include "protocol.h"
#include "shmframe/shmframe.h"
#include "test_support.h"
#include "unique_fd.h"

namespace shmframe::robust {

using namespace std::chrono_literals;

// --- /proc ---------------------------------------------------------------------------

/// Sanitizer runtimes hold freed memory back (ASan's quarantine) and add shadow memory:
/// there RSS says nothing about leaks (LeakSanitizer does that job), so RSS checks are
/// made only in plain builds.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kRssIsMeaningful = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool kRssIsMeaningful = false;
#else
inline constexpr bool kRssIsMeaningful = true;
#endif
#else
inline constexpr bool kRssIsMeaningful = true;
#endif

/// Resident set size of a process (0 = this one), in KiB; -1 if it cannot be read.
long residentKb(pid_t pid = 0);
/// Open fds of another process (countOpenFds() is this one's).
int openFdCount(pid_t pid);
/// Names in /dev/shm that could be ours (contain "shmframe"), sorted.
std::vector<std::string> devShmEntries();
/// Lines of /proc/<pid>/maps (0 = this process) that contain \a needle.
std::vector<std::string> mapsLines(pid_t pid, const std::string& needle);

// --- the fixture -----------------------------------------------------------------------

/**
 * Isolates the feed dir and checks at the end that the test left nothing behind: the
 * feed dir empty, no fd of this process leaked, /dev/shm as before.
 */
class RobustnessTest : public ::testing::Test {
  protected:
    void SetUp() override;
    void TearDown() override;

    test::TempFeedDir dir_;
    int fdsBefore_ = 0;
    std::vector<std::string> devShmBefore_;
};

// --- test_peer processes ----------------------------------------------------------------

/// A test_peer process and its stdout.
struct Peer {
    test::Child child;
    test::LineReader out;

    /// Waits for the "ready" line (the writer serves / the reader is open).
    bool waitReady(std::chrono::milliseconds timeout = 10s);
    /// SIGTERM, then the exit code (-1 if it did not exit within \a timeout).
    int stop(std::chrono::milliseconds timeout =
                 30s);  // generous: sanitizer builds on a loaded machine exit slowly
};

Peer startPeer(const std::vector<std::string>& args, bool quietStderr = false);

/// One "frame seq=... pts=... session=... gen=... format=... skipped=... gaps=... ok=..."
/// line of a verbose test_peer reader.
struct FrameLine {
    std::uint64_t sequence = 0;
    std::uint64_t pts = 0;
    std::uint64_t session = 0;
    std::uint32_t generation = 0;
    std::string format;
    std::uint64_t skipped = 0;
    std::uint64_t gaps = 0;
    bool intact = false;
};
std::optional<FrameLine> parseFrameLine(const std::string& line);

/// The last line of a test_peer reader: "received=R skipped=S gaps=G bad=B reconnects=C".
struct ReaderSummary {
    long received = -1;
    long skipped = -1;
    long gaps = -1;
    long bad = -1;
    long reconnects = -1;
};
std::optional<ReaderSummary> parseSummary(const std::string& line);
/// Reads lines until the summary (the reader must be stopping already).
std::optional<ReaderSummary> readSummary(test::LineReader& out,
                                         std::chrono::milliseconds timeout = 10s);

// --- in-process helpers -------------------------------------------------------------------

/// Frame k of a publisher carries fillPattern(k) and pts = k, like test_peer's writer.
Result<void> publishPattern(Writer& writer, std::uint64_t k);

/// Publishes pattern frames from a thread until stopped, \a period apart.
class Publisher {
  public:
    Publisher(Writer& writer, std::chrono::microseconds period);
    ~Publisher();
    void stop();
    std::uint64_t published() const { return published_.load(); }
    /// First error of loan()/publish(), empty if none.
    std::string error() const;

  private:
    Writer& writer_;
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> published_{0};
    mutable std::mutex mutex_;
    std::string error_;
    std::thread thread_;
};

/// Captures the library's log lines while alive (restores stderr after).
class LogCapture {
  public:
    LogCapture();
    ~LogCapture();
    std::vector<std::string> lines() const;
    bool contains(const std::string& text) const;

  private:
    struct State {
        std::mutex mutex;
        std::vector<std::string> lines;
    };
    std::shared_ptr<State> state_ = std::make_shared<State>();
};

/// Collects a writer's ReaderEvents (install with options.onReaderEvent = events.handler()).
class EventLog {
  public:
    std::function<void(const ReaderEvent&)> handler();
    std::vector<ReaderEvent> events() const;
    std::optional<ReaderEvent> first(ReaderEvent::Kind kind) const;

  private:
    struct State {
        mutable std::mutex mutex;
        std::vector<ReaderEvent> events;
    };
    std::shared_ptr<State> state_ = std::make_shared<State>();
};

Format smallFormat(PixelFormat pixelFormat = PixelFormat::RGBA, std::uint32_t width = 64,
                   std::uint32_t height = 48);

// --- raw protocol pieces for fake peers ---------------------------------------------------

/// A SOCK_SEQPACKET socket listening at \a path (replacing what is there).
UniqueFd listenAt(const std::string& path, int backlog = 16);
/// Connects a raw SOCK_SEQPACKET socket to \a path (-1 fd on failure).
UniqueFd connectRaw(const std::string& path);
/// Sends bytes with fds on a raw socket (blocking); false on failure.
bool sendRaw(int socket, const std::vector<std::byte>& bytes, const std::vector<int>& fds = {});
/// An encoded protocol message.
template <typename Payload>
std::vector<std::byte> encodeMessage(protocol::MessageType type, const Payload& payload,
                                     std::size_t fdCount) {
    return protocol::encode(type, &payload, sizeof(payload), fdCount);
}
/// A Hello from a reader (flags: protocol::HelloFlags).
std::vector<std::byte> helloMessage(std::uint32_t flags = 0, const char* name = "fake");

/// A memfd of \a size bytes, allocated; sealed with memfd::kRequiredSeals if \a sealed.
UniqueFd makeMemfd(const char* name, std::size_t size, bool sealed);

/**
 * What an honest writer would send a reader: a sealed pool with a valid header, a
 * sealed control block, a wake-up listener (an epoll watching an eventfd) and the
 * Welcome. Fake writers spoil one
 * part of it before sending.
 */
struct HonestParts {
    layout::PoolDescription description;
    UniqueFd pool;  // read-write; the fake writer keeps scribbling rights
    Mapping poolMapping;
    UniqueFd control;
    Mapping controlMapping;
    UniqueFd wakeReader;  // the listener, sent
    UniqueFd wakeWriter;  // the eventfd it watches, kept
    protocol::Welcome welcome{};

    layout::PoolHeader& header() { return layout::header(poolMapping.data()); }
    layout::ControlBlock& block() {
        return *reinterpret_cast<layout::ControlBlock*>(controlMapping.data());
    }
    /// Publishes frame \a sequence into \a slot (pattern seed = pts = sequence).
    void publish(std::uint32_t slot, std::uint64_t sequence);
    /// Wakes the reader, as a writer does after publishing.
    void wake();
};
/// \a sealPool false leaves the pool unsealed; \a rewriteHeader lets a case edit the
/// header before the seals are applied.
HonestParts makeHonestParts(const Format& format, std::uint32_t slots = 4, bool sealPool = true,
                            const std::function<void(layout::PoolHeader&)>& rewriteHeader = {});

/**
 * A fake writer in its own process: listens at \a socketPath and runs \a serve on every
 * accepted connection (in the child; the connection is closed when serve returns).
 * Killed (SIGKILL) and its socket removed on destruction.
 */
class FakeWriter {
  public:
    FakeWriter(const std::string& socketPath, std::function<void(int connection)> serve,
               int backlog = 16, bool accept = true);
    ~FakeWriter();
    FakeWriter(const FakeWriter&) = delete;
    FakeWriter& operator=(const FakeWriter&) = delete;
    pid_t pid() const { return child_.pid(); }

  private:
    std::string path_;
    test::Child child_;
};

/// Reads the reader's Hello from \a connection (waits up to 5 s); false if none came.
bool receiveHello(int connection);
/// Waits until the peer hangs up (or \a timeout passes).
void waitForHangUp(int connection, std::chrono::milliseconds timeout = 10s);

}  // namespace shmframe::robust
