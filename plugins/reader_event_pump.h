// SPDX-License-Identifier: LGPL-2.1-or-later
// Moves the writer's reader events off its service thread before they reach user code.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "shmframe/writer.h"

namespace shmframe::gst {

/**
 * The writer calls onReaderEvent on its service thread and forbids calls back
 * into the Writer from there; a signal handler may do anything (read `stats`,
 * change state). So events are queued and delivered on a thread of our own.
 */
class ReaderEventPump {
  public:
    using Handler = std::function<void(const ReaderEvent&)>;

    explicit ReaderEventPump(Handler handler);
    ~ReaderEventPump();
    ReaderEventPump(const ReaderEventPump&) = delete;
    ReaderEventPump& operator=(const ReaderEventPump&) = delete;

    /// A callback for WriterOptions::onReaderEvent; safe to call after the pump is gone.
    std::function<void(const ReaderEvent&)> sink();

    /// Delivers what is queued, then stops the thread.
    void stop();

  private:
    struct Queue {
        std::mutex mutex;
        std::condition_variable cond;
        std::deque<ReaderEvent> events;
        bool stopping = false;
    };
    void run();

    Handler handler_;
    std::shared_ptr<Queue> queue_;
    std::thread thread_;
};

}  // namespace shmframe::gst
