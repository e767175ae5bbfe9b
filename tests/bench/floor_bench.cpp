// SPDX-License-Identifier: LGPL-2.1-or-later
// The floors shmframe is judged against, measured by the same stamps as the real
// transports: a bare wake-up of another process (futex, eventfd, eventfd through epoll,
// and the pipe through epoll the library uses), one FUTEX_WAKE of N sleeping processes
// (the floor of fan-out), a reader spinning on a shared word (the floor of spin mode), a
// plain Unix stream socket carrying the whole frame (what every copying transport pays),
// and memcpy of one frame.
//
//   shmframe_bench_floor wake      --kind futex|eventfd|eventfd-epoll|pipe-epoll|spin --fps F
//                                  --frames N --warmup W --run R [--waiters N (futex only)]
//   shmframe_bench_floor unix-copy --width W --height H [--format F] --fps F --frames N
//                                  --warmup W --run R
//   shmframe_bench_floor memcpy    --width W --height H [--format F] --reps N --run R
#include <fcntl.h>
#include <linux/futex.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <csignal>
#include <cstring>
#include <functional>
#include <iostream>
#include <memory>

#include "bench_common.h"

namespace shmframe::bench {
namespace {

constexpr std::uint64_t kMs = 1'000'000ull;
constexpr std::uint64_t kSecond = 1'000'000'000ull;

// What the processes share: the published stamp and the word the sleepers wait on.
struct Shared {
    std::atomic<std::uint32_t> sequence{0};  // also the futex word
    std::atomic<std::uint32_t> done{0};
    std::atomic<std::uint64_t> stampNs{0};
    std::atomic<std::uint64_t> index{0};
    std::atomic<std::uint32_t> ready{0};  // sleepers ready to measure
};

// One sleeping (or receiving) process's results, read by the parent once it has exited.
struct Results {
    double cpuPerFrameUs = 0;
    double minorFaultsPerFrame = 0;
    double majorFaultsPerFrame = 0;
    std::uint64_t count = 0;
    std::uint64_t badStamps = 0;
    double samples[1];  // `capacity` of them follow
};

// An anonymous shared mapping: the Shared header, then one Results with room for
// `capacity` samples per sleeper; unmapped on scope exit.
class SharedBlock {
  public:
    explicit SharedBlock(std::uint64_t capacity, std::uint64_t sleepers = 1) : capacity_(capacity) {
        size_ = kHeaderBytes + sleepers * resultsBytes();
        void* address =
            ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (address != MAP_FAILED) {
            shared_ = new (address) Shared();
            for (std::uint64_t i = 0; i < sleepers; ++i) {
                new (static_cast<std::byte*>(address) + kHeaderBytes + i * resultsBytes())
                    Results();
            }
        }
    }
    ~SharedBlock() {
        if (shared_) {
            ::munmap(shared_, size_);
        }
    }
    SharedBlock(const SharedBlock&) = delete;
    SharedBlock& operator=(const SharedBlock&) = delete;
    Shared* get() const { return shared_; }
    Results* results(std::uint64_t sleeper) const {
        return reinterpret_cast<Results*>(reinterpret_cast<std::byte*>(shared_) + kHeaderBytes +
                                          sleeper * resultsBytes());
    }
    std::uint64_t capacity() const { return capacity_; }

  private:
    // Each part on cache lines of its own: sleepers write their results side by side.
    static constexpr std::size_t kHeaderBytes = (sizeof(Shared) + 63) / 64 * 64;
    std::size_t resultsBytes() const {
        return (sizeof(Results) + capacity_ * sizeof(double) + 63) / 64 * 64;
    }
    std::uint64_t capacity_;
    std::size_t size_ = 0;
    Shared* shared_ = nullptr;
};

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

long futex(std::atomic<std::uint32_t>* word, int op, std::uint32_t value) {
    // A shared (not FUTEX_PRIVATE) futex: the word lives in memory two processes map.
    return ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), op, value, nullptr, nullptr,
                     0);
}

std::uint64_t cpuClockPairCost() {
    std::vector<std::uint64_t> costs;
    for (int i = 0; i < 2001; ++i) {
        const std::uint64_t a = threadCpuNs();
        const std::uint64_t b = threadCpuNs();
        costs.push_back(b - a);
    }
    std::nth_element(costs.begin(), costs.begin() + 1000, costs.end());
    return costs[1000];
}

// The children alive, by pid, for the signal handler: `timeout` (run.sh) sends SIGTERM
// first, and then they are killed and reaped before we exit. Should we be killed
// outright (SIGKILL), they die with us (PR_SET_PDEATHSIG).
constexpr std::size_t kMaxChildren = 80;
std::atomic<pid_t> gChildren[kMaxChildren];

void track(pid_t pid) {
    for (auto& slot : gChildren) {
        pid_t empty = 0;
        if (slot.compare_exchange_strong(empty, pid)) {
            return;
        }
    }
}

void untrack(pid_t pid) {
    for (auto& slot : gChildren) {
        pid_t expected = pid;
        if (slot.compare_exchange_strong(expected, 0)) {
            return;
        }
    }
}

void killChildrenAndExit(int signal) {
    for (auto& slot : gChildren) {
        const pid_t pid = slot.exchange(0);
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    }
    ::_exit(128 + signal);
}

void installSignalHandlers() {
    struct sigaction action {};
    action.sa_handler = killChildrenAndExit;
    sigemptyset(&action.sa_mask);
    for (const int signal : {SIGTERM, SIGINT, SIGHUP}) {
        ::sigaction(signal, &action, nullptr);
    }
}

// Forks a child that runs `body` and exits; it dies with us.
pid_t forkChild(const std::function<int()>& body) {
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        for (const int signal : {SIGTERM, SIGINT, SIGHUP}) {
            ::signal(signal, SIG_DFL);  // the parent's handler kills its children, not ours
        }
        if (::getppid() != parent) {
            ::_exit(127);
        }
        ::_exit(body());
    }
    if (pid > 0) {
        track(pid);
    }
    return pid;
}

// Waits for the child until the deadline, then kills it by pid; true if it exited 0.
bool reap(pid_t pid, std::uint64_t deadlineNs) {
    int status = 0;
    bool clean = false;
    for (;;) {
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
            break;
        }
        if (nowNs() >= deadlineNs) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            break;
        }
        ::usleep(2000);
    }
    untrack(pid);
    return clean;
}

// The child processes of one measurement: whichever way we leave the scope that
// started them, those not reaped yet are killed by pid and reaped.
class Children {
  public:
    Children() = default;
    Children(const Children&) = delete;
    Children& operator=(const Children&) = delete;
    ~Children() {
        for (const pid_t pid : pids_) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
            untrack(pid);
        }
    }
    bool start(const std::function<int()>& body) {
        const pid_t pid = forkChild(body);
        if (pid < 0) {
            return false;
        }
        pids_.push_back(pid);
        return true;
    }
    // Waits for all until the deadline, then kills those left; true if all exited 0.
    bool reapAll(std::uint64_t deadlineNs) {
        bool clean = true;
        for (const pid_t pid : pids_) {
            clean = reap(pid, deadlineNs) && clean;
        }
        pids_.clear();
        return clean;
    }

  private:
    std::vector<pid_t> pids_;
};

void recordSample(const Shared& shared, Results& results, std::uint64_t capacity,
                  std::uint64_t now) {
    const std::uint64_t stamp = shared.stampNs.load(std::memory_order_acquire);
    if (results.count < capacity) {
        results.samples[results.count++] = double(now - stamp) / 1000.0;
    }
}

// --- wake floors ------------------------------------------------------------------------

int runWake(Args& args) {
    const std::string kind = args.text("kind");
    const std::uint32_t fps = std::uint32_t(args.number("fps", 1, 100'000));
    const std::uint64_t frames = args.number("frames", 10, 10'000'000);
    const std::uint64_t warmup = args.number("warmup", 0, 100'000, 50);
    const std::uint64_t waiters = args.number("waiters", 1, 64, 1);
    const std::uint64_t runIndex = args.number("run", 0, 1000, 0);
    args.finish();
    if (kind != "futex" && kind != "eventfd" && kind != "eventfd-epoll" && kind != "pipe-epoll" &&
        kind != "spin") {
        std::cerr << "--kind must be futex, eventfd, eventfd-epoll, pipe-epoll or spin, got '"
                  << kind << "'\n";
        return 2;
    }
    if (waiters > 1 && kind != "futex") {
        std::cerr << "--waiters above 1 needs --kind futex (one FUTEX_WAKE wakes them all)\n";
        return 2;
    }
    // One waiter is the plain floor (its series keeps the name "floor-futex").
    const std::string suffix = waiters > 1 ? "-" + std::to_string(waiters) : "";
    Json record = {{"series", "floor-" + kind + suffix},
                   {"group", "floor"},
                   {"transport", waiters > 1 ? "bare futex wake, " + std::to_string(waiters) +
                                                   " waiters (one FUTEX_WAKE)"
                                             : "bare " + kind + " wake"},
                   {"mode", "block"},
                   {"format", ""},
                   {"width", 0},
                   {"height", 0},
                   {"run", runIndex},
                   {"readers", waiters},
                   {"fps_target", fps}};
    SharedBlock block(frames, waiters);
    Shared* shared = block.get();
    if (!shared) {
        emit(skipped(record, "mmap of the shared block failed"));
        return 0;
    }
    // eventfd-epoll reads it non-blocking after epoll_wait, as an event loop would.
    const int eventFd = ::eventfd(0, EFD_CLOEXEC | (kind == "eventfd-epoll" ? EFD_NONBLOCK : 0));
    // pipe-epoll is the library's own channel: a byte into a pipe whose read end the
    // reader's epoll watches, drained with one read().
    int pipeEnds[2] = {-1, -1};
    if (eventFd < 0 || ::pipe2(pipeEnds, O_CLOEXEC | O_NONBLOCK) != 0) {
        emit(skipped(record, "eventfd or pipe failed"));
        return 0;
    }
    struct Closer {
        int fds[3];
        ~Closer() {
            for (const int fd : fds) {
                if (fd >= 0) {
                    ::close(fd);
                }
            }
        }
    } closer{{eventFd, pipeEnds[0], pipeEnds[1]}};

    // Each sleeper waits for the next value of the sequence word, whatever woke it, so
    // that it never misses a wake: futex sleepers sleep only while the word is the
    // value they saw last.
    auto sleeperBody = [&](Results& results) {
        const int epollFd = ::epoll_create1(EPOLL_CLOEXEC);
        epoll_event event{};
        event.events = EPOLLIN;
        ::epoll_ctl(epollFd, EPOLL_CTL_ADD, kind == "eventfd-epoll" ? eventFd : pipeEnds[0],
                    &event);
        std::uint32_t seen = 0;
        std::uint64_t cpuStart = 0, cpuEnd = 0;
        Usage usageStart, usageEnd;
        bool windowClosed = false;
        // Shared pages are mapped into this process on first touch: do it before measuring.
        std::memset(results.samples, 0, block.capacity() * sizeof(double));
        shared->ready.fetch_add(1);
        while (true) {
            if (kind == "spin") {
                // Nothing but the shared word, read in a tight loop: the cost of moving a
                // cache line from the writer's core to ours.
                while (shared->sequence.load(std::memory_order_acquire) == seen) {
                    cpuRelax();
                }
            } else if (kind == "futex") {
                if (shared->sequence.load(std::memory_order_acquire) == seen) {
                    futex(&shared->sequence, FUTEX_WAIT, seen);
                    continue;  // woken, or the word changed before we slept: look again
                }
            } else if (kind == "eventfd") {
                std::uint64_t value;
                if (::read(eventFd, &value, sizeof(value)) != sizeof(value)) {
                    continue;
                }
            } else if (kind == "eventfd-epoll") {
                epoll_event ready;
                std::uint64_t value;
                if (::epoll_wait(epollFd, &ready, 1, -1) != 1 ||
                    ::read(eventFd, &value, sizeof(value)) != sizeof(value)) {
                    continue;
                }
            } else {
                epoll_event ready;
                if (::epoll_wait(epollFd, &ready, 1, -1) != 1) {
                    continue;
                }
                char buffer[64];
                [[maybe_unused]] auto drained = ::read(pipeEnds[0], buffer, sizeof(buffer));
            }
            const std::uint64_t now = nowNs();
            if (shared->done.load(std::memory_order_acquire)) {
                break;
            }
            seen = shared->sequence.load(std::memory_order_acquire);
            if (shared->index.load(std::memory_order_acquire) < warmup) {
                continue;
            }
            if (results.count == 0) {
                cpuStart = threadCpuNs();
                usageStart = processUsage();
            }
            recordSample(*shared, results, block.capacity(), now);
            if (!windowClosed && shared->index.load() + 1 >= warmup + frames) {
                cpuEnd = threadCpuNs();
                usageEnd = processUsage();
                windowClosed = true;
            }
        }
        if (!windowClosed) {
            cpuEnd = threadCpuNs();
            usageEnd = processUsage();
        }
        const double intervals = results.count > 1 ? double(results.count - 1) : 1.0;
        results.cpuPerFrameUs = double(cpuEnd - cpuStart) / 1000.0 / intervals;
        results.minorFaultsPerFrame =
            double(usageEnd.minorFaults - usageStart.minorFaults) / intervals;
        results.majorFaultsPerFrame =
            double(usageEnd.majorFaults - usageStart.majorFaults) / intervals;
        return 0;
    };
    Children sleepers;  // killed by pid and reaped on every way out
    for (std::uint64_t i = 0; i < waiters; ++i) {
        if (!sleepers.start([&, i] { return sleeperBody(*block.results(i)); })) {
            emit(skipped(record, "fork failed"));
            return 0;
        }
    }
    const std::uint64_t readyDeadline = nowNs() + 5 * kSecond;
    while (shared->ready.load() < waiters && nowNs() < readyDeadline) {
        ::usleep(1000);
    }
    if (shared->ready.load() < waiters) {
        emit(skipped(record, "only " + std::to_string(shared->ready.load()) + " of " +
                                 std::to_string(waiters) + " sleepers started in 5 s"));
        return 0;
    }
    ::usleep(20'000);  // let them reach their first sleep

    const std::uint64_t pairCost = cpuClockPairCost();
    const std::uint64_t period = kSecond / fps;
    std::uint64_t next = nowNs() + 5 * kMs;
    std::uint64_t wakeCpu = 0;
    const std::uint64_t start = nowNs();
    auto wake = [&] {
        if (kind == "futex") {
            // One syscall wakes every sleeper, however many.
            futex(&shared->sequence, FUTEX_WAKE, std::uint32_t(INT_MAX));
        } else if (kind == "eventfd" || kind == "eventfd-epoll") {
            const std::uint64_t one = 1;
            [[maybe_unused]] auto written = ::write(eventFd, &one, sizeof(one));
        } else if (kind == "pipe-epoll") {
            const char byte = 1;
            [[maybe_unused]] auto written = ::write(pipeEnds[1], &byte, 1);
        }
    };
    for (std::uint64_t index = 0; index < warmup + frames; ++index) {
        sleepUntil(next);
        next = std::max(next + period, nowNs());
        shared->index.store(index, std::memory_order_relaxed);
        shared->stampNs.store(nowNs(), std::memory_order_release);
        shared->sequence.fetch_add(1, std::memory_order_release);
        const std::uint64_t cpu0 = threadCpuNs();
        wake();
        const std::uint64_t cpu1 = threadCpuNs();
        if (index >= warmup) {
            wakeCpu += cpu1 - cpu0 > pairCost ? cpu1 - cpu0 - pairCost : 0;
        }
    }
    const std::uint64_t elapsed = nowNs() - start;
    ::usleep(10'000);
    shared->done.store(1, std::memory_order_release);
    shared->sequence.fetch_add(1, std::memory_order_release);
    wake();
    if (!sleepers.reapAll(nowNs() + 10 * kSecond)) {
        emit(skipped(record, "a sleeping process did not finish in time"));
        return 0;
    }
    std::vector<double> pooled;
    Json perReader = Json::array();
    double readerCpu = 0, readerMinflt = 0, readerMajflt = 0;
    for (std::uint64_t i = 0; i < waiters; ++i) {
        const Results& results = *block.results(i);
        const std::vector<double> samples(results.samples, results.samples + results.count);
        pooled.insert(pooled.end(), samples.begin(), samples.end());
        readerCpu += results.cpuPerFrameUs;
        readerMinflt += results.minorFaultsPerFrame;
        readerMajflt += results.majorFaultsPerFrame;
        Json one = toJson(summarize(samples), false);
        one["cpu_us"] = results.cpuPerFrameUs;
        perReader.push_back(one);
    }
    const Summary latency = summarize(std::move(pooled));
    const double n = double(waiters);
    const std::uint64_t expected = frames * waiters;
    record["frames"] = frames;
    record["received"] = latency.count;
    record["lost"] = expected > latency.count ? expected - latency.count : 0;
    record["fps_achieved"] = double(warmup + frames) * 1e9 / double(elapsed);
    record["latency_us"] = toJson(latency, true);
    record["writer_cpu_us"] = double(wakeCpu) / 1000.0 / double(frames);
    record["reader_cpu_us"] = readerCpu / n;  // each sleeper's, averaged
    record["reader_minflt"] = readerMinflt / n;
    record["reader_majflt"] = readerMajflt / n;
    if (waiters > 1) {
        record["per_reader"] = perReader;
    }
    emit(record);
    return 0;
}

// --- the whole frame through a Unix stream socket ---------------------------------------

bool sendAll(int fd, const std::byte* data, std::size_t size) {
    while (size > 0) {
        const ssize_t sent = ::send(fd, data, size, MSG_NOSIGNAL);
        if (sent <= 0) {
            if (sent < 0 && errno == EINTR) {
                continue;
            }
            return false;
        }
        data += sent;
        size -= std::size_t(sent);
    }
    return true;
}

bool receiveAll(int fd, std::byte* data, std::size_t size) {
    while (size > 0) {
        const ssize_t got = ::recv(fd, data, size, 0);
        if (got <= 0) {
            if (got < 0 && errno == EINTR) {
                continue;
            }
            return false;
        }
        data += got;
        size -= std::size_t(got);
    }
    return true;
}

int runUnixCopy(Args& args) {
    const FrameSpec spec = frameSpec(args);
    const std::uint32_t fps = std::uint32_t(args.number("fps", 1, 10'000));
    const std::uint64_t frames = args.number("frames", 10, 10'000'000);
    const std::uint64_t warmup = args.number("warmup", 0, 100'000, 10);
    const std::uint64_t runIndex = args.number("run", 0, 1000, 0);
    args.finish();
    Json record = {{"series", "unix-socket"},
                   {"group", "latency"},
                   {"transport", "Unix stream socket (copy)"},
                   {"mode", "block"},
                   {"format", spec.format},
                   {"width", spec.width},
                   {"height", spec.height},
                   {"run", runIndex},
                   {"fps_target", fps}};
    const std::size_t frameBytes = std::size_t(packedFrameBytes(spec));
    SharedBlock block(frames);
    Shared* shared = block.get();
    Results* results = shared ? block.results(0) : nullptr;
    int pair[2] = {-1, -1};
    if (!shared || ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
        emit(skipped(record, "mmap or socketpair failed"));
        return 0;
    }
    // As large as the kernel allows (net.core.[rw]mem_max caps it): fewer round trips.
    const int bufferBytes = int(std::min<std::size_t>(frameBytes, 64u << 20));
    ::setsockopt(pair[0], SOL_SOCKET, SO_SNDBUF, &bufferBytes, sizeof(bufferBytes));
    ::setsockopt(pair[1], SOL_SOCKET, SO_RCVBUF, &bufferBytes, sizeof(bufferBytes));

    Children receiver;  // killed by pid and reaped on every way out
    const bool started = receiver.start([&] {
        ::close(pair[0]);
        auto buffer = std::make_unique<std::byte[]>(frameBytes);
        std::memset(buffer.get(), 0, frameBytes);  // fault it in before we measure
        std::memset(results->samples, 0, block.capacity() * sizeof(double));
        std::uint64_t cpuStart = 0;
        Usage usageStart;
        shared->ready.store(1);
        while (receiveAll(pair[1], buffer.get(), frameBytes)) {
            // The frame is complete in our memory: its first pixels are the stamp.
            const auto stamp = readStamp(buffer.get());
            const std::uint64_t now = nowNs();
            if (!stamp) {
                ++results->badStamps;
                continue;
            }
            if (stamp->index < warmup) {
                continue;
            }
            if (results->count == 0) {
                cpuStart = threadCpuNs();
                usageStart = processUsage();
            }
            if (results->count < block.capacity()) {
                results->samples[results->count++] = double(now - stamp->timeNs) / 1000.0;
            }
            if (stamp->index + 1 >= warmup + frames) {
                break;
            }
        }
        const Usage usageEnd = processUsage();
        const double intervals = results->count > 1 ? double(results->count - 1) : 1.0;
        results->cpuPerFrameUs = double(threadCpuNs() - cpuStart) / 1000.0 / intervals;
        results->minorFaultsPerFrame =
            double(usageEnd.minorFaults - usageStart.minorFaults) / intervals;
        results->majorFaultsPerFrame =
            double(usageEnd.majorFaults - usageStart.majorFaults) / intervals;
        return 0;
    });
    ::close(pair[1]);
    if (!started) {
        ::close(pair[0]);
        emit(skipped(record, "fork failed"));
        return 0;
    }
    auto frame = std::make_unique<std::byte[]>(frameBytes);
    std::memset(frame.get(), 0x40, frameBytes);
    const std::uint64_t readyDeadline = nowNs() + 5 * kSecond;
    while (!shared->ready.load() && nowNs() < readyDeadline) {
        ::usleep(1000);
    }
    const std::uint64_t period = kSecond / fps;
    const std::uint64_t deadline = nowNs() + (warmup + frames) * period + 60 * kSecond;
    std::uint64_t next = nowNs() + 5 * kMs;
    std::uint64_t sendCpu = 0;
    std::uint64_t sent = 0;
    Usage usageStart;
    std::uint64_t start = 0;
    for (std::uint64_t index = 0; index < warmup + frames && nowNs() < deadline; ++index) {
        sleepUntil(next);
        next = std::max(next + period, nowNs());
        if (index == warmup) {
            usageStart = processUsage();
            start = nowNs();
        }
        const std::uint64_t cpu0 = threadCpuNs();
        writeStamp(frame.get(), index);
        if (!sendAll(pair[0], frame.get(), frameBytes)) {
            break;
        }
        if (index >= warmup) {
            sendCpu += threadCpuNs() - cpu0;
            ++sent;
        }
    }
    const std::uint64_t elapsed = nowNs() - start;
    const Usage usageEnd = processUsage();
    ::shutdown(pair[0], SHUT_WR);
    const bool clean = receiver.reapAll(nowNs() + 30 * kSecond);
    ::close(pair[0]);
    if (!clean) {
        emit(skipped(record, "the receiving process did not finish in time"));
        return 0;
    }
    const Summary latency =
        summarize(std::vector<double>(results->samples, results->samples + results->count));
    const double count = sent ? double(sent) : 1.0;
    record["frames"] = sent;
    record["received"] = latency.count;
    record["lost"] = sent > latency.count ? sent - latency.count : 0;
    record["fps_achieved"] = elapsed ? double(sent) * 1e9 / double(elapsed) : 0.0;
    record["latency_us"] = toJson(latency, true);
    record["writer_cpu_us"] = double(sendCpu) / 1000.0 / count;
    record["writer_minflt"] = double(usageEnd.minorFaults - usageStart.minorFaults) / count;
    record["reader_cpu_us"] = results->cpuPerFrameUs;
    record["reader_minflt"] = results->minorFaultsPerFrame;
    record["reader_majflt"] = results->majorFaultsPerFrame;
    record["bad_stamps"] = results->badStamps;
    emit(record);
    return 0;
}

// --- memcpy of one frame ----------------------------------------------------------------

int runMemcpy(Args& args) {
    const FrameSpec spec = frameSpec(args);
    const std::uint64_t reps = args.number("reps", 1, 100'000, 30);
    const std::uint64_t runIndex = args.number("run", 0, 1000, 0);
    args.finish();
    Json record = {{"series", "memcpy"},
                   {"group", "floor"},
                   {"transport", "memcpy of one frame"},
                   {"mode", ""},
                   {"format", spec.format},
                   {"width", spec.width},
                   {"height", spec.height},
                   {"run", runIndex}};
    const std::size_t frameBytes = std::size_t(packedFrameBytes(spec));
    auto source = std::make_unique<std::byte[]>(frameBytes);
    auto target = std::make_unique<std::byte[]>(frameBytes);
    std::memset(source.get(), 0x33, frameBytes);
    std::memset(target.get(), 0, frameBytes);
    std::vector<double> samples;
    volatile std::uint8_t sink = 0;
    for (std::uint64_t rep = 0; rep < reps + 2; ++rep) {
        source[rep % frameBytes] = std::byte(rep);
        const std::uint64_t t0 = nowNs();
        std::memcpy(target.get(), source.get(), frameBytes);
        const std::uint64_t t1 = nowNs();
        sink = sink + std::uint8_t(target[frameBytes - 1 - rep % frameBytes]);
        if (rep >= 2) {  // the first copies warm the TLB and caches
            samples.push_back(double(t1 - t0) / 1000.0);
        }
    }
    const Summary latency = summarize(std::move(samples));
    record["frames"] = reps;
    record["received"] = reps;
    record["latency_us"] = toJson(latency, false);
    record["bytes"] = frameBytes;
    record["gb_per_s"] = latency.p50 > 0 ? double(frameBytes) / (latency.p50 * 1000.0) : 0.0;
    emit(record);
    return 0;
}

}  // namespace
}  // namespace shmframe::bench

int main(int argc, char** argv) {
    using namespace shmframe::bench;
    installSignalHandlers();
    const std::string command = argc > 1 ? argv[1] : "";
    Args args(argc, argv, 2);
    if (command == "wake") {
        return runWake(args);
    }
    if (command == "unix-copy") {
        return runUnixCopy(args);
    }
    if (command == "memcpy") {
        return runMemcpy(args);
    }
    std::cerr << "usage: " << argv[0] << " wake|unix-copy|memcpy --option value ...\n"
              << "(run by tests/bench/run.sh; see docs/benchmarks.md)\n";
    return 2;
}
