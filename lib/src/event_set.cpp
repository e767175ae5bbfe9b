// SPDX-License-Identifier: LGPL-2.1-or-later
#include "event_set.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace shmframe {

Result<std::unique_ptr<EventSet>> EventSet::create() {
    UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
    UniqueFd self(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    UniqueFd tick(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    if (!epoll || !self || !tick) {
        return Error::fromErrno("creating the reader's epoll, event and timer fds", errno);
    }
    return std::make_unique<EventSet>(std::move(epoll), std::move(self), std::move(tick));
}

EventSet::EventSet(UniqueFd epoll, UniqueFd self, UniqueFd tick)
    : epoll_(std::move(epoll)), self_(std::move(self)), tick_(std::move(tick)) {
    [[maybe_unused]] auto selfAdded = add(self_.get(), Source::Self);
    [[maybe_unused]] auto tickAdded = add(tick_.get(), Source::Tick);
}

Result<void> EventSet::add(int fd, Source source) {
    epoll_event event{};
    event.events = source == Source::Wake ? EPOLLIN | EPOLLET : EPOLLIN;
    event.data.u64 = static_cast<std::uint64_t>(source);
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) != 0) {
        return Error::fromErrno("adding an fd to the reader's epoll set", errno);
    }
    return {};
}

void EventSet::remove(int fd) {
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

EventSet::Ready EventSet::wait(int timeoutMs) {
    epoll_event events[4];
    const int count = ::epoll_wait(epoll_.get(), events, 4, timeoutMs);
    Ready ready;
    for (int i = 0; i < count; ++i) {
        switch (static_cast<Source>(events[i].data.u64)) {
            case Source::Wake:
                ready.woken = true;
                break;
            case Source::Socket:
                ready.socket = true;
                break;
            case Source::DirWatch:
                ready.dirWatch = true;
                break;
            case Source::RetryTimer:
                ready.retryTimer = true;
                break;
            case Source::Self: {
                std::uint64_t value;
                [[maybe_unused]] auto got = ::read(self_.get(), &value, sizeof(value));
                ready.interrupted = interruptRequested_.exchange(false);
                break;
            }
            case Source::Tick: {
                std::uint64_t expirations;
                [[maybe_unused]] auto got = ::read(tick_.get(), &expirations, sizeof(expirations));
                ready.tick = true;
                break;
            }
        }
    }
    return ready;
}

void EventSet::poke() {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto written = ::write(self_.get(), &one, sizeof(one));
}

void EventSet::tickEvery(std::uint64_t periodNs) {
    const timespec period{static_cast<time_t>(periodNs / 1'000'000'000),
                          static_cast<long>(periodNs % 1'000'000'000)};
    const itimerspec timer{period, period};  // both zero: disarmed
    ::timerfd_settime(tick_.get(), 0, &timer, nullptr);
}

void EventSet::interrupt() {
    interruptRequested_ = true;
    poke();
}

}  // namespace shmframe
