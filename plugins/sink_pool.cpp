// SPDX-License-Identifier: LGPL-2.1-or-later
#include "sink_pool.h"

#include <gst/video/video.h>

#include <atomic>
#include <chrono>
#include <optional>

#include "caps_format.h"

GST_DEBUG_CATEGORY_EXTERN(shmframe_sink_debug);
#define GST_CAT_DEFAULT shmframe_sink_debug

namespace shmframe::gst {
namespace {

struct PoolState {
    SinkPoolConfig config;
    std::atomic<std::uint64_t> fallbacks{0};
    std::atomic<bool> loanErrorLogged{false};
    std::atomic<bool> starvedLogged{false};
};

// How long acquire waits while upstream holds every slot. Longer than any hiccup of a
// pipeline that publishes; a decoder that keeps all slots as reference frames (or has
// them all in flight on its threads) would otherwise wait forever.
constexpr auto kMaxSlotWait = std::chrono::milliseconds(200);

}  // namespace
}  // namespace shmframe::gst

using shmframe::gst::PoolState;

G_BEGIN_DECLS
#define SHMFRAME_TYPE_SINK_POOL (shmframe_sink_pool_get_type())
G_DECLARE_FINAL_TYPE(ShmframeSinkPool, shmframe_sink_pool, SHMFRAME, SINK_POOL, GstBufferPool)
G_END_DECLS

struct _ShmframeSinkPool {
    GstBufferPool parent;
    PoolState* state;
};

// GObject's type boilerplate casts C-style inside the macro.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
G_DEFINE_TYPE(ShmframeSinkPool, shmframe_sink_pool, GST_TYPE_BUFFER_POOL)
#pragma GCC diagnostic pop

namespace {

const gchar** poolGetOptions(GstBufferPool*) {
    static const gchar* options[] = {GST_BUFFER_POOL_OPTION_VIDEO_META,
                                     GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT, nullptr};
    return options;
}

// Padding and stride alignment beyond these are no decoder's: refused before any layout
// is computed from them (the Format that results is checked as well).
constexpr guint kMaxPadding = shmframe::Format::kMaxDimension;
constexpr guint kMaxStrideAlignMask = 4095;

bool alignmentIsSane(const GstVideoAlignment& align) {
    if (align.padding_top > kMaxPadding || align.padding_bottom > kMaxPadding ||
        align.padding_left > kMaxPadding || align.padding_right > kMaxPadding) {
        return false;
    }
    for (const guint mask : align.stride_align) {
        if (mask > kMaxStrideAlignMask) {
            return false;
        }
    }
    return true;
}

// The slot layout \a config asks for: GStreamer's default for its caps, or padded as
// its GstVideoAlignment says. nullopt (logged) when it asks for something we refuse.
std::optional<shmframe::Format> layoutOf(GstBufferPool* pool, GstStructure* config) {
    GstCaps* caps = nullptr;
    gst_buffer_pool_config_get_params(config, &caps, nullptr, nullptr, nullptr);
    if (!caps) {
        GST_WARNING_OBJECT(pool, "config without caps");
        return std::nullopt;
    }
    GstVideoAlignment align;
    gst_video_alignment_reset(&align);
    const bool aligned =
        gst_buffer_pool_config_has_option(config, GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT) &&
        gst_buffer_pool_config_get_video_alignment(config, &align);
    if (aligned && !alignmentIsSane(align)) {
        GST_WARNING_OBJECT(pool,
                           "refusing padding %u/%u/%u/%u (top/bottom/left/right) or stride "
                           "alignment beyond %u",
                           align.padding_top, align.padding_bottom, align.padding_left,
                           align.padding_right, kMaxStrideAlignMask + 1);
        return std::nullopt;
    }
    auto layout = shmframe::gst::formatFromCaps(caps, aligned ? &align : nullptr);
    if (!layout) {
        GST_WARNING_OBJECT(pool, "cannot lay out %" GST_PTR_FORMAT ": %s", static_cast<void*>(caps),
                           layout.error().message.c_str());
        return std::nullopt;
    }
    GST_DEBUG_OBJECT(pool,
                     "config for %" GST_PTR_FORMAT
                     ", padding %u/%u/%u/%u (top/bottom/left/"
                     "right), stride align %u: %u-byte frames, strides %u/%u/%u",
                     static_cast<void*>(caps), align.padding_top, align.padding_bottom,
                     align.padding_left, align.padding_right, align.stride_align[0] + 1,
                     static_cast<unsigned>(layout->frameSize), layout->planes[0].stride,
                     layout->planes[1].stride, layout->planes[2].stride);
    return std::move(*layout);
}

GQuark fallbackQuark() {
    static const GQuark quark = g_quark_from_static_string("shmframe-fallback-reason");
    return quark;
}

// Upstream may ask for any size or count: a buffer is always one slot of the writer's
// format, and the writer's slot count is the real limit. The layout is upstream's to
// choose (a decoder's padding); the first acquire moves the writer to it, so a decoder
// that configures its pool twice per negotiation (the base class, then its padding)
// makes one new pool generation, not two. GStreamer calls this only while no buffer of
// this pool is out.
gboolean poolSetConfig(GstBufferPool* pool, GstStructure* config) {
    PoolState& state = *SHMFRAME_SINK_POOL(pool)->state;
    auto layout = layoutOf(pool, config);
    if (!layout || !shmframe::gst::sameVideo(*layout, state.config.format)) {
        if (layout) {
            GST_WARNING_OBJECT(pool, "config for %s, but this pool holds %s",
                               layout->describe().c_str(), state.config.format.describe().c_str());
        }
        return FALSE;
    }
    layout->caps = state.config.format.caps;  // the sink's caps, as readers know them
    state.config.format = std::move(*layout);
    return GST_BUFFER_POOL_CLASS(shmframe_sink_pool_parent_class)->set_config(pool, config);
}

// Slots are loaned on acquire and published by the sink, so nothing is preallocated.
gboolean poolStart(GstBufferPool*) {
    return TRUE;
}
gboolean poolStop(GstBufferPool*) {
    return TRUE;
}

GstBuffer* systemMemoryBuffer(const shmframe::Format& format, const char* reason) {
    GstBuffer* buffer = gst_buffer_new_allocate(nullptr, format.frameSize, nullptr);
    shmframe::gst::addVideoMeta(buffer, format);
    gst_mini_object_set_qdata(GST_MINI_OBJECT_CAST(buffer), fallbackQuark(),
                              const_cast<char*>(reason), nullptr);
    return buffer;
}

GstFlowReturn poolAcquire(GstBufferPool* bufferPool, GstBuffer** result,
                          GstBufferPoolAcquireParams* params) {
    auto* self = SHMFRAME_SINK_POOL(bufferPool);
    PoolState& state = *self->state;
    const auto& config = state.config;
    const auto waitUntil = std::chrono::steady_clock::now() + shmframe::gst::kMaxSlotWait;
    for (;;) {
        if (GST_BUFFER_POOL_IS_FLUSHING(bufferPool)) {
            return GST_FLOW_FLUSHING;
        }
        const std::uint64_t seen = config.signal->releases();
        auto loan = config.writer->loan();
        if (loan) {
            if (!(loan->format() == config.format) &&
                shmframe::gst::sameVideo(loan->format(), config.format)) {
                // Upstream asked for another layout (set_config): lay out the slots so.
                *loan = shmframe::LoanedFrame();
                if (auto moved = config.writer->reconfigure(config.format); !moved) {
                    GST_WARNING_OBJECT(bufferPool, "cannot lay out slots as upstream asks: %s",
                                       moved.error().message.c_str());
                    state.fallbacks++;
                    *result = systemMemoryBuffer(config.format,
                                                 "the writer could not take upstream's layout");
                    return GST_FLOW_OK;
                }
                GST_INFO_OBJECT(bufferPool, "slots laid out as upstream asks: %u-byte frames",
                                static_cast<unsigned>(config.format.frameSize));
                continue;
            }
            if (!(loan->format() == config.format)) {
                // The writer moved on to a new format; this pool's buffers keep the old
                // layout and the sink will copy them (or drop them if they no longer fit).
                state.fallbacks++;
                *result =
                    systemMemoryBuffer(config.format, "a buffer of the pool of an earlier format");
                return GST_FLOW_OK;
            }
            auto holder = std::make_unique<shmframe::gst::SlotHolder>();
            holder->frame = std::move(*loan);
            holder->owner = config.owner;
            holder->poolGeneration = config.generation;
            holder->signal = config.signal;
            const shmframe::Format slotFormat = holder->frame.format();
            GstBuffer* buffer = gst_buffer_new();
            gst_buffer_append_memory(buffer, shmframe::gst::wrapLoanedFrame(std::move(holder)));
            shmframe::gst::addVideoMeta(buffer, slotFormat);
            *result = buffer;
            return GST_FLOW_OK;
        }
        if (loan.error().code != shmframe::Errc::WouldBlock) {
            if (!state.loanErrorLogged.exchange(true)) {
                GST_WARNING_OBJECT(bufferPool,
                                   "cannot loan a slot (%s); handing out system memory that the "
                                   "sink copies",
                                   loan.error().message.c_str());
            }
            state.fallbacks++;
            *result = systemMemoryBuffer(config.format, "the pool could not loan a slot");
            return GST_FLOW_OK;
        }
        if (params && (params->flags & GST_BUFFER_POOL_ACQUIRE_FLAG_DONTWAIT)) {
            return GST_FLOW_EOS;
        }
        if (std::chrono::steady_clock::now() >= waitUntil) {
            if (!state.starvedLogged.exchange(true)) {
                GST_WARNING_OBJECT(bufferPool,
                                   "upstream has held all slots for %lld ms (a decoder keeping "
                                   "reference frames or frames on its threads?): handing out "
                                   "system memory that the sink copies; raise slots",
                                   static_cast<long long>(shmframe::gst::kMaxSlotWait.count()));
            }
            state.fallbacks++;
            *result = systemMemoryBuffer(config.format,
                                         "upstream holds every slot (raise the sink's slots)");
            return GST_FLOW_OK;
        }
        // Every slot is out with upstream: wait for one to be published or dropped.
        // The bounded wait re-checks flushing without a wake-up from flush_start.
        config.signal->waitFor(seen, std::chrono::milliseconds(20));
    }
}

void poolResetBuffer(GstBufferPool*, GstBuffer*) {}

void poolReleaseBuffer(GstBufferPool*, GstBuffer* buffer) {
    // A published or dropped slot is never reused through the pool: the next
    // acquire loans whichever slot the writer has free.
    gst_buffer_unref(buffer);
}

void poolFlushStart(GstBufferPool* bufferPool) {
    SHMFRAME_SINK_POOL(bufferPool)->state->config.signal->notify();
}

void poolFinalize(GObject* object) {
    auto* self = SHMFRAME_SINK_POOL(object);
    delete self->state;
    self->state = nullptr;
    G_OBJECT_CLASS(shmframe_sink_pool_parent_class)->finalize(object);
}

}  // namespace

static void shmframe_sink_pool_class_init(ShmframeSinkPoolClass* klass) {
    auto* objectClass = G_OBJECT_CLASS(klass);
    auto* poolClass = GST_BUFFER_POOL_CLASS(klass);
    objectClass->finalize = poolFinalize;
    poolClass->get_options = poolGetOptions;
    poolClass->set_config = poolSetConfig;
    poolClass->start = poolStart;
    poolClass->stop = poolStop;
    poolClass->acquire_buffer = poolAcquire;
    poolClass->reset_buffer = poolResetBuffer;
    poolClass->release_buffer = poolReleaseBuffer;
    poolClass->flush_start = poolFlushStart;
}

static void shmframe_sink_pool_init(ShmframeSinkPool* self) {
    self->state = new PoolState();
}

namespace shmframe::gst {

GstBufferPool* sinkPoolNew(SinkPoolConfig config) {
    auto* pool = SHMFRAME_SINK_POOL(g_object_new(SHMFRAME_TYPE_SINK_POOL, nullptr));
    gst_object_ref_sink(pool);
    pool->state->config = std::move(config);
    return GST_BUFFER_POOL(pool);
}

std::uint64_t sinkPoolFallbacks(GstBufferPool* pool) {
    return SHMFRAME_SINK_POOL(pool)->state->fallbacks.load();
}

const char* sinkPoolFallbackReason(GstBuffer* buffer) {
    return static_cast<const char*>(
        gst_mini_object_get_qdata(GST_MINI_OBJECT_CAST(buffer), fallbackQuark()));
}

}  // namespace shmframe::gst
