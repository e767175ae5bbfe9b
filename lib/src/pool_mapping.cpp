// SPDX-License-Identifier: LGPL-2.1-or-later
#include "pool_mapping.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>

#include "memfd.h"
#include "memory_admission.h"

namespace shmframe {

Result<PoolMapping> PoolMapping::create(const std::string& name,
                                        const layout::PoolDescription& description) {
    const std::uint64_t poolSize = description.geometry.poolSize;
    PoolMapping pool;
    pool.description_ = description;
    if (auto admitted = memory_admission::admit(
            poolSize, "a pool of " + std::to_string(description.geometry.slotCount) + " slots of " +
                          description.format.describe());
        !admitted) {
        return std::move(admitted).error();
    }
    auto fd = memfd::createEmpty(name, poolSize);
    if (!fd) {
        return std::move(fd).error();
    }
    pool.fd_ = std::move(*fd);
    auto mapping =
        Mapping::map(pool.fd_.get(), poolSize, Mapping::Access::ReadWrite, Mapping::Prefault::No);
    if (!mapping) {
        return std::move(mapping).error();
    }
    pool.mapping_ = std::move(*mapping);
    // Take every page for writing now, charged to us, so that no publish ever page-faults.
    if (auto filled = memory_admission::populate(pool.mapping_.data(), poolSize); !filled) {
        return std::move(filled).error();
    }
    layout::writeHeader(pool.header(), description);

    // Only our mapping may ever write: no new writable mapping, not even through
    // /proc/<pid>/fd, and the size can never change.
    if (auto sealed = memfd::seal(pool.fd_.get(), F_SEAL_FUTURE_WRITE); !sealed) {
        return std::move(sealed).error();
    }
    ::fchmod(pool.fd_.get(), 0400);
    auto readOnly = memfd::reopenReadOnly(pool.fd_.get());
    if (!readOnly) {
        return std::move(readOnly).error();
    }
    pool.readOnlyFd_ = std::move(*readOnly);
    return pool;
}

Result<PoolMapping> PoolMapping::open(int fd, std::uint64_t poolSize, Extent extent) {
    if (auto sealed = memfd::checkSealed(fd, poolSize, "pool"); !sealed) {
        return std::move(sealed).error();
    }
    // A probe reads only the header: map it without pulling in the frames.
    const bool whole = extent == Extent::Whole;
    const std::size_t bytes =
        whole ? poolSize : std::min<std::uint64_t>(poolSize, layout::kPageSize);
    auto mapping = Mapping::map(fd, bytes, Mapping::Access::ReadOnly,
                                whole ? Mapping::Prefault::Yes : Mapping::Prefault::No);
    if (!mapping) {
        return std::move(mapping).error();
    }
    auto description = layout::readHeader(mapping->data(), poolSize);
    if (!description) {
        return std::move(description).error();
    }
    PoolMapping pool;
    pool.mapping_ = std::move(*mapping);
    pool.description_ = std::move(*description);
    return pool;
}

}  // namespace shmframe
