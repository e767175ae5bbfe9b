// SPDX-License-Identifier: LGPL-2.1-or-later
// The readers a writer serves: welcoming a greeted peer (the pool, its control block
// and its wake-up listener) or refusing it, noticing when one hangs up or misbehaves,
// dropping one, waking them, and telling them of a new pool generation. It shows
// their number in the current pool's header. What happens to readers is queued as
// ReaderEvents, for the writer to report once it has let go of its lock.
//
// Not thread-safe: the writer calls it under its lock.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pool_generation.h"
#include "protocol.h"
#include "reader_connection.h"
#include "shmframe/writer.h"
#include "wake_channel.h"

namespace shmframe {

class ReaderRegistry final {
  public:
    /// Serves readers of \a feedName from \a pool (see moveTo()), waking them through
    /// a WakeChannel of its own.
    ReaderRegistry(std::string feedName, const WriterOptions& options, PoolGeneration& pool);

    const ReaderList& readers() const { return readers_; }
    std::uint32_t count() const { return static_cast<std::uint32_t>(readers_.size()); }
    std::uint64_t everConnected() const { return everConnected_; }
    std::uint64_t dropped() const { return dropped_; }

    /**
     * Answers a peer the service let in: a probe gets the pool alone; a reader gets
     * its control block and wake-up listener and is kept (moved out of \a peer), starting
     * after frame \a publishedSequence unless the pool has a newer one. Returns why it
     * was refused, for the service's log.
     */
    std::optional<std::string> admit(std::unique_ptr<ReaderConnection>& peer,
                                     const protocol::Hello& hello, std::uint64_t publishedSequence);
    /// A reader's socket is readable: it hung up, or it sent what readers never send.
    void readable(std::uint32_t readerId);
    /// Drops a reader, telling it why (Goodbye) and logging it.
    void drop(std::uint32_t readerId, const std::string& reason);
    /// Wakes the readers that asked to be (Asked), or every reader (Always): whatever
    /// their number, one write if any is woken, none otherwise.
    enum class WakeWhen { Asked, Always };
    void wake(WakeWhen when);
    /// Sends every reader the new \a pool (NewPool) and serves from it from now on;
    /// drops a reader whose socket is full.
    void moveTo(PoolGeneration& pool);
    /// Hangs up on every reader.
    void hangUpAll();

    /// What happened to readers since the last call.
    std::vector<ReaderEvent> takeEvents() { return std::exchange(events_, {}); }

  private:
    void remove(std::uint32_t readerId, ReaderEvent::Kind kind, const std::string& reason);
    void showCount();

    std::string feedName_;
    std::uint32_t maxReaders_;
    std::uint32_t leaseLimit_;
    std::uint32_t slotCount_;
    PoolGeneration* pool_;  // the writer's current generation
    WakeChannel wakeChannel_;
    ReaderList readers_;
    std::vector<ReaderEvent> events_;
    std::uint64_t everConnected_ = 0;
    std::uint64_t dropped_ = 0;
};

}  // namespace shmframe
