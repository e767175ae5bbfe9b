// SPDX-License-Identifier: LGPL-2.1-or-later
#include "frame_memory.h"

#include <cstring>
#include <memory>
#include <mutex>

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

/*
 * The GstMemory of a loaned slot. Its allocator answers a copy of the whole slot with a
 * copy-on-write alias when GStreamer asks for one only to make a buffer writable
 * (gst_buffer_make_writable while the slot is still mapped for writing elsewhere):
 * GstVideoDecoder does that for every frame libav keeps as a reference, since
 * gst-libav keeps those mapped read-write until libav lets go of them. libav never
 * writes a frame again once it has output it, so the slot can be published as it is.
 * Whoever maps the alias for writing (an in-place filter behind the decoder) gets a
 * private copy of the slot at that moment instead, and the alias stops being the slot:
 * the sink then copies what was written into a slot of its own, and the decoder's
 * reference frame is never written. Shares and the alias keep the slot's memory (and
 * the loan) alive.
 */
struct SlotMemory {
    GstMemory memory;
    std::byte* data = nullptr;                 // the first byte of the slot (or of privateCopy)
    SlotHolder* holder = nullptr;              // the loan, freed with the memory that owns it
    GstMemory* owner = nullptr;                // a view's reference to that memory (not GstMemory's
                                               // parent: locking a parent mapped for writing fails)
    bool copyOnWrite = false;                  // the alias slotCopy() makes of a whole slot
    std::mutex privatizing;                    // two first writes at once make one copy
    std::unique_ptr<std::byte[]> privateCopy;  // what a write to the alias goes to
};

gpointer slotMap(GstMemory* memory, gsize maxsize, GstMapFlags flags) {
    auto* slot = reinterpret_cast<SlotMemory*>(memory);
    if (slot->copyOnWrite && (flags & GST_MAP_WRITE) != 0) {
        std::lock_guard lock(slot->privatizing);
        if (!slot->privateCopy) {
            auto copy = std::make_unique_for_overwrite<std::byte[]>(maxsize);
            std::memcpy(copy.get(), slot->data, maxsize);
            slot->privateCopy = std::move(copy);
            slot->data = slot->privateCopy.get();
            // No longer the slot: the sink must not publish the slot for this memory.
            gst_mini_object_set_qdata(GST_MINI_OBJECT_CAST(memory), slotQuark(), nullptr, nullptr);
        }
    }
    return slot->data;
}

void slotUnmap(GstMemory*) {}

GstMemory* slotView(GstMemory* memory, GstMemoryFlags flags, gssize offset, gsize size) {
    auto* source = reinterpret_cast<SlotMemory*>(memory);
    auto* view = new SlotMemory{};
    view->data = source->data;
    view->owner = gst_memory_ref(source->owner ? source->owner : memory);
    gst_memory_init(GST_MEMORY_CAST(view), flags, memory->allocator, nullptr, memory->maxsize,
                    memory->align, memory->offset + static_cast<gsize>(offset), size);
    return GST_MEMORY_CAST(view);
}

GstMemory* slotShare(GstMemory* memory, gssize offset, gssize size) {
    const gsize length =
        size == -1 ? memory->size - static_cast<gsize>(offset) : static_cast<gsize>(size);
    auto* source = reinterpret_cast<SlotMemory*>(memory);
    if (source->copyOnWrite) {
        // A part of an alias is a read-only view of what the alias shows now (the slot,
        // or its private copy, which the alias keeps alive).
        auto* view = new SlotMemory{};
        view->data = source->data;
        view->owner = gst_memory_ref(memory);
        gst_memory_init(GST_MEMORY_CAST(view), GST_MEMORY_FLAG_READONLY, memory->allocator, nullptr,
                        memory->maxsize, memory->align, memory->offset + static_cast<gsize>(offset),
                        length);
        return GST_MEMORY_CAST(view);
    }
    // A share is read-only like the parent it shares, and carries no slot qdata: a part
    // of a slot is never taken for the slot.
    const auto flags =
        static_cast<GstMemoryFlags>(GST_MINI_OBJECT_FLAGS(memory) & GST_MEMORY_FLAG_READONLY);
    return slotView(memory, flags, offset, length);
}

GstMemory* slotCopy(GstMemory* memory, gssize offset, gssize size) {
    const gsize length =
        size == -1 ? memory->size - static_cast<gsize>(offset) : static_cast<gsize>(size);
    auto* source = reinterpret_cast<SlotMemory*>(memory);
    if (offset == 0 && length == memory->size && !source->owner) {
        GstMemory* alias = slotView(memory, static_cast<GstMemoryFlags>(0), 0, length);
        reinterpret_cast<SlotMemory*>(alias)->copyOnWrite = true;
        gst_mini_object_set_qdata(GST_MINI_OBJECT_CAST(alias), slotQuark(), source->holder,
                                  nullptr);
        return alias;
    }
    GstMemory* copy = gst_allocator_alloc(nullptr, length, nullptr);
    GstMapInfo info;
    if (!copy || !gst_memory_map(copy, &info, GST_MAP_WRITE)) {
        if (copy) {
            gst_memory_unref(copy);
        }
        return nullptr;
    }
    std::memcpy(info.data, source->data + memory->offset + static_cast<gsize>(offset), length);
    gst_memory_unmap(copy, &info);
    return copy;
}

gboolean slotIsSpan(GstMemory*, GstMemory*, gsize*) {
    return FALSE;
}

/*
 * The GstMemory of a frame a reader holds: one allocation with the Frame (its lease)
 * inside, spanning the whole slot, so that mapping the buffer (gst_buffer_map, or
 * gst_video_frame_map through the GstVideoMeta) hands out the writer's pixels where
 * they lie. Shares are views that keep the memory holding the frame alive.
 */
struct FrameMemory {
    GstMemory memory;
    const std::byte* data = nullptr;  // the first byte of the slot (read-only mapping)
    Frame frame;                      // in the memory that owns the lease; empty in views
    GstMemory* owner = nullptr;       // a view's reference to that memory
};

gpointer frameMap(GstMemory* memory, gsize, GstMapFlags flags) {
    if (flags & GST_MAP_WRITE) {
        return nullptr;  // the pool is mapped read-only (READONLY also stops it earlier)
    }
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-const-cast)
    return const_cast<std::byte*>(reinterpret_cast<FrameMemory*>(memory)->data);
}

void frameUnmap(GstMemory*) {}

GstMemory* frameShare(GstMemory* memory, gssize offset, gssize size) {
    const gsize length =
        size == -1 ? memory->size - static_cast<gsize>(offset) : static_cast<gsize>(size);
    auto* source = reinterpret_cast<FrameMemory*>(memory);
    auto* view = new FrameMemory{};
    view->data = source->data;
    view->owner = gst_memory_ref(source->owner ? source->owner : memory);
    gst_memory_init(GST_MEMORY_CAST(view), GST_MEMORY_FLAG_READONLY, memory->allocator, nullptr,
                    memory->maxsize, memory->align, memory->offset + static_cast<gsize>(offset),
                    length);
    return GST_MEMORY_CAST(view);
}

// A copy is asked for to write: plain system memory.
GstMemory* frameCopy(GstMemory* memory, gssize offset, gssize size) {
    const gsize length =
        size == -1 ? memory->size - static_cast<gsize>(offset) : static_cast<gsize>(size);
    GstMemory* copy = gst_allocator_alloc(nullptr, length, nullptr);
    GstMapInfo info;
    if (!copy || !gst_memory_map(copy, &info, GST_MAP_WRITE)) {
        if (copy) {
            gst_memory_unref(copy);
        }
        return nullptr;
    }
    std::memcpy(
        info.data,
        reinterpret_cast<FrameMemory*>(memory)->data + memory->offset + static_cast<gsize>(offset),
        length);
    gst_memory_unmap(copy, &info);
    return copy;
}

}  // namespace
}  // namespace shmframe::gst

G_BEGIN_DECLS
#define SHMFRAME_TYPE_SLOT_ALLOCATOR (shmframe_slot_allocator_get_type())
G_DECLARE_FINAL_TYPE(ShmframeSlotAllocator, shmframe_slot_allocator, SHMFRAME, SLOT_ALLOCATOR,
                     GstAllocator)
G_END_DECLS

struct _ShmframeSlotAllocator {
    GstAllocator parent;
};

// GObject's type boilerplate casts C-style inside the macro.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
G_DEFINE_TYPE(ShmframeSlotAllocator, shmframe_slot_allocator, GST_TYPE_ALLOCATOR)
#pragma GCC diagnostic pop

namespace {

GstMemory* slotAlloc(GstAllocator*, gsize, GstAllocationParams*) {
    return nullptr;  // slots come from the writer's loans only
}

void slotFree(GstAllocator*, GstMemory* memory) {
    auto* slot = reinterpret_cast<shmframe::gst::SlotMemory*>(memory);
    shmframe::gst::SlotHolder* holder = slot->holder;
    GstMemory* owner = slot->owner;
    delete slot;
    if (owner) {
        gst_memory_unref(owner);
    } else if (holder) {
        shmframe::gst::destroySlot(holder);
    }
}

}  // namespace

static void shmframe_slot_allocator_class_init(ShmframeSlotAllocatorClass* klass) {
    auto* allocatorClass = GST_ALLOCATOR_CLASS(klass);
    allocatorClass->alloc = slotAlloc;
    allocatorClass->free = slotFree;
}

static void shmframe_slot_allocator_init(ShmframeSlotAllocator* self) {
    auto* allocator = GST_ALLOCATOR_CAST(self);
    allocator->mem_type = "ShmframeSlot";
    allocator->mem_map = shmframe::gst::slotMap;
    allocator->mem_unmap = shmframe::gst::slotUnmap;
    allocator->mem_copy = shmframe::gst::slotCopy;
    allocator->mem_share = shmframe::gst::slotShare;
    allocator->mem_is_span = shmframe::gst::slotIsSpan;
    GST_OBJECT_FLAG_SET(allocator, GST_ALLOCATOR_FLAG_CUSTOM_ALLOC);
}

G_BEGIN_DECLS
#define SHMFRAME_TYPE_FRAME_ALLOCATOR (shmframe_frame_allocator_get_type())
G_DECLARE_FINAL_TYPE(ShmframeFrameAllocator, shmframe_frame_allocator, SHMFRAME, FRAME_ALLOCATOR,
                     GstAllocator)
G_END_DECLS

struct _ShmframeFrameAllocator {
    GstAllocator parent;
};

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
G_DEFINE_TYPE(ShmframeFrameAllocator, shmframe_frame_allocator, GST_TYPE_ALLOCATOR)
#pragma GCC diagnostic pop

namespace {

GstMemory* frameAlloc(GstAllocator*, gsize, GstAllocationParams*) {
    return nullptr;  // frames come from a reader only
}

void frameFree(GstAllocator*, GstMemory* memory) {
    auto* frame = reinterpret_cast<shmframe::gst::FrameMemory*>(memory);
    GstMemory* owner = frame->owner;
    delete frame;  // the lease ends here, on whichever thread dropped the last reference
    if (owner) {
        gst_memory_unref(owner);
    }
}

}  // namespace

static void shmframe_frame_allocator_class_init(ShmframeFrameAllocatorClass* klass) {
    auto* allocatorClass = GST_ALLOCATOR_CLASS(klass);
    allocatorClass->alloc = frameAlloc;
    allocatorClass->free = frameFree;
}

static void shmframe_frame_allocator_init(ShmframeFrameAllocator* self) {
    auto* allocator = GST_ALLOCATOR_CAST(self);
    allocator->mem_type = shmframe::gst::kFrameMemoryType;
    allocator->mem_map = shmframe::gst::frameMap;
    allocator->mem_unmap = shmframe::gst::frameUnmap;
    allocator->mem_copy = shmframe::gst::frameCopy;
    allocator->mem_share = shmframe::gst::frameShare;
    allocator->mem_is_span = shmframe::gst::slotIsSpan;  // views carry no GstMemory parent
    GST_OBJECT_FLAG_SET(allocator, GST_ALLOCATOR_FLAG_CUSTOM_ALLOC);
}

namespace shmframe::gst {
namespace {

GstAllocator* frameAllocator() {
    static GstAllocator* allocator = [] {
        auto* created = GST_ALLOCATOR_CAST(g_object_new(SHMFRAME_TYPE_FRAME_ALLOCATOR, nullptr));
        gst_object_ref_sink(created);
        GST_OBJECT_FLAG_SET(created, GST_OBJECT_FLAG_MAY_BE_LEAKED);
        return created;
    }();
    return allocator;
}

// One allocator for the process; it lives as long as the plugin.
GstAllocator* slotAllocator() {
    static GstAllocator* allocator = [] {
        auto* created = GST_ALLOCATOR_CAST(g_object_new(SHMFRAME_TYPE_SLOT_ALLOCATOR, nullptr));
        gst_object_ref_sink(created);
        GST_OBJECT_FLAG_SET(created, GST_OBJECT_FLAG_MAY_BE_LEAKED);
        return created;
    }();
    return allocator;
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
    auto* memory = new SlotMemory{};
    memory->data = bytes.data();
    memory->holder = holder.release();
    gst_memory_init(GST_MEMORY_CAST(memory), static_cast<GstMemoryFlags>(0), slotAllocator(),
                    nullptr, bytes.size(), 0, 0, bytes.size());
    gst_mini_object_set_qdata(GST_MINI_OBJECT_CAST(memory), slotQuark(), memory->holder, nullptr);
    return GST_MEMORY_CAST(memory);
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

namespace {

// A memory of wrapReadOnlyFrame (not a view of one) that only its buffer holds.
FrameMemory* soleFrameMemory(GstMemory* memory) {
    if (!memory || memory->allocator != frameAllocator() ||
        GST_MINI_OBJECT_REFCOUNT_VALUE(memory) != 1) {
        return nullptr;
    }
    auto* frame = reinterpret_cast<FrameMemory*>(memory);
    return frame->owner ? nullptr : frame;
}

void pointAtFrame(FrameMemory* memory) {
    const auto bytes = memory->frame.bytes();
    memory->data = bytes.data();
    memory->memory.maxsize = bytes.size();
    memory->memory.offset = 0;
    memory->memory.size = bytes.size();
}

}  // namespace

bool releaseReadOnlyFrame(GstMemory* memory) {
    FrameMemory* frame = soleFrameMemory(memory);
    if (!frame) {
        return false;
    }
    frame->frame.release();
    frame->data = nullptr;
    return true;
}

bool rewrapReadOnlyFrame(GstMemory* memory, Frame&& frame) {
    FrameMemory* emptied = soleFrameMemory(memory);
    if (!emptied || emptied->frame.valid()) {
        return false;
    }
    emptied->frame = std::move(frame);
    pointAtFrame(emptied);
    return true;
}

GstMemory* wrapReadOnlyFrame(Frame&& frame) {
    auto* memory = new FrameMemory{};
    memory->frame = std::move(frame);
    const auto bytes = memory->frame.bytes();
    memory->data = bytes.data();
    // The mapping is PROT_READ: the READONLY flag makes GStreamer copy before any write.
    gst_memory_init(GST_MEMORY_CAST(memory), GST_MEMORY_FLAG_READONLY, frameAllocator(), nullptr,
                    bytes.size(), 0, 0, bytes.size());
    return GST_MEMORY_CAST(memory);
}

}  // namespace shmframe::gst
