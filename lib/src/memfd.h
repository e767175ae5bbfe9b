// SPDX-License-Identifier: LGPL-2.1-or-later
// Sealed memfd segments: created by the writer, checked by the reader.
#pragma once

#include <cstddef>
#include <string>

#include "shmframe/error.h"
#include "unique_fd.h"

namespace shmframe::memfd {

/// The seals every shared segment carries: its size is fixed and no seal can be added
/// or removed, so a peer can never make us SIGBUS by shrinking it.
inline constexpr int kRequiredSeals =
    0x0001 /*F_SEAL_SEAL*/ | 0x0002 /*F_SEAL_SHRINK*/ | 0x0004 /*F_SEAL_GROW*/;

/// Creates a memfd of \a size bytes with its memory allocated (not yet sealed).
Result<UniqueFd> create(const std::string& name, std::size_t size);

/// Creates a memfd of \a size bytes with no memory allocated yet: the caller takes
/// the pages through its own mapping (memory_admission::populate), so that they
/// count as its own from the first one.
Result<UniqueFd> createEmpty(const std::string& name, std::size_t size);

/// Adds kRequiredSeals plus \a extraSeals (e.g. F_SEAL_FUTURE_WRITE once the writer
/// has its own writable mapping, so nobody can ever map the pool writable again).
Result<void> seal(int fd, int extraSeals = 0);

/// A second fd for the same segment, opened O_RDONLY through /proc/self/fd, for readers.
Result<UniqueFd> reopenReadOnly(int fd);

/// Checks a segment we were given: it carries kRequiredSeals and is exactly
/// \a expectedSize bytes. \a what names it in the error ("pool", "control block").
Result<void> checkSealed(int fd, std::size_t expectedSize, const char* what);

}  // namespace shmframe::memfd
