// SPDX-License-Identifier: LGPL-2.1-or-later
// The writer: owns the pool, the feed's socket and lock, and a service thread that
// accepts readers, hands them the pool and notices when they hang up.
#include "shmframe/writer.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include "feed_paths.h"
#include "futex.h"
#include "mapping.h"
#include "memfd.h"
#include "pool_layout.h"
#include "protocol.h"
#include "shmframe/log.h"

namespace shmframe {

using namespace std::chrono_literals;

namespace {

constexpr std::uint64_t kHandshakeTimeoutNs = 2'000'000'000;
constexpr std::size_t kMaxPendingConnections = 32;
constexpr std::uint64_t kListenTag = 0;
constexpr std::uint64_t kStopTag = 1;
constexpr std::uint32_t kFirstReaderId = 2;  // ids 0 and 1 are the tags above

std::uint64_t randomSessionId() {
    std::uint64_t id = 0;
    if (::getrandom(&id, sizeof(id), GRND_NONBLOCK) != sizeof(id)) {
        id = monotonicNs() ^ (static_cast<std::uint64_t>(::getpid()) << 32);
    }
    return id | 1;  // never 0
}

void signalEventFd(int fd) {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto written = ::write(fd, &one, sizeof(one));
}

// Writes the one-byte wake-up into a reader's pipe. Our write end is our own open file
// description, made O_NONBLOCK by us: no reader can make this block (a full pipe just
// means the reader has wake-ups pending), and since we keep a read end open too, a dead
// reader never means SIGPIPE.
void sendWake(int fd) {
    const char byte = 1;
    [[maybe_unused]] auto written = ::write(fd, &byte, 1);
}

}  // namespace

std::string_view toString(WriterPolicy policy) {
    return policy == WriterPolicy::Lossless ? "lossless" : "never-block";
}

std::optional<WriterPolicy> writerPolicyFromString(std::string_view name) {
    if (name == "never-block") {
        return WriterPolicy::NeverBlock;
    }
    if (name == "lossless") {
        return WriterPolicy::Lossless;
    }
    return std::nullopt;
}

Result<AccessPolicy> AccessPolicy::parse(std::string_view text) {
    AccessPolicy policy;
    if (text.empty() || text == "uid" || text == "user") {
        return policy;
    }
    if (text == "any") {
        policy.anyUser = true;
        return policy;
    }
    const bool uids = text.starts_with("uid:");
    const bool gids = text.starts_with("gid:");
    if (!uids && !gids) {
        return Error::make(Errc::InvalidArgument,
                           "access '" + std::string(text) +
                               "' is not one of: uid, any, uid:N[,N...], gid:N[,N...]");
    }
    std::string_view list = text.substr(4);
    while (!list.empty()) {
        const auto comma = list.find(',');
        const std::string item(list.substr(0, comma));
        char* end = nullptr;
        errno = 0;
        const unsigned long id = std::strtoul(item.c_str(), &end, 10);
        if (item.empty() || *end != '\0' || errno != 0 || id > 0xfffffffful) {
            return Error::make(Errc::InvalidArgument, "access '" + std::string(text) + "': '" +
                                                          item + "' is not a number");
        }
        (uids ? policy.allowedUids : policy.allowedGids).push_back(static_cast<uid_t>(id));
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    }
    return policy;
}

std::string AccessPolicy::describe() const {
    if (anyUser) {
        return "any";
    }
    std::string text = "uid";
    const auto add = [&](const char* prefix, const auto& ids) {
        if (ids.empty()) {
            return;
        }
        text += std::string(" ") + prefix;
        for (std::size_t i = 0; i < ids.size(); ++i) {
            text += (i ? "," : "") + std::to_string(ids[i]);
        }
    };
    add("uid:", allowedUids);
    add("gid:", allowedGids);
    return text;
}

// One generation of the pool: a sealed memfd, our writable mapping of it, and the
// read-only fd that readers get.
struct PoolSegment {
    UniqueFd fd;
    UniqueFd readOnlyFd;
    Mapping mapping;
    layout::PoolGeometry geometry;
    Format format;
    std::uint32_t generation = 0;
    std::vector<std::uint8_t> loaned;  // guarded by Writer::Impl::mutex

    layout::PoolHeader& header() const { return layout::header(mapping.data()); }
    layout::SlotHeader& slot(std::uint32_t i) const {
        return layout::slotHeader(mapping.data(), geometry, i);
    }
    std::byte* frame(std::uint32_t i) const {
        return mapping.data() + geometry.slotDataOffset + i * geometry.slotDataStride;
    }
    std::byte* userMeta(std::uint32_t i) const {
        return mapping.data() + geometry.userMetaOffset + i * geometry.userMetaStride;
    }
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

// One connected peer. Until its Hello arrives it is "pending" and only the service
// thread knows it; afterwards it is a reader, shared with loan()/publish() under the mutex.
struct ReaderConnection {
    std::uint32_t id = 0;
    UniqueFd socket;
    pid_t pid = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    std::string name;
    bool sequential = false;
    std::uint64_t deadlineNs = 0;
    UniqueFd controlFd;
    Mapping control;
    layout::ControlBlock* block = nullptr;
    std::uint32_t leaseCount = 0;
    UniqueFd wake;         // write end of the reader's wake-up pipe
    UniqueFd wakeReadEnd;  // our copy of the read end (see sendWake)
    // Leases the reader asked for in its Hello; 0: our lease limit.
    std::uint32_t requestedLeases = 0;
};

struct Writer::Impl : std::enable_shared_from_this<Writer::Impl> {
    FeedPaths paths;
    WriterOptions options;
    std::uint64_t session = randomSessionId();

    UniqueFd lockFd;
    UniqueFd listenFd;
    UniqueFd epollFd;
    UniqueFd stopFd;  // wakes the service thread to stop
    std::thread service;

    mutable std::mutex mutex;
    std::shared_ptr<PoolSegment> pool;
    std::vector<std::unique_ptr<ReaderConnection>> readers;
    std::uint64_t sequence = 0;
    std::uint32_t nextReaderId = kFirstReaderId;
    WriterStats stats;
    bool closed = false;
    std::uint64_t lastRevokeLogNs = 0;

    ~Impl() { shutdown(); }

    Result<std::shared_ptr<PoolSegment>> createPool(const Format& format, std::uint32_t generation);
    Result<void> acquireLock();
    Result<void> listen();
    void serve();
    void acceptAll(std::map<std::uint32_t, std::unique_ptr<ReaderConnection>>& pending);
    void handleHello(std::unique_ptr<ReaderConnection>& peer);
    void handleReaderInput(std::uint32_t id);
    bool allowed(const ReaderConnection& peer) const;
    void refuse(ReaderConnection& peer, protocol::Reason reason, const std::string& text);

    // Called with the mutex held.
    std::optional<std::uint32_t> pickSlot(PoolSegment& segment, bool& blockedByReaders);
    bool leased(std::uint64_t sequence) const;
    std::optional<std::uint32_t> revokeOldest(PoolSegment& segment);
    void wakeReaders(bool everyone);
    void removeReader(std::uint32_t id, ReaderEvent::Kind kind, const std::string& reason,
                      std::vector<ReaderEvent>& events);
    bool dropLaggards(PoolSegment& segment, std::vector<ReaderEvent>& events);
    void updateReaderCount();

    void returnSlot(std::uint32_t generation, std::uint32_t slot);
    void emit(const std::vector<ReaderEvent>& events);
    void shutdown();
};

Result<std::shared_ptr<PoolSegment>> Writer::Impl::createPool(const Format& format,
                                                              std::uint32_t generation) {
    auto geometry = layout::computeGeometry(format, options.slotCount, options.userMetaSize);
    if (!geometry) {
        return std::move(geometry).error();
    }
    auto segment = std::make_shared<PoolSegment>();
    segment->geometry = *geometry;
    segment->format = format;
    segment->generation = generation;
    segment->loaned.assign(geometry->slotCount, 0);

    auto fd = memfd::create("shmframe:" + paths.name.substr(0, 40), geometry->poolSize);
    if (!fd) {
        return std::move(fd).error();
    }
    segment->fd = std::move(*fd);
    auto mapping = Mapping::map(segment->fd.get(), geometry->poolSize, Mapping::Access::ReadWrite);
    if (!mapping) {
        return std::move(mapping).error();
    }
    segment->mapping = std::move(*mapping);
    // Touch every page for writing now, so that no publish ever page-faults.
    auto* bytes = reinterpret_cast<volatile std::uint8_t*>(segment->mapping.data());
    for (std::uint64_t offset = 0; offset < geometry->poolSize; offset += layout::kPageSize) {
        bytes[offset] = 0;
    }

    layout::PoolDescription description;
    description.geometry = *geometry;
    description.format = format;
    description.writerSession = session;
    description.writerPid = static_cast<std::uint32_t>(::getpid());
    description.generation = generation;
    description.leaseLimit = options.leaseLimit;
    description.policy = static_cast<std::uint32_t>(options.policy);
    layout::writeHeader(segment->header(), description);

    // Only our mapping may ever write: no new writable mapping, not even through
    // /proc/<pid>/fd, and the size can never change.
    if (auto sealed = memfd::seal(segment->fd.get(), F_SEAL_FUTURE_WRITE); !sealed) {
        return std::move(sealed).error();
    }
    ::fchmod(segment->fd.get(), 0400);
    auto readOnly = memfd::reopenReadOnly(segment->fd.get());
    if (!readOnly) {
        return std::move(readOnly).error();
    }
    segment->readOnlyFd = std::move(*readOnly);
    return segment;
}

Result<void> Writer::Impl::acquireLock() {
    for (int attempt = 0; attempt < 20; ++attempt) {
        UniqueFd fd(::open(paths.lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
        if (!fd) {
            return Error::make(errno == EACCES ? Errc::PermissionDenied : Errc::SystemError,
                               "cannot open the feed lock " + paths.lock, errno);
        }
        struct stat opened {};
        struct stat named {};
        const bool locked = ::flock(fd.get(), LOCK_EX | LOCK_NB) == 0;
        const int lockErrno = errno;
        // A dying writer unlinks its lock file: make sure the one we hold is still the named one.
        const bool current = ::fstat(fd.get(), &opened) == 0 &&
                             ::stat(paths.lock.c_str(), &named) == 0 &&
                             opened.st_ino == named.st_ino && opened.st_dev == named.st_dev;
        if (!current) {
            continue;
        }
        if (locked) {
            const std::string pid = std::to_string(::getpid()) + "\n";
            if (::ftruncate(fd.get(), 0) != 0 ||
                ::pwrite(fd.get(), pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
                return Error::fromErrno("writing the pid into " + paths.lock, errno);
            }
            lockFd = std::move(fd);
            return {};
        }
        if (lockErrno != EWOULDBLOCK) {
            return Error::fromErrno("locking " + paths.lock, lockErrno);
        }
        char text[32] = {};
        [[maybe_unused]] auto got = ::pread(fd.get(), text, sizeof(text) - 1, 0);
        const long pid = std::strtol(text, nullptr, 10);
        // No pid yet (the other writer is starting) or a dead one (a reader is cleaning
        // up after it): both settle within milliseconds.
        if (pid <= 0 || (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)) {
            std::this_thread::sleep_for(10ms);  // the other writer is between lock and pid
            continue;
        }
        return Error::make(Errc::WriterExists,
                           "feed '" + paths.name + "' already has a live writer (pid " +
                               std::to_string(pid) + "); stop it or choose another feed name");
    }
    return Error::make(
        Errc::WriterExists,
        "feed '" + paths.name + "' is being taken over by another writer; try again");
}

Result<void> Writer::Impl::listen() {
    listenFd = UniqueFd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!listenFd) {
        return Error::fromErrno("socket", errno);
    }
    // Bind under a temporary name and rename it into place: readers watching the feed
    // dir only ever see a socket that is already listening, and a stale one is replaced
    // atomically.
    const std::string temporary = paths.socket + "." + std::to_string(::getpid()) + ".tmp";
    ::unlink(temporary.c_str());
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, temporary.c_str(), temporary.size() + 1);
    if (::bind(listenFd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
        return Error::make(errno == EACCES ? Errc::PermissionDenied : Errc::SystemError,
                           "cannot create the feed socket " + temporary, errno);
    }
    const bool open = options.access.anyUser || !options.access.allowedUids.empty() ||
                      !options.access.allowedGids.empty();
    ::chmod(temporary.c_str(), open ? 0666 : 0600);
    if (::listen(listenFd.get(), 64) != 0 ||
        ::rename(temporary.c_str(), paths.socket.c_str()) != 0) {
        const int err = errno;
        ::unlink(temporary.c_str());
        return Error::fromErrno("publishing the feed socket " + paths.socket, err);
    }
    return {};
}

bool Writer::Impl::allowed(const ReaderConnection& peer) const {
    const AccessPolicy& access = options.access;
    return access.anyUser || peer.uid == 0 || peer.uid == ::geteuid() ||
           std::find(access.allowedUids.begin(), access.allowedUids.end(), peer.uid) !=
               access.allowedUids.end() ||
           std::find(access.allowedGids.begin(), access.allowedGids.end(), peer.gid) !=
               access.allowedGids.end();
}

void Writer::Impl::refuse(ReaderConnection& peer, protocol::Reason reason,
                          const std::string& text) {
    protocol::Refused refused{};
    refused.reason = static_cast<std::uint32_t>(reason);
    protocol::copyText(refused.text, sizeof(refused.text), text);
    const auto packet =
        protocol::encode(protocol::MessageType::Refused, &refused, sizeof(refused), 0);
    [[maybe_unused]] auto sent = protocol::send(peer.socket.get(), packet, {});
    log(LogLevel::Warning,
        "feed '" + paths.name + "': refused pid " + std::to_string(peer.pid) + ": " + text);
}

void Writer::Impl::serve() {
    std::map<std::uint32_t, std::unique_ptr<ReaderConnection>> pending;
    epoll_event events[16];
    for (;;) {
        const std::uint64_t now = monotonicNs();
        int timeoutMs = -1;
        for (const auto& [id, peer] : pending) {
            const auto left = peer->deadlineNs > now ? (peer->deadlineNs - now) / 1'000'000 + 1 : 0;
            timeoutMs = timeoutMs < 0 ? int(left) : std::min(timeoutMs, int(left));
        }
        const int count = ::epoll_wait(epollFd.get(), events, 16, timeoutMs);
        if (count < 0 && errno != EINTR) {
            log(LogLevel::Error,
                "feed '" + paths.name + "': epoll_wait failed: " + std::strerror(errno));
            return;
        }
        for (int i = 0; i < count; ++i) {
            const std::uint64_t tag = events[i].data.u64;
            if (tag == kStopTag) {
                return;
            }
            if (tag == kListenTag) {
                acceptAll(pending);
                continue;
            }
            const auto id = static_cast<std::uint32_t>(tag);
            if (auto it = pending.find(id); it != pending.end()) {
                auto peer = std::move(it->second);
                pending.erase(it);
                handleHello(peer);  // leaves peer set while its Hello has not arrived
                if (peer) {
                    pending.emplace(id, std::move(peer));
                }
            } else {
                handleReaderInput(id);
            }
        }
        const std::uint64_t after = monotonicNs();
        for (auto it = pending.begin(); it != pending.end();) {
            if (it->second->deadlineNs <= after) {
                log(LogLevel::Warning, "feed '" + paths.name + "': pid " +
                                           std::to_string(it->second->pid) +
                                           " connected but sent no Hello within 2 s; closed");
                it = pending.erase(it);
            } else {
                ++it;
            }
        }
    }
}

void Writer::Impl::acceptAll(std::map<std::uint32_t, std::unique_ptr<ReaderConnection>>& pending) {
    for (;;) {
        UniqueFd socket(::accept4(listenFd.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
        if (!socket) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
                log(LogLevel::Warning,
                    "feed '" + paths.name + "': accept failed: " + std::strerror(errno));
            }
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            return;
        }
        if (pending.size() >= kMaxPendingConnections) {
            log(LogLevel::Warning,
                "feed '" + paths.name + "': too many connections without a Hello; refusing one");
            continue;
        }
        auto peer = std::make_unique<ReaderConnection>();
        ucred credentials{};
        socklen_t length = sizeof(credentials);
        if (::getsockopt(socket.get(), SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) {
            continue;
        }
        peer->pid = credentials.pid;
        peer->uid = credentials.uid;
        peer->gid = credentials.gid;
        peer->socket = std::move(socket);
        peer->deadlineNs = monotonicNs() + kHandshakeTimeoutNs;
        {
            std::lock_guard lock(mutex);
            peer->id = nextReaderId++;
            if (nextReaderId == 0) {
                nextReaderId = kFirstReaderId;
            }
        }
        epoll_event event{};
        event.events = EPOLLIN | EPOLLRDHUP;
        event.data.u64 = peer->id;
        if (::epoll_ctl(epollFd.get(), EPOLL_CTL_ADD, peer->socket.get(), &event) != 0) {
            continue;
        }
        pending.emplace(peer->id, std::move(peer));
    }
}

void Writer::Impl::handleHello(std::unique_ptr<ReaderConnection>& peer) {
    auto message = protocol::receive(peer->socket.get());
    if (!message) {
        if (message.error().code == Errc::WouldBlock) {
            return;  // spurious wake-up; keep waiting (the caller re-queues peer)
        }
        if (message.error().code == Errc::ProtocolMismatch) {
            refuse(*peer, protocol::Reason::VersionMismatch, message.error().message);
        } else if (message.error().code != Errc::WriterGone) {
            log(LogLevel::Warning, "feed '" + paths.name + "': pid " + std::to_string(peer->pid) +
                                       " sent a bad Hello: " + message.error().message);
        }
        peer.reset();
        return;
    }
    if (message->type != protocol::MessageType::Hello) {
        refuse(*peer, protocol::Reason::ProtocolError, "expected Hello first");
        peer.reset();
        return;
    }
    const auto& hello = std::get<protocol::Hello>(message->payload);
    peer->name = protocol::textOf(hello.clientName, sizeof(hello.clientName));
    peer->sequential = (hello.flags & protocol::kHelloSequential) != 0;
    peer->requestedLeases = (hello.flags & protocol::kHelloLeaseMask) >> protocol::kHelloLeaseShift;
    if (!allowed(*peer)) {
        refuse(*peer, protocol::Reason::AccessDenied,
               "uid " + std::to_string(peer->uid) + " may not read feed '" + paths.name +
                   "' (access: " + options.access.describe() + ")");
        peer.reset();
        return;
    }

    std::unique_lock lock(mutex);
    if (closed) {
        peer.reset();
        return;
    }
    const auto& segment = *pool;
    protocol::Welcome welcome{};
    welcome.writerSession = session;
    welcome.poolSize = segment.geometry.poolSize;
    welcome.readerId = peer->id;
    welcome.generation = segment.generation;
    welcome.writerPid = static_cast<std::uint32_t>(::getpid());

    if (hello.flags & protocol::kHelloProbe) {
        const int fds[] = {segment.readOnlyFd.get()};
        const auto packet =
            protocol::encode(protocol::MessageType::Welcome, &welcome, sizeof(welcome), 1);
        [[maybe_unused]] auto sent = protocol::send(peer->socket.get(), packet, fds);
        peer.reset();  // a probe gets its answer and the hang-up
        return;
    }
    if (readers.size() >= options.maxReaders) {
        lock.unlock();
        refuse(*peer, protocol::Reason::TooManyReaders,
               "feed '" + paths.name + "' already has " + std::to_string(options.maxReaders) +
                   " readers (its maximum)");
        peer.reset();
        return;
    }

    // The reader's own control block and wake-up channel.
    auto controlFd = memfd::create("shmframe-reader", layout::kControlBlockSize);
    Result<Mapping> control = controlFd ? Mapping::map(controlFd->get(), layout::kControlBlockSize,
                                                       Mapping::Access::ReadWrite)
                                        : Result<Mapping>(controlFd.error());
    int pipeEnds[2] = {-1, -1};
    if (!controlFd || !control || !memfd::seal(controlFd->get()) ||
        ::pipe2(pipeEnds, O_CLOEXEC | O_NONBLOCK) != 0) {
        lock.unlock();
        refuse(*peer, protocol::Reason::Internal, "the writer could not set up a reader");
        peer.reset();
        return;
    }
    peer->wakeReadEnd = UniqueFd(pipeEnds[0]);
    peer->wake = UniqueFd(pipeEnds[1]);
    peer->controlFd = std::move(*controlFd);
    peer->control = std::move(*control);
    peer->block = reinterpret_cast<layout::ControlBlock*>(peer->control.data());
    peer->block->magic = layout::kControlMagic;
    peer->block->layoutVersion = layout::kLayoutVersion;
    peer->leaseCount = grantedLeases(options, peer->requestedLeases);
    peer->block->leaseCount = peer->leaseCount;
    peer->block->readerId = peer->id;
    const std::uint64_t latest = layout::latestSequence(segment.header().latest.load());
    peer->block->consumed.store(latest ? latest - 1 : sequence, std::memory_order_seq_cst);

    welcome.controlSize = layout::kControlBlockSize;
    const int fds[] = {segment.readOnlyFd.get(), peer->controlFd.get(), peer->wakeReadEnd.get()};
    const auto packet =
        protocol::encode(protocol::MessageType::Welcome, &welcome, sizeof(welcome), 3);
    if (auto sent = protocol::send(peer->socket.get(), packet, fds); !sent) {
        log(LogLevel::Warning, "feed '" + paths.name + "': could not welcome pid " +
                                   std::to_string(peer->pid) + ": " + sent.error().message);
        peer.reset();
        return;
    }
    ReaderEvent event{ReaderEvent::Kind::Connected, peer->id, peer->pid, peer->uid, {}};
    log(LogLevel::Info, "feed '" + paths.name + "': reader " + std::to_string(peer->id) + " (pid " +
                            std::to_string(peer->pid) + ", " +
                            (peer->sequential ? "sequential" : "latest") + ") connected");
    readers.push_back(std::move(peer));
    ++stats.readersConnected;
    updateReaderCount();
    lock.unlock();
    emit({event});
}

void Writer::Impl::handleReaderInput(std::uint32_t id) {
    std::vector<ReaderEvent> events;
    {
        std::lock_guard lock(mutex);
        auto it = std::find_if(readers.begin(), readers.end(),
                               [&](const auto& reader) { return reader->id == id; });
        if (it == readers.end()) {
            return;
        }
        auto message = protocol::receive((*it)->socket.get());
        if (!message && message.error().code == Errc::WouldBlock) {
            return;
        }
        if (!message && message.error().code == Errc::WriterGone) {
            removeReader(id, ReaderEvent::Kind::Disconnected, "hung up", events);
        } else {
            // Readers send nothing after Hello: anything else is a broken or hostile peer.
            const std::string reason = message ? "sent an unexpected message after Hello"
                                               : "sent garbage: " + message.error().message;
            ++stats.readersDropped;
            removeReader(id, ReaderEvent::Kind::Dropped, reason, events);
        }
    }
    emit(events);
}

void Writer::Impl::removeReader(std::uint32_t id, ReaderEvent::Kind kind, const std::string& reason,
                                std::vector<ReaderEvent>& events) {
    auto it = std::find_if(readers.begin(), readers.end(),
                           [&](const auto& reader) { return reader->id == id; });
    if (it == readers.end()) {
        return;
    }
    auto& reader = **it;
    if (kind == ReaderEvent::Kind::Dropped) {
        protocol::Goodbye goodbye{};
        goodbye.reason = static_cast<std::uint32_t>(protocol::Reason::TooSlow);
        protocol::copyText(goodbye.text, sizeof(goodbye.text), reason);
        const auto packet =
            protocol::encode(protocol::MessageType::Goodbye, &goodbye, sizeof(goodbye), 0);
        [[maybe_unused]] auto sent = protocol::send(reader.socket.get(), packet, {});
        log(LogLevel::Warning, "feed '" + paths.name + "': dropped reader " + std::to_string(id) +
                                   " (pid " + std::to_string(reader.pid) + "): " + reason);
    } else {
        log(LogLevel::Info, "feed '" + paths.name + "': reader " + std::to_string(id) + " (pid " +
                                std::to_string(reader.pid) + ") " + reason);
    }
    events.push_back(ReaderEvent{kind, id, reader.pid, reader.uid, reason});
    readers.erase(it);  // closes its socket (removing it from epoll) and unmaps its block
    updateReaderCount();
    futex::wakeAll(pool->header().writerWaiting);  // a lossless loan() may wait on it
}

void Writer::Impl::updateReaderCount() {
    stats.readers = static_cast<std::uint32_t>(readers.size());
    pool->header().readers.store(stats.readers, std::memory_order_relaxed);
}

bool Writer::Impl::leased(std::uint64_t slotSequence) const {
    for (const auto& reader : readers) {
        for (std::uint32_t i = 0; i < reader->leaseCount; ++i) {
            if (reader->block->leases[i].load(std::memory_order_seq_cst) == slotSequence) {
                return true;
            }
        }
    }
    return false;
}

std::optional<std::uint32_t> Writer::Impl::pickSlot(PoolSegment& segment, bool& blockedByReaders) {
    const std::uint64_t latest = segment.header().latest.load(std::memory_order_relaxed);
    std::uint64_t minConsumed = UINT64_MAX;
    if (options.policy == WriterPolicy::Lossless) {
        for (const auto& reader : readers) {
            if (reader->sequential) {
                minConsumed = std::min(minConsumed, reader->block->consumed.load());
            }
        }
    }
    // (sequence, slot), oldest first; on the stack: loan() is on every frame's path.
    std::array<std::pair<std::uint64_t, std::uint32_t>, layout::kMaxSlots> candidates;
    std::size_t count = 0;
    for (std::uint32_t i = 0; i < segment.geometry.slotCount; ++i) {
        if (segment.loaned[i] || (latest != 0 && i == layout::latestSlot(latest))) {
            continue;
        }
        candidates[count++] = {segment.slot(i).sequence.load(std::memory_order_relaxed), i};
    }
    std::sort(candidates.begin(), candidates.begin() + count);
    for (std::size_t c = 0; c < count; ++c) {
        const auto [slotSequence, slot] = candidates[c];
        if (slotSequence != 0) {
            if (slotSequence > minConsumed || leased(slotSequence)) {
                blockedByReaders = true;
                continue;
            }
            // Seqlock: mark the slot as being rewritten, then look for leases again. A
            // reader that leased it in between sees the mark and lets go, or we see its
            // lease and back off (both sides use sequentially consistent operations).
            segment.slot(slot).sequence.store(0, std::memory_order_seq_cst);
            if (leased(slotSequence)) {
                segment.slot(slot).sequence.store(slotSequence, std::memory_order_release);
                blockedByReaders = true;
                continue;
            }
        }
        segment.loaned[slot] = 1;
        return slot;
    }
    return std::nullopt;
}

std::optional<std::uint32_t> Writer::Impl::revokeOldest(PoolSegment& segment) {
    const std::uint64_t latest = segment.header().latest.load(std::memory_order_relaxed);
    std::optional<std::uint32_t> oldest;
    std::uint64_t oldestSequence = UINT64_MAX;
    for (std::uint32_t i = 0; i < segment.geometry.slotCount; ++i) {
        const std::uint64_t s = segment.slot(i).sequence.load(std::memory_order_relaxed);
        if (!segment.loaned[i] && (latest == 0 || i != layout::latestSlot(latest)) &&
            s < oldestSequence) {
            oldest = i;
            oldestSequence = s;
        }
    }
    if (!oldest) {
        return std::nullopt;
    }
    segment.slot(*oldest).sequence.store(0, std::memory_order_seq_cst);
    for (const auto& reader : readers) {
        for (std::uint32_t i = 0; i < reader->leaseCount; ++i) {
            std::uint64_t expected = oldestSequence;
            if (reader->block->leases[i].compare_exchange_strong(
                    expected, oldestSequence | layout::kLeaseRevoked)) {
                ++stats.revokedLeases;
            }
        }
    }
    const std::uint64_t now = monotonicNs();
    if (now - lastRevokeLogNs > 1'000'000'000) {
        lastRevokeLogNs = now;
        log(LogLevel::Warning, "feed '" + paths.name +
                                   "': every slot is held by readers; took back the oldest "
                                   "(raise slots or lower lease-limit)");
    }
    segment.loaned[*oldest] = 1;
    return oldest;
}

void Writer::Impl::wakeReaders(bool everyone) {
    for (const auto& reader : readers) {
        // Cheap check first: most readers are busy, not asleep.
        if (everyone || (reader->block->wantWake.load(std::memory_order_seq_cst) != 0 &&
                         reader->block->wantWake.exchange(0) != 0)) {
            sendWake(reader->wake.get());
        }
    }
}

bool Writer::Impl::dropLaggards(PoolSegment& segment, std::vector<ReaderEvent>& events) {
    // Free the oldest reusable slot: drop exactly the readers that keep it, i.e. the
    // sequential readers that have not read its frame yet and any reader (sequential
    // or not) holding a lease on it. These are pickSlot()'s two reasons to skip a slot,
    // so a reader that keeps up is never dropped for another's sake.
    const std::uint64_t latest = segment.header().latest.load(std::memory_order_relaxed);
    std::uint64_t oldest = UINT64_MAX;
    for (std::uint32_t i = 0; i < segment.geometry.slotCount; ++i) {
        const std::uint64_t s = segment.slot(i).sequence.load(std::memory_order_relaxed);
        if (!segment.loaned[i] && (latest == 0 || i != layout::latestSlot(latest)) && s != 0) {
            oldest = std::min(oldest, s);
        }
    }
    if (oldest == UINT64_MAX) {
        return false;
    }
    std::vector<std::pair<std::uint32_t, std::string>> laggards;
    const std::string within = " within " + std::to_string(options.losslessTimeout.count()) + " ms";
    for (const auto& reader : readers) {
        bool holds = false;
        for (std::uint32_t i = 0; i < reader->leaseCount; ++i) {
            holds |= reader->block->leases[i].load(std::memory_order_seq_cst) == oldest;
        }
        if (reader->sequential && reader->block->consumed.load() < oldest) {
            laggards.emplace_back(
                reader->id, "lossless: did not read frame " + std::to_string(oldest) + within);
        } else if (holds) {
            laggards.emplace_back(reader->id, "lossless: held frame " + std::to_string(oldest) +
                                                  " and did not release it" + within);
        }
    }
    for (const auto& [id, reason] : laggards) {
        ++stats.readersDropped;
        removeReader(id, ReaderEvent::Kind::Dropped, reason, events);
    }
    return !laggards.empty();
}

void Writer::Impl::returnSlot(std::uint32_t generation, std::uint32_t slot) {
    std::lock_guard lock(mutex);
    if (pool && pool->generation == generation && slot < pool->loaned.size()) {
        pool->loaned[slot] = 0;
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
        if (pool) {
            auto& header = pool->header();
            if (header.eos.load() == 0) {
                header.eos.store(layout::kEosFlag | sequence, std::memory_order_seq_cst);
            }
            header.state.fetch_or(layout::kPoolClosed, std::memory_order_seq_cst);
            wakeReaders(true);
        }
    }
    if (service.joinable()) {
        signalEventFd(stopFd.get());
        service.join();
    }
    {
        std::lock_guard lock(mutex);
        readers.clear();  // hang up on every reader
        if (pool) {
            pool->header().readers.store(0);
        }
    }
    if (listenFd) {
        ::unlink(paths.socket.c_str());
        listenFd.reset();
    }
    if (lockFd) {
        ::unlink(paths.lock.c_str());  // still holding the lock: nobody raced us to it
        lockFd.reset();
    }
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
        published_ = std::exchange(other.published_, false);
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
    published_ = false;
    writer_.reset();
    pool_.reset();
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
    auto paths = resolveFeed(feed, true);
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
    if (auto locked = impl->acquireLock(); !locked) {
        return std::move(locked).error();
    }
    auto segment = impl->createPool(format, 1);
    if (!segment) {
        return std::move(segment).error();
    }
    impl->pool = std::move(*segment);
    impl->stats.generation = 1;

    impl->epollFd = UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
    impl->stopFd = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!impl->epollFd || !impl->stopFd) {
        return Error::fromErrno("creating the writer's event fds", errno);
    }
    if (auto listening = impl->listen(); !listening) {
        return std::move(listening).error();
    }
    epoll_event listenEvent{};
    listenEvent.events = EPOLLIN;
    listenEvent.data.u64 = kListenTag;
    epoll_event stopEvent{};
    stopEvent.events = EPOLLIN;
    stopEvent.data.u64 = kStopTag;
    if (::epoll_ctl(impl->epollFd.get(), EPOLL_CTL_ADD, impl->listenFd.get(), &listenEvent) != 0 ||
        ::epoll_ctl(impl->epollFd.get(), EPOLL_CTL_ADD, impl->stopFd.get(), &stopEvent) != 0) {
        return Error::fromErrno("epoll_ctl", errno);
    }
    impl->service = std::thread([raw = impl.get()] { raw->serve(); });
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
        const std::shared_ptr<PoolSegment> current = impl.pool;
        PoolSegment& segment = *current;
        bool blockedByReaders = false;
        std::optional<std::uint32_t> slot = impl.pickSlot(segment, blockedByReaders);
        if (!slot && !blockedByReaders) {
            ++impl.stats.loanFailures;
            return Error::make(
                Errc::WouldBlock,
                "all " + std::to_string(segment.geometry.slotCount) +
                    " slots are loaned by this writer; publish or drop frames first");
        }
        if (!slot && impl.options.policy == WriterPolicy::NeverBlock) {
            slot = impl.revokeOldest(segment);
        }
        if (slot) {
            lock.unlock();
            impl.emit(events);
            LoanedFrame frame;
            frame.writer_ = impl_;
            frame.pool_ = impl.pool;
            frame.format_ = &segment.format;
            frame.data_ = segment.frame(*slot);
            frame.size_ = segment.format.frameSize;
            frame.userMeta_ = segment.userMeta(*slot);
            frame.userMetaSize_ = segment.geometry.userMetaSize;
            frame.slot_ = *slot;
            frame.generation_ = segment.generation;
            return frame;
        }
        // Lossless: wait for a sequential reader to move on, or drop it at the deadline.
        const auto now = std::chrono::steady_clock::now();
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
        if (now >= deadline) {
            if (impl.dropLaggards(segment, events)) {
                continue;
            }
            // Nobody to drop: a reader was between taking a lease and letting go of it
            // (pickSlot backs off then). Look again shortly; never spin with the lock held.
            left = 1ms;
        }
        // Sleep on writerWaiting: a reader that consumes a frame or releases a lease
        // wakes it. Set it, then look once more, so progress made meanwhile is not missed
        // (the reader stores its progress, then loads writerWaiting; both seq_cst).
        auto& waiting = segment.header().writerWaiting;
        waiting.store(1, std::memory_order_seq_cst);
        bool stillBlocked = false;
        if (auto again = impl.pickSlot(segment, stillBlocked)) {
            waiting.store(0, std::memory_order_relaxed);
            segment.loaned[*again] = 0;  // pickSlot took it; take it for real on the next pass
            continue;
        }
        lock.unlock();
        futex::wait(waiting, 1, std::min<std::chrono::nanoseconds>(left + 1ms, 50ms));
        lock.lock();
        waiting.store(0, std::memory_order_relaxed);
    }
}

// Shared by publish() and publishRetained(): stamps and publishes the frame's slot;
// \a keepLoan leaves the slot on loan until the LoanedFrame is destroyed.
Result<void> Writer::publishFrame(LoanedFrame& frame, const FrameMeta& meta, bool keepLoan) {
    if (!impl_) {
        return Error::make(Errc::InvalidArgument, "publish() on a moved-from Writer");
    }
    Impl& impl = *impl_;
    if (!frame.valid() || frame.writer_.get() != impl_.get()) {
        return Error::make(Errc::InvalidArgument,
                           "publish() needs a frame loaned from this writer");
    }
    if (frame.published_) {
        return Error::make(Errc::InvalidArgument, "this frame was published already");
    }
    std::lock_guard lock(impl.mutex);
    if (impl.closed) {
        return Error::make(Errc::InvalidArgument, "the writer is closed");
    }
    PoolSegment& segment = *impl.pool;
    if (frame.generation_ != segment.generation) {
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
    layout::SlotHeader& header = segment.slot(slot);
    header.pts.store(meta.pts, std::memory_order_relaxed);
    header.dts.store(meta.dts, std::memory_order_relaxed);
    header.duration.store(meta.duration, std::memory_order_relaxed);
    header.flags.store(meta.flags, std::memory_order_relaxed);
    header.publishTimeNs.store(now, std::memory_order_relaxed);
    header.userMetaLength.store(frame.userMetaLength_, std::memory_order_relaxed);
    header.sequence.store(sequence, std::memory_order_release);

    layout::PoolHeader& pool = segment.header();
    if (pool.eos.load(std::memory_order_relaxed) != 0) {
        pool.eos.store(0, std::memory_order_relaxed);  // a new stream starts
    }
    // `latest` shares its cache line with these counters and spinning readers poll it:
    // storing it last moves the line to them once, not back and forth.
    pool.published.store(++impl.stats.published, std::memory_order_relaxed);
    pool.lastPublishNs.store(now, std::memory_order_relaxed);
    pool.latest.store(layout::packLatest(sequence, slot), std::memory_order_seq_cst);
    if (keepLoan) {
        frame.published_ = true;  // the slot comes back when the frame is destroyed
    } else {
        segment.loaned[slot] = 0;
        frame.data_ = nullptr;  // published: nothing to give back
        frame.writer_.reset();
        frame.pool_.reset();
    }
    impl.wakeReaders(false);
    return {};
}

Result<void> Writer::publish(LoanedFrame&& frame, const FrameMeta& meta) {
    return publishFrame(frame, meta, false);
}

Result<void> Writer::publishRetained(LoanedFrame& frame, const FrameMeta& meta) {
    return publishFrame(frame, meta, true);
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
    std::uint32_t generation;
    {
        std::lock_guard lock(impl.mutex);
        if (impl.closed) {
            return Error::make(Errc::InvalidArgument, "the writer is closed");
        }
        if (format == impl.pool->format) {
            return {};
        }
        generation = impl.pool->generation + 1;
    }
    // Building (and pre-faulting) the new pool may take a while: not under the lock.
    auto segment = impl.createPool(format, generation);
    if (!segment) {
        return std::move(segment).error();
    }
    std::vector<ReaderEvent> events;
    {
        std::lock_guard lock(impl.mutex);
        auto retired = impl.pool;
        (*segment)->header().readers.store(static_cast<std::uint32_t>(impl.readers.size()));
        (*segment)->header().published.store(impl.stats.published);
        impl.pool = *segment;
        impl.stats.generation = generation;
        protocol::NewPool message{impl.pool->geometry.poolSize, generation, 0};
        const auto packet =
            protocol::encode(protocol::MessageType::NewPool, &message, sizeof(message), 1);
        const int fds[] = {impl.pool->readOnlyFd.get()};
        std::vector<std::uint32_t> unreachable;
        for (const auto& reader : impl.readers) {
            if (!protocol::send(reader->socket.get(), packet, fds)) {
                unreachable.push_back(reader->id);
            }
        }
        for (const auto id : unreachable) {
            ++impl.stats.readersDropped;
            impl.removeReader(id, ReaderEvent::Kind::Dropped,
                              "its socket is full; it does not read its messages", events);
        }
        // Readers see the flag only after the message is queued on their socket.
        retired->header().state.fetch_or(layout::kPoolRetired, std::memory_order_seq_cst);
        impl.wakeReaders(true);
        log(LogLevel::Info, "feed '" + impl.paths.name + "': format is now " + format.describe() +
                                " (pool generation " + std::to_string(generation) + ")");
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
    impl_->pool->header().eos.store(layout::kEosFlag | impl_->sequence, std::memory_order_seq_cst);
    impl_->wakeReaders(true);
    return {};
}

void Writer::close() {
    if (impl_) {
        impl_->shutdown();
    }
}

Format Writer::format() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->pool->format;
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
