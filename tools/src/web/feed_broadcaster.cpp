// SPDX-License-Identifier: LGPL-2.1-or-later
#include "feed_broadcaster.h"

#include <gst/rtp/gstrtpbuffer.h>
#include <gst/video/video.h>

#include <algorithm>
#include <cmath>

#include "main_thread.h"
#include "shmframe/clock.h"
#include "shmframe/feed.h"

namespace shmframe::cli::web {
namespace {

// shmframesrc's reference timestamp meta that carries FrameMeta::publishTimeNs.
constexpr const char* kPublishTimeCaps = "timestamp/x-shmframe-publish-monotonic";
// Raw frames remembered while they wait for their RTP packets.
constexpr std::size_t kMaxPendingFrames = 64;

std::uint64_t realtimeMinusMonotonicNs() {
    return static_cast<std::uint64_t>(g_get_real_time()) * 1000u - monotonicNs();
}

}  // namespace

std::uint32_t vp8BitrateKbps(int width, int height, double fps) {
    if (width <= 0 || height <= 0 || !(fps > 0) || !std::isfinite(fps)) {
        fps = 30;
    }
    const double kbps = 0.1 * width * height * std::min(fps, 120.0) / 1000.0;
    return static_cast<std::uint32_t>(std::clamp(kbps, 256.0, 20000.0));
}

FeedBroadcaster::FeedBroadcaster(Options options) : options_(std::move(options)) {}

Result<std::shared_ptr<FeedBroadcaster>> FeedBroadcaster::start(const Options& options) {
    if (auto valid = validateFeedName(options.feed); !valid) {
        return std::move(valid).error();
    }
    // The name is [A-Za-z0-9._-] only (checked above): safe in a launch line.
    const std::string launch =
        "shmframesrc name=src feed=" + options.feed +
        " ! videoconvert ! video/x-raw,format=I420"
        " ! vp8enc name=enc deadline=1 cpu-used=8 end-usage=cbr lag-in-frames=0"
        " keyframe-max-dist=60 error-resilient=default threads=2"
        " ! rtpvp8pay name=pay pt=96 mtu=1200 picture-id-mode=15-bit"
        " ! appsink name=out sync=false async=false enable-last-sample=false";
    GError* error = nullptr;
    GstElement* pipeline = gst_parse_launch(launch.c_str(), &error);
    if (!pipeline) {
        std::string message = error ? error->message : "unknown error";
        g_clear_error(&error);
        return Error::make(Errc::Unsupported,
                           "could not build the VP8 encoder (install gstreamer1.0-plugins-good "
                           "for vp8enc/rtpvp8pay): " +
                               message);
    }
    g_clear_error(&error);
    std::shared_ptr<FeedBroadcaster> broadcaster(new FeedBroadcaster(options));
    broadcaster->pipeline_ = pipeline;
    broadcaster->source_ = gst_bin_get_by_name(GST_BIN(pipeline), "src");
    broadcaster->encoder_ = gst_bin_get_by_name(GST_BIN(pipeline), "enc");
    broadcaster->output_ = gst_bin_get_by_name(GST_BIN(pipeline), "out");
    if (options.bitrateKbps > 0) {
        g_object_set(broadcaster->encoder_, "target-bitrate",
                     static_cast<gint>(options.bitrateKbps * 1000), nullptr);
    }
    // A fixed clock and base time, known before any viewer comes (see RtpPacketSource).
    broadcaster->clock_ = gst_system_clock_obtain();
    broadcaster->baseTime_ = gst_clock_get_time(broadcaster->clock_);
    gst_pipeline_use_clock(GST_PIPELINE(pipeline), broadcaster->clock_);
    gst_element_set_start_time(pipeline, GST_CLOCK_TIME_NONE);
    gst_element_set_base_time(pipeline, broadcaster->baseTime_);
    broadcaster->installProbes();
    GstAppSinkCallbacks callbacks{};
    callbacks.new_sample = [](GstAppSink* sink, gpointer self) {
        if (GstSample* sample = gst_app_sink_pull_sample(sink)) {
            static_cast<FeedBroadcaster*>(self)->sendToViewers(sample);
            gst_sample_unref(sample);
        }
        return GST_FLOW_OK;
    };
    gst_app_sink_set_callbacks(GST_APP_SINK(broadcaster->output_), &callbacks, broadcaster.get(),
                               nullptr);
    GstBus* bus = gst_element_get_bus(pipeline);
    broadcaster->busWatch_ = gst_bus_add_watch(bus, onBusMessage, broadcaster.get());
    gst_object_unref(bus);
    if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        return Error::make(Errc::Unsupported,
                           "the encoder pipeline for '" + options.feed + "' did not start");
    }
    return broadcaster;
}

FeedBroadcaster::~FeedBroadcaster() {
    if (busWatch_) {
        g_source_remove(busWatch_);
    }
    if (pipeline_) {
        gst_element_set_state(pipeline_, GST_STATE_NULL);
    }
    for (GstElement* element : {source_, encoder_, output_, pipeline_}) {
        if (element) {
            gst_object_unref(element);
        }
    }
    for (GstAppSrc* input : outlets_) {
        gst_object_unref(input);  // none left: each viewer holds its broadcaster
    }
    if (clock_) {
        gst_object_unref(clock_);
    }
}

Result<std::shared_ptr<WebRtcPeer>> FeedBroadcaster::addViewer(PeerCallbacks callbacks) {
    return WebRtcPeer::attach(shared_from_this(), options_.peer, std::move(callbacks));
}

void FeedBroadcaster::addOutlet(GstAppSrc* input) {
    std::lock_guard lock(outletMutex_);
    outlets_.push_back(GST_APP_SRC(gst_object_ref(input)));
}

void FeedBroadcaster::removeOutlet(GstAppSrc* input) {
    std::lock_guard lock(outletMutex_);
    auto it = std::find(outlets_.begin(), outlets_.end(), input);
    if (it != outlets_.end()) {
        gst_object_unref(*it);
        outlets_.erase(it);
    }
}

// Streaming thread. An appsrc takes the packet without blocking (a full one drops its
// oldest); what it answers (flushing while its viewer stops) concerns that viewer only.
void FeedBroadcaster::sendToViewers(GstSample* sample) {
    std::lock_guard lock(outletMutex_);
    for (GstAppSrc* input : outlets_) {
        gst_app_src_push_sample(input, sample);
    }
}

void FeedBroadcaster::restartSource() {
    // Its task stopped at end of stream: through READY, it waits for the next writer.
    gst_element_set_state(source_, GST_STATE_READY);
    gst_element_sync_state_with_parent(source_);
}

void FeedBroadcaster::requestKeyFrame() {
    GstPad* pad = gst_element_get_static_pad(encoder_, "src");
    gst_pad_send_event(pad,
                       gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
    gst_object_unref(pad);
}

std::uint64_t FeedBroadcaster::framesEncoded() const {
    std::lock_guard lock(timingMutex_);
    return framesEncoded_;
}

void FeedBroadcaster::installProbes() {
    // A writer that exits sends end of stream; the viewers stay for the next writer.
    GstPad* sourcePad = gst_element_get_static_pad(source_, "src");
    gst_pad_add_probe(
        sourcePad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
        [](GstPad*, GstPadProbeInfo* info, gpointer self) {
            if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) != GST_EVENT_EOS) {
                return GST_PAD_PROBE_OK;
            }
            auto* broadcaster = static_cast<FeedBroadcaster*>(self);
            postToMainThread(broadcaster->weak_from_this(),
                             [broadcaster] { broadcaster->restartSource(); });
            return GST_PAD_PROBE_DROP;
        },
        this, nullptr);
    gst_object_unref(sourcePad);

    GstPad* encoderSink = gst_element_get_static_pad(encoder_, "sink");
    gst_pad_add_probe(
        encoderSink,
        static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER |
                                     GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
        [](GstPad*, GstPadProbeInfo* info, gpointer self) {
            auto* broadcaster = static_cast<FeedBroadcaster*>(self);
            if (GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
                (info->type & GST_PAD_PROBE_TYPE_BUFFER) && buffer) {
                broadcaster->noteRawFrame(buffer);
            } else if (GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
                       event && GST_EVENT_TYPE(event) == GST_EVENT_CAPS) {
                GstCaps* caps = nullptr;
                gst_event_parse_caps(event, &caps);
                broadcaster->adaptBitrate(caps);
            }
            return GST_PAD_PROBE_OK;
        },
        this, nullptr);
    gst_object_unref(encoderSink);

    GstElement* payloader = gst_bin_get_by_name(GST_BIN(pipeline_), "pay");
    GstPad* payloaderSrc = gst_element_get_static_pad(payloader, "src");
    gst_pad_add_probe(
        payloaderSrc,
        static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
        [](GstPad*, GstPadProbeInfo* info, gpointer self) {
            auto* broadcaster = static_cast<FeedBroadcaster*>(self);
            if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
                GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
                for (guint i = 0; i < gst_buffer_list_length(list); ++i) {
                    broadcaster->notePacket(gst_buffer_list_get(list, i));
                }
            } else if (GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info)) {
                broadcaster->notePacket(buffer);
            }
            return GST_PAD_PROBE_OK;
        },
        this, nullptr);
    gst_object_unref(payloaderSrc);
    gst_object_unref(payloader);
}

void FeedBroadcaster::adaptBitrate(GstCaps* caps) {
    if (options_.bitrateKbps > 0 || !caps) {
        return;
    }
    GstVideoInfo info;
    if (!gst_video_info_from_caps(&info, caps)) {
        return;
    }
    const double fps = info.fps_d > 0 ? static_cast<double>(info.fps_n) / info.fps_d : 30.0;
    g_object_set(encoder_, "target-bitrate",
                 static_cast<gint>(vp8BitrateKbps(info.width, info.height, fps) * 1000), nullptr);
}

// Streaming thread, before the encoder.
void FeedBroadcaster::noteRawFrame(GstBuffer* buffer) {
    static GstCaps* publishCaps = gst_caps_from_string(kPublishTimeCaps);
    GstReferenceTimestampMeta* meta = gst_buffer_get_reference_timestamp_meta(buffer, publishCaps);
    std::lock_guard lock(timingMutex_);
    ++framesEncoded_;
    if (!meta || !GST_BUFFER_PTS_IS_VALID(buffer)) {
        return;
    }
    rawFrames_.emplace_back(GST_BUFFER_PTS(buffer), meta->timestamp);
    while (rawFrames_.size() > kMaxPendingFrames) {
        rawFrames_.pop_front();
    }
}

// Streaming thread, after the payloader: the first packet of each frame.
void FeedBroadcaster::notePacket(GstBuffer* buffer) {
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    if (!gst_rtp_buffer_map(buffer, GST_MAP_READ, &rtp)) {
        return;
    }
    const std::uint32_t rtpTimestamp = gst_rtp_buffer_get_timestamp(&rtp);
    gst_rtp_buffer_unmap(&rtp);
    const GstClockTime pts = GST_BUFFER_PTS(buffer);
    bool post = false;
    {
        std::lock_guard lock(timingMutex_);
        if (haveLastRtpTimestamp_ && rtpTimestamp == lastRtpTimestamp_) {
            return;
        }
        haveLastRtpTimestamp_ = true;
        lastRtpTimestamp_ = rtpTimestamp;
        while (!rawFrames_.empty() && rawFrames_.front().first < pts) {
            rawFrames_.pop_front();  // frames the encoder dropped
        }
        if (rawFrames_.empty() || rawFrames_.front().first != pts) {
            return;
        }
        const std::uint64_t publishNs = rawFrames_.front().second;
        rawFrames_.pop_front();
        timings_.push_back(FrameTiming{rtpTimestamp, publishNs + realtimeMinusMonotonicNs()});
        post = !flushPending_;
        flushPending_ = true;
    }
    if (post) {
        postToMainThread(weak_from_this(), [this] { flushTimings(); });
    }
}

void FeedBroadcaster::flushTimings() {
    std::vector<FrameTiming> timings;
    {
        std::lock_guard lock(timingMutex_);
        timings.swap(timings_);
        flushPending_ = false;
    }
    if (!timings.empty() && onFrames_) {
        onFrames_(timings);
    }
}

gboolean FeedBroadcaster::onBusMessage(GstBus*, GstMessage* message, gpointer self) {
    auto* broadcaster = static_cast<FeedBroadcaster*>(self);
    if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
        GError* error = nullptr;
        gst_message_parse_error(message, &error, nullptr);
        std::string text = std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(message))) + ": " +
                           (error ? error->message : "unknown error");
        g_clear_error(&error);
        if (broadcaster->onError_) {
            // Later: the handler may drop this broadcaster.
            postToMainThread(broadcaster->weak_from_this(),
                             [broadcaster, text] { broadcaster->onError_(text); });
        }
    }
    return G_SOURCE_CONTINUE;
}

}  // namespace shmframe::cli::web
