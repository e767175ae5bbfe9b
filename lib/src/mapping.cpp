// SPDX-License-Identifier: LGPL-2.1-or-later
#include "mapping.h"

#include <sys/mman.h>

#include <cerrno>
#include <utility>

namespace shmframe {

Result<Mapping> Mapping::map(int fd, std::size_t size, Access access, Prefault prefault) {
    if (size == 0) {
        return Error::make(Errc::InvalidArgument, "cannot map an empty segment");
    }
    const int prot = access == Access::ReadOnly ? PROT_READ : PROT_READ | PROT_WRITE;
    void* address = ::mmap(nullptr, size, prot,
                           MAP_SHARED | (prefault == Prefault::Yes ? MAP_POPULATE : 0), fd, 0);
    if (address == MAP_FAILED) {
        const int err = errno;
        return Error::make(err == EACCES ? Errc::PermissionDenied : Errc::SystemError,
                           "mmap of a shared segment failed", err);
    }
    return Mapping(static_cast<std::byte*>(address), size);
}

Mapping::Mapping(Mapping&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

Mapping& Mapping::operator=(Mapping&& other) noexcept {
    if (this != &other) {
        unmap();
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
    }
    return *this;
}

Mapping::~Mapping() {
    unmap();
}

void Mapping::unmap() noexcept {
    if (data_) {
        ::munmap(data_, size_);
        data_ = nullptr;
        size_ = 0;
    }
}

}  // namespace shmframe
