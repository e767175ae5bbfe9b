// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * \file clock.h
 * \brief The clock that frame times are in.
 *
 * FrameMeta::publishTimeNs and FeedInfo::lastPublishNs are CLOCK_MONOTONIC
 * nanoseconds. Front ends that measure latency (publish to display, publish to
 * read) take "now" from monotonicNs() so both ends use the same clock; writers
 * that pace frames sleep on it with sleepUntilNs().
 */
#pragma once

#include <cstdint>

namespace shmframe {

/// \brief CLOCK_MONOTONIC now, in nanoseconds: the clock of every frame time.
std::uint64_t monotonicNs() noexcept;

/// \brief Sleeps until monotonicNs() reads \a deadlineNs (at once if it has passed).
/// Returns early when a signal handler runs, so a SIGINT or SIGTERM ends the wait.
void sleepUntilNs(std::uint64_t deadlineNs) noexcept;

}  // namespace shmframe
