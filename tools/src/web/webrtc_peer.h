// SPDX-License-Identifier: LGPL-2.1-or-later
// One browser watching one feed: a pipeline of its own, appsrc ! webrtcbin, fed with
// the RTP packets of the feed's shared encoder (feed_broadcaster.h); the offer it
// makes, the ICE candidates it finds and the answer and candidates the browser sends
// back. Lives on the main thread; webrtcbin's own threads reach it only through
// postToMainThread().
//
// A pipeline of its own, not a branch on the encoder's: what a viewer's elements do
// (hold packets until the browser answers, change state while they join or leave,
// fail, fall behind) never reaches the encoder or the other viewers. Its appsrc takes
// packets without blocking and drops its oldest when full.
#pragma once

#include <gst/app/gstappsrc.h>
#include <gst/gst.h>

#include <functional>
#include <memory>
#include <string>

#include "shmframe/error.h"

namespace shmframe::cli::web {

struct PeerOptions {
    /// The address our ICE candidates may use (the server's listen address); empty or
    /// a wildcard address: every interface libnice finds.
    std::string iceAddress;
    /// stun://HOST:PORT, or empty for host candidates only.
    std::string stunServer;
};

/// What a peer tells its signalling session, always on the main thread.
struct PeerCallbacks {
    std::function<void(const std::string& sdp)> offer;
    std::function<void(unsigned mlineIndex, const std::string& candidate)> candidate;
    std::function<void()> connected;
    std::function<void(const std::string& why)> failed;
};

/// Where a peer's RTP packets come from (a feed's FeedBroadcaster).
class RtpPacketSource {
  public:
    virtual ~RtpPacketSource() = default;
    /// \a input gets every packet from now on, pushed without blocking.
    virtual void addOutlet(GstAppSrc* input) = 0;
    /// \a input gets no packet once this returns.
    virtual void removeOutlet(GstAppSrc* input) = 0;
    /// Asks for a key frame soon (a browser joined or lost packets); any thread.
    virtual void requestKeyFrame() = 0;
    /// The clock and base time the packets' timestamps count from: a peer's pipeline
    /// runs on them too, or its elements that wait for a packet's time (webrtcbin's
    /// pacing) would hold a viewer who joined late back by as long as it was late.
    virtual GstClock* clock() const = 0;
    virtual GstClockTime baseTime() const = 0;
};

class WebRtcPeer : public std::enable_shared_from_this<WebRtcPeer> {
  public:
    /// Starts a webrtcbin fed from \a source; it makes an offer (a send-only VP8
    /// stream) as soon as it is ready. The peer keeps \a source alive.
    static Result<std::shared_ptr<WebRtcPeer>> attach(std::shared_ptr<RtpPacketSource> source,
                                                      const PeerOptions& options,
                                                      PeerCallbacks callbacks);
    /// Leaves the source (the other viewers play on) and stops this peer's pipeline.
    ~WebRtcPeer();
    WebRtcPeer(const WebRtcPeer&) = delete;
    WebRtcPeer& operator=(const WebRtcPeer&) = delete;

    /// The browser's answer (SDP text).
    Result<void> setAnswer(const std::string& sdp);
    /// A candidate line the browser found ("candidate:..."); an empty one ends them.
    void addRemoteCandidate(unsigned mlineIndex, const std::string& candidate);

  private:
    explicit WebRtcPeer(PeerCallbacks callbacks);
    void connectSignals();
    void forwardKeyFrameRequests();
    void restrictIceTo(const PeerOptions& options);
    static gboolean onBusMessage(GstBus* bus, GstMessage* message, gpointer self);

    std::shared_ptr<RtpPacketSource> source_;
    GstElement* pipeline_ = nullptr;
    GstElement* input_ = nullptr;  // appsrc
    GstElement* webrtc_ = nullptr;
    guint busWatch_ = 0;
    bool outletAdded_ = false;
    PeerCallbacks callbacks_;
    // Handed to webrtcbin's signal handlers, which run on its threads.
    std::shared_ptr<std::weak_ptr<WebRtcPeer>> self_;
};

}  // namespace shmframe::cli::web
