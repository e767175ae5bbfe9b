// SPDX-License-Identifier: LGPL-2.1-or-later
// When a reader without a writer tries to connect again. Mostly when the feed dir says
// that the feed's socket appeared (inotify, no polling loop); at a retry time when
// nothing will say so: no feed dir to watch yet, or a socket whose writer failed us
// (hung up in the handshake, did not answer). The retry time is a timerfd, so that
// readers driven by an event loop retry too, not only those blocked in next().
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "dir_watch.h"
#include "feed_paths.h"
#include "shmframe/error.h"
#include "unique_fd.h"

namespace shmframe {

class ReconnectWatch final {
  public:
    static Result<ReconnectWatch> create(const FeedPaths& paths);

    ReconnectWatch(ReconnectWatch&&) noexcept = default;
    ReconnectWatch& operator=(ReconnectWatch&&) noexcept = default;

    /// For the reader's epoll set: readable when the feed dir changed, and when a
    /// retry is due.
    int dirFd() const { return dir_.fd(); }
    int timerFd() const { return timer_.get(); }

    /// Waits for a writer (again): watches the feed dir, or retries later when there
    /// is none yet. \a now asks for an attempt at the next look (a writer just left).
    enum class Attempt { Later, Now };
    void start(Attempt attempt);
    /// Connected: stops watching.
    void stop();
    /// A connection attempt failed: watch, and retry at a time when nothing will tell.
    void failed();

    /// dirFd() is readable: an attempt is due if it was about our socket.
    void dirReadable();
    /// timerFd() is readable: an attempt is due.
    void timerExpired();

    /// Whether to try connecting now (the dir changed, a retry is due, an attempt was
    /// asked for); takes in whatever the fds have to say, and resets what it used.
    bool due();
    /// How long until the next retry (0: overdue), for a wait to be no longer.
    std::optional<std::uint64_t> nextRetryInNs() const;

  private:
    ReconnectWatch(std::string socketPath, std::string socketFile, DirWatch dir, UniqueFd timer);
    bool dirChanged();
    void drainTimer();
    void retryIn(std::uint64_t delayNs);

    std::string socketPath_;
    std::string socketFile_;
    DirWatch dir_;  // armed while no writer is there
    UniqueFd timer_;
    std::uint64_t nextRetryNs_ = 0;  // 0: none
    bool attemptDue_ = false;
};

}  // namespace shmframe
