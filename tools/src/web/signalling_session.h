// SPDX-License-Identifier: LGPL-2.1-or-later
// One page's WebSocket: JSON messages both ways.
//   page -> server: {"type":"play","feed":F} {"type":"stop"} {"type":"answer","sdp":S}
//                   {"type":"candidate","candidate":C,"sdpMLineIndex":N}
//                   {"type":"ping","t":T} {"type":"ack","seq":N}
//   server -> page: {"type":"feeds","feeds":[...]} {"type":"offer","feed":F,"sdp":S}
//                   {"type":"candidate",...} {"type":"frames","seq":N,"items":[[rtp,ms]...]}
//                   {"type":"pong","t":T,"server":MS} {"type":"error","message":M}
// A page that stops reading gets no more frame timings once it is kFramesAhead
// messages behind, and is closed when it stays behind; the others are not held up.
#pragma once

#include <libsoup/soup.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "feed_broadcaster.h"
#include "webrtc_peer.h"

namespace shmframe::cli::web {

class SignallingSession;

/// What a session asks of the server (web_server.cpp).
class SessionHost {
  public:
    virtual ~SessionHost() = default;
    /// Starts \a session watching \a feed, or says why not (unknown feed, too many viewers).
    virtual void play(SignallingSession& session, const std::string& feed) = 0;
    /// \a session stopped watching (or closed); the server may stop the feed's encoder.
    virtual void viewerLeft(const std::string& feed) = 0;
    /// The socket closed: the server forgets \a session.
    virtual void closed(SignallingSession& session) = 0;
};

class SignallingSession : public std::enable_shared_from_this<SignallingSession> {
  public:
    SignallingSession(SoupWebsocketConnection* connection, SessionHost& host);
    ~SignallingSession();
    SignallingSession(const SignallingSession&) = delete;
    SignallingSession& operator=(const SignallingSession&) = delete;

    /// Connects the socket's signals; call once the session is owned by a shared_ptr.
    void start();

    void send(const nlohmann::json& message);
    void sendError(const std::string& message);
    /// Frame timings of the feed this session plays (dropped when the page lags).
    void sendFrames(const std::vector<FrameTiming>& timings);

    /// Called by the host: the session now watches \a feed through \a peer.
    void watch(std::string feed, std::shared_ptr<FeedBroadcaster> broadcaster);
    /// Stops watching (tells the host).
    void stopWatching();
    const std::string& feed() const { return feed_; }

  private:
    void onMessage(const std::string& text);
    void onClosed();
    /// Stops watching unless the page answers the offer in time.
    void armAnswerDeadline();
    void cancelAnswerDeadline();

    SoupWebsocketConnection* connection_;
    SessionHost& host_;
    std::string feed_;
    std::shared_ptr<FeedBroadcaster> broadcaster_;
    std::shared_ptr<WebRtcPeer> peer_;
    std::uint64_t framesSent_ = 0;
    std::uint64_t framesAcked_ = 0;
    /// The page answered the current offer: only then do frame timings (and the count of
    /// unacknowledged ones) mean anything; a page still negotiating is the answer
    /// deadline's business, not the read-lag check's.
    bool answered_ = false;
    bool closed_ = false;
    guint answerDeadline_ = 0;  ///< GLib timeout source id, 0 when none
};

}  // namespace shmframe::cli::web
