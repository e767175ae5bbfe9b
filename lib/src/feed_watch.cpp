// SPDX-License-Identifier: LGPL-2.1-or-later
// The feed watch: a DirWatch on the feed dir plus a rescan timer, both behind one
// epoll fd so that callers wait on a single descriptor.
#include "shmframe/feed_watch.h"

#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>

#include "dir_watch.h"
#include "unique_fd.h"

namespace shmframe {

std::string_view toString(FeedEvent::Kind kind) {
    switch (kind) {
        case FeedEvent::Kind::Appeared:
            return "appeared";
        case FeedEvent::Kind::Changed:
            return "changed";
        case FeedEvent::Kind::Gone:
            return "gone";
    }
    return "unknown";
}

struct FeedWatch::State {
    explicit State(DirWatch dirWatch) : watch(std::move(dirWatch)) {}
    DirWatch watch;  // re-armed at every update(): the dir may come and go
    UniqueFd epoll;
    UniqueFd timer;
    std::vector<FeedInfo> feeds;

    void drain() {
        watch.drain();
        std::uint64_t expirations = 0;
        while (::read(timer.get(), &expirations, sizeof(expirations)) > 0) {
        }
    }
};

namespace {

bool sameWriterAndPool(const FeedInfo& a, const FeedInfo& b) {
    return a.writerPid == b.writerPid && a.generation == b.generation && a.format == b.format &&
           a.endOfStream == b.endOfStream;
}

}  // namespace

Result<FeedWatch> FeedWatch::open(const FeedWatchOptions& options) {
    auto watch = DirWatch::create(feedDirectory(), DirWatch::Changes::All);
    if (!watch) {
        return std::move(watch).error();
    }
    auto state = std::make_unique<State>(std::move(*watch));
    state->epoll = UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
    state->timer = UniqueFd(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    if (!state->epoll || !state->timer) {
        return Error::fromErrno("creating the feed watch's epoll and timer fds", errno);
    }
    const auto interval = std::max(options.rescanInterval, std::chrono::milliseconds(10));
    itimerspec spec{};
    spec.it_interval.tv_sec = interval.count() / 1000;
    spec.it_interval.tv_nsec = (interval.count() % 1000) * 1'000'000;
    spec.it_value.tv_nsec = 1;  // the first update() is due at once
    if (::timerfd_settime(state->timer.get(), 0, &spec, nullptr) != 0) {
        return Error::fromErrno("arming the feed watch's rescan timer", errno);
    }
    for (int fd : {state->watch.fd(), state->timer.get()}) {
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.fd = fd;
        if (::epoll_ctl(state->epoll.get(), EPOLL_CTL_ADD, fd, &event) != 0) {
            return Error::fromErrno("adding to the feed watch's epoll set", errno);
        }
    }
    state->watch.arm();
    return FeedWatch(std::move(state));
}

FeedWatch::FeedWatch(std::unique_ptr<State> state) : state_(std::move(state)) {}
FeedWatch::FeedWatch(FeedWatch&&) noexcept = default;
FeedWatch& FeedWatch::operator=(FeedWatch&&) noexcept = default;
FeedWatch::~FeedWatch() = default;

int FeedWatch::fd() const noexcept {
    return state_->epoll.get();
}

const std::vector<FeedInfo>& FeedWatch::feeds() const noexcept {
    return state_->feeds;
}

const std::string& FeedWatch::directory() const noexcept {
    return state_->watch.dir();
}

std::vector<FeedEvent> FeedWatch::update() {
    state_->drain();
    state_->watch.arm();
    std::vector<FeedInfo> now = listFeeds();

    std::map<std::string, const FeedInfo*> before;
    for (const auto& feed : state_->feeds) {
        before.emplace(feed.name, &feed);
    }
    std::vector<FeedEvent> events;
    for (const auto& feed : now) {
        auto old = before.find(feed.name);
        if (old == before.end()) {
            events.push_back({FeedEvent::Kind::Appeared, feed});
            continue;
        }
        if (!sameWriterAndPool(*old->second, feed)) {
            events.push_back({FeedEvent::Kind::Changed, feed});
        }
        before.erase(old);
    }
    for (const auto& [name, feed] : before) {
        events.push_back({FeedEvent::Kind::Gone, *feed});
    }
    state_->feeds = std::move(now);
    return events;
}

}  // namespace shmframe
