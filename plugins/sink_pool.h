// SPDX-License-Identifier: LGPL-2.1-or-later
// The GstBufferPool that shmframesink proposes upstream: each buffer is a writer slot.
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <memory>

#include "frame_memory.h"
#include "shmframe/format.h"
#include "shmframe/writer.h"

namespace shmframe::gst {

/// What a pool needs from its sink; the pool keeps the writer alive while upstream holds it.
struct SinkPoolConfig {
    std::shared_ptr<Writer> writer;
    Format format;                 ///< the writer's format for this pool generation
    std::uint64_t generation = 0;  ///< bumped by the sink for every format change
    const void* owner = nullptr;
    std::shared_ptr<SlotSignal> signal;
};

/// A new pool (floating reference dropped: the caller owns one reference).
GstBufferPool* sinkPoolNew(SinkPoolConfig config);

/// Buffers the pool handed out in system memory because no slot could be loaned.
std::uint64_t sinkPoolFallbacks(GstBufferPool* pool);

/// Why \a buffer, handed out by one of our pools in system memory, is not a slot; or nullptr.
const char* sinkPoolFallbackReason(GstBuffer* buffer);

}  // namespace shmframe::gst
