// SPDX-License-Identifier: LGPL-2.1-or-later
#include "writer_credentials.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace shmframe {

Result<void> checkWriterCredentials(int fd, const ReaderOptions& options, const std::string& dir) {
    ucred writer{};
    socklen_t length = sizeof(writer);
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &writer, &length) != 0 ||
        length != sizeof(writer)) {
        return Error::fromErrno("asking the kernel who the writer is (SO_PEERCRED)", errno);
    }
    if (options.acceptAnyWriter || writer.uid == ::getuid() || writer.uid == ::geteuid() ||
        writer.uid == 0 ||
        std::find(options.trustedWriterUids.begin(), options.trustedWriterUids.end(), writer.uid) !=
            options.trustedWriterUids.end()) {
        return {};
    }
    return Error::make(Errc::PermissionDenied,
                       "refused the writer in " + dir + ": it runs as uid " +
                           std::to_string(writer.uid) + " (pid " + std::to_string(writer.pid) +
                           "), not as you (uid " + std::to_string(::getuid()) +
                           ") nor root; if this feed is shared on purpose, trust that uid "
                           "(ReaderOptions::trustedWriterUids)");
}

pid_t peerPid(int fd) {
    ucred peer{};
    socklen_t length = sizeof(peer);
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &length) != 0 || length != sizeof(peer)) {
        return 0;
    }
    return peer.pid;
}

}  // namespace shmframe
