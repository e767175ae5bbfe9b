// SPDX-License-Identifier: LGPL-2.1-or-later
// Helpers of the viewer tests: waiting while Qt runs its event loop, and a writer
// thread that publishes the colour bars.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <QEventLoop>
#include <QTimer>

#include <shmframe/shmframe.h>

#include "test_pattern.h"

namespace shmframe::viewer::test {

/// Runs the Qt event loop until \a condition holds or \a timeout passes (a deadline
/// for a failure, never a measurement).
inline bool waitFor(const std::function<bool()>& condition,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        QEventLoop loop;
        QTimer::singleShot(5, &loop, &QEventLoop::quit);
        loop.exec();
    }
    return true;
}

/// Lets the event loop run for \a duration (to show that something does NOT happen).
inline void runEventsFor(std::chrono::milliseconds duration) {
    QEventLoop loop;
    QTimer::singleShot(duration, &loop, &QEventLoop::quit);
    loop.exec();
}

/// Publishes the colour bars on a feed from its own thread until destroyed.
class PatternWriter {
  public:
    static std::unique_ptr<PatternWriter> start(const std::string& feed, const Format& format,
                                                int fps = 100) {
        auto writer = Writer::create(feed, format);
        if (!writer)
            return nullptr;
        return std::unique_ptr<PatternWriter>(new PatternWriter(std::move(*writer), fps));
    }

    ~PatternWriter() {
        stop_ = true;
        thread_.join();
        writer_.close();
    }

    /// Switches the feed to \a format (a new pool generation); bars in the new format.
    Result<void> reconfigure(const Format& format) {
        std::lock_guard lock(mutex_);
        filled_.clear();
        return writer_.reconfigure(format);
    }

    std::uint64_t published() const { return published_; }

  private:
    PatternWriter(Writer writer, int fps) : writer_(std::move(writer)), fps_(fps) {
        thread_ = std::thread([this] { run(); });
    }

    void run() {
        while (!stop_) {
            {
                std::lock_guard lock(mutex_);
                auto loan = writer_.loan();
                if (loan) {
                    if (filled_.insert(loan->slotIndex()).second) {
                        WritablePlanes planes{};
                        for (std::uint32_t p = 0; p < loan->format().planeCount; ++p)
                            planes[p] = loan->plane(p);
                        fillBars(loan->format(), planes);
                    }
                    if (writer_.publish(std::move(*loan)))
                        ++published_;
                }
            }
            std::this_thread::sleep_for(std::chrono::microseconds(1'000'000 / fps_));
        }
    }

    Writer writer_;
    int fps_;
    std::mutex mutex_;
    std::set<std::uint32_t> filled_;
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> published_{0};
    std::thread thread_;
};

}  // namespace shmframe::viewer::test
