// SPDX-License-Identifier: LGPL-2.1-or-later
// What every benchmark program of the suite shares: the stamp each frame carries in
// its pixels, clocks and resource counters, latency summaries, strict argument
// parsing, and child processes that are always reaped (killed by pid on timeout).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace shmframe::bench {

using Json = nlohmann::ordered_json;

/// CLOCK_MONOTONIC in ns: the one clock every process of a measurement shares.
std::uint64_t nowNs();
/// CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID), ns.
std::uint64_t threadCpuNs();

/// CPU time and page faults of the whole process (getrusage(RUSAGE_SELF)).
struct Usage {
    std::uint64_t cpuNs = 0;
    std::uint64_t minorFaults = 0;
    std::uint64_t majorFaults = 0;
};
Usage processUsage();

/// Sleeps until the absolute CLOCK_MONOTONIC time \a deadlineNs.
void sleepUntil(std::uint64_t deadlineNs);

/**
 * The stamp a frame carries in its first 24 pixel bytes (plane 0): the publish time,
 * the frame's index in the run, and a check word so that a reader can tell a real
 * stamp from pixels that only happen to be there (a torn or misframed copy).
 */
struct Stamp {
    std::uint64_t timeNs = 0;
    std::uint64_t index = 0;
};
inline constexpr std::size_t kStampBytes = 24;

/// Writes \a index and the current time into \a pixels; the clock is read last, so
/// the stamp is taken as close to the publish that follows as possible.
std::uint64_t writeStamp(std::byte* pixels, std::uint64_t index);
/// Reads a stamp back; nullopt if the check word does not match.
std::optional<Stamp> readStamp(const std::byte* pixels);

/// p50/p90/p99 and friends of a set of latencies, in µs, plus a compact sorted
/// sample (at most kQuantilePoints values) from which a CDF can be drawn.
struct Summary {
    std::size_t count = 0;
    double p50 = 0, p90 = 0, p99 = 0, min = 0, max = 0, mean = 0;
    std::vector<double> quantiles;
};
inline constexpr std::size_t kQuantilePoints = 200;
Summary summarize(std::vector<double> samplesUs);
Json toJson(const Summary& summary, bool withQuantiles);

/// A record saying the scenario could not run, and why.
Json skipped(Json record, const std::string& reason);

/// Prints one JSON record on stdout, one line, flushed (the suite collects lines).
void emit(const Json& record);

/// Strict "--key value" arguments: unknown keys and bad numbers are errors.
class Args {
  public:
    /// Parses argv[first..]; exits with status 2 and a message on a malformed list.
    Args(int argc, char** argv, int first);
    std::string text(const std::string& key, std::optional<std::string> fallback = {});
    std::uint64_t number(const std::string& key, std::uint64_t min, std::uint64_t max,
                         std::optional<std::uint64_t> fallback = {});
    /// Exits with status 2 if an argument was given that nobody asked for.
    void finish();

  private:
    [[noreturn]] void fail(const std::string& message) const;
    std::string program_;
    std::map<std::string, std::string> values_;
    std::map<std::string, bool> used_;
};

/// A frame geometry given as WxH and a format name, checked.
struct FrameSpec {
    std::string format = "RGBA";
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    std::string label() const;  // "RGBA 1280x720"
};
FrameSpec frameSpec(Args& args);
/// Bytes of one tightly packed frame (RGBA: 4 per pixel, NV12: 1.5 per pixel).
std::uint64_t packedFrameBytes(const FrameSpec& spec);

/// A child process running this same program with other arguments; its stdout is a
/// pipe we read. Killed with SIGKILL and reaped on destruction if still running.
class Child {
  public:
    Child() = default;
    Child(Child&& other) noexcept;
    Child& operator=(Child&& other) noexcept;
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child();

    /// Starts /proc/self/exe with \a args (argv[0] excluded). The child dies with us.
    static std::optional<Child> spawnSelf(const std::vector<std::string>& args);

    pid_t pid() const { return pid_; }
    /// Next line of the child's stdout, or nullopt at EOF or when \a deadlineNs passes.
    std::optional<std::string> readLine(std::uint64_t deadlineNs);
    /// Waits for exit until \a deadlineNs; then SIGKILL. Returns the exit code, or -1
    /// if it had to be killed or died of a signal.
    int waitOrKill(std::uint64_t deadlineNs);
    /// SIGTERM, then up to \a graceMs for it to clean up, then SIGKILL; reaps it.
    int terminate(int graceMs);

  private:
    pid_t pid_ = -1;
    int out_ = -1;
    std::string buffer_;
    bool eof_ = false;
    int status_ = 0;
    void closeOut();
};

}  // namespace shmframe::bench
