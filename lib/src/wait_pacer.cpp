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

void WaitPacer::History::add(std::uint64_t value) {
    values[next] = value;
    next = (next + 1) % kHistory;
    count = std::min(count + 1, kHistory);
}

std::uint64_t WaitPacer::History::median() const {
    std::array<std::uint64_t, kHistory> sorted = values;
    const auto used = sorted.begin() + static_cast<std::ptrdiff_t>(count);
    std::sort(sorted.begin(), used);
    return count ? sorted[count / 2] : 0;
}

std::uint64_t WaitPacer::History::high() const {
    std::array<std::uint64_t, kHistory> sorted = values;
    const auto used = sorted.begin() + static_cast<std::ptrdiff_t>(count);
    std::sort(sorted.begin(), used);
    return count ? sorted[count - 1 - count / 8] : 0;
}

void WaitPacer::frameDelivered(std::uint64_t sequence, std::uint64_t publishTimeNs,
                               Fraction frameRate, std::uint64_t nowNs) {
    // The writer's stamp tells when the frame came (we may have seen it late), as long
    // as it is not in our future nor older than any period we accept.
    const std::uint64_t stamp =
        publishTimeNs <= nowNs && nowNs - publishTimeNs <= kMaxPeriodNs ? publishTimeNs : nowNs;
    const std::uint64_t nominal = nominalPeriod(frameRate);
    if (nominal != nominalPeriodNs_ || sequence <= lastSequence_) {
        // Another rate, or another writer (sequences restart): what we measured is of
        // no use any more.
        nominalPeriodNs_ = nominal;
        intervals_ = History{};
        lateness_ = History{};
        scheduleNs_ = stamp;
    } else if (lastSequence_ != 0 && sequence - lastSequence_ <= kMaxSequenceGap) {
        const std::uint64_t gap = sequence - lastSequence_;
        if (publishTimeNs > lastPublishNs_) {
            const std::uint64_t interval = (publishTimeNs - lastPublishNs_) / gap;
            if (interval >= kMinPeriodNs && interval <= kMaxPeriodNs) {
                intervals_.add(interval);
            }
        }
        track(gap, stamp);
    } else {
        scheduleNs_ = stamp;
    }
    lastSequence_ = sequence;
    lastPublishNs_ = publishTimeNs;

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

// Where the writer's schedule stands after a frame stamped \a stampNs, \a sequenceGap
// frames after the last one.
void WaitPacer::track(std::uint64_t sequenceGap, std::uint64_t stampNs) {
    const std::uint64_t predicted = scheduleNs_ + sequenceGap * periodNs_;
    if (periodNs_ != 0 && stampNs >= predicted && stampNs - predicted <= periodNs_ / 4) {
        const std::uint64_t late = stampNs - predicted;
        lateness_.add(late);
        // An eighth of the lateness moves the schedule: it follows a writer whose
        // period is a little longer than ours, without taking one late frame for it.
        scheduleNs_ = predicted + late / 8;
    } else {
        // Earlier than the schedule we had (it was late), or out of step: from here.
        scheduleNs_ = stampNs;
    }
}

void WaitPacer::update() {
    const std::uint64_t previousPeriod = periodNs_;
    if (intervals_.count >= kMinIntervals) {
        periodNs_ = intervals_.median();
        History deviations;
        for (std::size_t i = 0; i < intervals_.count; ++i) {
            deviations.add(distance(intervals_.values[i], periodNs_));
        }
        jitterNs_ = deviations.high();
    } else {
        periodNs_ = nominalPeriodNs_;
        jitterNs_ = 0;
    }
    if (distance(periodNs_, previousPeriod) > previousPeriod / 16) {
        lateness_ = History{};  // late by the old period's reckoning: says nothing now
    }
    latenessNs_ = lateness_.count >= kMinIntervals ? lateness_.high() : 2 * jitterNs_;
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
    // The window after the expected time covers how late frames came recently; the
    // lead before it, as early as they may come plus how late a nap ends. All of it
    // stays within the budget.
    const std::uint64_t budget = std::min(periodNs_ / 4, kMaxSpinNs);
    const std::uint64_t window = kMinWindowNs + latenessNs_;
    if (window > budget / 2) {
        return block;  // too late too often to catch the frame in a spin we can afford
    }
    // Frames come early by about as much as they come late (the schedule is anchored
    // on stamps that carry the writer's own wake-up), and a nap ends late.
    const std::uint64_t lead = std::min(kMinLeadNs + oversleepNs_ + latenessNs_, budget - window);
    const std::uint64_t expected = scheduleNs_ + periodNs_;
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
    // by a quarter with each nap after.
    oversleepNs_ = std::max(late, oversleepNs_ - oversleepNs_ / 4);
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
