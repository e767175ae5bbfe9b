// SPDX-License-Identifier: LGPL-2.1-or-later
// GstMemory over shmframe slots: writable loans for the sink, read-only frames for the source.
#pragma once

#include <gst/gst.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>

#include "shmframe/reader.h"
#include "shmframe/writer.h"

namespace shmframe::gst {

/// Wakes a pool that waits for a free slot when a loan ends (published or dropped).
class SlotSignal {
  public:
    void notify();
    /// Waits until notify() or \a timeout; returns at once if notified since \a seen.
    void waitFor(std::uint64_t seen, std::chrono::milliseconds timeout);
    std::uint64_t releases();

  private:
    std::mutex mutex_;
    std::condition_variable cond_;
    std::uint64_t releases_ = 0;
};

/// A loaned writer slot that a GstMemory of the sink's pool points into.
struct SlotHolder {
    LoanedFrame frame;       ///< until published
    RetainedFrame retained;  ///< once published: the slot stays ours until the memory goes
    bool holdsSlot() const { return frame.valid() || retained.valid(); }
    std::size_t slotBytes() const {
        return frame.valid() ? frame.bytes().size() : retained.bytes().size();
    }
    const void* owner = nullptr;  ///< the sink that loaned it
    std::uint64_t poolGeneration = 0;
    std::shared_ptr<SlotSignal> signal;
};

/// Wraps a loan in a writable GstMemory; destroying the memory returns an unpublished slot.
GstMemory* wrapLoanedFrame(std::unique_ptr<SlotHolder> holder);

/// The slot behind \a buffer when it is exactly one whole slot of ours, else nullptr.
SlotHolder* slotHolderOf(GstBuffer* buffer);

/// The mem_type of the memory shmframesrc hands out: the writer's slot, mapped read-only.
inline constexpr const char* kFrameMemoryType = "ShmframeFrame";

/**
 * Wraps a reader's frame in a read-only GstMemory (of type kFrameMemoryType) that
 * spans the whole slot: mapping it never copies. The frame (and its lease) lives
 * until the last GstBuffer that shares the memory is gone, on whatever thread.
 */
GstMemory* wrapReadOnlyFrame(Frame&& frame);

/**
 * Ends the lease of the frame in \a memory now and keeps the memory for the next
 * frame (rewrapReadOnlyFrame), when it is a memory of wrapReadOnlyFrame that nobody
 * else holds (no other reference, no share of it). False: leave it alone.
 */
bool releaseReadOnlyFrame(GstMemory* memory);

/// Puts \a frame into a memory emptied by releaseReadOnlyFrame(); false if it is not one.
bool rewrapReadOnlyFrame(GstMemory* memory, Frame&& frame);

}  // namespace shmframe::gst
