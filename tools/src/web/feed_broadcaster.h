// SPDX-License-Identifier: LGPL-2.1-or-later
// One feed's WebRTC encoder, shared by every browser watching it:
//   shmframesrc ! videoconvert ! vp8enc ! rtpvp8pay ! appsink
// whose packets go to each viewer's own pipeline (appsrc ! webrtcbin, webrtc_peer.h),
// pushed without blocking: no viewer, joining, leaving, waiting for its browser's
// answer or failing, can hold up the encoder or the other viewers. (A tee with a
// branch per viewer could: a tee stops at the first branch that returns a flow error,
// such as a branch linked before its elements are started.)
// Started for the first viewer and dropped by its owner after the last one leaves.
// shmframesrc follows writer restarts and format changes; VP8 carries the new size
// in band, so the browsers keep playing without a new offer.
//
// It also pairs each frame's RTP timestamp with the frame's publish time (from
// shmframesrc's reference timestamp meta) so the page can show publish-to-display
// latency.
#pragma once

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "webrtc_peer.h"

namespace shmframe::cli::web {

/// A frame as the page sees it: its RTP timestamp and when it was published.
struct FrameTiming {
    std::uint32_t rtpTimestamp = 0;
    /// The publish time on this host's wall clock (CLOCK_REALTIME ns), so a browser
    /// can compare it with its own clock after estimating the offset between the two.
    std::uint64_t publishRealtimeNs = 0;
};

class FeedBroadcaster : public RtpPacketSource,
                        public std::enable_shared_from_this<FeedBroadcaster> {
  public:
    struct Options {
        std::string feed;
        /// kbit/s; 0: 0.1 bit per pixel and frame, from the feed's format.
        std::uint32_t bitrateKbps = 0;
        PeerOptions peer;
    };

    /// Builds and starts the encoder pipeline (it waits for the feed's writer).
    static Result<std::shared_ptr<FeedBroadcaster>> start(const Options& options);
    ~FeedBroadcaster();
    FeedBroadcaster(const FeedBroadcaster&) = delete;
    FeedBroadcaster& operator=(const FeedBroadcaster&) = delete;

    /// A new viewer; its offer and candidates come through \a callbacks.
    Result<std::shared_ptr<WebRtcPeer>> addViewer(PeerCallbacks callbacks);
    /// Asks the encoder for a key frame (a viewer just connected or lost packets).
    void requestKeyFrame() override;
    void addOutlet(GstAppSrc* input) override;
    void removeOutlet(GstAppSrc* input) override;
    GstClock* clock() const override { return clock_; }
    GstClockTime baseTime() const override { return baseTime_; }

    /// Frames encoded since start.
    std::uint64_t framesEncoded() const;
    /// Frame timings, in batches, on the main thread.
    void setOnFrames(std::function<void(const std::vector<FrameTiming>&)> onFrames) {
        onFrames_ = std::move(onFrames);
    }
    /// A pipeline error (the message names the element and the cause), on the main thread.
    void setOnError(std::function<void(const std::string&)> onError) {
        onError_ = std::move(onError);
    }
    const std::string& feed() const { return options_.feed; }

  private:
    explicit FeedBroadcaster(Options options);
    void installProbes();
    void restartSource();
    void noteRawFrame(GstBuffer* buffer);
    void notePacket(GstBuffer* buffer);
    void flushTimings();
    void sendToViewers(GstSample* sample);
    void adaptBitrate(GstCaps* caps);
    static gboolean onBusMessage(GstBus* bus, GstMessage* message, gpointer self);

    Options options_;
    GstElement* pipeline_ = nullptr;
    GstElement* source_ = nullptr;
    GstElement* encoder_ = nullptr;
    GstElement* output_ = nullptr;  // appsink
    // Chosen before the pipeline starts and kept: the viewers' pipelines share them.
    GstClock* clock_ = nullptr;
    GstClockTime baseTime_ = 0;
    guint busWatch_ = 0;

    // The viewers' appsrcs (each holds a reference); the streaming thread pushes to
    // them, the main thread adds and removes them.
    std::mutex outletMutex_;
    std::vector<GstAppSrc*> outlets_;

    mutable std::mutex timingMutex_;
    // Guarded by timingMutex_: raw frames waiting for their first RTP packet (PTS ->
    // publish time), the pairs not yet handed to the page, and the frame counter.
    std::deque<std::pair<GstClockTime, std::uint64_t>> rawFrames_;
    std::vector<FrameTiming> timings_;
    bool flushPending_ = false;
    bool haveLastRtpTimestamp_ = false;
    std::uint32_t lastRtpTimestamp_ = 0;
    std::uint64_t framesEncoded_ = 0;

    std::function<void(const std::vector<FrameTiming>&)> onFrames_;
    std::function<void(const std::string&)> onError_;
};

/// 0.1 bit per pixel and frame, 256 to 20000 kbit/s.
std::uint32_t vp8BitrateKbps(int width, int height, double fps);

}  // namespace shmframe::cli::web
