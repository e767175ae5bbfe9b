// SPDX-License-Identifier: LGPL-2.1-or-later
// The RTSP side of `shmframe serve`: live feeds as H.264 streams through
// gst-rtsp-server, mounted and unmounted as writers come and go. Kept apart from
// cmd_serve.cpp so only this file needs the GStreamer and gst-rtsp-server headers.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace shmframe::cli {

struct ServeOptions {
    /// Feeds to serve; empty serves every live feed of the feed directory.
    std::vector<std::string> feeds;
    std::string address = "127.0.0.1";
    /// 0 lets the system pick a free port (printed with the URLs).
    std::uint32_t port = 8554;
    /// H.264 bit rate in kbit/s; 0 derives it from each feed's size and rate.
    std::uint32_t bitrateKbps = 0;
    /// gst-launch text that turns raw video into RTP with a payloader named pay0;
    /// empty: x264enc (zerolatency, ultrafast) and rtph264pay.
    std::string encoder;
    /// How often the feed directory is listed again, besides its change notifications:
    /// a writer killed with SIGKILL leaves its socket behind and sends no notification.
    std::chrono::milliseconds rescanInterval{2000};
};

/// The bit rate (kbit/s) used when none is given: 0.1 bit per pixel per frame,
/// 256 to 20000 kbit/s (1280x720 at 30 fps: 2765).
std::uint32_t defaultBitrateKbps(std::uint32_t width, std::uint32_t height, double fps);

/// The media factory's launch line for \a feed: shmframesrc, videoconvert to I420,
/// then \a options.encoder or x264 with a key frame every second.
std::string serveLaunchLine(const ServeOptions& options, const std::string& feed,
                            std::uint32_t width, std::uint32_t height, double fps);

/// Serves until SIGINT or SIGTERM; prints "serving URL" and "stopped URL" lines on
/// stdout as feeds come and go. Returns the process exit code.
int runRtspBridge(const ServeOptions& options);

}  // namespace shmframe::cli
