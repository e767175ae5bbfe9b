// SPDX-License-Identifier: LGPL-2.1-or-later
// GstBuffers that come back to shmframesrc when downstream drops them, with their metas.
#pragma once

#include <gst/gst.h>

#include <memory>

namespace shmframe::gst {

/**
 * A free list of GstBuffers for a source: a buffer whose last reference goes (on any
 * thread) lets go of its memory (the frame and its lease) and comes back here with its
 * metas, so that steady streaming allocates no GstBuffer and no meta per frame.
 * Buffers still downstream when the recycler is destroyed are freed when they return.
 */
class BufferRecycler {
  public:
    BufferRecycler();
    ~BufferRecycler();
    BufferRecycler(const BufferRecycler&) = delete;
    BufferRecycler& operator=(const BufferRecycler&) = delete;

    /**
     * A writable buffer without flags or timestamps, and without memory, or with the one
     * emptied frame memory it carried last time (rewrapReadOnlyFrame() fills it). The
     * metas it carried are kept (those GStreamer marks pooled, and the ones this source
     * adds); the caller updates or removes them.
     */
    GstBuffer* acquire();

  private:
    struct FreeList;
    std::shared_ptr<FreeList> freeList_;
};

}  // namespace shmframe::gst
