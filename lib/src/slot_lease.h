// SPDX-License-Identifier: LGPL-2.1-or-later
// How a reader takes a frame out of the pool without a syscall. It picks the frame
// (the newest, or for a sequential reader the oldest it has not seen), then takes it
// like a hazard pointer: its sequence into a free lease word of the reader's control
// block, then the slot's sequence read again; the writer does the mirror image before
// reusing a slot. With every lease word in use it copies the frame instead, checked
// seqlock-style.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

#include "reader_link.h"
#include "shmframe/error.h"
#include "shmframe/frame_meta.h"

namespace shmframe {

/// Which frame to take next.
struct FramePick {
    std::uint32_t slot = 0;
    std::uint64_t sequence = 0;
};

/// Whether the reader wants every frame in order, or the newest.
enum class PickOrder { Newest, Oldest };

/// The next frame after \a lastSequence, nullopt when there is none; BadPool when
/// `latest` names a slot that does not exist.
Result<std::optional<FramePick>> pickFrame(const PoolMapping& pool, PickOrder order,
                                           std::uint64_t lastSequence);

/// A frame taken: in place under a lease, or a private copy.
struct SlotLease {
    const std::byte* data = nullptr;
    const std::byte* userMeta = nullptr;
    std::uint32_t userMetaLength = 0;
    FrameMeta meta;
    std::atomic<std::uint64_t>* leaseWord = nullptr;  // null for a copy
    std::shared_ptr<std::byte[]> copy;                // the copy, if it is one
};

/// Takes \a pick; nullopt when the writer reused the slot meanwhile (pick again).
std::optional<SlotLease> takeSlot(const ReaderPool& held, const FramePick& pick);

}  // namespace shmframe
