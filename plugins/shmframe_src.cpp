// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * shmframesrc is a thin GObject shell around SrcState. create() waits inside
 * Reader::next() (unlock() interrupts it), negotiates caps from
 * the feed's own format, and hands out buffers whose memory is the writer's slot,
 * mapped read-only; the lease ends when downstream drops the last reference.
 */
#include "shmframe_src.h"

#include <gst/video/video.h>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <optional>
#include <string>

#include "buffer_recycler.h"
#include "caps_format.h"
#include "frame_memory.h"
#include "shmframe/clock.h"
#include "shmframe/feed.h"
#include "shmframe/reader.h"
#include "src_uri_handler.h"

GST_DEBUG_CATEGORY(shmframe_src_debug);
#define GST_CAT_DEFAULT shmframe_src_debug

namespace {

using shmframe::Errc;
using shmframe::Format;
using shmframe::Reader;
using shmframe::ReadMode;
using shmframe::WaitMode;

enum class TimestampMode : gint {
    PublishTime = 0,  ///< running time of the moment the writer published the frame
    WriterPts = 1,    ///< the writer's PTS spacing, anchored at a publish time
};

// A writer PTS that strays further than this from the publish time is re-anchored:
// a writer that runs faster or slower than real time cannot push frames far into
// the future or the past of the reader's pipeline.
constexpr GstClockTime kMaxPtsDrift = GST_SECOND;
// create() re-checks the reader at least this often even without a wake-up.
constexpr GstClockTime kMaxPollWait = GST_SECOND;
// A reader's lease limit can be at most this (the library's limit).
constexpr guint kMaxLeases = 16;

struct Settings {
    std::string feed;
    ReadMode mode = ReadMode::Latest;
    WaitMode wait = WaitMode::Block;
    bool reconnect = true;
    guint64 timeoutNs = 0;  // 0: wait forever for a writer
    TimestampMode timestampMode = TimestampMode::PublishTime;
    guint leases = 0;  // 0: as many as the writer can spare
};

struct SrcState {
    std::mutex settingsLock;
    Settings settings;

    std::mutex readerLock;  // the Reader is used from one thread at a time
    std::optional<Reader> reader;

    // What the stats property shows: copied after every read, so reading the property
    // never waits for the streaming thread (which blocks inside Reader::next()).
    std::mutex snapshotLock;
    shmframe::ReaderStats statsSnapshot;
    std::string stateSnapshot = "stopped";
    gint writerPidSnapshot = 0;

    std::atomic<bool> flushing{false};

    // Streaming thread (and start/stop) only.
    Settings active;
    std::optional<Format> format;
    GstVideoInfo info{};
    bool layoutDefault = true;
    bool downstreamVideoMeta = true;
    std::uint64_t session = 0;
    bool discont = true;
    bool anchored = false;
    std::uint64_t anchorPts = 0;
    GstClockTime anchorRunningTime = 0;
    std::uint64_t lastWriterPts = 0;

    shmframe::gst::BufferRecycler recycler;  // GstBuffers and their metas, reused

    std::mutex capsLock;  // get_caps is called from any thread
    GstCaps* caps = nullptr;

    std::atomic<GstClockTime> latency{0};
    std::atomic<std::uint32_t> slots{0};
    std::atomic<std::uint32_t> leases{0};  // granted by the current writer
    bool leaseCopyLogged = false;
    std::atomic<std::uint64_t> layoutCopies{0};
    std::atomic<std::uint64_t> leaseCopies{0};
};

enum {
    PROP_0,
    PROP_FEED,
    PROP_MODE,
    PROP_RECONNECT,
    PROP_TIMEOUT,
    PROP_TIMESTAMP_MODE,
    PROP_LEASES,
    PROP_WAIT,
    PROP_STATS,
};

GType modeGetType() {
    static GType type = 0;
    if (g_once_init_enter(&type)) {
        static const GEnumValue values[] = {
            {static_cast<gint>(ReadMode::Latest),
             "Always the newest frame; frames in between are skipped (counted)", "latest"},
            {static_cast<gint>(ReadMode::Sequential),
             "Every frame in order while we keep up with the pool; gaps counted", "sequential"},
            {0, nullptr, nullptr},
        };
        g_once_init_leave(&type, g_enum_register_static("GstShmFrameSrcMode", values));
    }
    return type;
}

GType waitGetType() {
    static GType type = 0;
    if (g_once_init_enter(&type)) {
        static const GEnumValue values[] = {
            {static_cast<gint>(WaitMode::Block), "Sleep until the writer wakes us", "block"},
            {static_cast<gint>(WaitMode::Spin),
             "Busy-poll the feed: the lowest latency, one core busy", "spin"},
            {static_cast<gint>(WaitMode::Paced),
             "Sleep until the next frame is nearly due (frame rate or recent publish times), "
             "spin briefly for it; block when it is late or the feed is irregular",
             "paced"},
            {0, nullptr, nullptr},
        };
        g_once_init_leave(&type, g_enum_register_static("GstShmFrameSrcWait", values));
    }
    return type;
}

GType timestampModeGetType() {
    static GType type = 0;
    if (g_once_init_enter(&type)) {
        static const GEnumValue values[] = {
            {static_cast<gint>(TimestampMode::PublishTime),
             "PTS = running time at which the writer published the frame", "publish-time"},
            {static_cast<gint>(TimestampMode::WriterPts),
             "PTS = writer's PTS, shifted so its first frame lands at its publish time "
             "(re-anchored on discontinuities and drift over 1 s)",
             "writer-pts"},
            {0, nullptr, nullptr},
        };
        g_once_init_leave(&type, g_enum_register_static("GstShmFrameSrcTimestampMode", values));
    }
    return type;
}

// Reference caps live as long as the process (the leaks tracer is told so).
GstCaps* referenceCaps(const char* name) {
    GstCaps* caps = gst_caps_new_empty_simple(name);
    GST_MINI_OBJECT_FLAG_SET(caps, GST_MINI_OBJECT_FLAG_MAY_BE_LEAKED);
    return caps;
}

GstCaps* writerPtsCaps() {
    static GstCaps* caps = referenceCaps("timestamp/x-shmframe-writer-pts");
    return caps;
}

GstCaps* publishTimeCaps() {
    static GstCaps* caps = referenceCaps("timestamp/x-shmframe-publish-monotonic");
    return caps;
}

}  // namespace

struct _GstShmFrameSrc {
    GstPushSrc parent;
    SrcState* state;
};

// GObject's type boilerplate casts C-style inside the macro.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
G_DEFINE_TYPE_WITH_CODE(GstShmFrameSrc, gst_shm_frame_src, GST_TYPE_PUSH_SRC,
                        G_IMPLEMENT_INTERFACE(GST_TYPE_URI_HANDLER,
                                              gst_shm_frame_src_uri_handler_init))
#pragma GCC diagnostic pop
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE(shmframesrc, "shmframesrc", GST_RANK_NONE,
                                      GST_TYPE_SHM_FRAME_SRC,
                                      GST_DEBUG_CATEGORY_INIT(shmframe_src_debug, "shmframesrc", 0,
                                                              "shmframe source"));

namespace {

GstStaticPadTemplate srcTemplate = GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS,
                                                           GST_STATIC_CAPS(SHMFRAME_VIDEO_CAPS));

SrcState& stateOf(gpointer self) {
    return *GST_SHM_FRAME_SRC(self)->state;
}

GstStructure* buildStats(GstShmFrameSrc* self) {
    SrcState& state = *self->state;
    shmframe::ReaderStats stats;
    std::string readerState;
    gint writerPid = 0;
    {
        std::lock_guard lock(state.snapshotLock);
        stats = state.statsSnapshot;
        readerState = state.stateSnapshot;
        writerPid = state.writerPidSnapshot;
    }
    return gst_structure_new(
        "shmframesrc-stats", "received", G_TYPE_UINT64, stats.received, "skipped", G_TYPE_UINT64,
        stats.skipped, "gaps", G_TYPE_UINT64, stats.gaps, "copies", G_TYPE_UINT64,
        state.leaseCopies.load(), "layout-copies", G_TYPE_UINT64, state.layoutCopies.load(),
        "leases", G_TYPE_UINT, state.leases.load(), "revoked", G_TYPE_UINT64, stats.revoked,
        "reconnects", G_TYPE_UINT64, stats.reconnects, "writer-gone", G_TYPE_UINT64,
        stats.writerGone, "format-changes", G_TYPE_UINT64, stats.formatChanges, "end-of-streams",
        G_TYPE_UINT64, stats.endOfStreams, "state", G_TYPE_STRING, readerState.c_str(),
        "writer-pid", G_TYPE_INT, writerPid, "paced-hits", G_TYPE_UINT64, stats.pacedHits,
        "paced-misses", G_TYPE_UINT64, stats.pacedMisses, nullptr);
}

void setProperty(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
    SrcState& state = stateOf(object);
    std::lock_guard lock(state.settingsLock);
    Settings& s = state.settings;
    switch (id) {
        case PROP_FEED: {
            const gchar* feed = g_value_get_string(value);
            s.feed = feed ? feed : "";
            break;
        }
        case PROP_MODE:
            s.mode = static_cast<ReadMode>(g_value_get_enum(value));
            break;
        case PROP_RECONNECT:
            s.reconnect = g_value_get_boolean(value);
            break;
        case PROP_TIMEOUT:
            s.timeoutNs = g_value_get_uint64(value);
            break;
        case PROP_TIMESTAMP_MODE:
            s.timestampMode = static_cast<TimestampMode>(g_value_get_enum(value));
            break;
        case PROP_LEASES:
            s.leases = g_value_get_uint(value);
            break;
        case PROP_WAIT:
            s.wait = static_cast<WaitMode>(g_value_get_enum(value));
            break;
        default:
            G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    }
}

void getProperty(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
    SrcState& state = stateOf(object);
    if (id == PROP_STATS) {
        g_value_take_boxed(value, buildStats(GST_SHM_FRAME_SRC(object)));
        return;
    }
    std::lock_guard lock(state.settingsLock);
    const Settings& s = state.settings;
    switch (id) {
        case PROP_FEED:
            g_value_set_string(value, s.feed.empty() ? nullptr : s.feed.c_str());
            break;
        case PROP_MODE:
            g_value_set_enum(value, static_cast<gint>(s.mode));
            break;
        case PROP_RECONNECT:
            g_value_set_boolean(value, s.reconnect);
            break;
        case PROP_TIMEOUT:
            g_value_set_uint64(value, s.timeoutNs);
            break;
        case PROP_TIMESTAMP_MODE:
            g_value_set_enum(value, static_cast<gint>(s.timestampMode));
            break;
        case PROP_LEASES:
            g_value_set_uint(value, s.leases);
            break;
        case PROP_WAIT:
            g_value_set_enum(value, static_cast<gint>(s.wait));
            break;
        default:
            G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    }
}

void setCurrentCaps(SrcState& state, GstCaps* caps) {
    std::lock_guard lock(state.capsLock);
    gst_caps_replace(&state.caps, caps);
}

gboolean srcStart(GstBaseSrc* base) {
    auto* self = GST_SHM_FRAME_SRC(base);
    SrcState& state = *self->state;
    Settings settings;
    {
        std::lock_guard lock(state.settingsLock);
        settings = state.settings;
    }
    if (settings.feed.empty()) {
        GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("No feed name set."),
                          ("Set the feed property, e.g. shmframesrc feed=cam0."));
        return FALSE;
    }
    if (auto valid = shmframe::validateFeedName(settings.feed); !valid) {
        GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("%s", valid.error().message.c_str()),
                          ("A feed name is [A-Za-z0-9._-]{1,64} or an absolute socket path."));
        return FALSE;
    }
    shmframe::ReaderOptions options;
    options.mode = settings.mode;
    options.wait = settings.wait;
    options.waitForWriter = true;  // `timeout` bounds the wait instead
    options.reconnect = settings.reconnect;
    // Downstream queues and sinks hold buffers, each a lease: ask for room for them.
    options.leases = settings.leases > 0 ? settings.leases : kMaxLeases;
    gchar* name = gst_element_get_name(self);
    options.clientName = std::string("shmframesrc ") + (name ? name : "");
    g_free(name);
    auto reader = Reader::open(settings.feed, options);
    if (!reader) {
        GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ, ("%s", reader.error().message.c_str()),
                          ("feed '%s'", settings.feed.c_str()));
        return FALSE;
    }
    {
        std::lock_guard lock(state.readerLock);
        state.reader.emplace(std::move(*reader));
    }
    state.active = settings;
    state.format.reset();
    state.session = 0;
    state.flushing = false;
    state.discont = true;
    state.anchored = false;
    state.latency = 0;
    state.layoutCopies = 0;
    state.leaseCopies = 0;
    state.leases = 0;
    state.leaseCopyLogged = false;
    setCurrentCaps(state, nullptr);
    return TRUE;
}

gboolean srcStop(GstBaseSrc* base) {
    SrcState& state = stateOf(base);
    {
        // Frames downstream still holds keep their mapping; only new reads end here.
        std::lock_guard lock(state.readerLock);
        state.reader.reset();
    }
    {
        std::lock_guard lock(state.snapshotLock);
        state.stateSnapshot = "stopped";
        state.writerPidSnapshot = 0;
    }
    state.format.reset();
    setCurrentCaps(state, nullptr);
    return TRUE;
}

// The streaming thread blocks in Reader::next() (holding readerLock, which stop() takes
// only after the streaming thread has left): interrupt() is the Reader's one call that
// is safe from another thread.
gboolean srcUnlock(GstBaseSrc* base) {
    SrcState& state = stateOf(base);
    state.flushing = true;
    if (state.reader) {
        state.reader->interrupt();
    }
    return TRUE;
}

gboolean srcUnlockStop(GstBaseSrc* base) {
    stateOf(base).flushing = false;
    return TRUE;
}

GstCaps* srcGetCaps(GstBaseSrc* base, GstCaps* filter) {
    SrcState& state = stateOf(base);
    GstCaps* caps = nullptr;
    {
        std::lock_guard lock(state.capsLock);
        if (state.caps) {
            caps = gst_caps_ref(state.caps);
        }
    }
    if (!caps) {
        caps = gst_pad_get_pad_template_caps(GST_BASE_SRC_PAD(base));
    }
    if (filter) {
        GstCaps* intersection = gst_caps_intersect_full(filter, caps, GST_CAPS_INTERSECT_FIRST);
        gst_caps_unref(caps);
        caps = intersection;
    }
    return caps;
}

bool peerSupportsVideoMeta(GstBaseSrc* base, GstCaps* caps) {
    GstQuery* query = gst_query_new_allocation(caps, FALSE);
    const bool supported = gst_pad_peer_query(GST_BASE_SRC_PAD(base), query) &&
                           gst_query_find_allocation_meta(query, GST_VIDEO_META_API_TYPE, nullptr);
    gst_query_unref(query);
    return supported;
}

void updateLatency(GstShmFrameSrc* self, GstClockTime frameDuration) {
    SrcState& state = *self->state;
    const GstClockTime latency = GST_CLOCK_TIME_IS_VALID(frameDuration) ? frameDuration : 0;
    if (state.latency.exchange(latency) != latency) {
        GST_INFO_OBJECT(self, "latency now %" GST_TIME_FORMAT, GST_TIME_ARGS(latency));
        gst_element_post_message(GST_ELEMENT(self), gst_message_new_latency(GST_OBJECT(self)));
    }
}

// Sets caps for a format of the feed; streaming thread.
bool negotiateFormat(GstShmFrameSrc* self, const Format& format) {
    SrcState& state = *self->state;
    bool usedWriterCaps = false;
    GstCaps* caps = shmframe::gst::capsFromFormat(format, &usedWriterCaps);
    if (!caps) {
        GST_ELEMENT_ERROR(self, STREAM, FORMAT,
                          ("Feed '%s' carries a format GStreamer cannot describe: %s.",
                           state.active.feed.c_str(), format.describe().c_str()),
                          (nullptr));
        return false;
    }
    if (!usedWriterCaps && !format.caps.empty()) {
        GST_WARNING_OBJECT(self,
                           "the writer's caps '%s' do not match its format %s; using caps built "
                           "from the format",
                           format.caps.c_str(), format.describe().c_str());
    }
    GST_INFO_OBJECT(self, "feed '%s' carries %s: %" GST_PTR_FORMAT, state.active.feed.c_str(),
                    format.describe().c_str(), static_cast<void*>(caps));
    setCurrentCaps(state, caps);
    if (!gst_base_src_set_caps(GST_BASE_SRC(self), caps)) {
        GST_ELEMENT_ERROR(self, CORE, NEGOTIATION,
                          ("Downstream does not accept the format of feed '%s' (%s).",
                           state.active.feed.c_str(), format.describe().c_str()),
                          ("caps %" GST_PTR_FORMAT "; add videoconvert after shmframesrc",
                           static_cast<void*>(caps)));
        gst_caps_unref(caps);
        return false;
    }
    state.format = format;
    gst_video_info_from_caps(&state.info, caps);
    state.layoutDefault = shmframe::gst::layoutIsDefault(format, state.info);
    state.downstreamVideoMeta = peerSupportsVideoMeta(GST_BASE_SRC(self), caps);
    if (!state.layoutDefault && !state.downstreamVideoMeta) {
        GST_INFO_OBJECT(self,
                        "the writer's strides differ from GStreamer's and downstream "
                        "ignores GstVideoMeta: frames will be copied");
    }
    gst_caps_unref(caps);
    updateLatency(self, shmframe::gst::frameDuration(format));
    return true;
}

gboolean srcNegotiate(GstBaseSrc* base) {
    auto* self = GST_SHM_FRAME_SRC(base);
    SrcState& state = *self->state;
    if (state.format) {
        return negotiateFormat(self, *state.format);
    }
    std::optional<Format> format;
    {
        std::lock_guard lock(state.readerLock);
        if (state.reader) {
            format = state.reader->format();
        }
    }
    // Without a writer yet, caps come with its first frame (create()).
    return format ? negotiateFormat(self, *format) : TRUE;
}

gboolean srcQuery(GstBaseSrc* base, GstQuery* query) {
    SrcState& state = stateOf(base);
    if (GST_QUERY_TYPE(query) == GST_QUERY_LATENCY) {
        // Frames are stamped with their publish time and arrive a wake-up later; a
        // frame's worth of latency lets sinks render them on time. We can hold frames
        // for as long as the writer's pool keeps them (slots - 1 frames).
        const GstClockTime min = state.latency.load();
        GstClockTime max = GST_CLOCK_TIME_NONE;
        const std::uint32_t slots = state.slots.load();
        if (min > 0 && slots > 1) {
            max = min * (slots - 1);
        }
        gst_query_set_latency(query, TRUE, min, max);
        return TRUE;
    }
    return GST_BASE_SRC_CLASS(gst_shm_frame_src_parent_class)->query(base, query);
}

// Running time (of this element's clock) at which the frame was published.
GstClockTime publishRunningTime(GstShmFrameSrc* self, std::uint64_t publishTimeNs) {
    // Clock and base time under one lock (not gst_element_get_clock() and
    // gst_element_get_base_time(), a lock each): this runs for every frame, between the
    // wake-up and the push.
    GstElement* element = GST_ELEMENT_CAST(self);
    GST_OBJECT_LOCK(element);
    GstClock* clock = GST_ELEMENT_CLOCK(element);
    if (clock) {
        gst_object_ref(clock);
    }
    const GstClockTime baseTime = element->base_time;
    GST_OBJECT_UNLOCK(element);
    if (!clock) {
        return GST_CLOCK_TIME_NONE;
    }
    const GstClockTime clockNow = gst_clock_get_time(clock);
    gst_object_unref(clock);
    const std::uint64_t monoNow = shmframe::monotonicNs();
    // The age of the frame in CLOCK_MONOTONIC carries over to any pipeline clock.
    const std::uint64_t age =
        (publishTimeNs != 0 && publishTimeNs <= monoNow) ? monoNow - publishTimeNs : 0;
    const GstClockTime clockAtPublish = clockNow > age ? clockNow - age : 0;
    return clockAtPublish > baseTime ? clockAtPublish - baseTime : 0;
}

GstClockTime mapTimestamp(GstShmFrameSrc* self, const shmframe::FrameMeta& meta) {
    SrcState& state = *self->state;
    const GstClockTime published = publishRunningTime(self, meta.publishTimeNs);
    if (state.active.timestampMode != TimestampMode::WriterPts ||
        meta.pts == shmframe::kNoTimestamp || !GST_CLOCK_TIME_IS_VALID(published)) {
        return published;
    }
    if (!state.anchored || (meta.flags & shmframe::kFrameFlagDiscont) ||
        meta.pts < state.lastWriterPts) {
        state.anchored = true;
        state.anchorPts = meta.pts;
        state.anchorRunningTime = published;
    }
    GstClockTime mapped = state.anchorRunningTime + (meta.pts - state.anchorPts);
    if (mapped > published + kMaxPtsDrift || mapped + kMaxPtsDrift < published) {
        GST_DEBUG_OBJECT(self, "writer PTS drifted from publish time; re-anchoring");
        state.anchorPts = meta.pts;
        state.anchorRunningTime = published;
        mapped = published;
    }
    state.lastWriterPts = meta.pts;
    return mapped;
}

// The GstVideoMeta of a recycled buffer is updated in place; a new buffer gets one.
void setVideoMeta(GstBuffer* buffer, const Format& format) {
    GstVideoMeta* meta = gst_buffer_get_video_meta(buffer);
    if (!meta) {
        shmframe::gst::addVideoMeta(buffer, format);
        return;
    }
    meta->flags = GST_VIDEO_FRAME_FLAG_NONE;
    meta->format = shmframe::gst::toGstVideoFormat(format.pixelFormat);
    meta->width = format.width;
    meta->height = format.height;
    meta->n_planes = std::min<guint>(format.planeCount, GST_VIDEO_MAX_PLANES);
    for (guint plane = 0; plane < GST_VIDEO_MAX_PLANES; ++plane) {
        const bool used = plane < meta->n_planes;
        meta->offset[plane] = used ? format.planes[plane].offset : 0;
        meta->stride[plane] = used ? static_cast<gint>(format.planes[plane].stride) : 0;
    }
}

// Sets (or, when \a present is false, removes) the reference timestamp for \a reference.
void setReferenceTimestamp(GstBuffer* buffer, GstCaps* reference, bool present,
                           GstClockTime timestamp, GstClockTime duration) {
    gpointer iter = nullptr;
    while (GstMeta* meta = gst_buffer_iterate_meta_filtered(
               buffer, &iter, GST_REFERENCE_TIMESTAMP_META_API_TYPE)) {
        auto* stamp = reinterpret_cast<GstReferenceTimestampMeta*>(meta);
        if (stamp->reference == reference) {
            if (!present) {
                gst_buffer_remove_meta(buffer, meta);
                return;
            }
            stamp->timestamp = timestamp;
            stamp->duration = duration;
            return;
        }
    }
    if (present) {
        gst_buffer_add_reference_timestamp_meta(buffer, reference, timestamp, duration);
    }
}

GstFlowReturn deliver(GstShmFrameSrc* self, shmframe::Frame frame, GstBuffer** out) {
    SrcState& state = *self->state;
    if (frame.writerSession() != state.session) {
        if (state.session != 0) {
            GST_INFO_OBJECT(self, "a new writer serves feed '%s'", state.active.feed.c_str());
        }
        state.session = frame.writerSession();
        state.discont = true;
        state.anchored = false;
    }
    if (!state.format || !(frame.format() == *state.format)) {
        if (!negotiateFormat(self, frame.format())) {
            return GST_FLOW_NOT_NEGOTIATED;
        }
        state.discont = true;
    }
    const shmframe::FrameMeta meta = frame.meta();
    const Format& format = *state.format;
    if (frame.isCopy()) {
        ++state.leaseCopies;
        if (!state.leaseCopyLogged) {
            state.leaseCopyLogged = true;  // once per start: stats 'copies' counts the rest
            GST_WARNING_OBJECT(self,
                               "copying a frame: downstream holds all %u frames the writer "
                               "lets this reader keep (leases; %u slots); give the writer more "
                               "slots (shmframesink slots=N) or hold fewer buffers downstream",
                               state.leases.load(), state.slots.load());
        }
    }

    GstBuffer* buffer = nullptr;
    if (!state.layoutDefault && !state.downstreamVideoMeta) {
        // Downstream would read the planes at GStreamer's default offsets: give it those.
        buffer = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&state.info), nullptr);
        const auto bytes = frame.bytes();
        // NOLINTNEXTLINE(cppcoreguidelines-pro-type-const-cast)
        GstBuffer* view = gst_buffer_new_wrapped_full(
            GST_MEMORY_FLAG_READONLY, const_cast<std::byte*>(bytes.data()), bytes.size(), 0,
            bytes.size(), nullptr, nullptr);
        shmframe::gst::addVideoMeta(view, format);
        GstVideoFrame in;
        GstVideoFrame outFrame;
        bool ok = false;
        if (gst_video_frame_map(&in, &state.info, view, GST_MAP_READ)) {
            if (gst_video_frame_map(&outFrame, &state.info, buffer, GST_MAP_WRITE)) {
                ok = gst_video_frame_copy(&outFrame, &in);
                gst_video_frame_unmap(&outFrame);
            }
            gst_video_frame_unmap(&in);
        }
        gst_buffer_unref(view);
        if (!ok) {
            gst_buffer_unref(buffer);
            GST_ELEMENT_ERROR(self, STREAM, FAILED,
                              ("Could not copy a frame of feed '%s'.", state.active.feed.c_str()),
                              (nullptr));
            return GST_FLOW_ERROR;
        }
        ++state.layoutCopies;
    } else {
        buffer = state.recycler.acquire();
        if (gst_buffer_n_memory(buffer) != 1 ||
            !shmframe::gst::rewrapReadOnlyFrame(gst_buffer_peek_memory(buffer, 0),
                                                std::move(frame))) {
            gst_buffer_remove_all_memory(buffer);
            gst_buffer_append_memory(buffer, shmframe::gst::wrapReadOnlyFrame(std::move(frame)));
        }
        setVideoMeta(buffer, format);
    }

    if (!gst_base_src_get_do_timestamp(GST_BASE_SRC(self))) {
        GST_BUFFER_PTS(buffer) = mapTimestamp(self, meta);
    }
    GstClockTime duration = meta.duration;
    if (!GST_CLOCK_TIME_IS_VALID(duration)) {
        duration = shmframe::gst::frameDuration(format);
    }
    GST_BUFFER_DURATION(buffer) = duration;
    if (format.frameRate.num <= 0 && GST_CLOCK_TIME_IS_VALID(duration)) {
        updateLatency(self, duration);
    }
    GST_BUFFER_OFFSET(buffer) = meta.sequence;
    if (state.discont || (meta.flags & shmframe::kFrameFlagDiscont)) {
        GST_BUFFER_FLAG_SET(buffer, GST_BUFFER_FLAG_DISCONT);
        state.discont = false;
    }
    if (meta.flags & shmframe::kFrameFlagGap) {
        GST_BUFFER_FLAG_SET(buffer, GST_BUFFER_FLAG_GAP);
    }
    if (meta.flags & shmframe::kFrameFlagInterlaced) {
        GST_BUFFER_FLAG_SET(buffer, GST_VIDEO_BUFFER_FLAG_INTERLACED);
    }
    setReferenceTimestamp(
        buffer, writerPtsCaps(), meta.pts != shmframe::kNoTimestamp, meta.pts,
        GST_CLOCK_TIME_IS_VALID(meta.duration) ? meta.duration : GST_CLOCK_TIME_NONE);
    setReferenceTimestamp(buffer, publishTimeCaps(), meta.publishTimeNs != 0, meta.publishTimeNs,
                          GST_CLOCK_TIME_NONE);
    *out = buffer;
    return GST_FLOW_OK;
}

GstFlowReturn srcCreate(GstPushSrc* push, GstBuffer** out) {
    auto* self = GST_SHM_FRAME_SRC(push);
    SrcState& state = *self->state;
    const Settings& settings = state.active;
    gint64 waitingSinceUs = g_get_monotonic_time();
    std::string lastProblem;
    // Block inside the library (epoll on the reader's fds): the first wait is bounded by
    // `timeout` like the later ones, which are computed below.
    GstClockTime wait =
        settings.timeoutNs > 0 ? std::min(kMaxPollWait, settings.timeoutNs) : kMaxPollWait;
    for (;;) {
        if (state.flushing) {
            return GST_FLOW_FLUSHING;
        }
        shmframe::ReaderState readerState;
        std::string feedDir;
        std::optional<shmframe::Result<shmframe::Frame>> next;
        {
            std::lock_guard lock(state.readerLock);
            if (!state.reader) {
                return GST_FLOW_FLUSHING;
            }
            next.emplace(state.reader->next(std::chrono::nanoseconds(wait)));
            readerState = state.reader->state();
            {
                std::lock_guard snapshot(state.snapshotLock);
                state.statsSnapshot = state.reader->stats();
                state.stateSnapshot = std::string(toString(readerState));
                const auto writer = state.reader->writer();
                state.writerPidSnapshot = writer ? static_cast<gint>(writer->pid) : 0;
            }
            if (*next && (**next).writerSession() != state.session) {
                const auto writer = state.reader->writer();
                state.slots = writer ? writer->slotCount : 0;
                state.leases = writer ? writer->leaseLimit : 0;
            }
            if (!*next) {
                feedDir = state.reader->directory();
            }
        }
        if (*next) {
            return deliver(self, std::move(**next), out);
        }
        const shmframe::Error& error = next->error();
        switch (error.code) {
            case Errc::WouldBlock:
            case Errc::Timeout:
                break;
            case Errc::Interrupted:
                if (state.flushing) {
                    return GST_FLOW_FLUSHING;
                }
                break;  // an interrupt() meant for a flush that is over already
            case Errc::EndOfStream:
                GST_INFO_OBJECT(self, "end of stream from the writer of feed '%s'",
                                settings.feed.c_str());
                return GST_FLOW_EOS;
            case Errc::WriterGone:
                if (settings.reconnect) {
                    GST_WARNING_OBJECT(self,
                                       "the writer of feed '%s' went away; waiting for a new one",
                                       settings.feed.c_str());
                    state.discont = true;
                    waitingSinceUs = g_get_monotonic_time();
                    continue;
                }
                GST_ELEMENT_ERROR(
                    self, RESOURCE, READ,
                    ("The writer of feed '%s' went away.", settings.feed.c_str()),
                    ("%s; set reconnect=true to wait for the next writer", error.message.c_str()));
                return GST_FLOW_ERROR;
            case Errc::NoWriter:
                GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("%s", error.message.c_str()),
                                  (nullptr));
                return GST_FLOW_ERROR;
            default:
                if (readerState != shmframe::ReaderState::Connected) {
                    // A writer we cannot use (permissions, protocol version): the reader
                    // keeps waiting for a usable one, and so do we, within `timeout`.
                    if (error.message != lastProblem) {
                        lastProblem = error.message;
                        GST_ELEMENT_WARNING(
                            self, RESOURCE, OPEN_READ, ("%s", error.message.c_str()),
                            ("still waiting for a writer of feed '%s'", settings.feed.c_str()));
                    }
                    break;
                }
                GST_ELEMENT_ERROR(
                    self, RESOURCE, READ,
                    ("Reading feed '%s' failed: %s", settings.feed.c_str(), error.message.c_str()),
                    ("error %s", std::string(toString(error.code)).c_str()));
                return GST_FLOW_ERROR;
        }

        wait = kMaxPollWait;
        const gint64 nowUs = g_get_monotonic_time();
        if (readerState == shmframe::ReaderState::Connected) {
            waitingSinceUs = nowUs;  // `timeout` counts time without a writer only
        } else if (settings.timeoutNs > 0) {
            const GstClockTime waited = GstClockTime(nowUs - waitingSinceUs) * GST_USECOND;
            if (waited >= settings.timeoutNs) {
                GST_ELEMENT_ERROR(
                    self, RESOURCE, NOT_FOUND,
                    ("no writer for feed '%s' (looked in %s)", settings.feed.c_str(),
                     feedDir.c_str()),
                    ("none appeared within the timeout of %" GST_TIME_FORMAT
                     "; start the writer, check SHMFRAME_DIR, or raise the timeout property%s%s",
                     GST_TIME_ARGS(settings.timeoutNs),
                     lastProblem.empty() ? "" : "; last problem: ", lastProblem.c_str()));
                return GST_FLOW_ERROR;
            }
            wait = std::min(wait, settings.timeoutNs - waited);
        }
    }
}

void srcFinalize(GObject* object) {
    auto* self = GST_SHM_FRAME_SRC(object);
    if (self->state->caps) {
        gst_caps_unref(self->state->caps);
    }
    delete self->state;
    self->state = nullptr;
    G_OBJECT_CLASS(gst_shm_frame_src_parent_class)->finalize(object);
}

}  // namespace

static void gst_shm_frame_src_class_init(GstShmFrameSrcClass* klass) {
    auto* objectClass = G_OBJECT_CLASS(klass);
    auto* elementClass = GST_ELEMENT_CLASS(klass);
    auto* baseSrcClass = GST_BASE_SRC_CLASS(klass);
    auto* pushSrcClass = GST_PUSH_SRC_CLASS(klass);

    objectClass->set_property = setProperty;
    objectClass->get_property = getProperty;
    objectClass->finalize = srcFinalize;

    const auto flags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                GST_PARAM_MUTABLE_READY);
    g_object_class_install_property(
        objectClass, PROP_FEED,
        g_param_spec_string("feed", "Feed",
                            "Name of the feed to read ([A-Za-z0-9._-]{1,64}, socket "
                            "<feed dir>/<feed>.sock), or an absolute socket path",
                            nullptr, flags));
    g_object_class_install_property(
        objectClass, PROP_MODE,
        g_param_spec_enum("mode", "Mode", "Which frames to read", modeGetType(),
                          static_cast<gint>(ReadMode::Latest), flags));
    g_object_class_install_property(
        objectClass, PROP_RECONNECT,
        g_param_spec_boolean("reconnect", "Reconnect",
                             "When the writer goes away, wait for the next one and renegotiate "
                             "(otherwise post an error)",
                             TRUE, flags));
    g_object_class_install_property(
        objectClass, PROP_TIMEOUT,
        g_param_spec_uint64("timeout", "Timeout",
                            "Post an error when no writer serves the feed for this many "
                            "nanoseconds (0 = wait forever)",
                            0, G_MAXUINT64, 0, flags));
    g_object_class_install_property(
        objectClass, PROP_TIMESTAMP_MODE,
        g_param_spec_enum("timestamp-mode", "Timestamp mode",
                          "How the writer's timing maps to this pipeline's running time "
                          "(ignored with do-timestamp=true)",
                          timestampModeGetType(), static_cast<gint>(TimestampMode::PublishTime),
                          flags));
    g_object_class_install_property(
        objectClass, PROP_LEASES,
        g_param_spec_uint("leases", "Leases",
                          "Frames downstream may hold at once without copies (queues, sinks); "
                          "the writer grants at most its slots - 2. 0: as many as it can spare",
                          0, kMaxLeases, 0, flags));
    g_object_class_install_property(
        objectClass, PROP_WAIT,
        g_param_spec_enum("wait", "Wait",
                          "How create() waits for the next frame: block (no CPU while "
                          "waiting), spin (lowest latency, one core busy), paced (spin's "
                          "latency for frames that come on time, at a small part of its CPU)",
                          waitGetType(), static_cast<gint>(WaitMode::Block), flags));
    g_object_class_install_property(
        objectClass, PROP_STATS,
        g_param_spec_boxed("stats", "Statistics",
                           "Counters: received, skipped (latest mode), gaps (sequential mode), "
                           "copies (frames copied because downstream held more than the leases "
                           "granted), leases (granted by the writer), layout-copies (frames copied "
                           "because downstream ignores "
                           "GstVideoMeta), revoked, reconnects, writer-gone, format-changes, "
                           "end-of-streams, paced-hits and paced-misses (wait=paced); state and "
                           "writer-pid",
                           GST_TYPE_STRUCTURE,
                           static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

    gst_element_class_set_static_metadata(
        elementClass, "Shared-memory frame pool source", "Source/Video",
        "Reads a shmframe feed: frames arrive where the writer put them, mapped read-only, "
        "with caps taken from the feed",
        "shmframe developers");
    gst_element_class_add_static_pad_template(elementClass, &srcTemplate);
    gst_type_mark_as_plugin_api(modeGetType(), static_cast<GstPluginAPIFlags>(0));
    gst_type_mark_as_plugin_api(timestampModeGetType(), static_cast<GstPluginAPIFlags>(0));
    gst_type_mark_as_plugin_api(waitGetType(), static_cast<GstPluginAPIFlags>(0));

    baseSrcClass->start = srcStart;
    baseSrcClass->stop = srcStop;
    baseSrcClass->unlock = srcUnlock;
    baseSrcClass->unlock_stop = srcUnlockStop;
    baseSrcClass->get_caps = srcGetCaps;
    baseSrcClass->negotiate = srcNegotiate;
    baseSrcClass->query = srcQuery;
    pushSrcClass->create = srcCreate;
}

static void gst_shm_frame_src_init(GstShmFrameSrc* self) {
    self->state = new SrcState();
    gst_base_src_set_live(GST_BASE_SRC(self), TRUE);
    gst_base_src_set_format(GST_BASE_SRC(self), GST_FORMAT_TIME);
}
