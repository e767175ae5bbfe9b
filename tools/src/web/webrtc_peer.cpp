// SPDX-License-Identifier: LGPL-2.1-or-later
#include "webrtc_peer.h"

#define GST_USE_UNSTABLE_API
#include <gst/sdp/sdp.h>
#include <gst/video/video.h>
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
// Packets a viewer may have waiting before its oldest are dropped.
constexpr guint64 kMaxQueuedBytes = 8u << 20;
constexpr GstClockTime kMaxQueuedTime = 500 * GST_MSECOND;

void deleteWeakPeer(gpointer data, GClosure*) {
    delete static_cast<WeakPeer*>(data);
}

bool isWildcard(const std::string& address) {
    return address.empty() || address == "0.0.0.0" || address == "::";
}

}  // namespace

WebRtcPeer::WebRtcPeer(PeerCallbacks callbacks) : callbacks_(std::move(callbacks)) {}

Result<std::shared_ptr<WebRtcPeer>> WebRtcPeer::attach(std::shared_ptr<RtpPacketSource> source,
                                                       const PeerOptions& options,
                                                       PeerCallbacks callbacks) {
    std::shared_ptr<WebRtcPeer> peer(new WebRtcPeer(std::move(callbacks)));
    peer->self_ = std::make_shared<WeakPeer>(peer);

    GstElement* input = gst_element_factory_make("appsrc", nullptr);
    GstElement* webrtc = gst_element_factory_make("webrtcbin", nullptr);
    if (!input || !webrtc) {
        for (GstElement* element : {input, webrtc}) {
            if (element) {
                gst_object_unref(gst_object_ref_sink(element));
            }
        }
        return Error::make(Errc::Unsupported,
                           "GStreamer element webrtcbin is missing: install "
                           "gstreamer1.0-plugins-bad and gstreamer1.0-nice");
    }
    peer->pipeline_ = GST_ELEMENT(gst_object_ref_sink(gst_pipeline_new(nullptr)));
    peer->input_ = GST_ELEMENT(gst_object_ref(input));
    peer->webrtc_ = GST_ELEMENT(gst_object_ref(webrtc));
    gst_bin_add_many(GST_BIN(peer->pipeline_), input, webrtc, nullptr);

    // Packets come as the encoder makes them (a live stream with its own timestamps);
    // a viewer that falls behind loses its oldest packets and never blocks the encoder.
    GstAppSrc* appsrc = GST_APP_SRC(input);
    g_object_set(input, "format", GST_FORMAT_TIME, "is-live", TRUE, "do-timestamp", FALSE, "block",
                 FALSE, "handle-segment-change", TRUE, nullptr);
    gst_app_src_set_max_buffers(appsrc, 0);
    gst_app_src_set_max_bytes(appsrc, kMaxQueuedBytes);
    gst_app_src_set_max_time(appsrc, kMaxQueuedTime);
    gst_app_src_set_leaky_type(appsrc, GST_APP_LEAKY_TYPE_DOWNSTREAM);

    gst_util_set_object_arg(G_OBJECT(webrtc), "bundle-policy", "max-bundle");
    if (!options.stunServer.empty()) {
        g_object_set(webrtc, "stun-server", options.stunServer.c_str(), nullptr);
    }
    peer->restrictIceTo(options);
    peer->connectSignals();

    GstPad* sink = gst_element_request_pad_simple(webrtc, "sink_%u");
    if (!sink) {
        return Error::make(Errc::Unsupported, "webrtcbin gave no sink pad for the video");
    }
    GstWebRTCRTPTransceiver* transceiver = nullptr;
    g_object_get(sink, "transceiver", &transceiver, nullptr);
    if (transceiver) {
        GstCaps* caps = gst_caps_from_string(kRtpCaps);
        g_object_set(transceiver, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY,
                     "codec-preferences", caps, nullptr);
        gst_caps_unref(caps);
        gst_object_unref(transceiver);
    }
    GstPad* inputSrc = gst_element_get_static_pad(input, "src");
    const bool linked = gst_pad_link(inputSrc, sink) == GST_PAD_LINK_OK;
    gst_object_unref(inputSrc);
    gst_object_unref(sink);
    if (!linked) {
        return Error::make(Errc::Unsupported, "could not link a viewer's WebRTC stream");
    }
    peer->forwardKeyFrameRequests();

    // The encoder's clock and base time: its packets' timestamps mean the same here.
    gst_pipeline_use_clock(GST_PIPELINE(peer->pipeline_), source->clock());
    gst_element_set_start_time(peer->pipeline_, GST_CLOCK_TIME_NONE);
    gst_element_set_base_time(peer->pipeline_, source->baseTime());
    peer->source_ = std::move(source);
    GstBus* bus = gst_element_get_bus(peer->pipeline_);
    peer->busWatch_ = gst_bus_add_watch(bus, onBusMessage, peer->self_.get());
    gst_object_unref(bus);
    if (gst_element_set_state(peer->pipeline_, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        return Error::make(Errc::Unsupported, "a viewer's WebRTC stream did not start");
    }
    // Only now: the encoder's packets reach a started appsrc.
    peer->source_->addOutlet(appsrc);
    peer->outletAdded_ = true;
    return peer;
}

WebRtcPeer::~WebRtcPeer() {
    // The signal handlers hold only weak references: from here on they do nothing.
    if (outletAdded_) {
        source_->removeOutlet(GST_APP_SRC(input_));
    }
    if (busWatch_) {
        g_source_remove(busWatch_);
    }
    if (pipeline_) {
        gst_element_set_state(pipeline_, GST_STATE_NULL);
    }
    for (GstElement* element : {input_, webrtc_, pipeline_}) {
        if (element) {
            gst_object_unref(element);
        }
    }
}

// A browser that lost packets asks for a key frame (RTCP PLI/FIR); webrtcbin sends it
// upstream as a force-key-unit event, which ends at our appsrc: hand it to the encoder.
void WebRtcPeer::forwardKeyFrameRequests() {
    GstPad* inputSrc = gst_element_get_static_pad(input_, "src");
    gst_pad_add_probe(
        inputSrc, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
        [](GstPad*, GstPadProbeInfo* info, gpointer self) {
            GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
            auto* peer = static_cast<WebRtcPeer*>(self);
            // source_ is set before the pipeline starts and kept until it has stopped.
            if (event && gst_video_event_is_force_key_unit(event) && peer->source_) {
                peer->source_->requestKeyFrame();
            }
            return GST_PAD_PROBE_OK;
        },
        this, nullptr);
    gst_object_unref(inputSrc);
}

// Main thread. An error in this viewer's pipeline ends this viewer only.
gboolean WebRtcPeer::onBusMessage(GstBus*, GstMessage* message, gpointer data) {
    if (GST_MESSAGE_TYPE(message) != GST_MESSAGE_ERROR) {
        return G_SOURCE_CONTINUE;
    }
    GError* error = nullptr;
    gst_message_parse_error(message, &error, nullptr);
    std::string why = std::string("the WebRTC stream failed: ") +
                      GST_OBJECT_NAME(GST_MESSAGE_SRC(message)) + ": " +
                      (error ? error->message : "unknown error");
    g_clear_error(&error);
    // Later: the handler may drop this peer, and with it this bus watch.
    const WeakPeer& peer = *static_cast<WeakPeer*>(data);
    postToMainThread(peer, [peer, why] {
        auto self = peer.lock();
        if (self->callbacks_.failed) {
            self->callbacks_.failed(why);
        }
    });
    return G_SOURCE_CONTINUE;
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
