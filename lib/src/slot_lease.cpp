// SPDX-License-Identifier: LGPL-2.1-or-later
#include "slot_lease.h"

#include <algorithm>
#include <cstring>

namespace shmframe {

Result<std::optional<FramePick>> pickFrame(const PoolMapping& pool, PickOrder order,
                                           std::uint64_t lastSequence) {
    const std::uint64_t latest = pool.header().latest.load(std::memory_order_acquire);
    const std::uint64_t newest = layout::latestSequence(latest);
    if (latest == 0 || newest <= lastSequence) {
        return std::optional<FramePick>();
    }
    if (layout::latestSlot(latest) >= pool.slotCount()) {
        return Error::make(Errc::BadPool, "pool header field 'latest' names slot " +
                                              std::to_string(layout::latestSlot(latest)) + " of " +
                                              std::to_string(pool.slotCount()));
    }
    FramePick pick{layout::latestSlot(latest), newest};
    if (order == PickOrder::Oldest && newest != lastSequence + 1) {
        // The oldest frame we have not seen that is still in the pool.
        std::uint64_t oldest = UINT64_MAX;
        for (std::uint32_t i = 0; i < pool.slotCount(); ++i) {
            const std::uint64_t sequence = pool.slot(i).sequence.load(std::memory_order_acquire);
            if (sequence > lastSequence && sequence < oldest && sequence <= newest) {
                oldest = sequence;
                pick.slot = i;
            }
        }
        if (oldest != UINT64_MAX) {
            pick.sequence = oldest;
        }
    }
    return std::optional<FramePick>(pick);
}

std::optional<SlotLease> takeSlot(const ReaderPool& held, const FramePick& pick) {
    const PoolMapping& pool = held.pool;
    ReaderControl& control = *held.control;
    const layout::SlotHeader& header = pool.slot(pick.slot);
    const Format& format = pool.format();
    SlotLease taken;

    for (std::uint32_t i = 0; i < control.leaseCount; ++i) {
        std::uint64_t expected = 0;
        if (control.block->leases[i].compare_exchange_strong(expected, pick.sequence,
                                                             std::memory_order_seq_cst)) {
            taken.leaseWord = &control.block->leases[i];
            break;
        }
    }
    if (taken.leaseWord && header.sequence.load(std::memory_order_seq_cst) != pick.sequence) {
        // The writer is rewriting it: try again.
        taken.leaseWord->store(0, std::memory_order_release);
        return std::nullopt;
    }
    taken.meta.sequence = pick.sequence;
    taken.meta.pts = header.pts.load(std::memory_order_relaxed);
    taken.meta.dts = header.dts.load(std::memory_order_relaxed);
    taken.meta.duration = header.duration.load(std::memory_order_relaxed);
    taken.meta.flags = header.flags.load(std::memory_order_relaxed);
    taken.meta.publishTimeNs = header.publishTimeNs.load(std::memory_order_relaxed);
    taken.userMetaLength = std::min(header.userMetaLength.load(std::memory_order_relaxed),
                                    pool.geometry().userMetaSize);
    if (taken.leaseWord) {
        taken.data = pool.frame(pick.slot);
        taken.userMeta = pool.userMeta(pick.slot);
        return taken;
    }
    // Every lease is in use: a private copy, checked seqlock-style.
    const std::size_t metaBytes = pool.geometry().userMetaSize;
    taken.copy = std::shared_ptr<std::byte[]>(new std::byte[format.frameSize + metaBytes]);
    std::memcpy(taken.copy.get(), pool.frame(pick.slot), format.frameSize);
    std::memcpy(taken.copy.get() + format.frameSize, pool.userMeta(pick.slot),
                taken.userMetaLength);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (header.sequence.load(std::memory_order_relaxed) != pick.sequence) {
        return std::nullopt;
    }
    taken.data = taken.copy.get();
    taken.userMeta = taken.copy.get() + format.frameSize;
    return taken;
}

}  // namespace shmframe
