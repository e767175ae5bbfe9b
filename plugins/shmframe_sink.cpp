// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * shmframesink is a thin GObject shell around SinkState. Upstream gets a pool whose
 * buffers are writer slots (sink_pool.cpp), so render() only publishes; buffers
 * from anywhere else are copied into a slot and counted.
 */
#include "shmframe_sink.h"

#include <gst/video/video.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "caps_format.h"
#include "frame_memory.h"
#include "reader_event_pump.h"
#include "shmframe/feed.h"
#include "shmframe/writer.h"
#include "sink_pool.h"

GST_DEBUG_CATEGORY(shmframe_sink_debug);
#define GST_CAT_DEFAULT shmframe_sink_debug

namespace {

using shmframe::Format;
using shmframe::Writer;
using shmframe::WriterPolicy;

// slots=0 (the default) sizes the pool for its frames: as many slots as fit in
// kAutoSlotBudget, from kAutoMinSlots to kAutoMaxSlots. Readers that queue frames
// downstream (a queue, a sink keeping the last one) are granted up to slots - 2 leases,
// and decoders keep reference frames in slots too: four slots make both copy.
constexpr guint kAutoSlots = 0;
constexpr guint kAutoMinSlots = 4;
constexpr guint kAutoMaxSlots = 16;
constexpr std::uint64_t kAutoSlotBudget = std::uint64_t{256} << 20;
constexpr guint kMinSlots = 3;
constexpr guint kMaxSlots = 64;
constexpr guint kDefaultLeaseLimit = 2;
constexpr guint kDefaultLosslessTimeoutMs = 1000;

struct Settings {
    std::string feed;
    guint slots = kAutoSlots;
    WriterPolicy policy = WriterPolicy::NeverBlock;
    guint leaseLimit = kDefaultLeaseLimit;
    guint losslessTimeoutMs = kDefaultLosslessTimeoutMs;
    std::string access = "uid";
    // Whether upstream may hand over frames in a layout of its own (GstVideoMeta).
    bool videoMeta = false;
};

struct SinkState {
    std::mutex settingsLock;
    Settings settings;

    // Streaming state: touched by the streaming thread, start/stop, and stats readers.
    std::mutex lock;
    Settings active;  // settings frozen at start()
    shmframe::AccessPolicy access;
    std::shared_ptr<Writer> writer;
    std::optional<Format> format;
    GstVideoInfo videoInfo{};
    std::uint64_t poolGeneration = 0;
    std::shared_ptr<shmframe::gst::SlotSignal> signal =
        std::make_shared<shmframe::gst::SlotSignal>();
    std::unique_ptr<shmframe::gst::ReaderEventPump> events;
    bool discont = true;
    bool copyLogged = false;
    bool dropLogged = false;
    bool misfitLogged = false;
    bool poolProposed = false;
    std::string copyReason;  // why the last copied frame was copied (under statsLock)

    // The writer as `stats` sees it: its own lock, so reading stats never waits for
    // a render that waits for a slot (policy=lossless).
    std::mutex statsLock;
    std::shared_ptr<Writer> statsWriter;

    std::atomic<std::uint64_t> published{0};
    std::atomic<std::uint64_t> copied{0};
    std::atomic<std::uint64_t> drops{0};
};

enum {
    PROP_0,
    PROP_FEED,
    PROP_SLOTS,
    PROP_POLICY,
    PROP_LEASE_LIMIT,
    PROP_LOSSLESS_TIMEOUT,
    PROP_ACCESS,
    PROP_VIDEO_META,
    PROP_STATS,
};

enum { SIGNAL_READER_CONNECTED, SIGNAL_READER_DISCONNECTED, N_SIGNALS };
guint signals[N_SIGNALS];

GType policyGetType() {
    static GType type = 0;
    if (g_once_init_enter(&type)) {
        static const GEnumValue values[] = {
            {static_cast<gint>(WriterPolicy::NeverBlock),
             "No reader ever delays the pipeline; slow readers skip frames", "never-block"},
            {static_cast<gint>(WriterPolicy::Lossless),
             "Wait for sequential readers (up to lossless-timeout, then drop the laggard)",
             "lossless"},
            {0, nullptr, nullptr},
        };
        g_once_init_leave(&type, g_enum_register_static("GstShmFrameSinkPolicy", values));
    }
    return type;
}

}  // namespace

struct _GstShmFrameSink {
    GstBaseSink parent;
    SinkState* state;
};

// GObject's type boilerplate casts C-style inside the macro.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
G_DEFINE_TYPE(GstShmFrameSink, gst_shm_frame_sink, GST_TYPE_BASE_SINK)
#pragma GCC diagnostic pop
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE(shmframesink, "shmframesink", GST_RANK_NONE,
                                      GST_TYPE_SHM_FRAME_SINK,
                                      GST_DEBUG_CATEGORY_INIT(shmframe_sink_debug, "shmframesink",
                                                              0, "shmframe sink"));

namespace {

GstStaticPadTemplate sinkTemplate = GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS,
                                                            GST_STATIC_CAPS(SHMFRAME_VIDEO_CAPS));

SinkState& stateOf(gpointer self) {
    return *GST_SHM_FRAME_SINK(self)->state;
}

GstStructure* buildStats(GstShmFrameSink* self) {
    SinkState& state = *self->state;
    shmframe::WriterStats writerStats;
    std::shared_ptr<Writer> writer;
    {
        std::lock_guard lock(state.statsLock);
        writer = state.statsWriter;
    }
    if (writer) {
        writerStats = writer->stats();
    }
    GstStructure* structure = gst_structure_new(
        "shmframesink-stats", "published", G_TYPE_UINT64, state.published.load(), "copied",
        G_TYPE_UINT64, state.copied.load(), "readers", G_TYPE_UINT, writerStats.readers, "drops",
        G_TYPE_UINT64, state.drops.load(), "readers-connected", G_TYPE_UINT64,
        writerStats.readersConnected, "readers-dropped", G_TYPE_UINT64, writerStats.readersDropped,
        "revoked-leases", G_TYPE_UINT64, writerStats.revokedLeases, "loan-failures", G_TYPE_UINT64,
        writerStats.loanFailures, "generation", G_TYPE_UINT, writerStats.generation, nullptr);
    std::lock_guard lock(state.statsLock);
    gst_structure_set(structure, "copy-reason", G_TYPE_STRING, state.copyReason.c_str(), nullptr);
    return structure;
}

void setProperty(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
    SinkState& state = stateOf(object);
    std::lock_guard lock(state.settingsLock);
    Settings& s = state.settings;
    switch (id) {
        case PROP_FEED: {
            const gchar* feed = g_value_get_string(value);
            s.feed = feed ? feed : "";
            break;
        }
        case PROP_SLOTS:
            s.slots = g_value_get_uint(value);
            break;
        case PROP_POLICY:
            s.policy = static_cast<WriterPolicy>(g_value_get_enum(value));
            break;
        case PROP_LEASE_LIMIT:
            s.leaseLimit = g_value_get_uint(value);
            break;
        case PROP_LOSSLESS_TIMEOUT:
            s.losslessTimeoutMs = g_value_get_uint(value);
            break;
        case PROP_ACCESS: {
            const gchar* access = g_value_get_string(value);
            s.access = access ? access : "uid";
            break;
        }
        case PROP_VIDEO_META:
            s.videoMeta = g_value_get_boolean(value);
            break;
        default:
            G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    }
}

void getProperty(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
    SinkState& state = stateOf(object);
    if (id == PROP_STATS) {
        g_value_take_boxed(value, buildStats(GST_SHM_FRAME_SINK(object)));
        return;
    }
    std::lock_guard lock(state.settingsLock);
    const Settings& s = state.settings;
    switch (id) {
        case PROP_FEED:
            g_value_set_string(value, s.feed.empty() ? nullptr : s.feed.c_str());
            break;
        case PROP_SLOTS:
            g_value_set_uint(value, s.slots);
            break;
        case PROP_POLICY:
            g_value_set_enum(value, static_cast<gint>(s.policy));
            break;
        case PROP_LEASE_LIMIT:
            g_value_set_uint(value, s.leaseLimit);
            break;
        case PROP_LOSSLESS_TIMEOUT:
            g_value_set_uint(value, s.losslessTimeoutMs);
            break;
        case PROP_ACCESS:
            g_value_set_string(value, s.access.c_str());
            break;
        case PROP_VIDEO_META:
            g_value_set_boolean(value, s.videoMeta);
            break;
        default:
            G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    }
}

void emitReaderEvent(GstShmFrameSink* self, const shmframe::ReaderEvent& event) {
    using Kind = shmframe::ReaderEvent::Kind;
    if (event.kind == Kind::Connected) {
        GST_INFO_OBJECT(self, "reader %u connected (pid %d, uid %u)", event.readerId,
                        static_cast<int>(event.pid), static_cast<unsigned>(event.uid));
        g_signal_emit(self, signals[SIGNAL_READER_CONNECTED], 0, event.readerId,
                      static_cast<gint>(event.pid), static_cast<guint>(event.uid));
    } else {
        GST_INFO_OBJECT(self, "reader %u %s (pid %d): %s", event.readerId,
                        event.kind == Kind::Dropped ? "dropped" : "disconnected",
                        static_cast<int>(event.pid), event.reason.c_str());
        g_signal_emit(self, signals[SIGNAL_READER_DISCONNECTED], 0, event.readerId,
                      static_cast<gint>(event.pid), static_cast<guint>(event.uid),
                      event.reason.c_str());
    }
}

gboolean sinkStart(GstBaseSink* base) {
    auto* self = GST_SHM_FRAME_SINK(base);
    SinkState& state = *self->state;
    Settings settings;
    {
        std::lock_guard lock(state.settingsLock);
        settings = state.settings;
    }
    if (settings.feed.empty()) {
        GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("No feed name set."),
                          ("Set the feed property, e.g. shmframesink feed=cam0."));
        return FALSE;
    }
    if (auto valid = shmframe::validateFeedName(settings.feed); !valid) {
        GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("%s", valid.error().message.c_str()),
                          ("A feed name is [A-Za-z0-9._-]{1,64} or an absolute socket path."));
        return FALSE;
    }
    if (settings.slots != kAutoSlots && settings.slots < kMinSlots) {
        GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("slots=%u is too few.", settings.slots),
                          ("Use 0 (sized for the format) or %u to %u.", kMinSlots, kMaxSlots));
        return FALSE;
    }
    auto access = shmframe::AccessPolicy::parse(settings.access);
    if (!access) {
        GST_ELEMENT_ERROR(
            self, RESOURCE, SETTINGS,
            ("Invalid access '%s': %s", settings.access.c_str(), access.error().message.c_str()),
            ("Use uid, any, uid:1000,1001 or gid:44."));
        return FALSE;
    }
    std::lock_guard lock(state.lock);
    state.active = settings;
    state.access = std::move(*access);
    state.writer.reset();
    state.format.reset();
    state.poolProposed = false;
    {
        std::lock_guard statsLock(state.statsLock);
        state.copyReason.clear();
    }
    state.discont = true;
    state.copyLogged = false;
    state.dropLogged = false;
    state.misfitLogged = false;
    state.published = 0;
    state.copied = 0;
    state.drops = 0;
    state.events = std::make_unique<shmframe::gst::ReaderEventPump>(
        [self](const shmframe::ReaderEvent& event) { emitReaderEvent(self, event); });
    return TRUE;
}

gboolean sinkStop(GstBaseSink* base) {
    SinkState& state = stateOf(base);
    std::unique_ptr<shmframe::gst::ReaderEventPump> events;
    {
        std::lock_guard lock(state.lock);
        if (state.writer) {
            // Ends the feed for readers now; pools upstream still hold the object
            // (and their slots) until their last buffer is gone.
            state.writer->close();
            state.writer.reset();
        }
        {
            std::lock_guard statsLock(state.statsLock);
            state.statsWriter.reset();
        }
        state.format.reset();
        events = std::move(state.events);
    }
    if (events) {
        events->stop();  // outside the lock: handlers may read `stats`
    }
    state.signal->notify();
    return TRUE;
}

// slots=0: as many slots of \a format as fit in the budget, within the auto range.
guint autoSlotCount(const Format& format) {
    const std::uint64_t fit = kAutoSlotBudget / std::max<std::uint64_t>(format.frameSize, 1);
    return static_cast<guint>(std::clamp<std::uint64_t>(fit, kAutoMinSlots, kAutoMaxSlots));
}

// Called with state.lock held. Creates the writer, or moves it to a new format.
bool configure(GstShmFrameSink* self, const Format& format) {
    SinkState& state = *self->state;
    if (state.format && *state.format == format) {
        return true;
    }
    if (!state.writer) {
        shmframe::WriterOptions options;
        const bool autoSlots = state.active.slots == kAutoSlots;
        options.slotCount = autoSlots ? autoSlotCount(format) : state.active.slots;
        options.policy = state.active.policy;
        options.leaseLimit = state.active.leaseLimit;
        options.losslessTimeout = std::chrono::milliseconds(state.active.losslessTimeoutMs);
        options.access = state.access;
        if (state.events) {
            options.onReaderEvent = state.events->sink();
        }
        auto writer = Writer::create(state.active.feed, format, options);
        if (!writer && autoSlots && writer.error().sysErrno == ENOMEM &&
            options.slotCount > kAutoMinSlots) {
            GST_WARNING_OBJECT(self, "%s; trying %u slots", writer.error().message.c_str(),
                               kAutoMinSlots);
            options.slotCount = kAutoMinSlots;
            writer = Writer::create(state.active.feed, format, options);
        }
        if (!writer) {
            GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE,
                              ("Cannot publish feed '%s': %s", state.active.feed.c_str(),
                               writer.error().message.c_str()),
                              (nullptr));
            return false;
        }
        state.writer = std::make_shared<Writer>(std::move(*writer));
        {
            std::lock_guard statsLock(state.statsLock);
            state.statsWriter = state.writer;
        }
        GST_INFO_OBJECT(self, "publishing feed '%s' at %s: %s, %u slots", state.active.feed.c_str(),
                        state.writer->socketPath().c_str(), format.describe().c_str(),
                        options.slotCount);
    } else {
        if (auto result = state.writer->reconfigure(format); !result) {
            GST_ELEMENT_ERROR(self, STREAM, FORMAT,
                              ("Cannot switch feed '%s' to %s: %s", state.active.feed.c_str(),
                               format.describe().c_str(), result.error().message.c_str()),
                              (nullptr));
            return false;
        }
        GST_INFO_OBJECT(self, "feed '%s' now carries %s", state.active.feed.c_str(),
                        format.describe().c_str());
    }
    state.format = format;
    ++state.poolGeneration;
    return true;
}

gboolean sinkSetCaps(GstBaseSink* base, GstCaps* caps) {
    auto* self = GST_SHM_FRAME_SINK(base);
    SinkState& state = *self->state;
    auto format = shmframe::gst::formatFromCaps(caps);
    if (!format) {
        GST_ELEMENT_ERROR(
            self, STREAM, FORMAT,
            ("shmframesink cannot carry these caps: %s", format.error().message.c_str()),
            ("caps: %" GST_PTR_FORMAT, static_cast<void*>(caps)));
        return FALSE;
    }
    std::lock_guard lock(state.lock);
    if (!configure(self, *format)) {
        return FALSE;
    }
    gst_video_info_from_caps(&state.videoInfo, caps);
    return TRUE;
}

gboolean sinkProposeAllocation(GstBaseSink* base, GstQuery* query) {
    auto* self = GST_SHM_FRAME_SINK(base);
    SinkState& state = *self->state;
    GstCaps* caps = nullptr;
    gboolean needPool = FALSE;
    gst_query_parse_allocation(query, &caps, &needPool);
    std::lock_guard lock(state.lock);
    // Announcing GstVideoMeta lets a decoder decode into slots laid out with its padding
    // (GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT), which costs this side nothing but every
    // reader whose downstream does not read GstVideoMeta (fakesink, appsink, filesink, a
    // pad probe) a copy into GStreamer's default layout, on its latency path. Without it,
    // such a decoder copies each picture into a default-layout slot once, here.
    const bool videoMeta = state.active.videoMeta;
    if (videoMeta) {
        gst_query_add_allocation_meta(query, GST_VIDEO_META_API_TYPE, nullptr);
    }
    if (!caps) {
        return TRUE;
    }
    auto format = shmframe::gst::formatFromCaps(caps);
    if (!format) {
        return TRUE;
    }
    // Only caps that are (or are about to be) the writer's get a pool: upstream
    // sends the caps event before it asks.
    if (!state.writer || !state.format || !(*state.format == *format)) {
        GST_DEBUG_OBJECT(self, "no pool for %" GST_PTR_FORMAT " (not the negotiated caps)",
                         static_cast<void*>(caps));
        return TRUE;
    }
    shmframe::gst::SinkPoolConfig config;
    config.writer = state.writer;
    config.format = state.writer->format();
    config.generation = state.poolGeneration;
    config.owner = &state;
    config.signal = state.signal;
    GstBufferPool* pool = shmframe::gst::sinkPoolNew(std::move(config));
    GstStructure* poolConfig = gst_buffer_pool_get_config(pool);
    gst_buffer_pool_config_set_params(poolConfig, caps,
                                      static_cast<guint>(state.writer->format().frameSize), 0, 0);
    if (videoMeta) {
        gst_buffer_pool_config_add_option(poolConfig, GST_BUFFER_POOL_OPTION_VIDEO_META);
    }
    gst_buffer_pool_set_config(pool, poolConfig);
    gst_query_add_allocation_pool(query, pool, static_cast<guint>(state.writer->format().frameSize),
                                  0, 0);
    gst_object_unref(pool);
    state.poolProposed = true;
    GST_DEBUG_OBJECT(self, "proposed a pool of writer slots, generation %" G_GUINT64_FORMAT,
                     state.poolGeneration);
    return TRUE;
}

shmframe::FrameMeta metaOf(GstBuffer* buffer, bool discont) {
    shmframe::FrameMeta meta;
    meta.pts = GST_BUFFER_PTS(buffer);
    meta.dts = GST_BUFFER_DTS(buffer);
    meta.duration = GST_BUFFER_DURATION(buffer);
    std::uint32_t flags = shmframe::kFrameFlagNone;
    if (discont || GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DISCONT)) {
        flags |= shmframe::kFrameFlagDiscont;
    }
    if (!GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT)) {
        flags |= shmframe::kFrameFlagKeyframe;
    }
    if (GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_GAP)) {
        flags |= shmframe::kFrameFlagGap;
    }
    if (GST_BUFFER_FLAG_IS_SET(buffer, GST_VIDEO_BUFFER_FLAG_INTERLACED)) {
        flags |= shmframe::kFrameFlagInterlaced;
    }
    meta.flags = flags;
    return meta;
}

// Copies a buffer that is not one of our slots into a fresh slot. state.lock held.
GstFlowReturn publishCopy(GstShmFrameSink* self, GstBuffer* buffer,
                          const shmframe::FrameMeta& meta) {
    SinkState& state = *self->state;
    auto loan = state.writer->loan();
    if (!loan) {
        ++state.drops;
        if (!state.dropLogged) {
            state.dropLogged = true;
            GST_WARNING_OBJECT(self, "dropping a frame: no free slot (%s)",
                               loan.error().message.c_str());
        }
        return GST_FLOW_OK;
    }
    GstVideoFrame in;
    if (!gst_video_frame_map(&in, &state.videoInfo, buffer, GST_MAP_READ)) {
        ++state.drops;
        if (!state.misfitLogged) {
            state.misfitLogged = true;  // once per stream: the counter tells the rest
            GST_ELEMENT_WARNING(self, STREAM, FORMAT, ("Dropping frames that do not fit the caps."),
                                ("buffer of %" G_GSIZE_FORMAT " bytes for %s; stats 'drops' "
                                 "counts them",
                                 gst_buffer_get_size(buffer), state.format->describe().c_str()));
        }
        return GST_FLOW_OK;
    }
    // A temporary view of the slot, so gst_video_frame_copy handles both strides.
    const auto bytes = loan->bytes();
    GstBuffer* slot = gst_buffer_new_wrapped_full(static_cast<GstMemoryFlags>(0), bytes.data(),
                                                  bytes.size(), 0, bytes.size(), nullptr, nullptr);
    shmframe::gst::addVideoMeta(slot, loan->format());
    GstVideoFrame out;
    bool ok = gst_video_frame_map(&out, &state.videoInfo, slot, GST_MAP_WRITE);
    if (ok) {
        ok = gst_video_frame_copy(&out, &in);
        gst_video_frame_unmap(&out);
    }
    gst_video_frame_unmap(&in);
    gst_buffer_unref(slot);
    if (!ok) {
        ++state.drops;
        GST_WARNING_OBJECT(self, "could not copy a frame into a slot");
        return GST_FLOW_OK;
    }
    if (auto result = state.writer->publish(std::move(*loan), meta); !result) {
        ++state.drops;
        GST_WARNING_OBJECT(self, "publish failed: %s", result.error().message.c_str());
        return GST_FLOW_OK;
    }
    ++state.copied;
    ++state.published;
    return GST_FLOW_OK;
}

// Why \a buffer is not a slot we can publish as it is. state.lock held.
std::string copyReasonOf(const SinkState& state, GstBuffer* buffer,
                         const shmframe::gst::SlotHolder* holder) {
    if (holder && holder->owner != &state) {
        return "the buffer is a slot of another shmframesink";
    }
    if (holder) {
        return "the buffer is a slot of an earlier format of this feed";
    }
    if (const char* fallback = shmframe::gst::sinkPoolFallbackReason(buffer)) {
        return std::string("our pool handed out system memory: ") + fallback;
    }
    if (gst_buffer_n_memory(buffer) != 1) {
        return "the buffer has " + std::to_string(gst_buffer_n_memory(buffer)) +
               " memories, not one whole slot";
    }
    if (!state.poolProposed) {
        return "upstream never asked for a pool (it allocates its own buffers, or a tee or "
               "passthrough element is in between)";
    }
    std::string reason = "upstream did not take the pool we proposed: it outputs buffers of ";
    if (buffer->pool) {
        reason += std::string("its own pool '") + GST_OBJECT_NAME(buffer->pool) + "'";
    } else {
        reason += "its own";
    }
    return reason +
           " (vp9dec outputs libvpx's reference buffers; a libav decoder its own pool when "
           "its pool and picture sizes differ)";
}

GstFlowReturn sinkRender(GstBaseSink* base, GstBuffer* buffer) {
    auto* self = GST_SHM_FRAME_SINK(base);
    SinkState& state = *self->state;
    std::lock_guard lock(state.lock);
    if (!state.writer || !state.format) {
        GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("Received a frame before any caps."),
                          (nullptr));
        return GST_FLOW_NOT_NEGOTIATED;
    }
    const shmframe::FrameMeta meta = metaOf(buffer, state.discont);
    state.discont = false;

    shmframe::gst::SlotHolder* holder = shmframe::gst::slotHolderOf(buffer);
    if (holder && holder->owner == &state && holder->poolGeneration == state.poolGeneration) {
        // Retained: upstream may still hold this buffer (a tee, a queue): the slot stays
        // pinned until the buffer comes back to our pool, so nobody sees it rewritten.
        auto result = state.writer->publishRetained(std::move(holder->frame), meta);
        state.signal->notify();
        if (!result) {
            ++state.drops;
            GST_WARNING_OBJECT(self, "publish failed: %s", result.error().message.c_str());
        } else {
            holder->retained = std::move(*result);
            ++state.published;
        }
        return GST_FLOW_OK;
    }
    const std::string reason = copyReasonOf(state, buffer, holder);
    GST_LOG_OBJECT(self, "copying %" GST_PTR_FORMAT " of pool %" GST_PTR_FORMAT ": %s",
                   static_cast<void*>(buffer), static_cast<void*>(buffer->pool), reason.c_str());
    if (!state.copyLogged) {
        state.copyLogged = true;
        GST_WARNING_OBJECT(self,
                           "copying each frame (%s) into a slot: %s; stats 'copied' counts "
                           "them, 'copy-reason' says why",
                           state.format->describe().c_str(), reason.c_str());
    }
    {
        std::lock_guard statsLock(state.statsLock);
        if (state.copyReason != reason) {
            state.copyReason = reason;
        }
    }
    return publishCopy(self, buffer, meta);
}

gboolean sinkEvent(GstBaseSink* base, GstEvent* event) {
    auto* self = GST_SHM_FRAME_SINK(base);
    SinkState& state = *self->state;
    switch (GST_EVENT_TYPE(event)) {
        case GST_EVENT_EOS: {
            std::lock_guard lock(state.lock);
            if (state.writer) {
                if (auto result = state.writer->endOfStream(); !result) {
                    GST_WARNING_OBJECT(self, "could not signal end of stream: %s",
                                       result.error().message.c_str());
                }
            }
            state.discont = true;
            break;
        }
        case GST_EVENT_FLUSH_STOP: {
            std::lock_guard lock(state.lock);
            state.discont = true;
            break;
        }
        default:
            break;
    }
    return GST_BASE_SINK_CLASS(gst_shm_frame_sink_parent_class)->event(base, event);
}

void sinkFinalize(GObject* object) {
    auto* self = GST_SHM_FRAME_SINK(object);
    delete self->state;
    self->state = nullptr;
    G_OBJECT_CLASS(gst_shm_frame_sink_parent_class)->finalize(object);
}

}  // namespace

static void gst_shm_frame_sink_class_init(GstShmFrameSinkClass* klass) {
    auto* objectClass = G_OBJECT_CLASS(klass);
    auto* elementClass = GST_ELEMENT_CLASS(klass);
    auto* baseSinkClass = GST_BASE_SINK_CLASS(klass);

    objectClass->set_property = setProperty;
    objectClass->get_property = getProperty;
    objectClass->finalize = sinkFinalize;

    const auto flags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                GST_PARAM_MUTABLE_READY);
    g_object_class_install_property(
        objectClass, PROP_FEED,
        g_param_spec_string("feed", "Feed",
                            "Name of the feed to publish ([A-Za-z0-9._-]{1,64}, socket "
                            "<feed dir>/<feed>.sock), or an absolute socket path",
                            nullptr, flags));
    g_object_class_install_property(
        objectClass, PROP_SLOTS,
        g_param_spec_uint("slots", "Slots",
                          "Frame slots in the shared pool (frames in flight between upstream, "
                          "readers and the next publish; 3 to 64). 0: as many as fit in 256 MiB "
                          "of the first format, 4 to 16 (readers that queue frames get up to "
                          "slots - 2 without copies; decoders keep reference frames in slots)",
                          0, kMaxSlots, kAutoSlots, flags));
    g_object_class_install_property(
        objectClass, PROP_POLICY,
        g_param_spec_enum("policy", "Policy", "How the writer treats readers that fall behind",
                          policyGetType(), static_cast<gint>(WriterPolicy::NeverBlock), flags));
    g_object_class_install_property(
        objectClass, PROP_LEASE_LIMIT,
        g_param_spec_uint("lease-limit", "Lease limit",
                          "Frames one reader may hold at once; beyond it a reader gets copies", 1,
                          16, kDefaultLeaseLimit, flags));
    g_object_class_install_property(
        objectClass, PROP_LOSSLESS_TIMEOUT,
        g_param_spec_uint("lossless-timeout", "Lossless timeout",
                          "policy=lossless: milliseconds to wait for the slowest reader before "
                          "dropping it",
                          1, G_MAXUINT, kDefaultLosslessTimeoutMs, flags));
    g_object_class_install_property(
        objectClass, PROP_ACCESS,
        g_param_spec_string("access", "Access",
                            "Who may read the feed: uid (same user, default), any, "
                            "uid:1000,1001 or gid:44",
                            "uid", flags));
    g_object_class_install_property(
        objectClass, PROP_VIDEO_META,
        g_param_spec_boolean(
            "video-meta", "Video meta",
            "Let upstream hand over frames in a plane layout of its own (GstVideoMeta): "
            "decoders then decode into slots with their padding and copy nothing, but each "
            "reader whose downstream ignores GstVideoMeta copies every frame into GStreamer's "
            "default layout. false: slots keep the default layout (a decoder that needs "
            "padding copies each picture into its slot once)",
            FALSE, flags));
    g_object_class_install_property(
        objectClass, PROP_STATS,
        g_param_spec_boxed("stats", "Statistics",
                           "Counters: published, copied (frames copied into a slot because "
                           "upstream did not use our pool), readers (connected now), drops "
                           "(frames not published: no free slot or a bad buffer), "
                           "readers-connected, readers-dropped, revoked-leases, loan-failures, "
                           "generation",
                           GST_TYPE_STRUCTURE,
                           static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

    /**
     * shmframesink::reader-connected:
     * @readerId: the writer's id for this reader
     * @pid: the reader's process id
     * @uid: the reader's user id
     *
     * Emitted from a thread of the element (never the streaming thread) when a reader connects.
     */
    signals[SIGNAL_READER_CONNECTED] =
        g_signal_new("reader-connected", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, nullptr,
                     nullptr, nullptr, G_TYPE_NONE, 3, G_TYPE_UINT, G_TYPE_INT, G_TYPE_UINT);
    /**
     * shmframesink::reader-disconnected:
     * @readerId, @pid, @uid: as for reader-connected
     * @reason: why the reader went (hang-up, dropped by the lossless policy, ...)
     */
    signals[SIGNAL_READER_DISCONNECTED] = g_signal_new(
        "reader-disconnected", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, nullptr, nullptr,
        nullptr, G_TYPE_NONE, 4, G_TYPE_UINT, G_TYPE_INT, G_TYPE_UINT, G_TYPE_STRING);

    gst_element_class_set_static_metadata(
        elementClass, "Shared-memory frame pool sink", "Sink/Video",
        "Publishes video frames as a shmframe feed: upstream writes into shared slots, readers "
        "in other processes see them without a copy",
        "shmframe developers");
    gst_element_class_add_static_pad_template(elementClass, &sinkTemplate);
    gst_type_mark_as_plugin_api(policyGetType(), static_cast<GstPluginAPIFlags>(0));

    baseSinkClass->start = sinkStart;
    baseSinkClass->stop = sinkStop;
    baseSinkClass->set_caps = sinkSetCaps;
    baseSinkClass->propose_allocation = sinkProposeAllocation;
    baseSinkClass->render = sinkRender;
    baseSinkClass->event = sinkEvent;
}

static void gst_shm_frame_sink_init(GstShmFrameSink* self) {
    self->state = new SinkState();
    // A published slot is recycled by the writer: a kept "last sample" would show
    // whatever frame the slot holds later, so none is kept by default.
    gst_base_sink_set_last_sample_enabled(GST_BASE_SINK(self), FALSE);
}
