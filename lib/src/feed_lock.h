// SPDX-License-Identifier: LGPL-2.1-or-later
// The feed lock: the one owner of a feed's files on disk, the lock file (flock'ed,
// our pid inside) and the socket. It is the only code that ever removes a feed file,
// and it touches only files that shmframe made: a lock file starts with the line
// "shmframe-lock <pid>", and a socket is ours only when such a lock file lies beside it.
#pragma once

#include <sys/types.h>

#include <string>

#include "feed_paths.h"
#include "shmframe/error.h"
#include "unique_fd.h"

namespace shmframe {

/// Who may connect to the feed's socket; SO_PEERCRED decides who may read.
enum class SocketAccess { OwnerOnly, Anyone };

class FeedLock final {
  public:
    /**
     * Takes the feed's lock for a new writer. WriterExists when a live writer holds it;
     * InvalidArgument when something that shmframe did not make lies at the lock's
     * name (the error says what is there and what to do).
     */
    static Result<FeedLock> acquire(const FeedPaths& paths);

    /**
     * Removes the socket and lock left by a writer that died without cleaning up:
     * only when the lock file is shmframe's and free, and only a socket at the
     * socket's name. Returns true when it removed the lock.
     */
    static bool removeIfStale(const FeedPaths& paths);

    FeedLock(FeedLock&& other) noexcept;
    FeedLock& operator=(FeedLock&& other) noexcept;
    FeedLock(const FeedLock&) = delete;
    FeedLock& operator=(const FeedLock&) = delete;
    /// Removes the socket (if it published one), then the lock file it still holds.
    ~FeedLock();

    /**
     * Binds a listening socket under a temporary name and renames it into place, so
     * that readers only ever see a socket that listens. Replaces only the socket of
     * an earlier shmframe writer of this feed; anything else there is an error.
     */
    Result<UniqueFd> listen(SocketAccess access);

  private:
    FeedLock(FeedPaths paths, UniqueFd lockFd, bool tookOver);
    void release() noexcept;

    FeedPaths paths_;
    UniqueFd lockFd_;
    bool tookOver_ = false;  // the lock file was there before us (a dead writer's)
    bool socketPublished_ = false;
    dev_t socketDevice_ = 0;
    ino_t socketInode_ = 0;
};

}  // namespace shmframe
