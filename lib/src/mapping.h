// SPDX-License-Identifier: LGPL-2.1-or-later
// The one owner of a memory mapping: move-only, unmaps on destruction.
#pragma once

#include <cstddef>

#include "shmframe/error.h"

namespace shmframe {

class Mapping final {
  public:
    enum class Access { ReadOnly, ReadWrite };
    /// Whether every page is mapped now (MAP_POPULATE), so that reading frames never
    /// page-faults.
    enum class Prefault { Yes, No };

    /// Maps \a size bytes of \a fd shared.
    static Result<Mapping> map(int fd, std::size_t size, Access access,
                               Prefault prefault = Prefault::Yes);

    Mapping() = default;
    Mapping(Mapping&& other) noexcept;
    Mapping& operator=(Mapping&& other) noexcept;
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    ~Mapping();

    std::byte* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }
    bool isValid() const noexcept { return data_ != nullptr; }

  private:
    Mapping(std::byte* data, std::size_t size) : data_(data), size_(size) {}
    void unmap() noexcept;
    std::byte* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace shmframe
