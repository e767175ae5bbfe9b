// SPDX-License-Identifier: LGPL-2.1-or-later
#include "reader_registry.h"

#include <unistd.h>

#include <algorithm>

#include "shmframe/log.h"

namespace shmframe {
namespace {

// Leases for a reader that asked for \a requested (0: the lease limit). More than the
// limit only while every other slot but the latest and one to loan stays free of it.
std::uint32_t grantedLeases(std::uint32_t leaseLimit, std::uint32_t slotCount,
                            std::uint32_t requested) {
    if (requested <= leaseLimit) {
        return requested == 0 ? leaseLimit : std::max(requested, 1u);
    }
    const std::uint32_t spare = slotCount > 2 ? slotCount - 2 : 1;
    return std::max(leaseLimit, std::min({requested, spare, layout::kMaxLeases}));
}

}  // namespace

ReaderRegistry::ReaderRegistry(std::string feedName, const WriterOptions& options,
                               PoolGeneration& pool)
    : feedName_(std::move(feedName)),
      maxReaders_(options.maxReaders),
      leaseLimit_(options.leaseLimit),
      slotCount_(options.slotCount),
      pool_(&pool) {}

std::optional<std::string> ReaderRegistry::admit(std::unique_ptr<ReaderConnection>& peer,
                                                 const protocol::Hello& hello,
                                                 std::uint64_t publishedSequence) {
    const PoolMapping& pool = pool_->pool();
    protocol::Welcome welcome{};
    welcome.writerSession = pool.session();
    welcome.poolSize = pool.geometry().poolSize;
    welcome.readerId = peer->id();
    welcome.generation = pool.generation();
    welcome.writerPid = static_cast<std::uint32_t>(::getpid());

    if (hello.flags & protocol::kHelloProbe) {
        const int fds[] = {pool.readOnlyFd()};
        auto sent = peer->send(
            protocol::encode(protocol::MessageType::Welcome, &welcome, sizeof(welcome), 1), fds);
        if (sent && (hello.flags & protocol::kHelloReaderTable)) {
            const std::uint64_t latest = layout::latestSequence(pool.header().latest.load());
            [[maybe_unused]] auto table =
                peer->send(protocol::encode(readerTable(readers_, latest)));
        }
        return std::nullopt;  // a probe gets its answer and the hang-up
    }
    if (readers_.size() >= maxReaders_) {
        const std::string text = "feed '" + feedName_ + "' already has " +
                                 std::to_string(maxReaders_) + " readers (its maximum)";
        peer->sendRefused(protocol::Reason::TooManyReaders, text);
        return text;
    }
    const std::uint64_t latest = layout::latestSequence(pool.header().latest.load());
    auto ready = peer->setUp(grantedLeases(leaseLimit_, slotCount_, peer->requestedLeases()),
                             latest ? latest - 1 : publishedSequence);
    // The reader's listener is the reader's alone once sent: we keep no copy, so it is
    // gone (and off the eventfd's wait queue) when the reader is.
    auto listener =
        ready ? wakeChannel_.newListener(peer->uid()) : Result<UniqueFd>(std::move(ready).error());
    if (!listener) {
        const std::string text = "the writer could not set up a reader";
        peer->sendRefused(protocol::Reason::Internal, text);
        return text + ": " + listener.error().message;
    }
    welcome.controlSize = layout::kControlBlockSize;
    const int fds[] = {pool.readOnlyFd(), peer->controlFd(), listener->get()};
    if (auto sent = peer->send(
            protocol::encode(protocol::MessageType::Welcome, &welcome, sizeof(welcome), 3), fds);
        !sent) {
        return "could not welcome it: " + sent.error().message;
    }
    events_.push_back({ReaderEvent::Kind::Connected, peer->id(), peer->pid(), peer->uid(), {}});
    log(LogLevel::Info, "feed '" + feedName_ + "': reader " + std::to_string(peer->id()) +
                            " (pid " + std::to_string(peer->pid()) + ", " +
                            (peer->sequential() ? "sequential" : "latest") + ") connected");
    readers_.push_back(std::move(peer));
    ++everConnected_;
    showCount();
    return std::nullopt;
}

void ReaderRegistry::readable(std::uint32_t readerId) {
    auto it = std::find_if(readers_.begin(), readers_.end(),
                           [&](const auto& reader) { return reader->id() == readerId; });
    if (it == readers_.end()) {
        return;
    }
    std::string why;
    switch ((*it)->readInput(why)) {
        case ReaderConnection::Input::Nothing:
            return;
        case ReaderConnection::Input::HungUp:
            remove(readerId, ReaderEvent::Kind::Disconnected, "hung up");
            break;
        case ReaderConnection::Input::Misbehaved:
            drop(readerId, why);
            break;
    }
}

void ReaderRegistry::drop(std::uint32_t readerId, const std::string& reason) {
    ++dropped_;
    remove(readerId, ReaderEvent::Kind::Dropped, reason);
}

void ReaderRegistry::remove(std::uint32_t readerId, ReaderEvent::Kind kind,
                            const std::string& reason) {
    auto it = std::find_if(readers_.begin(), readers_.end(),
                           [&](const auto& reader) { return reader->id() == readerId; });
    if (it == readers_.end()) {
        return;
    }
    ReaderConnection& reader = **it;
    const std::string who = "feed '" + feedName_ + "': ";
    const std::string which =
        std::to_string(readerId) + " (pid " + std::to_string(reader.pid()) + ")";
    if (kind == ReaderEvent::Kind::Dropped) {
        reader.sendGoodbye(protocol::Reason::TooSlow, reason);
        log(LogLevel::Warning, who + "dropped reader " + which + ": " + reason);
    } else {
        log(LogLevel::Info, who + "reader " + which + " " + reason);
    }
    events_.push_back(ReaderEvent{kind, readerId, reader.pid(), reader.uid(), reason});
    const uid_t uid = reader.uid();
    // Its slots are the pool's again: frames it still holds must not read as intact
    // once they are written over (a stopped reader, continued, checks its frames).
    reader.closeLeases();
    readers_.erase(it);  // closes its socket (removing it from epoll) and unmaps its block
    if (std::none_of(readers_.begin(), readers_.end(),
                     [&](const auto& other) { return other->uid() == uid; })) {
        wakeChannel_.forget(uid);
    }
    showCount();
    pool_->wakeWaitingWriter();  // a lossless loan() may wait on it
}

void ReaderRegistry::wake(WakeWhen when) {
    // Every ask is taken, even once one has been: an ask left standing would cost the
    // next publish a write for nobody.
    if (when == WakeWhen::Always) {
        for (const auto& reader : readers_) {
            reader->takeWakeRequest();
        }
        wakeChannel_.signalAll();
        return;
    }
    for (const auto& reader : readers_) {
        if (reader->takeWakeRequest()) {
            wakeChannel_.request(reader->uid());
        }
    }
    wakeChannel_.flush();
}

void ReaderRegistry::moveTo(PoolGeneration& pool) {
    pool_ = &pool;
    showCount();
    protocol::NewPool message{pool.pool().geometry().poolSize, pool.number(), 0};
    const auto packet =
        protocol::encode(protocol::MessageType::NewPool, &message, sizeof(message), 1);
    const int fds[] = {pool.pool().readOnlyFd()};
    std::vector<std::uint32_t> unreachable;
    for (const auto& reader : readers_) {
        if (!reader->send(packet, fds)) {
            unreachable.push_back(reader->id());
        }
    }
    for (const auto id : unreachable) {
        drop(id, "its socket is full; it does not read its messages");
    }
}

void ReaderRegistry::hangUpAll() {
    readers_.clear();
    showCount();
}

void ReaderRegistry::showCount() {
    pool_->showReaders(count());
}

}  // namespace shmframe
