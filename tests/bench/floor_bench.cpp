// SPDX-License-Identifier: LGPL-2.1-or-later
// The floors shmframe is judged against, measured by the same stamps as the real
// transports: a bare wake-up of another process (futex, eventfd, eventfd through epoll,
// and the pipe through epoll the library uses), a reader spinning on a shared word (the
// floor of spin mode), a plain Unix stream socket carrying the whole frame (what every
// copying transport pays), and memcpy of one frame.
//
//   shmframe_bench_floor wake      --kind futex|eventfd|eventfd-epoll|pipe-epoll|spin --fps F
//                                  --frames N --warmup W --run R
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

// What the two processes share: the published stamp, and the sleeper's results.
struct Shared {
    std::atomic<std::uint32_t> sequence{0};  // also the futex word
    std::atomic<std::uint32_t> done{0};
    std::atomic<std::uint64_t> stampNs{0};
    std::atomic<std::uint64_t> index{0};
    std::atomic<std::uint32_t> ready{0};
    double cpuPerFrameUs = 0;
    double minorFaultsPerFrame = 0;
    double majorFaultsPerFrame = 0;
    std::uint64_t count = 0;
    std::uint64_t badStamps = 0;
    double samples[1];  // `capacity` of them follow
};

// An anonymous shared mapping with room for `capacity` samples; unmapped on scope exit.
class SharedBlock {
  public:
    explicit SharedBlock(std::uint64_t capacity)
        : size_(sizeof(Shared) + capacity * sizeof(double)), capacity_(capacity) {
        void* address =
            ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (address != MAP_FAILED) {
            shared_ = new (address) Shared();
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
    std::uint64_t capacity() const { return capacity_; }

  private:
    std::size_t size_;
    std::uint64_t capacity_;
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

// Forks a child that runs `body` and exits; it dies with us.
pid_t forkChild(const std::function<int()>& body) {
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) {
            ::_exit(127);
        }
        ::_exit(body());
    }
    return pid;
}

// Waits for the child until the deadline, then kills it by pid; true if it exited 0.
bool reap(pid_t pid, std::uint64_t deadlineNs) {
    int status = 0;
    for (;;) {
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            return WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        if (nowNs() >= deadlineNs) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            return false;
        }
        ::usleep(2000);
    }
}

void recordSample(Shared& shared, std::uint64_t capacity, std::uint64_t now) {
    const std::uint64_t stamp = shared.stampNs.load(std::memory_order_acquire);
    if (shared.count < capacity) {
        shared.samples[shared.count++] = double(now - stamp) / 1000.0;
    }
}

// --- wake floors ------------------------------------------------------------------------

int runWake(Args& args) {
    const std::string kind = args.text("kind");
    const std::uint32_t fps = std::uint32_t(args.number("fps", 1, 100'000));
    const std::uint64_t frames = args.number("frames", 10, 10'000'000);
    const std::uint64_t warmup = args.number("warmup", 0, 100'000, 50);
    const std::uint64_t runIndex = args.number("run", 0, 1000, 0);
    args.finish();
    Json record = {{"series", "floor-" + kind},
                   {"group", "floor"},
                   {"transport", "bare " + kind + " wake"},
                   {"mode", "block"},
                   {"format", ""},
                   {"width", 0},
                   {"height", 0},
                   {"run", runIndex},
                   {"fps_target", fps}};
    if (kind != "futex" && kind != "eventfd" && kind != "eventfd-epoll" && kind != "pipe-epoll" &&
        kind != "spin") {
        std::cerr << "--kind must be futex, eventfd, eventfd-epoll, pipe-epoll or spin, got '"
                  << kind << "'\n";
        return 2;
    }
    SharedBlock block(frames);
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

    const pid_t sleeper = forkChild([&] {
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
        std::memset(shared->samples, 0, block.capacity() * sizeof(double));
        shared->ready.store(1);
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
            if (shared->count == 0) {
                cpuStart = threadCpuNs();
                usageStart = processUsage();
            }
            recordSample(*shared, block.capacity(), now);
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
        const double intervals = shared->count > 1 ? double(shared->count - 1) : 1.0;
        shared->cpuPerFrameUs = double(cpuEnd - cpuStart) / 1000.0 / intervals;
        shared->minorFaultsPerFrame =
            double(usageEnd.minorFaults - usageStart.minorFaults) / intervals;
        shared->majorFaultsPerFrame =
            double(usageEnd.majorFaults - usageStart.majorFaults) / intervals;
        return 0;
    });
    if (sleeper < 0) {
        emit(skipped(record, "fork failed"));
        return 0;
    }
    const std::uint64_t readyDeadline = nowNs() + 5 * kSecond;
    while (!shared->ready.load() && nowNs() < readyDeadline) {
        ::usleep(1000);
    }
    ::usleep(20'000);  // let it reach its first sleep

    const std::uint64_t pairCost = cpuClockPairCost();
    const std::uint64_t period = kSecond / fps;
    std::uint64_t next = nowNs() + 5 * kMs;
    std::uint64_t wakeCpu = 0;
    const std::uint64_t start = nowNs();
    auto wake = [&] {
        if (kind == "futex") {
            futex(&shared->sequence, FUTEX_WAKE, 1);
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
    const bool clean = reap(sleeper, nowNs() + 10 * kSecond);
    ::close(eventFd);
    ::close(pipeEnds[0]);
    ::close(pipeEnds[1]);
    if (!clean) {
        emit(skipped(record, "the sleeping process did not finish in time"));
        return 0;
    }
    const Summary latency =
        summarize(std::vector<double>(shared->samples, shared->samples + shared->count));
    record["frames"] = frames;
    record["received"] = latency.count;
    record["lost"] = frames > latency.count ? frames - latency.count : 0;
    record["fps_achieved"] = double(warmup + frames) * 1e9 / double(elapsed);
    record["latency_us"] = toJson(latency, true);
    record["writer_cpu_us"] = double(wakeCpu) / 1000.0 / double(frames);
    record["reader_cpu_us"] = shared->cpuPerFrameUs;
    record["reader_minflt"] = shared->minorFaultsPerFrame;
    record["reader_majflt"] = shared->majorFaultsPerFrame;
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
    int pair[2] = {-1, -1};
    if (!shared || ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
        emit(skipped(record, "mmap or socketpair failed"));
        return 0;
    }
    // As large as the kernel allows (net.core.[rw]mem_max caps it): fewer round trips.
    const int bufferBytes = int(std::min<std::size_t>(frameBytes, 64u << 20));
    ::setsockopt(pair[0], SOL_SOCKET, SO_SNDBUF, &bufferBytes, sizeof(bufferBytes));
    ::setsockopt(pair[1], SOL_SOCKET, SO_RCVBUF, &bufferBytes, sizeof(bufferBytes));

    const pid_t receiver = forkChild([&] {
        ::close(pair[0]);
        auto buffer = std::make_unique<std::byte[]>(frameBytes);
        std::memset(buffer.get(), 0, frameBytes);  // fault it in before we measure
        std::memset(shared->samples, 0, block.capacity() * sizeof(double));
        std::uint64_t cpuStart = 0;
        Usage usageStart;
        shared->ready.store(1);
        while (receiveAll(pair[1], buffer.get(), frameBytes)) {
            // The frame is complete in our memory: its first pixels are the stamp.
            const auto stamp = readStamp(buffer.get());
            const std::uint64_t now = nowNs();
            if (!stamp) {
                ++shared->badStamps;
                continue;
            }
            if (stamp->index < warmup) {
                continue;
            }
            if (shared->count == 0) {
                cpuStart = threadCpuNs();
                usageStart = processUsage();
            }
            if (shared->count < block.capacity()) {
                shared->samples[shared->count++] = double(now - stamp->timeNs) / 1000.0;
            }
            if (stamp->index + 1 >= warmup + frames) {
                break;
            }
        }
        const Usage usageEnd = processUsage();
        const double intervals = shared->count > 1 ? double(shared->count - 1) : 1.0;
        shared->cpuPerFrameUs = double(threadCpuNs() - cpuStart) / 1000.0 / intervals;
        shared->minorFaultsPerFrame =
            double(usageEnd.minorFaults - usageStart.minorFaults) / intervals;
        shared->majorFaultsPerFrame =
            double(usageEnd.majorFaults - usageStart.majorFaults) / intervals;
        return 0;
    });
    ::close(pair[1]);
    if (receiver < 0) {
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
    const bool clean = reap(receiver, nowNs() + 30 * kSecond);
    ::close(pair[0]);
    if (!clean) {
        emit(skipped(record, "the receiving process did not finish in time"));
        return 0;
    }
    const Summary latency =
        summarize(std::vector<double>(shared->samples, shared->samples + shared->count));
    const double count = sent ? double(sent) : 1.0;
    record["frames"] = sent;
    record["received"] = latency.count;
    record["lost"] = sent > latency.count ? sent - latency.count : 0;
    record["fps_achieved"] = elapsed ? double(sent) * 1e9 / double(elapsed) : 0.0;
    record["latency_us"] = toJson(latency, true);
    record["writer_cpu_us"] = double(sendCpu) / 1000.0 / count;
    record["writer_minflt"] = double(usageEnd.minorFaults - usageStart.minorFaults) / count;
    record["reader_cpu_us"] = shared->cpuPerFrameUs;
    record["reader_minflt"] = shared->minorFaultsPerFrame;
    record["reader_majflt"] = shared->majorFaultsPerFrame;
    record["bad_stamps"] = shared->badStamps;
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
