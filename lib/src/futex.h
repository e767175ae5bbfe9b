// SPDX-License-Identifier: LGPL-2.1-or-later
// Futex wait/wake on a 32-bit word in shared memory (cross-process, so not PRIVATE).
// FUTEX_WAKE needs only read access to the word: readers call it on the read-only pool.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>

namespace shmframe::futex {

/// Sleeps while \a word holds \a expected, at most \a timeout (spurious wake-ups happen).
inline void wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                 std::chrono::nanoseconds timeout) {
    const auto ns = timeout.count() > 0 ? timeout.count() : 0;
    const timespec relative{static_cast<time_t>(ns / 1'000'000'000),
                            static_cast<long>(ns % 1'000'000'000)};
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT, expected, &relative,
              nullptr, 0);
}

/// Wakes every process sleeping on \a word. Never blocks.
inline void wakeAll(const std::atomic<std::uint32_t>& word) {
    ::syscall(SYS_futex, reinterpret_cast<const std::uint32_t*>(&word), FUTEX_WAKE, INT_MAX,
              nullptr, nullptr, 0);
}

}  // namespace shmframe::futex
