// SPDX-License-Identifier: LGPL-2.1-or-later
#include "wait_pacer.h"

#include <poll.h>

#include <algorithm>
#include <ctime>

#include "shmframe/clock.h"

namespace shmframe {
namespace {

// A spin window is never shorter than this on either side of the expected time: the
// writer's own clock read, its publish() and the cache line's trip to us take a few µs.
constexpr std::uint64_t kMinLeadNs = 10'000;
constexpr std::uint64_t kMinWindowNs = 30'000;
// Two spin windows in a row without a frame start a back-off of this many frames,
// doubled on each back-off up to the maximum, halved after a run of hits.
constexpr std::uint32_t kMissesBeforeBackoff = 2;
constexpr std::uint32_t kFirstBackoffFrames = 8;
constexpr std::uint32_t kMaxBackoffFrames = 512;
constexpr std::uint32_t kHitsToForgive = 64;
// Frames this far apart in sequence still give an interval (a latest reader skips).
constexpr std::uint64_t kMaxSequenceGap = 8;

// The format's frame period, 0 when it has none or an absurd one.
std::uint64_t nominalPeriod(Fraction rate) {
    if (rate.num <= 0 || rate.den <= 0) {
        return 0;
    }
    const std::uint64_t period =
        std::uint64_t(rate.den) * 1'000'000'000ull / std::uint64_t(rate.num);
    return period >= WaitPacer::kMinPeriodNs && period <= WaitPacer::kMaxPeriodNs ? period : 0;
}

std::uint64_t distance(std::uint64_t a, std::uint64_t b) {
    return a > b ? a - b : b - a;
}

}  // namespace

void WaitPacer::reset() {
    *this = WaitPacer{};
}

void WaitPacer::addInterval(std::uint64_t intervalNs) {
    intervals_[nextInterval_] = intervalNs;
    nextInterval_ = (nextInterval_ + 1) % kHistory;
    intervalCount_ = std::min(intervalCount_ + 1, kHistory);
}

void WaitPacer::frameDelivered(std::uint64_t sequence, std::uint64_t publishTimeNs,
                               Fraction frameRate, std::uint64_t nowNs) {
    const std::uint64_t nominal = nominalPeriod(frameRate);
    if (nominal != nominalPeriodNs_ || sequence <= lastSequence_) {
        // Another rate, or another writer (sequences restart): what we measured is of
        // no use any more.
        nominalPeriodNs_ = nominal;
        intervalCount_ = 0;
        nextInterval_ = 0;
    } else if (lastSequence_ != 0 && sequence - lastSequence_ <= kMaxSequenceGap &&
               publishTimeNs > lastPublishNs_) {
        const std::uint64_t interval =
            (publishTimeNs - lastPublishNs_) / (sequence - lastSequence_);
        if (interval >= kMinPeriodNs && interval <= kMaxPeriodNs) {
            addInterval(interval);
        }
    }
    lastSequence_ = sequence;
    lastPublishNs_ = publishTimeNs;
    // The writer's stamp is the better anchor (we may have seen the frame late), as
    // long as it is not in our future nor older than any period we accept.
    anchorNs_ =
        publishTimeNs <= nowNs && nowNs - publishTimeNs <= kMaxPeriodNs ? publishTimeNs : nowNs;

    if (spinning_) {
        spinning_ = false;
        ++counters_.hits;
        missesInARow_ = 0;
        if (++hitsInARow_ >= kHitsToForgive) {
            hitsInARow_ = 0;
            backoffFrames_ = std::max(kFirstBackoffFrames, backoffFrames_ / 2);
        }
    }
    if (blockedFrames_ > 0) {
        --blockedFrames_;
    }
    update();
}

void WaitPacer::update() {
    if (intervalCount_ >= kMinIntervals) {
        std::array<std::uint64_t, kHistory> sorted{};
        const auto used = sorted.begin() + static_cast<std::ptrdiff_t>(intervalCount_);
        std::copy_n(intervals_.begin(), intervalCount_, sorted.begin());
        std::sort(sorted.begin(), used);
        periodNs_ = sorted[intervalCount_ / 2];
        for (std::size_t i = 0; i < intervalCount_; ++i) {
            sorted[i] = distance(intervals_[i], periodNs_);
        }
        std::sort(sorted.begin(), used);
        // A high percentile, not the maximum: one late frame (the writer preempted)
        // should not widen every window after it.
        jitterNs_ = sorted[intervalCount_ - 1 - intervalCount_ / 8];
    } else {
        periodNs_ = nominalPeriodNs_;
        jitterNs_ = 0;
    }
    if (periodNs_ == 0) {
        state_ = State::Learning;
    } else if (jitterNs_ > periodNs_ / 8) {
        state_ = State::Irregular;
    } else if (blockedFrames_ > 0) {
        state_ = State::BackedOff;
    } else {
        state_ = State::Pacing;
    }
}

WaitPacer::Advice WaitPacer::advise(std::uint64_t nowNs, std::uint64_t deadlineNs) {
    constexpr Advice block{Action::Block, 0};
    if (spinning_ && nowNs >= spinEndNs_) {
        spinning_ = false;
        ++counters_.misses;
        hitsInARow_ = 0;
        if (++missesInARow_ >= kMissesBeforeBackoff) {
            missesInARow_ = 0;
            blockedFrames_ = backoffFrames_;
            backoffFrames_ = std::min(kMaxBackoffFrames, backoffFrames_ * 2);
            update();
        }
    }
    if (state_ != State::Pacing) {
        return block;
    }
    // Both sides of the expected time grow with the spread of the intervals; the lead
    // also covers how late a nap ends. All of it stays within the budget.
    const std::uint64_t budget = std::min(periodNs_ / 4, kMaxSpinNs);
    const std::uint64_t window = kMinWindowNs + 3 * jitterNs_;
    if (window > budget / 2) {
        return block;  // too irregular to catch the frame in a spin we can afford
    }
    const std::uint64_t lead = std::min(kMinLeadNs + oversleepNs_ + 2 * jitterNs_, budget - window);
    const std::uint64_t expected = anchorNs_ + periodNs_;
    const std::uint64_t spinStart = expected > lead ? expected - lead : 0;
    const std::uint64_t spinEnd = expected + window;
    if (nowNs >= spinEnd) {
        return block;  // late: the writer wakes us when it comes
    }
    if (nowNs >= spinStart) {
        if (!spinning_) {
            spinning_ = true;
            spinEndNs_ = spinEnd;
        }
        return Advice{Action::Spin, 0};
    }
    if (deadlineNs <= nowNs) {
        return block;  // next() returns before it would sleep
    }
    return Advice{Action::Nap, std::min(spinStart, deadlineNs)};
}

void WaitPacer::napEnded(std::uint64_t untilNs, std::uint64_t nowNs) {
    const std::uint64_t late = std::min(nowNs > untilNs ? nowNs - untilNs : 0, kMaxOversleepNs);
    // A decaying maximum: one slow wake widens the lead at once, and it shrinks back
    // by an eighth with each nap after.
    oversleepNs_ = std::max(late, oversleepNs_ - oversleepNs_ / 8);
}

bool waitReadableUntil(int fd, std::uint64_t untilNs) {
    const std::uint64_t now = monotonicNs();
    const std::uint64_t left = untilNs > now ? untilNs - now : 0;
    const timespec timeout{static_cast<time_t>(left / 1'000'000'000ull),
                           static_cast<long>(left % 1'000'000'000ull)};
    pollfd watched{fd, POLLIN, 0};
    return ::ppoll(&watched, 1, &timeout, nullptr) > 0 && (watched.revents & POLLIN) != 0;
}

}  // namespace shmframe
