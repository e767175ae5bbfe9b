// SPDX-License-Identifier: LGPL-2.1-or-later
#include "unique_fd.h"

#include <unistd.h>

namespace shmframe {

void UniqueFd::reset(int fd) noexcept {
    if (fd_ >= 0 && fd_ != fd) {
        ::close(fd_);
    }
    fd_ = fd;
}

}  // namespace shmframe
