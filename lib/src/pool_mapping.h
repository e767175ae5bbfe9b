// SPDX-License-Identifier: LGPL-2.1-or-later
// One pool generation as a process sees it: the sealed memfd, its mapping and its
// validated description. The writer creates it (read-write, pre-faulted, sealed); a
// reader opens the read-only fd it was given. Readers hold it const: only the
// writer's mapping is writable, and only the non-const accessors hand out writable
// memory.
#pragma once

#include <cstdint>
#include <string>

#include "mapping.h"
#include "pool_layout.h"
#include "shmframe/error.h"
#include "unique_fd.h"

namespace shmframe {

class PoolMapping final {
  public:
    /// How much of a pool a reader maps: all of it, or only the header (a probe).
    enum class Extent { Whole, HeaderOnly };

    /// Writer: a new pool for \a description, its pages allocated and touched, its
    /// header written, sealed against any new writable mapping, chmod 0400.
    static Result<PoolMapping> create(const std::string& name,
                                      const layout::PoolDescription& description);

    /// Reader: checks the seals and size of \a fd, maps it read-only and validates the
    /// header (BadPool naming the field).
    static Result<PoolMapping> open(int fd, std::uint64_t poolSize, Extent extent = Extent::Whole);

    PoolMapping(PoolMapping&&) noexcept = default;
    PoolMapping& operator=(PoolMapping&&) noexcept = default;

    const layout::PoolDescription& description() const { return description_; }
    const Format& format() const { return description_.format; }
    const layout::PoolGeometry& geometry() const { return description_.geometry; }
    std::uint32_t slotCount() const { return description_.geometry.slotCount; }
    std::uint32_t generation() const { return description_.generation; }
    std::uint64_t session() const { return description_.writerSession; }
    /// The read-only fd readers get (writer side only).
    int readOnlyFd() const { return readOnlyFd_.get(); }

    const layout::PoolHeader& header() const { return layout::header(mapping_.data()); }
    layout::PoolHeader& header() { return layout::header(mapping_.data()); }
    const layout::SlotHeader& slot(std::uint32_t i) const {
        return layout::slotHeader(mapping_.data(), geometry(), i);
    }
    layout::SlotHeader& slot(std::uint32_t i) {
        return layout::slotHeader(mapping_.data(), geometry(), i);
    }
    const std::byte* frame(std::uint32_t i) const { return frameAt(i); }
    std::byte* frame(std::uint32_t i) { return frameAt(i); }
    const std::byte* userMeta(std::uint32_t i) const { return userMetaAt(i); }
    std::byte* userMeta(std::uint32_t i) { return userMetaAt(i); }

  private:
    PoolMapping() = default;
    std::byte* frameAt(std::uint32_t i) const {
        return mapping_.data() + geometry().slotDataOffset + i * geometry().slotDataStride;
    }
    std::byte* userMetaAt(std::uint32_t i) const {
        return mapping_.data() + geometry().userMetaOffset + i * geometry().userMetaStride;
    }

    UniqueFd fd_;          // writer: the read-write memfd
    UniqueFd readOnlyFd_;  // writer: what readers get
    Mapping mapping_;
    layout::PoolDescription description_;
};

}  // namespace shmframe
