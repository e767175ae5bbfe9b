// SPDX-License-Identifier: LGPL-2.1-or-later
#include "slot_table.h"

#include <algorithm>
#include <array>
#include <functional>

namespace shmframe {

SlotTable::SlotTable(PoolMapping& pool, WriterPolicy policy)
    : pool_(pool), policy_(policy), loaned_(pool.slotCount()) {}

bool SlotTable::reusable(std::uint32_t slot, std::uint64_t latest) const {
    return !loaned_[slot].load(std::memory_order_acquire) &&
           (latest == 0 || slot != layout::latestSlot(latest));
}

bool SlotTable::leased(const ReaderList& readers, std::uint64_t sequence) {
    return std::any_of(readers.begin(), readers.end(),
                       [&](const auto& reader) { return reader->holdsLease(sequence); });
}

std::uint64_t SlotTable::oldestUnreadSequential(const ReaderList& readers) const {
    std::uint64_t minConsumed = UINT64_MAX;
    if (policy_ == WriterPolicy::Lossless) {
        for (const auto& reader : readers) {
            if (reader->sequential()) {
                minConsumed = std::min(minConsumed, reader->consumed());
            }
        }
    }
    return minConsumed;
}

SlotTable::Claim SlotTable::claim(const ReaderList& readers) {
    const std::uint64_t latest = pool_.header().latest.load(std::memory_order_relaxed);
    const std::uint64_t minConsumed = oldestUnreadSequential(readers);
    // (sequence, slot), on the stack: loan() is on every frame's path.
    std::array<std::pair<std::uint64_t, std::uint32_t>, layout::kMaxSlots> candidates;
    std::size_t count = 0;
    for (std::uint32_t i = 0; i < pool_.slotCount(); ++i) {
        if (reusable(i, latest)) {
            candidates[count++] = {pool_.slot(i).sequence.load(std::memory_order_relaxed), i};
        }
    }
    // Oldest first keeps the most frames for sequential readers to catch up on. Without
    // any, nobody wants an older frame than the newest: the most recently used slots
    // first keep the writer (and its readers) in memory that is still in the caches, so
    // a pool sized for readers that hold many frames costs no more per frame than a
    // small one (painting 720p RGBA into 16 slots in turn: +25% writer CPU).
    const bool sequentialReaders = std::any_of(
        readers.begin(), readers.end(), [](const auto& reader) { return reader->sequential(); });
    if (sequentialReaders) {
        std::sort(candidates.begin(), candidates.begin() + count);
    } else {
        std::sort(candidates.begin(), candidates.begin() + count, std::greater<>());
    }
    Claim claim;
    for (std::size_t c = 0; c < count; ++c) {
        const auto [sequence, slot] = candidates[c];
        if (sequence != 0) {
            if (sequence > minConsumed || leased(readers, sequence)) {
                claim.outcome = Claim::Outcome::HeldByReaders;
                continue;
            }
            // Seqlock: mark the slot as being rewritten, then look for leases again. A
            // reader that leased it in between sees the mark and lets go, or we see its
            // lease and back off (both sides use sequentially consistent operations).
            pool_.slot(slot).sequence.store(0, std::memory_order_seq_cst);
            if (leased(readers, sequence)) {
                pool_.slot(slot).sequence.store(sequence, std::memory_order_release);
                claim.outcome = Claim::Outcome::HeldByReaders;
                continue;
            }
        }
        loaned_[slot].store(true, std::memory_order_relaxed);
        return {Claim::Outcome::Claimed, slot};
    }
    return claim;
}

std::optional<SlotTable::Revocation> SlotTable::revokeOldest(const ReaderList& readers) {
    const std::uint64_t latest = pool_.header().latest.load(std::memory_order_relaxed);
    std::optional<std::uint32_t> oldest;
    std::uint64_t oldestSequence = UINT64_MAX;
    for (std::uint32_t i = 0; i < pool_.slotCount(); ++i) {
        const std::uint64_t sequence = pool_.slot(i).sequence.load(std::memory_order_relaxed);
        if (reusable(i, latest) && sequence < oldestSequence) {
            oldest = i;
            oldestSequence = sequence;
        }
    }
    if (!oldest) {
        return std::nullopt;
    }
    pool_.slot(*oldest).sequence.store(0, std::memory_order_seq_cst);
    Revocation revocation{*oldest, 0};
    for (const auto& reader : readers) {
        revocation.leases += reader->revokeLease(oldestSequence);
    }
    loaned_[*oldest].store(true, std::memory_order_relaxed);
    return revocation;
}

std::vector<SlotTable::Laggard> SlotTable::laggards(const ReaderList& readers,
                                                    std::chrono::milliseconds timeout) const {
    // Free the oldest reusable slot: name exactly the readers that keep it. These are
    // claim()'s two reasons to skip a slot, so a reader that keeps up is never dropped
    // for another's sake.
    const std::uint64_t latest = pool_.header().latest.load(std::memory_order_relaxed);
    std::uint64_t oldest = UINT64_MAX;
    for (std::uint32_t i = 0; i < pool_.slotCount(); ++i) {
        const std::uint64_t sequence = pool_.slot(i).sequence.load(std::memory_order_relaxed);
        if (reusable(i, latest) && sequence != 0) {
            oldest = std::min(oldest, sequence);
        }
    }
    std::vector<Laggard> laggards;
    if (oldest == UINT64_MAX) {
        return laggards;
    }
    const std::string within = " within " + std::to_string(timeout.count()) + " ms";
    for (const auto& reader : readers) {
        if (reader->sequential() && reader->consumed() < oldest) {
            laggards.push_back(
                {reader->id(), "lossless: did not read frame " + std::to_string(oldest) + within});
        } else if (reader->holdsLease(oldest)) {
            laggards.push_back({reader->id(), "lossless: held frame " + std::to_string(oldest) +
                                                  " and did not release it" + within});
        }
    }
    return laggards;
}

void SlotTable::giveBack(std::uint32_t slot) {
    if (slot < loaned_.size()) {
        loaned_[slot].store(false, std::memory_order_release);
    }
}

}  // namespace shmframe
