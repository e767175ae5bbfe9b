// SPDX-License-Identifier: LGPL-2.1-or-later
// The reader's one pollable fd (Reader::fd()): an epoll set of everything that can
// have news for next() (the writer's wake-up listener, the feed socket, the feed-dir
// watch, the retry timer) and an eventfd with which the reader makes it readable itself: when it
// saw news just before an event loop goes to sleep, and for interrupt().
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "shmframe/error.h"
#include "unique_fd.h"

namespace shmframe {

class EventSet final {
  public:
    /// What an fd in the set is.
    enum class Source { Wake = 1, Socket, DirWatch, RetryTimer, Self, Tick };
    /// What wait() found ready.
    struct Ready {
        bool woken = false;  ///< the writer's wake-up listener fired
        bool socket = false;
        bool dirWatch = false;
        bool retryTimer = false;
        bool interrupted = false;  ///< interrupt() was called
        bool tick = false;         ///< the tickEvery() timer expired
    };

    static Result<std::unique_ptr<EventSet>> create();

    EventSet(UniqueFd epoll, UniqueFd self, UniqueFd tick);
    EventSet(const EventSet&) = delete;  // interrupt() may use it from another thread
    EventSet& operator=(const EventSet&) = delete;

    int fd() const { return epoll_.get(); }
    /// Watches \a fd: level-triggered, but the writer's wake-up listener edge-
    /// triggered, so a wake-up is taken by wait() alone (see wake_channel.h).
    Result<void> add(int fd, Source source);
    void remove(int fd);

    /// Waits up to \a timeoutMs (0: only a look) for fds in the set to be readable.
    Ready wait(int timeoutMs);
    /// Makes fd() readable now (a wait() returns at once).
    void poke();
    /// Makes a wait() now or the next one report `interrupted`. From any thread.
    void interrupt();
    /// Makes fd() readable every \a periodNs from now on; 0 stops it.
    void tickEvery(std::uint64_t periodNs);

  private:
    UniqueFd epoll_;
    UniqueFd self_;
    UniqueFd tick_;  // timerfd
    std::atomic<bool> interruptRequested_{false};
};

}  // namespace shmframe
