// SPDX-License-Identifier: LGPL-2.1-or-later
// The writer's slot table for one pool generation: which slots are on loan, which one
// a new loan may take, and what to do when readers keep every slot (revoke a lease
// under never-block, name the laggards under lossless). Everything here is built on
// two questions: is this slot reusable (not on loan, not the latest frame), and does
// a reader lease this sequence. PoolGeneration owns one per pool.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pool_mapping.h"
#include "reader_connection.h"
#include "shmframe/writer_policy.h"

namespace shmframe {

class SlotTable final {
  public:
    /// What claim() found.
    struct Claim {
        enum class Outcome {
            Claimed,        ///< `slot` is on loan now
            AllLoaned,      ///< every slot is on loan by this writer
            HeldByReaders,  ///< the free slots are leased, or not yet read (lossless)
        };
        Outcome outcome = Outcome::AllLoaned;
        std::uint32_t slot = 0;
    };
    /// A slot taken back from readers.
    struct Revocation {
        std::uint32_t slot = 0;
        std::uint32_t leases = 0;  ///< lease words marked revoked
    };
    /// A reader that keeps the slot a lossless writer needs.
    struct Laggard {
        std::uint32_t readerId = 0;
        std::string reason;
    };

    SlotTable(PoolMapping& pool, WriterPolicy policy);

    /**
     * Loans the reusable slot with the oldest frame that no reader needs: none leases
     * it and (lossless) every sequential reader has read it. Before taking a slot with
     * a frame it marks its sequence 0 and looks for leases again, so that a reader
     * taking a lease meanwhile either sees the mark or is seen.
     */
    Claim claim(const ReaderList& readers);

    /// Never-block with every reusable slot pinned: takes the oldest back, marking the
    /// lease words that hold it revoked.
    std::optional<Revocation> revokeOldest(const ReaderList& readers);

    /// Lossless past its timeout: exactly the readers that keep the oldest reusable
    /// slot (a sequential reader that has not read it, or any reader leasing it).
    std::vector<Laggard> laggards(const ReaderList& readers,
                                  std::chrono::milliseconds timeout) const;

    /// Ends the loan of \a slot (published, or dropped unpublished). Safe from any
    /// thread: the rest of the table runs under the writer's lock, but a LoanedFrame
    /// may be dropped anywhere.
    void giveBack(std::uint32_t slot);

  private:
    bool reusable(std::uint32_t slot, std::uint64_t latest) const;
    static bool leased(const ReaderList& readers, std::uint64_t sequence);
    std::uint64_t oldestUnreadSequential(const ReaderList& readers) const;

    PoolMapping& pool_;
    WriterPolicy policy_;
    std::vector<std::atomic<bool>> loaned_;
};

}  // namespace shmframe
