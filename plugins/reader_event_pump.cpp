// SPDX-License-Identifier: LGPL-2.1-or-later
#include "reader_event_pump.h"

#include <utility>

namespace shmframe::gst {

ReaderEventPump::ReaderEventPump(Handler handler)
    : handler_(std::move(handler)), queue_(std::make_shared<Queue>()) {
    thread_ = std::thread([this] { run(); });
}

ReaderEventPump::~ReaderEventPump() {
    stop();
}

std::function<void(const ReaderEvent&)> ReaderEventPump::sink() {
    // A weak reference: a writer that outlives the pump (kept by buffers in flight) drops events.
    std::weak_ptr<Queue> weak = queue_;
    return [weak](const ReaderEvent& event) {
        auto queue = weak.lock();
        if (!queue) {
            return;
        }
        {
            std::lock_guard lock(queue->mutex);
            if (queue->stopping) {
                return;
            }
            queue->events.push_back(event);
        }
        queue->cond.notify_one();
    };
}

void ReaderEventPump::stop() {
    {
        std::lock_guard lock(queue_->mutex);
        queue_->stopping = true;
    }
    queue_->cond.notify_one();
    if (thread_.joinable()) {
        thread_.join();
    }
}

void ReaderEventPump::run() {
    std::unique_lock lock(queue_->mutex);
    for (;;) {
        queue_->cond.wait(lock, [&] { return queue_->stopping || !queue_->events.empty(); });
        while (!queue_->events.empty()) {
            ReaderEvent event = std::move(queue_->events.front());
            queue_->events.pop_front();
            lock.unlock();
            handler_(event);
            lock.lock();
        }
        if (queue_->stopping) {
            return;
        }
    }
}

}  // namespace shmframe::gst
