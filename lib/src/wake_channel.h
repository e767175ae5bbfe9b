// SPDX-License-Identifier: LGPL-2.1-or-later
// How a writer wakes its sleeping readers with one syscall, however many they are.
//
// The writer holds one eventfd, its news, which it never hands out. Each reader gets
// an epoll instance of its own that watches the news edge-triggered: every write to
// the eventfd makes every such instance readable, and nesting it (also edge-
// triggered) in the reader's own epoll set passes that on, so a reader needs no
// read and no second wait to take a wake-up. A reader holds no fd to the eventfd:
// it cannot read, fill or block it, nor change its flags; all it can touch is its
// own epoll instance.
//
// One thing a reader can do to others through a shared eventfd: the kernel lets a
// file's wake-ups pass through a bounded number of nested epoll sets (500 one level
// up, 100 two levels up), counted over every epoll watching it. A reader that nests
// its listener hundreds of times would use that up for every other reader. So each
// reader uid gets an eventfd of its own: a reader can only spend its own uid's
// budget, whose other processes it could disturb anyway. Readers usually all run as
// one uid, so a publish is still one write.
#pragma once

#include <sys/types.h>

#include <vector>

#include "shmframe/error.h"
#include "unique_fd.h"

namespace shmframe {

class WakeChannel final {
  public:
    WakeChannel() = default;

    /// A new epoll instance watching the news of \a uid's readers (EPOLLIN | EPOLLET):
    /// one reader's listener.
    Result<UniqueFd> newListener(uid_t uid);

    /// Notes that a reader of \a uid asked to be woken by the next flush().
    void request(uid_t uid);
    /// Wakes the listeners of every uid requested since the last flush: one write per
    /// uid (readers usually share one), which never blocks.
    void flush();
    /// Wakes every listener: one write per reader uid.
    void signalAll();
    /// Closes the news of a uid that has no readers left (its listeners are gone).
    void forget(uid_t uid);

    /// Whether \a fd, as the writer handed it to a reader, is a listener: an epoll
    /// instance (the reader cannot see what it watches).
    static bool isListener(int fd);

  private:
    struct News {
        uid_t uid;
        UniqueFd eventFd;  // O_NONBLOCK, never read but to reset a full counter
        bool requested = false;
    };
    static void write(const News& news);
    std::vector<News> news_;  // a few entries: one per uid with readers
};

}  // namespace shmframe
