// SPDX-License-Identifier: LGPL-2.1-or-later
#include "robustness_support.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "memfd.h"

namespace shmframe::robust {

long residentKb(pid_t pid) {
    const std::string path =
        pid == 0 ? "/proc/self/statm" : "/proc/" + std::to_string(pid) + "/statm";
    std::ifstream in(path);
    long size = 0;
    long resident = -1;
    if (!(in >> size >> resident)) {
        return -1;
    }
    return resident * (::sysconf(_SC_PAGESIZE) / 1024);
}

int openFdCount(pid_t pid) {
    const std::string path = "/proc/" + std::to_string(pid) + "/fd";
    DIR* dir = ::opendir(path.c_str());
    if (!dir) {
        return -1;
    }
    int count = 0;
    while (dirent* entry = ::readdir(dir)) {
        if (entry->d_name[0] != '.') {
            ++count;
        }
    }
    ::closedir(dir);
    return count;
}

std::vector<std::string> devShmEntries() {
    std::vector<std::string> names;
    DIR* dir = ::opendir("/dev/shm");
    if (!dir) {
        return names;
    }
    while (dirent* entry = ::readdir(dir)) {
        std::string name = entry->d_name;
        std::string lower = name;
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (lower.find("shmframe") != std::string::npos) {
            names.push_back(name);
        }
    }
    ::closedir(dir);
    std::sort(names.begin(), names.end());
    return names;
}

std::vector<std::string> mapsLines(pid_t pid, const std::string& needle) {
    const std::string path =
        pid == 0 ? "/proc/self/maps" : "/proc/" + std::to_string(pid) + "/maps";
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        if (line.find(needle) != std::string::npos) {
            lines.push_back(line);
        }
    }
    return lines;
}

// --- fixture -------------------------------------------------------------------------------

void RobustnessTest::SetUp() {
    fdsBefore_ = test::countOpenFds();
    devShmBefore_ = devShmEntries();
}

void RobustnessTest::TearDown() {
    const auto left = dir_.entries();
    std::string names;
    for (const auto& name : left) {
        names += " " + name;
    }
    EXPECT_TRUE(left.empty()) << "the feed dir still holds:" << names;
    EXPECT_EQ(test::countOpenFds(), fdsBefore_) << "this process leaked fds";
    EXPECT_EQ(devShmEntries(), devShmBefore_) << "something was left in /dev/shm";
}

// --- peers ---------------------------------------------------------------------------------

bool Peer::waitReady(std::chrono::milliseconds timeout) {
    return out.waitFor("ready", timeout).has_value();
}

int Peer::stop(std::chrono::milliseconds timeout) {
    // Resume only a peer that a test stopped: SIGCONT also discards the SIGSTOP with which
    // LeakSanitizer's exit-time check suspends a sanitized peer that is already exiting,
    // and that check then waits for ever.
    if (child.stopped()) {
        child.signal(SIGCONT);
    }
    child.signal(SIGTERM);
    return child.wait(timeout);
}

Peer startPeer(const std::vector<std::string>& args, bool quietStderr) {
    int fd = -1;
    Peer peer;
    peer.child = test::Child::spawnPiped(test::peerProgram(), args, &fd, quietStderr);
    peer.out = test::LineReader(fd);
    return peer;
}

namespace {

// Value of "key=" in a space-separated line.
std::optional<std::string> field(const std::string& line, const std::string& key) {
    const std::string needle = key + "=";
    std::size_t at = 0;
    while ((at = line.find(needle, at)) != std::string::npos) {
        if (at == 0 || line[at - 1] == ' ') {
            const auto start = at + needle.size();
            return line.substr(start, line.find(' ', start) - start);
        }
        at += needle.size();
    }
    return std::nullopt;
}

template <typename T>
bool number(const std::string& line, const std::string& key, T& out, int base = 10) {
    auto text = field(line, key);
    if (!text) {
        return false;
    }
    errno = 0;
    char* end = nullptr;
    const auto value = std::strtoull(text->c_str(), &end, base);
    if (errno != 0 || end == text->c_str()) {
        return false;
    }
    out = static_cast<T>(value);
    return true;
}

}  // namespace

std::optional<FrameLine> parseFrameLine(const std::string& line) {
    if (line.rfind("frame ", 0) != 0) {
        return std::nullopt;
    }
    FrameLine frame;
    int ok = 0;
    if (!number(line, "seq", frame.sequence) || !number(line, "pts", frame.pts) ||
        !number(line, "session", frame.session, 16) || !number(line, "gen", frame.generation) ||
        !number(line, "skipped", frame.skipped) || !number(line, "gaps", frame.gaps) ||
        !number(line, "ok", ok)) {
        return std::nullopt;
    }
    // "format=RGBA 64x48 @ 200/1 skipped=": the description holds spaces.
    const auto start = line.find("format=");
    const auto end = line.find(" skipped=");
    if (start != std::string::npos && end != std::string::npos && end > start) {
        frame.format = line.substr(start + 7, end - start - 7);
    }
    frame.intact = ok == 1;
    return frame;
}

std::optional<ReaderSummary> parseSummary(const std::string& line) {
    if (line.rfind("received=", 0) != 0) {
        return std::nullopt;
    }
    ReaderSummary summary;
    if (!number(line, "received", summary.received) || !number(line, "skipped", summary.skipped) ||
        !number(line, "gaps", summary.gaps) || !number(line, "bad", summary.bad) ||
        !number(line, "reconnects", summary.reconnects)) {
        return std::nullopt;
    }
    return summary;
}

std::optional<ReaderSummary> readSummary(test::LineReader& out, std::chrono::milliseconds timeout) {
    auto line = out.waitFor("received=", timeout);
    return line ? parseSummary(*line) : std::nullopt;
}

// --- in-process helpers ------------------------------------------------------------------

Result<void> publishPattern(Writer& writer, std::uint64_t k) {
    auto frame = writer.loan();
    if (!frame) {
        return std::move(frame).error();
    }
    test::fillPattern(frame->bytes(), k);
    FrameMeta meta;
    meta.pts = k;
    return writer.publish(std::move(*frame), meta);
}

Publisher::Publisher(Writer& writer, std::chrono::microseconds period) : writer_(writer) {
    thread_ = std::thread([this, period] {
        auto next = std::chrono::steady_clock::now();
        for (std::uint64_t k = 1; !stop_.load(); ++k) {
            if (auto published = publishPattern(writer_, k); !published) {
                std::lock_guard lock(mutex_);
                if (error_.empty()) {
                    error_ = published.error().message;
                }
            } else {
                published_.store(k);
            }
            next += period;
            std::this_thread::sleep_until(next);
        }
    });
}

Publisher::~Publisher() {
    stop();
}

void Publisher::stop() {
    stop_.store(true);
    if (thread_.joinable()) {
        thread_.join();
    }
}

std::string Publisher::error() const {
    std::lock_guard lock(mutex_);
    return error_;
}

LogCapture::LogCapture() {
    setLogHandler([state = state_](LogLevel, std::string_view message) {
        std::lock_guard lock(state->mutex);
        state->lines.emplace_back(message);
    });
}

LogCapture::~LogCapture() {
    setLogHandler({});
}

std::vector<std::string> LogCapture::lines() const {
    std::lock_guard lock(state_->mutex);
    return state_->lines;
}

bool LogCapture::contains(const std::string& text) const {
    std::lock_guard lock(state_->mutex);
    return std::any_of(state_->lines.begin(), state_->lines.end(),
                       [&](const std::string& line) { return line.find(text) != line.npos; });
}

std::function<void(const ReaderEvent&)> EventLog::handler() {
    return [state = state_](const ReaderEvent& event) {
        std::lock_guard lock(state->mutex);
        state->events.push_back(event);
    };
}

std::vector<ReaderEvent> EventLog::events() const {
    std::lock_guard lock(state_->mutex);
    return state_->events;
}

std::optional<ReaderEvent> EventLog::first(ReaderEvent::Kind kind) const {
    std::lock_guard lock(state_->mutex);
    for (const auto& event : state_->events) {
        if (event.kind == kind) {
            return event;
        }
    }
    return std::nullopt;
}

Format smallFormat(PixelFormat pixelFormat, std::uint32_t width, std::uint32_t height) {
    auto format = Format::make(pixelFormat, width, height, {30, 1});
    if (!format) {
        ADD_FAILURE() << format.error().message;
        return {};
    }
    return *format;
}

// --- raw protocol pieces -------------------------------------------------------------------

namespace {
sockaddr_un addressOf(const std::string& path) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
    return address;
}
}  // namespace

UniqueFd listenAt(const std::string& path, int backlog) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    ::unlink(path.c_str());
    const auto address = addressOf(path);
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0 ||
        ::listen(fd.get(), backlog) != 0) {
        ADD_FAILURE() << "cannot listen at " << path << ": " << std::strerror(errno);
        return UniqueFd();
    }
    return fd;
}

UniqueFd connectRaw(const std::string& path) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    const auto address = addressOf(path);
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
        return UniqueFd();
    }
    return fd;
}

bool sendRaw(int socket, const std::vector<std::byte>& bytes, const std::vector<int>& fds) {
    msghdr msg{};
    iovec iov{const_cast<std::byte*>(bytes.data()), bytes.size()};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    std::vector<char> control(CMSG_SPACE(sizeof(int) * std::max<std::size_t>(fds.size(), 1)));
    if (!fds.empty()) {
        msg.msg_control = control.data();
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
        cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
    }
    return ::sendmsg(socket, &msg, MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
}

std::vector<std::byte> helloMessage(std::uint32_t flags, const char* name) {
    protocol::Hello hello{};
    hello.flags = flags;
    hello.pid = static_cast<std::uint32_t>(::getpid());
    protocol::copyText(hello.clientName, sizeof(hello.clientName), name);
    return encodeMessage(protocol::MessageType::Hello, hello, 0);
}

UniqueFd makeMemfd(const char* name, std::size_t size, bool sealed) {
    auto fd = memfd::create(name, size);
    if (!fd) {
        ADD_FAILURE() << fd.error().message;
        return UniqueFd();
    }
    if (sealed) {
        if (auto done = memfd::seal(fd->get()); !done) {
            ADD_FAILURE() << done.error().message;
        }
    }
    return std::move(*fd);
}

void HonestParts::publish(std::uint32_t slot, std::uint64_t sequence) {
    const auto& g = description.geometry;
    std::byte* frame = poolMapping.data() + g.slotDataOffset + slot * g.slotDataStride;
    test::fillPattern({frame, static_cast<std::size_t>(description.format.frameSize)}, sequence);
    auto& slotHeader = layout::slotHeader(poolMapping.data(), g, slot);
    slotHeader.pts.store(sequence);
    slotHeader.sequence.store(sequence);
    header().latest.store(layout::packLatest(sequence, slot));
    header().published.store(sequence);
}

void HonestParts::wake() {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto woke = ::write(wakeWriter.get(), &one, sizeof(one));
}

HonestParts makeHonestParts(const Format& format, std::uint32_t slots, bool sealPool,
                            const std::function<void(layout::PoolHeader&)>& rewriteHeader) {
    HonestParts parts;
    auto geometry = layout::computeGeometry(format, slots, 64);
    if (!geometry) {
        ADD_FAILURE() << geometry.error().message;
        return parts;
    }
    parts.description.geometry = *geometry;
    parts.description.format = format;
    parts.description.writerSession = 0x5eed;
    parts.description.writerPid = static_cast<std::uint32_t>(::getpid());
    parts.description.generation = 1;
    parts.description.leaseLimit = 2;
    parts.description.policy = 0;
    parts.pool = makeMemfd("shmframe:fake", geometry->poolSize, false);
    auto mapping = Mapping::map(parts.pool.get(), geometry->poolSize, Mapping::Access::ReadWrite);
    if (!mapping) {
        ADD_FAILURE() << mapping.error().message;
        return parts;
    }
    parts.poolMapping = std::move(*mapping);
    layout::writeHeader(parts.header(), parts.description);
    if (rewriteHeader) {
        rewriteHeader(parts.header());
    }
    if (sealPool) {
        if (auto sealed = memfd::seal(parts.pool.get()); !sealed) {
            ADD_FAILURE() << sealed.error().message;
        }
    }

    parts.control = makeMemfd("shmframe-reader", layout::kControlBlockSize, true);
    auto control =
        Mapping::map(parts.control.get(), layout::kControlBlockSize, Mapping::Access::ReadWrite);
    if (!control) {
        ADD_FAILURE() << control.error().message;
        return parts;
    }
    parts.controlMapping = std::move(*control);
    parts.block().magic = layout::kControlMagic;
    parts.block().layoutVersion = layout::kLayoutVersion;
    parts.block().leaseCount = 2;
    parts.block().readerId = 2;

    parts.wakeWriter = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    parts.wakeReader = UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
    epoll_event watch{};
    watch.events = EPOLLIN | EPOLLET;
    if (!parts.wakeWriter || !parts.wakeReader ||
        ::epoll_ctl(parts.wakeReader.get(), EPOLL_CTL_ADD, parts.wakeWriter.get(), &watch) != 0) {
        ADD_FAILURE() << "making the wake-up fds: " << std::strerror(errno);
        return parts;
    }

    parts.welcome.writerSession = parts.description.writerSession;
    parts.welcome.poolSize = geometry->poolSize;
    parts.welcome.controlSize = layout::kControlBlockSize;
    parts.welcome.readerId = 2;
    parts.welcome.generation = 1;
    parts.welcome.writerPid = static_cast<std::uint32_t>(::getpid());
    return parts;
}

FakeWriter::FakeWriter(const std::string& socketPath, std::function<void(int)> serve, int backlog,
                       bool accept)
    : path_(socketPath) {
    UniqueFd listening = listenAt(socketPath, backlog);
    const pid_t parent = ::getpid();
    child_ = test::Child::fork([&]() -> int {
        // Never outlive the test, even one that dies without running destructors.
        if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) {
            return 1;
        }
        // The child only serves; a test that fails here shows as the reader's error.
        for (;;) {
            if (!accept) {
                ::pause();
                continue;
            }
            UniqueFd connection(::accept4(listening.get(), nullptr, nullptr, SOCK_CLOEXEC));
            if (!connection) {
                if (errno == EINTR) {
                    continue;
                }
                return 1;
            }
            serve(connection.get());
        }
    });
}

FakeWriter::~FakeWriter() {
    child_.kill();
    ::unlink(path_.c_str());
}

bool receiveHello(int connection) {
    pollfd pfd{connection, POLLIN, 0};
    if (::poll(&pfd, 1, 5000) <= 0) {
        return false;
    }
    std::byte buffer[512];
    return ::recv(connection, buffer, sizeof(buffer), 0) > 0;
}

void waitForHangUp(int connection, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return;
        }
        pollfd pfd{connection, POLLIN, 0};
        if (::poll(&pfd, 1, static_cast<int>(left.count())) > 0) {
            std::byte buffer[512];
            if (::recv(connection, buffer, sizeof(buffer), MSG_DONTWAIT) <= 0) {
                return;
            }
        }
    }
}

}  // namespace shmframe::robust
