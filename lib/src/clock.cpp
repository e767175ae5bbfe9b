// SPDX-License-Identifier: LGPL-2.1-or-later
#include "shmframe/clock.h"

#include <time.h>

namespace shmframe {

std::uint64_t monotonicNs() noexcept {
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000ull +
           static_cast<std::uint64_t>(now.tv_nsec);
}

void sleepUntilNs(std::uint64_t deadlineNs) noexcept {
    const timespec deadline{static_cast<time_t>(deadlineNs / 1'000'000'000u),
                            static_cast<long>(deadlineNs % 1'000'000'000u)};
    ::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nullptr);
}

}  // namespace shmframe
