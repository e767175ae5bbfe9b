// SPDX-License-Identifier: LGPL-2.1-or-later
// The reader: maps the writer's pool read-only, takes frames by lease (no syscall per
// frame while frames keep coming), sleeps on one epoll fd, and finds the writer again
// after it goes (watching the feed dir with inotify, no polling loop).
#include "shmframe/reader.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include "dir_watch.h"
#include "feed_paths.h"
#include "futex.h"
#include "pool_layout.h"
#include "protocol.h"
#include "reader_link.h"
#include "shmframe/log.h"
#include "slot_lease.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SHMFRAME_CPU_RELAX() _mm_pause()
#else
#define SHMFRAME_CPU_RELAX() std::atomic_signal_fence(std::memory_order_seq_cst)
#endif

namespace shmframe {
namespace {

constexpr std::uint64_t kWakeTag = 1;
constexpr std::uint64_t kSocketTag = 2;
constexpr std::uint64_t kDirWatchTag = 3;
constexpr std::uint64_t kSelfWakeTag = 4;
constexpr std::uint64_t kRetryTimerTag = 5;
constexpr std::uint64_t kSpinEventCheckNs = 200'000;  // spin mode looks at the socket this often
constexpr std::uint64_t kRetryWithoutWatchNs = 250'000'000;
constexpr std::uint64_t kRetryFailedWriterNs = 1'000'000'000;  // a writer that failed us
constexpr int kAcquireAttempts = 16;

void signalEventFd(int fd) {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto written = ::write(fd, &one, sizeof(one));
}

void drainPipe(int fd) {
    char buffer[256];
    while (::read(fd, buffer, sizeof(buffer)) == static_cast<ssize_t>(sizeof(buffer))) {
    }
}

}  // namespace

std::string_view toString(ReadMode mode) {
    return mode == ReadMode::Sequential ? "sequential" : "latest";
}

std::optional<ReadMode> readModeFromString(std::string_view name) {
    if (name == "latest") {
        return ReadMode::Latest;
    }
    if (name == "sequential") {
        return ReadMode::Sequential;
    }
    return std::nullopt;
}

std::string_view toString(ReaderState state) {
    switch (state) {
        case ReaderState::Connected:
            return "connected";
        case ReaderState::WaitingForWriter:
            return "waiting for writer";
        case ReaderState::EndOfStream:
            return "end of stream";
    }
    return "unknown";
}

// --- Reader ----------------------------------------------------------------------

struct Reader::Impl {
    Impl(FeedPaths feedPaths, ReaderOptions readerOptions, DirWatch dirWatch)
        : paths(std::move(feedPaths)),
          options(std::move(readerOptions)),
          watch(std::move(dirWatch)) {}

    FeedPaths paths;
    ReaderOptions options;
    UniqueFd epollFd;
    UniqueFd selfWakeFd;  // makes fd() readable when we know there is news
    DirWatch watch;       // armed while no writer is there
    // When to try connecting again although the feed dir said nothing (a writer that
    // failed us, no dir to watch). The timer makes fd() readable then, so that readers
    // driven by an event loop retry too, not only those blocked in next().
    std::uint64_t nextRetryNs = 0;
    UniqueFd retryTimer;
    bool connectDue = true;

    UniqueFd socket;
    std::shared_ptr<ReaderControl> control;
    std::shared_ptr<const ReaderPool> pool;
    std::shared_ptr<const ReaderPool> pendingPool;  // newer generation, taken once drained
    std::optional<WriterInfo> writer;
    std::optional<Format> lastFormat;
    bool everConnected = false;

    std::uint64_t lastSequence = 0;
    std::uint64_t lastEosReported = 0;
    ReaderState state = ReaderState::WaitingForWriter;
    ReaderStats stats;
    std::shared_ptr<std::atomic<std::uint64_t>> revoked =
        std::make_shared<std::atomic<std::uint64_t>>(0);

    Result<void> connect();
    void disconnect();
    void startWatching();
    void stopWatching();
    bool feedDirChanged();
    void retryIn(std::uint64_t delayNs);

    // One look at everything; returns a frame, an event (as Error), or WouldBlock.
    enum class Events { Check, Skip };
    Result<Frame> step(Events look);
    Result<Frame> deliver();
    Result<Frame> handleEvents(const epoll_event* events, int count, bool retired);
    std::atomic<bool> interruptRequested{false};
    std::optional<Frame> takeFrame(Result<void>& failure);
    Result<Frame> handleSocket();
    bool hasNews() const;
    void epollAdd(int fd, std::uint64_t tag);
};

void Reader::Impl::epollAdd(int fd, std::uint64_t tag) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = tag;
    ::epoll_ctl(epollFd.get(), EPOLL_CTL_ADD, fd, &event);
}

Result<void> Reader::Impl::connect() {
    const auto mode = options.mode == ReadMode::Sequential ? ReaderLink::Mode::Sequential
                                                           : ReaderLink::Mode::Latest;
    auto link = ReaderLink::connect(paths, mode, options.clientName, revoked, options);
    if (!link) {
        return std::move(link).error();
    }
    stopWatching();
    socket = std::move(link->socket);
    control = std::move(link->control);
    pool = std::move(link->pool);
    pendingPool.reset();
    epollAdd(socket.get(), kSocketTag);
    epollAdd(control->wake.get(), kWakeTag);

    const layout::PoolDescription& description = pool->pool.description();
    // Start where the writer admitted us: it wrote that into our control block before
    // its Welcome. Not `latest` now: frames published since belong to us (reading
    // `latest` here lost every frame but the newest of those to a sequential reader).
    // Never past what the writer has published, whatever its block says.
    const std::uint64_t latest =
        layout::latestSequence(pool->pool.header().latest.load(std::memory_order_seq_cst));
    const std::uint64_t admitted = control->block->consumed.load(std::memory_order_seq_cst);
    lastSequence = latest != 0 ? std::min(admitted, latest) : admitted;
    lastEosReported = 0;
    state = ReaderState::Connected;
    writer = WriterInfo{static_cast<pid_t>(description.writerPid),
                        description.writerSession,
                        description.generation,
                        static_cast<WriterPolicy>(description.policy),
                        description.geometry.slotCount,
                        control->leaseCount,
                        0,
                        0};
    if (everConnected) {
        ++stats.reconnects;
    }
    if (!lastFormat || *lastFormat != description.format) {
        if (lastFormat) {
            ++stats.formatChanges;
        }
        lastFormat = description.format;
    }
    everConnected = true;
    log(LogLevel::Info, "feed '" + paths.name + "': connected to writer pid " +
                            std::to_string(description.writerPid) + ", " +
                            description.format.describe());
    return {};
}

void Reader::Impl::disconnect() {
    if (socket) {
        ::epoll_ctl(epollFd.get(), EPOLL_CTL_DEL, socket.get(), nullptr);
    }
    if (control && control->wake) {
        ::epoll_ctl(epollFd.get(), EPOLL_CTL_DEL, control->wake.get(), nullptr);
    }
    socket.reset();
    control.reset();  // frames still out keep their pool and control block mapped
    pool.reset();
    pendingPool.reset();
    writer.reset();
    state = ReaderState::WaitingForWriter;
    connectDue = true;
    if (options.reconnect) {
        startWatching();
    }
}

void Reader::Impl::startWatching() {
    if (!watch.arm()) {
        retryIn(kRetryWithoutWatchNs);  // no dir yet: look again later
    }
}

void Reader::Impl::retryIn(std::uint64_t delayNs) {
    nextRetryNs = monotonicNs() + delayNs;
    itimerspec due{};
    due.it_value.tv_sec = static_cast<time_t>(delayNs / 1'000'000'000);
    due.it_value.tv_nsec = static_cast<long>(delayNs % 1'000'000'000);
    ::timerfd_settime(retryTimer.get(), 0, &due, nullptr);
}

void Reader::Impl::stopWatching() {
    watch.disarm();
}

// Returns true when something may have happened to our socket.
bool Reader::Impl::feedDirChanged() {
    const DirWatch::Drained drained = watch.drain(paths.socketFile);
    if (drained.lost) {
        retryIn(kRetryWithoutWatchNs);  // the dir went: a slow retry
    }
    return drained.relevant;
}

std::optional<Frame> Reader::Impl::takeFrame(Result<void>& failure) {
    const PickOrder order =
        options.mode == ReadMode::Sequential ? PickOrder::Oldest : PickOrder::Newest;
    for (int attempt = 0; attempt < kAcquireAttempts; ++attempt) {
        auto pick = pickFrame(pool->pool, order, lastSequence);
        if (!pick || !*pick) {
            failure = pick ? Result<void>() : Result<void>(std::move(pick).error());
            return std::nullopt;
        }
        auto taken = takeSlot(*pool, **pick);
        if (!taken) {
            continue;  // the writer reused that slot meanwhile
        }
        const std::uint64_t sequence = taken->meta.sequence;
        Frame frame;
        frame.meta_ = taken->meta;
        frame.data_ = taken->data;
        frame.userMeta_ = taken->userMeta;
        frame.userMetaLength_ = taken->userMetaLength;
        frame.leaseWord_ = taken->leaseWord;
        if (taken->copy) {
            frame.copy_ = std::move(taken->copy);
            ++stats.copies;
        }
        frame.keepAlive_ = pool;
        frame.format_ = &pool->pool.format();
        frame.size_ = frame.format_->frameSize;
        frame.session_ = pool->pool.session();
        frame.generation_ = pool->pool.generation();

        const std::uint64_t missed = sequence - lastSequence - 1;
        (order == PickOrder::Oldest ? stats.gaps : stats.skipped) += missed;
        control->noteDelivered(sequence, missed);
        lastSequence = sequence;
        ++stats.received;
        state = ReaderState::Connected;
        if (order == PickOrder::Oldest) {
            const layout::PoolHeader& header = pool->pool.header();
            control->block->consumed.store(sequence, std::memory_order_seq_cst);
            if (header.writerWaiting.load(std::memory_order_seq_cst) != 0) {
                futex::wakeAll(header.writerWaiting);
            }
        }
        return frame;
    }
    return std::nullopt;
}

bool Reader::Impl::hasNews() const {
    if (!pool) {
        return false;
    }
    const auto& header = pool->pool.header();
    const std::uint64_t newest =
        layout::latestSequence(header.latest.load(std::memory_order_seq_cst));
    const std::uint64_t eos = header.eos.load(std::memory_order_seq_cst);
    return newest > lastSequence || (eos != 0 && eos != lastEosReported);
}

Result<Frame> Reader::Impl::handleSocket() {
    for (;;) {
        auto message = protocol::receive(socket.get());
        if (!message) {
            const Error error = std::move(message).error();
            if (error.code == Errc::WouldBlock) {
                return error;
            }
            if (error.code == Errc::WriterGone) {
                // The writer's last frames and its end of stream came before its hang-up,
                // but we may see the hang-up first (woken by both, or the pool looked at
                // just before the writer's last publish): the pool, frozen now, goes
                // first. The hang-up stays readable for the call after.
                if (auto last = deliver(); last || last.error().code != Errc::WouldBlock) {
                    return last;
                }
            }
            disconnect();
            ++stats.writerGone;
            if (error.code == Errc::WriterGone) {
                return Error::make(Errc::WriterGone,
                                   "the writer of feed '" + paths.name + "' is gone" +
                                       (options.reconnect ? "; waiting for it to come back" : ""));
            }
            log(LogLevel::Warning, "feed '" + paths.name + "': " + error.message);
            return error;
        }
        if (message->type == protocol::MessageType::NewPool) {
            auto next = mapNewPool(*message, *pool);
            if (!next) {
                disconnect();
                ++stats.writerGone;
                return std::move(next).error();
            }
            pendingPool = std::move(*next);
            continue;
        }
        if (message->type == protocol::MessageType::Goodbye) {
            const auto& goodbye = std::get<protocol::Goodbye>(message->payload);
            disconnect();
            ++stats.writerGone;
            return Error::make(
                Errc::Dropped,
                "the writer dropped us: " + protocol::textOf(goodbye.text, sizeof(goodbye.text)));
        }
        disconnect();
        ++stats.writerGone;
        return Error::make(Errc::BadMessage, "the writer sent an unexpected message");
    }
}

Result<Frame> Reader::Impl::step(Events look) {
    if (!pool) {
        // Waiting for a writer: try when the feed dir says something happened.
        const bool changed = feedDirChanged();
        std::uint64_t expirations = 0;
        [[maybe_unused]] auto drained = ::read(retryTimer.get(), &expirations, sizeof(expirations));
        if (!options.reconnect && everConnected) {
            return Error::make(Errc::NoWriter, "no writer for feed '" + paths.name + "'");
        }
        const bool retryDue = nextRetryNs != 0 && monotonicNs() >= nextRetryNs;
        if (!changed && !connectDue && !retryDue) {
            return Error::make(Errc::WouldBlock, "waiting for a writer");
        }
        connectDue = false;
        nextRetryNs = 0;
        if (auto connected = connect(); !connected) {
            startWatching();
            // The feed dir tells us when a socket appears. Without a watch, or when a
            // socket is there but its writer failed us (hung up in the handshake, did
            // not answer), nothing will: look again a little later.
            struct stat socketInfo {};
            if (!watch.armed()) {
                retryIn(kRetryWithoutWatchNs);
            } else if (::stat(paths.socket.c_str(), &socketInfo) == 0) {
                retryIn(kRetryFailedWriterNs);
            }
            if (connected.error().code == Errc::NoWriter) {
                return Error::make(Errc::WouldBlock, "waiting for a writer");
            }
            return std::move(connected).error();  // a broken writer: say so, keep waiting
        }
    }
    if (auto delivered = deliver(); delivered || delivered.error().code != Errc::WouldBlock) {
        return delivered;
    }
    const bool retired =
        (pool->pool.header().state.load(std::memory_order_acquire) & layout::kPoolRetired) != 0;
    if (look == Events::Check || retired) {
        epoll_event events[4];
        const int count = ::epoll_wait(epollFd.get(), events, 4, 0);
        return handleEvents(events, count > 0 ? count : 0, retired);
    }
    return Error::make(Errc::WouldBlock, "no new frame");
}

// What the pool has for us: the next frame, else the end of stream once every frame
// before it was delivered, else WouldBlock.
Result<Frame> Reader::Impl::deliver() {
    for (;;) {
        // Move to a newer pool once this one has nothing more for us.
        Result<void> failure;
        auto frame = takeFrame(failure);
        if (frame) {
            return std::move(*frame);
        }
        if (!failure) {
            const Error error = failure.error();
            log(LogLevel::Warning, "feed '" + paths.name + "': " + error.message);
            disconnect();
            ++stats.writerGone;
            return error;
        }
        if (pendingPool) {
            pool = std::move(pendingPool);
            ++stats.formatChanges;
            lastFormat = pool->pool.format();
            if (writer) {
                writer->generation = pool->pool.generation();
            }
            continue;
        }
        break;
    }
    const std::uint64_t eos = pool->pool.header().eos.load(std::memory_order_acquire);
    if ((eos & layout::kEosFlag) && (eos & ~layout::kEosFlag) <= lastSequence &&
        eos != lastEosReported) {
        lastEosReported = eos;
        state = ReaderState::EndOfStream;
        ++stats.endOfStreams;
        return Error::make(Errc::EndOfStream, "end of stream on feed '" + paths.name + "'");
    }
    return Error::make(Errc::WouldBlock, "no new frame");
}

Result<Frame> Reader::Impl::handleEvents(const epoll_event* events, int count, bool retired) {
    bool socketReady = retired;
    for (int i = 0; i < count; ++i) {
        switch (events[i].data.u64) {
            case kWakeTag:
                if (control) {
                    drainPipe(control->wake.get());
                }
                break;
            case kSocketTag:
                socketReady = true;
                break;
            case kDirWatchTag:
                if (feedDirChanged()) {
                    connectDue = true;  // our socket (re)appeared: step() connects
                }
                break;
            case kRetryTimerTag: {
                std::uint64_t expirations;
                [[maybe_unused]] auto got =
                    ::read(retryTimer.get(), &expirations, sizeof(expirations));
                connectDue = !pool;  // step() connects
                break;
            }
            case kSelfWakeTag: {
                std::uint64_t value;
                [[maybe_unused]] auto got = ::read(selfWakeFd.get(), &value, sizeof(value));
                if (interruptRequested.exchange(false)) {
                    return Error::make(Errc::Interrupted, "interrupted");
                }
                break;
            }
            default:
                break;
        }
    }
    if (socketReady && socket) {
        auto outcome = handleSocket();
        if (outcome || outcome.error().code != Errc::WouldBlock) {
            return outcome;
        }
        if (pendingPool) {
            return step(Events::Skip);
        }
    }
    return Error::make(Errc::WouldBlock, "no new frame");
}

Reader::Reader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Reader::Reader(Reader&&) noexcept = default;
Reader& Reader::operator=(Reader&&) noexcept = default;
Reader::~Reader() = default;

Result<Reader> Reader::open(std::string_view feed, ReaderOptions options) {
    auto paths = resolveFeed(feed, options.waitForWriter ? FeedDir::Create : FeedDir::DoNotCreate);
    if (!paths) {
        return std::move(paths).error();
    }
    auto watch = DirWatch::create(paths->dir, DirWatch::Changes::Arrivals);
    if (!watch) {
        return std::move(watch).error();
    }
    auto impl = std::make_unique<Impl>(std::move(*paths), std::move(options), std::move(*watch));
    impl->epollFd = UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
    impl->selfWakeFd = UniqueFd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    impl->retryTimer = UniqueFd(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    if (!impl->epollFd || !impl->selfWakeFd || !impl->retryTimer) {
        return Error::fromErrno("creating the reader's epoll, event and timer fds", errno);
    }
    impl->epollAdd(impl->watch.fd(), kDirWatchTag);
    impl->epollAdd(impl->selfWakeFd.get(), kSelfWakeTag);
    impl->epollAdd(impl->retryTimer.get(), kRetryTimerTag);
    // Watch before the first attempt, so that a writer appearing in between is not missed.
    if (impl->options.waitForWriter) {
        impl->startWatching();
    }
    impl->connectDue = false;
    if (auto connected = impl->connect(); !connected) {
        if (!impl->options.waitForWriter || connected.error().code != Errc::NoWriter) {
            return std::move(connected).error();
        }
    }
    return Reader(std::move(impl));
}

Result<Frame> Reader::next(std::chrono::nanoseconds timeout) {
    if (!impl_) {
        return Error::make(Errc::InvalidArgument, "next() on a moved-from Reader");
    }
    Impl& impl = *impl_;
    const std::uint64_t start = monotonicNs();
    const std::uint64_t deadline =
        timeout.count() <= 0 ? start : start + static_cast<std::uint64_t>(timeout.count());
    const bool spin = impl.options.wait == WaitMode::Spin;
    std::uint64_t lastEventCheck = start;
    int busyRetries = 0;
    // A blocking call needs no look at the events first: epoll_wait below returns at
    // once if any is pending. That keeps a sleeping reader at two syscalls per frame
    // (epoll_wait, and the read that empties the wake-up pipe).
    bool checkEvents = timeout.count() <= 0;
    for (;;) {
        const std::uint64_t now = monotonicNs();
        if (spin && now - lastEventCheck >= kSpinEventCheckNs) {
            checkEvents = true;
        }
        if (checkEvents) {
            lastEventCheck = now;
        }
        auto outcome =
            impl.step(checkEvents || !impl.pool ? Impl::Events::Check : Impl::Events::Skip);
        checkEvents = false;
        if (outcome || outcome.error().code != Errc::WouldBlock) {
            return outcome;
        }
        if (now >= deadline) {
            // Ask the writer to wake our fd; if news slipped in meanwhile, make the fd
            // readable ourselves so an event loop comes straight back.
            if (impl.control) {
                impl.control->block->wantWake.store(1, std::memory_order_seq_cst);
                if (impl.hasNews()) {
                    signalEventFd(impl.selfWakeFd.get());
                }
            }
            return timeout.count() <= 0 ? Error::make(Errc::WouldBlock, "no new frame")
                                        : Error::make(Errc::Timeout, "no frame within the timeout");
        }
        if (spin && impl.pool) {
            SHMFRAME_CPU_RELAX();
            continue;
        }
        // Sleep: ask the writer to wake us, then look once more before sleeping. A
        // writer whose header keeps promising news that step() cannot take does not
        // get to make us spin: after a few tries we sleep a little anyway.
        std::uint64_t waitNs = deadline - now;
        if (impl.control) {
            impl.control->block->wantWake.store(1, std::memory_order_seq_cst);
            if (impl.hasNews()) {
                impl.control->block->wantWake.store(0, std::memory_order_relaxed);
                if (++busyRetries < 4) {
                    continue;
                }
                waitNs = std::min<std::uint64_t>(waitNs, 1'000'000);
            }
        }
        if (!impl.pool && impl.nextRetryNs != 0) {
            waitNs = std::min<std::uint64_t>(waitNs,
                                             impl.nextRetryNs > now ? impl.nextRetryNs - now : 0);
        }
        epoll_event events[4];
        const int waitMs =
            static_cast<int>(std::min<std::uint64_t>(waitNs / 1'000'000 + 1, INT32_MAX));
        const int count = ::epoll_wait(impl.epollFd.get(), events, 4, waitMs);
        if (count > 0) {
            auto happened = impl.handleEvents(events, count, false);
            if (happened || happened.error().code != Errc::WouldBlock) {
                return happened;
            }
        }
    }
}

void Reader::interrupt() {
    if (impl_) {
        impl_->interruptRequested = true;
        signalEventFd(impl_->selfWakeFd.get());
    }
}

int Reader::fd() const {
    return impl_ ? impl_->epollFd.get() : -1;
}
ReaderState Reader::state() const {
    return impl_->state;
}

std::optional<Format> Reader::format() const {
    if (!impl_->pool) {
        return std::nullopt;
    }
    return impl_->pool->pool.format();
}

ReaderStats Reader::stats() const {
    ReaderStats stats = impl_->stats;
    stats.revoked = impl_->revoked->load(std::memory_order_relaxed);
    return stats;
}

std::optional<WriterInfo> Reader::writer() const {
    if (!impl_->writer || !impl_->pool) {
        return std::nullopt;
    }
    WriterInfo info = *impl_->writer;
    const layout::PoolHeader& header = impl_->pool->pool.header();
    info.published = header.published.load(std::memory_order_relaxed);
    info.readers = header.readers.load(std::memory_order_relaxed);
    return info;
}

const std::string& Reader::feedName() const {
    return impl_->paths.name;
}
const std::string& Reader::socketPath() const {
    return impl_->paths.socket;
}
const std::string& Reader::directory() const {
    return impl_->paths.dir;
}

}  // namespace shmframe
