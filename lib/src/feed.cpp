// SPDX-License-Identifier: LGPL-2.1-or-later
#include "shmframe/feed.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "feed_dir.h"
#include "feed_lock.h"
#include "feed_paths.h"
#include "reader_link.h"
#include "shmframe/writer_policy.h"
#include "writer_credentials.h"

namespace shmframe {
namespace {

constexpr std::string_view kSocketSuffix = ".sock";

bool validNameChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

std::string defaultFeedDirectory() {
    if (const char* dir = std::getenv("SHMFRAME_DIR"); dir && *dir) {
        return dir;
    }
    // The XDG spec: a relative XDG_RUNTIME_DIR is invalid and ignored.
    if (const char* runtime = std::getenv("XDG_RUNTIME_DIR"); runtime && runtime[0] == '/') {
        return std::string(runtime) + "/shmframe";
    }
    // The shared fallback; feed_dir::check() makes sure nobody else made it first.
    const char* tmp = std::getenv("TMPDIR");
    const std::string base = tmp && tmp[0] == '/' ? tmp : "/tmp";
    return base + "/shmframe-" + std::to_string(::getuid());
}

feed_dir::Origin feedDirectoryOrigin() {
    const char* dir = std::getenv("SHMFRAME_DIR");
    return dir && *dir ? feed_dir::Origin::Chosen : feed_dir::Origin::Implicit;
}

// The feed dir as a reader finds it: checked like the writer checks it, when it exists.
Result<void> checkExistingFeedDirectory(const std::string& dir) {
    if (auto named = feed_dir::checkNamed(dir); !named) {
        return named;
    }
    struct stat info {};
    if (::lstat(dir.c_str(), &info) != 0 && errno == ENOENT) {
        return {};  // no writer yet; connecting says so
    }
    return feed_dir::check(dir, feedDirectoryOrigin());
}

// A writer that holds its feed but does not answer (SIGSTOP, hung): who it is.
FeedInfo notResponding(const FeedPaths& paths) {
    FeedInfo info;
    info.name = paths.name;
    info.socketPath = paths.socket;
    info.responding = false;
    // The kernel knows who made the socket, even while its writer is stopped...
    if (auto sock = connectToWriter(paths)) {
        info.writerPid = peerPid(sock->get());
    }
    // ...unless its listen queue is full: then the pid the writer wrote in its lock.
    if (info.writerPid <= 0) {
        UniqueFd lock(::open(paths.lock.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
        // "shmframe-lock <pid>" (feed_lock.cpp); anything else names no pid.
        constexpr std::string_view kMarker = "shmframe-lock ";
        char text[40] = {};
        if (lock && ::read(lock.get(), text, sizeof(text) - 1) > 0 &&
            std::string_view(text).starts_with(kMarker)) {
            const long pid = std::strtol(text + kMarker.size(), nullptr, 10);
            info.writerPid = pid > 0 && pid < (1L << 22) ? static_cast<pid_t>(pid) : 0;
        }
    }
    return info;
}

// A name a reader gave itself, safe to print on a terminal or in JSON: printable
// ASCII, anything else (escape sequences, invalid UTF-8) as '?'.
std::string printableName(std::string name) {
    for (char& c : name) {
        if (c < 0x20 || c > 0x7e) {
            c = '?';
        }
    }
    return name;
}

}  // namespace

Result<void> validateFeedName(std::string_view feed) {
    if (!feed.empty() && feed.front() == '/') {
        if (feed.size() >= sizeof(sockaddr_un{}.sun_path)) {
            return Error::make(Errc::InvalidFeedName,
                               "socket path '" + std::string(feed) + "' is longer than " +
                                   std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) + " bytes");
        }
        return {};
    }
    const bool valid = !feed.empty() && feed.size() <= 64 && feed != "." && feed != ".." &&
                       std::all_of(feed.begin(), feed.end(), validNameChar);
    if (!valid) {
        return Error::make(Errc::InvalidFeedName,
                           "invalid feed name '" + std::string(feed) +
                               "': use 1 to 64 of the characters A-Z a-z 0-9 . _ - "
                               "(or an absolute socket path)");
    }
    return {};
}

std::string feedDirectory() {
    return defaultFeedDirectory();
}

Result<std::string> ensureFeedDirectory() {
    std::string dir = defaultFeedDirectory();
    if (auto named = feed_dir::checkNamed(dir); !named) {
        return std::move(named).error();
    }
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
        return Error::make(
            errno == EACCES ? Errc::PermissionDenied : Errc::SystemError,
            "cannot create the feed directory " + dir + " (set SHMFRAME_DIR to a writable folder)",
            errno);
    }
    // The shared /tmp fallback could have been made by someone else to catch our feeds.
    if (auto trusted = feed_dir::check(dir, feedDirectoryOrigin()); !trusted) {
        return std::move(trusted).error();
    }
    return dir;
}

Result<std::string> socketPathFor(std::string_view feed) {
    auto paths = resolveFeed(feed, FeedDir::DoNotCreate);
    if (!paths) {
        return std::move(paths).error();
    }
    return paths->socket;
}

Result<FeedPaths> resolveFeed(std::string_view feed, FeedDir dirMode) {
    if (auto valid = validateFeedName(feed); !valid) {
        return std::move(valid).error();
    }
    FeedPaths paths;
    paths.name = std::string(feed);
    if (feed.front() == '/') {
        paths.socket = std::string(feed);
        const auto slash = paths.socket.rfind('/');
        paths.dir = slash == 0 ? "/" : paths.socket.substr(0, slash);
        paths.socketFile = paths.socket.substr(slash + 1);
        std::string stem = paths.socket;
        if (stem.size() > kSocketSuffix.size() && stem.ends_with(kSocketSuffix)) {
            stem.resize(stem.size() - kSocketSuffix.size());
        }
        paths.lock = stem + ".lock";
    } else {
        if (dirMode == FeedDir::Create) {
            auto dir = ensureFeedDirectory();
            if (!dir) {
                return std::move(dir).error();
            }
            paths.dir = *dir;
        } else {
            paths.dir = defaultFeedDirectory();
            if (auto trusted = checkExistingFeedDirectory(paths.dir); !trusted) {
                return std::move(trusted).error();
            }
        }
        paths.socketFile = paths.name + std::string(kSocketSuffix);
        paths.socket = paths.dir + "/" + paths.socketFile;
        paths.lock = paths.dir + "/" + paths.name + ".lock";
    }
    // Room for the writer's temporary name "<socket>.<pid>.tmp" too.
    if (paths.socket.size() + 16 >= sizeof(sockaddr_un{}.sun_path)) {
        return Error::make(Errc::InvalidFeedName,
                           "socket path " + paths.socket +
                               " is too long for a Unix socket; use a shorter SHMFRAME_DIR");
    }
    return paths;
}

Result<void> checkFeedDirectory() {
    return checkExistingFeedDirectory(defaultFeedDirectory());
}

Result<UniqueFd> connectToWriter(const FeedPaths& paths, const ReaderOptions& trust) {
    UniqueFd sock(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    if (!sock) {
        return Error::fromErrno("socket", errno);
    }
    // A writer that does not accept (stopped, hung, or hostile) lets connect() wait
    // forever once its listen queue is full: bound the wait like the handshake's.
    const timeval timeout{2, 0};
    ::setsockopt(sock.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, paths.socket.c_str(), paths.socket.size() + 1);
    int result;
    do {
        result = ::connect(sock.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address));
    } while (result != 0 && errno == EINTR);
    if (result == 0) {
        if (auto trusted = checkWriterCredentials(sock.get(), trust, paths.dir); !trusted) {
            return std::move(trusted).error();
        }
        return sock;
    }
    const int err = errno;
    // Something else at the socket's name (connect() says "refused" to a regular file):
    // say what is there instead of waiting for a writer that cannot come.
    struct stat info {};
    if (err == ECONNREFUSED && ::lstat(paths.socket.c_str(), &info) == 0 &&
        !S_ISSOCK(info.st_mode)) {
        return Error::make(Errc::ProtocolMismatch,
                           paths.socket + " is not a socket but " +
                               (S_ISREG(info.st_mode)   ? "a regular file"
                                : S_ISDIR(info.st_mode) ? "a directory"
                                                        : "some other file") +
                               ": no shmframe writer made it; check the feed name or socket path");
    }
    const std::string where = "no writer for feed '" + paths.name + "' (looked in " + paths.dir;
    switch (err) {
        case ENOENT:
            return Error::make(Errc::NoWriter, where + "); start a writer or check SHMFRAME_DIR");
        case ECONNREFUSED:
            return Error::make(Errc::NoWriter, where + "; its last writer died)");
        case EACCES:
        case EPERM:
            return Error::make(Errc::PermissionDenied,
                               "cannot reach the socket of feed '" + paths.name + "' at " +
                                   paths.socket + ": it belongs to another user",
                               err);
        case EAGAIN:
            return Error::make(Errc::Timeout, "the writer of feed '" + paths.name +
                                                  "' did not accept our connection within 2 s "
                                                  "(its queue is full: is it stopped or hung?)");
        case EPROTOTYPE:
            return Error::make(Errc::ProtocolMismatch,
                               paths.socket + " is not a shmframe socket (wrong socket type)");
        default:
            return Error::make(Errc::SystemError, "connecting to " + paths.socket, err);
    }
}

Result<FeedInfo> probeFeed(std::string_view feed) {
    auto paths = resolveFeed(feed, FeedDir::DoNotCreate);
    if (!paths) {
        return std::move(paths).error();
    }
    auto answer = probeWriter(*paths);
    if (!answer) {
        return std::move(answer).error();
    }
    const layout::PoolDescription& description = answer->header.description();
    const layout::PoolHeader& header = answer->header.header();
    FeedInfo info;
    info.name = paths->name;
    info.socketPath = paths->socket;
    info.format = description.format;
    info.writerPid = static_cast<pid_t>(description.writerPid);
    info.slotCount = description.geometry.slotCount;
    info.leaseLimit = description.leaseLimit;
    info.generation = description.generation;
    info.policy = std::string(toString(static_cast<WriterPolicy>(description.policy)));
    info.published = header.published.load(std::memory_order_relaxed);
    info.readers = header.readers.load(std::memory_order_relaxed);
    info.lastPublishNs = header.lastPublishNs.load(std::memory_order_relaxed);
    info.endOfStream = header.eos.load(std::memory_order_relaxed) != 0;
    info.poolBytes = answer->welcome.poolSize;
    if (answer->readers) {
        info.readerTableKnown = true;
        const std::uint64_t latest = answer->readers->head.latest;
        for (const protocol::ReaderRow& row : answer->readers->rows) {
            FeedReader reader;
            reader.id = row.readerId;
            reader.pid = static_cast<pid_t>(row.pid);
            reader.uid = static_cast<uid_t>(row.uid);
            reader.clientName =
                printableName(protocol::textOf(row.clientName, sizeof(row.clientName)));
            reader.sequential = (row.flags & protocol::kRowSequential) != 0;
            reader.leaseLimit = row.leaseCount;
            reader.leasesHeld = row.leasesHeld;
            reader.revokedLeases = row.revokedLeases;
            reader.reportsProgress = (row.flags & protocol::kRowReportsProgress) != 0;
            if (reader.reportsProgress) {
                reader.lag = latest - row.delivered;  // parse() checked delivered <= latest
                reader.received = row.received;
                reader.drops = row.missed;
            }
            info.readerTable.push_back(std::move(reader));
        }
    }
    return info;
}

std::vector<FeedInfo> listFeeds() {
    std::vector<FeedInfo> feeds;
    const std::string dir = defaultFeedDirectory();
    if (!checkFeedDirectory()) {
        return feeds;
    }
    DIR* handle = ::opendir(dir.c_str());
    if (!handle) {
        return feeds;
    }
    std::vector<std::string> names;
    while (dirent* entry = ::readdir(handle)) {
        std::string_view file = entry->d_name;
        if (file.size() > kSocketSuffix.size() && file.ends_with(kSocketSuffix)) {
            names.emplace_back(file.substr(0, file.size() - kSocketSuffix.size()));
        }
    }
    ::closedir(handle);
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
        if (!validateFeedName(name)) {
            continue;
        }
        auto info = probeFeed(name);
        if (info) {
            feeds.push_back(std::move(*info));
        } else if (info.error().code == Errc::Timeout) {
            if (auto paths = resolveFeed(name, FeedDir::DoNotCreate)) {
                feeds.push_back(notResponding(*paths));
            }
        } else if (info.error().code == Errc::NoWriter) {
            if (auto paths = resolveFeed(name, FeedDir::DoNotCreate)) {
                FeedLock::removeIfStale(*paths);
            }
        }
    }
    return feeds;
}

}  // namespace shmframe
