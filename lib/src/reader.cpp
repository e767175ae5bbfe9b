// SPDX-License-Identifier: LGPL-2.1-or-later
// The reader: maps the writer's pool read-only, takes frames by lease (no syscall per
// frame while frames keep coming), sleeps on one epoll fd, and finds the writer again
// after it goes (watching the feed dir with inotify, no polling loop).
#include "shmframe/reader.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include "feed_paths.h"
#include "futex.h"
#include "mapping.h"
#include "memfd.h"
#include "pool_layout.h"
#include "protocol.h"
#include "shmframe/feed.h"
#include "shmframe/log.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SHMFRAME_CPU_RELAX() _mm_pause()
#else
#define SHMFRAME_CPU_RELAX() std::atomic_signal_fence(std::memory_order_seq_cst)
#endif

namespace shmframe {
namespace {

constexpr int kHandshakeTimeoutMs = 2000;
constexpr std::uint64_t kWakeTag = 1;
constexpr std::uint64_t kSocketTag = 2;
constexpr std::uint64_t kInotifyTag = 3;
constexpr std::uint64_t kSelfWakeTag = 4;
constexpr std::uint64_t kSpinEventCheckNs = 200'000;  // spin mode looks at the socket this often
constexpr std::uint64_t kRetryWithoutWatchNs = 250'000'000;
constexpr std::uint64_t kRetryFailedWriterNs = 1'000'000'000;  // a writer that failed us
constexpr int kAcquireAttempts = 16;

// Everything of one connection that frames must outlive: the control block (their
// lease words live there) and the wake-up channel.
struct ControlView {
    UniqueFd fd;
    Mapping mapping;
    layout::ControlBlock* block = nullptr;
    std::uint32_t leaseCount = 0;
    UniqueFd wake;
    std::shared_ptr<std::atomic<std::uint64_t>> revoked;
};

// One pool generation mapped read-only, with its validated description.
struct PoolView {
    Mapping mapping;
    layout::PoolDescription description;
    std::shared_ptr<ControlView> control;

    const layout::PoolHeader& header() const { return layout::header(mapping.data()); }
    const layout::SlotHeader& slot(std::uint32_t i) const {
        return layout::slotHeader(mapping.data(), description.geometry, i);
    }
    const std::byte* frame(std::uint32_t i) const {
        const auto& g = description.geometry;
        return mapping.data() + g.slotDataOffset + i * g.slotDataStride;
    }
    const std::byte* userMeta(std::uint32_t i) const {
        const auto& g = description.geometry;
        return mapping.data() + g.userMetaOffset + i * g.userMetaStride;
    }
    std::uint32_t slotCount() const { return description.geometry.slotCount; }
};

Result<std::shared_ptr<PoolView>> mapPool(UniqueFd fd, std::uint64_t poolSize,
                                          std::shared_ptr<ControlView> control) {
    if (auto sealed = memfd::checkSealed(fd.get(), poolSize, "pool"); !sealed) {
        return std::move(sealed).error();
    }
    auto mapping = Mapping::map(fd.get(), poolSize, Mapping::Access::ReadOnly);
    if (!mapping) {
        return std::move(mapping).error();
    }
    auto view = std::make_shared<PoolView>();
    auto description = layout::readHeader(mapping->data(), mapping->size());
    if (!description) {
        return std::move(description).error();
    }
    view->mapping = std::move(*mapping);
    view->description = std::move(*description);
    view->control = std::move(control);
    return view;
}

Error refusedError(const protocol::Goodbye& refused) {
    const std::string text = protocol::textOf(refused.text, sizeof(refused.text));
    switch (static_cast<protocol::Reason>(refused.reason)) {
        case protocol::Reason::AccessDenied:
            return Error::make(Errc::PermissionDenied, "the writer refused us: " + text);
        case protocol::Reason::VersionMismatch:
            return Error::make(Errc::ProtocolMismatch, "the writer refused us: " + text);
        default:
            return Error::make(Errc::Dropped, "the writer refused us: " + text);
    }
}

// Sends Hello and waits for the answer (Welcome or Refused).
Result<protocol::Message> handshake(int socket, std::uint32_t flags,
                                    const std::string& clientName) {
    protocol::Hello hello{};
    hello.flags = flags;
    hello.pid = static_cast<std::uint32_t>(::getpid());
    protocol::copyText(hello.clientName, sizeof(hello.clientName), clientName);
    const auto packet = protocol::encode(protocol::MessageType::Hello, &hello, sizeof(hello), 0);
    if (auto sent = protocol::send(socket, packet, {}); !sent) {
        return Error::make(Errc::NoWriter,
                           "the writer did not take our Hello: " + sent.error().message);
    }
    if (auto ready = protocol::waitReadable(socket, kHandshakeTimeoutMs); !ready) {
        return Error::make(Errc::Timeout, "the writer did not answer our Hello within " +
                                              std::to_string(kHandshakeTimeoutMs) + " ms");
    }
    auto message = protocol::receive(socket, (flags & protocol::kHelloProbe) != 0);
    if (!message) {
        if (message.error().code == Errc::WriterGone) {
            return Error::make(Errc::NoWriter, "the writer hung up during the handshake");
        }
        return std::move(message).error();
    }
    if (message->type == protocol::MessageType::Refused) {
        return refusedError(std::get<protocol::Goodbye>(message->payload));
    }
    if (message->type != protocol::MessageType::Welcome) {
        return Error::make(Errc::BadMessage, "the writer answered Hello with message type " +
                                                 std::to_string(int(message->type)));
    }
    return message;
}

void signalEventFd(int fd) {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto written = ::write(fd, &one, sizeof(one));
}

// The wake-up fd must be the read end of a pipe; we make our end non-blocking.
bool isPipeReadEnd(int fd) {
    struct stat info {};
    const int flags = ::fcntl(fd, F_GETFL);
    return ::fstat(fd, &info) == 0 && S_ISFIFO(info.st_mode) && flags >= 0 &&
           (flags & O_ACCMODE) == O_RDONLY && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
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

// --- Frame -----------------------------------------------------------------------

Frame::Frame(Frame&& other) noexcept {
    *this = std::move(other);
}

Frame& Frame::operator=(Frame&& other) noexcept {
    if (this != &other) {
        release();
        keepAlive_ = std::move(other.keepAlive_);
        copy_ = std::move(other.copy_);
        format_ = std::exchange(other.format_, nullptr);
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
        userMeta_ = std::exchange(other.userMeta_, nullptr);
        userMetaLength_ = std::exchange(other.userMetaLength_, 0);
        meta_ = other.meta_;
        leaseWord_ = std::exchange(other.leaseWord_, nullptr);
        session_ = other.session_;
        generation_ = other.generation_;
    }
    return *this;
}

Frame::~Frame() {
    release();
}

std::span<const std::byte> Frame::plane(std::uint32_t index) const {
    if (!data_ || index >= format_->planeCount) {
        return {};
    }
    const Plane& plane = format_->planes[index];
    return {data_ + plane.offset, static_cast<std::size_t>(plane.size)};
}

bool Frame::leaseIntact() const {
    if (!leaseWord_) {
        return data_ != nullptr;
    }
    return static_cast<std::atomic<std::uint64_t>*>(leaseWord_)->load(std::memory_order_seq_cst) ==
           meta_.sequence;
}

void Frame::release() noexcept {
    if (leaseWord_) {
        auto* word = static_cast<std::atomic<std::uint64_t>*>(leaseWord_);
        const std::uint64_t held = word->exchange(0, std::memory_order_release);
        auto* pool = static_cast<PoolView*>(keepAlive_.get());
        if (held & layout::kLeaseRevoked) {
            pool->control->revoked->fetch_add(1, std::memory_order_relaxed);
        }
        // A lossless writer may be waiting for this slot.
        if (pool->header().writerWaiting.load(std::memory_order_seq_cst) != 0) {
            futex::wakeAll(pool->header().writerWaiting);
        }
        leaseWord_ = nullptr;
    }
    keepAlive_.reset();
    copy_.reset();
    data_ = nullptr;
    userMeta_ = nullptr;
    format_ = nullptr;
}

// --- Reader ----------------------------------------------------------------------

struct Reader::Impl {
    FeedPaths paths;
    ReaderOptions options;
    UniqueFd epollFd;
    UniqueFd inotifyFd;
    UniqueFd selfWakeFd;  // makes fd() readable when we know there is news
    int watch = -1;
    std::uint64_t nextRetryNs = 0;
    bool connectDue = true;

    UniqueFd socket;
    std::shared_ptr<ControlView> control;
    std::shared_ptr<PoolView> pool;
    std::shared_ptr<PoolView> pendingPool;  // newer generation, taken once the old one is drained
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
    Result<void> startWatching();
    void stopWatching();
    bool drainInotify();

    // One look at everything; returns a frame, an event (as Error), or WouldBlock.
    Result<Frame> step(bool checkEvents);
    Result<Frame> handleEvents(const epoll_event* events, int count, bool retired);
    std::atomic<bool> interruptRequested{false};
    std::optional<Frame> takeFrame(Result<void>& failure);
    std::optional<Frame> acquire(std::uint32_t slot, std::uint64_t sequence);
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
    auto sock = connectToWriter(paths);
    if (!sock) {
        if (sock.error().code == Errc::NoWriter) {
            removeIfStale(paths);  // a writer killed without cleaning up leaves its socket
        }
        return std::move(sock).error();
    }
    std::uint32_t flags =
        options.mode == ReadMode::Sequential ? std::uint32_t{protocol::kHelloSequential} : 0u;
    flags |= (std::min(options.leases, layout::kMaxLeases) << protocol::kHelloLeaseShift) &
             protocol::kHelloLeaseMask;
    auto welcomeMessage = handshake(sock->get(), flags, options.clientName);
    if (!welcomeMessage) {
        return std::move(welcomeMessage).error();
    }
    const auto welcome = std::get<protocol::Welcome>(welcomeMessage->payload);
    auto& fds = welcomeMessage->fds;

    auto view = std::make_shared<ControlView>();
    view->revoked = revoked;
    if (welcome.controlSize != layout::kControlBlockSize) {
        return Error::make(Errc::BadMessage,
                           "Welcome field 'controlSize' is " + std::to_string(welcome.controlSize) +
                               ", expected " + std::to_string(layout::kControlBlockSize));
    }
    if (auto sealed = memfd::checkSealed(fds[1].get(), welcome.controlSize, "control block");
        !sealed) {
        return std::move(sealed).error();
    }
    auto mapping = Mapping::map(fds[1].get(), welcome.controlSize, Mapping::Access::ReadWrite);
    if (!mapping) {
        return std::move(mapping).error();
    }
    auto leaseCount = layout::readControlBlock(mapping->data(), mapping->size());
    if (!leaseCount) {
        return std::move(leaseCount).error();
    }
    if (!isPipeReadEnd(fds[2].get())) {
        return Error::make(Errc::BadMessage,
                           "the writer's wake-up fd is not the read end of a pipe");
    }
    view->fd = std::move(fds[1]);
    view->mapping = std::move(*mapping);
    view->block = reinterpret_cast<layout::ControlBlock*>(view->mapping.data());
    view->leaseCount = *leaseCount;
    view->wake = std::move(fds[2]);

    auto poolView = mapPool(std::move(fds[0]), welcome.poolSize, view);
    if (!poolView) {
        return std::move(poolView).error();
    }
    const auto& description = (*poolView)->description;
    if (description.writerSession != welcome.writerSession ||
        description.generation != welcome.generation) {
        return Error::make(Errc::BadPool,
                           "pool header fields 'writerSession'/'generation' do not "
                           "match the Welcome message");
    }

    stopWatching();
    socket = std::move(*sock);
    control = std::move(view);
    pool = std::move(*poolView);
    pendingPool.reset();
    epollAdd(socket.get(), kSocketTag);
    epollAdd(control->wake.get(), kWakeTag);

    const std::uint64_t latest = layout::latestSequence(pool->header().latest.load());
    lastSequence = latest ? latest - 1 : 0;
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
        [[maybe_unused]] auto watching = startWatching();
    }
}

Result<void> Reader::Impl::startWatching() {
    if (watch >= 0) {
        return {};
    }
    watch = ::inotify_add_watch(inotifyFd.get(), paths.dir.c_str(),
                                IN_CREATE | IN_MOVED_TO | IN_ATTRIB | IN_ONLYDIR);
    if (watch < 0) {
        nextRetryNs = monotonicNs() + kRetryWithoutWatchNs;
        return Error::fromErrno("watching " + paths.dir, errno);
    }
    return {};
}

void Reader::Impl::stopWatching() {
    if (watch >= 0) {
        ::inotify_rm_watch(inotifyFd.get(), watch);
        watch = -1;
    }
    drainInotify();
}

// Returns true when an event may concern our socket.
bool Reader::Impl::drainInotify() {
    bool relevant = false;
    alignas(inotify_event) char buffer[4096];
    for (;;) {
        const ssize_t got = ::read(inotifyFd.get(), buffer, sizeof(buffer));
        if (got <= 0) {
            return relevant;
        }
        for (ssize_t offset = 0; offset + ssize_t(sizeof(inotify_event)) <= got;) {
            const auto* event = reinterpret_cast<const inotify_event*>(buffer + offset);
            const std::string_view name(event->name,
                                        event->len ? strnlen(event->name, event->len) : 0);
            if ((event->mask & (IN_Q_OVERFLOW | IN_IGNORED)) || name == paths.socketFile) {
                relevant = true;
            }
            if (event->mask & IN_IGNORED) {
                watch = -1;  // the folder went away: fall back to a slow retry
                nextRetryNs = monotonicNs() + kRetryWithoutWatchNs;
            }
            offset += sizeof(inotify_event) + event->len;
        }
    }
}

std::optional<Frame> Reader::Impl::acquire(std::uint32_t slot, std::uint64_t sequence) {
    const PoolView& view = *pool;
    const layout::SlotHeader& header = view.slot(slot);
    const Format& format = view.description.format;
    Frame frame;

    std::atomic<std::uint64_t>* lease = nullptr;
    for (std::uint32_t i = 0; i < control->leaseCount; ++i) {
        std::uint64_t expected = 0;
        if (control->block->leases[i].compare_exchange_strong(expected, sequence,
                                                              std::memory_order_seq_cst)) {
            lease = &control->block->leases[i];
            break;
        }
    }
    if (lease && header.sequence.load(std::memory_order_seq_cst) != sequence) {
        lease->store(0, std::memory_order_release);  // the writer is rewriting it: try again
        return std::nullopt;
    }
    frame.meta_.sequence = sequence;
    frame.meta_.pts = header.pts.load(std::memory_order_relaxed);
    frame.meta_.dts = header.dts.load(std::memory_order_relaxed);
    frame.meta_.duration = header.duration.load(std::memory_order_relaxed);
    frame.meta_.flags = header.flags.load(std::memory_order_relaxed);
    frame.meta_.publishTimeNs = header.publishTimeNs.load(std::memory_order_relaxed);
    const std::uint32_t userMetaLength =
        std::min(header.userMetaLength.load(std::memory_order_relaxed),
                 view.description.geometry.userMetaSize);

    if (lease) {
        frame.data_ = view.frame(slot);
        frame.userMeta_ = view.userMeta(slot);
        frame.leaseWord_ = lease;
    } else {
        // Every lease is in use: hand out a private copy, checked seqlock-style.
        const std::size_t metaBytes = view.description.geometry.userMetaSize;
        frame.copy_ = std::shared_ptr<std::byte[]>(new std::byte[format.frameSize + metaBytes]);
        std::memcpy(frame.copy_.get(), view.frame(slot), format.frameSize);
        std::memcpy(frame.copy_.get() + format.frameSize, view.userMeta(slot), userMetaLength);
        std::atomic_thread_fence(std::memory_order_acquire);
        if (header.sequence.load(std::memory_order_relaxed) != sequence) {
            return std::nullopt;
        }
        frame.data_ = frame.copy_.get();
        frame.userMeta_ = frame.copy_.get() + format.frameSize;
        ++stats.copies;
    }
    frame.keepAlive_ = pool;
    frame.format_ = &format;
    frame.size_ = format.frameSize;
    frame.userMetaLength_ = userMetaLength;
    frame.session_ = view.description.writerSession;
    frame.generation_ = view.description.generation;
    return frame;
}

std::optional<Frame> Reader::Impl::takeFrame(Result<void>& failure) {
    for (int attempt = 0; attempt < kAcquireAttempts; ++attempt) {
        const PoolView& view = *pool;
        const std::uint64_t latest = view.header().latest.load(std::memory_order_acquire);
        const std::uint64_t newest = layout::latestSequence(latest);
        if (latest == 0 || newest <= lastSequence) {
            return std::nullopt;
        }
        if (layout::latestSlot(latest) >= view.slotCount()) {
            failure = Error::make(Errc::BadPool, "pool header field 'latest' names slot " +
                                                     std::to_string(layout::latestSlot(latest)) +
                                                     " of " + std::to_string(view.slotCount()));
            return std::nullopt;
        }
        std::uint32_t slot = layout::latestSlot(latest);
        std::uint64_t sequence = newest;
        if (options.mode == ReadMode::Sequential && newest != lastSequence + 1) {
            // The oldest frame we have not seen that is still in the pool.
            std::uint64_t oldest = UINT64_MAX;
            for (std::uint32_t i = 0; i < view.slotCount(); ++i) {
                const std::uint64_t s = view.slot(i).sequence.load(std::memory_order_acquire);
                if (s > lastSequence && s < oldest && s <= newest) {
                    oldest = s;
                    slot = i;
                }
            }
            if (oldest != UINT64_MAX) {
                sequence = oldest;
            }
        }
        auto frame = acquire(slot, sequence);
        if (!frame) {
            continue;  // the writer reused that slot meanwhile
        }
        const std::uint64_t missed = sequence - lastSequence - 1;
        (options.mode == ReadMode::Sequential ? stats.gaps : stats.skipped) += missed;
        lastSequence = sequence;
        ++stats.received;
        state = ReaderState::Connected;
        if (options.mode == ReadMode::Sequential) {
            control->block->consumed.store(sequence, std::memory_order_seq_cst);
            if (view.header().writerWaiting.load(std::memory_order_seq_cst) != 0) {
                futex::wakeAll(view.header().writerWaiting);
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
    const auto& header = pool->header();
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
            const auto newPool = std::get<protocol::NewPool>(message->payload);
            auto view = mapPool(std::move(message->fds[0]), newPool.poolSize, control);
            if (!view || (*view)->description.writerSession != pool->description.writerSession ||
                (*view)->description.generation != newPool.generation) {
                Error error =
                    view ? Error::make(Errc::BadPool, "new pool does not belong to this writer")
                         : std::move(view).error();
                disconnect();
                ++stats.writerGone;
                return error;
            }
            pendingPool = std::move(*view);
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

Result<Frame> Reader::Impl::step(bool checkEvents) {
    if (!pool) {
        // Waiting for a writer: try when the feed dir says something happened.
        const bool changed = drainInotify();
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
            [[maybe_unused]] auto watching = startWatching();
            // The feed dir tells us when a socket appears. Without a watch, or when a
            // socket is there but its writer failed us (hung up in the handshake, did
            // not answer), nothing will: look again a little later.
            struct stat socketInfo {};
            if (watch < 0) {
                nextRetryNs = monotonicNs() + kRetryWithoutWatchNs;
            } else if (::stat(paths.socket.c_str(), &socketInfo) == 0) {
                nextRetryNs = monotonicNs() + kRetryFailedWriterNs;
            }
            if (connected.error().code == Errc::NoWriter) {
                return Error::make(Errc::WouldBlock, "waiting for a writer");
            }
            return std::move(connected).error();  // a broken writer: say so, keep waiting
        }
    }
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
            lastFormat = pool->description.format;
            if (writer) {
                writer->generation = pool->description.generation;
            }
            continue;
        }
        break;
    }
    const std::uint64_t eos = pool->header().eos.load(std::memory_order_acquire);
    if ((eos & layout::kEosFlag) && (eos & ~layout::kEosFlag) <= lastSequence &&
        eos != lastEosReported) {
        lastEosReported = eos;
        state = ReaderState::EndOfStream;
        ++stats.endOfStreams;
        return Error::make(Errc::EndOfStream, "end of stream on feed '" + paths.name + "'");
    }
    const bool retired =
        (pool->header().state.load(std::memory_order_acquire) & layout::kPoolRetired) != 0;
    if (checkEvents || retired) {
        epoll_event events[4];
        const int count = ::epoll_wait(epollFd.get(), events, 4, 0);
        return handleEvents(events, count > 0 ? count : 0, retired);
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
            case kInotifyTag:
                if (drainInotify()) {
                    connectDue = true;  // our socket (re)appeared: step() connects
                }
                break;
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
            return step(false);
        }
    }
    return Error::make(Errc::WouldBlock, "no new frame");
}

Reader::Reader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Reader::Reader(Reader&&) noexcept = default;
Reader& Reader::operator=(Reader&&) noexcept = default;
Reader::~Reader() = default;

Result<Reader> Reader::open(std::string_view feed, ReaderOptions options) {
    auto paths = resolveFeed(feed, options.waitForWriter);
    if (!paths) {
        return std::move(paths).error();
    }
    auto impl = std::make_unique<Impl>();
    impl->paths = std::move(*paths);
    impl->options = std::move(options);
    impl->epollFd = UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
    impl->inotifyFd = UniqueFd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    impl->selfWakeFd = UniqueFd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!impl->epollFd || !impl->inotifyFd || !impl->selfWakeFd) {
        return Error::fromErrno("creating the reader's epoll, inotify and event fds", errno);
    }
    impl->epollAdd(impl->inotifyFd.get(), kInotifyTag);
    impl->epollAdd(impl->selfWakeFd.get(), kSelfWakeTag);
    // Watch before the first attempt, so that a writer appearing in between is not missed.
    if (impl->options.waitForWriter) {
        [[maybe_unused]] auto watching = impl->startWatching();
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
        auto outcome = impl.step(checkEvents || !impl.pool);
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
    return impl_->pool->description.format;
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
    info.published = impl_->pool->header().published.load(std::memory_order_relaxed);
    info.readers = impl_->pool->header().readers.load(std::memory_order_relaxed);
    return info;
}

const std::string& Reader::feedName() const {
    return impl_->paths.name;
}
const std::string& Reader::socketPath() const {
    return impl_->paths.socket;
}

// --- probe -------------------------------------------------------------------------

Result<FeedInfo> probeFeed(std::string_view feed) {
    auto paths = resolveFeed(feed, false);
    if (!paths) {
        return std::move(paths).error();
    }
    auto sock = connectToWriter(*paths);
    if (!sock) {
        return std::move(sock).error();
    }
    auto message = handshake(sock->get(), protocol::kHelloProbe, "probe");
    if (!message) {
        return std::move(message).error();
    }
    const auto welcome = std::get<protocol::Welcome>(message->payload);
    const int fd = message->fds[0].get();
    if (auto sealed = memfd::checkSealed(fd, welcome.poolSize, "pool"); !sealed) {
        return std::move(sealed).error();
    }
    // Only the header is read: map it without pulling in the frames.
    const std::size_t headerBytes = std::min<std::uint64_t>(welcome.poolSize, layout::kPageSize);
    auto mapping = Mapping::map(fd, headerBytes, Mapping::Access::ReadOnly, false);
    if (!mapping) {
        return std::move(mapping).error();
    }
    auto description = layout::readHeader(mapping->data(), welcome.poolSize);
    if (!description) {
        return std::move(description).error();
    }
    const auto& header = layout::header(mapping->data());
    FeedInfo info;
    info.name = paths->name;
    info.socketPath = paths->socket;
    info.format = description->format;
    info.writerPid = static_cast<pid_t>(description->writerPid);
    info.slotCount = description->geometry.slotCount;
    info.leaseLimit = description->leaseLimit;
    info.generation = description->generation;
    info.policy = std::string(toString(static_cast<WriterPolicy>(description->policy)));
    info.published = header.published.load(std::memory_order_relaxed);
    info.readers = header.readers.load(std::memory_order_relaxed);
    info.lastPublishNs = header.lastPublishNs.load(std::memory_order_relaxed);
    info.endOfStream = header.eos.load(std::memory_order_relaxed) != 0;
    info.poolBytes = welcome.poolSize;
    return info;
}

}  // namespace shmframe
