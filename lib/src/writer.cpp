// SPDX-License-Identifier: LGPL-2.1-or-later
// The writer: composes the feed lock (its files), its current pool generation (the
// slots and their loans), the registry of connected readers, and the service thread
// that admits them. This file holds the public Writer and the lock that orders those
// owners: loaning, publishing, format changes, end of stream and shutting down.
#include "shmframe/writer.h"

#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <mutex>

#include "feed_lock.h"
#include "feed_paths.h"
#include "pool_generation.h"
#include "reader_registry.h"
#include "shmframe/clock.h"
#include "shmframe/log.h"
#include "writer_service.h"

namespace shmframe {

using namespace std::chrono_literals;

namespace {

std::uint64_t randomSessionId() {
    std::uint64_t id = 0;
    if (::getrandom(&id, sizeof(id), GRND_NONBLOCK) != sizeof(id)) {
        id = monotonicNs() ^ (static_cast<std::uint64_t>(::getpid()) << 32);
    }
    return id | 1;  // never 0
}

SocketAccess socketAccessFor(const AccessPolicy& access) {
    const bool open = access.anyUser || !access.allowedUids.empty() || !access.allowedGids.empty();
    return open ? SocketAccess::Anyone : SocketAccess::OwnerOnly;
}

Error closedError() {
    return Error::make(Errc::InvalidArgument, "the writer is closed");
}

}  // namespace

struct Writer::Impl final : WriterService::Host {
    FeedPaths paths;
    WriterOptions options;
    PoolGeneration::Settings settings;
    std::optional<FeedLock> feedLock;  // the socket and lock files, removed last

    // Guards everything below but the service, and orders the owners: the service
    // thread admits readers under it, loan() and publish() run under it.
    mutable std::mutex mutex;
    std::shared_ptr<PoolGeneration> generation;  // the current one
    std::optional<ReaderRegistry> readers;
    std::uint64_t sequence = 0;  // of the last frame published
    WriterStats stats;
    bool closed = false;

    std::unique_ptr<WriterService> service;  // stopped first

    ~Impl() override { shutdown(); }

    // WriterService::Host, on the service thread.
    std::optional<std::string> admit(std::unique_ptr<ReaderConnection>& peer,
                                     const protocol::Hello& hello) override {
        std::unique_lock lock(mutex);
        if (closed) {
            return std::nullopt;
        }
        auto refused = readers->admit(peer, hello, sequence);
        report(lock);
        return refused;
    }
    void readerReadable(std::uint32_t readerId) override {
        std::unique_lock lock(mutex);
        readers->readable(readerId);
        report(lock);
    }

    // Tells onReaderEvent what happened to readers; unlocks \a lock first.
    void report(std::unique_lock<std::mutex>& lock) {
        auto events = readers ? readers->takeEvents() : std::vector<ReaderEvent>{};
        lock.unlock();
        if (options.onReaderEvent) {
            for (const auto& event : events) {
                options.onReaderEvent(event);
            }
        }
    }

    void shutdown() {
        {
            std::lock_guard lock(mutex);
            if (closed) {
                return;
            }
            closed = true;
            if (generation) {
                generation->markClosed(sequence);
                readers->wake(ReaderRegistry::WakeWhen::Always);
            }
        }
        service.reset();  // no more callbacks; pending peers and the listening socket closed
        {
            std::lock_guard lock(mutex);
            if (readers) {
                readers->hangUpAll();
            }
        }
        feedLock.reset();  // removes the socket, then the lock
    }
};

// --- Writer ----------------------------------------------------------------------

Writer::Writer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Writer::Writer(Writer&&) noexcept = default;
Writer& Writer::operator=(Writer&&) noexcept = default;
Writer::~Writer() {
    close();
}

Result<Writer> Writer::create(std::string_view feed, const Format& format, WriterOptions options) {
    if (options.leaseLimit < 1 || options.leaseLimit > layout::kMaxLeases) {
        return Error::make(Errc::InvalidArgument,
                           "lease limit must be 1 to " + std::to_string(layout::kMaxLeases) +
                               ", not " + std::to_string(options.leaseLimit));
    }
    if (options.maxReaders < 1) {
        return Error::make(Errc::InvalidArgument, "maxReaders must be at least 1");
    }
    if (options.losslessTimeout <= 0ms) {
        return Error::make(Errc::InvalidArgument, "the lossless timeout must be positive");
    }
    if (auto valid = format.validate(); !valid) {
        return std::move(valid).error();
    }
    auto paths = resolveFeed(feed, FeedDir::Create);
    if (!paths) {
        return std::move(paths).error();
    }
    auto impl = std::make_unique<Impl>();
    impl->paths = std::move(*paths);
    impl->options = std::move(options);
    impl->settings = {impl->paths.name,           randomSessionId(),        impl->options.slotCount,
                      impl->options.userMetaSize, impl->options.leaseLimit, impl->options.policy};
    if (auto geometry =
            layout::computeGeometry(format, impl->options.slotCount, impl->options.userMetaSize);
        !geometry) {
        return std::move(geometry).error();
    }
    auto locked = FeedLock::acquire(impl->paths);
    if (!locked) {
        return std::move(locked).error();
    }
    impl->feedLock.emplace(std::move(*locked));
    auto first = PoolGeneration::create(impl->settings, format, 1);
    if (!first) {
        return std::move(first).error();
    }
    impl->generation = std::move(*first);
    impl->readers.emplace(impl->paths.name, impl->options, *impl->generation);
    impl->stats.generation = 1;

    auto listening = impl->feedLock->listen(socketAccessFor(impl->options.access));
    if (!listening) {
        return std::move(listening).error();
    }
    auto service =
        WriterService::start(impl->paths.name, std::move(*listening), impl->options.access, *impl);
    if (!service) {
        return std::move(service).error();
    }
    impl->service = std::move(*service);
    log(LogLevel::Info, "feed '" + impl->paths.name + "': writing " + format.describe() + " to " +
                            impl->paths.socket);
    return Writer(std::move(impl));
}

Result<LoanedFrame> Writer::loan() {
    if (!impl_) {
        return Error::make(Errc::InvalidArgument, "loan() on a moved-from Writer");
    }
    Impl& impl = *impl_;
    std::unique_lock lock(impl.mutex);
    const auto deadline = std::chrono::steady_clock::now() + impl.options.losslessTimeout;
    for (;;) {
        if (impl.closed) {
            return closedError();
        }
        // Our own reference: a reconfigure() while we wait unlocked below must not free it.
        const std::shared_ptr<PoolGeneration> current = impl.generation;
        const PoolGeneration::Loan loan = current->lend(impl.readers->readers());
        impl.stats.revokedLeases += loan.revokedLeases;
        if (loan.outcome == SlotTable::Claim::Outcome::AllLoaned) {
            ++impl.stats.loanFailures;
            return Error::make(
                Errc::WouldBlock,
                "all " + std::to_string(current->pool().slotCount()) +
                    " slots are loaned by this writer; publish or drop frames first");
        }
        if (loan.outcome == SlotTable::Claim::Outcome::Claimed) {
            impl.report(lock);  // readers a lossless wait dropped
            return LoanedFrame(current, loan.slot);
        }
        // Lossless: wait for a sequential reader to move on, or drop it at the deadline.
        const auto now = std::chrono::steady_clock::now();
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
        if (now >= deadline) {
            const auto laggards =
                current->laggards(impl.readers->readers(), impl.options.losslessTimeout);
            for (const auto& laggard : laggards) {
                impl.readers->drop(laggard.readerId, laggard.reason);
            }
            if (!laggards.empty()) {
                continue;
            }
            // Nobody to drop: a reader was between taking a lease and letting go of it
            // (claim() backs off then). Look again shortly; never spin with the lock held.
            left = 1ms;
        }
        // Sleep until a reader that consumes a frame or releases a lease wakes us.
        if (!current->prepareToWait(impl.readers->readers())) {
            continue;
        }
        lock.unlock();
        current->waitForReaders(std::min<std::chrono::nanoseconds>(left + 1ms, 50ms));
        lock.lock();
    }
}

// Shared by publish() and publishRetained(): stamps and publishes the frame's slot.
Result<void> Writer::publishFrame(LoanedFrame& frame, const FrameMeta& meta, Retention retention) {
    if (!impl_) {
        return Error::make(Errc::InvalidArgument, "publish() on a moved-from Writer");
    }
    Impl& impl = *impl_;
    std::lock_guard lock(impl.mutex);
    if (!frame.valid() || frame.generation_->writerSession() != impl.settings.writerSession) {
        return Error::make(Errc::InvalidArgument,
                           "publish() needs a frame loaned from this writer");
    }
    if (impl.closed) {
        return closedError();
    }
    PoolGeneration& current = *impl.generation;
    if (frame.generation_.get() != &current) {
        frame.release();  // back to the replaced pool, which no one loans from any more
        return Error::make(Errc::InvalidArgument,
                           "the frame was loaned from a pool replaced by reconfigure(); loan a "
                           "new one");
    }
    current.publish(frame.slot_, ++impl.sequence, meta, frame.userMetaLength_,
                    ++impl.stats.published);
    if (retention == Retention::ReturnSlot) {
        current.giveBack(frame.slot_);
        frame.forget();  // published: the slot is ours again
    }
    impl.readers->wake(ReaderRegistry::WakeWhen::Asked);
    return {};
}

Result<void> Writer::publish(LoanedFrame&& frame, const FrameMeta& meta) {
    return publishFrame(frame, meta, Retention::ReturnSlot);
}

Result<RetainedFrame> Writer::publishRetained(LoanedFrame&& frame, const FrameMeta& meta) {
    if (auto published = publishFrame(frame, meta, Retention::KeepSlot); !published) {
        return std::move(published).error();
    }
    return RetainedFrame(std::move(frame));
}

Result<void> Writer::publishCopy(std::span<const std::byte> data, const FrameMeta& meta) {
    auto frame = loan();
    if (!frame) {
        return std::move(frame).error();
    }
    if (data.size() > frame->bytes().size()) {
        return Error::make(Errc::InvalidArgument, "publishCopy() got " +
                                                      std::to_string(data.size()) +
                                                      " bytes, more than a frame of " +
                                                      std::to_string(frame->bytes().size()));
    }
    std::memcpy(frame->bytes().data(), data.data(), data.size());
    return publish(std::move(*frame), meta);
}

Result<void> Writer::reconfigure(const Format& format) {
    if (!impl_) {
        return Error::make(Errc::InvalidArgument, "reconfigure() on a moved-from Writer");
    }
    Impl& impl = *impl_;
    if (auto valid = format.validate(); !valid) {
        return std::move(valid).error();
    }
    std::uint32_t number;
    {
        std::lock_guard lock(impl.mutex);
        if (impl.closed) {
            return closedError();
        }
        if (format == impl.generation->format()) {
            return {};
        }
        number = impl.generation->number() + 1;
    }
    // Building (and pre-faulting) the new pool may take a while: not under the lock.
    auto next = PoolGeneration::create(impl.settings, format, number);
    if (!next) {
        return std::move(next).error();
    }
    std::unique_lock lock(impl.mutex);
    const std::shared_ptr<PoolGeneration> retired = std::exchange(impl.generation, *next);
    impl.generation->showPublished(impl.stats.published);
    impl.stats.generation = number;
    impl.readers->moveTo(*impl.generation);
    // Readers see the flag only after the message is queued on their socket.
    retired->markRetired();
    impl.readers->wake(ReaderRegistry::WakeWhen::Always);
    log(LogLevel::Info, "feed '" + impl.paths.name + "': format is now " + format.describe() +
                            " (pool generation " + std::to_string(number) + ")");
    impl.report(lock);
    return {};
}

Result<void> Writer::endOfStream() {
    if (!impl_) {
        return Error::make(Errc::InvalidArgument, "endOfStream() on a moved-from Writer");
    }
    std::lock_guard lock(impl_->mutex);
    if (impl_->closed) {
        return closedError();
    }
    impl_->generation->markEndOfStream(impl_->sequence);
    impl_->readers->wake(ReaderRegistry::WakeWhen::Always);
    return {};
}

void Writer::close() {
    if (impl_) {
        impl_->shutdown();
    }
}

Format Writer::format() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->generation->format();
}

const std::string& Writer::feedName() const {
    return impl_->paths.name;
}
const std::string& Writer::socketPath() const {
    return impl_->paths.socket;
}

WriterStats Writer::stats() const {
    std::lock_guard lock(impl_->mutex);
    WriterStats stats = impl_->stats;
    stats.readers = impl_->readers->count();
    stats.readersConnected = impl_->readers->everConnected();
    stats.readersDropped = impl_->readers->dropped();
    return stats;
}

}  // namespace shmframe
