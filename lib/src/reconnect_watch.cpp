// SPDX-License-Identifier: LGPL-2.1-or-later
#include "reconnect_watch.h"

#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>

#include "shmframe/clock.h"

namespace shmframe {
namespace {

constexpr std::uint64_t kRetryWithoutWatchNs = 250'000'000;
constexpr std::uint64_t kRetryFailedWriterNs = 1'000'000'000;  // a writer that failed us

}  // namespace

Result<ReconnectWatch> ReconnectWatch::create(const FeedPaths& paths) {
    auto dir = DirWatch::create(paths.dir, DirWatch::Changes::Arrivals);
    if (!dir) {
        return std::move(dir).error();
    }
    UniqueFd timer(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    if (!timer) {
        return Error::fromErrno("creating the reader's retry timer", errno);
    }
    return ReconnectWatch(paths.socket, paths.socketFile, std::move(*dir), std::move(timer));
}

ReconnectWatch::ReconnectWatch(std::string socketPath, std::string socketFile, DirWatch dir,
                               UniqueFd timer)
    : socketPath_(std::move(socketPath)),
      socketFile_(std::move(socketFile)),
      dir_(std::move(dir)),
      timer_(std::move(timer)) {}

void ReconnectWatch::start(Attempt attempt) {
    if (attempt == Attempt::Now) {
        attemptDue_ = true;
    }
    if (!dir_.arm()) {
        retryIn(kRetryWithoutWatchNs);  // no dir yet: look again later
    }
}

void ReconnectWatch::stop() {
    dir_.disarm();
}

void ReconnectWatch::failed() {
    start(Attempt::Later);
    // The feed dir tells us when a socket appears. Without a watch, or when a socket
    // is there but its writer failed us, nothing will: look again a little later.
    struct stat socketInfo {};
    if (!dir_.armed()) {
        retryIn(kRetryWithoutWatchNs);
    } else if (::stat(socketPath_.c_str(), &socketInfo) == 0) {
        retryIn(kRetryFailedWriterNs);
    }
}

void ReconnectWatch::dirReadable() {
    if (dirChanged()) {
        attemptDue_ = true;  // our socket (re)appeared
    }
}

void ReconnectWatch::timerExpired() {
    drainTimer();
    attemptDue_ = true;
}

bool ReconnectWatch::due() {
    const bool changed = dirChanged();
    drainTimer();
    const bool retryDue = nextRetryNs_ != 0 && monotonicNs() >= nextRetryNs_;
    if (!changed && !attemptDue_ && !retryDue) {
        return false;
    }
    attemptDue_ = false;
    nextRetryNs_ = 0;
    return true;
}

std::optional<std::uint64_t> ReconnectWatch::nextRetryInNs() const {
    if (nextRetryNs_ == 0) {
        return std::nullopt;
    }
    const std::uint64_t now = monotonicNs();
    return nextRetryNs_ > now ? nextRetryNs_ - now : 0;
}

// True when something may have happened to our socket.
bool ReconnectWatch::dirChanged() {
    const DirWatch::Drained drained = dir_.drain(socketFile_);
    if (drained.lost) {
        retryIn(kRetryWithoutWatchNs);  // the dir went: a slow retry
    }
    return drained.relevant;
}

void ReconnectWatch::drainTimer() {
    std::uint64_t expirations = 0;
    [[maybe_unused]] auto drained = ::read(timer_.get(), &expirations, sizeof(expirations));
}

void ReconnectWatch::retryIn(std::uint64_t delayNs) {
    nextRetryNs_ = monotonicNs() + delayNs;
    itimerspec due{};
    due.it_value.tv_sec = static_cast<time_t>(delayNs / 1'000'000'000);
    due.it_value.tv_nsec = static_cast<long>(delayNs % 1'000'000'000);
    ::timerfd_settime(timer_.get(), 0, &due, nullptr);
}

}  // namespace shmframe
