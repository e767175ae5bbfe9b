// SPDX-License-Identifier: LGPL-2.1-or-later
// An RTSP client for the tests: rtspsrc ! decodebin ! videoconvert ! RGBA appsink,
// RTP interleaved in the RTSP connection (TCP): the client binds no port at all.
#pragma once

#include <gst/gst.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace shmframe::test {

/// One decoded frame, reduced to what the tests check.
struct DecodedFrame {
    int width = 0;
    int height = 0;
    std::array<std::uint8_t, 4> centre{};  ///< RGBA of the centre pixel
};

class RtspClient {
  public:
    explicit RtspClient(const std::string& url);
    ~RtspClient();
    RtspClient(const RtspClient&) = delete;
    RtspClient& operator=(const RtspClient&) = delete;

    /// The next decoded frame, or nullopt if none came within \a timeout.
    std::optional<DecodedFrame> pull(std::chrono::milliseconds timeout);
    /// Frames pulled until \a wanted satisfied \a matches or \a timeout passed (an upper
    /// bound against hangs, not a performance check); returns how many matched.
    int countFrames(const std::function<bool(const DecodedFrame&)>& matches, int wanted,
                    std::chrono::milliseconds timeout);
    /// The first error message the pipeline posted, waiting up to \a timeout.
    std::optional<std::string> waitForError(std::chrono::milliseconds timeout);
    /// Errors posted so far, for failure messages.
    std::string errors();

  private:
    GstElement* pipeline_ = nullptr;
    GstElement* sink_ = nullptr;
    std::string errors_;
};

/// True if \a frame is \a width x \a height and its centre within 48 of (r, g, b).
bool looksLike(const DecodedFrame& frame, int width, int height, int r, int g, int b);

}  // namespace shmframe::test
