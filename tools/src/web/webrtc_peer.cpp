// SPDX-License-Identifier: LGPL-2.1-or-later
#include "webrtc_peer.h"

#define GST_USE_UNSTABLE_API
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <nice/agent.h>

#include <iostream>

#include "main_thread.h"

namespace shmframe::cli::web {
namespace {

using WeakPeer = std::weak_ptr<WebRtcPeer>;

// What the encoder's payloader sends (feed_broadcaster.cpp).
constexpr const char* kRtpCaps =
    "application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000";

void deleteWeakPeer(gpointer data, GClosure*) {
    delete static_cast<WeakPeer*>(data);
}

bool isWildcard(const std::string& address) {
    return address.empty() || address == "0.0.0.0" || address == "::";
}

}  // namespace

WebRtcPeer::WebRtcPeer(GstBin* pipeline, GstElement* tee, PeerCallbacks callbacks)
    : pipeline_(pipeline), tee_(tee), callbacks_(std::move(callbacks)) {}

Result<std::shared_ptr<WebRtcPeer>> WebRtcPeer::attach(GstBin* pipeline, GstElement* tee,
                                                       const PeerOptions& options,
                                                       PeerCallbacks callbacks) {
    std::shared_ptr<WebRtcPeer> peer(new WebRtcPeer(pipeline, tee, std::move(callbacks)));
    peer->self_ = std::make_shared<WeakPeer>(peer);

    peer->queue_ = gst_element_factory_make("queue", nullptr);
    peer->webrtc_ = gst_element_factory_make("webrtcbin", nullptr);
    if (!peer->queue_ || !peer->webrtc_) {
        if (peer->queue_) {
            gst_object_unref(gst_object_ref_sink(peer->queue_));
        }
        peer->queue_ = nullptr;
        peer->webrtc_ = nullptr;
        return Error::make(Errc::Unsupported,
                           "GStreamer element webrtcbin is missing: install "
                           "gstreamer1.0-plugins-bad and gstreamer1.0-nice");
    }
    // A viewer that falls behind loses its oldest packets, never blocks the tee.
    g_object_set(peer->queue_, "leaky", 2, "max-size-buffers", 0u, "max-size-bytes", 8u << 20,
                 "max-size-time", static_cast<guint64>(500 * GST_MSECOND), nullptr);
    gst_util_set_object_arg(G_OBJECT(peer->webrtc_), "bundle-policy", "max-bundle");
    if (!options.stunServer.empty()) {
        g_object_set(peer->webrtc_, "stun-server", options.stunServer.c_str(), nullptr);
    }
    peer->restrictIceTo(options);
    gst_bin_add_many(pipeline, GST_ELEMENT(gst_object_ref(peer->queue_)),
                     GST_ELEMENT(gst_object_ref(peer->webrtc_)), nullptr);
    peer->connectSignals();

    GstPad* sink = gst_element_request_pad_simple(peer->webrtc_, "sink_%u");
    GstWebRTCRTPTransceiver* transceiver = nullptr;
    g_object_get(sink, "transceiver", &transceiver, nullptr);
    if (transceiver) {
        GstCaps* caps = gst_caps_from_string(kRtpCaps);
        g_object_set(transceiver, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY,
                     "codec-preferences", caps, nullptr);
        gst_caps_unref(caps);
        gst_object_unref(transceiver);
    }
    GstPad* queueSrc = gst_element_get_static_pad(peer->queue_, "src");
    const bool linked = gst_pad_link(queueSrc, sink) == GST_PAD_LINK_OK;
    gst_object_unref(queueSrc);
    gst_object_unref(sink);

    peer->teePad_ = gst_element_request_pad_simple(tee, "src_%u");
    GstPad* queueSink = gst_element_get_static_pad(peer->queue_, "sink");
    const bool teeLinked = gst_pad_link(peer->teePad_, queueSink) == GST_PAD_LINK_OK;
    gst_object_unref(queueSink);
    if (!linked || !teeLinked) {
        return Error::make(Errc::Unsupported, "could not link a viewer to the feed's encoder");
    }
    gst_element_sync_state_with_parent(peer->webrtc_);
    gst_element_sync_state_with_parent(peer->queue_);
    return peer;
}

WebRtcPeer::~WebRtcPeer() {
    // The signal handlers hold only weak references: from here on they do nothing.
    if (teePad_) {
        GstPad* peerPad = gst_pad_get_peer(teePad_);
        if (peerPad) {
            gst_pad_unlink(teePad_, peerPad);
            gst_object_unref(peerPad);
        }
        gst_element_release_request_pad(tee_, teePad_);
        gst_object_unref(teePad_);
    }
    for (GstElement* element : {webrtc_, queue_}) {
        if (!element) {
            continue;
        }
        gst_element_set_locked_state(element, TRUE);
        gst_element_set_state(element, GST_STATE_NULL);
        gst_bin_remove(pipeline_, element);
        gst_object_unref(element);
    }
}

void WebRtcPeer::restrictIceTo(const PeerOptions& options) {
    if (isWildcard(options.iceAddress)) {
        return;
    }
    // libnice leaves loopback out when it lists the interfaces itself; given an
    // address, it gathers on that one only (loopback included).
    GstWebRTCICE* ice = nullptr;
    g_object_get(webrtc_, "ice-agent", &ice, nullptr);
    if (!ice) {
        return;
    }
    if (g_object_class_find_property(G_OBJECT_GET_CLASS(ice), "agent")) {
        NiceAgent* agent = nullptr;
        g_object_get(ice, "agent", &agent, nullptr);
        NiceAddress address;
        nice_address_init(&address);
        if (agent && nice_address_set_from_string(&address, options.iceAddress.c_str())) {
            nice_agent_add_local_address(agent, &address);
        }
        if (agent) {
            g_object_unref(agent);
        }
    } else {
        std::cerr << "shmframe web: warning: this webrtcbin's ICE agent cannot be limited to "
                  << options.iceAddress << "\n";
    }
    gst_object_unref(ice);
}

// The handlers run on webrtcbin's threads: they never hold the peer, only post to
// the main thread, where the peer lives and dies.
void WebRtcPeer::connectSignals() {
    auto weak = [this] { return new WeakPeer(*self_); };
    g_signal_connect_data(
        webrtc_, "on-negotiation-needed", G_CALLBACK(+[](GstElement* webrtc, gpointer data) {
            auto* promise = gst_promise_new_with_change_func(
                [](GstPromise* done, gpointer weakPeer) {
                    GstWebRTCSessionDescription* offer = nullptr;
                    if (gst_promise_wait(done) == GST_PROMISE_RESULT_REPLIED) {
                        gst_structure_get(gst_promise_get_reply(done), "offer",
                                          GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, nullptr);
                    }
                    gst_promise_unref(done);
                    if (!offer) {
                        return;
                    }
                    std::shared_ptr<GstWebRTCSessionDescription> owned(
                        offer, gst_webrtc_session_description_free);
                    const WeakPeer& peer = *static_cast<WeakPeer*>(weakPeer);
                    postToMainThread(peer, [peer, owned] {
                        auto self = peer.lock();
                        g_signal_emit_by_name(self->webrtc_, "set-local-description", owned.get(),
                                              nullptr);
                        gchar* text = gst_sdp_message_as_text(owned->sdp);
                        const std::string sdp = text;
                        g_free(text);
                        if (self->callbacks_.offer) {
                            self->callbacks_.offer(sdp);
                        }
                    });
                },
                new WeakPeer(*static_cast<WeakPeer*>(data)),
                [](gpointer weakPeer) { delete static_cast<WeakPeer*>(weakPeer); });
            g_signal_emit_by_name(webrtc, "create-offer", nullptr, promise);
        }),
        weak(), deleteWeakPeer, GConnectFlags(0));
    g_signal_connect_data(
        webrtc_, "on-ice-candidate",
        G_CALLBACK(+[](GstElement*, guint mline, gchar* candidate, gpointer data) {
            const WeakPeer& peer = *static_cast<WeakPeer*>(data);
            postToMainThread(peer, [peer, mline, text = std::string(candidate)] {
                auto self = peer.lock();
                if (self->callbacks_.candidate) {
                    self->callbacks_.candidate(mline, text);
                }
            });
        }),
        weak(), deleteWeakPeer, GConnectFlags(0));
    g_signal_connect_data(
        webrtc_, "notify::ice-connection-state",
        G_CALLBACK(+[](GstElement* webrtc, GParamSpec*, gpointer data) {
            GstWebRTCICEConnectionState state = GST_WEBRTC_ICE_CONNECTION_STATE_NEW;
            g_object_get(webrtc, "ice-connection-state", &state, nullptr);
            if (state != GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED &&
                state != GST_WEBRTC_ICE_CONNECTION_STATE_FAILED) {
                return;
            }
            const WeakPeer& peer = *static_cast<WeakPeer*>(data);
            postToMainThread(peer, [peer, state] {
                auto self = peer.lock();
                if (state == GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED) {
                    if (self->callbacks_.connected) {
                        self->callbacks_.connected();
                    }
                } else if (self->callbacks_.failed) {
                    self->callbacks_.failed("ICE failed: no network path to the browser");
                }
            });
        }),
        weak(), deleteWeakPeer, GConnectFlags(0));
}

Result<void> WebRtcPeer::setAnswer(const std::string& sdp) {
    GstSDPMessage* message = nullptr;
    if (gst_sdp_message_new_from_text(sdp.c_str(), &message) != GST_SDP_OK || !message) {
        return Error::make(Errc::BadMessage, "the answer is not SDP");
    }
    GstWebRTCSessionDescription* answer =
        gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_ANSWER, message);
    g_signal_emit_by_name(webrtc_, "set-remote-description", answer, nullptr);
    gst_webrtc_session_description_free(answer);
    return {};
}

void WebRtcPeer::addRemoteCandidate(unsigned mlineIndex, const std::string& candidate) {
    g_signal_emit_by_name(webrtc_, "add-ice-candidate", mlineIndex,
                          candidate.empty() ? nullptr : candidate.c_str());
}

}  // namespace shmframe::cli::web
