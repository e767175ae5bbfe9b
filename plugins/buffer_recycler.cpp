// SPDX-License-Identifier: LGPL-2.1-or-later
#include "buffer_recycler.h"

#include <gst/video/video.h>

#include "frame_memory.h"

#include <mutex>
#include <vector>

namespace shmframe::gst {

namespace {

// More than downstream ever holds at once; beyond it returning buffers are freed.
constexpr std::size_t kMaxFree = 32;

GQuark recyclerQuark() {
    static const GQuark quark = g_quark_from_static_string("shmframe-buffer-recycler");
    return quark;
}

// Metas the source sets on every buffer; any other one means downstream changed the
// buffer, which is then freed rather than reused.
bool isOurMeta(const GstMeta* meta) {
    const GType api = meta->info->api;
    return api == GST_VIDEO_META_API_TYPE || api == GST_REFERENCE_TIMESTAMP_META_API_TYPE;
}

bool onlyOurMetas(GstBuffer* buffer) {
    gpointer state = nullptr;
    while (GstMeta* meta = gst_buffer_iterate_meta(buffer, &state)) {
        if (!isOurMeta(meta)) {
            return false;
        }
    }
    return true;
}

}  // namespace

struct BufferRecycler::FreeList {
    std::mutex mutex;
    std::vector<GstBuffer*> buffers;
    bool closed = false;

    // GstMiniObject dispose hook: the last reference is gone. FALSE keeps the buffer.
    static gboolean recycle(GstMiniObject* object) {
        GstBuffer* buffer = GST_BUFFER_CAST(object);
        auto* owner = static_cast<std::shared_ptr<FreeList>*>(
            gst_mini_object_get_qdata(object, recyclerQuark()));
        if (!owner || !onlyOurMetas(buffer)) {
            return TRUE;
        }
        FreeList& list = **owner;
        {
            std::lock_guard lock(list.mutex);
            if (list.closed || list.buffers.size() >= kMaxFree) {
                return TRUE;
            }
        }
        gst_buffer_ref(buffer);  // ours again
        // The frame's lease ends now. Its memory stays for the next frame when nobody
        // else holds it: no allocation, allocator reference or memory lock per frame.
        if (gst_buffer_n_memory(buffer) != 1 ||
            !releaseReadOnlyFrame(gst_buffer_peek_memory(buffer, 0))) {
            gst_buffer_remove_all_memory(buffer);
        }
        GST_BUFFER_FLAGS(buffer) = 0;
        GST_BUFFER_PTS(buffer) = GST_CLOCK_TIME_NONE;
        GST_BUFFER_DTS(buffer) = GST_CLOCK_TIME_NONE;
        GST_BUFFER_DURATION(buffer) = GST_CLOCK_TIME_NONE;
        GST_BUFFER_OFFSET(buffer) = GST_BUFFER_OFFSET_NONE;
        GST_BUFFER_OFFSET_END(buffer) = GST_BUFFER_OFFSET_NONE;
        {
            std::lock_guard lock(list.mutex);
            if (!list.closed) {
                list.buffers.push_back(buffer);
                return FALSE;
            }
        }
        gst_buffer_unref(buffer);  // closed meanwhile: this time it is freed
        return FALSE;
    }
};

BufferRecycler::BufferRecycler() : freeList_(std::make_shared<FreeList>()) {
    freeList_->buffers.reserve(kMaxFree);
}

BufferRecycler::~BufferRecycler() {
    std::vector<GstBuffer*> buffers;
    {
        std::lock_guard lock(freeList_->mutex);
        freeList_->closed = true;
        buffers.swap(freeList_->buffers);
    }
    for (GstBuffer* buffer : buffers) {
        gst_buffer_unref(buffer);
    }
}

GstBuffer* BufferRecycler::acquire() {
    {
        std::lock_guard lock(freeList_->mutex);
        if (!freeList_->buffers.empty()) {
            GstBuffer* buffer = freeList_->buffers.back();
            freeList_->buffers.pop_back();
            return buffer;
        }
    }
    GstBuffer* buffer = gst_buffer_new();
    gst_mini_object_set_qdata(
        GST_MINI_OBJECT_CAST(buffer), recyclerQuark(), new std::shared_ptr<FreeList>(freeList_),
        [](gpointer owner) { delete static_cast<std::shared_ptr<FreeList>*>(owner); });
    GST_MINI_OBJECT_CAST(buffer)->dispose = &FreeList::recycle;
    return buffer;
}

}  // namespace shmframe::gst
