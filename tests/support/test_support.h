// SPDX-License-Identifier: LGPL-2.1-or-later
// What every shmframe test needs: an isolated feed dir, real child processes that are
// always reaped, fd counting, and a pattern that proves a frame is pixel-exact.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace shmframe::test {

/// A fresh SHMFRAME_DIR for one test; removed (with anything left in it) at the end.
class TempFeedDir {
  public:
    TempFeedDir();
    ~TempFeedDir();
    TempFeedDir(const TempFeedDir&) = delete;
    TempFeedDir& operator=(const TempFeedDir&) = delete;
    const std::string& path() const { return path_; }
    /// Names of the files in the dir now (sorted).
    std::vector<std::string> entries() const;

  private:
    std::string path_;
    std::string previous_;
    bool hadPrevious_ = false;
};

/// Number of open fds of this process.
int countOpenFds();

/// A child process, killed (SIGKILL) and reaped on destruction if still running.
class Child {
  public:
    Child() = default;
    explicit Child(pid_t pid) : pid_(pid) {}
    Child(Child&& other) noexcept;
    Child& operator=(Child&& other) noexcept;
    ~Child();

    /// Forks and runs \a body in the child; its return value is the exit code.
    static Child fork(const std::function<int()>& body);
    /// Starts a program with arguments (argv[0] is \a program); stdout/stderr inherited
    /// unless \a quiet.
    static Child spawn(const std::string& program, const std::vector<std::string>& args,
                       bool quiet = false);
    /// Like spawn(), with the child's stdout on a pipe: *\a stdoutFd receives the read
    /// end (close-on-exec; the caller owns it, e.g. through a LineReader). stderr is
    /// inherited unless \a quietStderr.
    static Child spawnPiped(const std::string& program, const std::vector<std::string>& args,
                            int* stdoutFd, bool quietStderr = false);

    /// Where a spawned child's standard streams go.
    struct Streams {
        static constexpr int kInherit = -1;
        static constexpr int kDevNull = -2;
        int in = kInherit;   ///< kInherit, kDevNull, or an fd of ours to become its stdin
        int out = kInherit;  ///< likewise for stdout
        int err = kInherit;  ///< likewise for stderr
    };
    /// The one place that starts programs: spawn() and spawnPiped() use it too.
    static Child spawnWith(const std::string& program, const std::vector<std::string>& args,
                           const Streams& streams);

    pid_t pid() const { return pid_; }
    bool running();
    /// True while the child is stopped by SIGSTOP (state T in /proc/PID/stat). A tracing
    /// stop (LeakSanitizer's exit-time check) is state t and does not count.
    bool stopped() const;
    void signal(int signo) const;
    /// Kills with SIGKILL and reaps; returns the wait status.
    int kill();
    /// Waits up to \a timeout for exit; returns the exit code, or -1 on timeout (the
    /// child keeps running) or -2 if it died of a signal.
    int wait(std::chrono::milliseconds timeout);

  private:
    pid_t pid_ = -1;
    int status_ = 0;
};

/// Reads a child's stdout line by line (see Child::spawnPiped); owns and closes the fd.
class LineReader {
  public:
    LineReader() = default;
    explicit LineReader(int fd) : fd_(fd) {}
    LineReader(LineReader&& other) noexcept;
    LineReader& operator=(LineReader&& other) noexcept;
    LineReader(const LineReader&) = delete;
    LineReader& operator=(const LineReader&) = delete;
    ~LineReader();

    /// The next line (without its newline), waiting up to \a timeout; nullopt on timeout
    /// or end of file.
    std::optional<std::string> next(std::chrono::milliseconds timeout);
    /// Skips lines until one starts with \a prefix; nullopt if none came in \a timeout.
    std::optional<std::string> waitFor(const std::string& prefix,
                                       std::chrono::milliseconds timeout);
    /// True once the writing end is closed and every line was read.
    bool atEnd() const { return eof_ && buffer_.empty(); }

  private:
    int fd_ = -1;
    std::string buffer_;
    bool eof_ = false;
};

/// Polls \a condition every 5 ms until it holds or \a timeout passes.
bool waitUntil(const std::function<bool()>& condition,
               std::chrono::milliseconds timeout = std::chrono::seconds(10));

/// Fills \a bytes with a pattern unique to \a seed.
void fillPattern(std::span<std::byte> bytes, std::uint64_t seed);
/// True if \a bytes hold exactly the pattern of \a seed.
bool hasPattern(std::span<const std::byte> bytes, std::uint64_t seed);

/// The path of the test peer program (writer/reader for multi-process tests).
std::string peerProgram();

}  // namespace shmframe::test
