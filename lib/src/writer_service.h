// SPDX-License-Identifier: LGPL-2.1-or-later
// The writer's service thread: one epoll loop that accepts connections on the feed's
// socket, checks each peer's credentials first, waits (bounded) for its Hello, and
// then hands it to the writer; afterwards it tells the writer when a reader's socket
// has something to say. It owns the pending peers only; the writer owns its readers.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "protocol.h"
#include "reader_connection.h"
#include "shmframe/error.h"
#include "shmframe/writer.h"
#include "unique_fd.h"

namespace shmframe {

class WriterService final {
  public:
    /// What the service needs of its writer. Called from the service thread.
    class Host {
      public:
        virtual ~Host() = default;
        /**
         * A peer the access policy allows said Hello. Answer it and keep it (move it
         * out of \a peer), or answer it and leave it to be closed. Returns why it was
         * refused, for the service's log; nullopt when it was welcomed or probed.
         */
        virtual std::optional<std::string> admit(std::unique_ptr<ReaderConnection>& peer,
                                                 const protocol::Hello& hello) = 0;
        /// A kept reader's socket is readable or hung up.
        virtual void readerReadable(std::uint32_t readerId) = 0;
    };

    /// Starts the thread on \a listenFd (a listening, non-blocking socket).
    static Result<std::unique_ptr<WriterService>> start(std::string feedName, UniqueFd listenFd,
                                                        AccessPolicy access, Host& host);

    WriterService(const WriterService&) = delete;
    WriterService& operator=(const WriterService&) = delete;
    /// Stops the thread and closes the listening socket and every pending peer.
    ~WriterService();

    struct State;

  private:
    explicit WriterService(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

}  // namespace shmframe
