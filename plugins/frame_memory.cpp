// SPDX-License-Identifier: LGPL-2.1-or-later
#include "frame_memory.h"

namespace shmframe::gst {

namespace {

GQuark slotQuark() {
    static const GQuark quark = g_quark_from_static_string("shmframe-writer-slot");
    return quark;
}

void destroySlot(gpointer data) {
    auto* holder = static_cast<SlotHolder*>(data);
    auto signal = std::move(holder->signal);
    delete holder;  // an unpublished loan goes back to the writer's pool here
    if (signal) {
        signal->notify();
    }
}

void destroyFrame(gpointer data) {
    delete static_cast<Frame*>(data);
}

}  // namespace

void SlotSignal::notify() {
    {
        std::lock_guard lock(mutex_);
        ++releases_;
    }
    cond_.notify_all();
}

void SlotSignal::waitFor(std::uint64_t seen, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    cond_.wait_for(lock, timeout, [&] { return releases_ != seen; });
}

std::uint64_t SlotSignal::releases() {
    std::lock_guard lock(mutex_);
    return releases_;
}

GstMemory* wrapLoanedFrame(std::unique_ptr<SlotHolder> holder) {
    const auto bytes = holder->frame.bytes();
    SlotHolder* raw = holder.release();
    GstMemory* memory = gst_memory_new_wrapped(static_cast<GstMemoryFlags>(0), bytes.data(),
                                               bytes.size(), 0, bytes.size(), raw, destroySlot);
    gst_mini_object_set_qdata(GST_MINI_OBJECT_CAST(memory), slotQuark(), raw, nullptr);
    return memory;
}

SlotHolder* slotHolderOf(GstBuffer* buffer) {
    if (gst_buffer_n_memory(buffer) != 1) {
        return nullptr;
    }
    GstMemory* memory = gst_buffer_peek_memory(buffer, 0);
    // A shared sub-memory carries no qdata, so a resized view is never taken for a slot.
    auto* holder = static_cast<SlotHolder*>(
        gst_mini_object_get_qdata(GST_MINI_OBJECT_CAST(memory), slotQuark()));
    if (!holder || !holder->holdsSlot() || memory->offset != 0 ||
        memory->size != holder->slotBytes()) {
        return nullptr;
    }
    return holder;
}

GstMemory* wrapReadOnlyFrame(Frame&& frame) {
    auto* owned = new Frame(std::move(frame));
    const auto bytes = owned->bytes();
    // The mapping is PROT_READ: the READONLY flag makes GStreamer copy before any write.
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-const-cast)
    auto* data = const_cast<std::byte*>(bytes.data());
    return gst_memory_new_wrapped(GST_MEMORY_FLAG_READONLY, data, bytes.size(), 0, bytes.size(),
                                  owned, destroyFrame);
}

}  // namespace shmframe::gst
