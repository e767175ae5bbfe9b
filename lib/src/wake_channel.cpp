// SPDX-License-Identifier: LGPL-2.1-or-later
#include "wake_channel.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>

namespace shmframe {

Result<UniqueFd> WakeChannel::newListener(uid_t uid) {
    auto news = std::find_if(news_.begin(), news_.end(),
                             [&](const News& entry) { return entry.uid == uid; });
    if (news == news_.end()) {
        UniqueFd eventFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
        if (!eventFd) {
            return Error::fromErrno("creating the writer's wake-up eventfd", errno);
        }
        news_.push_back({uid, std::move(eventFd)});
        news = std::prev(news_.end());
    }
    UniqueFd listener(::epoll_create1(EPOLL_CLOEXEC));
    if (!listener) {
        return Error::fromErrno("creating a reader's wake-up epoll", errno);
    }
    // Edge-triggered: the counter is never read, so the eventfd stays readable, and
    // only a write (each one, even with the item already ready) reaches the reader.
    epoll_event event{};
    event.events = EPOLLIN | EPOLLET;
    if (::epoll_ctl(listener.get(), EPOLL_CTL_ADD, news->eventFd.get(), &event) != 0) {
        return Error::fromErrno("watching the wake-up eventfd", errno);
    }
    return listener;
}

void WakeChannel::request(uid_t uid) {
    for (News& news : news_) {
        if (news.uid == uid) {
            news.requested = true;
            return;
        }
    }
}

void WakeChannel::flush() {
    for (News& news : news_) {
        if (news.requested) {
            news.requested = false;
            write(news);
        }
    }
}

void WakeChannel::signalAll() {
    for (News& news : news_) {
        news.requested = false;
        write(news);
    }
}

void WakeChannel::forget(uid_t uid) {
    std::erase_if(news_, [&](const News& entry) { return entry.uid == uid; });
}

void WakeChannel::write(const News& news) {
    const std::uint64_t one = 1;
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (::write(news.eventFd.get(), &one, sizeof(one)) == sizeof(one)) {
            return;
        }
        if (errno != EAGAIN) {
            return;  // nothing else can fail on an eventfd we alone write
        }
        // The counter is full (2^64 - 2 wake-ups): empty it and write again. Listeners
        // are edge-triggered, so emptying it takes nothing from them.
        std::uint64_t count;
        [[maybe_unused]] auto emptied = ::read(news.eventFd.get(), &count, sizeof(count));
    }
}

bool WakeChannel::isListener(int fd) {
    char target[64];
    const std::string path = "/proc/self/fd/" + std::to_string(fd);
    const ssize_t length = ::readlink(path.c_str(), target, sizeof(target));
    return length > 0 && std::string_view(target, static_cast<std::size_t>(length)) ==
                             std::string_view("anon_inode:[eventpoll]");
}

}  // namespace shmframe
