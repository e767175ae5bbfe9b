// SPDX-License-Identifier: LGPL-2.1-or-later
#include "writer_service.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <thread>
#include <vector>

#include "shmframe/clock.h"
#include "shmframe/log.h"

namespace shmframe {
namespace {

constexpr std::uint64_t kHandshakeTimeoutNs = 2'000'000'000;
constexpr std::size_t kMaxPendingConnections = 32;
constexpr std::uint64_t kRefusalLogIntervalNs = 1'000'000'000;
constexpr std::uint64_t kListenTag = 0;
constexpr std::uint64_t kStopTag = 1;
constexpr std::uint32_t kFirstReaderId = 2;  // ids 0 and 1 are the tags above

// Refusals at a bounded rate: in each interval the first refusal of each kind is
// logged as it happens, the rest are counted and summed up in one line when the
// interval is over. A flood of connections costs a few lines a second, not a line a
// connection.
class RefusalLog {
  public:
    explicit RefusalLog(std::string feedName) : feedName_(std::move(feedName)) {}

    void note(const std::string& kind, const std::string& line) {
        flush();
        auto& entry = kinds_[kind];
        if (!entry.logged) {
            entry.logged = true;
            log(LogLevel::Warning, "feed '" + feedName_ + "': " + line);
        } else {
            ++entry.unlogged;
        }
    }

    /// Once the interval is over: one line with what was not logged, and a new interval.
    void flush() {
        const std::uint64_t now = monotonicNs();
        if (now - intervalStartNs_ < kRefusalLogIntervalNs) {
            return;
        }
        std::string summary;
        for (const auto& [kind, entry] : kinds_) {
            if (entry.unlogged) {
                summary += (summary.empty() ? "" : ", ") + std::to_string(entry.unlogged) +
                           " more: " + kind;
            }
        }
        if (!summary.empty()) {
            log(LogLevel::Warning, "feed '" + feedName_ + "': in the last " +
                                       std::to_string((now - intervalStartNs_) / 1'000'000) +
                                       " ms, " + summary);
        }
        kinds_.clear();
        intervalStartNs_ = now;
    }

    /// Milliseconds until flush() has something to say, or -1.
    int msUntilFlush() const {
        const bool pending = std::any_of(kinds_.begin(), kinds_.end(),
                                         [](const auto& kind) { return kind.second.unlogged; });
        if (!pending) {
            return -1;
        }
        const std::uint64_t due = intervalStartNs_ + kRefusalLogIntervalNs;
        const std::uint64_t now = monotonicNs();
        return due > now ? int((due - now) / 1'000'000 + 1) : 0;
    }

  private:
    struct Kind {
        bool logged = false;
        std::uint64_t unlogged = 0;
    };
    std::string feedName_;
    std::uint64_t intervalStartNs_ = 0;
    std::map<std::string, Kind> kinds_;
};

void signalEventFd(int fd) {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto written = ::write(fd, &one, sizeof(one));
}

}  // namespace

struct WriterService::State {
    std::string feedName;
    UniqueFd listenFd;
    UniqueFd epollFd;
    UniqueFd stopFd;
    AccessPolicy access;
    Host* host = nullptr;
    std::thread thread;

    // Connections that have not said Hello yet, by reader id. Service thread only.
    std::map<std::uint32_t, std::unique_ptr<ReaderConnection>> pending;
    std::uint32_t nextReaderId = kFirstReaderId;
    RefusalLog refusals;

    State(std::string name, AccessPolicy policy)
        : feedName(std::move(name)), access(std::move(policy)), refusals(feedName) {}

    void run();
    void acceptAll();
    void admitNew(UniqueFd socket);
    void evictOldestPending();
    void readHello(std::uint32_t id);
    void closeSilentPeers();
    int timeoutMs() const;
};

Result<std::unique_ptr<WriterService>> WriterService::start(std::string feedName, UniqueFd listenFd,
                                                            AccessPolicy access, Host& host) {
    auto state = std::make_unique<State>(std::move(feedName), std::move(access));
    state->listenFd = std::move(listenFd);
    state->host = &host;
    state->epollFd = UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
    state->stopFd = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!state->epollFd || !state->stopFd) {
        return Error::fromErrno("creating the writer's event fds", errno);
    }
    epoll_event listenEvent{};
    listenEvent.events = EPOLLIN;
    listenEvent.data.u64 = kListenTag;
    epoll_event stopEvent{};
    stopEvent.events = EPOLLIN;
    stopEvent.data.u64 = kStopTag;
    if (::epoll_ctl(state->epollFd.get(), EPOLL_CTL_ADD, state->listenFd.get(), &listenEvent) !=
            0 ||
        ::epoll_ctl(state->epollFd.get(), EPOLL_CTL_ADD, state->stopFd.get(), &stopEvent) != 0) {
        return Error::fromErrno("epoll_ctl", errno);
    }
    state->thread = std::thread([raw = state.get()] { raw->run(); });
    return std::unique_ptr<WriterService>(new WriterService(std::move(state)));
}

WriterService::WriterService(std::unique_ptr<State> state) : state_(std::move(state)) {}

WriterService::~WriterService() {
    if (state_->thread.joinable()) {
        signalEventFd(state_->stopFd.get());
        state_->thread.join();
    }
}

int WriterService::State::timeoutMs() const {
    const std::uint64_t now = monotonicNs();
    int timeout = refusals.msUntilFlush();
    for (const auto& [id, peer] : pending) {
        const std::uint64_t deadline = peer->helloDeadlineNs();
        const int left = deadline > now ? int((deadline - now) / 1'000'000 + 1) : 0;
        timeout = timeout < 0 ? left : std::min(timeout, left);
    }
    return timeout;
}

void WriterService::State::run() {
    epoll_event events[16];
    for (;;) {
        const int count = ::epoll_wait(epollFd.get(), events, 16, timeoutMs());
        if (count < 0 && errno != EINTR) {
            log(LogLevel::Error,
                "feed '" + feedName + "': epoll_wait failed: " + std::strerror(errno));
            return;
        }
        for (int i = 0; i < count; ++i) {
            const std::uint64_t tag = events[i].data.u64;
            if (tag == kStopTag) {
                return;
            }
            if (tag == kListenTag) {
                acceptAll();
                continue;
            }
            const auto id = static_cast<std::uint32_t>(tag);
            if (pending.contains(id)) {
                readHello(id);
            } else {
                host->readerReadable(id);
            }
        }
        closeSilentPeers();
        refusals.flush();
    }
}

void WriterService::State::acceptAll() {
    for (;;) {
        UniqueFd socket(::accept4(listenFd.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
        if (socket) {
            admitNew(std::move(socket));
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED) {
            continue;
        }
        if (errno != EAGAIN) {
            refusals.note("failed accepts", "accept failed: " + std::string(std::strerror(errno)));
        }
        return;
    }
}

void WriterService::State::admitNew(UniqueFd socket) {
    // Credentials first: a peer the policy refuses costs one answer and a close, and
    // never takes a place among the pending peers.
    ucred credentials{};
    socklen_t length = sizeof(credentials);
    if (::getsockopt(socket.get(), SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) {
        return;
    }
    const std::uint32_t id = nextReaderId++;
    if (nextReaderId == 0) {
        nextReaderId = kFirstReaderId;
    }
    auto peer = std::make_unique<ReaderConnection>(id, std::move(socket), credentials,
                                                   monotonicNs() + kHandshakeTimeoutNs);
    if (!access.allows(credentials.uid, credentials.gid)) {
        const std::string text = "uid " + std::to_string(credentials.uid) + " may not read feed '" +
                                 feedName + "' (access: " + access.describe() + ")";
        peer->sendRefused(protocol::Reason::AccessDenied, text);
        refusals.note("refused by the access policy",
                      "refused pid " + std::to_string(credentials.pid) + ": " + text);
        return;
    }
    // Full of peers that say nothing: the oldest silent one goes, so that a flood can
    // never keep an honest reader, which says Hello at once, out.
    if (pending.size() >= kMaxPendingConnections) {
        evictOldestPending();
    }
    epoll_event event{};
    event.events = EPOLLIN | EPOLLRDHUP;
    event.data.u64 = id;
    if (::epoll_ctl(epollFd.get(), EPOLL_CTL_ADD, peer->socket(), &event) != 0) {
        return;
    }
    pending.emplace(id, std::move(peer));
}

void WriterService::State::evictOldestPending() {
    auto oldest =
        std::min_element(pending.begin(), pending.end(), [](const auto& a, const auto& b) {
            return a.second->helloDeadlineNs() < b.second->helloDeadlineNs();
        });
    if (oldest == pending.end()) {
        return;
    }
    refusals.note("too many connections without a Hello: closed the oldest",
                  "too many connections without a Hello; closed the oldest (pid " +
                      std::to_string(oldest->second->pid()) + ")");
    pending.erase(oldest);
}

void WriterService::State::readHello(std::uint32_t id) {
    auto it = pending.find(id);
    auto message = protocol::receive(it->second->socket());
    if (!message && message.error().code == Errc::WouldBlock) {
        return;  // spurious wake-up; keep waiting
    }
    std::unique_ptr<ReaderConnection> peer = std::move(it->second);
    pending.erase(it);
    const std::string who = "pid " + std::to_string(peer->pid());
    if (!message) {
        if (message.error().code == Errc::ProtocolMismatch) {
            peer->sendRefused(protocol::Reason::VersionMismatch, message.error().message);
            refusals.note("refused for their protocol version",
                          "refused " + who + ": " + message.error().message);
        } else if (message.error().code != Errc::WriterGone) {
            refusals.note("sent a bad Hello",
                          who + " sent a bad Hello: " + message.error().message);
        }
        return;
    }
    if (message->type != protocol::MessageType::Hello) {
        peer->sendRefused(protocol::Reason::ProtocolError, "expected Hello first");
        refusals.note("sent a bad Hello", who + " sent a bad Hello: another message first");
        return;
    }
    const auto& hello = std::get<protocol::Hello>(message->payload);
    peer->greeted(hello);
    if (auto refused = host->admit(peer, hello)) {
        refusals.note("refused by the writer", "refused " + who + ": " + *refused);
    }
}

void WriterService::State::closeSilentPeers() {
    const std::uint64_t now = monotonicNs();
    for (auto it = pending.begin(); it != pending.end();) {
        if (it->second->helloDeadlineNs() <= now) {
            refusals.note("sent no Hello within 2 s",
                          "pid " + std::to_string(it->second->pid()) +
                              " connected but sent no Hello within 2 s; closed");
            it = pending.erase(it);
        } else {
            ++it;
        }
    }
}

}  // namespace shmframe
