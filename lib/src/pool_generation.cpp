// SPDX-License-Identifier: LGPL-2.1-or-later
#include "pool_generation.h"

#include <unistd.h>

#include <algorithm>

#include "futex.h"
#include "shmframe/clock.h"
#include "shmframe/log.h"

namespace shmframe {
namespace {

constexpr std::uint64_t kRevokeLogIntervalNs = 1'000'000'000;

}  // namespace

Result<std::shared_ptr<PoolGeneration>> PoolGeneration::create(const Settings& settings,
                                                               const Format& format,
                                                               std::uint32_t number) {
    auto geometry = layout::computeGeometry(format, settings.slotCount, settings.userMetaSize);
    if (!geometry) {
        return std::move(geometry).error();
    }
    layout::PoolDescription description;
    description.geometry = *geometry;
    description.format = format;
    description.writerSession = settings.writerSession;
    description.writerPid = static_cast<std::uint32_t>(::getpid());
    description.generation = number;
    description.leaseLimit = settings.leaseLimit;
    description.policy = static_cast<std::uint32_t>(settings.policy);
    auto pool = PoolMapping::create("shmframe:" + settings.feedName.substr(0, 40), description);
    if (!pool) {
        return std::move(pool).error();
    }
    return std::make_shared<PoolGeneration>(settings, std::move(*pool));
}

PoolGeneration::PoolGeneration(const Settings& settings, PoolMapping pool)
    : feedName_(settings.feedName),
      pool_(std::move(pool)),
      slots_(pool_, settings.policy),
      policy_(settings.policy) {}

PoolGeneration::Loan PoolGeneration::lend(const ReaderList& readers) {
    const SlotTable::Claim claim = slots_.claim(readers);
    if (claim.outcome != SlotTable::Claim::Outcome::HeldByReaders ||
        policy_ != WriterPolicy::NeverBlock) {
        return {claim.outcome, claim.slot, 0};
    }
    const auto revocation = slots_.revokeOldest(readers);
    if (!revocation) {
        return {claim.outcome, 0, 0};
    }
    const std::uint64_t now = monotonicNs();
    if (now - lastRevokeLogNs_ > kRevokeLogIntervalNs) {
        lastRevokeLogNs_ = now;
        log(LogLevel::Warning, "feed '" + feedName_ +
                                   "': every slot is held by readers; took back the oldest "
                                   "(raise slots or lower lease-limit)");
    }
    return {SlotTable::Claim::Outcome::Claimed, revocation->slot, revocation->leases};
}

bool PoolGeneration::prepareToWait(const ReaderList& readers) {
    auto& waiting = pool_.header().writerWaiting;
    waiting.store(1, std::memory_order_seq_cst);
    if (const auto again = slots_.claim(readers);
        again.outcome == SlotTable::Claim::Outcome::Claimed) {
        waiting.store(0, std::memory_order_relaxed);
        slots_.giveBack(again.slot);  // the caller takes it for real on its next pass
        return false;
    }
    return true;
}

void PoolGeneration::waitForReaders(std::chrono::nanoseconds timeout) {
    auto& waiting = pool_.header().writerWaiting;
    futex::wait(waiting, 1, timeout);
    waiting.store(0, std::memory_order_relaxed);
}

void PoolGeneration::publish(std::uint32_t slot, std::uint64_t sequence, const FrameMeta& meta,
                             std::uint32_t userMetaLength, std::uint64_t publishedCount) {
    const std::uint64_t now = monotonicNs();
    layout::SlotHeader& header = pool_.slot(slot);
    header.pts.store(meta.pts, std::memory_order_relaxed);
    header.dts.store(meta.dts, std::memory_order_relaxed);
    header.duration.store(meta.duration, std::memory_order_relaxed);
    header.flags.store(meta.flags, std::memory_order_relaxed);
    header.publishTimeNs.store(now, std::memory_order_relaxed);
    header.userMetaLength.store(userMetaLength, std::memory_order_relaxed);
    header.sequence.store(sequence, std::memory_order_release);

    layout::PoolHeader& poolHeader = pool_.header();
    if (poolHeader.eos.load(std::memory_order_relaxed) != 0) {
        poolHeader.eos.store(0, std::memory_order_relaxed);  // a new stream starts
    }
    // `latest` shares its cache line with these counters and spinning readers poll it:
    // storing it last moves the line to them once, not back and forth.
    poolHeader.published.store(publishedCount, std::memory_order_relaxed);
    poolHeader.lastPublishNs.store(now, std::memory_order_relaxed);
    poolHeader.latest.store(layout::packLatest(sequence, slot), std::memory_order_seq_cst);
}

void PoolGeneration::markEndOfStream(std::uint64_t lastSequence) {
    pool_.header().eos.store(layout::kEosFlag | lastSequence, std::memory_order_seq_cst);
}

void PoolGeneration::markClosed(std::uint64_t lastSequence) {
    auto& header = pool_.header();
    if (header.eos.load() == 0) {
        markEndOfStream(lastSequence);
    }
    header.state.fetch_or(layout::kPoolClosed, std::memory_order_seq_cst);
}

void PoolGeneration::markRetired() {
    pool_.header().state.fetch_or(layout::kPoolRetired, std::memory_order_seq_cst);
}

void PoolGeneration::showReaders(std::uint32_t readers) {
    pool_.header().readers.store(readers, std::memory_order_relaxed);
}

void PoolGeneration::showPublished(std::uint64_t publishedCount) {
    pool_.header().published.store(publishedCount);
}

void PoolGeneration::wakeWaitingWriter() const {
    futex::wakeAll(pool_.header().writerWaiting);
}

}  // namespace shmframe
