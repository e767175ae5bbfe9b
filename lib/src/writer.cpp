// SPDX-License-Identifier: LGPL-2.1-or-later
// The writer: composes the feed lock (its files), the pool generations with their slot
// tables, the connected readers, and the service thread that admits them. This file
// holds the public API and what ties those owners together: loaning, publishing,
// waking readers, format changes and shutting down.
#include "shmframe/writer.h"

#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <mutex>

#include "feed_lock.h"
#include "feed_paths.h"
#include "futex.h"
#include "pool_mapping.h"
#include "protocol.h"
#include "reader_connection.h"
#include "shmframe/log.h"
#include "slot_table.h"
#include "writer_service.h"

namespace shmframe {

using namespace std::chrono_literals;

namespace {

constexpr std::uint64_t kRevokeLogIntervalNs = 1'000'000'000;

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

}  // namespace

// One pool generation and the loans of its slots.
struct PoolGeneration {
    PoolGeneration(PoolMapping mapping, WriterPolicy policy)
        : pool(std::move(mapping)), slots(pool, policy) {}
    PoolMapping pool;
    SlotTable slots;  // guarded by Writer::Impl::mutex
};

namespace {

// Leases for a reader that asked for \a requested (0: the lease limit). More than the
// limit only while every other slot but the latest and one to loan stays free of it.
std::uint32_t grantedLeases(const WriterOptions& options, std::uint32_t requested) {
    if (requested <= options.leaseLimit) {
        return requested == 0 ? options.leaseLimit : std::max(requested, 1u);
    }
    const std::uint32_t spare = options.slotCount > 2 ? options.slotCount - 2 : 1;
    return std::max(options.leaseLimit, std::min({requested, spare, layout::kMaxLeases}));
}

}  // namespace

struct Writer::Impl final : WriterService::Host {
    FeedPaths paths;
    WriterOptions options;
    std::uint64_t session = randomSessionId();
    std::optional<FeedLock> feedLock;  // the socket and lock files, removed last

    mutable std::mutex mutex;
    std::shared_ptr<PoolGeneration> generation;
    ReaderList readers;
    std::uint64_t sequence = 0;
    WriterStats stats;
    bool closed = false;
    std::uint64_t lastRevokeLogNs = 0;

    std::unique_ptr<WriterService> service;  // stopped first

    ~Impl() override { shutdown(); }

    Result<std::shared_ptr<PoolGeneration>> createGeneration(const Format& format,
                                                             std::uint32_t number);

    // WriterService::Host, on the service thread.
    std::optional<std::string> admit(std::unique_ptr<ReaderConnection>& peer,
                                     const protocol::Hello& hello) override;
    void readerReadable(std::uint32_t readerId) override;

    // Called with the mutex held.
    std::optional<std::uint32_t> revoke(PoolGeneration& current);
    bool dropLaggards(PoolGeneration& current, std::vector<ReaderEvent>& events);
    void removeReader(std::uint32_t id, ReaderEvent::Kind kind, const std::string& reason,
                      std::vector<ReaderEvent>& events);
    void updateReaderCount();
    void wakeReaders(ReaderConnection::WakeWhen when);

    void returnSlot(std::uint32_t generationNumber, std::uint32_t slot);
    void emit(const std::vector<ReaderEvent>& events);
    void shutdown();
};

Result<std::shared_ptr<PoolGeneration>> Writer::Impl::createGeneration(const Format& format,
                                                                       std::uint32_t number) {
    auto geometry = layout::computeGeometry(format, options.slotCount, options.userMetaSize);
    if (!geometry) {
        return std::move(geometry).error();
    }
    layout::PoolDescription description;
    description.geometry = *geometry;
    description.format = format;
    description.writerSession = session;
    description.writerPid = static_cast<std::uint32_t>(::getpid());
    description.generation = number;
    description.leaseLimit = options.leaseLimit;
    description.policy = static_cast<std::uint32_t>(options.policy);
    auto pool = PoolMapping::create("shmframe:" + paths.name.substr(0, 40), description);
    if (!pool) {
        return std::move(pool).error();
    }
    return std::make_shared<PoolGeneration>(std::move(*pool), options.policy);
}

std::optional<std::string> Writer::Impl::admit(std::unique_ptr<ReaderConnection>& peer,
                                               const protocol::Hello& hello) {
    std::unique_lock lock(mutex);
    if (closed) {
        return std::nullopt;
    }
    const PoolMapping& pool = generation->pool;
    protocol::Welcome welcome{};
    welcome.writerSession = session;
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
                peer->send(protocol::encode(readerTable(readers, latest)));
        }
        return std::nullopt;  // a probe gets its answer and the hang-up
    }
    if (readers.size() >= options.maxReaders) {
        lock.unlock();
        const std::string text = "feed '" + paths.name + "' already has " +
                                 std::to_string(options.maxReaders) + " readers (its maximum)";
        peer->sendRefused(protocol::Reason::TooManyReaders, text);
        return text;
    }
    const std::uint64_t latest = layout::latestSequence(pool.header().latest.load());
    if (auto ready = peer->setUp(grantedLeases(options, peer->requestedLeases()),
                                 latest ? latest - 1 : sequence);
        !ready) {
        lock.unlock();
        const std::string text = "the writer could not set up a reader";
        peer->sendRefused(protocol::Reason::Internal, text);
        return text + ": " + ready.error().message;
    }
    welcome.controlSize = layout::kControlBlockSize;
    const int fds[] = {pool.readOnlyFd(), peer->controlFd(), peer->wakeReadEnd()};
    if (auto sent = peer->send(
            protocol::encode(protocol::MessageType::Welcome, &welcome, sizeof(welcome), 3), fds);
        !sent) {
        return "could not welcome it: " + sent.error().message;
    }
    const ReaderEvent event{ReaderEvent::Kind::Connected, peer->id(), peer->pid(), peer->uid(), {}};
    log(LogLevel::Info, "feed '" + paths.name + "': reader " + std::to_string(peer->id()) +
                            " (pid " + std::to_string(peer->pid()) + ", " +
                            (peer->sequential() ? "sequential" : "latest") + ") connected");
    readers.push_back(std::move(peer));
    ++stats.readersConnected;
    updateReaderCount();
    lock.unlock();
    emit({event});
    return std::nullopt;
}

void Writer::Impl::readerReadable(std::uint32_t readerId) {
    std::vector<ReaderEvent> events;
    {
        std::lock_guard lock(mutex);
        auto it = std::find_if(readers.begin(), readers.end(),
                               [&](const auto& reader) { return reader->id() == readerId; });
        if (it == readers.end()) {
            return;
        }
        std::string why;
        switch ((*it)->readInput(why)) {
            case ReaderConnection::Input::Nothing:
                return;
            case ReaderConnection::Input::HungUp:
                removeReader(readerId, ReaderEvent::Kind::Disconnected, "hung up", events);
                break;
            case ReaderConnection::Input::Misbehaved:
                ++stats.readersDropped;
                removeReader(readerId, ReaderEvent::Kind::Dropped, why, events);
                break;
        }
    }
    emit(events);
}

void Writer::Impl::removeReader(std::uint32_t id, ReaderEvent::Kind kind, const std::string& reason,
                                std::vector<ReaderEvent>& events) {
    auto it = std::find_if(readers.begin(), readers.end(),
                           [&](const auto& reader) { return reader->id() == id; });
    if (it == readers.end()) {
        return;
    }
    ReaderConnection& reader = **it;
    if (kind == ReaderEvent::Kind::Dropped) {
        reader.sendGoodbye(protocol::Reason::TooSlow, reason);
        log(LogLevel::Warning, "feed '" + paths.name + "': dropped reader " + std::to_string(id) +
                                   " (pid " + std::to_string(reader.pid()) + "): " + reason);
    } else {
        log(LogLevel::Info, "feed '" + paths.name + "': reader " + std::to_string(id) + " (pid " +
                                std::to_string(reader.pid()) + ") " + reason);
    }
    events.push_back(ReaderEvent{kind, id, reader.pid(), reader.uid(), reason});
    readers.erase(it);  // closes its socket (removing it from epoll) and unmaps its block
    updateReaderCount();
    futex::wakeAll(generation->pool.header().writerWaiting);  // a lossless loan() may wait on it
}

void Writer::Impl::updateReaderCount() {
    stats.readers = static_cast<std::uint32_t>(readers.size());
    generation->pool.header().readers.store(stats.readers, std::memory_order_relaxed);
}

void Writer::Impl::wakeReaders(ReaderConnection::WakeWhen when) {
    for (const auto& reader : readers) {
        reader->wake(when);
    }
}

std::optional<std::uint32_t> Writer::Impl::revoke(PoolGeneration& current) {
    auto revocation = current.slots.revokeOldest(readers);
    if (!revocation) {
        return std::nullopt;
    }
    stats.revokedLeases += revocation->leases;
    const std::uint64_t now = monotonicNs();
    if (now - lastRevokeLogNs > kRevokeLogIntervalNs) {
        lastRevokeLogNs = now;
        log(LogLevel::Warning, "feed '" + paths.name +
                                   "': every slot is held by readers; took back the oldest "
                                   "(raise slots or lower lease-limit)");
    }
    return revocation->slot;
}

bool Writer::Impl::dropLaggards(PoolGeneration& current, std::vector<ReaderEvent>& events) {
    const auto laggards = current.slots.laggards(readers, options.losslessTimeout);
    for (const auto& laggard : laggards) {
        ++stats.readersDropped;
        removeReader(laggard.readerId, ReaderEvent::Kind::Dropped, laggard.reason, events);
    }
    return !laggards.empty();
}

void Writer::Impl::returnSlot(std::uint32_t generationNumber, std::uint32_t slot) {
    std::lock_guard lock(mutex);
    if (generation && generation->pool.generation() == generationNumber) {
        generation->slots.giveBack(slot);
    }
}

void Writer::Impl::emit(const std::vector<ReaderEvent>& events) {
    if (options.onReaderEvent) {
        for (const auto& event : events) {
            options.onReaderEvent(event);
        }
    }
}

void Writer::Impl::shutdown() {
    {
        std::lock_guard lock(mutex);
        if (closed) {
            return;
        }
        closed = true;
        if (generation) {
            auto& header = generation->pool.header();
            if (header.eos.load() == 0) {
                header.eos.store(layout::kEosFlag | sequence, std::memory_order_seq_cst);
            }
            header.state.fetch_or(layout::kPoolClosed, std::memory_order_seq_cst);
            wakeReaders(ReaderConnection::WakeWhen::Always);
        }
    }
    service.reset();  // no more callbacks; pending peers and the listening socket closed
    {
        std::lock_guard lock(mutex);
        readers.clear();  // hang up on every reader
        if (generation) {
            generation->pool.header().readers.store(0);
        }
    }
    feedLock.reset();  // removes the socket, then the lock
}

// --- LoanedFrame -----------------------------------------------------------------

LoanedFrame::LoanedFrame(LoanedFrame&& other) noexcept {
    *this = std::move(other);
}

LoanedFrame& LoanedFrame::operator=(LoanedFrame&& other) noexcept {
    if (this != &other) {
        release();
        writer_ = std::move(other.writer_);
        pool_ = std::move(other.pool_);
        format_ = std::exchange(other.format_, nullptr);
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
        userMeta_ = std::exchange(other.userMeta_, nullptr);
        userMetaSize_ = std::exchange(other.userMetaSize_, 0);
        userMetaLength_ = std::exchange(other.userMetaLength_, 0);
        slot_ = other.slot_;
        generation_ = other.generation_;
    }
    return *this;
}

LoanedFrame::~LoanedFrame() {
    release();
}

std::span<std::byte> LoanedFrame::plane(std::uint32_t index) const {
    if (!data_ || index >= format_->planeCount) {
        return {};
    }
    const Plane& plane = format_->planes[index];
    return {data_ + plane.offset, static_cast<std::size_t>(plane.size)};
}

void LoanedFrame::setUserMetaLength(std::uint32_t length) {
    userMetaLength_ = std::min(length, userMetaSize_);
}

void LoanedFrame::release() noexcept {
    if (data_ && writer_) {
        static_cast<Writer::Impl*>(writer_.get())->returnSlot(generation_, slot_);
    }
    data_ = nullptr;
    writer_.reset();
    pool_.reset();
}

// --- RetainedFrame ---------------------------------------------------------------

std::span<const std::byte> RetainedFrame::plane(std::uint32_t index) const {
    return loan_.plane(index);
}

// --- Writer ----------------------------------------------------------------------

Writer::Writer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
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
    auto impl = std::make_shared<Impl>();
    impl->paths = std::move(*paths);
    impl->options = std::move(options);
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
    auto first = impl->createGeneration(format, 1);
    if (!first) {
        return std::move(first).error();
    }
    impl->generation = std::move(*first);
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
    std::vector<ReaderEvent> events;
    std::unique_lock lock(impl.mutex);
    const auto deadline = std::chrono::steady_clock::now() + impl.options.losslessTimeout;
    for (;;) {
        if (impl.closed) {
            return Error::make(Errc::InvalidArgument, "the writer is closed");
        }
        // Our own reference: a reconfigure() while we wait unlocked below must not free it.
        const std::shared_ptr<PoolGeneration> current = impl.generation;
        PoolMapping& pool = current->pool;
        const SlotTable::Claim claim = current->slots.claim(impl.readers);
        if (claim.outcome == SlotTable::Claim::Outcome::AllLoaned) {
            ++impl.stats.loanFailures;
            return Error::make(
                Errc::WouldBlock,
                "all " + std::to_string(pool.slotCount()) +
                    " slots are loaned by this writer; publish or drop frames first");
        }
        std::optional<std::uint32_t> slot;
        if (claim.outcome == SlotTable::Claim::Outcome::Claimed) {
            slot = claim.slot;
        } else if (impl.options.policy == WriterPolicy::NeverBlock) {
            slot = impl.revoke(*current);
        }
        if (slot) {
            lock.unlock();
            impl.emit(events);
            LoanedFrame frame;
            frame.writer_ = impl_;
            frame.pool_ = current;
            frame.format_ = &pool.format();
            frame.data_ = pool.frame(*slot);
            frame.size_ = pool.format().frameSize;
            frame.userMeta_ = pool.userMeta(*slot);
            frame.userMetaSize_ = pool.geometry().userMetaSize;
            frame.slot_ = *slot;
            frame.generation_ = pool.generation();
            return frame;
        }
        // Lossless: wait for a sequential reader to move on, or drop it at the deadline.
        const auto now = std::chrono::steady_clock::now();
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
        if (now >= deadline) {
            if (impl.dropLaggards(*current, events)) {
                continue;
            }
            // Nobody to drop: a reader was between taking a lease and letting go of it
            // (claim() backs off then). Look again shortly; never spin with the lock held.
            left = 1ms;
        }
        // Sleep on writerWaiting: a reader that consumes a frame or releases a lease
        // wakes it. Set it, then look once more, so progress made meanwhile is not missed
        // (the reader stores its progress, then loads writerWaiting; both seq_cst).
        auto& waiting = pool.header().writerWaiting;
        waiting.store(1, std::memory_order_seq_cst);
        if (const auto again = current->slots.claim(impl.readers);
            again.outcome == SlotTable::Claim::Outcome::Claimed) {
            waiting.store(0, std::memory_order_relaxed);
            current->slots.giveBack(again.slot);  // take it for real on the next pass
            continue;
        }
        lock.unlock();
        futex::wait(waiting, 1, std::min<std::chrono::nanoseconds>(left + 1ms, 50ms));
        lock.lock();
        waiting.store(0, std::memory_order_relaxed);
    }
}

// Shared by publish() and publishRetained(): stamps and publishes the frame's slot.
Result<void> Writer::publishFrame(LoanedFrame& frame, const FrameMeta& meta, Retention retention) {
    if (!impl_) {
        return Error::make(Errc::InvalidArgument, "publish() on a moved-from Writer");
    }
    Impl& impl = *impl_;
    if (!frame.valid() || frame.writer_.get() != impl_.get()) {
        return Error::make(Errc::InvalidArgument,
                           "publish() needs a frame loaned from this writer");
    }
    std::lock_guard lock(impl.mutex);
    if (impl.closed) {
        return Error::make(Errc::InvalidArgument, "the writer is closed");
    }
    PoolGeneration& current = *impl.generation;
    PoolMapping& pool = current.pool;
    if (frame.generation_ != pool.generation()) {
        // Not frame.release(): it takes the mutex we hold. A slot of a replaced pool has
        // nothing to give back anyway.
        frame.data_ = nullptr;
        frame.writer_.reset();
        frame.pool_.reset();
        return Error::make(Errc::InvalidArgument,
                           "the frame was loaned from a pool replaced by reconfigure(); loan a "
                           "new one");
    }
    const std::uint32_t slot = frame.slot_;
    const std::uint64_t sequence = ++impl.sequence;
    const std::uint64_t now = monotonicNs();
    layout::SlotHeader& header = pool.slot(slot);
    header.pts.store(meta.pts, std::memory_order_relaxed);
    header.dts.store(meta.dts, std::memory_order_relaxed);
    header.duration.store(meta.duration, std::memory_order_relaxed);
    header.flags.store(meta.flags, std::memory_order_relaxed);
    header.publishTimeNs.store(now, std::memory_order_relaxed);
    header.userMetaLength.store(frame.userMetaLength_, std::memory_order_relaxed);
    header.sequence.store(sequence, std::memory_order_release);

    layout::PoolHeader& poolHeader = pool.header();
    if (poolHeader.eos.load(std::memory_order_relaxed) != 0) {
        poolHeader.eos.store(0, std::memory_order_relaxed);  // a new stream starts
    }
    // `latest` shares its cache line with these counters and spinning readers poll it:
    // storing it last moves the line to them once, not back and forth.
    poolHeader.published.store(++impl.stats.published, std::memory_order_relaxed);
    poolHeader.lastPublishNs.store(now, std::memory_order_relaxed);
    poolHeader.latest.store(layout::packLatest(sequence, slot), std::memory_order_seq_cst);
    if (retention == Retention::ReturnSlot) {
        current.slots.giveBack(slot);
        frame.data_ = nullptr;  // published: nothing to give back
        frame.writer_.reset();
        frame.pool_.reset();
    }
    impl.wakeReaders(ReaderConnection::WakeWhen::Asked);
    return {};
}

Result<void> Writer::publish(LoanedFrame&& frame, const FrameMeta& meta) {
    return publishFrame(frame, meta, Retention::ReturnSlot);
}

Result<RetainedFrame> Writer::publishRetained(LoanedFrame&& frame, const FrameMeta& meta) {
    if (auto published = publishFrame(frame, meta, Retention::KeepSlot); !published) {
        return std::move(published).error();
    }
    RetainedFrame retained;
    retained.loan_ = std::move(frame);
    return retained;
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
            return Error::make(Errc::InvalidArgument, "the writer is closed");
        }
        if (format == impl.generation->pool.format()) {
            return {};
        }
        number = impl.generation->pool.generation() + 1;
    }
    // Building (and pre-faulting) the new pool may take a while: not under the lock.
    auto next = impl.createGeneration(format, number);
    if (!next) {
        return std::move(next).error();
    }
    std::vector<ReaderEvent> events;
    {
        std::lock_guard lock(impl.mutex);
        auto retired = impl.generation;
        PoolMapping& pool = (*next)->pool;
        pool.header().readers.store(static_cast<std::uint32_t>(impl.readers.size()));
        pool.header().published.store(impl.stats.published);
        impl.generation = *next;
        impl.stats.generation = number;
        protocol::NewPool message{pool.geometry().poolSize, number, 0};
        const auto packet =
            protocol::encode(protocol::MessageType::NewPool, &message, sizeof(message), 1);
        const int fds[] = {pool.readOnlyFd()};
        std::vector<std::uint32_t> unreachable;
        for (const auto& reader : impl.readers) {
            if (!reader->send(packet, fds)) {
                unreachable.push_back(reader->id());
            }
        }
        for (const auto id : unreachable) {
            ++impl.stats.readersDropped;
            impl.removeReader(id, ReaderEvent::Kind::Dropped,
                              "its socket is full; it does not read its messages", events);
        }
        // Readers see the flag only after the message is queued on their socket.
        retired->pool.header().state.fetch_or(layout::kPoolRetired, std::memory_order_seq_cst);
        impl.wakeReaders(ReaderConnection::WakeWhen::Always);
        log(LogLevel::Info, "feed '" + impl.paths.name + "': format is now " + format.describe() +
                                " (pool generation " + std::to_string(number) + ")");
    }
    impl.emit(events);
    return {};
}

Result<void> Writer::endOfStream() {
    if (!impl_) {
        return Error::make(Errc::InvalidArgument, "endOfStream() on a moved-from Writer");
    }
    std::lock_guard lock(impl_->mutex);
    if (impl_->closed) {
        return Error::make(Errc::InvalidArgument, "the writer is closed");
    }
    impl_->generation->pool.header().eos.store(layout::kEosFlag | impl_->sequence,
                                               std::memory_order_seq_cst);
    impl_->wakeReaders(ReaderConnection::WakeWhen::Always);
    return {};
}

void Writer::close() {
    if (impl_) {
        impl_->shutdown();
    }
}

Format Writer::format() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->generation->pool.format();
}

const std::string& Writer::feedName() const {
    return impl_->paths.name;
}
const std::string& Writer::socketPath() const {
    return impl_->paths.socket;
}

WriterStats Writer::stats() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->stats;
}

}  // namespace shmframe
