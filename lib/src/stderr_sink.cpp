// SPDX-License-Identifier: LGPL-2.1-or-later
#include "stderr_sink.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <thread>

namespace shmframe::stderr_sink {
namespace {

// Enough for a burst of warnings; a stuck stderr costs at most this much memory.
constexpr std::size_t kMaxQueuedLines = 256;
constexpr std::size_t kMaxQueuedBytes = 64 * 1024;
// At exit, how long we wait for queued lines to reach a stderr that takes them.
constexpr auto kExitFlushLimit = std::chrono::milliseconds(500);

// Writes all of \a text to stderr, blocking as a plain write does; false on an error.
bool writeAll(const std::string& text) {
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t written = ::write(STDERR_FILENO, text.data() + done, text.size() - done);
        if (written < 0 && errno == EINTR) {
            continue;
        }
        if (written <= 0) {
            return false;
        }
        done += static_cast<std::size_t>(written);
    }
    return true;
}

class Sink {
  public:
    void post(std::string line) {
        std::unique_lock lock(mutex_);
        if (queue_.size() >= kMaxQueuedLines || queuedBytes_ + line.size() > kMaxQueuedBytes) {
            ++dropped_;
            return;
        }
        queuedBytes_ += line.size();
        queue_.push_back(std::move(line));
        if (!started_) {
            start();
        }
        lock.unlock();
        wake_.notify_one();
    }

    // Gives the writing thread up to kExitFlushLimit to empty the queue.
    void flushAtExit() {
        std::unique_lock lock(mutex_);
        if (started_) {
            drained_.wait_for(lock, kExitFlushLimit, [this] { return idleLocked(); });
        }
    }

    // fork() copies the queue but not the thread: the child starts its own when it
    // logs. The lock is held across fork() so that the copy is consistent.
    void beforeFork() { mutex_.lock(); }
    void afterForkInParent() { mutex_.unlock(); }
    void afterForkInChild() {
        queue_.clear();  // the parent's lines, the parent writes them
        queuedBytes_ = 0;
        dropped_ = 0;
        started_ = false;
        writing_ = false;
        mutex_.unlock();
    }

  private:
    bool idleLocked() const { return queue_.empty() && !writing_ && dropped_ == 0; }

    void start() {
        // The thread takes no signals: a SIGTERM or SIGINT must reach the program's
        // own threads (and interrupt their waits), never this one.
        sigset_t all;
        sigset_t previous;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &previous);
        try {
            std::thread([this] { run(); }).detach();
            started_ = true;
        } catch (...) {
            // No thread (out of resources): lines stay queued, then count as dropped.
        }
        pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    }

    void run() {
        std::unique_lock lock(mutex_);
        for (;;) {
            wake_.wait(lock, [this] { return !queue_.empty() || dropped_ != 0; });
            std::string text;
            if (dropped_ != 0) {
                text = "shmframe warning: " + std::to_string(dropped_) +
                       " log lines dropped (stderr did not take them)\n";
                dropped_ = 0;
            }
            while (!queue_.empty()) {
                text += queue_.front();
                queuedBytes_ -= queue_.front().size();
                queue_.pop_front();
            }
            writing_ = true;
            lock.unlock();
            // The one place that may block for good, on this thread alone.
            writeAll(text);
            lock.lock();
            writing_ = false;
            if (idleLocked()) {
                drained_.notify_all();
            }
        }
    }

    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable drained_;
    std::deque<std::string> queue_;
    std::size_t queuedBytes_ = 0;
    std::uint64_t dropped_ = 0;
    bool started_ = false;
    bool writing_ = false;
};

// Never destroyed: the writing thread may still be blocked in write() when the
// process exits.
Sink& sink() {
    static Sink* const instance = [] {
        auto* created = new Sink;
        pthread_atfork([] { sink().beforeFork(); }, [] { sink().afterForkInParent(); },
                       [] { sink().afterForkInChild(); });
        std::atexit([] { sink().flushAtExit(); });
        return created;
    }();
    return *instance;
}

}  // namespace

void post(std::string line) {
    sink().post(std::move(line));
}

}  // namespace shmframe::stderr_sink
