// SPDX-License-Identifier: LGPL-2.1-or-later
#include "event_set.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace shmframe {

Result<std::unique_ptr<EventSet>> EventSet::create() {
    UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
    UniqueFd self(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!epoll || !self) {
        return Error::fromErrno("creating the reader's epoll and event fds", errno);
    }
    return std::make_unique<EventSet>(std::move(epoll), std::move(self));
}

EventSet::EventSet(UniqueFd epoll, UniqueFd self)
    : epoll_(std::move(epoll)), self_(std::move(self)) {
    [[maybe_unused]] auto added = add(self_.get(), Source::Self);
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
        }
    }
    return ready;
}

void EventSet::poke() {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto written = ::write(self_.get(), &one, sizeof(one));
}

void EventSet::interrupt() {
    interruptRequested_ = true;
    poke();
}

}  // namespace shmframe
