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
#pragma once

#include "shmframe/error.h"
#include "unique_fd.h"

namespace shmframe {

class WakeChannel final {
  public:
    static Result<WakeChannel> create();

    /// A new epoll instance watching the news (EPOLLIN | EPOLLET): one reader's listener.
    Result<UniqueFd> newListener() const;

    /// Wakes every listener: one write to the eventfd, which never blocks.
    void signal() const;

    /// Whether \a fd, as the writer handed it to a reader, is a listener: an epoll
    /// instance (the reader cannot see what it watches).
    static bool isListener(int fd);

  private:
    explicit WakeChannel(UniqueFd news) : news_(std::move(news)) {}
    UniqueFd news_;  // eventfd, O_NONBLOCK, never read but to reset a full counter
};

}  // namespace shmframe
