// SPDX-License-Identifier: LGPL-2.1-or-later
// The HTTP side of `shmframe web`: one libsoup server on the GLib main loop that
// routes every request, keeps the feed list (FeedWatch) and owns the per-feed
// encoders (FeedBroadcaster), MJPEG streams and the pages' WebSockets.
//   /                        the page (page.h)
//   /feeds                   the live feeds, JSON
//   /feeds/NAME.mjpeg        MJPEG stream (mjpeg_stream.h)
//   /feeds/NAME/thumb.jpg    small JPEG of the newest frame
//   /feeds/NAME/snapshot.png the newest frame at full resolution
//   /stats                   encoders, viewers, frames; JSON
//   /ws                      signalling (signalling_session.h)
// Nothing else: no directory listing, and no part of a URL reaches the file system
// (a NAME is a feed name, checked with validateFeedName()).
#pragma once

#include <libsoup/soup.h>
#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "access_policy.h"
#include "feed_broadcaster.h"
#include "mjpeg_stream.h"
#include "shmframe/feed_watch.h"
#include "signalling_session.h"
#include "web_options.h"

namespace shmframe::cli::web {

class WebServer final : public SessionHost {
  public:
    explicit WebServer(WebOptions options);
    ~WebServer() override;
    WebServer(const WebServer&) = delete;
    WebServer& operator=(const WebServer&) = delete;

    /// Binds the listen address and starts watching the feed directory. Returns
    /// the page's URL (with the token, if any).
    Result<std::string> start();

    // SessionHost
    void play(SignallingSession& session, const std::string& feed) override;
    void viewerLeft(const std::string& feed) override;
    void closed(SignallingSession& session) override;

  private:
    void handle(SoupServerMessage* message, const char* path);
    void handleFeedPath(SoupServerMessage* message, const std::string& rest);
    void serveStillImage(SoupServerMessage* message, const std::string& feed, bool full);
    void serveMjpeg(SoupServerMessage* message, const std::string& feed);
    void acceptWebSocket(SoupWebsocketConnection* connection);
    void onFeedWatchReadable();
    void sendFeedList(SignallingSession* only);

    bool offers(const std::string& feed) const;
    bool isLive(const std::string& feed) const;
    unsigned viewersOf(const std::string& feed) const;
    unsigned viewersTotal() const;
    /// Empty when one more viewer of \a feed fits, else why not.
    std::string viewerLimitReached(const std::string& feed) const;
    nlohmann::json feedList() const;
    nlohmann::json stats() const;

    WebOptions options_;
    AccessPolicy policy_;
    SoupServer* server_ = nullptr;
    std::optional<FeedWatch> watch_;
    guint watchSource_ = 0;
    std::map<std::string, std::shared_ptr<FeedBroadcaster>> broadcasters_;
    std::map<std::string, std::shared_ptr<MjpegStream>> mjpegStreams_;
    std::vector<std::shared_ptr<SignallingSession>> sessions_;
    unsigned stillImagesInFlight_ = 0;
    std::uint64_t encodersStarted_ = 0;
    // Handed to postToMainThread(): work posted for a server that is gone is dropped.
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace shmframe::cli::web
