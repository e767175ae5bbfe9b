// SPDX-License-Identifier: LGPL-2.1-or-later
// Memory admitted before it is taken: a pool that cannot fit in the memory available
// to this process is refused at once, instead of ending in the OOM killer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "shmframe/error.h"

namespace shmframe::memory_admission {

/// How much memory this process may still take, and what limits it.
struct Headroom {
    std::uint64_t bytes = 0;
    std::string limitedBy;  ///< "MemAvailable in /proc/meminfo", "the cgroup limit of ..."
};

/**
 * The memory this process can take now: MemAvailable from /proc/meminfo, lowered by
 * the limit minus the usage of its memory cgroup and of every ancestor (cgroup v2
 * memory.max / memory.current, or v1 memory.limit_in_bytes / memory.usage_in_bytes).
 * nullopt when none of these can be read (then nothing is refused).
 */
std::optional<Headroom> headroom();

/**
 * Refuses (Errc::SystemError with ENOMEM) \a bytes of \a what that do not fit in
 * headroom(); the message says how much was asked and how much there is.
 */
Result<void> admit(std::uint64_t bytes, std::string_view what);

/**
 * Takes every page of the shared mapping at \a data (\a size bytes) for writing now,
 * through this process's own page tables: the memory is charged to our cgroup and
 * counted in our RSS as it is taken, so if the OOM killer ever acts it picks us, not
 * an innocent process. MADV_POPULATE_WRITE reports a failure as an error instead of
 * a SIGBUS; kernels before 5.14 touch each page instead.
 */
Result<void> populate(std::byte* data, std::size_t size);

/// "12.0 GiB (12884901888 bytes)": a size as a user reads it.
std::string describeBytes(std::uint64_t bytes);

// The parsers, public for the tests. Each takes the file's text as read (hostile:
// any content, any length) and returns nullopt for anything it does not understand.

/// The MemAvailable line of /proc/meminfo, in bytes.
std::optional<std::uint64_t> parseMemAvailable(std::string_view meminfo);
/// A cgroup counter file: one decimal number of bytes. "max" (no limit) is nullopt.
std::optional<std::uint64_t> parseCgroupBytes(std::string_view text);
/// Our memory cgroup's path from /proc/self/cgroup: the v2 line "0::/path" when
/// \a unified, else the v1 line naming the memory controller. A path with ".."
/// (outside our cgroup namespace) is nullopt.
std::optional<std::string> parseCgroupPath(std::string_view procSelfCgroup, bool unified);

}  // namespace shmframe::memory_admission
