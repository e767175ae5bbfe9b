// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * \file loaned_frame.h
 * \brief A writer's slot on loan, in its two states: writable until it is published
 * (LoanedFrame), read-only once published but still held (RetainedFrame).
 *
 * Each state is its own type, so a published frame can no longer hand out writable
 * planes: Writer::publish() takes the LoanedFrame by rvalue, and
 * Writer::publishRetained() turns it into a RetainedFrame.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "shmframe/format.h"

namespace shmframe {

class Writer;
class PoolGeneration;  // the library's own: the pool the slot belongs to

/**
 * \brief A writable slot on loan from the writer. Move-only.
 * Publish it with Writer::publish(std::move(frame), meta); destroying it
 * unpublished returns the slot to the pool.
 */
class LoanedFrame {
  public:
    LoanedFrame() = default;
    LoanedFrame(LoanedFrame&& other) noexcept;
    LoanedFrame& operator=(LoanedFrame&& other) noexcept;
    LoanedFrame(const LoanedFrame&) = delete;
    LoanedFrame& operator=(const LoanedFrame&) = delete;
    ~LoanedFrame();

    /// \brief True while it holds a slot.
    bool valid() const { return data_ != nullptr; }
    const Format& format() const { return *format_; }
    /// \brief Bytes of plane \a index (empty span for an index past the format's planes).
    std::span<std::byte> plane(std::uint32_t index) const;
    /// \brief The whole frame (all planes and padding).
    std::span<std::byte> bytes() const { return {data_, size_}; }
    /// \brief The user metadata area of this slot (WriterOptions::userMetaSize bytes).
    std::span<std::byte> userMeta() const { return {userMeta_, userMetaSize_}; }
    /// \brief How many bytes of userMeta() readers see (default 0).
    void setUserMetaLength(std::uint32_t length);
    std::uint32_t slotIndex() const { return slot_; }

  private:
    friend class Writer;
    LoanedFrame(std::shared_ptr<PoolGeneration> generation, std::uint32_t slot);
    /// Gives the slot back to its pool (unpublished, or retained and now let go).
    void release() noexcept;
    /// Published: the slot is the writer's again, nothing to give back.
    void forget() noexcept;

    std::shared_ptr<PoolGeneration> generation_;  // keeps the pool mapped; takes the slot back
    const Format* format_ = nullptr;
    std::byte* data_ = nullptr;
    std::size_t size_ = 0;
    std::byte* userMeta_ = nullptr;
    std::uint32_t userMetaSize_ = 0;
    std::uint32_t userMetaLength_ = 0;
    std::uint32_t slot_ = 0;
};

/**
 * \brief A frame published with Writer::publishRetained() whose slot stays on loan
 * until it is destroyed. Readers are looking at it, so it offers read-only planes
 * only, and it cannot be published again. Move-only.
 */
class RetainedFrame {
  public:
    RetainedFrame() = default;
    RetainedFrame(RetainedFrame&&) noexcept = default;
    RetainedFrame& operator=(RetainedFrame&&) noexcept = default;

    /// \brief True while it holds its slot.
    bool valid() const { return loan_.valid(); }
    const Format& format() const { return loan_.format(); }
    /// \brief Bytes of plane \a index (empty span for an index past the format's planes).
    std::span<const std::byte> plane(std::uint32_t index) const;
    /// \brief The whole frame (all planes and padding).
    std::span<const std::byte> bytes() const { return loan_.bytes(); }
    std::uint32_t slotIndex() const { return loan_.slotIndex(); }

  private:
    friend class Writer;
    explicit RetainedFrame(LoanedFrame&& published) : loan_(std::move(published)) {}
    LoanedFrame loan_;
};

}  // namespace shmframe
