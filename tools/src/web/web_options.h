// SPDX-License-Identifier: LGPL-2.1-or-later
// The options of `shmframe web`, checked by cmd_web.cpp and used by the server in
// web/. Kept apart so cmd_web.cpp needs neither libsoup nor GStreamer headers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace shmframe::cli::web {

struct WebOptions {
    /// Feeds to offer; empty offers every live feed of the feed directory.
    std::vector<std::string> feeds;
    /// The address to bind: an IPv4 or IPv6 literal (never a host name).
    std::string host = "127.0.0.1";
    /// 0 lets the system pick a free port (printed at start).
    std::uint16_t port = 8080;
    /// What every request must present (?token= or "Authorization: Bearer");
    /// empty: none (only allowed on 127.0.0.1 and ::1).
    std::string token;
    /// A STUN server (stun://host:port) for the viewers' ICE; empty: host candidates only.
    std::string stunServer;
    /// Viewers (WebRTC and MJPEG) of one feed and of all feeds together.
    unsigned maxViewersPerFeed = 16;
    unsigned maxViewers = 64;
    /// VP8 bit rate in kbit/s; 0: 0.1 bit per pixel and frame.
    std::uint32_t bitrateKbps = 0;
};

/// True for the addresses that are served without a token: 127.0.0.1 and ::1.
bool isLoopbackWithoutToken(const std::string& host);

/// Serves until SIGINT or SIGTERM. Prints "listening URL" on stdout once bound.
int runWebServer(const WebOptions& options);

}  // namespace shmframe::cli::web
