// SPDX-License-Identifier: LGPL-2.1-or-later
// One browser watching one feed: a leaky queue and a webrtcbin hung on the feed's
// tee (see feed_broadcaster.h), the offer it makes, the ICE candidates it finds and
// the answer and candidates the browser sends back. Lives on the main thread;
// webrtcbin's own threads reach it only through postToMainThread().
#pragma once

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

class WebRtcPeer : public std::enable_shared_from_this<WebRtcPeer> {
  public:
    /// Adds a webrtcbin fed from \a tee to \a pipeline (which may be playing); it makes
    /// an offer (a send-only VP8 stream) as soon as it is ready.
    static Result<std::shared_ptr<WebRtcPeer>> attach(GstBin* pipeline, GstElement* tee,
                                                      const PeerOptions& options,
                                                      PeerCallbacks callbacks);
    /// Unhooks the branch from the tee and stops it; the other viewers play on.
    ~WebRtcPeer();
    WebRtcPeer(const WebRtcPeer&) = delete;
    WebRtcPeer& operator=(const WebRtcPeer&) = delete;

    /// The browser's answer (SDP text).
    Result<void> setAnswer(const std::string& sdp);
    /// A candidate line the browser found ("candidate:..."); an empty one ends them.
    void addRemoteCandidate(unsigned mlineIndex, const std::string& candidate);

  private:
    WebRtcPeer(GstBin* pipeline, GstElement* tee, PeerCallbacks callbacks);
    void connectSignals();
    void restrictIceTo(const PeerOptions& options);

    GstBin* pipeline_;  // not owned
    GstElement* tee_;   // not owned
    GstPad* teePad_ = nullptr;
    GstElement* queue_ = nullptr;
    GstElement* webrtc_ = nullptr;
    PeerCallbacks callbacks_;
    // Handed to webrtcbin's signal handlers, which run on its threads.
    std::shared_ptr<std::weak_ptr<WebRtcPeer>> self_;
};

}  // namespace shmframe::cli::web
