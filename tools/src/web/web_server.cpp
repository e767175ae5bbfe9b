// SPDX-License-Identifier: LGPL-2.1-or-later
#include "web_server.h"

#include <glib-unix.h>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <thread>

#include "feed_images.h"
#include "main_thread.h"
#include "page.h"

namespace shmframe::cli::web {
namespace {

// Still images (thumbnails, snapshots) read at once; more get 503.
constexpr unsigned kMaxStillImagesInFlight = 4;
constexpr std::chrono::milliseconds kStillImageTimeout{2000};
// WebSockets (pages) at once, watching or not.
constexpr std::size_t kMaxSessions = 256;

void reply(SoupServerMessage* message, guint status, const char* type, std::string_view body) {
    soup_server_message_set_status(message, status, nullptr);
    SoupMessageHeaders* headers = soup_server_message_get_response_headers(message);
    soup_message_headers_replace(headers, "Cache-Control", "no-store");
    soup_message_headers_replace(headers, "X-Content-Type-Options", "nosniff");
    soup_server_message_set_response(message, type, SOUP_MEMORY_COPY, body.data(), body.size());
}

void replyText(SoupServerMessage* message, guint status, const std::string& text) {
    reply(message, status, "text/plain; charset=utf-8", text + "\n");
}

void replyJson(SoupServerMessage* message, const nlohmann::json& body) {
    reply(message, SOUP_STATUS_OK, "application/json", body.dump());
}

bool endsWith(const std::string& text, std::string_view suffix) {
    return text.size() >= suffix.size() &&
           text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

WebServer::WebServer(WebOptions options)
    : options_(std::move(options)), policy_(options_.token, options_.port) {}

WebServer::~WebServer() {
    if (watchSource_) {
        g_source_remove(watchSource_);
    }
    sessions_.clear();
    broadcasters_.clear();
    mjpegStreams_.clear();
    if (server_) {
        soup_server_disconnect(server_);
        g_object_unref(server_);
    }
}

Result<std::string> WebServer::start() {
    GInetAddress* address = g_inet_address_new_from_string(options_.host.c_str());
    if (!address) {
        return Error::make(Errc::InvalidArgument, "'" + options_.host +
                                                      "' is not an IP address (use e.g. "
                                                      "127.0.0.1, ::1 or 0.0.0.0)");
    }
    GSocketAddress* socketAddress = g_inet_socket_address_new(address, options_.port);
    g_object_unref(address);
    server_ = soup_server_new("server-header", "shmframe-web", nullptr);
    GError* error = nullptr;
    const gboolean listening =
        soup_server_listen(server_, socketAddress, static_cast<SoupServerListenOptions>(0), &error);
    g_object_unref(socketAddress);
    if (!listening) {
        std::string message = error ? error->message : "unknown error";
        g_clear_error(&error);
        return Error::make(Errc::SystemError, "cannot listen on " + options_.host + ":" +
                                                  std::to_string(options_.port) + ": " + message);
    }
    GSList* uris = soup_server_get_uris(server_);
    if (uris) {
        options_.port = static_cast<std::uint16_t>(g_uri_get_port(static_cast<GUri*>(uris->data)));
    }
    g_slist_free_full(uris, reinterpret_cast<GDestroyNotify>(g_uri_unref));
    policy_ = AccessPolicy(options_.token, options_.port);

    soup_server_add_handler(
        server_, nullptr,
        [](SoupServer*, SoupServerMessage* message, const char* path, GHashTable*, gpointer self) {
            static_cast<WebServer*>(self)->handle(message, path);
        },
        this, nullptr);
    // Runs before the WebSocket handshake; a status set here refuses it.
    soup_server_add_early_handler(
        server_, "/ws",
        [](SoupServer*, SoupServerMessage* message, const char*, GHashTable*, gpointer self) {
            auto* server = static_cast<WebServer*>(self);
            if (!server->policy_.allowsWebSocket(message)) {
                replyText(message, SOUP_STATUS_FORBIDDEN, "forbidden: token or origin");
            } else if (server->sessions_.size() >= kMaxSessions) {
                replyText(message, SOUP_STATUS_SERVICE_UNAVAILABLE, "too many pages open");
            }
        },
        this, nullptr);
    soup_server_add_websocket_handler(
        server_, "/ws", nullptr, nullptr,
        [](SoupServer*, SoupServerMessage*, const char*, SoupWebsocketConnection* connection,
           gpointer self) { static_cast<WebServer*>(self)->acceptWebSocket(connection); },
        this, nullptr);

    auto watch = FeedWatch::open();
    if (!watch) {
        return std::move(watch).error();
    }
    watch_.emplace(std::move(*watch));
    watch_->update();
    watchSource_ = g_unix_fd_add(
        watch_->fd(), G_IO_IN,
        [](gint, GIOCondition, gpointer self) -> gboolean {
            static_cast<WebServer*>(self)->onFeedWatchReadable();
            return G_SOURCE_CONTINUE;
        },
        this);

    const bool ipv6 = options_.host.find(':') != std::string::npos;
    std::string url = "http://" + (ipv6 ? "[" + options_.host + "]" : options_.host) + ":" +
                      std::to_string(options_.port) + "/";
    if (!options_.token.empty()) {
        url += "?token=" + options_.token;
    }
    return url;
}

void WebServer::handle(SoupServerMessage* message, const char* rawPath) {
    if (!policy_.allows(message)) {
        replyText(message, SOUP_STATUS_FORBIDDEN,
                  options_.token.empty() ? "forbidden: the Host header must name 127.0.0.1"
                                         : "forbidden: a token is needed (?token=...)");
        return;
    }
    const char* method = soup_server_message_get_method(message);
    if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD) {
        replyText(message, SOUP_STATUS_METHOD_NOT_ALLOWED, "only GET");
        return;
    }
    const std::string path = rawPath ? rawPath : "";
    if (path == "/" || path == "/index.html") {
        const std::string_view page = pageHtml();
        reply(message, SOUP_STATUS_OK, "text/html; charset=utf-8", page);
        soup_message_headers_replace(soup_server_message_get_response_headers(message),
                                     "Content-Security-Policy",
                                     "default-src 'self'; script-src 'unsafe-inline'; style-src "
                                     "'unsafe-inline'; img-src 'self' data:; connect-src 'self'");
        return;
    }
    if (path == "/feeds") {
        replyJson(message, feedList());
        return;
    }
    if (path == "/stats") {
        replyJson(message, stats());
        return;
    }
    if (path.rfind("/feeds/", 0) == 0) {
        handleFeedPath(message, path.substr(7));
        return;
    }
    replyText(message, SOUP_STATUS_NOT_FOUND, "not found");
}

void WebServer::handleFeedPath(SoupServerMessage* message, const std::string& rest) {
    std::string feed;
    enum class What { Mjpeg, Thumbnail, Snapshot } what;
    if (endsWith(rest, ".mjpeg") && rest.find('/') == std::string::npos) {
        feed = rest.substr(0, rest.size() - 6);
        what = What::Mjpeg;
    } else if (endsWith(rest, "/thumb.jpg")) {
        feed = rest.substr(0, rest.size() - 10);
        what = What::Thumbnail;
    } else if (endsWith(rest, "/snapshot.png")) {
        feed = rest.substr(0, rest.size() - 13);
        what = What::Snapshot;
    } else {
        replyText(message, SOUP_STATUS_NOT_FOUND, "not found");
        return;
    }
    if (!validateFeedName(feed) || !offers(feed)) {
        replyText(message, SOUP_STATUS_NOT_FOUND, "no such feed");
        return;
    }
    if (!isLive(feed)) {
        replyText(message, SOUP_STATUS_NOT_FOUND, "feed '" + feed + "' has no writer now");
        return;
    }
    switch (what) {
        case What::Mjpeg:
            serveMjpeg(message, feed);
            break;
        case What::Thumbnail:
            serveStillImage(message, feed, false);
            break;
        case What::Snapshot:
            serveStillImage(message, feed, true);
            break;
    }
}

void WebServer::serveStillImage(SoupServerMessage* message, const std::string& feed, bool full) {
    if (stillImagesInFlight_ >= kMaxStillImagesInFlight) {
        replyText(message, SOUP_STATUS_SERVICE_UNAVAILABLE, "busy, try again");
        return;
    }
    ++stillImagesInFlight_;
    // The frame is read and encoded on a thread; the answer is set on the main thread.
    struct Pending {
        SoupServerMessage* message;
        bool finished = false;
    };
    auto pending = std::make_shared<Pending>(
        Pending{static_cast<SoupServerMessage*>(g_object_ref(message)), false});
    auto* finishedFlag = new std::shared_ptr<Pending>(pending);
    g_signal_connect_data(
        message, "finished", G_CALLBACK(+[](SoupServerMessage*, gpointer data) {
            (*static_cast<std::shared_ptr<Pending>*>(data))->finished = true;
        }),
        finishedFlag,
        [](gpointer data, GClosure*) { delete static_cast<std::shared_ptr<Pending>*>(data); },
        GConnectFlags(0));
    soup_server_message_pause(message);
    std::weak_ptr<void> alive = alive_;
    std::thread([this, alive, pending, feed, full] {
        auto image = grabImage(feed, full ? ImageKind::FullPng : ImageKind::ThumbnailJpeg,
                               kStillImageTimeout);
        auto result = std::make_shared<decltype(image)>(std::move(image));
        postToMainThread(alive, [this, pending, result, feed, full] {
            --stillImagesInFlight_;
            if (!pending->finished) {
                if (*result) {
                    const auto& bytes = **result;
                    reply(pending->message, SOUP_STATUS_OK, full ? "image/png" : "image/jpeg",
                          std::string_view(reinterpret_cast<const char*>(bytes.data()),
                                           bytes.size()));
                    if (full) {
                        const std::string disposition = "inline; filename=\"" + feed + ".png\"";
                        soup_message_headers_replace(
                            soup_server_message_get_response_headers(pending->message),
                            "Content-Disposition", disposition.c_str());
                    }
                } else {
                    replyText(pending->message, SOUP_STATUS_SERVICE_UNAVAILABLE,
                              "no frame from '" + feed + "': " + result->error().message);
                }
                soup_server_message_unpause(pending->message);
            }
            g_object_unref(pending->message);
        });
    }).detach();
}

void WebServer::serveMjpeg(SoupServerMessage* message, const std::string& feed) {
    if (const std::string why = viewerLimitReached(feed); !why.empty()) {
        replyText(message, SOUP_STATUS_SERVICE_UNAVAILABLE, why);
        return;
    }
    auto it = mjpegStreams_.find(feed);
    if (it == mjpegStreams_.end()) {
        auto stream = MjpegStream::start(feed);
        if (!stream) {
            replyText(message, SOUP_STATUS_SERVICE_UNAVAILABLE, stream.error().message);
            return;
        }
        (*stream)->setOnIdle([this, feed] { mjpegStreams_.erase(feed); });
        it = mjpegStreams_.emplace(feed, std::move(*stream)).first;
    }
    it->second->addClient(message);
}

void WebServer::acceptWebSocket(SoupWebsocketConnection* connection) {
    auto session = std::make_shared<SignallingSession>(connection, *this);
    session->start();
    sessions_.push_back(session);
    sendFeedList(session.get());
}

void WebServer::play(SignallingSession& session, const std::string& feed) {
    if (!validateFeedName(feed) || !offers(feed) || !isLive(feed)) {
        session.sendError("no live feed '" + feed.substr(0, 64) + "'");
        return;
    }
    if (const std::string why = viewerLimitReached(feed); !why.empty()) {
        session.sendError(why);
        return;
    }
    auto it = broadcasters_.find(feed);
    if (it == broadcasters_.end()) {
        FeedBroadcaster::Options options;
        options.feed = feed;
        options.bitrateKbps = options_.bitrateKbps;
        options.peer.iceAddress = options_.host;
        options.peer.stunServer = options_.stunServer;
        auto broadcaster = FeedBroadcaster::start(options);
        if (!broadcaster) {
            session.sendError(broadcaster.error().message);
            return;
        }
        ++encodersStarted_;
        (*broadcaster)->setOnFrames([this, feed](const std::vector<FrameTiming>& timings) {
            for (const auto& viewer : sessions_) {
                if (viewer->feed() == feed) {
                    viewer->sendFrames(timings);
                }
            }
        });
        (*broadcaster)->setOnError([this, feed](const std::string& why) {
            std::cerr << "shmframe web: encoder of '" << feed << "' failed: " << why << "\n";
            // Copy: stopWatching() changes sessions_' viewers and may drop the encoder.
            auto sessions = sessions_;
            for (const auto& viewer : sessions) {
                if (viewer->feed() == feed) {
                    viewer->sendError("the encoder of '" + feed + "' failed: " + why);
                    viewer->stopWatching();
                }
            }
            broadcasters_.erase(feed);
        });
        it = broadcasters_.emplace(feed, std::move(*broadcaster)).first;
    }
    session.watch(feed, it->second);
}

void WebServer::viewerLeft(const std::string& feed) {
    const bool watched = std::any_of(sessions_.begin(), sessions_.end(),
                                     [&](const auto& session) { return session->feed() == feed; });
    if (!watched) {
        broadcasters_.erase(feed);  // the last viewer left: stop the encoder
    }
}

void WebServer::closed(SignallingSession& session) {
    // Later: the session is inside its own signal handler now.
    postToMainThread(alive_, [this, raw = &session] {
        sessions_.erase(std::remove_if(sessions_.begin(), sessions_.end(),
                                       [raw](const auto& owned) { return owned.get() == raw; }),
                        sessions_.end());
    });
}

void WebServer::onFeedWatchReadable() {
    const auto events = watch_->update();
    const bool relevant = std::any_of(events.begin(), events.end(),
                                      [this](const FeedEvent& e) { return offers(e.feed.name); });
    if (relevant) {
        sendFeedList(nullptr);
    }
}

void WebServer::sendFeedList(SignallingSession* only) {
    const nlohmann::json message = {{"type", "feeds"}, {"feeds", feedList()}};
    if (only) {
        only->send(message);
        return;
    }
    for (const auto& session : sessions_) {
        session->send(message);
    }
}

bool WebServer::offers(const std::string& feed) const {
    return options_.feeds.empty() ||
           std::find(options_.feeds.begin(), options_.feeds.end(), feed) != options_.feeds.end();
}

bool WebServer::isLive(const std::string& feed) const {
    const auto& feeds = watch_->feeds();
    return std::any_of(feeds.begin(), feeds.end(),
                       [&](const FeedInfo& info) { return info.name == feed; });
}

unsigned WebServer::viewersOf(const std::string& feed) const {
    unsigned count = static_cast<unsigned>(std::count_if(
        sessions_.begin(), sessions_.end(), [&](const auto& s) { return s->feed() == feed; }));
    if (auto it = mjpegStreams_.find(feed); it != mjpegStreams_.end()) {
        count += static_cast<unsigned>(it->second->clientCount());
    }
    return count;
}

unsigned WebServer::viewersTotal() const {
    unsigned count = static_cast<unsigned>(std::count_if(
        sessions_.begin(), sessions_.end(), [](const auto& s) { return !s->feed().empty(); }));
    for (const auto& [feed, stream] : mjpegStreams_) {
        count += static_cast<unsigned>(stream->clientCount());
    }
    return count;
}

std::string WebServer::viewerLimitReached(const std::string& feed) const {
    if (viewersOf(feed) >= options_.maxViewersPerFeed) {
        return "feed '" + feed + "' has " + std::to_string(options_.maxViewersPerFeed) +
               " viewers already (--max-viewers-per-feed)";
    }
    if (viewersTotal() >= options_.maxViewers) {
        return "the server has " + std::to_string(options_.maxViewers) +
               " viewers already (--max-viewers)";
    }
    return {};
}

nlohmann::json WebServer::feedList() const {
    nlohmann::json feeds = nlohmann::json::array();
    for (const FeedInfo& info : watch_->feeds()) {
        if (!offers(info.name)) {
            continue;
        }
        feeds.push_back({{"name", info.name},
                         {"width", info.format.width},
                         {"height", info.format.height},
                         {"format", std::string(toString(info.format.pixelFormat))},
                         {"fps", info.format.frameRate.toDouble()},
                         {"generation", info.generation}});
    }
    return feeds;
}

nlohmann::json WebServer::stats() const {
    nlohmann::json feeds = nlohmann::json::object();
    for (const auto& [feed, broadcaster] : broadcasters_) {
        feeds[feed]["encoder"] = {{"frames", broadcaster->framesEncoded()}};
    }
    for (const auto& [feed, stream] : mjpegStreams_) {
        feeds[feed]["mjpeg"] = {{"clients", stream->clientCount()},
                                {"frames", stream->framesEncoded()},
                                {"dropped", stream->clientsDropped()}};
    }
    for (auto& [feed, entry] : feeds.items()) {
        entry["viewers"] = viewersOf(feed);
    }
    return {{"encoders", broadcasters_.size()},
            {"encodersStarted", encodersStarted_},
            {"mjpegStreams", mjpegStreams_.size()},
            {"pages", sessions_.size()},
            {"viewers", viewersTotal()},
            {"feeds", feeds}};
}

}  // namespace shmframe::cli::web
