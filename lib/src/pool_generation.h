// SPDX-License-Identifier: LGPL-2.1-or-later
// One pool generation of a writer: the sealed pool of one format, the loans of its
// slots, and the live part of its header (the latest frame, end of stream, the closed
// and retired marks). The writer loans from its current generation and publishes into
// it; a format change makes a new one and retires the old. A LoanedFrame holds its
// generation, so a slot dropped after a change goes back to the pool it came from.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pool_mapping.h"
#include "reader_connection.h"
#include "shmframe/error.h"
#include "shmframe/frame_meta.h"
#include "shmframe/writer_policy.h"
#include "slot_table.h"

namespace shmframe {

class PoolGeneration final {
  public:
    /// What every generation of one writer shares.
    struct Settings {
        std::string feedName;
        std::uint64_t writerSession = 0;
        std::uint32_t slotCount = 0;
        std::uint32_t userMetaSize = 0;
        std::uint32_t leaseLimit = 0;
        WriterPolicy policy = WriterPolicy::NeverBlock;
    };

    /// Builds, pre-faults and seals generation \a number of a pool for \a format.
    static Result<std::shared_ptr<PoolGeneration>> create(const Settings& settings,
                                                          const Format& format,
                                                          std::uint32_t number);

    PoolGeneration(const Settings& settings, PoolMapping pool);
    PoolGeneration(const PoolGeneration&) = delete;
    PoolGeneration& operator=(const PoolGeneration&) = delete;

    const PoolMapping& pool() const { return pool_; }
    std::uint32_t number() const { return pool_.generation(); }
    std::uint64_t writerSession() const { return pool_.session(); }
    const Format& format() const { return pool_.format(); }
    /// Writable memory of slot \a slot, for the frame that has it on loan.
    std::byte* frame(std::uint32_t slot) { return pool_.frame(slot); }
    std::byte* userMeta(std::uint32_t slot) { return pool_.userMeta(slot); }

    // Everything below but giveBack() runs under the writer's lock.

    /// What lend() did.
    struct Loan {
        SlotTable::Claim::Outcome outcome = SlotTable::Claim::Outcome::AllLoaned;
        std::uint32_t slot = 0;
        std::uint32_t revokedLeases = 0;  ///< never-block: lease words taken back for it
    };
    /// Loans a slot no reader needs. Never-block, with every reusable slot pinned by
    /// readers: takes back the oldest (logged at most once a second). Lossless: reports
    /// HeldByReaders, and the writer waits.
    Loan lend(const ReaderList& readers);

    /**
     * Lossless, before sleeping in waitForReaders(): says that the writer waits, then
     * looks once more; false when a slot came free meanwhile (look again at once).
     * Readers store their progress, then load the flag; both sequentially consistent.
     */
    bool prepareToWait(const ReaderList& readers);
    /// Sleeps (without the writer's lock) until a reader moves on, or \a timeout.
    void waitForReaders(std::chrono::nanoseconds timeout);
    /// Lossless past its timeout: the readers that keep the oldest reusable slot.
    std::vector<SlotTable::Laggard> laggards(const ReaderList& readers,
                                             std::chrono::milliseconds timeout) const {
        return slots_.laggards(readers, timeout);
    }

    /// Stamps \a meta into \a slot and makes it the latest frame, \a sequence.
    void publish(std::uint32_t slot, std::uint64_t sequence, const FrameMeta& meta,
                 std::uint32_t userMetaLength, std::uint64_t publishedCount);
    /// Ends the loan of \a slot (published, or dropped unpublished). From any thread,
    /// without the writer's lock.
    void giveBack(std::uint32_t slot) { slots_.giveBack(slot); }

    /// End of stream after frame \a lastSequence.
    void markEndOfStream(std::uint64_t lastSequence);
    /// The writer is gone for good: end of stream unless one is already set, and closed.
    void markClosed(std::uint64_t lastSequence);
    /// A newer generation replaced this one.
    void markRetired();
    /// The readers connected now, and the frames published so far (a new generation
    /// starts with the old one's count).
    void showReaders(std::uint32_t readers);
    void showPublished(std::uint64_t publishedCount);
    /// Wakes a lossless writer sleeping in waitForReaders() (a reader left).
    void wakeWaitingWriter() const;

  private:
    std::string feedName_;
    PoolMapping pool_;
    SlotTable slots_;
    WriterPolicy policy_;
    std::uint64_t lastRevokeLogNs_ = 0;
};

}  // namespace shmframe
