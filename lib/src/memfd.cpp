// SPDX-License-Identifier: LGPL-2.1-or-later
#include "memfd.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace shmframe::memfd {

Result<UniqueFd> createEmpty(const std::string& name, std::size_t size) {
    UniqueFd fd(::memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!fd) {
        return Error::fromErrno("memfd_create", errno);
    }
    if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) {
        return Error::fromErrno("ftruncate of the pool to " + std::to_string(size) + " bytes",
                                errno);
    }
    return fd;
}

Result<UniqueFd> create(const std::string& name, std::size_t size) {
    auto fd = createEmpty(name, size);
    if (!fd) {
        return fd;
    }
    // Allocate every page now: a full tmpfs fails here with a clear error instead of a
    // SIGBUS on first touch.
    if (::fallocate(fd->get(), 0, 0, static_cast<off_t>(size)) != 0) {
        return Error::fromErrno("allocating " + std::to_string(size) + " bytes of shared memory",
                                errno);
    }
    return fd;
}

Result<void> seal(int fd, int extraSeals) {
    if (::fcntl(fd, F_ADD_SEALS, kRequiredSeals | extraSeals) != 0) {
        return Error::fromErrno("sealing the shared segment", errno);
    }
    return {};
}

Result<UniqueFd> reopenReadOnly(int fd) {
    const std::string path = "/proc/self/fd/" + std::to_string(fd);
    UniqueFd readOnly(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!readOnly) {
        return Error::fromErrno("reopening the pool read-only through " + path, errno);
    }
    return readOnly;
}

Result<void> checkSealed(int fd, std::size_t expectedSize, const char* what) {
    const int seals = ::fcntl(fd, F_GET_SEALS);
    if (seals < 0) {
        return Error::make(Errc::BadPool,
                           std::string("the ") + what + " fd is not a sealable memfd", errno);
    }
    if ((seals & kRequiredSeals) != kRequiredSeals) {
        return Error::make(Errc::BadPool, std::string("the ") + what +
                                              " fd lacks the seals F_SEAL_SHRINK|F_SEAL_GROW|"
                                              "F_SEAL_SEAL (seals: " +
                                              std::to_string(seals) + ")");
    }
    struct stat info {};
    if (::fstat(fd, &info) != 0) {
        return Error::fromErrno(std::string("fstat of the ") + what, errno);
    }
    if (static_cast<std::uint64_t>(info.st_size) != expectedSize) {
        return Error::make(Errc::BadPool,
                           std::string("the ") + what + " is " + std::to_string(info.st_size) +
                               " bytes but its header says " + std::to_string(expectedSize));
    }
    // An honest writer allocates every page (create() above). Holes would be allocated
    // on our side when we map with MAP_POPULATE: a writer could make us use any amount
    // of memory, or hang, with a huge sparse segment.
    const auto allocated = static_cast<std::uint64_t>(info.st_blocks) * 512;
    if (allocated < expectedSize) {
        return Error::make(Errc::BadPool, std::string("the ") + what + " has only " +
                                              std::to_string(allocated) + " of its " +
                                              std::to_string(expectedSize) +
                                              " bytes allocated (a sparse segment)");
    }
    return {};
}

}  // namespace shmframe::memfd
