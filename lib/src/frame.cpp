// SPDX-License-Identifier: LGPL-2.1-or-later
// A frame a reader holds: a lease on a pool slot (or a private copy). Releasing it
// clears the lease word and wakes a lossless writer that may wait for the slot.
#include <algorithm>

#include "futex.h"
#include "pool_layout.h"
#include "reader_link.h"
#include "shmframe/reader.h"

namespace shmframe {

// --- Frame -----------------------------------------------------------------------

Frame::Frame(Frame&& other) noexcept {
    *this = std::move(other);
}

Frame& Frame::operator=(Frame&& other) noexcept {
    if (this != &other) {
        release();
        keepAlive_ = std::move(other.keepAlive_);
        copy_ = std::move(other.copy_);
        format_ = std::exchange(other.format_, nullptr);
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
        userMeta_ = std::exchange(other.userMeta_, nullptr);
        userMetaLength_ = std::exchange(other.userMetaLength_, 0);
        meta_ = other.meta_;
        leaseWord_ = std::exchange(other.leaseWord_, nullptr);
        session_ = other.session_;
        generation_ = other.generation_;
    }
    return *this;
}

Frame::~Frame() {
    release();
}

std::span<const std::byte> Frame::plane(std::uint32_t index) const {
    if (!data_ || index >= format_->planeCount) {
        return {};
    }
    const Plane& plane = format_->planes[index];
    return {data_ + plane.offset, static_cast<std::size_t>(plane.size)};
}

bool Frame::leaseIntact() const {
    if (!leaseWord_) {
        return data_ != nullptr;
    }
    return static_cast<std::atomic<std::uint64_t>*>(leaseWord_)->load(std::memory_order_seq_cst) ==
           meta_.sequence;
}

void Frame::release() noexcept {
    if (leaseWord_) {
        auto* word = static_cast<std::atomic<std::uint64_t>*>(leaseWord_);
        // A closed word stays closed: the writer let the reader go.
        std::uint64_t held = word->load(std::memory_order_relaxed);
        while (held != layout::kLeaseClosed &&
               !word->compare_exchange_weak(held, 0, std::memory_order_release,
                                            std::memory_order_relaxed)) {
        }
        const auto* pool = static_cast<const ReaderPool*>(keepAlive_.get());
        if (held & layout::kLeaseRevoked) {
            pool->control->revoked->fetch_add(1, std::memory_order_relaxed);
        }
        // A lossless writer may be waiting for this slot.
        const layout::PoolHeader& header = pool->pool.header();
        if (header.writerWaiting.load(std::memory_order_seq_cst) != 0) {
            futex::wakeAll(header.writerWaiting);
        }
        leaseWord_ = nullptr;
    }
    keepAlive_.reset();
    copy_.reset();
    data_ = nullptr;
    userMeta_ = nullptr;
    format_ = nullptr;
}

}  // namespace shmframe
