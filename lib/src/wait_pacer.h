// SPDX-License-Identifier: LGPL-2.1-or-later
// The policy of a paced reader (WaitMode::Paced): when the next frame is due, how long
// before it to stop sleeping, and how long to spin for it before sleeping again.
//
// The period is the format's frame rate until the reader has seen a few frames, then
// the median of the intervals between their publish times. The next frame is expected
// one period after the writer's schedule, tracked as the earliest its frames came (a
// writer that sleeps to its schedule is late by its wake-up, never early); the spin
// window covers how late its frames came recently, and starts as much earlier, and
// earlier again by how late a timed sleep wakes us. Everything it
// learns comes from shared memory, so every number is clamped: it never advises a
// sleep past the caller's deadline, never a spin longer than a quarter of the period
// (and 2 ms), and after spin windows that end without a frame, or on a feed whose
// intervals are irregular, it advises plain blocking.
//
// It keeps no clock and makes no syscall (the reader passes the times in), so tests
// can drive it with made-up times; waitReadableUntil() is the reader's nap.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "shmframe/format.h"

namespace shmframe {

class WaitPacer final {
  public:
    /// What next() does while there is no frame.
    enum class Action : std::uint8_t {
        Block,  ///< sleep until the writer wakes us (or the caller's deadline)
        Nap,    ///< sleep until untilNs, woken earlier by the writer if a frame comes
        Spin,   ///< poll the pool: the frame is due now
    };
    struct Advice {
        Action action = Action::Block;
        std::uint64_t untilNs = 0;  ///< Nap: when to wake (never past the deadline)
    };

    /// Why the pacer advises blocking just now (for tests and the docs).
    enum class State : std::uint8_t {
        Learning,   ///< no usable period yet (no frame rate, too few intervals)
        Pacing,     ///< napping and spinning around each expected frame
        Irregular,  ///< the intervals spread too much for a bounded spin window
        BackedOff,  ///< spin windows ended without a frame: blocking for a while
    };

    struct Counters {
        std::uint64_t hits = 0;    ///< frames that came while we spun for them
        std::uint64_t misses = 0;  ///< spin windows that ended without a frame
    };

    // Bounds on what a writer's numbers can make us do.
    static constexpr std::uint64_t kMinPeriodNs = 250'000;        // 4000 fps
    static constexpr std::uint64_t kMaxPeriodNs = 2'000'000'000;  // 0.5 fps
    static constexpr std::uint64_t kMaxSpinNs = 2'000'000;        // per frame, at most
    static constexpr std::uint64_t kMaxOversleepNs = 1'000'000;   // a nap's lateness counted
    static constexpr std::size_t kHistory = 16;                   // intervals remembered
    static constexpr std::size_t kMinIntervals = 4;               // before trusting them

    /**
     * A frame was delivered: its \a sequence, its \a publishTimeNs and its format's
     * \a frameRate as the writer wrote them (untrusted), at \a nowNs.
     */
    void frameDelivered(std::uint64_t sequence, std::uint64_t publishTimeNs, Fraction frameRate,
                        std::uint64_t nowNs);

    /// What to do at \a nowNs with nothing to deliver, the caller waiting until \a deadlineNs.
    Advice advise(std::uint64_t nowNs, std::uint64_t deadlineNs);

    /// A nap asked to end at \a untilNs ended at \a nowNs by its timeout: timers wake
    /// us this late, so the spin starts earlier.
    void napEnded(std::uint64_t untilNs, std::uint64_t nowNs);

    /// A new writer or pool: forget what was learnt of the old one.
    void reset();

    State state() const { return state_; }
    const Counters& counters() const { return counters_; }
    /// The period in use (0 while none): the format's, or the measured one.
    std::uint64_t periodNs() const { return periodNs_; }
    /// How far intervals stray from the period (a high percentile), ns.
    std::uint64_t jitterNs() const { return jitterNs_; }
    /// How late after the tracked schedule frames come (a high percentile), ns.
    std::uint64_t latenessNs() const { return latenessNs_; }

  private:
    void track(std::uint64_t sequenceGap, std::uint64_t stampNs);
    void update();

    // What the frames told us.
    std::uint64_t nominalPeriodNs_ = 0;  // from the format's frame rate, 0 if none or absurd
    std::uint64_t lastSequence_ = 0;
    std::uint64_t lastPublishNs_ = 0;  // the writer's stamp of the last frame (untrusted)
    std::uint64_t scheduleNs_ = 0;     // when the last frame was due by the writer's schedule
    // Recent intervals between frames, and how late frames came after the schedule.
    struct History {
        std::array<std::uint64_t, kHistory> values{};
        std::size_t count = 0;
        std::size_t next = 0;
        void add(std::uint64_t value);
        /// A high percentile: the largest but one of 8 (one outlier left out).
        std::uint64_t high() const;
        std::uint64_t median() const;
    };
    History intervals_;
    History lateness_;

    // What we derived.
    State state_ = State::Learning;
    std::uint64_t periodNs_ = 0;
    std::uint64_t jitterNs_ = 0;
    std::uint64_t latenessNs_ = 0;
    std::uint64_t oversleepNs_ = 50'000;  // a decaying maximum of how late naps end

    // Spinning and backing off.
    bool spinning_ = false;
    std::uint64_t spinEndNs_ = 0;
    std::uint32_t missesInARow_ = 0;
    std::uint32_t hitsInARow_ = 0;
    std::uint32_t backoffFrames_ = 8;  // how long the next back-off lasts, in frames
    std::uint32_t blockedFrames_ = 0;  // frames left to block for
    Counters counters_;
};

/**
 * Waits until \a fd is readable or CLOCK_MONOTONIC reaches \a untilNs, with the
 * kernel's timer precision (not epoll_wait's milliseconds). True if readable; false
 * on the timeout or a signal.
 */
bool waitReadableUntil(int fd, std::uint64_t untilNs);

}  // namespace shmframe
