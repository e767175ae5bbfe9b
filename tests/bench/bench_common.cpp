// SPDX-License-Identifier: LGPL-2.1-or-later
#include "bench_common.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <numeric>

namespace shmframe::bench {
namespace {

constexpr std::uint64_t kStampCheck = 0x53484d4642454e43ull;  // "SHMFBENC"

std::uint64_t toNs(const timespec& time) {
    return std::uint64_t(time.tv_sec) * 1'000'000'000ull + std::uint64_t(time.tv_nsec);
}

std::uint64_t toNs(const timeval& time) {
    return std::uint64_t(time.tv_sec) * 1'000'000'000ull + std::uint64_t(time.tv_usec) * 1000ull;
}

double percentile(const std::vector<double>& sorted, double fraction) {
    // Nearest rank: the smallest sample with at least `fraction` of samples at or below it.
    const double rank = fraction * double(sorted.size());
    std::size_t index = rank <= 1.0 ? 0 : std::size_t(rank + 0.999999) - 1;
    return sorted[std::min(index, sorted.size() - 1)];
}

}  // namespace

std::uint64_t nowNs() {
    timespec time{};
    clock_gettime(CLOCK_MONOTONIC, &time);
    return toNs(time);
}

std::uint64_t threadCpuNs() {
    timespec time{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time);
    return toNs(time);
}

Usage processUsage() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return {toNs(usage.ru_utime) + toNs(usage.ru_stime), std::uint64_t(usage.ru_minflt),
            std::uint64_t(usage.ru_majflt)};
}

void sleepUntil(std::uint64_t deadlineNs) {
    timespec when{};
    when.tv_sec = time_t(deadlineNs / 1'000'000'000ull);
    when.tv_nsec = long(deadlineNs % 1'000'000'000ull);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &when, nullptr) == EINTR) {
    }
}

std::uint64_t writeStamp(std::byte* pixels, std::uint64_t index) {
    const std::uint64_t time = nowNs();
    const std::uint64_t words[3] = {time, index, time ^ index ^ kStampCheck};
    std::memcpy(pixels, words, sizeof(words));
    return time;
}

std::optional<Stamp> readStamp(const std::byte* pixels) {
    std::uint64_t words[3];
    std::memcpy(words, pixels, sizeof(words));
    if ((words[0] ^ words[1] ^ kStampCheck) != words[2]) {
        return std::nullopt;
    }
    return Stamp{words[0], words[1]};
}

Summary summarize(std::vector<double> samplesUs) {
    Summary summary;
    summary.count = samplesUs.size();
    if (samplesUs.empty()) {
        return summary;
    }
    std::sort(samplesUs.begin(), samplesUs.end());
    summary.p50 = percentile(samplesUs, 0.50);
    summary.p90 = percentile(samplesUs, 0.90);
    summary.p99 = percentile(samplesUs, 0.99);
    summary.min = samplesUs.front();
    summary.max = samplesUs.back();
    summary.mean =
        std::accumulate(samplesUs.begin(), samplesUs.end(), 0.0) / double(samplesUs.size());
    const std::size_t points = std::min(kQuantilePoints, samplesUs.size());
    for (std::size_t i = 0; i < points; ++i) {
        // Evenly spaced ranks from the first to the last sample.
        const std::size_t rank = points == 1 ? 0 : i * (samplesUs.size() - 1) / (points - 1);
        summary.quantiles.push_back(samplesUs[rank]);
    }
    return summary;
}

Json toJson(const Summary& summary, bool withQuantiles) {
    auto round3 = [](double value) { return double(std::llround(value * 1000.0)) / 1000.0; };
    Json json = {{"count", summary.count},      {"p50", round3(summary.p50)},
                 {"p90", round3(summary.p90)},  {"p99", round3(summary.p99)},
                 {"min", round3(summary.min)},  {"max", round3(summary.max)},
                 {"mean", round3(summary.mean)}};
    if (withQuantiles) {
        Json points = Json::array();
        for (double value : summary.quantiles) {
            points.push_back(round3(value));
        }
        json["quantiles"] = std::move(points);
    }
    return json;
}

Json skipped(Json record, const std::string& reason) {
    record["skipped"] = reason;
    return record;
}

void emit(const Json& record) {
    std::cout << record.dump() << std::endl;
}

// --- Args ---------------------------------------------------------------------------

Args::Args(int argc, char** argv, int first) : program_(argc > 0 ? argv[0] : "bench") {
    for (int i = first; i < argc; i += 2) {
        const std::string key = argv[i];
        if (key.rfind("--", 0) != 0 || key.size() < 3) {
            fail("expected an option --name, got '" + key + "'");
        }
        if (i + 1 >= argc) {
            fail("option " + key + " needs a value");
        }
        values_[key.substr(2)] = argv[i + 1];
    }
}

void Args::fail(const std::string& message) const {
    std::cerr << program_ << ": " << message << '\n';
    std::exit(2);
}

std::string Args::text(const std::string& key, std::optional<std::string> fallback) {
    used_[key] = true;
    if (auto found = values_.find(key); found != values_.end()) {
        return found->second;
    }
    if (!fallback) {
        fail("missing option --" + key);
    }
    return *fallback;
}

std::uint64_t Args::number(const std::string& key, std::uint64_t min, std::uint64_t max,
                           std::optional<std::uint64_t> fallback) {
    used_[key] = true;
    auto found = values_.find(key);
    if (found == values_.end()) {
        if (!fallback) {
            fail("missing option --" + key);
        }
        return *fallback;
    }
    const std::string& text = found->second;
    std::uint64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || value < min || value > max) {
        fail("--" + key + " must be a whole number from " + std::to_string(min) + " to " +
             std::to_string(max) + ", got '" + text + "'");
    }
    return value;
}

void Args::finish() {
    for (const auto& [key, value] : values_) {
        if (!used_.count(key)) {
            fail("unknown option --" + key);
        }
    }
}

std::string FrameSpec::label() const {
    return format + " " + std::to_string(width) + "x" + std::to_string(height);
}

FrameSpec frameSpec(Args& args) {
    FrameSpec spec;
    spec.format = args.text("format", "RGBA");
    if (spec.format != "RGBA" && spec.format != "NV12" && spec.format != "I420") {
        std::cerr << "--format must be RGBA, NV12 or I420, got '" << spec.format << "'\n";
        std::exit(2);
    }
    spec.width = std::uint32_t(args.number("width", 16, 7680));
    spec.height = std::uint32_t(args.number("height", 16, 4320));
    if (spec.format != "RGBA" && (spec.width % 2 || spec.height % 2)) {
        std::cerr << spec.format << " needs an even width and height\n";
        std::exit(2);
    }
    return spec;
}

std::uint64_t packedFrameBytes(const FrameSpec& spec) {
    const std::uint64_t pixels = std::uint64_t(spec.width) * spec.height;
    return spec.format == "RGBA" ? pixels * 4 : pixels * 3 / 2;
}

// --- Child --------------------------------------------------------------------------

Child::Child(Child&& other) noexcept {
    *this = std::move(other);
}

Child& Child::operator=(Child&& other) noexcept {
    if (this != &other) {
        if (pid_ > 0) {
            terminate(0);
        }
        closeOut();
        pid_ = std::exchange(other.pid_, -1);
        out_ = std::exchange(other.out_, -1);
        buffer_ = std::move(other.buffer_);
        eof_ = other.eof_;
        status_ = other.status_;
    }
    return *this;
}

Child::~Child() {
    if (pid_ > 0) {
        terminate(0);
    }
    closeOut();
}

void Child::closeOut() {
    if (out_ >= 0) {
        ::close(out_);
        out_ = -1;
    }
}

std::optional<Child> Child::spawnSelf(const std::vector<std::string>& args) {
    int pipeFds[2];
    if (::pipe2(pipeFds, O_CLOEXEC) != 0) {
        std::perror("pipe2");
        return std::nullopt;
    }
    std::vector<std::string> argvStrings = {"/proc/self/exe"};
    argvStrings.insert(argvStrings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& arg : argvStrings) {
        argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        std::perror("fork");
        ::close(pipeFds[0]);
        ::close(pipeFds[1]);
        return std::nullopt;
    }
    if (pid == 0) {
        // Only async-signal-safe calls until exec: we may have been forked from a
        // process with threads (a Writer's service thread).
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) {
            ::_exit(127);
        }
        ::dup2(pipeFds[1], STDOUT_FILENO);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    ::close(pipeFds[1]);
    Child child;
    child.pid_ = pid;
    child.out_ = pipeFds[0];
    return child;
}

std::optional<std::string> Child::readLine(std::uint64_t deadlineNs) {
    for (;;) {
        if (auto newline = buffer_.find('\n'); newline != std::string::npos) {
            std::string line = buffer_.substr(0, newline);
            buffer_.erase(0, newline + 1);
            return line;
        }
        if (eof_ || out_ < 0) {
            if (!buffer_.empty()) {
                return std::exchange(buffer_, {});
            }
            return std::nullopt;
        }
        const std::uint64_t now = nowNs();
        if (now >= deadlineNs) {
            return std::nullopt;
        }
        pollfd poller{out_, POLLIN, 0};
        const int waitMs = int(std::min<std::uint64_t>((deadlineNs - now) / 1'000'000 + 1, 1000));
        if (::poll(&poller, 1, waitMs) <= 0) {
            continue;
        }
        char chunk[4096];
        const ssize_t got = ::read(out_, chunk, sizeof(chunk));
        if (got <= 0) {
            if (got < 0 && errno == EINTR) {
                continue;
            }
            eof_ = true;
            continue;
        }
        buffer_.append(chunk, std::size_t(got));
    }
}

int Child::waitOrKill(std::uint64_t deadlineNs) {
    if (pid_ <= 0) {
        return -1;
    }
    for (;;) {
        const pid_t done = ::waitpid(pid_, &status_, WNOHANG);
        if (done == pid_) {
            pid_ = -1;
            return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
        }
        if (nowNs() >= deadlineNs) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status_, 0);
            pid_ = -1;
            return -1;
        }
        ::usleep(5000);
    }
}

int Child::terminate(int graceMs) {
    if (pid_ <= 0) {
        return -1;
    }
    if (graceMs > 0) {
        ::kill(pid_, SIGTERM);
        return waitOrKill(nowNs() + std::uint64_t(graceMs) * 1'000'000ull);
    }
    return waitOrKill(0);
}

}  // namespace shmframe::bench
