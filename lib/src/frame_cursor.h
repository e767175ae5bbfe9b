// SPDX-License-Identifier: LGPL-2.1-or-later
// Where a reader stands in its writer's stream: the pool generation it reads (and a
// newer one it moves to once this one has nothing more for it), the last frame it
// delivered and the last end of stream it reported. It hands out the next frame in
// the reader's order, and the end of stream only after every frame before it, and it
// counts what it delivered, skipped, lost and copied.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "reader_link.h"
#include "shmframe/error.h"
#include "shmframe/reader.h"
#include "slot_lease.h"

namespace shmframe {

class FrameCursor final {
  public:
    FrameCursor(std::string feedName, ReadMode mode);

    /// Connected: reads \a pool from where the writer admitted us (written into our
    /// control block before its Welcome), never past what it has published.
    void start(std::shared_ptr<const ReaderPool> pool);
    /// The writer is gone: frames still out keep their pools mapped.
    void stop();
    /// A NewPool arrived: \a next is read once the current pool is drained.
    void follow(std::shared_ptr<const ReaderPool> next) { pendingPool_ = std::move(next); }

    bool started() const { return pool_ != nullptr; }
    /// The pool being read; null while stopped.
    const ReaderPool* pool() const { return pool_.get(); }
    bool hasPendingPool() const { return pendingPool_ != nullptr; }
    /// The writer replaced this pool: its NewPool is on the socket, or already read.
    bool retired() const;
    /// Whether deliver() has something: a frame after the last, or an unreported EOS.
    bool hasNews() const;

    /**
     * The next frame; EndOfStream once every frame before it was delivered (once per
     * end of stream); WouldBlock; BadPool for a header that names a slot that does
     * not exist (the reader then lets go of this writer).
     */
    Result<Frame> deliver();

    /// What it counted: received, skipped, gaps, copies, formatChanges, endOfStreams.
    const ReaderStats& stats() const { return stats_; }

  private:
    std::optional<Frame> take(Result<void>& failure);

    std::string feedName_;
    PickOrder order_;
    std::shared_ptr<const ReaderPool> pool_;
    std::shared_ptr<const ReaderPool> pendingPool_;
    std::optional<Format> lastFormat_;  // across writers: a new one may change it
    std::uint64_t lastSequence_ = 0;
    std::uint64_t lastEosReported_ = 0;
    ReaderStats stats_;
};

}  // namespace shmframe
