// SPDX-License-Identifier: LGPL-2.1-or-later
#include "frame_cursor.h"

#include <algorithm>

#include "futex.h"
#include "pool_layout.h"

namespace shmframe {
namespace {

constexpr int kAcquireAttempts = 16;

}  // namespace

FrameCursor::FrameCursor(std::string feedName, ReadMode mode)
    : feedName_(std::move(feedName)),
      order_(mode == ReadMode::Sequential ? PickOrder::Oldest : PickOrder::Newest) {}

void FrameCursor::start(std::shared_ptr<const ReaderPool> pool) {
    pool_ = std::move(pool);
    pendingPool_.reset();
    // Not `latest` now: frames published since we were admitted belong to us (reading
    // `latest` here lost every frame but the newest of those to a sequential reader).
    const std::uint64_t latest =
        layout::latestSequence(pool_->pool.header().latest.load(std::memory_order_seq_cst));
    const std::uint64_t admitted = pool_->control->block->consumed.load(std::memory_order_seq_cst);
    lastSequence_ = latest != 0 ? std::min(admitted, latest) : admitted;
    lastEosReported_ = 0;
    const Format& format = pool_->pool.format();
    if (!lastFormat_ || *lastFormat_ != format) {
        if (lastFormat_) {
            ++stats_.formatChanges;
        }
        lastFormat_ = format;
    }
}

void FrameCursor::stop() {
    pool_.reset();
    pendingPool_.reset();
}

bool FrameCursor::retired() const {
    return (pool_->pool.header().state.load(std::memory_order_acquire) & layout::kPoolRetired) != 0;
}

bool FrameCursor::hasNews() const {
    if (!pool_) {
        return false;
    }
    const auto& header = pool_->pool.header();
    const std::uint64_t newest =
        layout::latestSequence(header.latest.load(std::memory_order_seq_cst));
    const std::uint64_t eos = header.eos.load(std::memory_order_seq_cst);
    return newest > lastSequence_ || (eos != 0 && eos != lastEosReported_);
}

Result<Frame> FrameCursor::deliver() {
    for (;;) {
        Result<void> failure;
        if (auto frame = take(failure)) {
            return std::move(*frame);
        }
        if (!failure) {
            return failure.error();
        }
        // Move to a newer pool once this one has nothing more for us.
        if (!pendingPool_) {
            break;
        }
        pool_ = std::move(pendingPool_);
        ++stats_.formatChanges;
        lastFormat_ = pool_->pool.format();
    }
    const std::uint64_t eos = pool_->pool.header().eos.load(std::memory_order_acquire);
    if ((eos & layout::kEosFlag) && (eos & ~layout::kEosFlag) <= lastSequence_ &&
        eos != lastEosReported_) {
        lastEosReported_ = eos;
        ++stats_.endOfStreams;
        return Error::make(Errc::EndOfStream, "end of stream on feed '" + feedName_ + "'");
    }
    return Error::make(Errc::WouldBlock, "no new frame");
}

std::optional<Frame> FrameCursor::take(Result<void>& failure) {
    for (int attempt = 0; attempt < kAcquireAttempts; ++attempt) {
        auto pick = pickFrame(pool_->pool, order_, lastSequence_);
        if (!pick || !*pick) {
            failure = pick ? Result<void>() : Result<void>(std::move(pick).error());
            return std::nullopt;
        }
        auto taken = takeSlot(*pool_, **pick);
        if (!taken) {
            continue;  // the writer reused that slot meanwhile
        }
        const std::uint64_t sequence = taken->meta.sequence;
        Frame frame;
        frame.meta_ = taken->meta;
        frame.data_ = taken->data;
        frame.userMeta_ = taken->userMeta;
        frame.userMetaLength_ = taken->userMetaLength;
        frame.leaseWord_ = taken->leaseWord;
        if (taken->copy) {
            frame.copy_ = std::move(taken->copy);
            ++stats_.copies;
        }
        frame.keepAlive_ = pool_;
        frame.format_ = &pool_->pool.format();
        frame.size_ = frame.format_->frameSize;
        frame.session_ = pool_->pool.session();
        frame.generation_ = pool_->pool.generation();

        const std::uint64_t missed = sequence - lastSequence_ - 1;
        (order_ == PickOrder::Oldest ? stats_.gaps : stats_.skipped) += missed;
        pool_->control->noteDelivered(sequence, missed);
        lastSequence_ = sequence;
        ++stats_.received;
        if (order_ == PickOrder::Oldest) {
            // A lossless writer may wait for us to move on.
            const layout::PoolHeader& header = pool_->pool.header();
            pool_->control->block->consumed.store(sequence, std::memory_order_seq_cst);
            if (header.writerWaiting.load(std::memory_order_seq_cst) != 0) {
                futex::wakeAll(header.writerWaiting);
            }
        }
        return frame;
    }
    return std::nullopt;
}

}  // namespace shmframe
