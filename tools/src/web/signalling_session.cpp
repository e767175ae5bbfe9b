// SPDX-License-Identifier: LGPL-2.1-or-later
#include "signalling_session.h"

#include <iostream>

namespace shmframe::cli::web {
namespace {

// Frame timing messages a page may be behind before it gets no more of them, and
// before its socket is closed (at 30 fps: about 2 and 20 seconds).
constexpr std::uint64_t kFramesAhead = 60;
constexpr std::uint64_t kFramesAheadClose = 600;
// Incoming messages larger than this close the socket (an SDP answer is a few kB).
constexpr guint64 kMaxIncomingBytes = 64 * 1024;
// A page answers an offer at once; one that does not within this long loses the stream
// (else it would keep a viewer pipeline and a place among the feed's viewers).
constexpr guint kAnswerTimeoutSeconds = 20;

}  // namespace

SignallingSession::SignallingSession(SoupWebsocketConnection* connection, SessionHost& host)
    : connection_(SOUP_WEBSOCKET_CONNECTION(g_object_ref(connection))), host_(host) {}

SignallingSession::~SignallingSession() {
    cancelAnswerDeadline();
    g_signal_handlers_disconnect_by_data(connection_, this);
    if (soup_websocket_connection_get_state(connection_) == SOUP_WEBSOCKET_STATE_OPEN) {
        soup_websocket_connection_close(connection_, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, nullptr);
    }
    g_object_unref(connection_);
}

void SignallingSession::start() {
    soup_websocket_connection_set_max_incoming_payload_size(connection_, kMaxIncomingBytes);
    soup_websocket_connection_set_keepalive_interval(connection_, 15);
    g_signal_connect(
        connection_, "message",
        G_CALLBACK(+[](SoupWebsocketConnection*, gint type, GBytes* message, gpointer self) {
            if (type != SOUP_WEBSOCKET_DATA_TEXT) {
                return;
            }
            gsize size = 0;
            const auto* data = static_cast<const char*>(g_bytes_get_data(message, &size));
            static_cast<SignallingSession*>(self)->onMessage(std::string(data, size));
        }),
        this);
    g_signal_connect(connection_, "closed",
                     G_CALLBACK(+[](SoupWebsocketConnection*, gpointer self) {
                         static_cast<SignallingSession*>(self)->onClosed();
                     }),
                     this);
}

void SignallingSession::send(const nlohmann::json& message) {
    if (closed_ || soup_websocket_connection_get_state(connection_) != SOUP_WEBSOCKET_STATE_OPEN) {
        return;
    }
    const std::string text = message.dump();
    soup_websocket_connection_send_text(connection_, text.c_str());
}

void SignallingSession::sendError(const std::string& message) {
    send({{"type", "error"}, {"message", message}});
}

void SignallingSession::sendFrames(const std::vector<FrameTiming>& timings) {
    if (!answered_) {
        return;
    }
    const std::uint64_t behind = framesSent_ - framesAcked_;
    if (behind >= kFramesAheadClose) {
        std::cerr << "shmframe web: a page stopped reading its WebSocket; closing it\n";
        soup_websocket_connection_close(connection_, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
                                        "not reading");
        return;
    }
    ++framesSent_;
    if (behind >= kFramesAhead) {
        return;  // counted, so a page that never acks is closed in the end
    }
    nlohmann::json items = nlohmann::json::array();
    for (const FrameTiming& timing : timings) {
        items.push_back({timing.rtpTimestamp, static_cast<double>(timing.publishRealtimeNs) / 1e6});
    }
    send({{"type", "frames"}, {"seq", framesSent_}, {"items", items}});
}

void SignallingSession::watch(std::string feed, std::shared_ptr<FeedBroadcaster> broadcaster) {
    feed_ = std::move(feed);
    broadcaster_ = std::move(broadcaster);
    framesSent_ = framesAcked_ = 0;
    answered_ = false;
    std::weak_ptr<SignallingSession> weak = weak_from_this();
    PeerCallbacks callbacks;
    callbacks.offer = [weak](const std::string& sdp) {
        if (auto self = weak.lock()) {
            self->send({{"type", "offer"}, {"feed", self->feed_}, {"sdp", sdp}});
            self->armAnswerDeadline();
        }
    };
    callbacks.candidate = [weak](unsigned mline, const std::string& candidate) {
        if (auto self = weak.lock()) {
            self->send({{"type", "candidate"}, {"sdpMLineIndex", mline}, {"candidate", candidate}});
        }
    };
    callbacks.connected = [weak] {
        if (auto self = weak.lock(); self && self->broadcaster_) {
            self->broadcaster_->requestKeyFrame();
        }
    };
    callbacks.failed = [weak](const std::string& why) {
        if (auto self = weak.lock()) {
            self->sendError(why);
            self->stopWatching();
        }
    };
    auto peer = broadcaster_->addViewer(std::move(callbacks));
    if (!peer) {
        sendError(peer.error().message);
        stopWatching();
        return;
    }
    peer_ = std::move(*peer);
}

void SignallingSession::armAnswerDeadline() {
    cancelAnswerDeadline();
    answerDeadline_ = g_timeout_add_seconds_full(
        G_PRIORITY_DEFAULT, kAnswerTimeoutSeconds,
        [](gpointer data) -> gboolean {
            if (auto self = static_cast<std::weak_ptr<SignallingSession>*>(data)->lock()) {
                self->answerDeadline_ = 0;
                self->sendError("no answer to the offer within " +
                                std::to_string(kAnswerTimeoutSeconds) +
                                " s: the stream is stopped (send \"play\" again)");
                self->stopWatching();
            }
            return G_SOURCE_REMOVE;
        },
        new std::weak_ptr<SignallingSession>(weak_from_this()),
        [](gpointer data) { delete static_cast<std::weak_ptr<SignallingSession>*>(data); });
}

void SignallingSession::cancelAnswerDeadline() {
    if (answerDeadline_ != 0) {
        g_source_remove(answerDeadline_);
        answerDeadline_ = 0;
    }
}

void SignallingSession::stopWatching() {
    cancelAnswerDeadline();
    answered_ = false;
    peer_.reset();
    broadcaster_.reset();
    if (!feed_.empty()) {
        std::string feed = std::move(feed_);
        feed_.clear();
        host_.viewerLeft(feed);
    }
}

void SignallingSession::onMessage(const std::string& text) {
    const nlohmann::json message = nlohmann::json::parse(text, nullptr, false);
    if (!message.is_object() || !message.contains("type") || !message["type"].is_string()) {
        sendError("messages are JSON objects with a \"type\"");
        return;
    }
    const std::string type = message["type"];
    if (type == "play" && message.contains("feed") && message["feed"].is_string()) {
        stopWatching();
        host_.play(*this, message["feed"].get<std::string>());
    } else if (type == "stop") {
        stopWatching();
    } else if (type == "answer" && message.contains("sdp") && message["sdp"].is_string()) {
        if (!peer_) {
            return;  // an answer to an offer of a stream the page stopped meanwhile
        }
        cancelAnswerDeadline();
        if (auto done = peer_->setAnswer(message["sdp"].get<std::string>()); !done) {
            sendError(done.error().message);
        } else {
            answered_ = true;
        }
    } else if (type == "candidate" && message.contains("candidate") &&
               message["candidate"].is_string() && message.contains("sdpMLineIndex") &&
               message["sdpMLineIndex"].is_number_unsigned()) {
        const auto mline = message["sdpMLineIndex"].get<std::uint64_t>();
        if (peer_ && mline < 16) {
            peer_->addRemoteCandidate(static_cast<unsigned>(mline),
                                      message["candidate"].get<std::string>());
        }
    } else if (type == "ping" && message.contains("t") && message["t"].is_number()) {
        send({{"type", "pong"},
              {"t", message["t"]},
              {"server", static_cast<double>(g_get_real_time()) / 1000.0}});
    } else if (type == "ack" && message.contains("seq") && message["seq"].is_number_unsigned()) {
        const auto seq = message["seq"].get<std::uint64_t>();
        if (seq <= framesSent_ && seq > framesAcked_) {
            framesAcked_ = seq;
        }
    } else {
        sendError("unknown or malformed message \"" + type + "\"");
    }
}

void SignallingSession::onClosed() {
    if (closed_) {
        return;
    }
    closed_ = true;
    stopWatching();
    host_.closed(*this);  // may destroy this session: nothing after this line
}

}  // namespace shmframe::cli::web
