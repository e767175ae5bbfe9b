// SPDX-License-Identifier: LGPL-2.1-or-later
#include "feed_lock.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>
#include <thread>

namespace shmframe {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kLockMarker = "shmframe-lock ";
constexpr int kAcquireAttempts = 50;

std::string lockText() {
    return std::string(kLockMarker) + std::to_string(::getpid()) + "\n";
}

// What a file at one of our names is, in words, for errors.
std::string kindOf(const struct stat& info) {
    switch (info.st_mode & S_IFMT) {
        case S_IFREG:
            return "a regular file";
        case S_IFDIR:
            return "a directory";
        case S_IFLNK:
            return "a symbolic link";
        case S_IFSOCK:
            return "a socket";
        case S_IFIFO:
            return "a named pipe";
        default:
            return "a device";
    }
}

Error notOurs(const std::string& path, const std::string& what, const std::string& why = {}) {
    return Error::make(Errc::InvalidArgument,
                       path + " is " + what + " that shmframe did not make" + why +
                           ", so it is left alone: remove it if nothing needs it, or choose "
                           "another feed name or socket path");
}

// The lock file's content: nullopt when it is not a shmframe lock file, else the pid
// inside (0 while the writer that made it has not written it yet).
struct LockContent {
    bool empty = false;
    bool ours = false;
    pid_t pid = 0;
};

LockContent readLock(int fd) {
    char text[64] = {};
    const ssize_t got = ::pread(fd, text, sizeof(text) - 1, 0);
    LockContent content;
    if (got <= 0) {
        content.empty = got == 0;
        return content;
    }
    const std::string_view view(text, static_cast<std::size_t>(got));
    if (!view.starts_with(kLockMarker)) {
        return content;
    }
    content.ours = true;
    content.pid = static_cast<pid_t>(std::strtol(text + kLockMarker.size(), nullptr, 10));
    return content;
}

bool sameFile(int fd, const std::string& path) {
    struct stat opened {};
    struct stat named {};
    return ::fstat(fd, &opened) == 0 && ::lstat(path.c_str(), &named) == 0 &&
           opened.st_ino == named.st_ino && opened.st_dev == named.st_dev;
}

// Creates the lock file already holding our marker and our flock: an O_TMPFILE filled
// and locked first, then linked into place, so nobody ever sees it empty. Returns an
// invalid fd when a file is there already (or the link lost a race).
Result<UniqueFd> createLock(const FeedPaths& paths) {
    const std::string text = lockText();
    UniqueFd fd(::open(paths.dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
    if (fd) {
        if (::pwrite(fd.get(), text.data(), text.size(), 0) != ssize_t(text.size()) ||
            ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
            return Error::fromErrno("writing the feed lock " + paths.lock, errno);
        }
        const std::string self = "/proc/self/fd/" + std::to_string(fd.get());
        if (::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, paths.lock.c_str(), AT_SYMLINK_FOLLOW) ==
            0) {
            return fd;
        }
        if (errno == EEXIST) {
            return UniqueFd();
        }
        // No /proc, or a file system that cannot link an O_TMPFILE: the plain way below.
    }
    fd = UniqueFd(
        ::open(paths.lock.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd) {
        if (errno == EEXIST) {
            return UniqueFd();
        }
        return Error::make(errno == EACCES ? Errc::PermissionDenied : Errc::SystemError,
                           "cannot create the feed lock " + paths.lock, errno);
    }
    // Empty for a moment: another writer that finds it so waits and looks again.
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0 ||
        ::pwrite(fd.get(), text.data(), text.size(), 0) != ssize_t(text.size())) {
        return Error::fromErrno("writing the feed lock " + paths.lock, errno);
    }
    return fd;
}

// Opens an existing file at the lock's name if it is a regular file; errors for
// anything else.
Result<UniqueFd> openExistingLock(const FeedPaths& paths) {
    struct stat info {};
    if (::lstat(paths.lock.c_str(), &info) != 0) {
        return UniqueFd();  // gone meanwhile: try to create it again
    }
    if (!S_ISREG(info.st_mode)) {
        return notOurs(paths.lock, kindOf(info));
    }
    UniqueFd fd(::open(paths.lock.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    if (!fd) {
        if (errno == ENOENT) {
            return UniqueFd();
        }
        return Error::make(errno == EACCES ? Errc::PermissionDenied : Errc::SystemError,
                           "cannot open the feed lock " + paths.lock, errno);
    }
    return fd;
}

}  // namespace

FeedLock::FeedLock(FeedPaths paths, UniqueFd lockFd, bool tookOver)
    : paths_(std::move(paths)), lockFd_(std::move(lockFd)), tookOver_(tookOver) {}

FeedLock::FeedLock(FeedLock&& other) noexcept
    : paths_(std::move(other.paths_)),
      lockFd_(std::move(other.lockFd_)),
      tookOver_(other.tookOver_),
      socketPublished_(std::exchange(other.socketPublished_, false)),
      socketDevice_(other.socketDevice_),
      socketInode_(other.socketInode_) {}

FeedLock& FeedLock::operator=(FeedLock&& other) noexcept {
    if (this != &other) {
        release();
        paths_ = std::move(other.paths_);
        lockFd_ = std::move(other.lockFd_);
        tookOver_ = other.tookOver_;
        socketPublished_ = std::exchange(other.socketPublished_, false);
        socketDevice_ = other.socketDevice_;
        socketInode_ = other.socketInode_;
    }
    return *this;
}

FeedLock::~FeedLock() {
    release();
}

void FeedLock::release() noexcept {
    if (socketPublished_) {
        // Only the socket we put there: never a file someone put in its place since.
        struct stat info {};
        if (::lstat(paths_.socket.c_str(), &info) == 0 && S_ISSOCK(info.st_mode) &&
            info.st_dev == socketDevice_ && info.st_ino == socketInode_) {
            ::unlink(paths_.socket.c_str());
        }
        socketPublished_ = false;
    }
    if (lockFd_) {
        if (sameFile(lockFd_.get(), paths_.lock)) {
            ::unlink(paths_.lock.c_str());  // still holding it: nobody raced us to it
        }
        lockFd_.reset();
    }
}

Result<FeedLock> FeedLock::acquire(const FeedPaths& paths) {
    for (int attempt = 0; attempt < kAcquireAttempts; ++attempt) {
        auto created = createLock(paths);
        if (!created) {
            return std::move(created).error();
        }
        if (*created) {
            return FeedLock(paths, std::move(*created), false);
        }
        auto existing = openExistingLock(paths);
        if (!existing) {
            return std::move(existing).error();
        }
        if (!*existing) {
            continue;
        }
        UniqueFd fd = std::move(*existing);
        const bool locked = ::flock(fd.get(), LOCK_EX | LOCK_NB) == 0;
        const int lockErrno = errno;
        // A dying writer unlinks its lock file: make sure the one we hold is still the named one.
        if (!sameFile(fd.get(), paths.lock)) {
            continue;
        }
        if (!locked && lockErrno != EWOULDBLOCK) {
            return Error::fromErrno("locking " + paths.lock, lockErrno);
        }
        const LockContent content = readLock(fd.get());
        if (!content.ours) {
            if (content.empty && attempt + 1 < kAcquireAttempts) {
                std::this_thread::sleep_for(10ms);  // a writer between creating and filling it
                continue;
            }
            return notOurs(paths.lock, content.empty ? "an empty file" : "a file",
                           " (its first line is not 'shmframe-lock <pid>')");
        }
        if (locked) {
            // A dead writer's lock: ours now.
            const std::string text = lockText();
            if (::ftruncate(fd.get(), 0) != 0 ||
                ::pwrite(fd.get(), text.data(), text.size(), 0) != ssize_t(text.size())) {
                return Error::fromErrno("writing the pid into " + paths.lock, errno);
            }
            return FeedLock(paths, std::move(fd), true);
        }
        // No pid yet, or a dead one (a reader is cleaning up after it): both settle
        // within milliseconds.
        if (content.pid <= 0 || (::kill(content.pid, 0) != 0 && errno == ESRCH)) {
            std::this_thread::sleep_for(10ms);
            continue;
        }
        return Error::make(Errc::WriterExists, "feed '" + paths.name +
                                                   "' already has a live writer (pid " +
                                                   std::to_string(content.pid) +
                                                   "); stop it or choose another feed name");
    }
    return Error::make(
        Errc::WriterExists,
        "feed '" + paths.name + "' is being taken over by another writer; try again");
}

Result<UniqueFd> FeedLock::listen(SocketAccess access) {
    // What is at the socket's name now: nothing, or the socket of the dead writer whose
    // lock we took over. A socket without a shmframe lock beside it is another program's.
    struct stat existing {};
    const bool occupied = ::lstat(paths_.socket.c_str(), &existing) == 0;
    if (occupied && !S_ISSOCK(existing.st_mode)) {
        return notOurs(paths_.socket, kindOf(existing));
    }
    if (occupied && !tookOver_) {
        return notOurs(paths_.socket, "a socket",
                       " (there is no shmframe lock file " + paths_.lock + " beside it)");
    }

    UniqueFd listenFd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!listenFd) {
        return Error::fromErrno("socket", errno);
    }
    // Bind under a temporary name and rename it into place: readers watching the feed
    // dir only ever see a socket that is already listening, and a stale one is replaced
    // atomically.
    const std::string temporary = paths_.socket + "." + std::to_string(::getpid()) + ".tmp";
    struct stat leftover {};
    if (::lstat(temporary.c_str(), &leftover) == 0) {
        if (!S_ISSOCK(leftover.st_mode)) {
            return notOurs(temporary, kindOf(leftover));
        }
        ::unlink(temporary.c_str());  // our name, under our lock: an earlier attempt's
    }
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, temporary.c_str(), temporary.size() + 1);
    if (::bind(listenFd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
        return Error::make(errno == EACCES ? Errc::PermissionDenied : Errc::SystemError,
                           "cannot create the feed socket " + temporary, errno);
    }
    ::chmod(temporary.c_str(), access == SocketAccess::Anyone ? 0666 : 0600);
    // Into place: over the dead writer's socket, or only where nothing is, so that a
    // file that appeared since we looked is never replaced.
    const int renamed = occupied ? ::rename(temporary.c_str(), paths_.socket.c_str())
                                 : ::renameat2(AT_FDCWD, temporary.c_str(), AT_FDCWD,
                                               paths_.socket.c_str(), RENAME_NOREPLACE);
    if (::listen(listenFd.get(), 64) != 0 || renamed != 0) {
        const int err = errno;
        ::unlink(temporary.c_str());
        if (err == EEXIST) {
            return notOurs(paths_.socket, "a file", " (it appeared while the writer started)");
        }
        return Error::fromErrno("publishing the feed socket " + paths_.socket, err);
    }
    struct stat published {};
    if (::lstat(paths_.socket.c_str(), &published) == 0) {
        socketPublished_ = true;
        socketDevice_ = published.st_dev;
        socketInode_ = published.st_ino;
    }
    return listenFd;
}

bool FeedLock::removeIfStale(const FeedPaths& paths) {
    struct stat info {};
    if (::lstat(paths.lock.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) {
        return false;  // no shmframe lock: a socket without one is not ours to judge
    }
    UniqueFd lock(::open(paths.lock.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    if (!lock || ::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
        return false;  // a live writer holds it
    }
    if (!readLock(lock.get()).ours || !sameFile(lock.get(), paths.lock)) {
        return false;
    }
    // We hold the lock of a dead writer: nobody can be starting up on it right now.
    if (::lstat(paths.socket.c_str(), &info) == 0 && S_ISSOCK(info.st_mode)) {
        ::unlink(paths.socket.c_str());
    }
    ::unlink(paths.lock.c_str());
    return true;
}

}  // namespace shmframe
