// SPDX-License-Identifier: LGPL-2.1-or-later
// A writer's slot on loan: plane spans into its pool generation's memory, and the slot
// handed back to that generation when the frame is dropped unpublished (or, retained,
// when it is let go). Giving back needs no lock, so a frame may be dropped from any
// thread, after its writer too: the generation it holds outlives both.
#include "shmframe/loaned_frame.h"

#include <algorithm>

#include "pool_generation.h"

namespace shmframe {

LoanedFrame::LoanedFrame(std::shared_ptr<PoolGeneration> generation, std::uint32_t slot)
    : generation_(std::move(generation)),
      format_(&generation_->format()),
      data_(generation_->frame(slot)),
      size_(format_->frameSize),
      userMeta_(generation_->userMeta(slot)),
      userMetaSize_(generation_->pool().geometry().userMetaSize),
      slot_(slot) {}

LoanedFrame::LoanedFrame(LoanedFrame&& other) noexcept {
    *this = std::move(other);
}

LoanedFrame& LoanedFrame::operator=(LoanedFrame&& other) noexcept {
    if (this != &other) {
        release();
        generation_ = std::move(other.generation_);
        format_ = std::exchange(other.format_, nullptr);
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
        userMeta_ = std::exchange(other.userMeta_, nullptr);
        userMetaSize_ = std::exchange(other.userMetaSize_, 0);
        userMetaLength_ = std::exchange(other.userMetaLength_, 0);
        slot_ = other.slot_;
    }
    return *this;
}

LoanedFrame::~LoanedFrame() {
    release();
}

std::span<std::byte> LoanedFrame::plane(std::uint32_t index) const {
    if (!data_ || index >= format_->planeCount) {
        return {};
    }
    const Plane& plane = format_->planes[index];
    return {data_ + plane.offset, static_cast<std::size_t>(plane.size)};
}

void LoanedFrame::setUserMetaLength(std::uint32_t length) {
    userMetaLength_ = std::min(length, userMetaSize_);
}

void LoanedFrame::release() noexcept {
    if (data_ && generation_) {
        generation_->giveBack(slot_);
    }
    forget();
}

void LoanedFrame::forget() noexcept {
    data_ = nullptr;
    userMeta_ = nullptr;
    generation_.reset();
}

std::span<const std::byte> RetainedFrame::plane(std::uint32_t index) const {
    return loan_.plane(index);
}

}  // namespace shmframe
