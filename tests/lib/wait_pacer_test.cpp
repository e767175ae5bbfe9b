// SPDX-License-Identifier: LGPL-2.1-or-later
// The paced reader's policy (lib/src/wait_pacer.h), driven with made-up times: a
// simulated reader naps, spins and blocks as the pacer says while a simulated writer
// publishes at the times a test chooses. No clock is read, so nothing here depends on
// the machine's speed.
#include "wait_pacer.h"

#include <gtest/gtest.h>

#include <climits>
#include <cstdint>
#include <random>
#include <vector>

using namespace shmframe;

namespace {

constexpr std::uint64_t kUs = 1'000;
constexpr std::uint64_t kMs = 1'000'000;
constexpr std::uint64_t kStart = 1'000'000 * kMs;  // an arbitrary monotonic time

// A reader that waits for each frame the way Reader::next() does with the pacer's
// advice: it naps until the advised time (late by `oversleep`), spins in 1 µs steps,
// and when blocking is woken `wakeLatency` after the frame is published.
struct Simulation {
    Fraction rate{100, 1};
    std::uint64_t oversleep = 40 * kUs;
    std::uint64_t wakeLatency = 50 * kUs;
    std::uint64_t timeout = 1'000 * kMs;

    std::uint64_t spunNs = 0;     // total time spent spinning
    std::uint64_t maxSpinNs = 0;  // the longest spin for one frame
    std::uint64_t naps = 0;
    std::uint64_t napsPastDeadline = 0;
    std::vector<std::uint64_t> latencies;  // seen - published, per frame

    // Delivers frames published at \a times (sequences from \a firstSequence), each
    // stamped with \a stamps[i] (the writer's claim; defaults to the real time).
    void run(WaitPacer& pacer, const std::vector<std::uint64_t>& times,
             const std::vector<std::uint64_t>& stamps = {}, std::uint64_t firstSequence = 1) {
        std::uint64_t now = times.empty() ? kStart : times.front();
        for (std::size_t i = 0; i < times.size(); ++i) {
            const std::uint64_t published = times[i];
            std::uint64_t deadline = now + timeout;
            std::uint64_t spun = 0;
            while (now < published) {
                if (now >= deadline) {
                    deadline = now + timeout;  // next() timed out; the caller calls again
                }
                const WaitPacer::Advice advice = pacer.advise(now, deadline);
                if (advice.action == WaitPacer::Action::Nap) {
                    ++naps;
                    napsPastDeadline += advice.untilNs > deadline ? 1 : 0;
                    EXPECT_GT(advice.untilNs, now) << "a nap that does not sleep";
                    if (published <= advice.untilNs) {
                        now = std::max(now, published + wakeLatency);  // the writer wakes us
                    } else {
                        now = std::max(now + 1, advice.untilNs + oversleep);
                        pacer.napEnded(advice.untilNs, now);
                    }
                } else if (advice.action == WaitPacer::Action::Spin) {
                    now += kUs;
                    spun += kUs;
                } else {
                    now = std::max(now, published + wakeLatency);
                }
            }
            spunNs += spun;
            maxSpinNs = std::max(maxSpinNs, spun);
            latencies.push_back(now - published);
            pacer.frameDelivered(firstSequence + i, stamps.empty() ? published : stamps[i], rate,
                                 now);
        }
    }
};

std::vector<std::uint64_t> regular(std::uint64_t from, std::uint64_t period, std::size_t count) {
    std::vector<std::uint64_t> times;
    for (std::size_t i = 0; i < count; ++i) {
        times.push_back(from + i * period);
    }
    return times;
}

TEST(WaitPacer, BlocksUntilItKnowsAPeriod) {
    WaitPacer pacer;
    EXPECT_EQ(pacer.advise(kStart, kStart + kMs).action, WaitPacer::Action::Block);
    EXPECT_EQ(pacer.state(), WaitPacer::State::Learning);
    // A frame of a feed without a frame rate: still nothing to go by.
    pacer.frameDelivered(1, kStart, Fraction{0, 1}, kStart);
    EXPECT_EQ(pacer.advise(kStart + kUs, kStart + kMs).action, WaitPacer::Action::Block);
}

TEST(WaitPacer, NapsUntilJustBeforeTheFormatsNextFrameThenSpins) {
    WaitPacer pacer;
    pacer.frameDelivered(1, kStart, Fraction{100, 1}, kStart + 20 * kUs);
    EXPECT_EQ(pacer.state(), WaitPacer::State::Pacing);
    EXPECT_EQ(pacer.periodNs(), 10 * kMs);
    const WaitPacer::Advice nap = pacer.advise(kStart + kMs, kStart + 100 * kMs);
    ASSERT_EQ(nap.action, WaitPacer::Action::Nap);
    EXPECT_LT(nap.untilNs, kStart + 10 * kMs);
    EXPECT_GT(nap.untilNs, kStart + 9 * kMs);
    EXPECT_EQ(pacer.advise(nap.untilNs, kStart + 100 * kMs).action, WaitPacer::Action::Spin);
    pacer.frameDelivered(2, kStart + 10 * kMs, Fraction{100, 1}, kStart + 10 * kMs + kUs);
    EXPECT_EQ(pacer.counters().hits, 1u);
    EXPECT_EQ(pacer.counters().misses, 0u);
}

TEST(WaitPacer, ANapNeverLastsPastTheCallersDeadline) {
    WaitPacer pacer;
    pacer.frameDelivered(1, kStart, Fraction{1, 1}, kStart);  // next frame in a second
    const WaitPacer::Advice nap = pacer.advise(kStart + kMs, kStart + 5 * kMs);
    ASSERT_EQ(nap.action, WaitPacer::Action::Nap);
    EXPECT_EQ(nap.untilNs, kStart + 5 * kMs);
}

TEST(WaitPacer, FramesAtAFixedRateAreCaughtBySpinningAFractionOfTheTime) {
    WaitPacer pacer;
    Simulation sim;
    std::vector<std::uint64_t> times = regular(kStart, 10 * kMs, 200);
    std::mt19937 random(1);
    for (auto& time : times) {
        time += random() % (20 * kUs);  // the writer's own wake-up jitter
    }
    sim.run(pacer, times);
    EXPECT_GE(pacer.counters().hits, 190u);
    EXPECT_LE(pacer.counters().misses, 2u);
    EXPECT_EQ(sim.napsPastDeadline, 0u);
    // Latency of a spin (a µs here), not of a wake-up (50 µs here), for most frames.
    std::sort(sim.latencies.begin(), sim.latencies.end());
    EXPECT_LE(sim.latencies[sim.latencies.size() / 2], 2 * kUs);
    // Spinning costs a few % of the time, not a core.
    EXPECT_LT(sim.spunNs, (times.back() - times.front()) / 20);
    EXPECT_LE(sim.maxSpinNs, 10 * kMs / 4);
}

TEST(WaitPacer, LearnsThePeriodFromPublishTimesWhenTheFormatHasNone) {
    WaitPacer pacer;
    Simulation sim;
    sim.rate = Fraction{0, 1};
    sim.run(pacer, regular(kStart, 4 * kMs, 100));
    EXPECT_EQ(pacer.periodNs(), 4 * kMs);
    EXPECT_EQ(pacer.state(), WaitPacer::State::Pacing);
    EXPECT_GE(pacer.counters().hits, 90u);
}

TEST(WaitPacer, TheMeasuredPeriodWinsOverTheFormatsRate) {
    WaitPacer pacer;
    Simulation sim;
    sim.rate = Fraction{30, 1};  // says 30 fps, publishes at 25
    sim.run(pacer, regular(kStart, 40 * kMs, 60));
    EXPECT_EQ(pacer.periodNs(), 40 * kMs);
    EXPECT_GE(pacer.counters().hits, 50u);
}

TEST(WaitPacer, AStalledWriterCostsOneSpinWindowThenBlocking) {
    WaitPacer pacer;
    Simulation sim;
    std::vector<std::uint64_t> times = regular(kStart, 10 * kMs, 50);
    times.push_back(times.back() + 5'000 * kMs);  // SIGSTOP for 5 s, then one more frame
    sim.run(pacer, times);
    // One window missed (the stall), a bounded spin for it, then blocked until woken.
    EXPECT_EQ(pacer.counters().misses, 1u);
    EXPECT_LE(sim.maxSpinNs, 10 * kMs / 4);
    EXPECT_GE(sim.latencies.back(), sim.wakeLatency);
}

TEST(WaitPacer, AWriterOffItsRateFallsBackToBlocking) {
    WaitPacer pacer;
    Simulation sim;
    // The format says 100 fps; every third frame comes 3 ms late.
    std::vector<std::uint64_t> times;
    std::uint64_t t = kStart;
    for (int i = 0; i < 300; ++i) {
        t += (i % 3 == 2) ? 13 * kMs : 10 * kMs;
        times.push_back(t);
    }
    sim.run(pacer, times);
    EXPECT_EQ(pacer.state(), WaitPacer::State::Irregular);
    EXPECT_LT(pacer.counters().misses, 5u);
    EXPECT_LT(sim.spunNs, (times.back() - times.front()) / 100);
}

TEST(WaitPacer, MissedWindowsInARowBackOffToBlockingForLongerAndLonger) {
    WaitPacer pacer;
    Simulation sim;
    // Regular stamps, but every frame reaches us 1 ms after its stamp (a writer that
    // stamps early): each window ends before the frame comes.
    const std::vector<std::uint64_t> stamps = regular(kStart, 10 * kMs, 400);
    std::vector<std::uint64_t> times = stamps;
    for (auto& time : times) {
        time += kMs;
    }
    bool backedOff = false;
    for (std::size_t i = 0; i < times.size(); i += 10) {
        sim.run(pacer, {times.begin() + long(i), times.begin() + long(i) + 10},
                {stamps.begin() + long(i), stamps.begin() + long(i) + 10}, i + 1);
        backedOff |= pacer.state() == WaitPacer::State::BackedOff;
    }
    EXPECT_TRUE(backedOff);
    EXPECT_EQ(pacer.counters().hits, 0u);
    // Back-offs of 8, 16, 32, ... frames, each after two misses.
    EXPECT_LE(pacer.counters().misses, 14u);
    EXPECT_LT(sim.spunNs, (times.back() - times.front()) / 100);
}

TEST(WaitPacer, IrregularIntervalsFallBackToBlocking) {
    WaitPacer pacer;
    Simulation sim;
    sim.rate = Fraction{0, 1};
    std::mt19937 random(7);
    std::vector<std::uint64_t> times;
    std::uint64_t t = kStart;
    for (int i = 0; i < 300; ++i) {
        t += 5 * kMs + random() % (25 * kMs);  // 5 to 30 ms apart
        times.push_back(t);
    }
    sim.run(pacer, times);
    EXPECT_EQ(pacer.state(), WaitPacer::State::Irregular);
    EXPECT_LE(pacer.counters().misses + pacer.counters().hits, 10u);
    EXPECT_LT(sim.spunNs, (times.back() - times.front()) / 100);
}

TEST(WaitPacer, ARateChangeFallsBackToBlockingThenPacesTheNewRate) {
    WaitPacer pacer;
    Simulation sim;
    sim.rate = Fraction{0, 1};
    std::vector<std::uint64_t> times = regular(kStart, 10 * kMs, 100);
    const std::vector<std::uint64_t> slower = regular(times.back() + 25 * kMs, 25 * kMs, 100);
    times.insert(times.end(), slower.begin(), slower.end());
    sim.run(pacer, times);
    EXPECT_LE(pacer.counters().misses, 4u);
    EXPECT_EQ(pacer.periodNs(), 25 * kMs);
    EXPECT_EQ(pacer.state(), WaitPacer::State::Pacing);
    EXPECT_GE(pacer.counters().hits, 150u);
}

TEST(WaitPacer, AFormatsNewRateForgetsTheOldIntervals) {
    WaitPacer pacer;
    for (std::uint64_t i = 0; i < 20; ++i) {
        pacer.frameDelivered(i + 1, kStart + i * 10 * kMs, Fraction{100, 1}, kStart + i * 10 * kMs);
    }
    EXPECT_EQ(pacer.periodNs(), 10 * kMs);
    pacer.frameDelivered(21, kStart + 200 * kMs, Fraction{50, 1}, kStart + 200 * kMs);
    EXPECT_EQ(pacer.periodNs(), 20 * kMs);
}

TEST(WaitPacer, ANewWriterStartsOver) {
    WaitPacer pacer;
    Simulation sim;
    sim.run(pacer, regular(kStart, 10 * kMs, 30), {}, 1000);
    EXPECT_EQ(pacer.periodNs(), 10 * kMs);
    // Sequences restart at 1: its first frames are measured afresh.
    sim.rate = Fraction{0, 1};
    pacer.frameDelivered(1, kStart + 900 * kMs, sim.rate, kStart + 900 * kMs);
    EXPECT_EQ(pacer.state(), WaitPacer::State::Learning);
}

TEST(WaitPacer, AbsurdRatesAreIgnored) {
    for (const Fraction rate : {Fraction{INT_MAX, 1}, Fraction{1, INT_MAX}, Fraction{-30, 1},
                                Fraction{30, -1}, Fraction{30, 0}, Fraction{INT_MIN, INT_MIN}}) {
        WaitPacer pacer;
        pacer.frameDelivered(1, kStart, rate, kStart);
        EXPECT_EQ(pacer.state(), WaitPacer::State::Learning) << rate.num << "/" << rate.den;
        EXPECT_EQ(pacer.advise(kStart + kUs, kStart + kMs).action, WaitPacer::Action::Block);
    }
}

// A hostile writer controls every stamp and the rate: whatever it writes, a spin is
// bounded per frame, and a nap never outlasts the caller's deadline.
TEST(WaitPacer, GarbageStampsNeverMakeItSpinUnboundedOrSleepPastTheDeadline) {
    std::mt19937_64 random(42);
    for (int trial = 0; trial < 50; ++trial) {
        WaitPacer pacer;
        Simulation sim;
        sim.timeout = 1 * kMs + random() % (50 * kMs);
        sim.rate =
            Fraction{static_cast<std::int32_t>(random()), static_cast<std::int32_t>(random())};
        if (trial % 2 == 0) {
            sim.rate = Fraction{static_cast<std::int32_t>(1 + random() % 4000), 1};
        }
        std::vector<std::uint64_t> times;
        std::vector<std::uint64_t> stamps;
        std::uint64_t t = kStart;
        for (int i = 0; i < 200; ++i) {
            t += 250 * kUs + random() % (40 * kMs);
            times.push_back(t);
            switch (trial % 5) {
                case 0:
                    stamps.push_back(random());  // anything at all
                    break;
                case 1:
                    stamps.push_back(t + (random() % 2 ? 1 : -1) * (random() % (1'000 * kMs)));
                    break;
                case 2:
                    stamps.push_back(kStart + std::uint64_t(i) * 250 * kUs);  // a fast, false rate
                    break;
                case 3:
                    stamps.push_back(UINT64_MAX - std::uint64_t(i));
                    break;
                default:
                    stamps.push_back(t);
            }
        }
        sim.run(pacer, times, stamps);
        EXPECT_EQ(sim.napsPastDeadline, 0u) << "trial " << trial;
        EXPECT_LE(sim.maxSpinNs, WaitPacer::kMaxSpinNs) << "trial " << trial;
        // Bounded in total too: at most about a quarter of the time, never a core.
        EXPECT_LT(sim.spunNs, (times.back() - times.front()) / 4) << "trial " << trial;
    }
}

}  // namespace
