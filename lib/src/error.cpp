// SPDX-License-Identifier: LGPL-2.1-or-later
#include "shmframe/error.h"

#include <cstring>

namespace shmframe {

std::string_view toString(Errc code) {
    switch (code) {
        case Errc::InvalidArgument:
            return "invalid-argument";
        case Errc::InvalidFeedName:
            return "invalid-feed-name";
        case Errc::NoWriter:
            return "no-writer";
        case Errc::WriterExists:
            return "writer-exists";
        case Errc::PermissionDenied:
            return "permission-denied";
        case Errc::ProtocolMismatch:
            return "protocol-mismatch";
        case Errc::BadMessage:
            return "bad-message";
        case Errc::BadPool:
            return "bad-pool";
        case Errc::Timeout:
            return "timeout";
        case Errc::WouldBlock:
            return "would-block";
        case Errc::WriterGone:
            return "writer-gone";
        case Errc::EndOfStream:
            return "end-of-stream";
        case Errc::Dropped:
            return "dropped";
        case Errc::SystemError:
            return "system-error";
        case Errc::Unsupported:
            return "unsupported";
        case Errc::Interrupted:
            return "interrupted";
    }
    return "unknown";
}

Error Error::make(Errc code, std::string message, int sysErrno) {
    if (sysErrno != 0) {
        message += ": ";
        message += std::strerror(sysErrno);
    }
    return Error{code, std::move(message), sysErrno};
}

Error Error::fromErrno(std::string_view what, int err) {
    return make(Errc::SystemError, std::string(what), err);
}

}  // namespace shmframe
